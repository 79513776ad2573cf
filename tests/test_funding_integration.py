"""Funding, liquidity, profit and capital end to end through ``simulator.run``.

Small runs of the shipped scenarios; every check is an identity or a rule that
must hold path by path and month by month, recomputed here from the engine's
aggregates and the scenario's funding block (float tolerance only):

* the severe scenario's ABS trigger is hit, from the month after 90+ DPD first
  exceeds the trigger, and from then on the pool's share of collections goes to
  the noteholders until they are repaid (the note balance is rebuilt here);
* with no liabilities, no operating cost and no opening buffer, the buffer is
  the cumulative net cash from borrowers;
* lending on, the survival horizon is the first month with a negative buffer;
* stopping lending, it is the month lending stops, the month lending on would have run out;
* ``summary.json`` carries every headline metric and the provisioning block;
* pre-tax profit and capital follow their identities.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.model.engine import layout as L
from simulator.accounts.ifrs9 import stage_of_states
from simulator.accounts.metrics import HEADLINE_METRICS
from simulator.inputs.loader import load_scenario
from simulator.inputs.schema import FundingSpec

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
RTOL = 1e-10


def small(name, loans=3000, paths=20, horizon=24):
    return load_scenario(SCENARIOS / f"{name}.yaml").with_loans(loans).with_run(paths=paths,
                                                                               horizon_months=horizon)


@pytest.fixture(scope="module")
def runs():
    return {name: simulator.run(small(name)) for name in ("baseline", "severe")}


def money_close(actual, expected, scale):
    """Equal up to float round-off relative to ``scale`` (the size of the book)."""
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * float(np.max(scale)))


# ------------------------------------------------------------------- ABS trigger
def test_severe_abs_trigger_diverts_collections_from_the_month_it_is_hit(runs):
    """Rebuild each path's ABS notes from the scenario and check the diversion month by month.

    Before the trigger: ``L_t = L_t-1 - (1 - rho_t) L_t-1 / M`` (the severe stress stops
    rolling from ``stress.from_month``). The trigger is hit in month ``k``, the first with
    90+ DPD at the end of ``k - 1`` above ``trigger_pct``; from then on nothing is rolled and
    ``diverted_t = min(pi x inflows_t, L_t-1 (1 - 1/M))``, ``pi = min(1, amount x overcollateral)``.
    """
    results = runs["severe"]
    series = results.series
    (abs_spec,) = [liab for liab in results.scenario.funding.liabilities if liab.type == "abs"]
    opening = series["book_balance"][:, 0]
    inflows = series["collected_cash"] + series["prepaid"]
    hit = series["abs_trigger_hit"]
    diverted = series["abs_diverted"]
    n_steps = hit.shape[1]
    share = min(1.0, abs_spec.amount_pct / 100 * abs_spec.overcollateral_pct / 100)
    assert hit.max(axis=1).mean() > 0.5, "the severe scenario should hit the ABS trigger on most paths"

    for p in range(hit.shape[0]):
        above = series["overdue_rate_90p"][p, :-1] > abs_spec.trigger_pct / 100
        first = int(np.argmax(above)) + 1 if above.any() else None
        expected_hit = np.zeros(n_steps)
        if first is not None:
            expected_hit[first:] = 1.0
        assert np.array_equal(hit[p], expected_hit), p

        notes = abs_spec.amount_pct / 100 * opening[p]
        expected = np.zeros(n_steps)
        for t in range(1, n_steps):
            stressed = abs_spec.stress is not None and t >= abs_spec.stress.from_month
            rollover = abs_spec.rollover_pct if not stressed or abs_spec.stress.rollover_pct is None \
                else abs_spec.stress.rollover_pct
            rollover = 0.0 if expected_hit[t] else rollover / 100
            remaining = notes - (1 - rollover) * notes / abs_spec.maturity_months
            if expected_hit[t]:
                expected[t] = min(max(share * inflows[p, t], 0.0), remaining)
            notes = remaining - expected[t]
        money_close(diverted[p], expected, opening[p])

        if first is not None:
            assert np.all(diverted[p, :first] == 0.0), p
            assert diverted[p, first] > 0.0, (p, first)
            # diverted every month from then on until the notes are repaid, then never again
            positive = diverted[p, first:] > 0.0
            stop = int(np.argmin(positive)) if not positive.all() else len(positive)
            assert positive[:stop].all() and not positive[stop:].any(), (p, diverted[p])
        else:
            assert np.all(diverted[p] == 0.0), p


# --------------------------------------------------------------- buffer identity
def test_buffer_is_cumulative_net_cash_without_liabilities_or_costs():
    scenario = small("baseline", loans=1500, paths=8, horizon=18)
    scenario = scenario.model_copy(update={"funding": FundingSpec(
        liquidity_buffer_pct=0.0, operating_cost_pct=0.0, liabilities=[], capital=scenario.funding.capital)})
    results = simulator.run(scenario)
    agg = results.aggregates
    net = agg[:, :, L.COLLECTED] + agg[:, :, L.RECOVERY] + agg[:, :, L.PREPAID] - agg[:, :, L.NEW_LENDING]
    series = results.series
    scale = series["book_balance"][:, :1]
    money_close(series["liquidity_buffer"], np.cumsum(net, axis=1), scale)
    money_close(series["liquidity_buffer"],
                np.cumsum(series["collected_cash"] + series["prepaid"] - series["new_lending"], axis=1), scale)
    assert np.all(series["liquidity_buffer"][:, 0] == 0.0)
    for name in ("funding_cost", "operating_cost", "liabilities_outstanding", "abs_diverted", "abs_trigger_hit"):
        assert np.all(series[name] == 0.0), name


# ------------------------------------------------------------- survival horizon
def keep_lending(scenario):
    return scenario.model_copy(update={"funding": scenario.funding.model_copy(update={"when_short": "keep_lending"})})


def test_survival_horizon_is_the_first_month_with_a_negative_buffer_when_lending_goes_on():
    outcomes = []
    for name in ("baseline", "severe"):
        results = simulator.run(keep_lending(small(name)))
        buffer = results.series["liquidity_buffer"]
        n_months = buffer.shape[1] - 1
        for p in range(buffer.shape[0]):
            negative = [t for t in range(1, n_months + 1) if buffer[p, t] < 0]
            if negative:
                assert results.headline["survival_horizon_months"][p] == negative[0], (name, p)
            else:  # not a month: the path survives the horizon (a conditional metric, not averaged with months)
                assert np.isnan(results.headline["survival_horizon_months"][p]), (name, p)
            assert results.headline["liquidity_breached"][p] == float(bool(negative)), (name, p)
            outcomes.append(bool(negative))
    assert any(outcomes) and not all(outcomes), "the runs should include paths that survive and paths that do not"


def test_lending_stops_in_the_month_the_cash_would_run_out(runs):
    """Under ``stop_lending`` the survival horizon is the stop month: lending (which the constant balance sheet
    keeps up every month) is zero from it on, the buffer is not negative before it, and lending on would have
    taken the buffer below zero in that very month."""
    stopped = 0
    for name, results in runs.items():
        lent_on = simulator.run(keep_lending(small(name)))
        stop, survival = results.headline["lending_stop_month"], results.headline["survival_horizon_months"]
        np.testing.assert_array_equal(stop, survival)
        for p in np.flatnonzero(~np.isnan(stop)):
            t = int(stop[p])
            assert (results.series["new_lending"][p, t:] == 0).all() and results.series["new_lending"][p, t - 1] > 0
            assert (results.series["liquidity_buffer"][p, :t] >= 0).all()
            assert lent_on.series["liquidity_buffer"][p, t] < 0 <= lent_on.series["liquidity_buffer"][p, :t].min()
            stopped += 1
    assert stopped, "severe stops lending on some path"


# ------------------------------------------------------------------ summary.json
def test_summary_json_has_every_headline_metric_and_the_provisioning_block(runs, tmp_path):
    results = runs["severe"]
    directory = results.save(tmp_path / "severe", plots=False)
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    missing = [name for name in HEADLINE_METRICS if name not in summary["metrics"]]
    assert not missing, missing
    for name in HEADLINE_METRICS:
        values = results.headline[name]
        if np.isnan(values).all():  # a month no path reaches (e.g. no path fails): null, not a number
            assert summary["metrics"][name]["mean"] is None and summary["metrics"][name]["paths"] == 0, name
            continue
        assert summary["metrics"][name]["mean"] == pytest.approx(np.nanmean(values), rel=1e-12, abs=1e-12), name
    block = summary["provisioning"]
    assert block["binding_rule_at_peak"] in ("ifrs9", "five_category")
    assert (block["binding_rule_at_peak"] == "ifrs9") == (block["ifrs9_binds_at_peak_share"] >= 0.5)
    binds = results.series["ifrs9_binds"][:, 1:]
    assert block["ifrs9_binding_share"] == pytest.approx(binds.mean(), rel=1e-12)
    assert block["ifrs9_binding_share"] == pytest.approx(summary["metrics"]["ifrs9_binding_share"]["mean"],
                                                         rel=1e-12)


# ------------------------------------------------------------- profit and capital
@pytest.mark.parametrize("name", ["baseline", "severe"])
def test_profit_and_capital_identities(runs, name):
    results = runs[name]
    s = results.series
    capital_spec = results.scenario.funding.capital
    scale = s["book_balance"][:, :1]
    profit = (s["interest_income"] - s["funding_cost"] - s["operating_cost"] - s["action_cost"]
              - s["provision_charge"])
    profit[:, 0] = 0.0
    money_close(s["pre_tax_profit"], profit, scale)
    assert np.all(s["pre_tax_profit"][:, 0] == 0.0)
    capital_0 = capital_spec.opening_capital_pct / 100 * s["book_balance"][:, :1]
    money_close(s["capital"], capital_0 + np.cumsum(s["pre_tax_profit"], axis=1), scale)
    money_close(s["cumulative_profit"], np.cumsum(s["pre_tax_profit"], axis=1), scale)
    np.testing.assert_allclose(s["capital_ratio"], s["capital"] / (capital_spec.risk_weight_pct / 100
                                                                   * s["book_balance"]), rtol=1e-12)
    assert np.array_equal(s["capital_breach"],
                          (s["capital_ratio"] < capital_spec.capital_ratio_floor_pct / 100).astype(float))
    assert np.allclose(results.headline["cumulative_profit"], s["cumulative_profit"][:, -1], rtol=1e-12)


@pytest.mark.parametrize("name", ["baseline", "severe"])
def test_interest_income_recognises_stage3_interest_net_of_last_months_coverage(runs, name):
    """income_t = sum_{Stage 1-2 states} I_d,t + sum_{Stage 3 states} I_d,t (1 - ECL3_t-1 / balance3_t-1)."""
    results = runs[name]
    s = results.series
    interest = results.aggregates[:, :, L.INTEREST_DUE:L.INTEREST_DUE + L.N_LIVE_STATES]
    stage3 = stage_of_states(results.scenario.provisioning.ifrs9) == 3
    with np.errstate(invalid="ignore", divide="ignore"):  # no Stage 3 loan left (a book that ran off): no haircut
        coverage = np.where(s["balance_stage_3"] > 0, np.clip(s["ecl_stage_3"] / s["balance_stage_3"], 0.0, 1.0), 0.0)
    expected = interest[:, :, ~stage3].sum(axis=2)
    expected[:, 1:] += interest[:, 1:, stage3].sum(axis=2) * (1.0 - coverage[:, :-1])
    expected[:, 0] = 0.0
    money_close(s["interest_income"], expected, s["book_balance"][:, :1])
    assert np.all(s["interest_income"][:, 1:] > 0.0)
