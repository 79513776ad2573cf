"""Management actions: off means off, effects go the right way, outputs report them, bad blocks are refused.

* An action switched off (or with no effect) reproduces the scenario without it
  bit for bit (docs/actions.md), and the counterfactual a run with
  actions carries is the plain scenario run on its own.
* Monotone effects on common random numbers, as hypothesis properties over the
  action's parameters and the seed (0-99): paired per-path differences, with a
  tolerance of ``K_SE`` standard errors of the mean difference.
* The run directory reports the actions: re-default rate, costs, vintage curve
  and the ``action_effects`` block.
* Restructured loans are IFRS 9 Stage 2 or worse and five-category 关注 or worse,
  checked against a plain-numpy staging of the aggregates.
* Bad action blocks exit ``simulate validate`` with code 2 and a message naming
  the field.

Small books (2,000 loans, 12 paths, 12-18 months) keep the whole file well under
a minute once the kernels are compiled (numba's cache).
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator
from simulator.cli import main
from simulator.model.engine import layout as L
from simulator.accounts.ifrs9 import balance_by_stage
from simulator.workflows.results import EFFECT_METRICS
from simulator.inputs.loader import load_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
K_SE = 4.0
LOANS, PATHS = 2000, 12
STATS = ("mean", "p01", "p05", "p50", "p95", "p99", "se")
TRANSITION_0_TO_1 = L.TRANSITION + L.N_OUTCOMES * 0 + 1
"""Aggregate column: loans current at the start of the month and 1-30 DPD at its end."""
ALL_BUCKETS = ("dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_plus")
PROPERTY_SETTINGS = settings(max_examples=5, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])


def small(name, horizon=18, seed=None, loans=LOANS, paths=PATHS):
    return load_scenario(SCENARIOS / f"{name}.yaml").with_loans(loans).with_run(
        paths=paths, horizon_months=horizon, seed=seed)


def with_actions(scenario, **blocks):
    """``scenario`` with its ``actions`` section replaced by ``blocks`` (validated like a file)."""
    data = scenario.model_dump(mode="json")
    data["actions"] = blocks
    return scenario_from_dict(data, source=f"{scenario.name}+actions")


def without_actions(scenario):
    return with_actions(scenario)


def paired_mean_and_se(a, b):
    """Mean and standard error of the per-path paired difference ``b - a``."""
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff))


def balance_90p(results):
    """Per path: the mean over months 1..H of the 90+ DPD balance (overdue rate x book balance)."""
    series = results.series
    return (series["overdue_rate_90p"] * series["book_balance"])[:, 1:].mean(axis=1)


def contact(pct):
    return {bucket: pct for bucket in ALL_BUCKETS}


# ------------------------------------------------------------ off means off
HORIZON_OFF = 12
LIFETIME = 24  # provisioning.ifrs9.lifetime_months of the shipped scenarios: the engine runs H + this

NIL_ACTIONS = {
    "contact_0_everywhere": ("severe", dict(collections={"contact_pct": contact(0)})),
    "no_contact_capacity": ("severe", dict(collections={"contact_pct": contact(80),
                                                        "capacity_accounts_per_month": 0})),
    "take_up_0": ("severe", dict(restructuring={"take_up_pct": 0})),
    "offer_0": ("severe", dict(restructuring={"offer_pct": 0, "plan": "extension", "months": 6})),
    "nobody_eligible": ("severe", dict(restructuring={"on_job_loss": False, "on_dpd_1_30": False})),
    "both_nil": ("severe", dict(collections={"contact_pct": contact(0)}, restructuring={"take_up_pct": 0})),
    "roll_rate_contact_0": ("roll_rate_example", dict(collections={"contact_pct": contact(0)})),
}


def assert_same_run(results, plain):
    assert np.array_equal(results.aggregates, plain.aggregates)
    assert np.array_equal(results.vintages, plain.vintages)
    assert results.summary["metrics"] == plain.summary["metrics"]


@pytest.mark.parametrize("name, blocks", NIL_ACTIONS.values(), ids=NIL_ACTIONS.keys())
def test_an_action_without_effect_reproduces_the_scenario_bit_for_bit(name, blocks):
    base = small(name, horizon=HORIZON_OFF)
    assert base.provisioning.ifrs9.lifetime_months == LIFETIME
    plain = simulator.run(base)
    results = simulator.run(with_actions(base, **blocks))
    assert_same_run(results, plain)
    assert_same_run(results.counterfactual, plain)
    # (an effect is None where the metric does not exist at this horizon, e.g. the 12-month vintage rate)
    assert all(effect["difference"] in (0.0, None) and effect["se"] in (0.0, None)
               for effect in results.action_effects.values())


@pytest.mark.parametrize("blocks", [
    dict(collections={"contact_pct": contact(90), "start_month": HORIZON_OFF + 1}),
    dict(restructuring={"take_up_pct": 100, "start_month": HORIZON_OFF + 1}),
], ids=["collections", "restructuring"])
def test_an_action_starting_after_the_horizon_changes_nothing_or_is_refused(blocks):
    base = small("severe", horizon=HORIZON_OFF)
    try:
        scenario = with_actions(base, **blocks)
    except simulator.InputError as exc:
        assert "start_month" in str(exc)
        return
    assert_same_run(simulator.run(scenario), simulator.run(base))


@pytest.mark.parametrize("name", ["severe_with_actions", "restructuring", "underwriting", "high_risk_lending"])
def test_the_counterfactual_is_the_scenario_run_without_actions(name):
    scenario = small(name, horizon=HORIZON_OFF)
    results = simulator.run(scenario)
    plain = simulator.run(without_actions(scenario))
    assert not np.array_equal(results.aggregates, plain.aggregates)
    assert results.counterfactual.scenario == plain.scenario
    assert np.array_equal(results.counterfactual.aggregates, plain.aggregates)
    assert np.array_equal(results.counterfactual.vintages, plain.vintages)
    assert results.counterfactual.summary["metrics"] == plain.summary["metrics"]


def test_restructuring_in_a_roll_rate_scenario_acts_or_is_refused():
    base = small("roll_rate_example", horizon=HORIZON_OFF)
    try:
        scenario = with_actions(base, restructuring={"take_up_pct": 100})
    except simulator.InputError as exc:
        assert "actions.restructuring" in str(exc)
        return
    assert simulator.run(scenario).headline["restructurings"].sum() > 0


# -------------------------------------------------- monotone effects (CRN)
@PROPERTY_SETTINGS
@given(low=st.floats(0.0, 60.0), scale=st.floats(1.0, 3.0), seed=st.integers(0, 99))
def test_more_collection_contact_never_raises_the_90p_balance(low, scale, seed):
    base = small("severe", horizon=12, seed=seed)
    balances = []
    for level in (low, min(100.0, low * scale)):
        results = simulator.run(with_actions(base, collections={"contact_pct": contact(level)}))
        balances.append(balance_90p(results))
    mean, se = paired_mean_and_se(*balances)
    assert mean <= K_SE * se, (mean, se)


def test_collections_lower_the_90p_balance_and_cost_what_they_contact():
    results = simulator.run(with_actions(small("severe", horizon=12),
                                         collections={"contact_pct": contact(90), "cost_per_contact": 15}))
    mean, se = paired_mean_and_se(balance_90p(results.counterfactual), balance_90p(results))
    assert mean < -K_SE * se, (mean, se)
    assert results.headline["total_collection_cost"].mean() > 0


@PROPERTY_SETTINGS
@given(low=st.floats(300.0, 600.0), step=st.floats(10.0, 80.0), seed=st.integers(0, 99))
def test_a_higher_score_cutoff_never_raises_new_vintage_default_rate(low, step, seed):
    base = small("underwriting", horizon=18, seed=seed)
    rates = []
    for cutoff in (low, low + step):
        results = simulator.run(with_actions(base, originations={"volume_pct": 7, "score_cutoff": cutoff}))
        rates.append(results.headline["new_vintage_ever_90p_rate_12m"])
    mean, se = paired_mean_and_se(*rates)
    assert np.isfinite(mean) and mean <= K_SE * se, (mean, se)


def holiday_window_inflow(results, start, months):
    """Per path: loans moving current -> 1-30 DPD in months ``start .. start + months - 1``."""
    window = slice(start, start + months)
    return (results.aggregates[:, window, TRANSITION_0_TO_1].sum(axis=1),
            results.counterfactual.aggregates[:, window, TRANSITION_0_TO_1].sum(axis=1))


@PROPERTY_SETTINGS
@given(months=st.integers(1, 5), take_up=st.floats(5.0, 100.0), start=st.integers(1, 10), seed=st.integers(0, 99))
def test_a_payment_holiday_never_raises_the_inflow_into_1_30_during_the_holiday(months, take_up, start, seed):
    """A loan on holiday owes nothing, so it cannot miss; every other loan sees the same random numbers.

    Hence within the first holiday window the inflow current -> 1-30 can only fall,
    path by path (and so in the mean, by any number of standard errors).
    """
    scenario = with_actions(small("severe", horizon=16, seed=seed), restructuring={
        "plan": "holiday", "months": months, "take_up_pct": take_up, "start_month": start})
    results = simulator.run(scenario)
    with_plan, without = holiday_window_inflow(results, start, months)
    assert np.all(with_plan <= without), (with_plan, without)
    mean, se = paired_mean_and_se(without, with_plan)
    assert mean <= K_SE * se, (mean, se)


def test_a_payment_holiday_lowers_the_inflow_into_1_30():
    scenario = with_actions(small("severe", horizon=12), restructuring={
        "plan": "holiday", "months": 3, "offer_pct": 80, "take_up_pct": 60, "start_month": 2})
    results = simulator.run(scenario)
    with_plan, without = holiday_window_inflow(results, 2, 3)
    mean, se = paired_mean_and_se(without, with_plan)
    assert mean < -K_SE * se, (mean, se)


# ------------------------------------------------------ the run directory
ORIGINATIONS = {"volume_pct": 7, "score_cutoff": 560, "pd_improvement_pct": 30}


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """severe_with_actions plus new lending, 18 months, written with ``save`` (no plots)."""
    base = small("severe_with_actions", horizon=18)
    scenario = with_actions(base, **base.actions.model_dump(mode="json", exclude_none=True),
                            originations=ORIGINATIONS)
    results = simulator.run(scenario)
    directory = results.save(tmp_path_factory.mktemp("actions") / "run", plots=False)
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    timeseries = pd.read_csv(directory / "timeseries.csv")
    return results, directory, summary, timeseries


ACTION_HEADLINES = ("redefault_rate", "restructurings", "total_action_cost", "total_collection_cost",
                    "total_restructuring_cost", "new_vintage_ever_90p_rate_12m")
ACTION_SERIES = ("redefault_rate", "collection_cost", "restructuring_cost", "action_cost",
                 "new_vintage_ever_90p_rate_by_months_on_book")


def test_summary_reports_the_actions(saved_run):
    results, _, summary, _ = saved_run
    metrics = summary["metrics"]
    for name in ACTION_HEADLINES:
        assert set(metrics[name]) == set(STATS), name
        assert metrics[name]["mean"] is not None and np.isfinite(metrics[name]["mean"]), name
    assert metrics["restructurings"]["mean"] > 0
    assert metrics["total_collection_cost"]["mean"] > 0
    assert 0 < metrics["redefault_rate"]["mean"] <= 1
    assert 0 < metrics["new_vintage_ever_90p_rate_12m"]["mean"] < 1
    # re-default rate from the aggregates: restructured loans charged off / plans, 0 on a path without plans
    plans = results.aggregates[:, :, L.RESTRUCTURINGS].sum(axis=1)
    redefaults = results.aggregates[:, :, L.REDEFAULTS].sum(axis=1)
    expected = np.where(plans > 0, redefaults / np.where(plans > 0, plans, 1), 0.0)
    assert metrics["redefault_rate"]["mean"] == pytest.approx(expected.mean(), rel=1e-12)
    assert metrics["restructurings"]["mean"] == pytest.approx(plans.mean(), rel=1e-12)


def test_action_costs_are_contacts_and_plans_times_their_unit_cost(saved_run):
    results, _, summary, _ = saved_run
    actions = results.scenario.actions
    per_contact, per_plan = actions.collections.cost_per_contact, actions.restructuring.cost_per_restructuring
    contacts = results.aggregates[:, :, L.CONTACTS]
    plans = results.aggregates[:, :, L.RESTRUCTURINGS]
    series = results.series
    assert np.array_equal(series["collection_cost"], contacts * per_contact)
    assert np.array_equal(series["restructuring_cost"], plans * per_plan)
    assert np.array_equal(series["action_cost"], contacts * per_contact + plans * per_plan)
    headline = results.headline
    assert np.array_equal(headline["total_collection_cost"], (contacts * per_contact).sum(axis=1))
    assert np.array_equal(headline["total_restructuring_cost"], (plans * per_plan).sum(axis=1))
    assert np.allclose(headline["total_action_cost"],
                       headline["total_collection_cost"] + headline["total_restructuring_cost"], rtol=1e-15)
    metrics = summary["metrics"]
    assert metrics["total_collection_cost"]["mean"] == pytest.approx(per_contact * contacts.sum(axis=1).mean(),
                                                                     rel=1e-12)
    assert metrics["total_restructuring_cost"]["mean"] == pytest.approx(per_plan * plans.sum(axis=1).mean(),
                                                                        rel=1e-12)


def test_action_effects_compare_with_the_run_without_actions(saved_run):
    results, directory, summary, _ = saved_run
    effects = summary["action_effects"]
    assert set(effects) == set(EFFECT_METRICS)
    without = json.loads((directory / "without_actions" / "summary.json").read_text(encoding="utf-8"))
    assert without["action_effects"] is None
    for name, effect in effects.items():
        assert set(effect) == {"with_actions", "without_actions", "difference", "se"}, name
        assert effect["difference"] == pytest.approx(effect["with_actions"] - effect["without_actions"],
                                                     rel=1e-9, abs=1e-9 * max(1.0, abs(effect["with_actions"])))
        assert effect["se"] >= 0
        assert effect["with_actions"] == pytest.approx(summary["metrics"][name]["mean"], rel=1e-12, abs=1e-15)
        assert effect["without_actions"] == pytest.approx(without["metrics"][name]["mean"], rel=1e-12, abs=1e-15)
        _, se = paired_mean_and_se(results.counterfactual.headline[name], results.headline[name])
        assert effect["se"] == pytest.approx(se, rel=1e-9, abs=1e-15)
    assert effects["total_action_cost"]["without_actions"] == 0.0
    assert effects["total_action_cost"]["difference"] > 0


def test_timeseries_reports_the_actions(saved_run):
    results, _, summary, timeseries = saved_run
    horizon = results.scenario.run.horizon_months
    for name in ACTION_SERIES:
        rows = timeseries[timeseries["metric"] == name].sort_values("month")
        assert rows["month"].tolist() == list(range(horizon + 1)), name
        assert set(STATS) <= set(rows.columns)
    by_month = {name: timeseries[timeseries["metric"] == name].set_index("month")["mean"]
                for name in ACTION_SERIES + ("contacts", "restructurings")}
    per_contact = results.scenario.actions.collections.cost_per_contact
    per_plan = results.scenario.actions.restructuring.cost_per_restructuring
    assert np.allclose(by_month["collection_cost"], per_contact * by_month["contacts"], rtol=1e-12)
    assert np.allclose(by_month["restructuring_cost"], per_plan * by_month["restructurings"], rtol=1e-12)
    assert np.allclose(by_month["action_cost"], by_month["collection_cost"] + by_month["restructuring_cost"],
                       rtol=1e-12)
    redefault = by_month["redefault_rate"].dropna()
    assert len(redefault) and ((redefault >= 0) & (redefault <= 1)).all()
    curve = by_month["new_vintage_ever_90p_rate_by_months_on_book"]
    assert curve[12] == pytest.approx(summary["metrics"]["new_vintage_ever_90p_rate_12m"]["mean"], rel=1e-12)
    assert curve[0] == 0.0  # new loans are written current


# ------------------------------------------- restructured loans' staging
def stage_reference(ifrs9):
    """Plain-numpy IFRS 9 stage of live states 0..6: state d is beyond X DPD iff 30 (d - 1) >= X."""
    low_dpd = 30 * (np.arange(L.N_LIVE_STATES) - 1)
    return np.where(low_dpd >= ifrs9.stage3_after_dpd, 3, np.where(low_dpd >= ifrs9.stage2_after_dpd, 2, 1))


@pytest.fixture(scope="module", params=["special_mention", "substandard"])
def restructured_run(request):
    base = small("severe_with_actions", horizon=12)
    data = base.model_dump(mode="json")
    data["provisioning"]["five_category"]["restructured_category"] = request.param
    return simulator.run(scenario_from_dict(data))


def test_restructured_loans_are_at_least_stage_2(restructured_run):
    results = restructured_run
    aggregates = results.aggregates
    balance = aggregates[:, :, L.BALANCE:L.BALANCE + L.N_LIVE_STATES]
    restructured = aggregates[:, :, L.RESTRUCTURED_BALANCE:L.RESTRUCTURED_BALANCE + L.N_LIVE_STATES]
    assert restructured[:, :, 0].sum() > 0, "no restructured current balance to exclude"
    stage = stage_reference(results.scenario.provisioning.ifrs9)
    plain = balance - restructured
    expected = np.stack([plain[:, :, stage == 1].sum(axis=2),
                         plain[:, :, stage == 2].sum(axis=2) + restructured[:, :, stage <= 2].sum(axis=2),
                         plain[:, :, stage == 3].sum(axis=2) + restructured[:, :, stage == 3].sum(axis=2)], axis=2)
    series = results.series
    for k in range(3):
        assert np.allclose(series[f"balance_stage_{k + 1}"], expected[:, :, k], rtol=1e-12, atol=1e-6), k
    assert np.allclose(balance_by_stage(aggregates, results.scenario), expected, rtol=1e-12, atol=1e-6)
    # the restructured current balance is out of Stage 1: Stage 1 is below all current loans by at least it
    current_and_1_30 = balance[:, :, stage == 1].sum(axis=2)
    assert np.all(series["balance_stage_1"] <= current_and_1_30 - restructured[:, :, 0] + 1e-6)
    assert np.allclose(sum(series[f"balance_stage_{k}"] for k in (1, 2, 3)), series["book_balance"], rtol=1e-12)


def test_restructured_loans_are_at_least_special_mention(restructured_run):
    results = restructured_run
    spec = results.scenario.provisioning.five_category
    aggregates = results.aggregates
    balance = aggregates[:, :, L.BALANCE:L.BALANCE + L.N_LIVE_STATES]
    restructured = aggregates[:, :, L.RESTRUCTURED_BALANCE:L.RESTRUCTURED_BALANCE + L.N_LIVE_STATES]
    series = results.series
    # with special_mention_after_dpd 0 only current loans can be 正常, and restructured ones never are
    assert spec.special_mention_after_dpd == 0
    assert np.allclose(series["balance_normal"], balance[:, :, 0] - restructured[:, :, 0], rtol=1e-12, atol=1e-6)
    assert np.all(series["balance_normal"] <= balance[:, :, 0] - restructured[:, :, 0] + 1e-6)
    if spec.restructured_category == "substandard":
        # every restructured balance is NPL (次级 or worse)
        npl_states = 30 * (np.arange(L.N_LIVE_STATES) - 1) >= spec.substandard_after_dpd
        expected_npl = (balance - restructured)[:, :, npl_states].sum(axis=2) + restructured.sum(axis=2)
        assert np.allclose(series["npl_balance"], expected_npl, rtol=1e-12, atol=1e-6)
        special_mention_states = (np.arange(L.N_LIVE_STATES) >= 1) & ~npl_states
        assert np.allclose(series["balance_special_mention"],
                           (balance - restructured)[:, :, special_mention_states].sum(axis=2), rtol=1e-12, atol=1e-6)


# ------------------------------------------------------ bad action blocks
@pytest.fixture
def validate(tmp_path):
    """``validate(actions) -> (click Result, file)`` for severe.yaml with ``actions`` added."""
    def run_validate(actions, name="actions.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"extends": str(SCENARIOS / "severe.yaml"), "actions": actions}),
                        encoding="utf-8")
        return CliRunner().invoke(main, ["validate", str(path)], catch_exceptions=False), path

    return run_validate


def assert_refused(result, path, *fragments):
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"error: {path}: ") for line in lines), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


BAD_ACTIONS = {
    "negative_contact": ({"collections": {"contact_pct": {"dpd_1_30": -10}}},
                         "actions.collections.contact_pct.dpd_1_30 must be greater than or equal to 0; got -10"),
    "take_up_above_100": ({"restructuring": {"take_up_pct": 120}},
                          "actions.restructuring.take_up_pct must be less than or equal to 100; got 120"),
    "holiday_as_long_as_shortest_term": (
        {"restructuring": {"plan": "holiday", "months": 6}},
        "actions.restructuring.months must be shorter than the shortest loan term (6 months); got 6"),
    "holiday_longer_than_shortest_term": (
        {"restructuring": {"plan": "holiday", "months": 7}},
        "actions.restructuring.months must be shorter than the shortest loan term (6 months); got 7"),
    "cutoff_above_score_scale": ({"originations": {"volume_pct": 5, "score_cutoff": 950}},
                                 "actions.originations.score_cutoff must be less than or equal to 900; got 950"),
    "cutoff_declining_everyone": ({"originations": {"volume_pct": 5, "score_cutoff": 890}},
                                  "actions.originations.score_cutoff must be a score the mix's segments can reach"),
    "unknown_segment_in_mix": (
        {"originations": {"volume_pct": 5, "segment_mix_pct": {"prime": 50, "near_prime": 30, "superprime": 20}}},
        "actions.originations.segment_mix_pct must be keyed by segment names"),
    "mix_not_summing_to_100": (
        {"originations": {"volume_pct": 5, "segment_mix_pct": {"prime": 50, "near_prime": 30}}},
        "actions.originations.segment_mix_pct must be non-negative percentages summing to 100"),
    "rate_cut_of_zero": ({"restructuring": {"plan": "rate_cut", "rate_cut_pct": 0}},
                         "actions.restructuring.rate_cut_pct must be above 0 for a rate_cut plan; got 0"),
}


@pytest.mark.parametrize("actions, message", BAD_ACTIONS.values(), ids=BAD_ACTIONS.keys())
def test_bad_action_blocks_are_refused_with_the_field_path(validate, actions, message):
    result, path = validate(actions)
    assert_refused(result, path, message)
    assert len(result.stderr.splitlines()) == 1


def test_every_problem_of_the_actions_is_reported_at_once(validate):
    result, path = validate({
        "restructuring": {"plan": "holiday", "months": 6},
        "originations": {"volume_pct": 5, "score_cutoff": 890,
                         "segment_mix_pct": {"prime": 50, "near_prime": 30, "superprime": 20}}})
    assert_refused(result, path, "actions.restructuring.months", "actions.originations.score_cutoff",
                   "actions.originations.segment_mix_pct")
    assert len(result.stderr.splitlines()) == 3


@pytest.mark.parametrize("actions", [
    {"restructuring": {"plan": "holiday", "months": 5}},
    {"restructuring": {"plan": "rate_cut", "rate_cut_pct": 50}},
    {"collections": {"contact_pct": contact(100)}},
    {"originations": {"volume_pct": 5, "score_cutoff": 300,
                      "segment_mix_pct": {"prime": 50, "near_prime": 50, "subprime": 0}}},
], ids=["holiday_one_month_shorter", "rate_cut_50", "contact_everyone", "lowest_cutoff"])
def test_action_blocks_at_the_limits_validate(validate, actions):
    result, path = validate(actions)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{path}: ok")


def test_a_cutoff_that_declines_nearly_all_of_one_segment_is_refused(validate):
    result, path = validate({"originations": {"volume_pct": 5, "score_cutoff": 800}})
    assert_refused(result, path, "actions.originations.score_cutoff")
