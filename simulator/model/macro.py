"""Macro paths: the scenario's central path and each Monte Carlo path's deviation from it.

Month 0 is today (the opening book); months 1..H are simulated. Arrays are
``(n_paths, n_months + 1)`` with rates as fractions (unemployment 0.052 = 5.2%;
income growth and policy rate annual).
"""
import math
from dataclasses import dataclass

import numpy as np

from ..inputs.errors import InputError, must_be

from .sampling import cycle_innovations

VARIABLES = ("unemployment", "income_growth", "policy_rate")
MIN_UNEMPLOYMENT = 0.001


def shock_profile(shock, n_months):
    """Deviation (percentage points) a shock adds in months 0..n_months.

    Parameters
    ----------
    shock : StepShock, RampShock, HumpShock or PathShock
    n_months : int
        Horizon H; the result has H + 1 entries. ``path`` shocks are handled by
        :func:`central_path`, which knows the baseline they start from.

    Returns
    -------
    numpy.ndarray of shape (n_months + 1,)
    """
    t = np.arange(n_months + 1, dtype=float)
    size = getattr(shock, "size_pp", 0.0)
    if shock.shape == "step":
        end = shock.end_month if shock.end_month is not None else np.inf
        return np.where((t >= shock.start_month) & (t <= end), size, 0.0)
    if shock.shape == "ramp":
        span = shock.end_month - shock.start_month + 1
        return size * np.clip((t - shock.start_month + 1) / span, 0.0, 1.0)
    if shock.shape == "hump":
        rise = np.clip((t - shock.start_month + 1) / (shock.peak_month - shock.start_month + 1), 0.0, 1.0)
        decay_start = shock.peak_month + shock.hold_months
        if shock.decay_months > 0:
            fall = np.clip(1.0 - (t - decay_start) / shock.decay_months, 0.0, 1.0)
        else:
            fall = (t <= decay_start).astype(float)
        return size * np.minimum(rise, fall)
    raise ValueError(f"shock_profile: unknown shape {shock.shape!r}")


def central_path(macro, n_months):
    """Central (expected) path of each variable in percent, months 0..H.

    Baseline level plus the sum of the shocks on that variable. A ``path`` shock's
    levels are interpolated linearly from the baseline at month 0 (monthly points
    at months 1, 2, ...; quarterly at 3, 6, ...) and held after the last point;
    it contributes its deviation from the baseline.

    Returns
    -------
    dict of str -> numpy.ndarray of shape (n_months + 1,)
    """
    t = np.arange(n_months + 1, dtype=float)
    paths = {}
    for name in VARIABLES:
        base = getattr(macro.baseline, f"{name}_pct")
        level = np.full(n_months + 1, base, dtype=float)
        for shock in macro.shocks:
            if shock.variable != name:
                continue
            if shock.shape == "path":
                step = 1 if shock.frequency == "monthly" else 3
                months = step * np.arange(0, len(shock.levels_pct) + 1, dtype=float)
                levels = np.concatenate([[base], shock.levels_pct])
                level += np.interp(t, months, levels) - base
            else:
                level += shock_profile(shock, n_months)
        paths[name] = level
    return paths


MEANINGFUL_RANGES = {"unemployment": (0.0, 100.0, "from 0 to 100"),
                     "income_growth": (-100.0, 100.0, "above -100 and at most 100 (a fall of 100% a year or more "
                                                      "leaves no income)"),
                     "policy_rate": (-10.0, 100.0, "from -10 to 100")}
"""Where each variable's central path has a meaning, percent: every shock may be within its own bounds while their
sum is not (two income-growth steps of -60 pp make -115% a year, and the model's arithmetic turns to NaN)."""


def check_macro_paths(scenario, source=None):
    """Refuse a scenario whose central macro path leaves :data:`MEANINGFUL_RANGES` once all shocks are summed.

    Parameters
    ----------
    scenario : Scenario
    source : str, optional
        The file or what holds the scenario, in messages (default: its name).

    Raises
    ------
    InputError
        Naming the variable, the month, the level reached and the shocks that sum to it.
    """
    paths = central_path(scenario.macro, scenario.run.horizon_months)
    problems = []
    for name, level in paths.items():
        low, high, words = MEANINGFUL_RANGES[name]
        bad = (level <= low) if name == "income_growth" else (level < low)
        bad = bad | (level > high)
        if bad.any():
            month = int(np.flatnonzero(bad)[0])
            shocks = [f"macro.shocks[{i}] ({shock.shape})" for i, shock in enumerate(scenario.macro.shocks)
                      if shock.variable == name]
            problems.append(must_be(source or scenario.name, f"macro {name} (baseline plus {', '.join(shocks)})",
                                    f"{words} percent in every month once the shocks are summed",
                                    round(float(level[month]), 6),
                                    f"It leaves that range in month {month}: make the shocks on {name} smaller, "
                                    "or let them overlap less."))
    if problems:
        raise InputError(problems)


def cycle_factor(cycle, seed, path_ids, n_months, run=None):
    """The AR(1) credit-cycle factor of each path (stationary sd ``sigma``).

    ``x_t = phi x_{t-1} + sigma sqrt(1 - phi^2) eps_t`` for ``t >= 1``, so ``x_t`` tends
    to ``N(0, sigma^2)``; ``eps`` are drawn as ``run.sampling`` says
    (:func:`simulator.model.sampling.cycle_innovations`; plain Monte Carlo from the
    path's macro stream when ``run`` is ``None``). The start follows ``cycle.start``: ``x_0 = k sigma`` for
    a number ``k`` (0 by default: today is known), or ``x_0 = sigma eps_0`` for
    ``stationary``, which makes every ``x_t ~ N(0, sigma^2)``. Month 0's normal is
    otherwise unused, so the choice of start moves no other draw.

    Returns
    -------
    numpy.ndarray of shape (len(path_ids), n_months + 1)
    """
    path_ids = np.asarray(path_ids, dtype=np.int64)
    x = np.zeros((len(path_ids), n_months + 1))
    if cycle.volatility == 0.0:
        return x
    eps = cycle_innovations(run, cycle, seed, path_ids, n_months)
    x[:, 0] = cycle.volatility * (eps[:, 0] if cycle.start == "stationary" else cycle.start)
    scale = cycle.volatility * math.sqrt(1.0 - cycle.persistence * cycle.persistence)
    for m in range(1, n_months + 1):
        x[:, m] = cycle.persistence * x[:, m - 1] + scale * eps[:, m]
    return x


@dataclass(frozen=True)
class MacroPaths:
    """Per-path macro variables for a block of paths, fractions, shape (n_paths, n_months + 1).

    Attributes
    ----------
    unemployment, income_growth, policy_rate : numpy.ndarray
    cycle : numpy.ndarray
        The credit-cycle factor ``x`` (positive = worse), in stationary-sd units.
    central : dict
        The central path of each variable, percent.
    """

    unemployment: np.ndarray
    income_growth: np.ndarray
    policy_rate: np.ndarray
    cycle: np.ndarray
    central: dict


def macro_paths(macro, seed, path_ids, n_months, run=None):
    """Central path plus each path's stochastic deviation (the cycle drawn as ``run`` says, see :func:`cycle_factor`).

    Unemployment = central + ``unemployment_loading_pp * x`` (floored at 0.1%),
    income growth = central - ``income_growth_loading_pp * x``; the policy rate has
    no stochastic part.
    """
    central = central_path(macro, n_months)
    x = cycle_factor(macro.cycle, seed, path_ids, n_months, run)
    unemployment = np.maximum((central["unemployment"] + macro.cycle.unemployment_loading_pp * x) / 100.0,
                              MIN_UNEMPLOYMENT)
    income_growth = (central["income_growth"] - macro.cycle.income_growth_loading_pp * x) / 100.0
    policy_rate = np.broadcast_to(central["policy_rate"] / 100.0, x.shape).copy()
    return MacroPaths(unemployment, income_growth, policy_rate, x, central)
