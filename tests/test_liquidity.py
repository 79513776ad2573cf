"""Funding and liquidity (``simulator.accounts.liquidity``) against hand-computed cases and properties.

The inputs are given arrays, so every check is exact or to float round-off: small
books worked out by hand (numbers in the comments), closed forms (a liability that
is never rolled runs off as ``L_0 (1 - 1/M)^t``), a plain-Python reference that
loops over paths and liabilities, and hypothesis properties (less cash from
borrowers never raises the buffer nor lengthens the survival horizon).
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.inputs.errors import InputError
from simulator.accounts.liquidity import funding_paths
from simulator.inputs.loader import scenario_from_dict
from simulator.inputs.schema import FundingSpec, LiabilitySpec, StressSpec

OPENING = 1200.0
MINIMAL_SCENARIO = {"portfolio": {"segments": [{
    "name": "a", "share_pct": 100, "principal": {"median": 1000}, "apr_pct": {"min": 10, "max": 20},
    "term_months": [12], "income": {"median": 5000}}]}}


def funding(*liabilities, buffer_pct=10.0, operating_cost_pct=0.0, floor_pct=50.0):
    return FundingSpec(liquidity_buffer_pct=buffer_pct, operating_cost_pct=operating_cost_pct,
                       liquidity_ratio_floor_pct=floor_pct, liabilities=list(liabilities))


def line(**kwargs):
    """A bank line: 50% of the book, 12 months, rolled in full, 1% spread unless overridden."""
    return LiabilitySpec(**{"name": "line", "type": "bank_line", "amount_pct": 50.0, **kwargs})


def run(spec, n_months, inflows=0.0, new_lending=0.0, book_balance=OPENING,
        overdue_90p=0.0, overdue_m1p=0.0, policy_rate_pct=0.0, opening_balance=OPENING):
    """``funding_paths`` on one path (or several, if a 2-D array is given) with scalars broadcast.

    Flows are zeroed at month 0, as the engine writes them.
    """
    shape = (1, n_months + 1)
    for value in (inflows, new_lending, book_balance, overdue_90p, overdue_m1p):
        if np.ndim(value) == 2:
            shape = np.shape(value)

    def series(value, flow):
        value = np.array(np.broadcast_to(np.asarray(value, dtype=float), shape))
        if flow:
            value[:, 0] = 0.0
        return value

    return funding_paths(series(inflows, True), series(new_lending, True), series(book_balance, False),
                         series(overdue_90p, False), series(overdue_m1p, False),
                         np.broadcast_to(np.asarray(policy_rate_pct, dtype=float), (shape[1],)).copy(),
                         spec, opening_balance)


# ------------------------------------------------------------------ buffer identity
def test_buffer_identity_without_liabilities():
    """buffer_t = buffer_t-1 + inflows - new lending - operating cost (1% a month of last month's book).

    buffer_0 = 10% x 1200 = 120; operating cost = 12%/12 x book_t-1 = 0, 12, 11, 10, 9;
    buffer = 120, 120+150-50-12 = 208, 208+140-60-11 = 277, 277+130-70-10 = 327, 327+120-80-9 = 358.
    """
    out = run(funding(operating_cost_pct=12.0), 4, inflows=[0, 150, 140, 130, 120],
              new_lending=[0, 50, 60, 70, 80], book_balance=[1200, 1100, 1000, 900, 800])
    np.testing.assert_allclose(out["operating_cost"][0], [0, 12, 11, 10, 9], rtol=1e-14)
    np.testing.assert_allclose(out["liquidity_buffer"][0], [120, 208, 277, 327, 358], rtol=1e-14)
    np.testing.assert_allclose(out["net_funding_gap"][0], [0, -88, -69, -50, -31], rtol=1e-14)
    for name in ("funding_cost", "liabilities_outstanding", "liability_repaid", "abs_diverted", "abs_trigger_hit"):
        assert np.all(out[name] == 0.0), name
    assert np.all(np.isnan(out["liquidity_ratio"])), "nothing falls due: the ratio is undefined"
    assert np.isnan(out["survival_horizon_months"]).all()
    assert out["liquidity_breached"].tolist() == [False]
    assert out["liquidity_ratio_breached"].tolist() == [False]


def test_net_funding_gap_is_the_fall_in_the_buffer():
    out = run(funding(line(rollover_pct=40.0, spread_pct=2.0), operating_cost_pct=5.0), 6,
              inflows=[0, 80, 70, 90, 10, 60, 75], new_lending=[0, 30, 0, 50, 20, 0, 10],
              book_balance=[1200, 1150, 1130, 1100, 1000, 990, 950], policy_rate_pct=3.0)
    np.testing.assert_allclose(-np.diff(out["liquidity_buffer"], axis=1), out["net_funding_gap"][:, 1:],
                               rtol=1e-13, atol=1e-12)
    outflows = (out["operating_cost"] + out["funding_cost"] + out["liability_repaid"] + out["abs_diverted"]
                + np.array([[0, 30, 0, 50, 20, 0, 10]]))
    np.testing.assert_allclose(out["net_funding_gap"], outflows - np.array([[0, 80, 70, 90, 10, 60, 75]]),
                               rtol=1e-13, atol=1e-12)


# ------------------------------------------------------------- rollover and runoff
def test_fully_rolled_line_costs_only_interest_and_keeps_its_balance():
    """L = 50% x 1200 = 600, spread 2%, policy rate 3, 3, 4, 5 in months 1-4:

    interest = 600 (r_t + 2) / 100 / 12 = 2.5, 2.5, 3.0, 3.5; buffer = 120 - cumulative interest.
    """
    out = run(funding(line(spread_pct=2.0)), 4, policy_rate_pct=[3, 3, 3, 4, 5])
    assert np.all(out["liabilities_outstanding"] == 600.0)
    assert np.all(out["liability_repaid"] == 0.0)
    np.testing.assert_allclose(out["funding_cost"][0], [0, 2.5, 2.5, 3.0, 3.5], rtol=1e-14)
    np.testing.assert_allclose(out["liquidity_buffer"][0], [120, 117.5, 115.0, 112.0, 108.5], rtol=1e-14)


def test_unrolled_line_runs_off_geometrically():
    """Rollover 0%: 1/M of what is left is repaid each month, L_t = L_0 (1 - 1/M)^t.

    M = 4, L_0 = 600: L = 450, 337.5, 253.125, 189.84375; repaid = 150, 112.5, 84.375, 63.28125.
    """
    out = run(funding(line(rollover_pct=0.0, maturity_months=4)), 4)
    np.testing.assert_allclose(out["liabilities_outstanding"][0], [600, 450, 337.5, 253.125, 189.84375],
                               rtol=1e-15)
    np.testing.assert_allclose(out["liability_repaid"][0], [0, 150, 112.5, 84.375, 63.28125], rtol=1e-15)

    months = 60
    out = run(funding(line(rollover_pct=0.0, maturity_months=7)), months)
    t = np.arange(months + 1)
    np.testing.assert_allclose(out["liabilities_outstanding"][0], 600.0 * (1 - 1 / 7) ** t, rtol=1e-12)
    np.testing.assert_allclose(out["liability_repaid"][0, 1:], 600.0 * (1 - 1 / 7) ** t[:-1] / 7, rtol=1e-12)


def test_partial_rollover_runs_off_at_the_unrolled_share():
    """Rollover rho: L_t = L_0 (1 - (1 - rho)/M)^t."""
    out = run(funding(line(rollover_pct=70.0, maturity_months=6)), 24)
    t = np.arange(25)
    np.testing.assert_allclose(out["liabilities_outstanding"][0], 600.0 * (1 - 0.3 / 6) ** t, rtol=1e-12)


def test_stress_changes_rollover_and_spread_from_its_month_exactly():
    """Stress from month 3: rollover 100% -> 0%, spread 1% -> 1% + 3%; policy rate 3%, M = 4, L_0 = 600.

    months 1-2: nothing repaid, interest 600 x 4% / 12 = 2.0;
    month 3: repaid 600 / 4 = 150, interest 600 x 7% / 12 = 3.5, L = 450;
    month 4: repaid 450 / 4 = 112.5, interest 450 x 7% / 12 = 2.625, L = 337.5.
    """
    stressed = line(maturity_months=4, stress=StressSpec(from_month=3, rollover_pct=0.0, spread_add_pct=3.0))
    out = run(funding(stressed), 4, policy_rate_pct=3.0)
    np.testing.assert_allclose(out["liability_repaid"][0], [0, 0, 0, 150, 112.5], rtol=1e-15)
    np.testing.assert_allclose(out["funding_cost"][0], [0, 2.0, 2.0, 3.5, 2.625], rtol=1e-14)
    np.testing.assert_allclose(out["liabilities_outstanding"][0], [600, 600, 600, 450, 337.5], rtol=1e-15)

    calm = run(funding(line(maturity_months=4)), 4, policy_rate_pct=3.0)
    for name in ("liquidity_buffer", "funding_cost", "liability_repaid", "liabilities_outstanding"):
        np.testing.assert_array_equal(out[name][:, :3], calm[name][:, :3], err_msg=name)
        assert np.all(out[name][:, 3:] != calm[name][:, 3:]), name


def test_stress_without_a_rollover_changes_only_the_spread():
    spread_only = line(stress=StressSpec(from_month=2, spread_add_pct=6.0))
    out = run(funding(spread_only), 3, policy_rate_pct=2.0)
    assert np.all(out["liabilities_outstanding"] == 600.0)
    np.testing.assert_allclose(out["funding_cost"][0], [0, 600 * 0.03 / 12, 600 * 0.09 / 12, 600 * 0.09 / 12],
                               rtol=1e-14)


# ------------------------------------------------------------------------------ ABS
def abs_notes(**kwargs):
    """ABS notes of 50% of the book (600), pool 120% of the notes: pool share pi = 0.6."""
    return LiabilitySpec(**{"name": "abs", "type": "abs", "amount_pct": 50.0, "overcollateral_pct": 120.0,
                            "trigger_pct": 5.0, **kwargs})


def test_abs_trigger_diverts_from_the_month_after_the_metric_is_above_and_stops_when_repaid():
    """90+ DPD is first above 5% at the end of month 2, so the trigger is hit in month 3 and stays hit.

    Inflows 500 a month, pi = 0.6, M = 12, rollover 100% before the trigger:
    months 1-2: nothing repaid or diverted, L = 600;
    month 3: not rolled any more, repaid 600 / 12 = 50, diverted 0.6 x 500 = 300, L = 250;
    month 4: repaid 250 / 12, diverted min(300, 250 - 250/12) = 250 x 11/12, L = 0;
    months 5-6: nothing left to repay or divert.
    """
    overdue = [0.02, 0.04, 0.06, 0.04, 0.03, 0.02, 0.01]     # back below the trigger from month 3
    out = run(funding(abs_notes()), 6, inflows=500.0, overdue_90p=overdue)
    np.testing.assert_array_equal(out["abs_trigger_hit"][0], [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(out["abs_diverted"][0], [0, 0, 0, 300, 250 * 11 / 12, 0, 0], rtol=1e-14)
    np.testing.assert_allclose(out["liability_repaid"][0], [0, 0, 0, 50, 250 / 12, 0, 0], rtol=1e-14)
    np.testing.assert_allclose(out["liabilities_outstanding"][0], [600, 600, 600, 250, 0, 0, 0], atol=1e-12)


def test_abs_trigger_at_its_threshold_is_not_hit_and_without_a_threshold_never():
    at_threshold = run(funding(abs_notes()), 4, inflows=100.0, overdue_90p=0.05)
    assert np.all(at_threshold["abs_diverted"] == 0.0)
    assert np.all(at_threshold["abs_trigger_hit"] == 0.0)
    no_trigger = run(funding(abs_notes(trigger_pct=None)), 4, inflows=100.0, overdue_90p=0.9, overdue_m1p=0.9)
    assert np.all(no_trigger["abs_diverted"] == 0.0)
    assert np.all(no_trigger["liabilities_outstanding"] == 600.0)


def test_abs_before_its_trigger_behaves_like_any_liability():
    notes = run(funding(abs_notes(rollover_pct=80.0, maturity_months=6, spread_pct=2.5)), 5, inflows=90.0,
                policy_rate_pct=3.0)
    plain = run(funding(line(rollover_pct=80.0, maturity_months=6, spread_pct=2.5)), 5, inflows=90.0,
                policy_rate_pct=3.0)
    for name in ("liquidity_buffer", "funding_cost", "liability_repaid", "liabilities_outstanding"):
        np.testing.assert_array_equal(notes[name], plain[name], err_msg=name)


def test_abs_trigger_reads_the_metric_it_names():
    """An M1+ trigger ignores 90+ DPD and vice versa; the metric at month 0 can hit it in month 1."""
    on_m1p = run(funding(abs_notes(trigger_metric="m1p")), 3, inflows=100.0, overdue_90p=0.5, overdue_m1p=0.01)
    assert np.all(on_m1p["abs_diverted"] == 0.0)
    on_m1p = run(funding(abs_notes(trigger_metric="m1p")), 3, inflows=100.0, overdue_90p=0.0, overdue_m1p=0.08)
    np.testing.assert_array_equal(on_m1p["abs_trigger_hit"][0], [0, 1, 1, 1])
    np.testing.assert_allclose(on_m1p["abs_diverted"][0, 1], 60.0, rtol=1e-15)
    on_90p = run(funding(abs_notes()), 3, inflows=100.0, overdue_90p=0.01, overdue_m1p=0.5)
    assert np.all(on_90p["abs_diverted"] == 0.0)


@pytest.mark.parametrize(("amounts", "overcollateral", "shares"), [
    ((50.0,), 110.0, (0.55,)),
    ((100.0,), 150.0, (1.0,)),                       # capped at the whole book
    ((60.0, 60.0), 110.0, (0.66, 0.34)),              # the second pool gets what the first left
])
def test_abs_pool_share(amounts, overcollateral, shares):
    """Diverted = pi x inflows with pi = min(1, amount x overcollateral), pools allotted in order."""
    notes = [abs_notes(name=f"abs{i}", amount_pct=a, overcollateral_pct=overcollateral, maturity_months=120)
             for i, a in enumerate(amounts)]
    out = run(funding(*notes), 1, inflows=10.0, overdue_90p=0.5)
    np.testing.assert_allclose(out["abs_diverted"][0, 1], 10.0 * sum(shares), rtol=1e-14)


# ------------------------------------------------------------- survival and ratio
def test_survival_horizon_is_the_first_negative_month():
    """Two paths, buffer_0 = 120, no liabilities.

    path 0: buffer = 120, 70, -30, 20, 0 -> first negative in month 2 (breached even though it recovers);
    path 1: buffer = 120, 120, 0, 0, 0 -> zero is not below the floor 0: survives the horizon (NaN).
    Found on flows that lent on (no stop months given), month 2 is also where lending stops on path 0.
    """
    inflows = np.array([[0, 0, 0, 50, 0], [0, 0, 0, 0, 0]], dtype=float)
    lending = np.array([[0, 50, 100, 0, 20], [0, 0, 120, 0, 0]], dtype=float)
    out = run(funding(), 4, inflows=inflows, new_lending=lending)
    np.testing.assert_allclose(out["liquidity_buffer"], [[120, 70, -30, 20, 0], [120, 120, 0, 0, 0]], atol=0)
    np.testing.assert_array_equal(out["survival_horizon_months"], [2.0, np.nan])
    np.testing.assert_array_equal(out["lending_stop_month"], [2.0, np.nan])
    np.testing.assert_array_equal(out["liquidity_failure_month"], [2.0, np.nan])
    assert out["liquidity_breached"].tolist() == [True, False]
    kept = run(funding().model_copy(update={"when_short": "keep_lending"}), 4, inflows=inflows, new_lending=lending)
    np.testing.assert_array_equal(kept["liquidity_buffer"], out["liquidity_buffer"])
    np.testing.assert_array_equal(kept["survival_horizon_months"], [2.0, np.nan])
    assert np.isnan(kept["lending_stop_month"]).all()


def test_liquidity_ratio_and_its_breach():
    """Line of 600 over 12 months: 50 falls due each month; floor 50%, so breached below 25.

    buffer = 120, 120-100 = 20, 20-30 = -10, -10+50 = 40;
    ratio = 120/50 = 2.4, 20/50 = 0.4, 0 (a negative buffer is no cash held), 40/50 = 0.8.
    """
    out = run(funding(line(spread_pct=0.0)), 3, new_lending=[0, 100, 30, 0], inflows=[0, 0, 0, 50])
    np.testing.assert_allclose(out["liquidity_ratio"][0], [2.4, 0.4, 0.0, 0.8], rtol=1e-14)
    assert out["liquidity_ratio_breached"].tolist() == [True]
    calm = run(funding(line(spread_pct=0.0)), 3, inflows=[0, 10, 10, 10])
    np.testing.assert_allclose(calm["liquidity_ratio"][0], [2.4, 2.6, 2.8, 3.0], rtol=1e-14)
    assert calm["liquidity_ratio_breached"].tolist() == [False]


def test_a_negative_buffer_breaches_even_a_zero_floor():
    out = run(funding(line(spread_pct=0.0), floor_pct=0.0), 3, new_lending=[0, 100, 30, 0], inflows=[0, 0, 0, 50])
    assert out["liquidity_ratio"][0, 2] == 0.0
    assert out["liquidity_ratio_breached"].tolist() == [True]


def test_liquidity_ratio_is_nan_once_nothing_falls_due_and_month_0_is_not_judged():
    """Notes repaid in one month (M = 1, rollover 0): nothing falls due from month 1, ratio NaN, no breach.

    Month 0: 120 / 600 = 0.2 < 0.5, and is not judged.
    """
    out = run(funding(line(maturity_months=1, rollover_pct=0.0, spread_pct=0.0)), 3, inflows=700.0)
    np.testing.assert_allclose(out["liquidity_ratio"][0, 0], 0.2, rtol=1e-15)
    assert np.all(np.isnan(out["liquidity_ratio"][0, 1:]))
    assert out["liquidity_ratio_breached"].tolist() == [False]


# ------------------------------------------------------------ shapes and reference
def test_opening_balance_scalar_or_per_path_and_paths_are_independent():
    rng = np.random.default_rng(3)
    n_paths, months = 3, 8
    inputs = dict(inflows=rng.uniform(0, 200, (n_paths, months + 1)),
                  new_lending=rng.uniform(0, 150, (n_paths, months + 1)),
                  book_balance=rng.uniform(900, 1300, (n_paths, months + 1)),
                  overdue_90p=rng.uniform(0, 0.1, (n_paths, months + 1)),
                  overdue_m1p=rng.uniform(0, 0.2, (n_paths, months + 1)))
    spec = funding(line(rollover_pct=50.0), abs_notes(trigger_pct=6.0, trigger_metric="m1p", amount_pct=30.0),
                   operating_cost_pct=4.0)
    scalar = run(spec, months, **inputs, policy_rate_pct=2.5)
    per_path = run(spec, months, **inputs, policy_rate_pct=2.5, opening_balance=np.full(n_paths, OPENING))
    for name in scalar:
        np.testing.assert_array_equal(scalar[name], per_path[name], err_msg=name)
    for p in range(n_paths):
        alone = run(spec, months, **{k: v[p:p + 1] for k, v in inputs.items()}, policy_rate_pct=2.5)
        for name in scalar:
            np.testing.assert_array_equal(scalar[name][p:p + 1], alone[name], err_msg=name)


def test_inconsistent_shapes_are_refused():
    good = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"new_lending must have the shape of inflows \(2, 4\); got \(2, 3\)"):
        funding_paths(good, np.zeros((2, 3)), good, good, good, np.zeros(4), funding(), 1.0)
    with pytest.raises(ValueError, match=r"policy_rate_pct must have shape \(4,\)"):
        funding_paths(good, good, good, good, good, np.zeros(3), funding(), 1.0)
    with pytest.raises(ValueError, match=r"opening_balance must be a scalar or have shape \(2,\)"):
        funding_paths(good, good, good, good, good, np.zeros(4), funding(), np.ones(3))
    with pytest.raises(ValueError, match=r"stop_month must have shape \(2,\)"):
        funding_paths(good, good, good, good, good, np.zeros(4), funding(), 1.0, np.ones(3))


def reference_funding(inflows, new_lending, book_balance, overdue_90p, overdue_m1p,
                      policy_rate_pct, spec, opening):
    """Plain Python, one path and one liability at a time, straight from the module docstring."""
    n_paths, n_steps = inflows.shape
    buffers = np.zeros((n_paths, n_steps))
    ratios = np.full((n_paths, n_steps), np.nan)
    for p in range(n_paths):
        notes = [liab.amount_pct / 100 * opening[p] for liab in spec.liabilities]
        hit = [False] * len(notes)
        pledged, shares = 0.0, []
        for liab in spec.liabilities:
            share = min(1.0, liab.amount_pct * liab.overcollateral_pct / 1e4, 1 - pledged) if liab.type == "abs" else 0
            pledged += share
            shares.append(share)
        buffer = spec.liquidity_buffer_pct / 100 * opening[p]
        for t in range(n_steps):
            if t > 0:
                out = new_lending[p, t] + spec.operating_cost_pct / 1200 * book_balance[p, t - 1]
                for j, liab in enumerate(spec.liabilities):
                    metric = overdue_90p if liab.trigger_metric == "90p" else overdue_m1p
                    if liab.type == "abs" and liab.trigger_pct is not None \
                            and metric[p, t - 1] > liab.trigger_pct / 100:
                        hit[j] = True
                    stressed = liab.stress is not None and t >= liab.stress.from_month
                    rollover = liab.rollover_pct
                    spread = liab.spread_pct
                    if stressed:
                        spread += liab.stress.spread_add_pct
                        if liab.stress.rollover_pct is not None:
                            rollover = liab.stress.rollover_pct
                    if hit[j]:
                        rollover = 0.0
                    repaid = (1 - rollover / 100) * notes[j] / liab.maturity_months
                    interest = notes[j] * (policy_rate_pct[t] + spread) / 1200
                    diverted = min(max(shares[j] * inflows[p, t], 0.0), notes[j] - repaid) if hit[j] else 0.0
                    notes[j] -= repaid + diverted
                    out += repaid + interest + diverted
                buffer += inflows[p, t] - out
            buffers[p, t] = buffer
            due = sum(n / liab.maturity_months for n, liab in zip(notes, spec.liabilities))
            if due > 0:
                ratios[p, t] = max(buffer, 0.0) / due
    return buffers, ratios


def test_matches_the_plain_python_reference():
    rng = np.random.default_rng(11)
    n_paths, months = 5, 24
    shape = (n_paths, months + 1)
    inflows, lending = rng.uniform(0, 120, shape), rng.uniform(0, 90, shape)
    for flow in (inflows, lending):
        flow[:, 0] = 0.0
    book = rng.uniform(800, 1300, shape)
    o90 = np.cumsum(rng.uniform(0, 0.006, shape), axis=1)
    om1 = o90 + rng.uniform(0, 0.05, shape)
    policy = rng.uniform(1, 4, months + 1)
    opening = rng.uniform(1000, 1400, n_paths)
    spec = funding(
        line(name="bank", rollover_pct=90.0, maturity_months=9, stress=StressSpec(from_month=7, rollover_pct=20.0,
                                                                                  spread_add_pct=2.0)),
        LiabilitySpec(name="interbank", type="interbank", amount_pct=20.0, maturity_months=3, spread_pct=0.5,
                      stress=StressSpec(from_month=4, spread_add_pct=5.0)),
        abs_notes(name="abs_a", amount_pct=25.0, trigger_pct=5.0),
        abs_notes(name="abs_b", amount_pct=30.0, trigger_pct=4.0, trigger_metric="m1p", rollover_pct=60.0),
        buffer_pct=12.0, operating_cost_pct=3.5)
    spec = spec.model_copy(update={"when_short": "keep_lending"})
    out = funding_paths(inflows, lending, book, o90, om1, policy, spec, opening)
    buffers, ratios = reference_funding(inflows, lending, book, o90, om1, policy, spec, opening)
    assert out["abs_trigger_hit"][:, -1].any() and not out["abs_trigger_hit"][:, 1].all()
    np.testing.assert_allclose(out["liquidity_buffer"], buffers, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(out["liquidity_ratio"], ratios, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------- monotonicity
amounts = st.floats(0.0, 500.0, allow_nan=False, allow_infinity=False)


@st.composite
def funding_cases(draw):
    months = draw(st.integers(1, 12))
    n = months + 1
    row = st.lists(amounts, min_size=n, max_size=n)
    rates = st.lists(st.floats(0.0, 0.12), min_size=n, max_size=n)
    liabilities = [
        line(amount_pct=draw(st.floats(0, 150)), rollover_pct=draw(st.floats(0, 100)),
             maturity_months=draw(st.integers(1, 24)), spread_pct=draw(st.floats(0, 5)),
             stress=StressSpec(from_month=draw(st.integers(1, 12)), rollover_pct=draw(st.floats(0, 100)),
                               spread_add_pct=draw(st.floats(0, 10)))),
        abs_notes(amount_pct=draw(st.floats(0, 150)), overcollateral_pct=draw(st.floats(100, 300)),
                  trigger_pct=draw(st.floats(0, 12)), maturity_months=draw(st.integers(1, 36)),
                  trigger_metric=draw(st.sampled_from(["90p", "m1p"]))),
    ]
    spec = funding(*liabilities, buffer_pct=draw(st.floats(0, 50)), operating_cost_pct=draw(st.floats(0, 10)))
    inflows = np.array([draw(row)])
    cut = np.array([draw(row)])
    return dict(spec=spec, n_months=months, inflows=inflows, lower=np.maximum(inflows - cut, 0.0),
                new_lending=np.array([draw(row)]), book_balance=np.array([draw(row)]),
                overdue_90p=np.array([draw(rates)]), overdue_m1p=np.array([draw(rates)]),
                policy_rate_pct=np.array(draw(st.lists(st.floats(0, 10), min_size=n, max_size=n))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(funding_cases())
def test_less_cash_from_borrowers_never_helps(case):
    """Lowering inflows (policy rates and spreads >= 0) never raises the buffer, nor lengthens survival.

    Why it holds: the buffer falls by at least (1 - pi) of the lost inflow each month, and
    the notes an ABS keeps longer cost at most the inflow not diverted (pi <= 1).
    """
    spec, n_months, lower = case.pop("spec"), case.pop("n_months"), case.pop("lower")
    better = run(spec, n_months, **case)
    worse = run(spec, n_months, **{**case, "inflows": lower})
    scale = 1.0 + np.abs(better["liquidity_buffer"]).max() + case["inflows"].sum()
    assert np.all(worse["liquidity_buffer"] <= better["liquidity_buffer"] + 1e-12 * scale)
    # survival compares signs, so a buffer that only round-off separates from 0 could flip it
    if not np.any(np.abs(better["liquidity_buffer"]) < 1e-9 * scale):
        survived = np.isnan(better["survival_horizon_months"])
        assert np.all(survived | (worse["survival_horizon_months"] <= better["survival_horizon_months"]))


# ------------------------------------------------------------- scenario refusals
def test_bad_funding_input_is_refused_by_the_loader():
    data = {**MINIMAL_SCENARIO, "funding": {
        "liquidity_buffer_pct": -5,
        "liabilities": [{"name": "retail", "type": "deposits", "amount_pct": 50}]}}
    with pytest.raises(InputError) as info:
        scenario_from_dict(data, source="bad.yaml")
    problems = info.value.problems
    assert len(problems) == 2, problems
    (type_problem,) = [p for p in problems if "funding.liabilities[0].type" in p]
    (buffer_problem,) = [p for p in problems if "funding.liquidity_buffer_pct" in p]
    assert type_problem.startswith("bad.yaml: funding.liabilities[0].type must be ")
    assert "'bank_line', 'interbank', 'abs' or 'bond'" in type_problem and "got 'deposits'" in type_problem
    assert buffer_problem.startswith("bad.yaml: funding.liquidity_buffer_pct must be greater than or equal to 0")
    assert "got -5" in buffer_problem


def test_minimal_scenario_has_a_usable_default_funding_block():
    spec = scenario_from_dict(MINIMAL_SCENARIO).funding
    out = run(spec, 3, inflows=50.0)
    assert math.isnan(out["liquidity_ratio"][0, 1])
    assert out["liquidity_buffer"][0, 0] == pytest.approx(spec.liquidity_buffer_pct / 100 * OPENING)
