"""Provisioning (``simulator.accounts.provisioning``): five-category rules, IFRS 9 against them, floors and charge.

* Category assignment is checked at the threshold boundaries: state k holds
  (30(k-1), 30k] days past due, so a rule "after X days" takes the states
  k >= X / 30 + 1.
* ``provisioning_series`` is checked on hand-built aggregates (zeros except the
  balances, charge-offs, recoveries, month-1 interest and forward losses set
  here) against plain-Python loops written from the documented formulas; with
  balances and rates that are exact binary fractions the floor boundaries are
  checked exactly (at the floor is not a breach).
* On the full engine, a hypothesis property on common random numbers: a larger
  unemployment shock never lowers the expected provision peak nor the expected
  liquidity loss, and never raises the expected minimum liquidity buffer, each
  within K_SE standard errors of the paired per-path difference.
* Bad provisioning and funding input is refused with house-style messages, by the
  loader and by ``simulate validate`` (exit code 2).
"""
import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.accounts import ifrs9
from simulator.cli import main
from simulator.model.engine import layout as L
from simulator.inputs.errors import InputError
from simulator.accounts.provisioning import CATEGORIES, category_of_states, provisioning_series
from simulator.inputs.loader import load_scenario, scenario_from_dict
from simulator.inputs.schema import FiveCategorySpec, HumpShock

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
K_SE = 4.0
STATES = range(L.N_LIVE_STATES)

MINIMAL_SEGMENT = {"name": "a", "share_pct": 100, "principal": {"median": 1000},
                   "apr_pct": {"min": 10, "max": 20}, "term_months": [12], "income": {"median": 5000}}


def scenario_with(provisioning=None, recovery=None):
    """A minimal valid scenario with the given ``provisioning`` block (and ``behaviour.recovery``)."""
    data = {"portfolio": {"segments": [MINIMAL_SEGMENT]}}
    if provisioning is not None:
        data["provisioning"] = provisioning
    if recovery is not None:
        data["behaviour"] = {"recovery": recovery}
    return scenario_from_dict(data)


def hand_built(balance, chargeoff=None, recovery=None, monthly_rate=0.0, loss_12m=None, loss_life=None):
    """Aggregates ``(n_paths, n_months + 1, N_METRICS)``, zero except what is given.

    ``balance`` is ``(n_paths, n_months + 1, 7)``; ``loss_12m`` / ``loss_life`` (same shape)
    go to the forward-loss metrics; month-1 interest is put in state 0 so that
    ``book_monthly_rate`` is ``monthly_rate`` (interest / pooled opening balance).
    """
    balance = np.asarray(balance, dtype=float)
    n_paths, n_steps, _ = balance.shape
    agg = np.zeros((n_paths, n_steps, L.N_METRICS))
    agg[:, :, L.BALANCE:L.BALANCE + L.N_LIVE_STATES] = balance
    if chargeoff is not None:
        agg[:, :, L.CHARGEOFF] = chargeoff
    if recovery is not None:
        agg[:, :, L.RECOVERY] = recovery
    opening = balance[:, 0, :].sum()
    agg[0, 1, L.INTEREST_DUE] = monthly_rate * opening
    if loss_12m is not None:
        agg[:, :, L.FORWARD_LOSS_12M:L.FORWARD_LOSS_12M + L.N_LIVE_STATES] = loss_12m
    if loss_life is not None:
        agg[:, :, L.FORWARD_LOSS_LIFE:L.FORWARD_LOSS_LIFE + L.N_LIVE_STATES] = loss_life
    return agg


def lgd_by_hand(recovery_rate, months, monthly_rate):
    """``1 - R (1/M) sum_{j=1..M} (1 + r)^-j``, or ``1 - R`` for a debt sale (M = 0)."""
    if months == 0:
        return 1.0 - recovery_rate
    return 1.0 - recovery_rate * sum((1.0 + monthly_rate) ** -j for j in range(1, months + 1)) / months


# ------------------------------------------------------------- categories
def test_default_thresholds_map_states_at_their_boundaries():
    """Art. 92: 关注 1-90 DPD (states 1-3), 次级 91-120 (state 4), 可疑 121-180 (states 5-6), 损失 > 180."""
    assert category_of_states(FiveCategorySpec()).tolist() == [0, 1, 1, 1, 2, 3, 3]


def test_lender_thresholds_map_states_at_their_boundaries():
    """special 0, substandard 60, doubtful 90, loss 150.

    State 2 holds 31-60 DPD (not beyond 60: special mention), state 3 holds 61-90
    (substandard), state 4 91-120 (doubtful), state 5 121-150 (still doubtful),
    state 6 151-180 (loss).
    """
    spec = FiveCategorySpec(special_mention_after_dpd=0, substandard_after_dpd=60, doubtful_after_dpd=90,
                            loss_after_dpd=150)
    assert category_of_states(spec).tolist() == [0, 1, 1, 2, 3, 3, 4]


@pytest.mark.parametrize("thresholds", [(0, 30, 60, 90), (30, 60, 120, 150), (60, 90, 150, 180),
                                        (0, 90, 120, 180), (30, 90, 150, 180)])
def test_every_state_is_in_the_category_its_days_past_due_say(thresholds):
    """A state's worst DPD 30k falls in the last category whose "after X" rule has X < 30k (any DPD > X)."""
    spec = FiveCategorySpec(**dict(zip(("special_mention_after_dpd", "substandard_after_dpd",
                                        "doubtful_after_dpd", "loss_after_dpd"), thresholds)))
    expected = []
    for k in STATES:
        lowest_dpd = 0 if k == 0 else 30 * (k - 1) + 1     # every DPD in the state is >= this
        expected.append(sum(lowest_dpd > x for x in thresholds))
    assert category_of_states(spec).tolist() == expected


# ------------------------------------------------------ hand-built aggregates
DEFAULT_RATES = np.array([1.0, 2.0, 25.0, 50.0, 100.0]) / 100.0


def expected_by_loops(balance, ecl, rates, category, coverage_floor, lpr_floor, chargeoff, recovery):
    """The documented formulas, one path and month at a time."""
    n_paths, n_steps, _ = balance.shape
    out = {name: np.zeros((n_paths, n_steps)) for name in (
        "five_category_minimum", "npl_balance", "provision_requirement", "ifrs9_binds", "coverage_breach",
        "loan_provision_breach", "provision_shortfall", "provision_charge", "coverage_ratio",
        "loan_provision_ratio")}
    for p in range(n_paths):
        for t in range(n_steps):
            b = balance[p, t]
            minimum = sum(b[d] * rates[category[d]] for d in STATES)
            npl = sum(b[d] for d in STATES if category[d] >= 2)
            loans = sum(b)
            held = max(ecl[p, t], minimum)
            out["five_category_minimum"][p, t] = minimum
            out["npl_balance"][p, t] = npl
            out["provision_requirement"][p, t] = held
            out["ifrs9_binds"][p, t] = float(ecl[p, t] >= minimum)
            out["coverage_ratio"][p, t] = held / npl if npl > 0 else np.nan
            out["loan_provision_ratio"][p, t] = held / loans if loans > 0 else np.nan
            out["coverage_breach"][p, t] = float(held < coverage_floor * npl)
            out["loan_provision_breach"][p, t] = float(held < lpr_floor * loans)
            out["provision_shortfall"][p, t] = max(0.0, coverage_floor * npl - held, lpr_floor * loans - held)
            if t > 0:
                previous = max(ecl[p, t - 1], sum(balance[p, t - 1, d] * rates[category[d]] for d in STATES))
                out["provision_charge"][p, t] = held - previous + chargeoff[p, t] - recovery[p, t]
    return out


@pytest.fixture
def random_book():
    """Two paths, four months, balances per state, charge-offs and recoveries (month 0 flows zero)."""
    rng = np.random.default_rng(3)
    balance = rng.uniform(0.0, 1.0, (2, 5, L.N_LIVE_STATES)) * np.array([5000, 300, 150, 120, 100, 90, 80])
    balance[1, 3, 3:] = 0.0                        # a month without 61+ DPD balance (no NPL) on one path
    chargeoff = rng.uniform(0, 60, (2, 5))
    recovery = rng.uniform(0, 10, (2, 5))
    chargeoff[:, 0] = recovery[:, 0] = 0.0
    return balance, chargeoff, recovery


@pytest.mark.parametrize("five_category, category", [
    ({}, [0, 1, 1, 1, 2, 3, 3]),
    ({"special_mention_after_dpd": 0, "substandard_after_dpd": 60, "doubtful_after_dpd": 90,
      "loss_after_dpd": 150, "coverage_floor_pct": 120, "loan_provision_floor_pct": 1.5}, [0, 1, 1, 2, 3, 3, 4]),
])
def test_series_follow_the_formulas_without_ifrs9_losses(random_book, five_category, category):
    """With no forward losses the IFRS 9 ECL is 0 and the five-category minimum is the requirement."""
    balance, chargeoff, recovery = random_book
    scenario = scenario_with({"five_category": five_category})
    spec = scenario.provisioning.five_category
    out = provisioning_series(hand_built(balance, chargeoff, recovery, monthly_rate=0.01), scenario)
    expected = expected_by_loops(balance, np.zeros(balance.shape[:2]), DEFAULT_RATES, category,
                                 spec.coverage_floor_pct / 100, spec.loan_provision_floor_pct / 100,
                                 chargeoff, recovery)
    assert np.all(out["ifrs9_ecl"] == 0.0)
    for name, value in expected.items():
        np.testing.assert_allclose(out[name], value, rtol=1e-12, atol=1e-9, err_msg=name)
    for index, name in enumerate(CATEGORIES):
        np.testing.assert_allclose(out[f"balance_{name}"], balance[:, :, np.array(category) == index].sum(axis=2),
                                   rtol=1e-12, err_msg=name)
    assert np.all(out["provision_charge"][:, 0] == 0.0)
    assert np.isnan(out["coverage_ratio"][1, 3]), "no NPL: the coverage ratio is undefined"
    assert out["coverage_breach"][1, 3] == 0.0, "no NPL: nothing to cover, no breach"


def test_ifrs9_ecl_uses_pooled_forward_losses_and_the_recovery_lgd(random_book):
    """ECL_p,t = LGD sum_d balance(p,t,d) rate(t,d), rate = sum_p forward loss / sum_p balance.

    Path 0 loses q_d of each balance, path 1 three times that, so with the two
    paths' balances equal the pooled rate is 2 q_d on both paths. Stage 1 (states
    0-1 under the 30/90 staging) uses the 12-month window, Stages 2-3 the lifetime
    window. LGD from a recovery of 9.4% paid over 12 months at r = 1.5% a month.
    """
    balance = np.repeat(random_book[0][:1], 2, axis=0)          # both paths hold the same balances
    q_12m = np.array([0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
    q_life = 1.5 * q_12m
    factor = np.array([1.0, 3.0])[:, None, None]
    agg = hand_built(balance, monthly_rate=0.015, loss_12m=factor * q_12m * balance,
                     loss_life=factor * q_life * balance)
    scenario = scenario_with(recovery={"rate_pct": 9.4, "months": 12})
    assert ifrs9.book_monthly_rate(agg) == pytest.approx(0.015, rel=1e-14)
    lgd = lgd_by_hand(0.094, 12, 0.015)
    assert ifrs9.loss_given_default(0.094, 12, 0.015) == pytest.approx(lgd, rel=1e-14)

    out = provisioning_series(agg, scenario)
    stage = [1, 1, 2, 2, 3, 3, 3]
    pooled = 2.0                                                   # (1 + 3) / 2
    for s in (1, 2, 3):
        q = q_12m if s == 1 else q_life
        expected = sum(lgd * pooled * q[d] * balance[:, :, d] for d in STATES if stage[d] == s)
        np.testing.assert_allclose(out[f"ecl_stage_{s}"], expected, rtol=1e-12, err_msg=f"stage {s}")
        np.testing.assert_allclose(out[f"balance_stage_{s}"],
                                   sum(balance[:, :, d] for d in STATES if stage[d] == s), rtol=1e-12)
    ecl = out["ecl_stage_1"] + out["ecl_stage_2"] + out["ecl_stage_3"]
    np.testing.assert_allclose(out["ifrs9_ecl"], ecl, rtol=1e-12)


def test_requirement_is_the_larger_rule_and_ifrs9_binds_says_which():
    """One path, two months: month 1 IFRS 9 is below the minimum, month 2 above it.

    Balances: 1000 current, 100 in 91-120 (substandard). Minimum = 1% x 1000 + 25% x 100 = 35.
    Debt sale with no recovery (LGD = 1). Month 1: lifetime loss 20 on state 4 -> ECL 20 < 35.
    Month 2: 12-month loss 40 on current, lifetime 30 on state 4 -> ECL 70 > 35.
    """
    balance = np.zeros((1, 3, L.N_LIVE_STATES))
    balance[0, :, 0] = 1000.0
    balance[0, :, 4] = 100.0
    loss_12m = np.zeros_like(balance)
    loss_life = np.zeros_like(balance)
    loss_life[0, 1, 4] = 20.0
    loss_12m[0, 2, 0] = 40.0
    loss_life[0, 2, 4] = 30.0
    scenario = scenario_with(recovery={"rate_pct": 0, "months": 0})
    out = provisioning_series(hand_built(balance, monthly_rate=0.01, loss_12m=loss_12m, loss_life=loss_life),
                              scenario)
    np.testing.assert_allclose(out["five_category_minimum"][0], [35, 35, 35], rtol=1e-12)
    np.testing.assert_allclose(out["ifrs9_ecl"][0], [0, 20, 70], rtol=1e-12)
    np.testing.assert_allclose(out["provision_requirement"][0], [35, 35, 70], rtol=1e-12)
    assert out["ifrs9_binds"][0, 1:].tolist() == [0.0, 1.0]
    # charge: month 1 no change, month 2 the requirement rose by 35
    np.testing.assert_allclose(out["provision_charge"][0], [0, 0, 35], rtol=1e-12)


# Rates and floors that are exact binary fractions, so "exactly at the floor" is exact in floats.
EXACT = {"five_category": {"rates_pct": {"normal": 0, "special_mention": 25, "substandard": 50, "doubtful": 75,
                                         "loss": 100},
                           "coverage_floor_pct": 150, "loan_provision_floor_pct": 25}}


def test_floors_exactly_met_are_not_breached():
    """Categories [0,1,1,1,2,3,3], rates 0/25/50/75% by category, floors 150% of NPL and 25% of loans.

    Path 0 (exactly at both floors): 80 current, 120 in 1-90 DPD, 40 in 121-150.
      minimum = 25% x 120 + 75% x 40 = 60, NPL = 40, loans = 240;
      coverage = 60 / 40 = 1.5, loan-provision = 60 / 240 = 0.25: neither is breached, shortfall 0.
    Path 1: 4 more current -> loans 244, 25% x 244 = 61 > 60: loan-provision breach, shortfall 1.
    Path 2: 4 more in 121-150 -> minimum 63, NPL 44, 150% x 44 = 66: coverage breach, shortfall 3;
      loans 244, 25% x 244 = 61 <= 63: no loan-provision breach.
    """
    balance = np.zeros((3, 2, L.N_LIVE_STATES))
    balance[:, :, 0] = [[80], [84], [80]]
    balance[:, :, 1] = 120.0
    balance[:, :, 5] = [[40], [40], [44]]
    out = provisioning_series(hand_built(balance, monthly_rate=0.01), scenario_with(EXACT))
    month = 1
    assert out["five_category_minimum"][:, month].tolist() == [60.0, 60.0, 63.0]
    assert out["npl_balance"][:, month].tolist() == [40.0, 40.0, 44.0]
    assert out["coverage_ratio"][0, month] == 1.5
    assert out["loan_provision_ratio"][0, month] == 0.25
    assert out["coverage_breach"][:, month].tolist() == [0.0, 0.0, 1.0]
    assert out["loan_provision_breach"][:, month].tolist() == [0.0, 1.0, 0.0]
    assert out["provision_shortfall"][:, month].tolist() == [0.0, 1.0, 3.0]
    assert out["ifrs9_binds"][:, month].tolist() == [0.0, 0.0, 0.0]


def test_npl_is_substandard_doubtful_and_loss():
    """Lender rule (loss after 150): states 3..6 are NPL; the 151-180 state is 损失 at 100%."""
    rule = {"five_category": {"special_mention_after_dpd": 0, "substandard_after_dpd": 60,
                              "doubtful_after_dpd": 90, "loss_after_dpd": 150}}
    balance = np.zeros((1, 2, L.N_LIVE_STATES))
    balance[0, 1] = [1000, 64, 32, 16, 8, 4, 2]
    out = provisioning_series(hand_built(balance, monthly_rate=0.01), scenario_with(rule))
    assert out["npl_balance"][0, 1] == 16 + 8 + 4 + 2
    assert out["balance_loss"][0, 1] == 2
    assert out["balance_doubtful"][0, 1] == 8 + 4
    assert out["npl_ratio"][0, 1] == pytest.approx(30 / 1126, rel=1e-14)
    assert out["five_category_minimum"][0, 1] == pytest.approx(
        0.01 * 1000 + 0.02 * 96 + 0.25 * 16 + 0.5 * 12 + 1.0 * 2, rel=1e-14)


def test_provision_charge_is_change_in_stock_plus_net_writeoffs():
    """held = 35, 45, 30 (minimum only); charge-offs 10, 50; recoveries 1, 4.

    charge_1 = 45 - 35 + 10 - 1 = 19, charge_2 = 30 - 45 + 50 - 4 = 31; month 0 is 0.
    """
    balance = np.zeros((1, 3, L.N_LIVE_STATES))
    balance[0, :, 0] = 1000.0
    balance[0, :, 4] = [100.0, 140.0, 80.0]                    # 25%: 25, 35, 20 (+ 10 on current)
    out = provisioning_series(hand_built(balance, chargeoff=[[7.0, 10.0, 50.0]], recovery=[[3.0, 1.0, 4.0]],
                                         monthly_rate=0.01), scenario_with())
    np.testing.assert_allclose(out["provision_requirement"][0], [35, 45, 30], rtol=1e-12)
    np.testing.assert_allclose(out["provision_charge"][0], [0, 19, 31], rtol=1e-12)


# --------------------------------------------- stress monotonicity (engine)
def paired_mean_and_se(low, high):
    """Mean and standard error of the per-path difference ``high - low``."""
    diff = np.asarray(high, dtype=float) - np.asarray(low, dtype=float)
    return diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff))


def with_unemployment_hump(scenario, size_pp, peak_month):
    shock = HumpShock(shape="hump", variable="unemployment", size_pp=size_pp, start_month=1,
                      peak_month=peak_month, hold_months=2, decay_months=6)
    return scenario.model_copy(update={"macro": scenario.macro.model_copy(update={"shocks": [shock]})})


@settings(max_examples=6, deadline=None)
@given(small_shock=st.floats(0.0, 3.0), extra=st.floats(0.5, 4.0), peak=st.integers(2, 10))
def test_larger_unemployment_shock_never_eases_provisions_or_liquidity(small_shock, extra, peak):
    """Same seed (common random numbers), a larger shock: provision peak and liquidity loss up, buffer down."""
    base = load_scenario(SCENARIOS / "baseline.yaml").with_loans(1500).with_run(paths=12, horizon_months=18)
    low, high = (simulator.run(with_unemployment_hump(base, size, peak)).headline
                 for size in (small_shock, small_shock + extra))
    for metric, direction in (("peak_provision_requirement", +1), ("total_collections_shortfall", +1),
                              ("min_liquidity_buffer", -1)):
        mean, se = paired_mean_and_se(low[metric], high[metric])
        assert direction * mean >= -K_SE * se, (metric, mean, se)


# ------------------------------------------------------------- bad input
@pytest.fixture
def baseline_dict():
    return yaml.safe_load((SCENARIOS / "baseline.yaml").read_text(encoding="utf-8"))


def set_in(data, dotted, value):
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[int(key)] if key.isdigit() else data[key]
    data[int(last) if last.isdigit() else last] = value


BAD_INPUT = [
    ("provisioning.five_category.doubtful_after_dpd", 60,
     "provisioning.five_category must be thresholds in increasing order "
     "(special_mention < substandard < doubtful < loss); got [0, 90, 60, 180]. Order the *_after_dpd values."),
    ("provisioning.five_category.loss_after_dpd", 120,
     "provisioning.five_category must be thresholds in increasing order"),
    ("provisioning.ifrs9.stage3_after_dpd", 30,
     "provisioning.ifrs9.stage3_after_dpd must be greater than stage2_after_dpd (30); got 30."),
    ("provisioning.ifrs9.stage3_after_dpd", 0,
     "provisioning.ifrs9.stage3_after_dpd must be greater than stage2_after_dpd (30); got 0."),
    ("funding.liabilities.0.trigger_pct", 5,
     "funding.liabilities[0].trigger_pct must be set only on an 'abs' liability; got 5"),
    ("funding.liabilities.1.name", "bank_lines",
     "funding.liabilities[*].name must be unique; got ['bank_lines']. Rename the liabilities."),
    ("funding.liabilities.0.type", "repo",
     "funding.liabilities[0].type must be 'bank_line', 'interbank', 'abs' or 'bond'; got 'repo'."),
    ("funding.liquidity_buffer_pct", -1,
     "funding.liquidity_buffer_pct must be greater than or equal to 0; got -1."),
    ("provisioning.ifrs9.lifetime_months", 6,
     "provisioning.ifrs9.lifetime_months must be greater than or equal to 12; got 6."),
    ("provisioning.ifrs9.lifetime_months", 61,
     "provisioning.ifrs9.lifetime_months must be less than or equal to 60; got 61."),
    ("provisioning.five_category.substandard_after_dpd", 100,
     "provisioning.five_category.substandard_after_dpd must be 0, 30, 60, 90, 120, 150 or 180; got 100."),
]
BAD_IDS = [f"{field}={value}" for field, value, _ in BAD_INPUT]


@pytest.mark.parametrize("field, value, message", BAD_INPUT, ids=BAD_IDS)
def test_bad_input_is_refused_with_field_path_and_constraint(baseline_dict, tmp_path, field, value, message):
    set_in(baseline_dict, field, value)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(baseline_dict, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert len(info.value.problems) == 1, info.value.problems
    assert info.value.problems[0].startswith(f"{path}: {message}"), info.value.problems[0]


@pytest.mark.parametrize("field, value, message", BAD_INPUT, ids=BAD_IDS)
def test_validate_command_exits_2_with_the_message(baseline_dict, tmp_path, field, value, message):
    set_in(baseline_dict, field, value)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(baseline_dict, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {path}: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_cross_field_provisioning_and_funding_problems_are_reported_together(baseline_dict):
    data = copy.deepcopy(baseline_dict)
    set_in(data, "provisioning.five_category.doubtful_after_dpd", 60)
    set_in(data, "provisioning.ifrs9.stage3_after_dpd", 30)
    set_in(data, "funding.liabilities.0.trigger_pct", 5)
    set_in(data, "funding.liabilities.1.name", "bank_lines")
    with pytest.raises(InputError) as info:
        scenario_from_dict(data, source="s.yaml")
    fields = sorted(problem.split(" must be ")[0] for problem in info.value.problems)
    assert fields == ["s.yaml: funding.liabilities[*].name", "s.yaml: funding.liabilities[0].trigger_pct",
                      "s.yaml: provisioning.five_category", "s.yaml: provisioning.ifrs9.stage3_after_dpd"]
