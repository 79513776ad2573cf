"""Roll-rate estimation against known truths: synthetic histories from a known matrix
and cycle, closed forms, and plain-numpy references.

Tolerances are ``K_SE`` standard errors computed from the binomial variance (or the
bootstrap), so the tests hold for any seed; coverage checks use the 99.9% binomial
acceptance region of the nominal level for the number of trials.
"""
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from simulator.inputs.history import extract_transitions, history_from_frame
from simulator.estimation.rollrates import (bootstrap_cohort, cohort_estimate, estimate_cycle_index, estimate_rho,
                                 fit_credit_cycle, satellite_regression, simulate_roll_rate_history)

K_SE = 4.0
"""Tolerance in standard errors: a false alarm about 1 in 16,000 per check."""
K_CELLS = 5.0
"""Tolerance when every cell of a matrix is checked at once (29 non-zero cells): about 1 in 60,000 per matrix."""

MATRIX = np.array([
    # cur  1-30 31-60 61-90 91-120 121-150 151-180  CO  closed
    [93.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
    [60.0, 20.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [20.0, 5.0, 15.0, 60.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [10.0, 0.0, 5.0, 10.0, 74.0, 0.0, 0.0, 0.0, 1.0],
    [5.0, 0.0, 0.0, 5.0, 5.0, 80.0, 0.0, 5.0, 0.0],
    [3.0, 0.0, 0.0, 0.0, 2.0, 5.0, 85.0, 5.0, 0.0],
    [2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 6.0, 90.0, 0.0],
]) / 100.0


def transitions_of(frame):
    return extract_transitions(history_from_frame(frame, "synthetic.csv"))


def standardised_path(n_months, seed):
    """A cycle path with ``z[0] = 0`` and months 1.. of sample mean 0 and sd 1 (``ddof = 1``).

    With it the window's cycle has exactly unit variance, so ``rho`` is the value
    Belkin-Forest-Suchower's condition recovers (not the window's own variance).
    """
    draws = np.random.default_rng([seed, 7]).standard_normal(n_months - 1)
    return np.r_[0.0, (draws - draws.mean()) / draws.std(ddof=1)]


# --------------------------------------------------------------------------- cohort estimator
@pytest.fixture(scope="module")
def acyclic_history():
    """30,000 loans over 24 months, ``rho = 0``: moves are independent draws from MATRIX."""
    frame, _ = simulate_roll_rate_history(MATRIX, 0.0, 30_000, 24, seed=11)
    return transitions_of(frame)


def test_cohort_matches_known_matrix_within_binomial_se(acyclic_history):
    estimate = cohort_estimate(acyclic_history)
    n_row = estimate.exposure[0][:, None]
    se = np.sqrt(MATRIX * (1.0 - MATRIX) / n_row)
    assert (n_row > 1000).all()
    np.testing.assert_array_less(np.abs(estimate.matrix[0] - MATRIX), K_CELLS * se + 1e-15)
    np.testing.assert_array_equal(estimate.matrix[0][MATRIX == 0.0], 0.0)
    assert estimate.empty_rows == () and estimate.warnings == ()
    pooled = cohort_estimate(acyclic_history, by_segment=False)
    assert pooled.group_names == ("all",)
    np.testing.assert_array_equal(pooled.counts, estimate.counts)


def test_balance_weighted_matches_known_matrix(acyclic_history):
    """Moves do not depend on balance, so the weighted rate is unbiased with variance
    ``p (1 - p) sum w^2 / (sum w)^2`` (weights are set before the month's draw)."""
    estimate = cohort_estimate(acyclic_history, weighting="balance")
    weights = acyclic_history.balance
    sum_w2 = np.bincount(acyclic_history.from_state, weights=weights ** 2, minlength=7)
    se = np.sqrt(MATRIX * (1.0 - MATRIX) * sum_w2[:, None]) / estimate.exposure[0][:, None]
    np.testing.assert_array_less(np.abs(estimate.matrix[0] - MATRIX), K_CELLS * se + 1e-15)
    np.testing.assert_allclose(estimate.exposure[0], np.bincount(acyclic_history.from_state, weights=weights))


def test_monthly_counts_add_up_to_the_pooled_counts(acyclic_history):
    estimate = cohort_estimate(acyclic_history)
    assert estimate.monthly_counts.shape == (24, 1, 7, 9)
    np.testing.assert_array_equal(estimate.monthly_counts.sum(axis=0), estimate.counts)
    assert estimate.monthly_counts[0].sum() == 0 and np.isnan(estimate.monthly_matrix[0]).all()
    assert estimate.counts.sum() == acyclic_history.n_transitions
    np.testing.assert_allclose(np.nansum(estimate.monthly_matrix[1:], axis=-1), 1.0)


def test_segments_get_their_own_matrices():
    riskier = MATRIX.copy()
    riskier[0] = [0.85, 0.13, 0, 0, 0, 0, 0, 0, 0.02]
    frame, _ = simulate_roll_rate_history(np.stack([MATRIX, riskier]), 0.0, 4000, 12, seed=2,
                                          segment_names=("prime", "subprime"))
    transitions = transitions_of(frame)
    by_segment = cohort_estimate(transitions)
    assert by_segment.group_names == ("prime", "subprime")
    pooled = cohort_estimate(transitions, by_segment=False)
    np.testing.assert_array_equal(by_segment.counts.sum(axis=0), pooled.counts[0])
    for g, truth in enumerate((MATRIX, riskier)):
        se = np.sqrt(truth[0] * (1.0 - truth[0]) / by_segment.exposure[g, 0])
        np.testing.assert_array_less(np.abs(by_segment.matrix[g, 0] - truth[0]), K_CELLS * se + 1e-15)


def test_empty_row_is_reported_not_filled():
    """Loans that never roll past 121-150 leave the 151-180 row empty: NaN and listed."""
    capped = MATRIX.copy()
    capped[5] = [0.03, 0, 0, 0, 0.02, 0.90, 0, 0.05, 0]
    frame, _ = simulate_roll_rate_history(capped, 0.0, 2000, 12, seed=3)
    transitions = transitions_of(frame)
    estimate = cohort_estimate(transitions)
    assert estimate.empty_rows == (("default", "dpd_151_180"),)
    assert np.isnan(estimate.matrix[0, 6]).all() and estimate.exposure[0, 6] == 0
    assert np.isfinite(estimate.matrix[0, :6]).all()
    (warning,) = estimate.warnings
    assert "default: no loan started a month in state dpd_151_180" in warning and "empty (NaN)" in warning
    intervals = bootstrap_cohort(transitions, n_replicates=20)
    assert np.isnan(intervals.lower[0, 6]).all() and np.isfinite(intervals.lower[0, :6]).all()


def test_history_without_exits_warns():
    frame = pd.DataFrame({"loan_id": [1, 1, 1, 2, 2], "month": [1, 2, 3, 1, 2], "dpd": [0, 10, 0, 0, 0],
                          "balance": 100.0})
    estimate = cohort_estimate(extract_transitions(history_from_frame(frame, "days.csv")))
    assert any("days.csv: no loan was charged off or closed" in w and "dpd_state" in w for w in estimate.warnings)


# --------------------------------------------------------------------------- bootstrap
def test_bootstrap_is_reproducible_and_matches_binomial_se(acyclic_history):
    first = bootstrap_cohort(acyclic_history, n_replicates=200, seed=5)
    again = bootstrap_cohort(acyclic_history, n_replicates=200, seed=5)
    other = bootstrap_cohort(acyclic_history, n_replicates=200, seed=6)
    np.testing.assert_array_equal(first.replicates, again.replicates)
    assert not np.array_equal(first.replicates, other.replicates)
    estimate = cohort_estimate(acyclic_history)
    binomial_se = np.sqrt(MATRIX * (1.0 - MATRIX) / estimate.exposure[0][:, None])
    populated = MATRIX >= 0.05
    # The relative sd of a bootstrap sd from B replicates is about 1 / sqrt(2 B) = 5%.
    np.testing.assert_allclose(first.se[0][populated], binomial_se[populated], rtol=0.3)
    assert (first.lower <= estimate.matrix).all() and (estimate.matrix <= first.upper).all()


def test_bootstrap_interval_coverage():
    """95% intervals of three well-populated cells cover the truth in about 95% of 100 histories.

    In 400-history studies the intervals covered 94-95% (by cell) with 1,000 loans and
    95-98% at this size (3,000 loans, B = 200); linear-interpolated percentiles instead
    of the (B + 1) alpha order statistic covered 92-94% with 1,000 loans. Resampling
    moves instead of loans, or a wrong level, would not pass.
    """
    cells = [(0, 1), (0, 8), (1, 0)]
    n_histories, level = 100, 0.95
    covered = np.zeros(len(cells), int)
    for seed in range(n_histories):
        frame, _ = simulate_roll_rate_history(MATRIX, 0.0, 3000, 12, seed=seed)
        intervals = bootstrap_cohort(transitions_of(frame), n_replicates=200, level=level, seed=seed)
        for k, (i, j) in enumerate(cells):
            covered[k] += intervals.lower[0, i, j] <= MATRIX[i, j] <= intervals.upper[0, i, j]
    low, high = stats.binom.ppf([0.0005, 0.9995], n_histories, level)
    assert ((low <= covered) & (covered <= high)).all(), (covered, low, high)


# --------------------------------------------------------------------------- BFS credit cycle
def test_cycle_index_closed_form_for_two_outcomes():
    """One row with two outcomes: ``z = (theta - sqrt(1 - rho) Phi^-1(q)) / sqrt(rho)``, and
    ``se(z) = sqrt(q (1 - q) / n) / (c phi(Phi^-1(q)))`` with ``c = sqrt(rho / (1 - rho))``."""
    rho, n, base = 0.05, 1000, 0.9
    long_run = np.zeros((1, 9))
    long_run[0, :2] = [base, 1.0 - base]
    stays = np.array([900, 850, 940, 700, 999])
    counts = np.zeros((len(stays), 1, 9))
    counts[:, 0, 0], counts[:, 0, 1] = stays, n - stays
    z, z_se = estimate_cycle_index(counts, long_run, rho)
    q = stays / n
    expected = (stats.norm.ppf(base) - np.sqrt(1.0 - rho) * stats.norm.ppf(q)) / np.sqrt(rho)
    expected_se = np.sqrt(q * (1 - q) / n) / (np.sqrt(rho / (1 - rho)) * stats.norm.pdf(stats.norm.ppf(q)))
    np.testing.assert_allclose(z, expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(z_se, expected_se, rtol=1e-6)
    everyone_stays = counts[:1].copy()
    everyone_stays[0, 0, :2] = [n, 0]
    assert np.isnan(estimate_cycle_index(everyone_stays, long_run, rho)).all()  # no maximum: z -> -inf


def plain_log_likelihood(z, counts, long_run, rho):
    """``sum n log P(z)`` of one month, straight from the formula (the numba kernel's reference)."""
    order = [8, 0, 1, 2, 3, 4, 5, 6, 7]
    cumulative = np.clip(np.cumsum(long_run[:, order], axis=1), 0.0, 1.0)
    conditional = stats.norm.cdf((stats.norm.ppf(cumulative) - np.sqrt(rho) * z) / np.sqrt(1.0 - rho))
    probability = np.diff(np.concatenate([np.zeros((len(long_run), 1)), conditional], axis=1), axis=1)
    used = counts[:, order] > 0
    return float(np.sum(counts[:, order][used] * np.log(probability[used])))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cycle_index_matches_plain_likelihood(seed):
    """Maximum and curvature of the kernel's likelihood equal a direct numeric maximisation."""
    rng = np.random.default_rng(seed)
    rho = 0.03
    counts = np.stack([rng.multinomial(800, row) for row in MATRIX]).astype(float)
    z, z_se = estimate_cycle_index(counts[None], MATRIX, rho)

    def negative(v):
        return -plain_log_likelihood(v, counts, MATRIX, rho)

    best = optimize.minimize_scalar(negative, bounds=(-15, 15), method="bounded", options={"xatol": 1e-10})
    np.testing.assert_allclose(z[0], best.x, atol=1e-6)
    h = 1e-3
    curvature = (negative(best.x + h) - 2 * negative(best.x) + negative(best.x - h)) / h ** 2
    np.testing.assert_allclose(z_se[0], 1.0 / np.sqrt(curvature), rtol=1e-4)


def test_cycle_index_tracks_a_known_path():
    """At the true rho the monthly estimates follow the path, with errors of about their own se."""
    rho, n_months = 0.05, 36
    z_true = standardised_path(n_months, seed=1)
    frame, _ = simulate_roll_rate_history(MATRIX, rho, 5000, n_months, seed=1, z=z_true)
    estimate = cohort_estimate(transitions_of(frame))
    z, z_se = estimate_cycle_index(estimate.monthly_counts[:, 0], estimate.matrix[0], rho)
    assert np.isnan(z[0]) and np.isfinite(z[1:]).all()
    assert np.corrcoef(z[1:], z_true[1:])[0, 1] > 0.97
    errors = (z[1:] - z_true[1:]) / z_se[1:]
    assert np.abs(errors).max() < K_SE + 0.5  # 35 months: the largest of 35 |N(0, 1)|
    assert abs(errors.mean()) < K_SE / np.sqrt(errors.size)


def test_rho_interval_covers_the_truth_at_the_nominal_rate():
    """Over 40 histories (each its own seed and standardised cycle path) the 95% interval of
    rho covers the truth about 95% of the time, and every estimate is within K_SE of its se."""
    rho, n_months, n_histories, level = 0.05, 36, 40, 0.95
    covered = 0
    for seed in range(n_histories):
        frame, _ = simulate_roll_rate_history(MATRIX, rho, 2000, n_months, seed=seed,
                                              z=standardised_path(n_months, seed))
        fit = fit_credit_cycle(transitions_of(frame), n_replicates=50, level=level, seed=seed)
        assert fit.warnings == ()
        assert abs(fit.rho - rho) < K_SE * fit.rho_se, (seed, fit.rho, fit.rho_se)
        covered += fit.rho_lower <= rho <= fit.rho_upper
    low = stats.binom.ppf(0.0005, n_histories, level)
    assert covered >= low, (covered, low)


def test_constant_months_give_rho_zero():
    """No month-to-month variation at all: no cycle, rho 0 and no index."""
    counts = np.repeat((1000 * MATRIX)[None], 12, axis=0)
    rho, z, z_se = estimate_rho(counts, MATRIX)
    assert rho == 0.0 and np.isnan(z).all() and np.isnan(z_se).all()
    rho, z, _ = estimate_rho(counts[:2], MATRIX)
    assert np.isnan(rho) and np.isnan(z).all()


# --------------------------------------------------------------------------- satellite model
def synthetic_macro(n_months, seed, k, phi, sigma):
    """Unemployment an AR(1) around 6%; ``z = 0.2 + k (u - 6) + AR(1)(phi, sigma)``."""
    rng = np.random.default_rng([seed, 3])
    unemployment = np.empty(n_months)
    noise = np.empty(n_months)
    unemployment[0], noise[0] = 6.0, sigma * rng.standard_normal()
    for t in range(1, n_months):
        unemployment[t] = 6.0 + 0.95 * (unemployment[t - 1] - 6.0) + 0.3 * rng.standard_normal()
        noise[t] = phi * noise[t - 1] + sigma * np.sqrt(1 - phi ** 2) * rng.standard_normal()
    macro = pd.DataFrame({"month": [str(t) for t in range(n_months)], "unemployment_pct": unemployment,
                          "rate_pct": 3.0 + rng.standard_normal(n_months)})
    return macro, 0.2 + k * (unemployment - 6.0) + noise


@pytest.mark.parametrize("seed", range(5))
def test_satellite_recovers_k_and_persistence(seed):
    k, phi, sigma = 0.4, 0.6, 0.5
    macro, z = synthetic_macro(600, seed, k, phi, sigma)
    z[0] = np.nan
    fit = satellite_regression(z, macro, extra_regressors=("rate_pct",), baseline_unemployment_pct=6.0)
    assert fit.names == ("intercept", "unemployment_gap_pp", "rate_pct") and fit.n_obs == 599
    assert abs(fit.cycle_per_unemployment_pp - k) < K_SE * fit.se_hac[1]
    assert abs(fit.coef[0] - 0.2) < K_SE * fit.se_hac[0]
    assert abs(fit.residual_ar1 - phi) < K_SE * fit.residual_ar1_se
    # sd of a sample sd of n AR(1) values: about sigma sqrt((1 + phi^2) / (2 n (1 - phi^2))).
    assert abs(fit.residual_sd - sigma) < K_SE * sigma * np.sqrt((1 + phi ** 2) / (2 * 599 * (1 - phi ** 2)))
    assert abs(fit.durbin_watson - 2.0 * (1.0 - fit.residual_ar1)) < 0.05


def test_satellite_closed_forms():
    """One regressor: OLS slope = cov / var, R^2 = corr^2; zero lags: HAC = White's HC0 x n / (n - p)."""
    macro, z = synthetic_macro(120, 0, 0.3, 0.5, 0.4)
    fit = satellite_regression(z, macro, hac_lags=0)
    u = macro["unemployment_pct"].to_numpy()
    assert fit.baseline_unemployment_pct == pytest.approx(u.mean())
    np.testing.assert_allclose(fit.coef[1], np.cov(u, z)[0, 1] / np.var(u, ddof=1))
    np.testing.assert_allclose(fit.r_squared, np.corrcoef(u, z)[0, 1] ** 2)
    design = np.column_stack([np.ones_like(u), u - u.mean()])
    bread = np.linalg.inv(design.T @ design)
    white = bread @ (design.T * fit.residuals ** 2) @ design @ bread * 120 / 118
    np.testing.assert_allclose(fit.se_hac, np.sqrt(np.diag(white)))
    np.testing.assert_allclose(fit.se_ols, np.sqrt(np.diag(bread) * (fit.residuals @ fit.residuals) / 118))
    assert fit.neutral_unemployment_pct == pytest.approx(u.mean() - fit.coef[0] / fit.coef[1])


# --------------------------------------------------------------------------- synthetic histories
def test_simulated_history_keeps_the_book_and_is_reproducible():
    n_loans, n_months = 1000, 10
    frame, z = simulate_roll_rate_history(MATRIX, 0.1, n_loans, n_months, seed=9)
    again, z_again = simulate_roll_rate_history(MATRIX, 0.1, n_loans, n_months, seed=9)
    pd.testing.assert_frame_equal(frame, again)
    np.testing.assert_array_equal(z, z_again)
    assert not simulate_roll_rate_history(MATRIX, 0.1, n_loans, n_months, seed=10)[0].equals(frame)
    history = history_from_frame(frame)
    live = history.state < 7
    np.testing.assert_array_equal(np.bincount(history.month[live], minlength=n_months), n_loans)
    exits = np.flatnonzero(history.state >= 7)
    last_row = np.r_[history.loan[1:] != history.loan[:-1], True]
    assert last_row[exits].all()
    assert history.n_loans == n_loans + exits.size
    assert list(frame.columns) == ["loan_id", "month", "dpd_state", "balance", "segment"]
    assert (frame.loc[frame["dpd_state"] == "closed", "balance"] == 0).all()


def test_simulation_rejects_impossible_matrices():
    jumpy = MATRIX.copy()
    jumpy[0] = [0.9, 0.05, 0.05, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="moves a history may not contain"):
        simulate_roll_rate_history(jumpy, 0.0, 10, 3, seed=0)
    with pytest.raises(ValueError, match="summing to 1"):
        simulate_roll_rate_history(MATRIX * 2, 0.0, 10, 3, seed=0)
    with pytest.raises(ValueError, match=r"shape \(7, 9\)"):
        simulate_roll_rate_history(MATRIX[:6], 0.0, 10, 3, seed=0)
