"""Roll-rate model against closed forms nobody here wrote.

* With a deterministic cycle it is a Markov chain: state shares after t months are
  ``pi_0 P^t`` and cumulative charge-offs are the absorption probabilities.
* With a one-factor cycle, the one-period default rate across paths follows the
  Vasicek (1987, 2002) distribution, mixed with the binomial noise of a finite book:
  ``P(D <= d) = E_Z[Binom(n d; n, p(Z))]``, ``p(Z) = Phi((Phi^-1(PD) + sqrt(rho) Z) / sqrt(1 - rho))``.

Tolerances are k standard errors computed from the binomial / sampling variance.
"""
import numpy as np
import pytest
from scipy import integrate, optimize, stats

from simulator.model.engine import layout as L
from simulator.model.engine.simulate import simulate_paths
from simulator.model.portfolio import LoanBook
from simulator.inputs.scenario import scenario_from_dict

K_SE = 5.0
"""Tolerance in standard errors: a false alarm about 1 in 1.7 million per check."""

MATRIX = [
    # cur  1-30 31-60 61-90 91-120 121-150 151-180  CO  closed
    [93.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
    [60.0, 20.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [20.0, 5.0, 15.0, 60.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [10.0, 0.0, 5.0, 10.0, 75.0, 0.0, 0.0, 0.0, 0.0],
    [5.0, 0.0, 0.0, 5.0, 5.0, 85.0, 0.0, 0.0, 0.0],
    [3.0, 0.0, 0.0, 0.0, 2.0, 5.0, 90.0, 0.0, 0.0],
    [2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 6.0, 90.0, 0.0],
]


def roll_rate_scenario(matrix, horizon, paths, volatility, persistence, rho_pct, chunk_paths=64):
    return scenario_from_dict({
        "run": {"horizon_months": horizon, "paths": paths, "seed": 1, "balance_sheet": "runoff",
                "chunk_paths": chunk_paths},
        "portfolio": {"n_loans": 10, "segments": [{
            "name": "all", "share_pct": 100, "principal": {"median": 1000}, "apr_pct": {"min": 20, "max": 20},
            "term_months": [36], "income": {"median": 5000}}]},
        "macro": {"cycle": {"volatility": volatility, "persistence": persistence}},
        "behaviour": {"model": "roll_rate", "roll_rate": {"asset_correlation_pct": rho_pct,
                                                          "matrices": {"default": matrix}}},
    })


def flat_book(dpd_states, term=120):
    """A book of identical loans (long terms, so no loan matures inside the test horizon)."""
    n = len(dpd_states)
    ones = np.ones(n)
    return LoanBook(
        segment=np.zeros(n, np.int32), principal=1000.0 * ones, arrears=np.zeros(n), apr=0.2 * ones,
        remaining_term=np.full(n, term, np.int32), amortisation=np.zeros(n, np.int8),
        dpd_state=np.asarray(dpd_states, np.int8), income=5000.0 * ones, savings=ones, other_debt=ones,
        employed=np.ones(n, bool), score=650.0 * ones, original_principal=1000.0 * ones,
        original_term=np.full(n, term, np.int32), original_income=5000.0 * ones, original_savings=ones,
        birth_month=np.zeros(n, np.int32), risk_scale=ones, segment_names=("all",))


def full_chain(matrix):
    """9 x 9 chain with charged-off (7) and closed (8) absorbing."""
    p = np.zeros((9, 9))
    p[:7] = np.asarray(matrix) / 100.0
    p[7, 7] = p[8, 8] = 1.0
    return p


@pytest.mark.parametrize("seed", [3, 11])
def test_deterministic_cycle_reproduces_markov_chain_powers(seed):
    horizon, paths = 9, 40
    rng = np.random.default_rng(seed)
    start = rng.choice(7, size=2500, p=[0.7, 0.1, 0.06, 0.05, 0.04, 0.03, 0.02])
    book = flat_book(start)
    scenario = roll_rate_scenario(MATRIX, horizon, paths, volatility=0.0, persistence=0.5, rho_pct=20)
    aggregates, *_ = simulate_paths(scenario, book, seed)

    n = book.n_loans * paths
    pi0 = np.bincount(start, minlength=9) / book.n_loans
    chain = full_chain(MATRIX)
    charged_off = np.cumsum(aggregates[:, :, L.CHARGEOFF_COUNT].sum(axis=0))
    for t in range(1, horizon + 1):
        expected = pi0 @ np.linalg.matrix_power(chain, t)
        observed = np.append(aggregates[:, t, L.COUNT:L.COUNT + 7].sum(axis=0), charged_off[t]) / n
        se = np.sqrt(expected[:8] * (1 - expected[:8]) / n) + 1e-12
        assert np.all(np.abs(observed - expected[:8]) <= K_SE * se), (t, observed, expected[:8])


def vasicek_mixture_cdf(d, pd_, rho, n):
    """``P(D <= d)`` for the default fraction of ``n`` loans under the one-factor model."""
    threshold = stats.norm.ppf(pd_)

    def integrand(z):
        p = stats.norm.cdf((threshold + np.sqrt(rho) * z) / np.sqrt(1 - rho))
        return stats.binom.cdf(np.floor(d * n + 1e-9), n, p) * stats.norm.pdf(z)

    return integrate.quad(integrand, -9, 9, limit=200)[0]


def test_one_factor_default_rate_matches_vasicek_distribution():
    pd_, rho, n_loans, paths = 0.05, 0.10, 1000, 20_000
    matrix = [[100 * (1 - pd_), 0, 0, 0, 0, 0, 0, 100 * pd_, 0]] + MATRIX[1:]
    scenario = roll_rate_scenario(matrix, horizon=1, paths=paths, volatility=1.0, persistence=0.0,
                                  rho_pct=100 * rho, chunk_paths=2000)
    aggregates, *_ = simulate_paths(scenario, flat_book(np.zeros(n_loans, int)), 5)
    default_rate = aggregates[:, 1, L.CHARGEOFF_COUNT] / n_loans

    # Mean: E[D] = PD exactly; its standard error from the sample.
    se_mean = default_rate.std(ddof=1) / np.sqrt(paths)
    assert abs(default_rate.mean() - pd_) <= K_SE * se_mean

    # Variance: Var(p(Z)) = Phi2(t, t; rho) - PD^2 plus binomial noise E[p(1 - p)] / n.
    t = stats.norm.ppf(pd_)
    joint = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([t, t])
    variance = (joint - pd_ ** 2) + (pd_ - joint) / n_loans
    centred = default_rate - default_rate.mean()
    se_var = np.sqrt((np.mean(centred ** 4) - np.var(centred) ** 2) / paths)
    assert abs(np.var(centred, ddof=1) - variance) <= K_SE * se_var

    # 99.9% quantile of the mixture: the number of paths beyond it is Binomial(paths, 0.001).
    q999 = optimize.brentq(lambda d: vasicek_mixture_cdf(d, pd_, rho, n_loans) - 0.999, pd_, 0.9, xtol=1e-7)
    beyond = int(np.sum(default_rate > q999 + 0.5 / n_loans))
    tail = 1 - vasicek_mixture_cdf(q999 + 0.5 / n_loans, pd_, rho, n_loans)
    assert stats.binomtest(beyond, paths, tail).pvalue > 1e-5, (beyond, paths * tail)
    # and the large-portfolio Vasicek quantile itself is close to the mixture's (sanity of the reference)
    vasicek_q = stats.norm.cdf((t + np.sqrt(rho) * stats.norm.ppf(0.999)) / np.sqrt(1 - rho))
    assert abs(vasicek_q - q999) < 0.01
