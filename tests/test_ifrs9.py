"""IFRS 9 ECL against closed forms, an independent Markov-chain calculation and realised losses.

The ECL of :mod:`simulator.accounts.ifrs9` is estimated from the charge-offs the simulated
book goes on to realise. Here it is checked against

* the closed form for a constant monthly hazard h (IFRS 9 textbook case):
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
from simulator.inputs.scenario import Ifrs9Spec, load_scenario, scenario_from_dict
from tests.test_roll_rate_closed_forms import MATRIX, flat_book

K_SE = 5.0


def roll_rate_runoff(matrix, horizon, paths, recovery_pct=10.0, recovery_months=0, lifetime=24):
    return scenario_from_dict({
        "run": {"horizon_months": horizon, "paths": paths, "seed": 1, "balance_sheet": "runoff"},
        "portfolio": {"n_loans": 10, "segments": [{
            "name": "all", "share_pct": 100, "principal": {"median": 1000}, "apr_pct": {"min": 20, "max": 20},
            "term_months": [36], "income": {"median": 5000}}]},
        "macro": {"cycle": {"volatility": 0.0}},
        "behaviour": {"model": "roll_rate", "penalty_rate_uplift_pct": 50,
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


# ----------------------------------------------------------------------------- Markov chain reference
def chain_expected_loss(matrix, state, term, r, penalty, chargeoff_state, window):
    """Exact expected discounted charge-off of a roll-rate loan, per unit of today's exposure.

    The chain's state probabilities ``pi_k(j)`` and the expected arrears in each state
    ``alpha_k(j) = E[A_k; state j]`` are propagated together: arrears move linearly
    with each transition (cure: 0; stay: ``(1 + rp) A``; partial cure to j' < j:
    ``(1 + rp) A j'/j``; worse: ``(1 + rp) A + I_k``), and a charge-off in month k writes
    off ``B_{k-1} (1 + r) + (1 + rp) A``, with ``B`` the schedule's principal, which
    advances whatever the borrower does. Written from the kernel's documented rules,
    without its code.
    """
    p = np.asarray(matrix) / 100.0
    payment = r / (1 - (1 + r) ** -term)
    principal = 1.0
    pi = np.zeros(7)
    alpha = np.zeros(7)
    pi[state] = 1.0
    alpha[state] = state * payment
    today = 1.0 + alpha[state]
    loss = 0.0
    for k in range(1, window + 1):
        interest = principal * r
        part = payment - interest
        due = interest + part
        grown = (1 + penalty) * alpha
        default = p[:, 7].copy()
        default[chargeoff_state] += p[chargeoff_state, chargeoff_state + 1:7].sum()
        loss += (1 + r) ** -k * np.sum(default * (pi * principal * (1 + r) + grown))
        new_pi, new_alpha = np.zeros(7), np.zeros(7)
        for j in range(7):
            for target in range(7):
                if p[j, target] == 0 or (j == chargeoff_state and target > j):
                    continue
                new_pi[target] += p[j, target] * pi[j]
                if target == 0:
                    continue
                if target == j:
                    new_alpha[target] += p[j, target] * grown[j]
                elif target < j:
                    new_alpha[target] += p[j, target] * grown[j] * target / j
                else:
                    new_alpha[target] += p[j, target] * (grown[j] + due * pi[j])
        pi, alpha = new_pi, new_alpha
        principal -= part
    return loss / today


@pytest.mark.parametrize("state", [0, 2])
def test_simulated_ecl_matches_markov_chain_in_roll_rate_model(state):
    """Roll-rate mode is a Markov chain, so the chain's exact expected loss is the truth to find."""
    matrix = [[94.0, 5.0, 0, 0, 0, 0, 0, 0, 1.0],
              [60.0, 10.0, 30.0, 0, 0, 0, 0, 0, 0],
              [20.0, 5.0, 15.0, 60.0, 0, 0, 0, 0, 0],
              [5.0, 0, 5.0, 15.0, 75.0, 0, 0, 0, 0],
              [3.0, 0, 0, 2.0, 10.0, 85.0, 0, 0, 0],
              [2.0, 0, 0, 0, 3.0, 5.0, 90.0, 0, 0],
              [1.0, 0, 0, 0, 0, 2.0, 4.0, 93.0, 0]]
    r, penalty, lgd, paths, term = 0.20 / 12, 0.20 / 12 * 1.5, 0.9, 200, 60
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
    # realised: charge-offs of the next 12 months, each discounted to month 0 at its loan's rate
    per_path = lgd * realised[:, 0, L.FORWARD_LOSS_12M]
    per_path_estimate = lgd * estimate[:, 0, L.FORWARD_LOSS_12M]
    se = np.sqrt(per_path.var(ddof=1) / len(per_path) + per_path_estimate.var(ddof=1) / len(per_path_estimate))
    assert abs(ecl_0 - per_path.mean()) <= K_SE * se, (ecl_0, per_path.mean(), se)
    # run-off with a Stage 1 book: every loan charged off in months 1..12 was live and current at month 0
    forward_defaults = realised[:, 0, L.FORWARD_DEFAULT_12M:L.FORWARD_DEFAULT_12M + L.N_LIVE_STATES].sum(axis=1)
    np.testing.assert_array_equal(forward_defaults, realised[:, 1:13, L.CHARGEOFF_COUNT].sum(axis=1))


# ----------------------------------------------------------------------------- staging
@pytest.mark.parametrize("stage2, stage3, expected", [
    (30, 90, [1, 1, 2, 2, 3, 3, 3]),
    (0, 60, [1, 2, 2, 3, 3, 3, 3]),
    (60, 150, [1, 1, 1, 2, 2, 2, 3]),
])
def test_stages_follow_thresholds_at_their_boundaries(stage2, stage3, expected):
    # state k holds (30(k-1), 30k] DPD: "after 30 days" starts at 31 DPD, i.e. state 2
    stage = ifrs9.stage_of_states(Ifrs9Spec(stage2_after_dpd=stage2, stage3_after_dpd=stage3))
    assert stage.tolist() == expected


def test_loss_given_default_discounts_recoveries():
    assert ifrs9.loss_given_default(0.1, 0, 0.01) == pytest.approx(0.9)
    expected = 1 - 0.1 * np.mean(1.01 ** -np.arange(1, 13))
    assert ifrs9.loss_given_default(0.1, 12, 0.01) == pytest.approx(expected)
