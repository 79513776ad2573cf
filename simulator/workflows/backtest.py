"""Back-tests: the scenario's book run through an economy that happened, against the delinquency that happened.

The scenario's unemployment is replaced by a history (its other shocks stay), the
credit cycle is switched off (``macro.cycle.volatility = 0``: the history is the
path), and the model's chosen rate is set against an observed series at that
series' frequency:

* month 0 of the run is the first month of the first observed period (2007-01
  for an observed 2007Q1), with the history's level that month as the baseline;
  the history's later months are a monthly ``path`` shock (a quarterly history is
  first made monthly by :func:`simulator.inputs.series.monthly_levels`);
* a stock (the 30+ and 90+ delinquency rates) is the model's value in the
  period's last month (a quarter-end stock, as banks report delinquency); a flow
  (the charge-off rate) is the mean of the period's months with a value (month 0
  has no charge-off flow);
* each series is divided by its own first observation (a ratio of 1.0 at the
  start), which is what the back-test compares: the shape (height, timing,
  return), not the level, since the book is not the reporting banks' book.

The statistics (:func:`ratio_statistics`) are pure functions of the two aligned
series. A scenario may name its history in a ``backtest`` section
(:class:`simulator.inputs.schema.BacktestSpec`, run by :func:`scenario_backtest`),
with a validator's acceptance criteria, each evaluated on those statistics by
:func:`acceptance_results` (docs/backtest.md).
"""
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..inputs.errors import InputError, must_be
from ..inputs.loader import load_scenario
from ..inputs.schema import PathShock, Scenario
from ..inputs.series import monthly_levels, period_label, read_backtest_history
from .results import json_number, run, versions, write_atomically, write_json
from .settings import BACKTEST_PATHS, BACKTEST_RATES

MARKER = "backtest.json"
"""The file that marks a back-test directory."""

RATES = BACKTEST_RATES
"""The model rates a back-test can compare, with their definitions (:data:`.settings.BACKTEST_RATES`)."""

FLOW_RATES = ("chargeoff",)
"""Rates that are flows over a period (averaged over its months); the others are stocks (its last month)."""

DEFAULT_PATHS = BACKTEST_PATHS
"""Paths of a back-test unless asked (:data:`.settings.BACKTEST_PATHS`)."""

MAX_LAG = 4
"""Leads and lags searched, in the observed series' periods (4 quarters either way for a quarterly series)."""


def model_rate_pct(series, rate):
    """The model's ``rate`` per path and month, percent, from a run's per-path series.

    Parameters
    ----------
    series : dict of str -> numpy.ndarray (n_paths, n_months + 1)
        :attr:`simulator.workflows.results.Results.series`.
    rate : {'30p', '90p', 'chargeoff'}
        See :data:`RATES`. Month 0 of ``chargeoff`` is NaN (no flow before the first month).

    Returns
    -------
    numpy.ndarray (n_paths, n_months + 1)
    """
    if rate == "30p":
        return 100.0 * (series["overdue_rate_31_90"] + series["overdue_rate_90p"])
    if rate == "90p":
        return 100.0 * series["overdue_rate_90p"]
    balance = series["book_balance"]
    with np.errstate(invalid="ignore", divide="ignore"):
        annualised = np.where(balance > 0, 1200.0 * (series["chargeoff"] - series["recovery"]) / balance, np.nan)
    annualised[:, 0] = np.nan
    return annualised


def align(model_monthly, first_month, period_months, step, flow):
    """The model's value in each observed period.

    Parameters
    ----------
    model_monthly : numpy.ndarray (n_months + 1,)
        The model's rate in months 0..H.
    first_month : int
        The calendar month (``12 * year + month - 1``) of the run's month 0.
    period_months : array of int
        Each observed period's first calendar month.
    step : int
        Months per period (1 or 3).
    flow : bool
        A flow is the mean of the period's months with a value; a stock is the
        value in the period's last month.

    Returns
    -------
    numpy.ndarray (len(period_months),)
    """
    first = np.asarray(period_months) - first_month
    if flow:
        return np.array([np.nanmean(model_monthly[i:i + step]) if np.isfinite(model_monthly[i:i + step]).any()
                         else np.nan for i in first])
    return model_monthly[first + step - 1]


def lag_errors(model_ratio, observed_ratio, max_lag=MAX_LAG):
    """Mean absolute error of the ratio with the model shifted by each lag ``k`` in ``-max_lag..max_lag``.

    At lag ``k`` the model's period ``t + k`` is set against the observed period
    ``t`` (``k > 0``: the model moves ``k`` periods after the history), over the
    periods where both exist. Lags leaving fewer than half the periods are skipped.

    Returns
    -------
    dict of int -> float
    """
    n = len(observed_ratio)
    errors = {}
    for k in range(-max_lag, max_lag + 1):
        t = np.arange(max(0, -k), min(n, n - k))
        if len(t) < max(2, math.ceil(n / 2)):
            continue
        errors[k] = float(np.mean(np.abs(model_ratio[t + k] - observed_ratio[t])))
    return errors


def best_lag(errors):
    """The lag of least error; a tie goes to the lag nearest 0, then to the lead (negative)."""
    return min(errors, key=lambda k: (errors[k], abs(k), k))


def peak(ratio, labels):
    """``(highest ratio, its period label)``; the first period on a tie."""
    i = int(np.nanargmax(ratio))
    return float(ratio[i]), labels[i]


def ratio_statistics(observed_levels, model_levels, labels, max_lag=MAX_LAG):
    """Both series as ratios to their first observation, and how they differ.

    Parameters
    ----------
    observed_levels, model_levels : array (n_periods,)
        Aligned levels (percent); the first of each must be positive.
    labels : list of str
        The periods' labels.
    max_lag : int

    Returns
    -------
    dict
        ``observed`` and ``model``: ``{peak_ratio, peak_period, end_ratio}``;
        ``mean_abs_ratio_error`` (lag 0), ``best_lag`` (periods, positive = model
        late), ``mean_abs_ratio_error_at_best_lag`` and ``ratio_error_by_lag``.
    """
    observed_ratio = np.asarray(observed_levels, dtype=float) / observed_levels[0]
    model_ratio = np.asarray(model_levels, dtype=float) / model_levels[0]
    errors = lag_errors(model_ratio, observed_ratio, max_lag)
    lag = best_lag(errors)
    described = {}
    for name, ratio in (("observed", observed_ratio), ("model", model_ratio)):
        height, when = peak(ratio, labels)
        described[name] = {"peak_ratio": height, "peak_period": when, "end_ratio": float(ratio[-1])}
    return {**described, "mean_abs_ratio_error": errors[0], "best_lag": lag,
            "mean_abs_ratio_error_at_best_lag": errors[lag],
            "ratio_error_by_lag": {str(k): value for k, value in errors.items()}}


ROUNDING = 1e-9
"""A criterion's figure may exceed its limit by this much and pass: the ratios are binary fractions, so a figure on
its limit (a peak ratio 1.85 against 1.70 with a tolerance of 0.15) can come out a few units of the last place over."""


def acceptance_results(summary, acceptance):
    """Each acceptance criterion of a back-test, evaluated on its statistics.

    Parameters
    ----------
    summary : dict
        A back-test's statistics as :attr:`Backtest.summary` holds them: ``observed`` and ``model``
        (``peak_ratio``, ``peak_period``) and ``series`` (``period``, ``model_ratio``).
    acceptance : dict
        Any of ``peak_ratio_tolerance`` (``|model peak ratio - observed peak ratio| <= this``),
        ``peak_timing_periods`` (``|model peak period - observed peak period| <= this many periods``) and
        ``ratio_ceilings`` (period label -> the model's ratio in that period ``<= this``); ``None`` values are
        left out.

    Returns
    -------
    list of dict
        One per criterion, in that order: ``criterion``, ``description``, ``value``, ``limit``, ``passed``
        (a figure within :data:`ROUNDING` of its limit passes).
    """
    observed, model = summary["observed"], summary["model"]
    periods = list(summary["series"]["period"])
    rows = []

    def row(criterion, description, value, limit):
        rows.append({"criterion": criterion, "description": description, "value": value, "limit": limit,
                     "passed": bool(value is not None and value <= limit + ROUNDING)})

    if acceptance.get("peak_ratio_tolerance") is not None:
        row("peak_ratio", "|model peak ratio - observed peak ratio|", abs(model["peak_ratio"] - observed["peak_ratio"]),
            float(acceptance["peak_ratio_tolerance"]))
    if acceptance.get("peak_timing_periods") is not None:
        row("peak_timing", "|model peak period - observed peak period|, periods",
            abs(periods.index(model["peak_period"]) - periods.index(observed["peak_period"])),
            int(acceptance["peak_timing_periods"]))
    for period, ceiling in acceptance.get("ratio_ceilings", {}).items():
        value = summary["series"]["model_ratio"][periods.index(period)]
        row(f"ratio_{period}", f"model ratio in {period}", value, float(ceiling))
    return rows


def criterion_text(value):
    """A criterion's figure or limit as shown: a count of periods as it is, a ratio to two decimals."""
    return str(value) if isinstance(value, int) else f"{value:.2f}"


def acceptance_by_label(acceptance, labels, frequency, source):
    """``acceptance`` with its ratio ceilings keyed by the compared periods' labels instead of calendar months.

    Raises
    ------
    InputError
        If a ceiling's period is not one the window compares.
    """
    ceilings = {}
    for month, ceiling in acceptance.get("ratio_ceilings", {}).items():
        label = period_label(month, frequency)
        if label not in labels:
            raise InputError(must_be(source, "backtest.acceptance.ratio_ceilings", f"periods the back-test compares "
                                     f"({labels[0]} to {labels[-1]})", period_label(month, "monthly"),
                                     "Widen the window (--from/--to) or remove the ceiling."))
        ceilings[label] = ceiling
    return {**acceptance, "ratio_ceilings": ceilings}


def window(macro, observed, start=None, end=None, source="backtest"):
    """The observed periods compared and the run's first calendar month.

    Defaults: every observed period whose months the macro history covers,
    the run starting at the first one's first month.

    Parameters
    ----------
    macro : Series
        The unemployment history.
    observed : Series
    start, end : int, optional
        Calendar months (``--from``/``--to``): periods whose first month lies in
        ``[start, end]`` are kept.

    Returns
    -------
    (numpy.ndarray of bool, int)
        Which observed periods are kept, and the run's month 0.

    Raises
    ------
    InputError
        If fewer than two periods remain.
    """
    macro_months, _ = monthly_levels(macro)
    covered = (observed.months >= macro_months[0]) & (observed.end_months <= macro_months[-1])
    keep = covered.copy()
    if start is not None:
        keep &= observed.months >= start
    if end is not None:
        keep &= observed.months <= end
    labels = observed.labels
    if keep.sum() < 2:
        span = f"{period_label(macro_months[0], 'monthly')} to {period_label(macro_months[-1], 'monthly')}"
        asked = (f"{period_label(start, observed.frequency) if start is not None else labels[0]} to "
                 f"{period_label(end, observed.frequency) if end is not None else labels[-1]}")
        raise InputError(must_be(source, "the back-test window", "at least two observed periods that the macro "
                                 f"history ({span}) covers", asked,
                                 "Choose --from and --to inside both files' dates."))
    return keep, int(observed.months[keep][0])


def backtest_scenario(scenario, macro, first_month, n_months):
    """The scenario through the history: unemployment from ``macro``, the cycle off, ``n_months`` simulated.

    The baseline unemployment is the history's level at ``first_month`` (month 0);
    months 1..``n_months`` are a monthly ``path`` shock replacing the scenario's
    unemployment shocks (shocks on other variables stay). Plain Monte Carlo:
    without a cycle there is nothing for the other samplers to act on. The lender
    keeps lending whatever its own cash (``funding.when_short: keep_lending``): the
    observed series is an industry aggregate, whose lending did not stop when one
    lender's buffer ran out, and a book that stops and runs off would show a
    delinquency rate of a shrinking book, not the credit model's.
    """
    months, levels = monthly_levels(macro)
    at = int(np.searchsorted(months, first_month))
    path = PathShock(shape="path", variable="unemployment", frequency="monthly",
                     levels_pct=[float(v) for v in levels[at + 1:at + 1 + n_months]])
    shocks = [shock for shock in scenario.macro.shocks if shock.variable != "unemployment"] + [path]
    macro_spec = scenario.macro.model_copy(update={
        "baseline": scenario.macro.baseline.model_copy(update={"unemployment_pct": float(levels[at])}),
        "shocks": shocks, "cycle": scenario.macro.cycle.model_copy(update={"volatility": 0.0})})
    run_spec = scenario.run.model_copy(update={"horizon_months": n_months, "sampling": "mc", "tail_sampling": "none"})
    funding = scenario.funding.model_copy(update={"when_short": "keep_lending"})
    return scenario.model_copy(update={"macro": macro_spec, "run": run_spec, "funding": funding})


@dataclass
class Backtest:
    """A back-test's outcome.

    Attributes
    ----------
    summary : dict
        What ``backtest.json`` holds: the settings, :func:`ratio_statistics` and
        both series' levels and ratios.
    aligned : pandas.DataFrame
        One row per observed period: ``period``, ``observed_pct``, ``model_pct``,
        ``observed_ratio``, ``model_ratio``, ``unemployment_pct`` (the history at the
        period's last month).
    monthly : pandas.DataFrame
        One row per month of the run: ``month`` (0..H), ``period``, ``unemployment_pct``, ``model_pct``.
    """

    summary: dict
    aligned: pd.DataFrame
    monthly: pd.DataFrame

    def save(self, out_dir, draw=None):
        """Write ``backtest.json``, ``backtest.csv`` and ``monthly.csv`` atomically, and the figure through
        ``draw(backtest, directory)`` when given (figures live in the presentation layer); returns the path."""
        def write(directory):
            write_json(directory / MARKER, self.summary)
            self.aligned.to_csv(directory / "backtest.csv", index=False)
            self.monthly.to_csv(directory / "monthly.csv", index=False)
            if draw is not None:
                draw(self, directory / "plots")
        return write_atomically(out_dir, write, marker=MARKER)


def backtest(scenario, macro, observed, start=None, end=None, rate="30p", paths=None, seed=None, loans=None,
             threads=None, max_lag=MAX_LAG, acceptance=None):
    """Run ``scenario``'s book through the ``macro`` unemployment history and compare ``rate`` with ``observed``.

    Parameters
    ----------
    scenario : Scenario, str or Path
    macro, observed : Series
        Unemployment history (percent) and the observed rate (percent), from
        :func:`simulator.inputs.series.read_series`.
    start, end : int, optional
        Calendar months bounding the observed periods compared (see :func:`window`).
    rate : {'30p', '90p', 'chargeoff'}
    paths, seed, loans, threads : int, optional
        As in :func:`simulator.workflows.results.run`; paths default to :data:`DEFAULT_PATHS`.
    max_lag : int
        Leads and lags searched, in observed periods.
    acceptance : dict, optional
        The validator's criteria (:func:`acceptance_results`), ratio ceilings keyed by calendar month; each
        criterion's outcome goes into the summary's ``acceptance``.

    Returns
    -------
    Backtest

    Raises
    ------
    InputError
        Before anything runs: an unknown rate, a window with fewer than two periods or longer than 120 months,
        a first observation that is not positive, a ratio ceiling outside the window; after the run (nothing is
        written): the model's first level not positive (too small a book).
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if rate not in RATES:
        raise InputError(must_be("backtest", "--rate", f"one of {list(RATES)}", rate, "Choose one of them."))
    keep, first_month = window(macro, observed, start, end, source=scenario.name)
    periods = observed.months[keep]
    labels = [label for label, kept in zip(observed.labels, keep) if kept]
    n_months = int(periods[-1] + observed.step - 1 - first_month)
    if n_months > 120:
        raise InputError(must_be(scenario.name, "the back-test window", "at most 120 months (the longest horizon)",
                                 f"{labels[0]} to {labels[-1]} ({n_months} months)", "Narrow --from and --to."))
    observed_levels = observed.values[keep]
    if not observed_levels[0] > 0:
        raise InputError(must_be(observed.source, f"the first observation ({labels[0]})", "positive (the ratios "
                                 "divide by it)", float(observed_levels[0]), "Start the window later with --from."))
    if acceptance is not None:
        acceptance = acceptance_by_label(acceptance, labels, observed.frequency, scenario.name)
    history = backtest_scenario(scenario, macro, first_month, n_months)
    results = run(history, paths=paths or DEFAULT_PATHS, seed=seed, loans=loans, threads=threads)
    model_monthly = results.mean_of(model_rate_pct(results.series, rate))
    flow = rate in FLOW_RATES
    model_levels = align(model_monthly, first_month, periods, observed.step, flow)
    if not model_levels[0] > 0:
        raise InputError(must_be(scenario.name, f"the model's {rate} rate in {labels[0]}", "positive (the ratios "
                                 "divide by it)", float(model_levels[0]), "Run more loans (--loans) or paths, or "
                                 "start the window later."))
    statistics = ratio_statistics(observed_levels, model_levels, labels, max_lag)
    unemployment = results.central["unemployment"]
    aligned = pd.DataFrame({"period": labels, "observed_pct": observed_levels, "model_pct": model_levels,
                            "observed_ratio": observed_levels / observed_levels[0],
                            "model_ratio": model_levels / model_levels[0],
                            "unemployment_pct": unemployment[periods - first_month + observed.step - 1]})
    month_index = np.arange(n_months + 1)
    monthly = pd.DataFrame({"month": month_index,
                            "period": [period_label(first_month + m, "monthly") for m in month_index],
                            "unemployment_pct": unemployment, "model_pct": model_monthly})
    summary = {
        "scenario": results.scenario.name, "seed": results.seed, "paths": results.scenario.run.paths,
        "loans": results.n_loans, "macro_series": macro.source, "observed_series": observed.source,
        "frequency": observed.frequency, "rate": rate, "rate_definition": RATES[rate],
        "alignment": ("the mean of the period's months" if flow else "the model's value in the period's last month"),
        "from": labels[0], "to": labels[-1], "first_month": period_label(first_month, "monthly"),
        "horizon_months": n_months, "max_lag": max_lag,
        **statistics,
        "series": {column: ([json_number(v) for v in aligned[column]] if column != "period" else labels)
                   for column in aligned.columns},
        "versions": versions(),
    }
    if acceptance is not None:
        criteria = acceptance_results(summary, acceptance)
        summary["acceptance"] = {"criteria": criteria, "passed": all(row["passed"] for row in criteria)}
    return Backtest(summary, aligned, monthly)


def scenario_backtest(scenario, macro=None, observed=None, start=None, end=None, rate=None, **options):
    """The back-test ``scenario`` names in its ``backtest`` section, each argument given overriding the section.

    Parameters
    ----------
    scenario : Scenario, str or Path
    macro, observed : Series, optional
        Replace the section's series.
    start, end : int, optional
        Replace the section's window (calendar months).
    rate : {'30p', '90p', 'chargeoff'}, optional
        Replaces the section's rate (default ``30p`` without a section).
    **options
        ``paths``, ``seed``, ``loans``, ``threads``, ``max_lag`` of :func:`backtest`.

    Returns
    -------
    Backtest
        With the section's acceptance criteria evaluated, when it gives them.

    Raises
    ------
    InputError
        If the scenario names no history and ``macro`` or ``observed`` is missing.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    spec = scenario.backtest
    if spec is None:
        missing = [option for option, given in (("--macro", macro), ("--observed", observed)) if given is None]
        if missing:
            raise InputError(must_be(scenario.name, " and ".join(missing), "given (the scenario has no backtest "
                                     "section naming its history)", None, "Give --macro FILE:COLUMN and --observed "
                                     "FILE:COLUMN, or add a backtest section to the scenario (docs/backtest.md)."))
        return backtest(scenario, macro, observed, start=start, end=end, rate=rate or "30p", **options)
    history = read_backtest_history(spec, scenario.name)
    acceptance = None if spec.acceptance is None else {
        "peak_ratio_tolerance": spec.acceptance.peak_ratio_tolerance,
        "peak_timing_periods": spec.acceptance.peak_timing_periods, "ratio_ceilings": history.ceilings}
    return backtest(scenario, macro or history.macro, observed or history.observed,
                    start=history.start if start is None else start, end=history.end if end is None else end,
                    rate=rate or spec.rate, acceptance=acceptance, **options)


def load_backtest(directory):
    """The ``backtest.json`` of a back-test directory (a dict, :attr:`Backtest.summary`).

    Raises
    ------
    InputError
        If ``directory`` holds no ``backtest.json``.
    """
    path = Path(directory) / MARKER
    if not path.is_file():
        raise InputError(f"{directory}: not a back-test directory (no {MARKER}). Give the directory that "
                         "`simulate backtest --out` wrote.")
    return json.loads(path.read_text(encoding="utf-8"))
