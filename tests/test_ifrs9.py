"""IFRS 9 ECL against closed forms, an independent Markov-chain calculation and realised losses.

The ECL of :mod:`simulator.accounts.ifrs9` is estimated from the defaults (90 DPD by
default) the simulated book goes on to have and what each goes on to lose. Here it
is checked against

* the closed form of a book whose loans, after a first miss, roll to charge-off
  without fail: the default event (91 DPD) comes 3 months after the first miss and
  the charge-off 3 months later, so the 12-month window holds first misses up to 9
  months ahead (it held only 6 when charge-off was the event);
* the closed form for a constant monthly hazard h (IFRS 9 textbook case) of direct
  charge-offs, where default and charge-off coincide:
  ``ECL_12m = sum_{t=1..12} (1-h)^(t-1) h LGD EAD_t / (1 + r)^t`` with constant EAD, and
  its lifetime analogue with an amortising EAD;
* a Markov-chain ECL computed here from the roll-rate matrix itself (chain powers,
  the schedule's exposure at default), which is exact for the roll-rate model;
* in the structural model, out of sample: rates estimated on one set of paths
  predict the discounted losses realised on independent paths.

Tolerances are k standard errors computed from the per-path spread.
"""
import dataclasses

import numpy as np
import pytest

from simulator.accounts import ifrs9
from simulator.model.engine import layout as L
from simulator.model.engine.simulate import settle_borrowers, simulate_paths
from simulator.model.portfolio import LoanBook, build_book
from simulator.inputs.loader import load_scenario, scenario_from_dict
from simulator.inputs.schema import Ifrs9Spec
from simulator.workflows.validation import ROLL_THROUGH, ROLL_THROUGH_MISS_PCT, roll_through_expected_loss
from tests.test_roll_rate_closed_forms import MATRIX, flat_book

K_SE = 5.0


def roll_rate_runoff(matrix, horizon, paths, recovery_pct=10.0, recovery_months=0, lifetime=24, penalty_pct=50):
    return scenario_from_dict({
        "run": {"horizon_months": horizon, "paths": paths, "seed": 1, "balance_sheet": "runoff"},
        "portfolio": {"n_loans": 10, "segments": [{
            "name": "book", "share_pct": 100, "principal": {"median": 1000}, "apr_pct": {"min": 20, "max": 20},
            "term_months": [36], "income": {"median": 5000}}]},
        "macro": {"cycle": {"volatility": 0.0}},
        "behaviour": {"model": "roll_rate", "penalty_rate_uplift_pct": penalty_pct,
                      "recovery": {"rate_pct": recovery_pct, "months": recovery_months},
                      "roll_rate": {"asset_correlation_pct": 10, "matrices": {"default": matrix}}},
        "provisioning": {"ifrs9": {"lifetime_months": lifetime}},
    })


def with_amortisation(book, code):
    return dataclasses.replace(book, amortisation=np.full(book.n_loans, code, dtype=np.int8))


def per_path_rate(aggregates, window, state):
    """Per-path forward discounted charge-offs per unit of opening balance in ``state``."""
    start = L.FORWARD_LOSS_12M if window == "12m" else L.FORWARD_LOSS_LIFE
    return aggregates[:, 0, start + state] / aggregates[:, 0, L.BALANCE + state]


def hazard_matrix(h_pct):
    return [[100 - h_pct, 0, 0, 0, 0, 0, 0, h_pct, 0]] + MATRIX[1:]


@pytest.mark.parametrize("h_pct", [0.8, 3.0])
def test_twelve_month_ecl_matches_constant_hazard_closed_form(h_pct):
    h, r, lgd, paths = h_pct / 100, 0.20 / 12, 0.9, 400
    scenario = roll_rate_runoff(hazard_matrix(h_pct), horizon=1, paths=paths)
    book = with_amortisation(flat_book(np.zeros(2000, int), term=60), 2)  # interest first: EAD = B (1 + r)
    aggregates, *_ = simulate_paths(scenario, book, 7)
    t = np.arange(1, 13)
    closed_form = np.sum((1 - h) ** (t - 1) * h * lgd * (1 + r) / (1 + r) ** t)
    simulated = lgd * per_path_rate(aggregates, "12m", 0)
    se = simulated.std(ddof=1) / np.sqrt(paths)
    assert abs(simulated.mean() - closed_form) <= K_SE * se, (simulated.mean(), closed_form, se)
    # and the module's pooled rate is that same estimate
    rates, _ = ifrs9.ecl_rates(aggregates, scenario)
    assert rates[0, 0] == pytest.approx(simulated.mean(), rel=1e-12)


def test_lifetime_ecl_matches_closed_form_with_amortising_ead():
    h, r, lgd, n, paths = 0.02, 0.20 / 12, 0.9, 12, 400
    scenario = roll_rate_runoff(hazard_matrix(100 * h), horizon=1, paths=paths)
    book = flat_book(np.zeros(2000, int), term=n)  # equal instalments
    aggregates, *_ = simulate_paths(scenario, book, 9)
    t = np.arange(1, n + 1)
    balance_before = ((1 + r) ** n - (1 + r) ** (t - 1)) / ((1 + r) ** n - 1)   # B_{t-1} / B_0
    closed_form = np.sum((1 - h) ** (t - 1) * h * lgd * balance_before * (1 + r) / (1 + r) ** t)
    simulated = lgd * per_path_rate(aggregates, "lifetime", 0)
    se = simulated.std(ddof=1) / np.sqrt(paths)
    assert abs(simulated.mean() - closed_form) <= K_SE * se, (simulated.mean(), closed_form, se)


# ----------------------------------------------------------------------------- default at 90 DPD, closed form
def test_default_at_90_dpd_matches_the_roll_through_closed_form():
    q, r, paths = ROLL_THROUGH_MISS_PCT / 100, 0.20 / 12, 200
    scenario = roll_rate_runoff(ROLL_THROUGH, horizon=1, paths=paths, recovery_pct=0.0, penalty_pct=0, lifetime=24)
    book = with_amortisation(flat_book(np.zeros(2000, int), term=600), 2)  # interest only: B stays, no maturity
    aggregates, *_ = simulate_paths(scenario, book, 13)
    for window, column in ((12, "12m"), (24, "lifetime")):
        expected = roll_through_expected_loss(q, r, window, months_to_event=3)
        simulated = per_path_rate(aggregates, column, 0)
        se = simulated.std(ddof=1) / np.sqrt(paths)
        assert abs(simulated.mean() - expected) <= K_SE * se, (window, simulated.mean(), expected, se)
    pd = ifrs9.pd_term_structure(aggregates)
    n = aggregates[:, 0, L.COUNT].sum()
    pd_12m = 1 - (1 - q) ** 9
    assert abs(pd["12m"][0, 0] - pd_12m) <= K_SE * np.sqrt(pd_12m * (1 - pd_12m) / n)
    # every default is charged off (no cures) and loses its whole balance at default, B (1 + r)^4, in present value
    np.testing.assert_allclose(ifrs9.lgd_rates(aggregates, scenario)[0, 0], 1.0, rtol=1e-12)
    assert ifrs9.cure_rates(aggregates)[0, 0] == 0.0
    # the old definition (charge-off within 12 months) would have been this much lower
    old = roll_through_expected_loss(q, r, 12, months_to_event=6)
    assert 0.25 < 1 - old / roll_through_expected_loss(q, r, 12, months_to_event=3) < 0.35


# ----------------------------------------------------------------------------- Markov chain reference
def chain_expected_loss(matrix, state, term, r, penalty, chargeoff_state, window, default_state=4, tail=120):
    """Exact expected discounted loss from the default events within ``window`` months of a roll-rate loan, per
    unit of today's exposure.

    The chain's state probabilities ``pi_k(j, f)`` and the expected arrears in each
    state ``alpha_k(j, f) = E[A_k; state j, flag f]`` are propagated together, with a
    flag for the loan's default: ``f = 0`` not in default, ``1`` in a default whose
    event (first month at ``default_state`` or beyond, or a charge-off) fell within
    the window, ``2`` in one that fell after it. Arrears move linearly with each
    transition (cure: 0; stay: ``(1 + rp) A``; partial cure to j' < j:
    ``(1 + rp) A j'/j``; worse: ``(1 + rp) A + I_k``); a cure to current ends the
    default (``f = 0``); a charge-off in month k writes off ``B_{k-1} (1 + r) + (1 + rp) A``
    (``B`` the schedule's principal, which advances whatever the borrower does), and
    counts if its default counts (flag 1, or flag 0 with ``k <= window``), however
    late it comes (``window + tail`` months are followed). Written from the IFRS 9
    rules in ``simulator/accounts/ifrs9.py``, without the kernel's code.
    """
    p = np.asarray(matrix) / 100.0
    payment = r / (1 - (1 + r) ** -term)
    principal = 1.0
    pi = np.zeros((7, 3))
    alpha = np.zeros((7, 3))
    flag = 1 if state >= default_state else 0
    pi[state, flag] = 1.0
    alpha[state, flag] = state * payment
    today = 1.0 + alpha[state, flag]
    charge_off = p[:, 7].copy()
    charge_off[chargeoff_state] += p[chargeoff_state, chargeoff_state + 1:7].sum()
    loss = 0.0
    for k in range(1, window + tail + 1):
        interest = principal * r
        part = payment - interest
        due = interest + part
        grown = (1 + penalty) * alpha
        written_off = charge_off[:, None] * (pi * principal * (1 + r) + grown)
        counted = written_off[:, 1].sum() + (written_off[:, 0].sum() if k <= window else 0.0)
        loss += (1 + r) ** -k * counted
        new_pi, new_alpha = np.zeros((7, 3)), np.zeros((7, 3))
        for j in range(7):
            for target in range(7):
                if p[j, target] == 0 or (j == chargeoff_state and target > j):
                    continue
                for f in range(3):
                    if target == 0:
                        g = 0
                    elif f == 0 and target >= default_state:
                        g = 1 if k <= window else 2
                    else:
                        g = f
                    new_pi[target, g] += p[j, target] * pi[j, f]
                    if target == 0:
                        continue
                    if target == j:
                        new_alpha[target, g] += p[j, target] * grown[j, f]
                    elif target < j:
                        new_alpha[target, g] += p[j, target] * grown[j, f] * target / j
                    else:
                        new_alpha[target, g] += p[j, target] * (grown[j, f] + due * pi[j, f])
        pi, alpha = new_pi, new_alpha
        principal -= part
    return loss / today


@pytest.mark.parametrize("state", [0, 2, 5])
def test_simulated_ecl_matches_markov_chain_in_roll_rate_model(state):
    """Roll-rate mode is a Markov chain, so the chain's exact expected loss is the truth to find."""
    matrix = [[94.0, 5.0, 0, 0, 0, 0, 0, 0, 1.0],
              [60.0, 10.0, 30.0, 0, 0, 0, 0, 0, 0],
              [20.0, 5.0, 15.0, 60.0, 0, 0, 0, 0, 0],
              [5.0, 0, 5.0, 15.0, 75.0, 0, 0, 0, 0],
              [3.0, 0, 0, 2.0, 10.0, 85.0, 0, 0, 0],
              [2.0, 0, 0, 0, 3.0, 5.0, 90.0, 0, 0],
              [1.0, 0, 0, 0, 0, 2.0, 4.0, 93.0, 0]]
    r, penalty, lgd, paths, term = 0.20 / 12, 0.20 / 12 * 1.5, 0.9, 200, 300
    scenario = roll_rate_runoff(matrix, horizon=1, paths=paths, lifetime=24)
    book = flat_book(np.full(3000, state), term=term)
    book = dataclasses.replace(book, arrears=state * np.full(book.n_loans, r / (1 - (1 + r) ** -term) * 1000.0))
    aggregates, *_ = simulate_paths(scenario, book, 11)
    window = 12 if state == 0 else 24
    chain = lgd * chain_expected_loss(matrix, state, term, r, penalty, 6, window)
    simulated = lgd * per_path_rate(aggregates, "12m" if state == 0 else "lifetime", state)
    se = simulated.std(ddof=1) / np.sqrt(paths)
    assert abs(simulated.mean() - chain) <= K_SE * se, (simulated.mean(), chain, se)


# ----------------------------------------------------------------------------- structural back-test
def test_structural_ecl_predicts_losses_on_independent_paths():
    """Stationary baseline (no shocks, no cycle), Stage 1 book, run-off: ECL from paths A vs losses on paths B."""
    scenario = load_scenario("scenarios/baseline.yaml").with_loans(6000)
    calm = scenario.macro.model_copy(update={"cycle": scenario.macro.cycle.model_copy(update={"volatility": 0.0})})
    scenario = scenario.model_copy(update={"macro": calm}).with_run(paths=60, horizon_months=12,
                                                                    balance_sheet="runoff")
    book = settle_borrowers(scenario, build_book(scenario, 5), 5)
    current = book.dpd_state == 0
    book = LoanBook(**{f.name: getattr(book, f.name)[current] for f in dataclasses.fields(book)
                       if f.name != "segment_names"}, segment_names=book.segment_names)
    estimate, *_ = simulate_paths(scenario, book, 101)
    realised, *_ = simulate_paths(scenario, book, 202)
    ecl_0 = ifrs9.ecl_by_stage(estimate, scenario)[0, 0, 0]   # all paths share month 0's book
    lgd = ifrs9.loss_given_default(0.094, 12, ifrs9.book_monthly_rate(estimate))
    # realised: the losses of the defaults of the next 12 months, each discounted to month 0 at its loan's rate
    per_path = lgd * realised[:, 0, L.FORWARD_LOSS_12M]
    per_path_estimate = lgd * estimate[:, 0, L.FORWARD_LOSS_12M]
    se = np.sqrt(per_path.var(ddof=1) / len(per_path) + per_path_estimate.var(ddof=1) / len(per_path_estimate))
    assert abs(ecl_0 - per_path.mean()) <= K_SE * se, (ecl_0, per_path.mean(), se)
    # run-off with a Stage 1 book: every default of months 1..12 (a move from 61-90 into 91-120 DPD; delinquency
    # grows one bucket a month) was of a loan live and current at month 0, and each resolves within the engine's run
    forward_defaults = realised[:, 0, L.FORWARD_DEFAULT_12M:L.FORWARD_DEFAULT_12M + L.N_LIVE_STATES].sum(axis=1)
    into_default = realised[:, 1:13, L.TRANSITION + L.N_OUTCOMES * 3 + 4].sum(axis=1)
    np.testing.assert_array_equal(forward_defaults, into_default)


# ----------------------------------------------------------------------------- staging
@pytest.mark.parametrize("stage2, stage3, expected", [
    (30, 90, [1, 1, 2, 2, 3, 3, 3]),
    (0, 60, [1, 2, 2, 3, 3, 3, 3]),
    (60, 150, [1, 1, 1, 2, 2, 2, 3]),
])
def test_stages_follow_thresholds_at_their_boundaries(stage2, stage3, expected):
    # state k holds (30(k-1), 30k] DPD: "after 30 days" starts at 31 DPD, i.e. state 2; Stage 3 may come no
    # later than default (IFRS 9 Appendix A), so the default definition moves with it
    spec = Ifrs9Spec(stage2_after_dpd=stage2, stage3_after_dpd=stage3, default_after_dpd=max(stage3, 90))
    stage = ifrs9.stage_of_states(spec)
    assert stage.tolist() == expected


def test_loss_given_default_discounts_recoveries():
    assert ifrs9.loss_given_default(0.1, 0, 0.01) == pytest.approx(0.9)
    expected = 1 - 0.1 * np.mean(1.01 ** -np.arange(1, 13))
    assert ifrs9.loss_given_default(0.1, 12, 0.01) == pytest.approx(expected)


@pytest.mark.parametrize("default_after, stage3, expected", [
    (90, None, [1, 1, 2, 2, 3, 3, 3]),   # Stage 3 follows the default definition
    (60, None, [1, 1, 2, 3, 3, 3, 3]),
    (90, 60, [1, 1, 2, 3, 3, 3, 3]),     # an earlier NPL trigger
])
def test_stage_3_follows_the_default_definition_unless_set(default_after, stage3, expected):
    spec = Ifrs9Spec(default_after_dpd=default_after, stage3_after_dpd=stage3)
    assert ifrs9.stage_of_states(spec).tolist() == expected
