"""The structural model fitted to a loan history by the simulated method of moments.

* :func:`moments`: the summary statistics both the history and the model are
  judged by (roll and cure rates, the 90+ level and how the rolls into
  delinquency move with unemployment); :func:`history_moments` computes them
  from a history with errors from a bootstrap over loans,
  :func:`simulated_moments` from the engine's aggregates;
* :func:`fit_structural`: the parameters that match them (McFadden 1989;
  Gourieroux and Monfort 1996), every evaluation on common random numbers, so
  the objective moves with the parameters, not with the draws.

The fitted parameters and how they enter the scenario (:data:`PARAMETERS`):

* ``unemployment_sensitivity_scale`` multiplies every segment's
  ``unemployment_sensitivity`` (a segment's unemployment is the economy's times
  its sensitivity, so this is the borrowers' job-loss sensitivity to
  unemployment);
* ``transitory_income_sd_pct``: monthly income shock volatility;
* ``savings_target_months``: the savings buffer;
* ``willingness_shift``: a shift of the delinquent buckets' willingness to pay on
  the logit scale, ``w' = expit(logit(w) + shift)``, keeping their order.

References
----------
McFadden, D. (1989). A method of simulated moments for estimation of discrete
response models without numerical integration. Econometrica 57(5), 995-1026.
Gourieroux, C. and Monfort, A. (1996). Simulation-Based Econometric Methods.
Oxford University Press.
Hanley, J. A. and MacGibbon, B. (2006). Creating non-parametric bootstrap
samples using Poisson frequencies. Computer Methods and Programs in
Biomedicine 83(1), 57-62.
"""
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..inputs.errors import InputError
from ..inputs.schema import ActionsSpec, PathShock
from ..model.engine import layout as L
from ..model.engine.simulate import settle_borrowers, simulate_paths
from ..model.portfolio import build_book

MOMENT_NAMES = ("roll_current_to_1_30", "cure_1_30_to_current", "roll_1_30_to_31_60", "cure_31_60_to_current",
                "roll_31_60_to_61_90", "cure_61_90_to_current", "roll_61_90_to_91_120", "share_90p",
                "roll_current_to_1_30_per_unemployment_pp", "roll_1_30_to_31_60_per_unemployment_pp")
"""The moments, in order (see :func:`moments`)."""

PARAMETERS = ("unemployment_sensitivity_scale", "transitory_income_sd_pct", "savings_target_months",
              "willingness_shift")
"""The structural parameters :func:`fit_structural` fits."""

BOUNDS = {"unemployment_sensitivity_scale": (0.2, 4.0), "transitory_income_sd_pct": (1.0, 60.0),
          "savings_target_months": (0.1, 24.0), "willingness_shift": (-4.0, 4.0)}
"""Search bounds of each parameter."""

MATCHED_SE = 2.0
"""A moment is matched when the fitted value is within this many standard errors of the observed one."""


# --------------------------------------------------------------------- moments
@dataclass(frozen=True)
class Moments:
    """Values of :data:`MOMENT_NAMES` with their standard errors.

    Attributes
    ----------
    values, se : float arrays (len(MOMENT_NAMES),)
    monthly : pandas.DataFrame
        Per month (1..T-1): the roll rates behind the moments, the 90+ share and unemployment.
    loan_months : float
        Moves behind the moments (loans x months), which sets their sampling error.
    """

    values: np.ndarray
    se: np.ndarray
    monthly: pd.DataFrame
    loan_months: float


def moments(transition_counts, live_counts, unemployment_pct):
    """The calibration moments from monthly transition counts.

    Parameters
    ----------
    transition_counts : float array (T, 7, 9)
        Loans moving from live state k at the start of month t to outcome j at its
        end, for months t = 1..T (summed over paths for a simulation).
    live_counts : float array (T, 7)
        Loans in each live state at the end of each of those months.
    unemployment_pct : float array (T,)
        Unemployment in each month, percent.

    Returns
    -------
    Moments
        Roll and cure rates pooled over months (count-weighted), with the binomial
        standard error ``sqrt(p (1 - p) / n)``; the mean monthly share of live loans
        90+ DPD with the standard error of that mean across months; and the OLS
        slopes of the monthly current -> 1-30 and 1-30 -> 31-60 rates on
        unemployment (per pp) with their OLS standard errors.

    Notes
    -----
    Binomial and OLS errors treat loan-months as independent; a loan's months are
    not, so they understate the sampling error (by about 1.7 in the structural
    model). :func:`history_moments` replaces them by a bootstrap over loans.
    """
    counts = np.asarray(transition_counts, dtype=float)
    exposure = counts.sum(axis=2)
    cells = ((0, 1), (1, 0), (1, 2), (2, 0), (2, 3), (3, 0), (3, 4))
    values, se = [], []
    monthly = {}
    for (k, j), name in zip(cells, MOMENT_NAMES):
        n = exposure[:, k].sum()
        p = counts[:, k, j].sum() / n if n > 0 else np.nan
        values.append(p)
        se.append(np.sqrt(p * (1.0 - p) / n) if n > 0 else np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            monthly[name] = counts[:, k, j] / exposure[:, k]
    live = np.asarray(live_counts, dtype=float)
    share = live[:, 4:].sum(axis=1) / live.sum(axis=1)
    values.append(share.mean())
    se.append(share.std(ddof=1) / np.sqrt(len(share)))
    monthly["share_90p"] = share
    u = np.asarray(unemployment_pct, dtype=float)
    design = np.column_stack([np.ones_like(u), u])
    for name in ("roll_current_to_1_30", "roll_1_30_to_31_60"):
        rate = monthly[name]
        usable = np.isfinite(rate)
        coefficients, *_ = np.linalg.lstsq(design[usable], rate[usable], rcond=None)
        residual = rate[usable] - design[usable] @ coefficients
        dof = max(int(usable.sum()) - 2, 1)
        covariance = residual @ residual / dof * np.linalg.pinv(design[usable].T @ design[usable])
        values.append(coefficients[1])
        se.append(np.sqrt(covariance[1, 1]))
    monthly["unemployment_pct"] = u
    return Moments(np.array(values), np.array(se), pd.DataFrame(monthly), float(exposure.sum()))


MOMENT_REPLICATES = 200
MOMENT_STREAM = 21
"""Key of the seed sequence of the moments' bootstrap over loans."""


def history_moments(transitions, history, unemployment_pct, n_replicates=MOMENT_REPLICATES, seed=0):
    """:func:`moments` of a loan history, with standard errors from a bootstrap over loans.

    Each replicate weighs every loan (all its months together) by an independent
    Poisson(1) count, the Poisson bootstrap (Hanley and MacGibbon 2006), so the
    errors see that a loan's months are correlated; the error of each moment is
    the sd of its ``n_replicates`` replicates.

    Parameters
    ----------
    transitions : simulator.inputs.history.Transitions
    history : simulator.inputs.history.History
    unemployment_pct : float array (n_months,)
        The macro series aligned with the history's months.
    n_replicates : int
        0 or 1 keeps the formula errors of :func:`moments`.
    seed : int

    References
    ----------
    Hanley, J. A. and MacGibbon, B. (2006). Creating non-parametric bootstrap
    samples using Poisson frequencies. Computer Methods and Programs in
    Biomedicine 83(1), 57-62.
    """
    n_months = history.n_months
    cell = (transitions.month * 7 + transitions.from_state) * 9 + transitions.to_state
    live_rows = history.state < 7
    live_cell = history.month[live_rows] * 7 + history.state[live_rows]
    u = np.asarray(unemployment_pct)[1:]

    def weighted(weights=None):
        counts = np.bincount(cell, weights=None if weights is None else weights[transitions.loan],
                             minlength=n_months * 63).reshape(n_months, 7, 9)[1:]
        live = np.bincount(live_cell, weights=None if weights is None else weights[history.loan[live_rows]],
                           minlength=n_months * 7).reshape(n_months, 7)[1:]
        return moments(counts, live, u)

    estimate = weighted()
    if n_replicates <= 1:
        return estimate
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, MOMENT_STREAM])))
    replicates = np.array([weighted(rng.poisson(1.0, history.n_loans).astype(float)).values
                           for _ in range(n_replicates)])
    return replace(estimate, se=np.nanstd(replicates, axis=0, ddof=1))


def simulated_moments(aggregates, unemployment_pct):
    """:func:`moments` of engine aggregates ``(paths, months + 1, N_METRICS)``, pooled over paths."""
    pooled = aggregates.sum(axis=0)
    counts = pooled[1:, L.TRANSITION:L.TRANSITION + 7 * L.N_OUTCOMES].reshape(-1, 7, L.N_OUTCOMES)
    live = pooled[1:, L.COUNT:L.COUNT + L.N_LIVE_STATES]
    return moments(counts, live, np.asarray(unemployment_pct)[1:])


# --------------------------------------------------------------------- the structural fit
def with_parameters(scenario, parameters):
    """``scenario`` with the structural parameters of :data:`PARAMETERS` (a dict) applied."""
    structural = scenario.behaviour.structural
    willingness = structural.willingness
    shift = parameters["willingness_shift"]
    shifted = {}
    fractions = willingness.resolved
    for bucket in ("dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_plus"):
        w = np.clip(getattr(fractions, bucket), 1e-4, 1.0 - 1e-4)
        shifted[bucket] = float(100.0 * special.expit(special.logit(w) + shift))
    structural = structural.model_copy(update={
        "transitory_income_sd_pct": float(parameters["transitory_income_sd_pct"]),
        "savings_target_months": float(parameters["savings_target_months"]),
        "willingness": willingness.model_copy(update=shifted)})
    segments = [segment.model_copy(update={
        "unemployment_sensitivity": float(segment.unemployment_sensitivity
                                          * parameters["unemployment_sensitivity_scale"])})
        for segment in scenario.portfolio.segments]
    return scenario.model_copy(update={
        "behaviour": scenario.behaviour.model_copy(update={"model": "structural", "structural": structural}),
        "portfolio": scenario.portfolio.model_copy(update={"segments": segments})})


def on_history_economy(scenario, macro_frame, n_loans=None, paths=4):
    """``scenario`` set up to replay a history: its months, its macro series as the central path, no cycle on top,
    no management actions, a constant book of ``n_loans`` loans."""
    n_months = len(macro_frame) - 1
    baseline = scenario.macro.baseline.model_copy(update={
        "unemployment_pct": float(macro_frame["unemployment_pct"].iloc[0]),
        **({"income_growth_pct": float(macro_frame["income_growth_pct"].iloc[0])}
           if "income_growth_pct" in macro_frame else {}),
        **({"policy_rate_pct": float(macro_frame["rate_pct"].iloc[0])} if "rate_pct" in macro_frame else {})})
    shocks = [{"shape": "path", "variable": variable, "frequency": "monthly",
               "levels_pct": [float(v) for v in macro_frame[column].iloc[1:]]}
              for variable, column in (("unemployment", "unemployment_pct"), ("income_growth", "income_growth_pct"),
                                       ("policy_rate", "rate_pct")) if column in macro_frame]
    macro = scenario.macro.model_copy(update={
        "baseline": baseline, "shocks": [PathShock(**shock) for shock in shocks],
        "cycle": scenario.macro.cycle.model_copy(update={"volatility": 0.0})})
    replay = scenario.model_copy(update={"macro": macro, "actions": ActionsSpec()})
    return replay.with_run(horizon_months=n_months, paths=paths, balance_sheet="constant").with_loans(n_loans)


def current_parameters(scenario):
    """The values of :data:`PARAMETERS` that ``scenario`` implies (scale 1 and shift 0: the scenario as written)."""
    structural = scenario.behaviour.structural
    return {"unemployment_sensitivity_scale": 1.0, "transitory_income_sd_pct": structural.transitory_income_sd_pct,
            "savings_target_months": structural.savings_target_months, "willingness_shift": 0.0}


def model_moments(scenario, parameters, seed):
    """Moments and aggregates of the structural model at ``parameters`` on the replay ``scenario``.

    The same ``seed`` gives every evaluation the same random numbers (common random
    numbers), so the moments move with the parameters, not with the draws.
    """
    fitted = with_parameters(scenario, parameters)
    book = settle_borrowers(fitted, build_book(fitted, seed), seed)
    aggregates, central, _ = simulate_paths(fitted, book, seed)
    return simulated_moments(aggregates, central["unemployment"]), aggregates


@dataclass
class StructuralFit:
    """Result of :func:`fit_structural`.

    Attributes
    ----------
    parameters_ : dict
        Fitted values of :data:`PARAMETERS`.
    se_ : dict
        Their asymptotic standard errors, ``sqrt(diag((G' Omega^-1 G)^-1) (1 + n_obs / n_sim))`` with
        ``Omega = diag(se_obs^2)``; infinite for a parameter the moments do not move with.
    start : dict
        Where the search started (the base scenario's values).
    observed, fitted : Moments
    objective : float
        ``J = sum_k (m_obs_k - m_sim_k)^2 / se_k^2`` at the optimum (:func:`difference_se`); about
        chi-square with (moments - parameters) degrees of freedom when the model is right.
    evaluations : int
    scenario : Scenario
        The replay scenario with the fitted parameters.
    aggregates : numpy.ndarray
        The fitted model's aggregates on the history's economy.
    """

    parameters_: dict
    se_: dict
    start: dict
    observed: Moments
    fitted: Moments
    objective: float
    evaluations: int
    scenario: object
    aggregates: np.ndarray

    @property
    def moment_table(self):
        """Observed and fitted moments, the error of their difference (:func:`difference_se`), and whether each is
        matched (within :data:`MATCHED_SE`)."""
        se = difference_se(self.observed, self.fitted)
        gap = (self.fitted.values - self.observed.values) / se
        return pd.DataFrame({"moment": MOMENT_NAMES, "observed": self.observed.values, "fitted": self.fitted.values,
                             "se": se, "gap_in_se": gap, "matched": np.abs(gap) <= MATCHED_SE})


def fit_structural(replay, observed, seed, start=None, fixed=(), max_evaluations=400):
    """Fit :data:`PARAMETERS` by the simulated method of moments.

    Minimises ``J(theta) = sum_k (m_k(theta) - m_obs_k)^2 / se_k^2`` (:func:`difference_se`)
    over the parameters (searched on a log scale for the positive ones, within
    :data:`BOUNDS`) with Nelder-Mead, every evaluation on the same random numbers.
    The errors come from the numerical Jacobian ``G`` of the moments at the optimum:
    ``Var(theta) = (G' Omega^-1 G)^-1 (1 + n_obs / n_sim)`` with ``Omega = diag(se_obs^2)``
    and ``n_obs / n_sim`` the ratio of observed to simulated loan-months (the
    simulation's own noise; Gourieroux and Monfort 1996, ch. 2).

    Parameters
    ----------
    replay : Scenario
        The scenario on the history's economy (:func:`on_history_economy`).
    observed : Moments
    seed : int
    start : dict, optional
        Starting values (default: the scenario's own, :func:`current_parameters`).
    fixed : sequence of str
        Parameters held at their starting value (e.g. a savings buffer known from a survey).

    Returns
    -------
    StructuralFit
    """
    start = dict(start or current_parameters(replay))
    free = [name for name in PARAMETERS if name not in fixed]
    valid = np.isfinite(observed.values) & (observed.se > 0)
    if valid.sum() < len(free):
        raise InputError(f"calibrate: the history gives {valid.sum()} usable moments of {len(MOMENT_NAMES)}; the "
                         f"structural fit needs at least {len(free)}. Give a longer history or more loans.")
    evaluations = [0]

    def decode(x):
        values = dict(start)
        for name, value in zip(free, x):
            low, high = BOUNDS[name]
            values[name] = float(np.clip(value if name == "willingness_shift" else np.exp(value), low, high))
        return values

    def objective(x):
        evaluations[0] += 1
        simulated, _ = model_moments(replay, decode(x), seed)
        variance = difference_se(observed, simulated)[valid] ** 2
        return float(np.sum((simulated.values[valid] - observed.values[valid]) ** 2 / variance))

    x0 = np.array([start[name] if name == "willingness_shift" else np.log(start[name]) for name in free])
    simplex = x0 + np.vstack([np.zeros(len(x0)), 0.25 * np.eye(len(x0))])
    result = optimize.minimize(objective, x0, method="Nelder-Mead",
                               options={"initial_simplex": simplex, "maxfev": max_evaluations, "xatol": 1e-3,
                                        "fatol": 1e-3})
    parameters = decode(result.x)
    fitted, aggregates = model_moments(replay, parameters, seed)
    se = _parameter_errors(replay, parameters, free, observed, fitted, seed, valid)
    return StructuralFit(parameters, se, start, observed, fitted, float(result.fun), evaluations[0],
                         with_parameters(replay, parameters), aggregates)


def _parameter_errors(replay, parameters, free, observed, fitted, seed, valid, step=0.1):
    """Asymptotic standard errors of the ``free`` parameters from the central-difference Jacobian of the moments
    (see :func:`fit_structural`); ``step`` is relative, wide enough to see through the simulation's graininess.
    Fixed parameters get an error of 0."""
    jacobian = np.empty((int(valid.sum()), len(free)))
    for k, name in enumerate(free):
        h = step * max(abs(parameters[name]), 0.5)
        up, down = dict(parameters), dict(parameters)
        up[name] += h
        down[name] -= h
        jacobian[:, k] = (model_moments(replay, up, seed)[0].values[valid]
                          - model_moments(replay, down, seed)[0].values[valid]) / (2.0 * h)
    errors = {name: 0.0 for name in PARAMETERS}
    moving = np.any(jacobian != 0.0, axis=0)  # a parameter the moments do not move with is not identified at all
    errors.update({name: np.inf for name, moves in zip(free, moving) if not moves})
    if moving.any():
        slopes = jacobian[:, moving]
        information = slopes.T @ np.diag(1.0 / observed.se[valid] ** 2) @ slopes
        covariance = np.linalg.pinv(information) * (1.0 + observed.loan_months / fitted.loan_months)
        errors.update({name: float(np.sqrt(max(covariance[k, k], 0.0)))
                       for k, name in enumerate(np.array(free)[moving])})
    return errors


def difference_se(observed, simulated):
    """Standard error of ``m_sim - m_obs``: the observed moments' (bootstrap) error, inflated by the simulation's own
    noise, ``se_obs sqrt(1 + n_obs / n_sim)`` with ``n`` the loan-months behind each (the simulation's noise has the
    same structure as the history's, at its own size)."""
    return observed.se * np.sqrt(1.0 + observed.loan_months / simulated.loan_months)


def not_identified(fit):
    """Free parameters the moments hardly pin down: a 95% interval (+-1.96 se) wider than half the search range
    (:data:`BOUNDS`), or no finite error."""
    flagged = []
    for name in PARAMETERS:
        low, high = BOUNDS[name]
        se = fit.se_[name]
        if not np.isfinite(se) or 2.0 * 1.96 * se > 0.5 * (high - low):
            flagged.append(name)
    return flagged
