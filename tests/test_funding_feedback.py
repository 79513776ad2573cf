"""The lender's cash feeding back into its lending (docs/funding.md): exact two-pass engine runs, the identities of
cash and balance sheet on every shipped scenario, failure, and the liquidity ratio against the buffer.

Engine checks run small books (``loans=``) over few paths; the identities are checked for every path and month of
every shipped scenario to 1e-9 of the month's scale (the opening book).
"""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator
from simulator.accounts.liquidity import funding_paths
from simulator.inputs.loader import load_scenario
from simulator.inputs.schema import FundingSpec, LiabilitySpec, StressSpec
from simulator.model.engine import layout as L
from simulator.model.engine.kernels import NEVER
from simulator.model.engine.simulate import simulate_segments
from simulator.model.portfolio import build_book, originations, with_new_lending
from simulator.workflows.results import simulate_with_funding

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.yaml") if "weighted_scenarios:" not in p.read_text())
"""Every shipped scenario (the scenario sets are weightings of these)."""
TOLERANCE = 1e-9


def with_funding(scenario, **update):
    return scenario.model_copy(update={"funding": scenario.funding.model_copy(update=update)})


def small(name, paths=6, loans=600):
    scenario = load_scenario(SCENARIOS / f"{name}.yaml").with_run(paths=paths, seed=11, chunk_paths=4)
    return scenario.with_loans(loans) if scenario.portfolio.source == "synthetic" else scenario


def lending_book(scenario):
    book = build_book(scenario, scenario.portfolio.seed)
    return with_new_lending(book, originations(scenario, book.n_loans, scenario.portfolio.seed))


@pytest.fixture(scope="module")
def severe_two_passes():
    scenario = small("severe", paths=8, loans=800)
    book = lending_book(scenario)
    first, central, _ = simulate_segments(scenario, book, 11)
    final, _, _, stops = simulate_with_funding(scenario, book, 11)
    return scenario, book, first, final, stops


def test_months_before_the_stop_are_the_first_pass_bits(severe_two_passes):
    scenario, _, first, final, stops = severe_two_passes
    assert np.isfinite(stops).any(), "the severe scenario stops lending on some path"
    for p, stop in enumerate(stops):
        if np.isnan(stop):
            assert np.array_equal(final[p], first[p])
            continue
        stop = int(stop)
        assert np.array_equal(final[p, :stop], first[p, :stop])
        book = final[p].sum(axis=1)                        # the book's aggregates of the path
        assert (book[stop:, L.NEW_LENDING] == 0.0).all() and (book[stop:, L.NEW_LOANS] == 0.0).all()
        assert book[stop, L.NEW_LENDING] == 0.0 < first[p].sum(axis=1)[stop, L.NEW_LENDING]


def test_stop_months_do_not_depend_on_blocks_or_threads(severe_two_passes):
    scenario, book, _, final, stops = severe_two_passes
    other, _, _, other_stops = simulate_with_funding(scenario.with_run(chunk_paths=3), book, 11, threads=1)
    assert np.array_equal(other, final)
    assert np.array_equal(other_stops, stops, equal_nan=True)


def test_never_is_no_stop(severe_two_passes):
    scenario, book, first, _, _ = severe_two_passes
    ids = np.array([5, 2], dtype=np.int64)
    again, _, _ = simulate_segments(scenario, book, 11, path_ids=ids, stop_months=np.full(2, NEVER))
    assert np.array_equal(again, first[ids])


def test_the_stop_found_in_the_first_pass_is_the_final_cash_stop(severe_two_passes):
    """Re-running the accounts on the final aggregates as if they were a first pass finds no earlier stop."""
    from simulator.accounts.metrics import lending_stop_months
    from simulator.model.macro import central_path
    scenario, _, _, final, stops = severe_two_passes
    central = central_path(scenario.macro, scenario.run.horizon_months)
    again = lending_stop_months(final, scenario, central)
    assert not (again < stops).any()


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request):
    return simulator.run(small(request.param, paths=4, loans=400))


def test_cash_identity(shipped):
    """opening cash + collections + new funding - repayments - new lending - interest - costs = closing cash."""
    s = shipped.series
    scale = s["book_balance"][:, :1]
    change = (s["collected_cash"] + s["prepaid"] + s["emergency_drawn"] - s["liability_repaid"] - s["abs_diverted"]
              - s["emergency_repaid"] - s["new_lending"] - s["funding_cost"] - s["operating_cost"]
              - s["action_cost"])
    closing = s["liquidity_buffer"][:, :1] + np.cumsum(change[:, 1:], axis=1)
    assert np.all(np.abs(closing - s["liquidity_buffer"][:, 1:]) <= TOLERANCE * scale)


def test_balance_sheet_identity(shipped):
    """loans net of provisions + cash = liabilities + equity in every month, and month 0 is the opening balance
    sheet of the scenario."""
    s, funding = shipped.series, shipped.scenario.funding
    scale = s["book_balance"][:, :1]
    assets = s["loans_net"] + s["liquidity_buffer"]
    claims = s["liabilities_outstanding"] + s["other_net_liabilities"] + s["capital"]
    assert np.all(np.abs(assets - claims) <= TOLERANCE * scale)
    opening = s["book_balance"][:, 0]
    amount = sum(liability.amount_pct for liability in funding.liabilities) / 100.0
    np.testing.assert_allclose(s["liquidity_buffer"][:, 0], funding.liquidity_buffer_pct / 100.0 * opening, rtol=1e-12)
    np.testing.assert_allclose(s["liabilities_outstanding"][:, 0], amount * opening, rtol=1e-12)
    np.testing.assert_allclose(s["capital"][:, 0], funding.capital.opening_capital_pct / 100.0 * opening,
                               rtol=1e-12)
    np.testing.assert_allclose(s["loans_net"][:, 0], opening - s["provision_requirement"][:, 0], rtol=1e-12)


def test_book_moves_by_its_flows(shipped):
    """The engine's book (stocks) against its flows: new lending + interest + penalty - collected - prepaid -
    charge-offs (the part of the balance-sheet identity the engine answers for)."""
    a = shipped.aggregates
    flows = (a[:, 1:, L.NEW_LENDING] + a[:, 1:, L.INTEREST_DUE:L.INTEREST_DUE + L.N_LIVE_STATES].sum(axis=2)
             + a[:, 1:, L.PENALTY] - a[:, 1:, L.COLLECTED] - a[:, 1:, L.PREPAID] - a[:, 1:, L.CHARGEOFF])
    book = shipped.series["book_balance"]
    assert np.all(np.abs(np.diff(book, axis=1) - flows) <= TOLERANCE * book[:, :1])


def test_a_negative_buffer_is_always_a_breached_ratio(shipped):
    s = shipped.series
    negative = s["liquidity_buffer"][:, 1:] < 0
    assert not (negative & (s["liquidity_ratio"][:, 1:] > 0)).any()
    assert shipped.headline["liquidity_ratio_breached"][negative.any(axis=1)].all()


def test_failure_is_a_negative_buffer_or_negative_capital(shipped):
    s, failure = shipped.series, shipped.headline["failure_month"]
    bad = (s["liquidity_buffer"] < 0) | (s["capital"] < 0)
    expected = np.where(bad[:, 1:].any(axis=1), bad[:, 1:].argmax(axis=1) + 1.0, np.nan)
    np.testing.assert_array_equal(failure, expected)


def test_severe_shows_no_negative_buffer_beside_an_unbreached_ratio():
    """The shipped severe scenario as shipped (its own book, 16 paths): whatever the buffer does, a path whose
    buffer goes negative in some month has its liquidity ratio breached, and a month with a negative buffer has a
    ratio of 0."""
    results = simulator.run(SCENARIOS / "severe.yaml", paths=16)
    s = results.series
    negative = s["liquidity_buffer"] < 0
    assert not (negative & (s["liquidity_ratio"] > 0)).any()
    assert results.headline["liquidity_ratio_breached"][negative[:, 1:].any(axis=1)].all()
    assert results.summary["funding_response"]["when_short"] == "stop_lending"
    assert results.summary["metrics"]["lending_stop_probability"]["mean"] > 0


# ------------------------------------------------------------------ properties of the cash overlay

def overlay(spec, inflows, new_lending, stop_month=None):
    n_paths, n_steps = inflows.shape
    zeros = np.zeros_like(inflows)
    return funding_paths(inflows, new_lending, np.full_like(inflows, 1000.0), zeros, zeros,
                         np.full(n_steps, 2.0), spec, 1000.0, stop_month)


def spec_with(spread_add, when_short="stop_lending", emergency=None):
    return FundingSpec(liquidity_buffer_pct=10.0, operating_cost_pct=3.0, when_short=when_short,
                       emergency_funding=emergency, liabilities=[LiabilitySpec(
                           name="line", type="bank_line", amount_pct=80.0, maturity_months=6, rollover_pct=90.0,
                           spread_pct=1.0, stress=StressSpec(from_month=2, spread_add_pct=spread_add))])


flows = st.lists(st.floats(0.0, 60.0), min_size=24, max_size=24)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows, flows, st.floats(0.0, 20.0), st.floats(0.0, 20.0),
       st.sampled_from(["stop_lending", "emergency_funding", "keep_lending"]))
def test_a_harsher_spread_stress_never_lengthens_survival(inflow, lending, spread, extra, when_short):
    inflows = np.array([[0.0] + inflow])
    new_lending = np.array([[0.0] + lending])
    emergency = {"spread_pct": 8.0, "limit_pct": 5.0} if when_short == "emergency_funding" else None
    mild = overlay(spec_with(spread, when_short, emergency), inflows, new_lending)
    harsh = overlay(spec_with(spread + extra, when_short, emergency), inflows, new_lending)
    assert (harsh["liquidity_buffer"] <= mild["liquidity_buffer"] + 1e-9).all()
    mild_months, harsh_months = mild["survival_horizon_months"], harsh["survival_horizon_months"]
    assert np.isnan(mild_months[0]) or harsh_months[0] <= mild_months[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows, flows, st.floats(0.0, 20.0))
def test_stopping_never_lowers_cash_up_to_the_stop(inflow, lending, spread):
    """Stopping lending at month ``t`` saves that month's lending and changes nothing before: the buffer with the
    stop is at least the buffer without it in every month up to the stop (later months may differ either way:
    a loan not written also pays nothing back; docs/funding.md)."""
    inflows = np.array([[0.0] + inflow])
    new_lending = np.array([[0.0] + lending])
    spec = spec_with(spread)
    keep = overlay(spec.model_copy(update={"when_short": "keep_lending"}), inflows, new_lending)
    first = overlay(spec, inflows, new_lending)
    stop = first["lending_stop_month"][0]
    if np.isnan(stop):
        np.testing.assert_array_equal(first["liquidity_buffer"], keep["liquidity_buffer"])
        return
    stopped_lending = new_lending.copy()
    stopped_lending[:, int(stop):] = 0.0
    final = overlay(spec, inflows, stopped_lending, first["lending_stop_month"])
    upto = int(stop) + 1
    assert (final["liquidity_buffer"][:, :upto] >= keep["liquidity_buffer"][:, :upto]).all()
    assert final["liquidity_buffer"][0, int(stop)] == pytest.approx(
        keep["liquidity_buffer"][0, int(stop)] + lending[int(stop) - 1], rel=1e-12, abs=1e-9)


def test_emergency_funding_is_drawn_to_the_floor_then_lending_stops():
    spec = FundingSpec(liquidity_buffer_pct=10.0, operating_cost_pct=0.0, when_short="emergency_funding",
                       minimum_buffer_pct=2.0, emergency_funding={"spread_pct": 12.0, "limit_pct": 5.0})
    n = 6
    inflows = np.zeros((1, n + 1))
    lending = np.zeros((1, n + 1))
    lending[0, 1:] = 40.0            # a book of 1000: 100 of cash, floor 20, limit 50
    out = overlay(spec, inflows, lending)
    # month 1: 60; month 2: 20; month 3: own cash -20 -> draws 40 (cost 0 this month) -> 20 at the floor
    # month 4: interest 40 x (2% + 12%) / 12 = 0.4667, own cash 20 - 40 - 0.4667 -> draws the 10 left: -10.4667
    assert out["liquidity_buffer"][0, :4].tolist() == pytest.approx([100.0, 60.0, 20.0, 20.0])
    assert out["emergency_drawn"][0, 3] == pytest.approx(40.0)
    assert out["emergency_outstanding"][0, 4] == pytest.approx(50.0)
    assert out["liquidity_buffer"][0, 4] == pytest.approx(20.0 - 40.0 - 40.0 * 0.14 / 12 + 10.0)
    assert out["survival_horizon_months"][0] == 3.0 and out["lending_stop_month"][0] == 4.0
    assert out["liquidity_failure_month"][0] == 4.0
    assert out["emergency_funding_cost"][0, 4] == pytest.approx(40.0 * 0.14 / 12)
