"""Roll-rate estimation from a loan-month history: matrices, their uncertainty and the credit cycle.

The flow follows the data:

1. :func:`cohort_estimate` counts each month's moves (:class:`~simulator.inputs.history.Transitions`)
   into monthly and pooled 7 x 9 transition matrices, by count or by balance;
2. :func:`bootstrap_cohort` resamples loans for percentile intervals of every cell;
3. :func:`fit_credit_cycle` reads the monthly cycle index ``z_t`` and the asset
   correlation ``rho`` off the monthly counts (Belkin, Forest and Suchower 1998);
4. :func:`satellite_regression` regresses ``z_t`` on the macro series.

:mod:`.rollrate_backtest` turns the estimates into a scenario's monthly matrices and back-tests
them; :mod:`simulator.workflows.calibration` writes them as a scenario's keys.

:func:`simulate_roll_rate_history` goes the other way: a synthetic history from a
known matrix and ``rho``, for the tests, the benchmark and sample data.

Rows of a matrix are the live states (:data:`~simulator.inputs.schema.DPD_STATE_KEYS`),
columns :data:`~simulator.inputs.schema.ROLL_RATE_COLUMNS`; probabilities are fractions
here (the scenario writes percent). Monthly arrays are indexed by the month a move
*ends* in (``0 .. n_months - 1``; month 0 has no moves), as the engine applies
month ``t``'s cycle index to the move into month ``t``.

References
----------
Abramowitz, M. and Stegun, I. A. (1964), *Handbook of Mathematical Functions*,
NBS (26.2.12, the normal tail series used far in the tails).
Belkin, B., Forest, L. R. and Suchower, S. J. (1998), "A one-parameter
representation of credit risk and transition matrices", CreditMetrics Monitor,
Third Quarter, 46-56.
Davison, A. C. and Hinkley, D. V. (1997), *Bootstrap Methods and their
Application*, Cambridge University Press.
Efron, B. and Tibshirani, R. J. (1993), *An Introduction to the Bootstrap*,
Chapman & Hall (percentile intervals; resampling clusters, here loans).
Newey, W. K. and West, K. D. (1987), "A simple, positive semi-definite,
heteroskedasticity and autocorrelation consistent covariance matrix",
Econometrica 55(3), 703-708.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse
from numba import njit
from scipy import optimize
from scipy.special import ndtr, ndtri

from ..inputs.errors import InputError
from ..inputs.history import CHARGED_OFF, CLOSED, allowed_transitions, month_labels_of, year_month_period
from ..inputs.schema import DPD_STATE_KEYS, ROLL_RATE_COLUMNS
from ..model.engine.kernels import ROLL_ORDER
from ..model.engine.simulate import roll_order_thresholds

N_LIVE = len(DPD_STATE_KEYS)
N_OUTCOMES = len(ROLL_RATE_COLUMNS)
N_CELLS = N_LIVE * N_OUTCOMES
POOLED = "all"
"""Group name of the matrix pooled over segments."""

BOOTSTRAP_STREAM = 11
"""Key of the seed sequence that resamples loans (independent of the engine's streams)."""
HISTORY_STREAM = 12
"""Key of the seed sequence that draws a synthetic history."""
BOOTSTRAP_CHUNK = 32
"""Replicates whose loan multiplicities are held in memory at once (does not change results)."""

SHIFT_MARGIN = 8.0
"""The search for a month's probit shift stays within this of the finite thresholds."""
NEWTON_TOLERANCE = 1e-10
MAX_NEWTON_STEPS = 100
RHO_BRACKET = (1e-6, 0.99)
"""Range searched for rho; an answer at the lower end is reported as 0."""
RHO_TOLERANCE = 1e-7
MIN_CYCLE_MONTHS = 3
SQRT2 = math.sqrt(2.0)
SQRT_2PI = math.sqrt(2.0 * math.pi)
LOG_SQRT_2PI = math.log(SQRT_2PI)
TINY_PROBABILITY = 1e-200
"""Below this a cell's probability and its ratios are formed in logs."""


# --------------------------------------------------------------------------- cohort estimator
@dataclass(frozen=True)
class CohortEstimate:
    """Transition counts and matrices by group (segments, or all loans pooled).

    Attributes
    ----------
    group_names : tuple of str
        The segments, or ``("all",)`` for the pooled estimate.
    weighting : {"count", "balance"}
        What a move counts for: 1, or the loan's balance at the start of the month.
    counts : ndarray (n_groups, 7, 9)
        Moves from each live state to each state, summed over all months.
    exposure : ndarray (n_groups, 7)
        Row totals of ``counts``: loans (or balance) starting a month in each state.
    matrix : ndarray (n_groups, 7, 9)
        ``counts / exposure``; rows with zero exposure are NaN (see ``empty_rows``).
    monthly_counts, monthly_matrix : ndarray (n_months, n_groups, 7, 9)
        The same for each month a move ends in (month 0 has no moves).
    monthly_exposure : ndarray (n_months, n_groups, 7)
    empty_rows : tuple of (group name, state key)
        Rows never visited: left NaN, never filled in.
    warnings : tuple of str
        Sentences for the user about empty rows and unobserved exits.
    """

    group_names: tuple
    weighting: str
    counts: np.ndarray
    exposure: np.ndarray
    matrix: np.ndarray
    monthly_counts: np.ndarray
    monthly_exposure: np.ndarray
    monthly_matrix: np.ndarray
    empty_rows: tuple
    warnings: tuple


def cohort_estimate(transitions, weighting="count", by_segment=True):
    """Monthly and pooled transition matrices by the cohort (counting) estimator.

    Parameters
    ----------
    transitions : Transitions
        From :func:`simulator.inputs.history.extract_transitions`.
    weighting : {"count", "balance"}
        ``count``: each move counts 1. ``balance``: each move counts the loan's
        balance at the start of the month (the share of money that rolls).
    by_segment : bool
        One matrix per segment (default), or one for all loans (group ``"all"``).

    Returns
    -------
    CohortEstimate

    Notes
    -----
    With ``n_{ij}`` the (weighted) moves from state ``i`` to ``j``, the estimate is
    ``p_ij = n_ij / sum_j n_ij``, the maximum-likelihood estimate of a Markov
    chain's transition probabilities (Anderson and Goodman 1957). Its binomial
    standard error for counts is ``sqrt(p (1 - p) / n_i)``. All cells of all
    months come from one ``np.bincount``.

    References
    ----------
    Anderson, T. W. and Goodman, L. A. (1957), "Statistical inference about Markov
    chains", Annals of Mathematical Statistics 28(1), 89-110.
    """
    group_names, cell = _group_cells(transitions, by_segment)
    n_groups = len(group_names)
    monthly_counts = _monthly_counts(_monthly_cell(transitions.month, cell, n_groups), transitions.n_months,
                                     n_groups, _move_weights(transitions, weighting))
    counts = monthly_counts.sum(axis=0)
    exposure = counts.sum(axis=-1)
    empty_rows = tuple((group_names[g], DPD_STATE_KEYS[s]) for g, s in zip(*np.nonzero(exposure == 0)))
    warnings = [f"{group}: no loan started a month in state {state}, so that row of the matrix is empty (NaN). "
                f"Give the row by hand{' or pool the segments' if n_groups > 1 else ''}."
                for group, state in empty_rows]
    if counts[..., CHARGED_OFF:].sum() == 0:
        warnings.append(f"{transitions.source}: no loan was charged off or closed, so the charged_off and closed "
                        "columns are estimated as 0. Record exits in a dpd_state column (a dpd column cannot).")
    monthly_exposure = monthly_counts.sum(axis=-1)
    return CohortEstimate(
        group_names=group_names, weighting=weighting, counts=counts, exposure=exposure,
        matrix=_row_fractions(counts), monthly_counts=monthly_counts, monthly_exposure=monthly_exposure,
        monthly_matrix=_row_fractions(monthly_counts), empty_rows=empty_rows, warnings=tuple(warnings))


# --------------------------------------------------------------------------- bootstrap over loans
@dataclass(frozen=True)
class CohortIntervals:
    """Bootstrap uncertainty of a :class:`CohortEstimate`'s pooled matrix.

    Attributes
    ----------
    lower, upper : ndarray (n_groups, 7, 9)
        Percentile interval at ``level``; NaN on empty rows.
    se : ndarray (n_groups, 7, 9)
        Standard deviation of the replicates (bootstrap standard error).
    replicates : ndarray (n_replicates, n_groups, 7, 9)
        The matrix of each resample.
    level : float
    seed : int
    """

    lower: np.ndarray
    upper: np.ndarray
    se: np.ndarray
    replicates: np.ndarray
    level: float
    seed: int


def bootstrap_cohort(transitions, n_replicates=200, level=0.95, seed=0, weighting="count", by_segment=True):
    """Percentile intervals of the pooled matrices by resampling loans with replacement.

    Parameters
    ----------
    transitions : Transitions
    n_replicates : int
        Resamples ``B``.
    level : float
        Coverage of the intervals, in (0, 1).
    seed : int
        The resamples are a function of ``(seed, BOOTSTRAP_STREAM)`` only.
    weighting, by_segment
        As in :func:`cohort_estimate`.

    Returns
    -------
    CohortIntervals

    Notes
    -----
    A loan's moves are dependent (a delinquent loan tends to stay delinquent), so
    the unit of resampling is the loan, not the move: each replicate draws
    ``n_loans`` loans with replacement and counts every move of a loan drawn ``w``
    times ``w`` times. The moves are first summed per (loan, cell) into a sparse
    matrix ``A`` (cells x loans); a replicate's counts are ``A w``. The interval is
    the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the replicates, the
    ``alpha`` quantile taken as the ``(B + 1) alpha``-th smallest replicate
    (interpolated; ``method="weibull"``), which keeps the interval from running
    short with a few hundred replicates (Efron and Tibshirani 1993, ch. 13;
    Davison and Hinkley 1997, sec. 5.2).
    """
    group_names, cell = _group_cells(transitions, by_segment)
    shape = (len(group_names), N_LIVE, N_OUTCOMES)
    lower, upper, se = (np.full(shape, np.nan) for _ in range(3))
    if n_replicates == 0:  # no bootstrap asked for: no intervals
        return CohortIntervals(lower=lower, upper=upper, se=se, replicates=np.empty((0,) + shape), level=level,
                               seed=seed)
    replicates = np.empty((n_replicates, np.prod(shape)))
    for first, counts in _bootstrap_counts(cell, transitions.loan, _move_weights(transitions, weighting),
                                           replicates.shape[1], transitions.n_loans, n_replicates, seed):
        replicates[first:first + counts.shape[0]] = counts
    replicates = _row_fractions(replicates.reshape((n_replicates,) + shape))
    visited = np.isfinite(replicates).any(axis=(0, -1))
    lower[visited], upper[visited] = np.nanquantile(replicates[:, visited], [(1 - level) / 2, (1 + level) / 2],
                                                    axis=0, method="weibull")
    se[visited] = np.nanstd(replicates[:, visited], axis=0, ddof=1)
    return CohortIntervals(lower=lower, upper=upper, se=se, replicates=replicates, level=level, seed=seed)


# --------------------------------------------------------------------------- BFS credit cycle
@dataclass(frozen=True)
class CycleFit:
    """The credit-cycle index and asset correlation of a history (Belkin, Forest and Suchower 1998).

    Attributes
    ----------
    rho : float
        Asset correlation: ``z_t`` has unit variance net of estimation noise.
        0 when the monthly variation is no larger than sampling noise.
    rho_se : float
        Bootstrap (over loans) standard error.
    rho_lower, rho_upper : float
        Normal interval ``rho -+ Phi^-1((1 + level) / 2) rho_se`` (floored at 0);
        see :func:`fit_credit_cycle` for why not percentiles.
    rho_replicates : ndarray (n_replicates,)
    level : float
    z, z_se : ndarray (n_months,)
        Cycle index of each month (positive = worse) and its standard error from
        the observed information; NaN where no move ends (month 0) or ``rho = 0``.
    long_run_matrix : ndarray (n_groups, 7, 9)
        The pooled counts matrix the thresholds come from (fractions).
    group_names, month_labels : tuple of str
    warnings : tuple of str
    """

    rho: float
    rho_se: float
    rho_lower: float
    rho_upper: float
    rho_replicates: np.ndarray
    level: float
    z: np.ndarray
    z_se: np.ndarray
    long_run_matrix: np.ndarray
    group_names: tuple
    month_labels: tuple
    warnings: tuple


def fit_credit_cycle(transitions, n_replicates=200, level=0.95, seed=0, by_segment=True):
    """Monthly cycle index ``z_t`` and asset correlation ``rho`` from a history, with a bootstrap interval.

    Parameters
    ----------
    transitions : Transitions
    n_replicates : int
        Loan resamples for the interval of ``rho`` (0 for none: NaN interval).
    level : float
    seed : int
        As in :func:`bootstrap_cohort` (the same resamples).
    by_segment : bool
        Each segment's rows get their own long-run matrix; ``z_t`` and ``rho`` are
        common to all segments, as in the engine.

    Returns
    -------
    CycleFit

    Notes
    -----
    The long-run matrix is the pooled counts estimate (:func:`cohort_estimate`);
    :func:`estimate_rho` and :func:`estimate_cycle_index` give the method.

    The interval of ``rho`` is the standard (normal) bootstrap interval, not the
    percentile one: a resample counts some loans twice, so its monthly ``z_t``
    carry the original sampling noise *and* the resampling noise while their
    standard errors see only one of them, and the replicates' ``rho`` sit about
    ``mean(se^2)`` of excess variance above the estimate. Their spread is still
    right (in simulations the normal interval covers at the nominal rate, the
    percentile one does not). The interval is conditional on the months observed:
    it measures the noise of a finite book, not how well a short window pins down
    the cycle's variance.
    """
    group_names, cell = _group_cells(transitions, by_segment)
    n_groups = len(group_names)
    n_months = transitions.n_months
    monthly_cell = _monthly_cell(transitions.month, cell, n_groups)
    counts = _monthly_counts(monthly_cell, n_months, n_groups).reshape(n_months, -1, N_OUTCOMES)
    long_run = _row_fractions(counts.sum(axis=0))
    rho, z, z_se = estimate_rho(counts, long_run)
    warnings = []
    if np.isnan(rho):
        warnings.append(f"{transitions.source}: months with moves must be at least {MIN_CYCLE_MONTHS} to estimate "
                        f"the credit cycle; got {(counts.sum(axis=(1, 2)) > 0).sum()}. Use a longer history.")
    elif rho == 0.0:
        warnings.append(f"{transitions.source}: the month-to-month variation of the roll rates is no larger than "
                        "sampling noise, so rho is estimated as 0 and there is no cycle index.")
    elif rho == RHO_BRACKET[1]:
        warnings.append(f"{transitions.source}: rho reached the top of its range ({RHO_BRACKET[1]}); the roll "
                        "rates vary far more than a one-factor model explains. Check for breaks in the history.")
    rho_replicates = np.empty(n_replicates)
    for first, replicate_counts in _bootstrap_counts(monthly_cell, transitions.loan, None, counts.size,
                                                     transitions.n_loans, n_replicates, seed):
        for b, flat in enumerate(replicate_counts, start=first):
            one = flat.reshape(counts.shape)
            rho_replicates[b] = estimate_rho(one, _row_fractions(one.sum(axis=0)))[0]
    rho_se = float(np.nanstd(rho_replicates, ddof=1)) if n_replicates > 1 else np.nan
    half_width = ndtri((1.0 + level) / 2.0) * rho_se
    return CycleFit(rho=rho, rho_se=rho_se, rho_lower=float(np.maximum(rho - half_width, 0.0)),
                    rho_upper=rho + half_width, rho_replicates=rho_replicates, level=level, z=z, z_se=z_se,
                    long_run_matrix=long_run.reshape(n_groups, N_LIVE, N_OUTCOMES), group_names=group_names,
                    month_labels=transitions.month_labels, warnings=tuple(warnings))


def estimate_rho(monthly_counts, long_run_matrix):
    """Asset correlation ``rho`` such that the cycle index has unit variance net of noise.

    Parameters
    ----------
    monthly_counts : ndarray (n_months, n_rows, 9)
        Moves by month, from-row (live state, possibly of several segments) and
        to-state (:data:`~simulator.inputs.schema.ROLL_RATE_COLUMNS` order).
    long_run_matrix : ndarray (n_rows, 9)
        Fractions; NaN rows are skipped.

    Returns
    -------
    rho : float
        0 when no ``rho`` in the searched range gives enough variance; NaN when
        fewer than ``MIN_CYCLE_MONTHS`` months identify their index (see
        :func:`estimate_cycle_index`).
    z, z_se : ndarray (n_months,)
        :func:`estimate_cycle_index` at that ``rho`` (NaN when ``rho`` is 0 or NaN).

    Notes
    -----
    Belkin, Forest and Suchower (1998) choose ``rho`` so that the monthly indices
    ``z_t(rho)`` have unit variance, as the factor of the one-factor model does.
    The estimated ``z_t`` carry sampling noise of variance ``se_t^2``, which would
    inflate their variance (and ``rho``) in a small book, so here

    .. math:: \\widehat{\\mathrm{Var}}(\\hat z(\\rho)) - \\overline{se^2(\\rho)} = 1,

    with the sample variance (``ddof = 1``) over months with moves, solved by
    Brent's method on ``rho`` in ``RHO_BRACKET``. In a large book the correction vanishes.
    """
    months = _MonthlyProbit(monthly_counts, long_run_matrix)
    nothing = np.full(months.n_months, np.nan)
    if months.identified.sum() < MIN_CYCLE_MONTHS:
        return np.nan, nothing, nothing

    @functools.lru_cache(maxsize=None)
    def excess_variance(rho):
        z, z_se = months.cycle_index(rho)
        known = np.isfinite(z)
        return np.var(z[known], ddof=1) - np.mean(z_se[known] ** 2) - 1.0

    low, high = RHO_BRACKET
    if excess_variance(low) <= 0.0:
        return 0.0, nothing, nothing
    rho = high if excess_variance(high) >= 0.0 else optimize.brentq(excess_variance, low, high, xtol=RHO_TOLERANCE)
    z, z_se = months.cycle_index(rho)
    return float(rho), z, z_se


def estimate_cycle_index(monthly_counts, long_run_matrix, rho):
    """Maximum-likelihood cycle index ``z_t`` of each month given the long-run matrix and ``rho``.

    Parameters
    ----------
    monthly_counts : ndarray (n_months, n_rows, 9)
        Moves by month, from-row and to-state (ROLL_RATE_COLUMNS order).
    long_run_matrix : ndarray (n_rows, 9)
        Fractions; NaN rows are skipped.
    rho : float
        In (0, 1).

    Returns
    -------
    z, z_se : ndarray (n_months,)
        The estimate and ``1 / sqrt(observed information)``; NaN for a month with
        no informative move, or whose moves all fall in the best (or all in the
        worst) possible outcomes, where the likelihood has no maximum.

    Notes
    -----
    Outcomes are ordered best to worst by :data:`~simulator.model.engine.kernels.ROLL_ORDER`.
    With ``C_ik`` the long-run cumulative probability of the ``k`` best outcomes from
    row ``i``, ``theta_ik = Phi^-1(C_ik)`` (the engine's thresholds with a unit-variance
    cycle), and given ``z`` the outcome ``k`` has probability

    .. math:: P_{ik}(z) = \\Phi\\Big(\\frac{\\theta_{ik} - \\sqrt\\rho z}{\\sqrt{1-\\rho}}\\Big)
              - \\Phi\\Big(\\frac{\\theta_{i,k-1} - \\sqrt\\rho z}{\\sqrt{1-\\rho}}\\Big).

    Month ``t``'s log-likelihood ``sum_ik n_tik log P_ik(z)`` is that of an ordered
    probit in the shift ``s = sqrt(rho) z / sqrt(1 - rho)`` and is concave in it; a
    safeguarded Newton iteration (bisection when a step leaves the bracket; the
    numba kernel ``_probit_shift_mle``) finds ``s_t``, and
    ``z_t = s_t sqrt((1 - rho) / rho)``. Cells
    with zero long-run probability carry no information and are skipped. For a
    single row with two outcomes it reduces to the closed form
    ``z = (theta - sqrt(1 - rho) Phi^-1(q)) / sqrt(rho)``, ``q`` the observed share
    of the better outcome (Belkin, Forest and Suchower 1998).
    """
    if not 0.0 < rho < 1.0:
        raise ValueError(f"estimate_cycle_index: rho must be in (0, 1); got {rho}")
    return _MonthlyProbit(monthly_counts, long_run_matrix).cycle_index(rho)


class _MonthlyProbit:
    """Monthly counts over the cells of a long-run matrix, ready for the ML cycle index at any ``rho``.

    Cells are (from-row, outcome) pairs with positive long-run probability, outcomes
    in ROLL_ORDER; ``lower`` and ``upper`` are their cuts ``Phi^-1(C)`` for a
    unit-variance cycle. A month identifies its index when some move avoids its
    row's best outcome and some move avoids the worst. Each call starts Newton's
    method from the previous call's location ``sqrt(rho) z_t``, which changes
    little with ``rho``.
    """

    def __init__(self, monthly_counts, long_run_matrix):
        counts = np.asarray(monthly_counts, dtype=float)
        self.n_months = counts.shape[0]
        counts = counts.reshape(self.n_months, -1, N_OUTCOMES)[..., ROLL_ORDER]
        long_run = np.asarray(long_run_matrix, dtype=float).reshape(-1, N_OUTCOMES)
        known_rows = np.isfinite(long_run).all(axis=1)
        thresholds = roll_order_thresholds(long_run[known_rows])[:, :-1]
        infinite = np.full((thresholds.shape[0], 1), np.inf)
        upper = np.concatenate([thresholds, infinite], axis=1)
        lower = np.concatenate([-infinite, thresholds], axis=1)
        informative = upper > lower
        self.counts = np.ascontiguousarray(counts[:, known_rows][:, informative])
        self.lower, self.upper = lower[informative], upper[informative]
        best, worst = np.isinf(self.lower), np.isinf(self.upper)
        self.identified = (self.counts[:, ~best].sum(axis=1) > 0) & (self.counts[:, ~worst].sum(axis=1) > 0)
        finite = thresholds[np.isfinite(thresholds)]
        self.threshold_range = (finite.min(), finite.max()) if finite.size else None
        self.location = np.zeros(self.n_months)

    def cycle_index(self, rho):
        """``z_t`` and its standard error at ``rho`` (see :func:`estimate_cycle_index`)."""
        nothing = np.full(self.n_months, np.nan)
        if self.threshold_range is None:
            return nothing, nothing
        unit = 1.0 / np.sqrt(1.0 - rho)
        bracket = (self.threshold_range[0] * unit - SHIFT_MARGIN, self.threshold_range[1] * unit + SHIFT_MARGIN)
        shift = self.location * unit
        information = nothing.copy()
        _probit_shift_mle(self.counts, self.lower * unit, self.upper * unit, bracket[0], bracket[1], shift,
                          information)
        at_edge = np.minimum(shift - bracket[0], bracket[1] - shift) < SHIFT_MARGIN / 2
        unidentified = ~self.identified | at_edge | ~(information > 0.0)
        self.location = np.where(unidentified, 0.0, shift / unit)
        shift[unidentified] = information[unidentified] = np.nan
        scale = np.sqrt((1.0 - rho) / rho)
        return shift * scale, scale / np.sqrt(information)


@njit(cache=True)
def _probit_shift_mle(counts, lower, upper, bracket_low, bracket_high, shift, information):
    """ML shift of an ordered probit with known cuts, per month; writes ``shift`` and ``information``.

    ``counts`` (n_months, n_cells) are the moves into cells (a from-row and an
    outcome) whose long-run probability is positive; the cell's outcome lies
    between the cuts ``lower`` and ``upper`` (n_cells,). Month ``t`` maximises the
    concave ``sum_c n_tc log(Phi(upper_c - s) - Phi(lower_c - s))`` by Newton's
    method safeguarded by bisection within ``[bracket_low, bracket_high]``,
    starting from ``shift[t]``, and ``information[t]`` is minus its second
    derivative at the maximum. Months without moves are left as they are.
    """
    n_months, n_cells = counts.shape
    for t in range(n_months):
        if counts[t].sum() == 0.0:
            continue
        low, high = bracket_low, bracket_high
        s = min(max(shift[t], low), high)
        for _ in range(MAX_NEWTON_STEPS):
            score, hessian = _shift_score_hessian(counts[t], lower, upper, s)
            if score > 0.0:
                low = s
            else:
                high = s
            step = s - score / hessian if hessian < 0.0 else np.nan
            if not low <= step <= high:
                step = 0.5 * (low + high)
            converged = abs(step - s) < NEWTON_TOLERANCE
            s = step
            if converged:
                break
        shift[t] = s
        information[t] = -_shift_score_hessian(counts[t], lower, upper, s)[1]


@njit(cache=True)
def _shift_score_hessian(counts, lower, upper, s):
    """First and second derivative in ``s`` of ``sum_c n_c log P_c``, ``P_c = Phi(u_c) - Phi(l_c)``.

    With ``u = upper - s`` and ``l = lower - s``: ``P' = phi(l) - phi(u)`` and
    ``P'' = l phi(l) - u phi(u)``, so the derivatives are ``sum n P'/P`` and
    ``sum n (P''/P - (P'/P)^2)``. The ratios ``phi(x) / P`` are formed in logs, so
    cells far in a tail (``P`` below ``TINY_PROBABILITY``) keep finite derivatives.
    """
    score = 0.0
    hessian = 0.0
    for c in range(counts.shape[0]):
        n = counts[c]
        if n == 0.0:
            continue
        u = upper[c] - s
        l = lower[c] - s
        if l > 0.0:
            p = 0.5 * (math.erfc(l / SQRT2) - math.erfc(u / SQRT2))
        else:
            p = 0.5 * (math.erfc(-u / SQRT2) - math.erfc(-l / SQRT2))
        if p > TINY_PROBABILITY:
            density_u = math.exp(-0.5 * u * u) / SQRT_2PI / p if math.isfinite(u) else 0.0
            density_l = math.exp(-0.5 * l * l) / SQRT_2PI / p if math.isfinite(l) else 0.0
        else:
            log_p = _log_interval_probability(l, u)
            density_u = math.exp(-0.5 * u * u - LOG_SQRT_2PI - log_p) if math.isfinite(u) else 0.0
            density_l = math.exp(-0.5 * l * l - LOG_SQRT_2PI - log_p) if math.isfinite(l) else 0.0
        ratio = density_l - density_u
        second = (l * density_l if math.isfinite(l) else 0.0) - (u * density_u if math.isfinite(u) else 0.0)
        score += n * ratio
        hessian += n * (second - ratio * ratio)
    return score, hessian


@njit(cache=True, inline="always")
def _log_interval_probability(l, u):
    """``log(Phi(u) - Phi(l))`` for ``l < u``, from the upper tail when ``l > 0``."""
    if l > 0.0:
        near, far = -l, -u
    else:
        near, far = u, l
    log_near = _log_ndtr(near)
    return log_near + math.log1p(-math.exp(_log_ndtr(far) - log_near))


@njit(cache=True, inline="always")
def _log_ndtr(x):
    """``log Phi(x)``: from ``erfc`` (accurate in relative terms) down to -20, then the asymptotic series.

    Below -20 ``log Phi(x) = log phi(x) - log(-x) + log(1 - 1/x^2 + 3/x^4 - 15/x^6)``
    to a relative error under ``105 / x^8`` (Abramowitz and Stegun 1964, 26.2.12).
    """
    if x > -20.0:
        return math.log(0.5 * math.erfc(-x / SQRT2))
    if x == -math.inf:
        return -math.inf
    x2 = x * x
    return -0.5 * x2 - LOG_SQRT_2PI - math.log(-x) + math.log1p(-1.0 / x2 + 3.0 / x2 ** 2 - 15.0 / x2 ** 3)


# --------------------------------------------------------------------------- satellite model
@dataclass(frozen=True)
class SatelliteFit:
    """OLS of the cycle index on the macro series, with diagnostics of the residual.

    Attributes
    ----------
    names : tuple of str
        ``intercept``, ``unemployment_gap_pp`` and any extra regressors.
    coef, se_ols, se_hac : ndarray (n_coef,)
        Coefficients, plain OLS and Newey-West standard errors.
    hac_lags : int
    r_squared, adj_r_squared : float
    residual_sd : float
        ``sqrt(SSR / (n - p))``.
    durbin_watson : float
        ``sum (e_t - e_{t-1})^2 / sum e_t^2``, about ``2 (1 - phi)``.
    residual_ar1, residual_ar1_se : float
        Least-squares AR(1) coefficient ``phi`` of the residuals, ``sqrt((1 - phi^2) / n)``.
    n_obs : int
    baseline_unemployment_pct : float
        The level the unemployment gap is measured from.
    residuals : ndarray (n_obs,)
    """

    names: tuple
    coef: np.ndarray
    se_ols: np.ndarray
    se_hac: np.ndarray
    hac_lags: int
    r_squared: float
    adj_r_squared: float
    residual_sd: float
    durbin_watson: float
    residual_ar1: float
    residual_ar1_se: float
    n_obs: int
    baseline_unemployment_pct: float
    residuals: np.ndarray

    @property
    def cycle_per_unemployment_pp(self):
        """``k``: shift of the cycle index per pp of unemployment."""
        return float(self.coef[1])

    @property
    def neutral_unemployment_pct(self):
        """Unemployment at which the fitted index is 0 (the long-run matrix applies): ``u_base - a / k``."""
        return float(self.baseline_unemployment_pct - self.coef[0] / self.coef[1])


def satellite_regression(z, macro, extra_regressors=(), baseline_unemployment_pct=None, hac_lags=None):
    """Regress the cycle index on the unemployment gap (and optionally other macro series).

    Parameters
    ----------
    z : ndarray (n_months,)
        :attr:`CycleFit.z`; months where it is NaN are left out.
    macro : pandas.DataFrame
        :func:`simulator.inputs.history.read_macro` aligned with the history (row ``t`` is month ``t``).
    extra_regressors : sequence of str
        More columns of ``macro`` (``income_growth_pct``, ``rate_pct``), in pp.
    baseline_unemployment_pct : float, optional
        The level of the unemployment gap; default the mean over the months used.
    hac_lags : int, optional
        Newey-West lags; default ``floor(4 (n / 100)^(2/9))``.

    Returns
    -------
    SatelliteFit

    Raises
    ------
    InputError
        Fewer months with a cycle index than coefficients + 2.

    Notes
    -----
    The model is ``z_t = a + k (u_t - u_base) + b' w_t + e_t``. Monthly ``e_t`` is
    autocorrelated, which makes plain OLS standard errors too small; ``se_hac``
    uses the Newey and West (1987) estimator with Bartlett weights
    ``1 - l / (L + 1)`` and the small-sample factor ``n / (n - p)``. Months left
    out (NaN ``z``) are skipped, and the lags count the months that remain.

    How the estimates map onto a scenario (:meth:`simulator.workflows.calibration.Calibration.roll_rate_block`):
    the engine's cycle index is ``z = x + k (u - u_baseline)``, ``x`` an AR(1) of
    stationary sd ``sigma`` (``macro.cycle.volatility``) and persistence ``phi``
    (``macro.cycle.persistence``). So ``k`` is ``cycle_per_unemployment_pp``, the
    residual sd net of the index's estimation noise is ``sigma`` and the residual
    AR(1) coefficient is ``phi``; the history's long-run matrix applies at
    :attr:`SatelliteFit.neutral_unemployment_pct`.
    """
    z = np.asarray(z, dtype=float)
    if len(macro) != z.shape[0]:
        raise ValueError(f"satellite_regression: macro has {len(macro)} rows for {z.shape[0]} months; "
                         "read it with read_macro(path, history) to align it")
    used = np.isfinite(z)
    unemployment = macro["unemployment_pct"].to_numpy(dtype=float)[used]
    baseline = float(np.mean(unemployment)) if baseline_unemployment_pct is None else baseline_unemployment_pct
    names = ("intercept", "unemployment_gap_pp") + tuple(extra_regressors)
    design = np.column_stack([np.ones(used.sum()), unemployment - baseline]
                             + [macro[name].to_numpy(dtype=float)[used] for name in extra_regressors])
    n_obs, n_coef = design.shape
    if n_obs < n_coef + 2:
        raise InputError(f"satellite regression: months with a cycle index must be at least {n_coef + 2} for "
                         f"{n_coef} coefficients; got {n_obs}. Use a longer history or fewer regressors.")
    target = z[used]
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    residuals = target - design @ coef
    ssr = float(residuals @ residuals)
    bread = np.linalg.inv(design.T @ design)
    lags = int(np.floor(4.0 * (n_obs / 100.0) ** (2.0 / 9.0))) if hac_lags is None else hac_lags
    scores = design * residuals[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        cross = scores[lag:].T @ scores[:-lag]
        meat += (1.0 - lag / (lags + 1.0)) * (cross + cross.T)
    hac = bread @ meat @ bread * n_obs / (n_obs - n_coef)
    sst = float(np.sum((target - target.mean()) ** 2))
    r_squared = 1.0 - ssr / sst
    phi = float(residuals[1:] @ residuals[:-1] / (residuals[:-1] @ residuals[:-1]))
    return SatelliteFit(
        names=names, coef=coef, se_ols=np.sqrt(np.diag(bread) * ssr / (n_obs - n_coef)),
        se_hac=np.sqrt(np.diag(hac)), hac_lags=lags, r_squared=r_squared,
        adj_r_squared=1.0 - (1.0 - r_squared) * (n_obs - 1) / (n_obs - n_coef),
        residual_sd=float(np.sqrt(ssr / (n_obs - n_coef))),
        durbin_watson=float(np.sum(np.diff(residuals) ** 2) / ssr), residual_ar1=phi,
        residual_ar1_se=float(np.sqrt(max(1.0 - phi ** 2, 0.0) / n_obs)), n_obs=n_obs,
        baseline_unemployment_pct=baseline, residuals=residuals)


def simulate_roll_rate_history(matrix, rho, n_loans, n_months, seed, z=None, persistence=0.9,
                               segment_names=None, start_distribution=None, balance_median=5000.0,
                               term_months=36, first_month="2019-01"):
    """A synthetic loan-month history from known matrices and a one-factor cycle.

    Parameters
    ----------
    matrix : array_like (7, 9) or (n_segments, 7, 9)
        Long-run transition matrices, fractions, rows summing to 1, only moves a
        history may contain (:func:`simulator.inputs.history.allowed_transitions`).
    rho : float
        Asset correlation, in [0, 1).
    n_loans : int
        Loans on the book at every month end (a loan that exits is replaced).
    n_months : int
        Months of the history, including the opening month 0.
    seed : int
    z : array_like (n_months,), optional
        Cycle index; ``z[t]`` drives the moves into month ``t`` (``z[0]`` is unused).
        Default: an AR(1) with ``persistence`` and unit stationary sd.
    persistence : float
        AR(1) coefficient of the drawn ``z``.
    segment_names : sequence of str, optional
        One per matrix (default ``default`` or ``segment_0, ...``); loan slot ``i``
        is in segment ``i mod n_segments``.
    start_distribution : array_like (7,), optional
        Opening states; default each segment's steady state with exits replaced by
        new current loans.
    balance_median : float
        Median original principal (lognormal, log sd 0.5).
    term_months : int
        A current loan repays ``principal / term_months`` a month, never below one
        instalment (maturity is not modelled: the matrix alone moves loans).
    first_month : str
        ``YYYY-MM`` label of month 0.

    Returns
    -------
    frame : pandas.DataFrame
        The history file format: ``loan_id``, ``month``, ``dpd_state``, ``balance``,
        ``segment``, sorted by loan and month.
    z : ndarray (n_months,)
        The cycle index used.

    Notes
    -----
    Each month every live loan draws its outcome from the conditional CDF
    ``Phi((theta_k - sqrt(rho) z_t) / sqrt(1 - rho))`` over ROLL_ORDER, with
    ``theta_k = Phi^-1(C_k)``: the engine's thresholds for a unit-variance cycle,
    so ``matrix`` is the average over ``z ~ N(0, 1)``. A loan that charges off or
    closes has that month as its last row (closed balance 0, charged-off balance
    the amount written off) and its slot opens a new, current loan with a new
    ``loan_id`` the same month. Draws come from ``SeedSequence([seed, HISTORY_STREAM])``:
    the cycle (when drawn), opening states and balances, then each month's
    uniforms and new principals.
    """
    matrices = _check_simulation_matrix(matrix)
    n_segments = matrices.shape[0]
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"simulate_roll_rate_history: rho must be in [0, 1); got {rho}")
    if year_month_period(first_month) < 0:
        raise ValueError(f"simulate_roll_rate_history: first_month must be YYYY-MM; got {first_month!r}")
    if segment_names is None:
        segment_names = ("default",) if n_segments == 1 else tuple(f"segment_{g}" for g in range(n_segments))
    rng = np.random.default_rng(np.random.SeedSequence([seed, HISTORY_STREAM]))
    if z is None:
        z = np.empty(n_months)
        z[0] = rng.standard_normal()
        innovations = rng.standard_normal(n_months - 1) * np.sqrt(1.0 - persistence ** 2)
        for t in range(1, n_months):
            z[t] = persistence * z[t - 1] + innovations[t - 1]
    z = np.asarray(z, dtype=float)
    if z.shape != (n_months,):
        raise ValueError(f"simulate_roll_rate_history: z must have shape ({n_months},); got {z.shape}")
    thresholds = roll_order_thresholds(matrices.reshape(-1, N_OUTCOMES))[:, :-1]

    slot_segment = np.arange(n_loans) % n_segments
    if start_distribution is None:
        opening = np.array([_steady_state(m) for m in matrices])[slot_segment]
    else:
        opening = np.broadcast_to(np.asarray(start_distribution, dtype=float), (n_loans, N_LIVE))
    state = (rng.random(n_loans)[:, None] >= np.cumsum(opening, axis=1)[:, :-1]).sum(axis=1)
    principal = balance_median * np.exp(0.5 * rng.standard_normal(n_loans))
    balance = principal * rng.uniform(0.2, 1.0, n_loans)
    loan_id = np.arange(n_loans)
    next_id = n_loans
    rows = [(loan_id, np.zeros(n_loans, np.int64), state, balance, slot_segment)]
    for t in range(1, n_months):
        cdf = ndtr((thresholds - np.sqrt(rho) * z[t]) / np.sqrt(1.0 - rho))
        outcome = (rng.random(n_loans)[:, None] >= cdf[slot_segment * N_LIVE + state]).sum(axis=1)
        month_end_state = ROLL_ORDER[outcome]
        instalment = principal / term_months
        balance = np.where(month_end_state == 0, np.maximum(balance - instalment, instalment), balance)
        rows.append((loan_id, np.full(n_loans, t), month_end_state,
                     np.where(month_end_state == CLOSED, 0.0, balance), slot_segment))
        exited = np.flatnonzero(month_end_state >= CHARGED_OFF)
        new_ids = np.arange(next_id, next_id + exited.size)
        next_id += exited.size
        loan_id = loan_id.copy()
        loan_id[exited] = new_ids
        state = np.where(month_end_state >= CHARGED_OFF, 0, month_end_state)
        principal[exited] = balance_median * np.exp(0.5 * rng.standard_normal(exited.size))
        balance[exited] = principal[exited]
        rows.append((new_ids, np.full(exited.size, t), state[exited], balance[exited], slot_segment[exited]))
    loan_ids, months, states, balances, segments = (np.concatenate(column) for column in zip(*rows))
    order = np.lexsort((months, loan_ids))
    labels = month_labels_of(year_month_period(first_month) + np.arange(n_months), "year-month")
    frame = pd.DataFrame({
        "loan_id": loan_ids[order],
        "month": pd.Categorical.from_codes(months[order], categories=list(labels)),
        "dpd_state": pd.Categorical.from_codes(states[order], categories=list(ROLL_RATE_COLUMNS)),
        "balance": np.round(balances[order], 2),
        "segment": pd.Categorical.from_codes(segments[order], categories=list(segment_names)),
    })
    return frame, z


def _check_simulation_matrix(matrix):
    """``matrix`` as ``(n_segments, 7, 9)`` fractions; ValueError unless rows are distributions of allowed moves."""
    matrices = np.asarray(matrix, dtype=float)
    matrices = matrices[None] if matrices.ndim == 2 else matrices
    if matrices.ndim != 3 or matrices.shape[1:] != (N_LIVE, N_OUTCOMES):
        raise ValueError(f"simulate_roll_rate_history: matrix must have shape (7, 9) or (n_segments, 7, 9); "
                         f"got {np.shape(matrix)}")
    if (matrices < 0).any() or not np.allclose(matrices.sum(axis=-1), 1.0):
        raise ValueError("simulate_roll_rate_history: matrix rows must be non-negative fractions summing to 1")
    if (matrices[:, ~allowed_transitions()[:N_LIVE]] > 0).any():
        raise ValueError("simulate_roll_rate_history: matrix gives probability to moves a history may not "
                         "contain (more than one state worse, or charge-off before dpd_91_120)")
    return matrices


def _steady_state(matrix):
    """Long-run shares of the live states when exits are replaced by new current loans."""
    live = matrix[:, :N_LIVE].copy()
    live[:, 0] += matrix[:, N_LIVE:].sum(axis=1)
    system = np.vstack([live.T - np.eye(N_LIVE), np.ones(N_LIVE)])
    target = np.r_[np.zeros(N_LIVE), 1.0]
    shares = np.linalg.lstsq(system, target, rcond=None)[0]
    shares = np.maximum(shares, 0.0)
    return shares / shares.sum()


# --------------------------------------------------------------------------- shared counting
def _group_cells(transitions, by_segment):
    """Group names and each move's cell ``(group * 7 + from) * 9 + to``."""
    if by_segment:
        names, group = tuple(transitions.segment_names), transitions.segment.astype(np.int64)
    else:
        names, group = (POOLED,), np.zeros(transitions.n_transitions, np.int64)
    cell = (group * N_LIVE + transitions.from_state) * N_OUTCOMES + transitions.to_state
    return names, cell


def _move_weights(transitions, weighting):
    if weighting == "count":
        return None
    if weighting == "balance":
        return transitions.balance
    raise ValueError(f"weighting must be 'count' or 'balance'; got {weighting!r}")


def _monthly_cell(month, cell, n_groups):
    """Each move's cell of the monthly table: ``month * n_groups * 63 + cell``."""
    return month * (n_groups * N_CELLS) + cell


def _monthly_counts(monthly_cell, n_months, n_groups, weights=None):
    """``(n_months, n_groups, 7, 9)`` sums of ``weights`` (default 1) by month and cell, one bincount."""
    flat = np.bincount(monthly_cell, weights=weights, minlength=n_months * n_groups * N_CELLS)
    return flat.astype(float).reshape(n_months, n_groups, N_LIVE, N_OUTCOMES)


def _row_fractions(counts):
    """Rows (last axis) divided by their totals; NaN rows where the total is 0."""
    totals = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan)


def _bootstrap_counts(cell, loan, weights, n_cells, n_loans, n_replicates, seed):
    """Yield ``(first replicate, counts (chunk, n_cells))`` for resamples of loans with replacement.

    Replicate ``b`` draws ``n_loans`` loan indices, uniformly with replacement, from
    ``SeedSequence([seed, BOOTSTRAP_STREAM])`` (one call per replicate, so chunking
    does not change the draws); a loan drawn ``w`` times counts ``w`` times.
    """
    if n_replicates == 0:
        return
    rng = np.random.default_rng(np.random.SeedSequence([seed, BOOTSTRAP_STREAM]))
    weights = np.ones(cell.shape[0]) if weights is None else weights
    by_loan = scipy.sparse.csr_matrix((weights, (cell, loan)), shape=(n_cells, n_loans))
    for first in range(0, n_replicates, BOOTSTRAP_CHUNK):
        size = min(BOOTSTRAP_CHUNK, n_replicates - first)
        multiplicity = np.empty((n_loans, size))
        for b in range(size):
            multiplicity[:, b] = np.bincount(rng.integers(0, n_loans, n_loans), minlength=n_loans)
        yield first, (by_loan @ multiplicity).T
