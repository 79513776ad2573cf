"""Roll-rate model against closed forms nobody here wrote.

* With a deterministic cycle it is a Markov chain: state shares after t months are
  ``pi_0 P^t`` and cumulative charge-offs are the absorption probabilities.
* With a one-factor cycle, the one-period default rate across paths follows the
  Vasicek (1987, 2002) distribution, mixed with the binomial noise of a finite book:
  ``P(D <= d) = E_Z[Binom(n d; n, p(Z))]``, ``p(Z) = Phi((Phi^-1(PD) + sqrt(rho) Z) / sqrt(1 - rho))``.

The references and comparisons are the ones ``simulate validate-model`` reports
(:mod:`simulator.workflows.validation`); here they run at other seeds and sizes, and
the references are themselves checked against a second calculation. Tolerances are
k standard errors computed from the binomial / sampling variance.
"""
import numpy as np
import pytest
from scipy import stats

from simulator.model.engine import layout as L
from simulator.model.engine.simulate import simulate_paths
from simulator.workflows.validation import MARKOV_MATRIX as MATRIX
from simulator.workflows.validation import (OPENING_MIX, flat_book, full_chain, markov_reference, markov_results,
                                            markov_shares, roll_rate_scenario, vasicek_mixture_cdf,
                                            vasicek_quantile, vasicek_reference, vasicek_results, vasicek_variance)

K_SE = 5.0
"""Tolerance in standard errors: a false alarm about 1 in 1.7 million per check."""


def test_markov_reference_is_the_matrix_powers():
    start = np.repeat(np.arange(7), [30, 5, 4, 3, 3, 3, 2])
    expected, variance = markov_reference(MATRIX, start, 12)
    pi0 = np.bincount(start, minlength=9) / len(start)
    for t in (0, 1, 5, 12):
        power = np.linalg.matrix_power(full_chain(MATRIX), t)
        np.testing.assert_allclose(expected[t], (pi0 @ power)[:8], atol=1e-15)
        rows = power[start][:, :8]
        np.testing.assert_allclose(variance[t], np.mean(rows * (1 - rows), axis=0), atol=1e-15)


@pytest.mark.parametrize("seed", [3, 11])
def test_deterministic_cycle_reproduces_markov_chain_powers(seed):
    horizon, paths = 9, 40
    rng = np.random.default_rng(seed)
    start = rng.choice(7, size=2500, p=OPENING_MIX)
    scenario = roll_rate_scenario(MATRIX, horizon, paths, volatility=0.0, persistence=0.5, rho_pct=20)
    aggregates, *_ = simulate_paths(scenario, flat_book(start), seed)
    expected, variance = markov_reference(MATRIX, start, horizon)
    rows = markov_results(markov_shares(aggregates, len(start)), expected, variance, len(start) * paths, K_SE)
    assert len(rows) == 8
    assert all(row.passed for row in rows), [(row.figure, row.note) for row in rows if not row.passed]


def test_vasicek_reference_agrees_with_its_second_calculation():
    pd_, rho, n_loans = 0.05, 0.10, 400
    reference = vasicek_reference(pd_, rho, n_loans)
    pmf, lattice = reference["pmf"], np.arange(n_loans + 1) / n_loans
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert lattice @ pmf == pytest.approx(pd_, abs=1e-9)
    assert lattice ** 2 @ pmf - pd_ ** 2 == pytest.approx(vasicek_variance(pd_, rho, n_loans), rel=1e-6)
    for d in (0.02, 0.1, 0.2):
        assert np.cumsum(pmf)[int(round(d * n_loans))] == pytest.approx(vasicek_mixture_cdf(d, pd_, rho, n_loans),
                                                                         abs=1e-8)
    # the binomial noise of 400 loans barely moves the 99.9% point from the large-portfolio one
    q999 = lattice[np.searchsorted(np.cumsum(pmf), 0.999)]
    assert abs(vasicek_quantile(0.999, pd_, rho) - q999) < 0.01


def test_one_factor_default_rate_matches_vasicek_distribution():
    pd_, rho, n_loans, paths = 0.05, 0.10, 1000, 20_000
    matrix = [[100 * (1 - pd_), 0, 0, 0, 0, 0, 0, 100 * pd_, 0]] + MATRIX[1:]
    scenario = roll_rate_scenario(matrix, horizon=1, paths=paths, volatility=1.0, persistence=0.0,
                                  rho_pct=100 * rho, chunk_paths=2000)
    aggregates, *_ = simulate_paths(scenario, flat_book(np.zeros(n_loans, int)), 5)
    default_rate = aggregates[:, 1, L.CHARGEOFF_COUNT] / n_loans
    reference = vasicek_reference(pd_, rho, n_loans)
    rows = vasicek_results(default_rate, pd_, rho, n_loans, reference, K_SE)
    assert [row.figure for row in rows][:4] == ["mean default rate", "sd of the default rate", "99.0% quantile",
                                                "99.9% quantile"]
    assert rows[4].figure.startswith("P(default rate > x)")
    assert all(row.passed for row in rows), [(row.figure, row.measured, row.expected, row.se) for row in rows]

    # and, without the quantile's density: the number of paths beyond the mixture's 99.9% point is binomial
    lattice, cdf = np.arange(n_loans + 1) / n_loans, np.cumsum(reference["pmf"])
    j = int(np.searchsorted(cdf, 0.999))
    beyond = int(np.sum(default_rate > lattice[j] + 0.5 / n_loans))
    assert stats.binomtest(beyond, paths, 1 - cdf[j]).pvalue > 1e-5, (beyond, paths * (1 - cdf[j]))
