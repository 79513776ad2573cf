"""The one-factor roll-rate model on a scenario's terms, its projection of a book and its back-test on a history.

The cohort matrices, the cycle index and the satellite regression of
:mod:`.rollrates` become, through the one-factor link of Belkin, Forest and
Suchower (1998), the monthly matrices a scenario's engine runs
(:func:`one_factor_matrices`); projected over a history's own economy they give
the roll-rate back-test (:func:`roll_rate_backtest`, scored by
:func:`backtest_errors`).

References
----------
Belkin, B., Forest, L. R. and Suchower, S. J. (1998), "A one-parameter
representation of credit risk and transition matrices", CreditMetrics Monitor,
Third Quarter, 46-56.
"""
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import special

from ..model.engine.kernels import ROLL_ORDER
from ..model.engine.simulate import roll_order_thresholds
from .rollrates import cohort_estimate, fit_credit_cycle, satellite_regression


def one_factor_matrices(long_run, rho, z, residual_sd=0.0):
    """Transition matrices of the one-factor link at cycle index values ``z`` (Belkin, Forest and Suchower 1998).

    Cumulative probabilities over :data:`~simulator.model.engine.kernels.ROLL_ORDER`:
    ``Phi((Phi^-1(C_k) - sqrt(rho) z) / sqrt(1 - rho + rho s^2))``, ``C_k`` those of
    ``long_run`` (the average over a history whose index had unit variance).
    With ``s = 0`` this is the matrix given ``z`` exactly; with ``s`` the sd of the
    index around ``z`` (the satellite model's residual) it is the expected matrix
    over that uncertainty, since ``E Phi((a - b e) / c) = Phi(a / sqrt(c^2 + b^2 s^2))``
    for ``e ~ N(0, s^2)``.

    The engine's base matrix follows from the same formula: it uses
    ``z = x + k (u - u_baseline)``, ``x ~ N(0, sigma^2)``, and thresholds scaled by
    ``sqrt(1 - rho + rho sigma^2)``, so the matrix that makes it reproduce a fitted
    history is ``one_factor_matrices(long_run, rho, z0, sigma)`` with ``z0`` the
    satellite model's index at the scenario's baseline unemployment and ``sigma``
    its residual sd.

    Parameters
    ----------
    long_run : float array (..., 7, 9)
        Fractions, columns in :data:`~simulator.inputs.schema.ROLL_RATE_COLUMNS` order.
    rho : float
    z : float or float array (n,)
    residual_sd : float

    Returns
    -------
    float array (..., 7, 9) for a scalar ``z``, else (n, ..., 7, 9)
    """
    thresholds = roll_order_thresholds(long_run)
    z_values = np.asarray(z, dtype=float)
    shaped = z_values.reshape(z_values.shape + (1,) * thresholds.ndim)
    cumulative = special.ndtr((thresholds - np.sqrt(rho) * shaped) / np.sqrt(1.0 - rho + rho * residual_sd ** 2))
    cumulative[..., -1] = 1.0
    matrices = np.empty_like(cumulative)
    matrices[..., ROLL_ORDER] = np.diff(cumulative, axis=-1, prepend=0.0)
    return matrices


def project_overdue(opening, births, matrices):
    """Loans per live state month by month from an opening book, monthly matrices and the loans written.

    ``n_t = n_{t-1} P_t[:, :7] + b_t`` per segment: the expected counts under the
    matrices (exits leave, new loans enter in their first observed state).

    Parameters
    ----------
    opening : float array (n_groups, 7)
        Loans per state at month 0.
    births : float array (n_months, n_groups, 7)
        Loans first seen in each month, by their state then (month 0 unused).
    matrices : float array (n_months, n_groups, 7, 9)
        ``matrices[t]`` moves month ``t - 1`` to month ``t`` (month 0 unused).

    Returns
    -------
    float array (n_months, n_groups, 7)
    """
    counts = np.empty_like(births)
    counts[0] = opening
    for t in range(1, births.shape[0]):
        counts[t] = np.einsum("gk,gkj->gj", counts[t - 1], matrices[t][:, :, :7]) + births[t]
    return counts


def share_90p(counts):
    """Share of live loans 90+ DPD from counts ``(..., n_groups, 7)`` summed over groups."""
    total = counts.sum(axis=(-1, -2))
    return counts[..., 4:].sum(axis=(-1, -2)) / total


def cycle_volatility(satellite, cycle):
    """The sd of the cycle index around the satellite model, net of the index's own estimation noise:
    ``sqrt(max(residual_sd^2 - mean(z_se^2), 0))`` (the scenario's ``macro.cycle.volatility``)."""
    noise = np.nanmean(np.asarray(cycle.z_se, dtype=float) ** 2)
    return float(np.sqrt(max(satellite.residual_sd ** 2 - noise, 0.0)))


def training_window(transitions, n_months):
    """The moves of ``transitions`` that end before month ``n_months`` (the training window)."""
    keep = transitions.month < n_months
    arrays = {name: getattr(transitions, name)[keep]
              for name in ("loan", "segment", "month", "from_state", "to_state", "balance")}
    return replace(transitions, **arrays, n_months=n_months, month_labels=transitions.month_labels[:n_months])


def observed_counts(history):
    """Opening live counts ``(n_groups, 7)``, loans first seen per month ``(n_months, n_groups, 7)`` and live counts
    per month ``(n_months, n_groups, 7)`` of a history, by segment."""
    n_groups, n_months = len(history.segment_names), history.n_months
    live = history.state < 7
    index = (history.month * n_groups + history.segment) * 7 + history.state
    counts = np.bincount(index[live], minlength=n_months * n_groups * 7).reshape(n_months, n_groups, 7)
    first = np.r_[True, history.loan[1:] != history.loan[:-1]] & live
    births = np.bincount(index[first], minlength=n_months * n_groups * 7).reshape(n_months, n_groups, 7)
    return counts[0].astype(float), births.astype(float), counts.astype(float)


def roll_rate_backtest(history, transitions, macro, holdout_months):
    """The 90+ share of live loans, observed and projected by the roll-rate model estimated on the months before the
    hold-out (count-weighted matrices by segment, cycle index and satellite model re-estimated on those months).

    The projection starts from the opening book, adds the loans written each month
    as observed, and moves the book with the expected matrices given unemployment
    (:func:`one_factor_matrices` at the satellite model's index, over its residual
    sd net of estimation noise; the long-run matrices where the history shows no cycle).
    """
    n_train = history.n_months - holdout_months
    train = training_window(transitions, n_train) if holdout_months else transitions
    cohort = cohort_estimate(train, "count")
    pooled = cohort_estimate(train, "count", by_segment=False).matrix[0]
    long_run = np.where(np.isnan(cohort.matrix), pooled[None], cohort.matrix)
    long_run = np.where(np.isnan(long_run), np.eye(7, 9)[None], long_run)  # a state nobody visited: stays put
    cycle = fit_credit_cycle(train, 0)
    unemployment = macro["unemployment_pct"].to_numpy(dtype=float)
    if np.isfinite(cycle.rho) and cycle.rho > 0:
        satellite = satellite_regression(cycle.z, macro.iloc[:n_train].reset_index(drop=True))
        z = satellite.coef[0] + satellite.coef[1] * (unemployment - satellite.baseline_unemployment_pct)
        matrices = one_factor_matrices(long_run, cycle.rho, z, cycle_volatility(satellite, cycle))
    else:
        matrices = np.broadcast_to(long_run, (history.n_months,) + long_run.shape)
    opening, births, observed = observed_counts(history)
    projected = project_overdue(opening, births, matrices)
    return pd.DataFrame({"month": history.month_labels, "share_90p_observed": share_90p(observed),
                         "share_90p_roll_rate": share_90p(projected),
                         "in_sample": np.arange(history.n_months) < n_train})


def backtest_errors(backtest, holdout_months):
    """Mean absolute and largest error of the projected 90+ share, in and out of sample (percentage points)."""
    errors = {}
    for model in ("roll_rate", "structural"):
        column = f"share_90p_{model}"
        if column not in backtest:
            continue
        gap = 100.0 * (backtest[column] - backtest["share_90p_observed"])
        for label, rows in (("in_sample", backtest["in_sample"]), ("held_out", ~backtest["in_sample"])):
            if rows.any():
                errors[f"{model}_{label}_mean_abs_pp"] = float(np.abs(gap[rows]).mean())
                errors[f"{model}_{label}_max_abs_pp"] = float(np.abs(gap[rows]).max())
    errors["holdout_months"] = holdout_months
    return errors
