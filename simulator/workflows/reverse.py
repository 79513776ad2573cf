"""Reverse stress tests: the mildest severity of a shock at which a breach condition is reached.

A reverse stress test turns the question round: not "what happens in scenario X"
but "how severe must the shock be to break us". The shock is one of

* a **severity multiplier** ``s`` on the scenario's macro shocks (``shock="all"``, the
  default, or one variable: ``unemployment``, ``income_growth``, ``policy_rate``):
  each shock's deviation from the baseline is multiplied by ``s`` (a ``size_pp`` times
  ``s``; a ``path`` shock's levels ``base + s (level - base)``), so ``s = 0`` is the
  baseline economy and ``s = 1`` the scenario as written; the stochastic credit cycle
  around the central path is not scaled;
* a **numeric scenario key** (``behaviour.recovery.rate_pct``) searched between the
  bounds given; which end is the mild one is read from the runs at the two ends.

The breach is a named condition (:data:`NAMED_BREACHES`: the liquidity buffer
reaches its floor, ``funding.minimum_buffer_pct``, so that the lender draws emergency
funding or stops lending; the lender fails, its cash or capital below zero, see
docs/funding.md; either within ``within`` months if given; the capital or coverage
ratio falls below its floor; the ABS trigger fires) or a threshold on a headline metric
(``"peak_overdue_rate_90p>0.05"``). The target is "the breach happens on at least
a share ``P`` of the paths" (``probability``, 0.5 by default), or, for a metric
threshold without ``probability``, "the mean over paths crosses the threshold".

Method
------
Every evaluation is a full run of the book at one severity on common random
numbers (the same seed, the same book, the same paths), through
:func:`simulator.workflows.results.run`. With one severity for all paths in a run,
every figure is the one the scenario at that severity gives; a per-path severity
inside one engine call would be cheaper but wrong for the provisions and so for
capital and coverage, because the IFRS 9 ECL rates are pooled over paths
(:mod:`simulator.accounts.ifrs9`): a path's provisions would depend on the
severities given to the other paths.

On common random numbers each path's breach indicator ``B_p(s)`` is (checked, and
counted in ``monotonicity``) non-decreasing in ``s``, so each path has a breaking
severity ``b_p = min{s : B_p(s) = 1}`` and the breach probability curve is their
empirical distribution function ``F(s) = (1/N) sum_p 1[b_p <= s] = mean_p B_p(s)``,
measured exactly at each evaluated severity, with the binomial standard error
``sqrt(F (1 - F) / N)`` (:func:`simulator.accounts.metrics.describe`). Then

* the **breaking severity** is the ``P``-quantile of the ``b_p``,
  ``s* = min{s : F(s) >= P}`` (its ``k = ceil(P N)``-th order statistic), found by
  bisection between grid points on ``F``, to ``tolerance``;
* its **confidence interval** is the distribution-free order-statistic interval
  ``[b_(r), b_(u)]`` with ``r = Binom^-1(alpha / 2; N, P)`` and
  ``u = Binom^-1(1 - alpha / 2; N, P) + 1`` (coverage at least ``1 - alpha``;
  Hahn and Meeker 1991, 5.2), each order statistic located by bisection in the same way;
* for a **mean target**, ``m(s) = mean_p metric_p(s)`` is smooth on common random
  numbers: ``s*`` is the linear interpolation of ``m`` to the threshold inside the final
  bisection bracket, and its interval ``s* +- z se(m) / |m'(s*)|`` (delta method, the
  slope ``m'`` fitted by least squares to the runs in the grid interval holding the root).

A coarse grid of ``grid_points`` runs draws the curve and brackets every target;
bisection then needs about ``log2(grid spacing / tolerance)`` runs per target (the
three targets share runs while their brackets overlap).

References
----------
Hahn, G. J. and Meeker, W. Q. (1991), *Statistical Intervals*, Wiley, section 5.2.
EBA (2018), Guidelines on institutions' stress testing (EBA/GL/2018/04), section 4.7 (reverse stress testing).
"""
import difflib
import json
import math
import operator
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from ..accounts.metrics import HEADLINE_METRICS, MIN_REPLICATES, describe
from ..inputs.errors import InputError, must_be
from ..inputs.options import check_integer, check_movable_key, check_real, parse_real
from ..inputs.loader import load_scenario, scenario_from_dict
from ..inputs.schema import Scenario
from ..model.macro import VARIABLES, central_path, check_macro_paths
from .results import figure_writer, json_number, resolve_seed, run, write_atomically, write_json

MARKER = "reverse.json"
"""The file that marks a reverse stress directory."""

NAMED_BREACHES = {"liquidity": "liquidity_breached", "failure": "failure_probability",
                  "capital": "capital_floor_breached", "coverage": "coverage_floor_breached",
                  "abs_trigger": "abs_trigger_hit"}
"""Named breach condition -> the per-path 0/1 headline metric that records it."""

WITHIN_MONTHS = {"liquidity": "survival_horizon_months", "failure": "failure_month"}
"""The named conditions that may be asked to happen by a month (``within``), and the per-path month of each."""

OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
CONDITION = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
"""``metric OP number``: the grammar of a metric threshold (parsed, never evaluated)."""

MULTIPLIER_SHOCKS = ("all",) + VARIABLES
DEFAULT_RANGE = (0.0, 3.0)
"""Search range of the severity multiplier: from the baseline economy to three times the scenario's shocks."""
DEFAULT_PROBABILITY = 0.5
MAX_GRID_POINTS = 100
"""The most runs on the grid (each is a full run)."""
MIN_TOLERANCE_SHARE = 1e-6
"""The narrowest bisection tolerance as a share of the range: a bisection halves its width each run, so this is about
20 runs; a narrower one would only spend runs on Monte Carlo noise."""
GRID_POINTS = 7
"""Runs on an even grid over the range before the bisections (both ends included)."""
TOLERANCE_SHARE = 0.005
"""Default bisection tolerance as a share of the range (0.015 on the multiplier's [0, 3])."""
CONFIDENCE = 0.95


# --------------------------------------------------------------------- the breach condition
@dataclass(frozen=True)
class Breach:
    """A breach condition on one run's per-path headline values.

    Attributes
    ----------
    text : str
        As given (``liquidity``, ``peak_overdue_rate_90p>0.05``).
    metric : str
        The headline metric it reads.
    comparison : str
        ``>``, ``>=``, ``<`` or ``<=``.
    threshold : float
    within : int or None
        For ``liquidity`` and ``failure``: it must happen by this month.
    named : bool
        A named condition (a 0/1 metric), not a threshold the user wrote.
    """

    text: str
    metric: str
    comparison: str
    threshold: float
    within: int | None = None
    named: bool = False

    def breached(self, headline):
        """Per path: is the condition met? (bool array)."""
        if self.within is not None:
            return headline[WITHIN_MONTHS[self.text]] <= self.within
        values = headline[self.metric]
        return OPERATORS[self.comparison](np.nan_to_num(values, nan=-np.inf if ">" in self.comparison else np.inf),
                                          self.threshold)

    def mean_reached(self, mean):
        """Does a mean over paths meet the condition?"""
        return bool(OPERATORS[self.comparison](mean, self.threshold))


def parse_breach(text, within=None, horizon_months=None, source="breach="):
    """Parse a breach condition: a name of :data:`NAMED_BREACHES` or ``metric OP number``.

    Raises
    ------
    InputError
        Unknown name or metric (the valid ones listed), a bad operator, or ``within``
        outside 1..horizon or given with a condition other than ``liquidity`` or ``failure``.
    """
    text = str(text).strip()
    if within is not None:
        if text not in WITHIN_MONTHS:
            raise InputError(must_be(source, "within=", "given only with breach='liquidity' or 'failure'", within,
                                     "Drop within=, or use breach='liquidity' or 'failure'."))
        if not 1 <= within <= horizon_months:
            raise InputError(must_be(source, "within=", f"a month from 1 to the horizon ({horizon_months})",
                                     within, "Give a month inside the horizon."))
    if text in NAMED_BREACHES:
        return Breach(text, NAMED_BREACHES[text], ">", 0.5, within, named=True)
    match = CONDITION.match(text)
    if match is None:
        name = re.match(r"^\s*([A-Za-z0-9_]*)", text).group(1)
        if name in HEADLINE_METRICS:
            raise InputError(must_be(source, "the condition", "METRIC OP NUMBER with OP one of >, >=, <, <=",
                                     text, f"Write e.g. '{name}>0.05'."))
        near = difflib.get_close_matches(name, list(NAMED_BREACHES) + list(HEADLINE_METRICS), n=1)
        hint = f"Did you mean '{near[0]}'? " if near else ""
        raise InputError(must_be(source, "the condition", f"one of {', '.join(NAMED_BREACHES)} or METRIC OP NUMBER "
                                 "(OP one of >, >=, <, <=)", text,
                                 f"{hint}Metrics: {', '.join(HEADLINE_METRICS)}."))
    metric, comparison = match.group(1), match.group(2)
    threshold = parse_real(match.group(3), "the threshold", fix="Write a threshold such as 0.05 (a rate as a "
                           "fraction, money in the book's currency).", source=f"{source} {text}")
    if metric not in HEADLINE_METRICS:
        near = difflib.get_close_matches(metric, HEADLINE_METRICS, n=1)
        hint = f"Did you mean '{near[0]}'? " if near else ""
        raise InputError(must_be(source, "the metric", "a headline metric", metric,
                                 f"{hint}Valid metrics: {', '.join(HEADLINE_METRICS)}."))
    return Breach(text, metric, comparison, threshold)


# --------------------------------------------------------------------- what is scaled
@dataclass(frozen=True)
class Severity:
    """What the search moves, and the scenario at a given value of it.

    Attributes
    ----------
    shock : str
        ``all``, a macro variable (a multiplier on its shocks) or a dotted scenario key.
    low, high : float
        The search range.
    integer : bool
        The key holds an integer (values are rounded).
    """

    shock: str
    low: float
    high: float
    integer: bool = False

    @property
    def is_multiplier(self):
        return self.shock in MULTIPLIER_SHOCKS

    def value(self, value):
        """The value the search may use: rounded for an integer key."""
        return float(round(value)) if self.integer else float(value)

    def scenario_at(self, scenario, value):
        """``scenario`` at severity ``value`` (validated; its name and description say so)."""
        data = scenario.model_dump(mode="json")
        if self.is_multiplier:
            baseline = data["macro"]["baseline"]
            for shock in data["macro"]["shocks"]:
                if self.shock not in ("all", shock["variable"]):
                    continue
                if shock["shape"] == "path":
                    base = baseline[f"{shock['variable']}_pct"]
                    shock["levels_pct"] = [base + value * (level - base) for level in shock["levels_pct"]]
                else:
                    shock["size_pp"] = value * shock["size_pp"]
            what = f"{'macro shocks' if self.shock == 'all' else self.shock + ' shocks'} x {value:g}"
        else:
            parent, last = _key_parent(data, self.shock)
            parent[last] = int(value) if self.integer else value
            what = f"{self.shock} = {value:g}"
        data["name"] = f"{scenario.name}_at_{_slug(value)}" if self.is_multiplier else f"{scenario.name}_reverse"
        data["description"] = f"{scenario.name} with {what} (reverse stress test)."
        source = f"{scenario.name} with {what}"
        moved = scenario_from_dict(data, source=source)
        check_macro_paths(moved, source)
        return moved


def _slug(value):
    return f"{value:.4g}".replace(".", "p").replace("-", "m")


def _key_parent(data, key):
    """The mapping (or list) holding the dotted ``key`` of a scenario's data, and the last part of the key."""
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        if isinstance(node, list):
            if not (part.isdigit() and int(part) < len(node)):
                raise InputError(must_be("shock=", f"'{part}' in {key}", f"an index 0..{len(node) - 1} of {where}",
                                         part, "Index list items by position, e.g. portfolio.segments.0.apr_pct.min."))
            part = int(part)
        elif not isinstance(node, dict) or part not in node:
            valid = list(node) if isinstance(node, dict) else []
            near = difflib.get_close_matches(part, valid, n=1)
            hint = f"Did you mean '{near[0]}'? " if near else ""
            raise InputError(must_be("shock=", "the key", f"a numeric key of the scenario (under {where}: "
                                     f"{', '.join(map(str, valid)) or 'no keys'})", key,
                                     f"{hint}Or give one of {', '.join(MULTIPLIER_SHOCKS)} to scale macro shocks."))
        if depth == len(parts) - 1:
            return node, part
        node = node[part]


def parse_range(severity_range, source="severity_range="):
    """``(low, high)`` from ``"LO,HI"`` or a pair; ``None`` stays ``None``.

    Raises
    ------
    InputError
        Not two numbers, or ``low >= high``.
    """
    if severity_range is None:
        return None
    parts = severity_range.split(",") if isinstance(severity_range, str) else list(severity_range)
    try:
        low, high = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise InputError(must_be(source, "the range", "two numbers LO,HI", severity_range,
                                 "Write e.g. severity_range='0,3'.")) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InputError(must_be(source, "the range", "LO,HI with LO < HI", severity_range,
                                 "Write the smaller bound first: "
                                 f"severity_range='{min(low, high):g},{max(low, high):g}'."))
    return low, high


def severity_of(scenario, shock, severity_range):
    """The :class:`Severity` for ``shock`` on ``scenario`` (checked: something to scale, a numeric key, a range).

    Raises
    ------
    InputError
        No shock to scale, a key that is missing or not numeric, a key without a range, a negative multiplier.
    """
    bounds = parse_range(severity_range)
    if shock in MULTIPLIER_SHOCKS:
        scaled = [s for s in scenario.macro.shocks if shock in ("all", s.variable)]
        if not scaled:
            what = "no macro shocks" if shock == "all" else f"no {shock} shock"
            raise InputError(must_be(scenario.name, "macro.shocks", f"a list with a shock to scale (shock={shock!r})",
                                     [s.variable for s in scenario.macro.shocks],
                                     f"The scenario has {what}: take the shocks of another scenario "
                                     "(shocks_from='scenarios/severe.yaml'), or search a scenario key "
                                     "(shock='behaviour.recovery.rate_pct' with severity_range='0,20')."))
        low, high = bounds or DEFAULT_RANGE
        if low < 0:
            raise InputError(must_be("severity_range=", "the multiplier's range", "LO,HI with 0 <= LO < HI",
                                     severity_range, "A multiplier below 0 turns the shocks round; start at 0."))
        return Severity(shock, low, high)
    check_movable_key(shock, "--shock")
    parent, last = _key_parent(scenario.model_dump(mode="json"), shock)
    current = parent[last]
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise InputError(must_be("shock=", shock, "a numeric scenario key", current,
                                 "Search a key that holds a number, e.g. behaviour.recovery.rate_pct."))
    if bounds is None:
        raise InputError(must_be("severity_range=", "the range", f"given when shock= is a scenario key ({shock})", None,
                                 f"Give the bounds to search, e.g. severity_range='0,{max(2 * current, 1):g}'."))
    return Severity(shock, bounds[0], bounds[1], integer=isinstance(current, int))


# --------------------------------------------------------------------- the search
@dataclass(frozen=True)
class Evaluation:
    """One run at one severity: per path breached or not, and the breach metric's values."""

    severity: float
    breached: np.ndarray
    values: np.ndarray

    @property
    def count(self):
        return int(self.breached.sum())

    def row(self):
        """The curve's row: the breach share and the metric's mean, with their standard errors."""
        share, metric = describe(self.breached.astype(float)), describe(self.values)
        return {"severity": self.severity, "breached_paths": self.count,
                "breach_probability": json_number(share["mean"]), "breach_probability_se": json_number(share["se"]),
                "metric_mean": json_number(metric["mean"]), "metric_se": json_number(metric["se"])}


class Search:
    """Runs of one scenario at many severities on common random numbers, each run once.

    Positions ``u`` in [0, 1] go from the mild end of the range (``u = 0``) to the severe
    one; ``value(u)`` is the severity there.
    """

    def __init__(self, scenario, severity, breach, run_options, progress=None):
        self.scenario, self.severity, self.breach = scenario, severity, breach
        self.run_options, self.progress = run_options, progress
        self.evaluations = {}
        self.ascending = True
        self.kept = None  # (value, Results) of the mildest evaluated severity reaching the main target
        self.ends = {}  # value -> Results at the two ends of the range

    def value(self, u):
        low, high = self.severity.low, self.severity.high
        mild, severe = (low, high) if self.ascending else (high, low)
        return self.severity.value(mild + u * (severe - mild))

    def evaluate(self, value, keep=None):
        """The :class:`Evaluation` at ``value`` (run once, then remembered); ``keep(evaluation)`` says whether to hold
        on to the run's :class:`Results` as the breaking point's."""
        if value not in self.evaluations:
            results = run(self.severity.scenario_at(self.scenario, value), **self.run_options)
            headline = results.headline
            evaluation = Evaluation(value, np.asarray(self.breach.breached(headline), bool),
                                    np.asarray(headline[self.breach.metric], float))
            self.evaluations[value] = evaluation
            if self.progress is not None:
                self.progress(evaluation)
            if keep is not None and keep(evaluation) and (self.kept is None or self._milder(value, self.kept[0])):
                self.kept = (value, results)
            if value in (self.severity.value(self.severity.low), self.severity.value(self.severity.high)):
                self.ends[value] = results
        return self.evaluations[value]

    def _milder(self, a, b):
        return a < b if self.ascending else a > b

    def first_reached(self, reached, tolerance, keep=None):
        """Bracket the mildest severity at which ``reached(evaluation)`` holds, bisecting until the bracket is at most
        ``tolerance`` wide; returns ``(below, above)`` (``below`` None if the mild end already reaches it, ``above``
        None if the severe end does not)."""
        while True:
            ordered = sorted(self.evaluations, key=lambda v: v if self.ascending else -v)
            hits = [v for v in ordered if reached(self.evaluations[v])]
            if not hits:
                return ordered[-1], None
            above = hits[0]
            misses = [v for v in ordered[:ordered.index(above)] if not reached(self.evaluations[v])]
            if not misses:
                return None, above
            below = misses[-1]
            middle = self.severity.value((below + above) / 2.0)
            if abs(above - below) <= tolerance or middle in (below, above):
                return below, above
            self.evaluate(middle, keep)

    def monotonicity(self):
        """Paths whose breach indicator falls as the severity rises between neighbouring evaluated severities."""
        ordered = sorted(self.evaluations, key=lambda v: v if self.ascending else -v)
        falls = np.zeros_like(self.evaluations[ordered[0]].breached)
        for milder, harsher in zip(ordered, ordered[1:]):
            falls |= self.evaluations[milder].breached & ~self.evaluations[harsher].breached
        return {"paths_not_monotone": int(falls.sum()), "severities_compared": len(ordered)}


def order_statistic_ranks(n, probability, confidence):
    """Ranks ``(k, r, u)``: the ``probability``-quantile of ``n`` values is their ``k``-th smallest, and
    ``[x_(r), x_(u)]`` its distribution-free interval at ``confidence`` (``u`` may exceed ``n``: no upper bound)."""
    alpha = 1.0 - confidence
    k = max(1, math.ceil(probability * n - 1e-9))
    r = max(1, int(stats.binom.ppf(alpha / 2.0, n, probability)))
    u = int(stats.binom.ppf(1.0 - alpha / 2.0, n, probability)) + 1
    return k, r, u


def reverse_stress(scenario, breach, probability=None, shock="all", within=None, severity_range=None,
                   shocks_from=None, paths=None, seed=None, loans=None, grid_points=GRID_POINTS, tolerance=None,
                   confidence=CONFIDENCE, progress=None, run_options=None):
    """Find the mildest severity of a shock at which a breach condition is reached (see the module docstring).

    Parameters
    ----------
    scenario : Scenario, str or Path
    breach : str
        ``liquidity``, ``failure``, ``capital``, ``coverage``, ``abs_trigger`` or ``METRIC OP NUMBER``.
    probability : float in (0, 1], optional
        Target share of paths breaching (default 0.5; for a metric threshold without
        it, the target is the mean crossing the threshold).
    shock : str
        ``all`` (default), ``unemployment``, ``income_growth``, ``policy_rate`` (a
        multiplier on those shocks) or a dotted numeric scenario key.
    within : int, optional
        With ``liquidity`` or ``failure``: it must happen by this month.
    severity_range : str or (float, float), optional
        ``"LO,HI"``; default (0, 3) for a multiplier, required for a key.
    shocks_from : Scenario, str or Path, optional
        Take the macro shocks from this scenario (the book, behaviour and funding stay ``scenario``'s).
    paths, seed, loans : int, optional
        As for :func:`simulator.workflows.results.run`; the seed is fixed once, so every run shares its paths.
    grid_points : int
        Runs on an even grid over the range before bisecting (at least 2).
    tolerance : float, optional
        Width at which a bisection stops, in the severity's units (default 0.5% of the range).
    confidence : float
        Level of the breaking severity's interval.
    progress : callable, optional
        Called with each :class:`Evaluation` as it is run.
    run_options : dict, optional
        Passed to every :func:`~simulator.workflows.results.run` (e.g. ``threads``).

    Returns
    -------
    ReverseStress

    Raises
    ------
    InputError
        A bad condition, probability, shock, key or range, or a scenario invalid at an end of the range.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if shocks_from is not None:
        donor = shocks_from if isinstance(shocks_from, Scenario) else load_scenario(shocks_from)
        macro = scenario.macro.model_copy(update={"shocks": donor.macro.shocks})
        scenario = scenario.model_copy(update={"macro": macro,
                                               "name": f"{scenario.name}_with_{donor.name}_shocks"})
    breach = parse_breach(breach, within, scenario.run.horizon_months)
    check_real("probability", probability, 0.0, 1.0, low_open=True,
               fix="Give e.g. 0.5 for half the paths, 0.05 for one in twenty.")
    check_integer("grid_points", grid_points, 2, MAX_GRID_POINTS, "Use from 2 to 100.")
    check_real("tolerance", tolerance, 0.0, low_open=True, fix="Give a positive width, e.g. 0.01.")
    mean_target = probability is None and not breach.named
    probability = DEFAULT_PROBABILITY if probability is None else float(probability)
    severity = severity_of(scenario, shock, severity_range)
    for end in (severity.low, severity.high):  # an end the scenario cannot take is refused before any run
        try:
            severity.scenario_at(scenario, severity.value(end))
        except InputError as exc:
            raise InputError(exc.problems + [f"--range: the end {end:g} of {severity.low:g},{severity.high:g} "
                                             "gives the scenario above; narrow --range so that both ends are "
                                             "valid scenarios."]) from None
    if loans is not None and scenario.portfolio.source == "tape":
        raise InputError("loans= resizes a synthetic book; this scenario reads a loan tape. "
                         "Drop loans= or use a synthetic portfolio.")
    # the intervals are order statistics and binomial errors of independent, equally weighted paths
    scenario = resolve_seed(scenario.with_run(paths=paths, seed=seed, sampling="mc", tail_sampling="none")
                            .with_loans(loans))
    if scenario.run.paths < MIN_REPLICATES:
        raise InputError(must_be(scenario.name, "paths", f"at least {MIN_REPLICATES} (the fewest independent paths "
                                 "a breach share and its confidence interval may rest on)", scenario.run.paths,
                                 f"Use --paths {MIN_REPLICATES} or more (200 or more for a usable interval)."))
    width = severity.high - severity.low
    if tolerance is not None and tolerance < MIN_TOLERANCE_SHARE * width:
        raise InputError(must_be("--tolerance", "the width", f"at least {MIN_TOLERANCE_SHARE:g} of the range "
                                 f"({MIN_TOLERANCE_SHARE * width:.3g}; about 20 bisection runs)", tolerance,
                                 f"Give --tolerance {TOLERANCE_SHARE * width:.3g} (the default) or a little less."))
    tolerance = TOLERANCE_SHARE * width if tolerance is None else tolerance
    if severity.integer:
        tolerance = max(tolerance, 1.0)
    search = Search(scenario, severity, breach, dict(run_options or {}), progress)
    n = scenario.run.paths
    k, r, u = order_statistic_ranks(n, probability, confidence)

    def main(evaluation):
        return breach.mean_reached(describe(evaluation.values)["mean"]) if mean_target else evaluation.count >= k

    for value in np.linspace(severity.low, severity.high, grid_points):
        search.evaluate(severity.value(value), keep=main)
    if not severity.is_multiplier:  # a key: the severe end is the one nearer the breach
        ends = [search.evaluations[severity.value(v)] for v in (severity.low, severity.high)]
        search.ascending = _score(ends[1], breach, mean_target) >= _score(ends[0], breach, mean_target)
    below, above = search.first_reached(main, tolerance, keep=main)
    finding = {"breaking_severity": None, "interval": [None, None], "se": None, "status": "breaks"}
    if above is None:
        finding["status"] = "never"
    elif below is None:
        finding.update(status="at_mild_end", breaking_severity=above)
    elif mean_target:
        grid = np.unique([severity.value(v) for v in np.linspace(severity.low, severity.high, grid_points)])
        span = (grid[grid <= min(below, above)].max(), grid[grid >= max(below, above)].min())
        near = [e for v, e in search.evaluations.items() if span[0] <= v <= span[1]]
        finding.update(_mean_root(search.evaluations[below], search.evaluations[above], near, breach, confidence))
    else:
        finding["breaking_severity"] = above
        lower = search.first_reached(lambda e: e.count >= r, tolerance)[1]
        upper = search.first_reached(lambda e: e.count >= u, tolerance)[1] if u <= n else None
        finding["interval"] = [lower, upper]
    shown = finding["breaking_severity"]
    if shown is None:
        shown = search.value(1.0)
    kept = search.kept[1] if search.kept is not None and search.kept[0] == shown else search.ends.get(shown)
    if kept is None:
        kept = run(severity.scenario_at(scenario, shown), **search.run_options)
    return ReverseStress(scenario, severity, breach, probability, mean_target, confidence, tolerance, search,
                         finding, kept, (k, r, u))


def _score(evaluation, breach, mean_target):
    """How near the breach a run is: the breach share, or the mean's signed distance past the threshold."""
    if not mean_target:
        return evaluation.count
    mean = describe(evaluation.values)["mean"]
    return mean - breach.threshold if ">" in breach.comparison else breach.threshold - mean


def _mean_root(below, above, near, breach, confidence):
    """The severity at which the mean crosses the threshold, interpolated in the bracket ``(below, above)``, with a
    delta-method interval whose slope is the least-squares slope of the mean over the runs ``near`` (those in the grid
    interval holding the root: the final bracket alone is too narrow for a steady slope on a finite book)."""
    lo, hi = describe(below.values), describe(above.values)
    slope = np.polyfit([e.severity for e in near], [describe(e.values)["mean"] for e in near], 1)[0]
    weight = (breach.threshold - lo["mean"]) / (hi["mean"] - lo["mean"]) if hi["mean"] != lo["mean"] else 1.0
    weight = float(np.clip(weight, 0.0, 1.0))
    root = below.severity + weight * (above.severity - below.severity)
    se_mean = (1.0 - weight) * lo["se"] + weight * hi["se"]
    se = abs(se_mean / slope) if slope != 0 else math.inf
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    return {"breaking_severity": float(root), "se": json_number(se),
            "interval": [json_number(root - z * se), json_number(root + z * se)]}


# --------------------------------------------------------------------- the outcome
class ReverseStress:
    """Outcome of a reverse stress test.

    Attributes
    ----------
    scenario : Scenario
        The scenario searched (seed resolved; shocks taken from another scenario if asked).
    breaking_run : Results
        The run at the breaking severity (at the severe end of the range if nothing breaks).
    summary : dict
        The content of ``reverse.json``.
    """

    write_figures = None
    """Writes the breach probability curve into a directory, ``write_figures(directory, lang)``; :meth:`save` calls
    it. The package root (:mod:`simulator`) sets it to :func:`simulator.presentation.plots.write_reverse_figure`:
    figures belong to the presentation layer, which the workflows may not import."""

    def __init__(self, scenario, severity, breach, probability, mean_target, confidence, tolerance, search, finding,
                 breaking_run, ranks):
        self.scenario, self.severity, self.breach = scenario, severity, breach
        self.search, self.finding, self.breaking_run = search, finding, breaking_run
        value = finding["breaking_severity"]
        self.breaking_scenario = None if value is None else severity.scenario_at(scenario, value)
        curve = [search.evaluations[v].row() for v in sorted(search.evaluations)]
        horizon = scenario.run.horizon_months
        shown = value if value is not None else search.value(1.0)
        self.summary = {
            "scenario": scenario.name,
            "seed": scenario.run.seed,
            "paths": scenario.run.paths,
            "loans": breaking_run.n_loans,
            "horizon_months": horizon,
            "breach": {"condition": breach.text, "metric": breach.metric, "comparison": breach.comparison,
                       "threshold": breach.threshold, "within_months": breach.within},
            "target": ({"kind": "mean", "description": f"mean of {breach.metric} {breach.comparison} "
                                                       f"{breach.threshold:g}"} if mean_target else
                       {"kind": "probability", "probability": probability,
                        "description": f"breach on at least {probability:.0%} of paths",
                        "order_statistic": ranks[0], "interval_order_statistics": list(ranks[1:])}),
            "shock": {"what": severity.shock, "kind": "multiplier" if severity.is_multiplier else "key",
                      "range": [severity.low, severity.high], "mild_end": search.value(0.0),
                      "severe_end": search.value(1.0)},
            "status": finding["status"],
            "statement": self.statement(finding, probability, mean_target, confidence),
            "breaking_severity": json_number(value) if value is not None else None,
            "interval": finding["interval"],
            "confidence": confidence,
            "se": finding["se"],
            "tolerance": tolerance,
            "runs": len(search.evaluations),
            "monotonicity": search.monotonicity(),
            "run_severity": shown,
            "breach_at_run_severity": _breach_summary(breaking_run.headline, breach),
            "macro_at_run_severity": macro_summary(severity.scenario_at(scenario, shown), horizon),
            "curve": curve,
            "method": "full runs at one severity per run on common random numbers (same seed, book and paths); "
                      "grid then bisection; quantile of per-path breaking severities with an order-statistic "
                      "interval, or the mean's root with a delta-method interval",
        }

    def statement(self, finding, probability, mean_target, confidence):
        """One sentence saying what was found, in the severity's units."""
        severity, breach = self.severity, self.breach
        what = ("the severity multiplier on " + ("every macro shock" if severity.shock == "all"
                                                 else f"the {severity.shock} shocks")
                if severity.is_multiplier else severity.shock)
        target = (f"the mean of {breach.metric} {breach.comparison} {breach.threshold:g}" if mean_target
                  else f"'{breach.text}' on at least {probability:.0%} of paths")
        mild, harsh = self.search.value(0.0), self.search.value(1.0)
        if finding["status"] == "never":
            return (f"Nothing breaks within the range: {target} is not reached even at {what} = {harsh:g} "
                    f"(the severe end of {severity.low:g}-{severity.high:g}). Widen the range to search further.")
        if finding["status"] == "at_mild_end":
            return (f"Everything breaks already at the mild end: {target} holds at {what} = {mild:g}"
                    + (" (the baseline economy)." if severity.is_multiplier and mild == 0 else "."))
        low, high = finding["interval"]
        interval = (f"{_fmt(low)} to {_fmt(high)}" if high is not None
                    else f"from {_fmt(low)}, no upper bound within the range and paths")
        return (f"{target} is first reached at {what} = {finding['breaking_severity']:.3g} "
                f"({confidence:.0%} interval {interval}).")

    @property
    def breaking_severity(self):
        return self.finding["breaking_severity"]

    def save(self, out_dir, plots=True, lang="en"):
        """Write the reverse stress directory atomically: ``reverse.json``, ``breaking_point.yaml`` (when a breaking
        severity was found), ``run/`` (the run directory at that severity, or at the severe end) and ``plots/``."""
        return write_atomically(out_dir, lambda staging: self.write_files(staging, plots, lang), marker=MARKER)

    def write_files(self, directory, plots=True, lang="en"):
        write_json(directory / MARKER, self.summary)
        if self.breaking_scenario is not None:
            (directory / "breaking_point.yaml").write_text(self.breaking_scenario.to_yaml(), encoding="utf-8")
        (directory / "run").mkdir()
        self.breaking_run.write_files(directory / "run", plots=False)
        if plots:
            figure_writer(self.write_figures, "ReverseStress")(directory / "plots", lang)


def _fmt(value):
    return "n/a" if value is None else f"{value:.3g}"


def _breach_summary(headline, breach):
    """The breach share and the metric's mean (with standard errors) in one run."""
    share = describe(np.asarray(breach.breached(headline), float))
    metric = describe(headline[breach.metric])
    return {"breach_probability": json_number(share["mean"]), "breach_probability_se": json_number(share["se"]),
            "metric_mean": json_number(metric["mean"]), "metric_se": json_number(metric["se"])}


def macro_summary(scenario, horizon_months):
    """The central macro path of ``scenario`` in brief (percent): peak unemployment, income-growth trough, peak
    policy rate, each with its month (the first month it is reached, 1..H)."""
    central = central_path(scenario.macro, horizon_months)
    unemployment, income, rate = (central[v][1:] for v in ("unemployment", "income_growth", "policy_rate"))
    return {"peak_unemployment_pct": float(unemployment.max()), "peak_unemployment_month": int(unemployment.argmax()) + 1,
            "income_growth_trough_pct": float(income.min()), "income_growth_trough_month": int(income.argmin()) + 1,
            "peak_policy_rate_pct": float(rate.max()), "peak_policy_rate_month": int(rate.argmax()) + 1,
            "baseline_unemployment_pct": scenario.macro.baseline.unemployment_pct,
            "baseline_income_growth_pct": scenario.macro.baseline.income_growth_pct}


def load_reverse(directory):
    """The ``reverse.json`` of a reverse stress directory (a dict).

    Raises
    ------
    InputError
        If ``directory`` holds no ``reverse.json``.
    """
    path = Path(directory) / MARKER
    if not path.is_file():
        raise InputError(f"{directory}: not a reverse stress directory (no {MARKER}). Give the directory "
                         "that ReverseStress.save (`simulate reverse --out`) wrote.")
    return json.loads(path.read_text(encoding="utf-8"))
