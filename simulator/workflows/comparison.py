"""Scenario comparison on common random numbers.

Every scenario runs on the same book with the same seed, so each path meets the
same macro and idiosyncratic draws in every scenario and the differences come
from the scenarios. For each headline metric the comparison gives each
scenario's mean, its difference to the first scenario (the reference) with the
standard error of the paired per-path differences, the standard error the same
difference would have with independent draws (``sqrt(se_a^2 + se_b^2)``), and
their variance ratio (the variance reduction that common random numbers buy).
The same, per portfolio segment, for the segment metrics (:attr:`Comparison.segment_table`).
All paired statistics come from :func:`simulator.accounts.metrics.paired_difference`.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..accounts.metrics import (HEADLINE_METRICS, REPORTED_METRICS, SEGMENT_METRICS, TAIL_METRICS, metric_kind,
                                metric_unit, paired_difference)
from ..accounts.names import metric_name
from ..inputs.errors import InputError
from ..inputs.loader import load_scenario
from ..inputs.schema import Scenario
from .results import BOOK, Results, figure_writer, load_results, resolve_seed, run, write_atomically
from .reverse import MARKER as REVERSE_MARKER
from .sensitivity import MARKER as SENSITIVITY_MARKER
from .weighted import MARKER as WEIGHTED_MARKER
from .workbook import write_read_me, write_sheet

MARKER = "comparison.csv"
SEGMENT_TABLE = "comparison_by_segment.csv"
"""The per-segment differences of a comparison directory."""

KEY_SERIES = {"overdue_rate_90p": ("90+ overdue rate", "rate"),
              "cumulative_loss_rate": ("cumulative loss rate", "rate"),
              "provision_requirement": ("provision requirement", "money"), "coverage_ratio": ("coverage ratio", "rate"),
              "liquidity_buffer": ("liquidity buffer", "money"), "cumulative_profit": ("cumulative profit", "money")}
"""The monthly series (docs/outputs.md) that get a wide sheet of their own in the workbook: name -> (sheet name, kind
of number)."""


class Comparison:
    """Several runs of one book on common random numbers; the first is the reference.

    Attributes
    ----------
    members : list of Results
    """

    def __init__(self, members):
        self.members = members

    @property
    def design(self):
        """The members' common :class:`~simulator.model.sampling.PathDesign` (the reference's): paired
        differences need each path weighted alike in every member.

        Raises
        ------
        InputError
            If importance sampling gave the members' paths different weights (their cycles or horizons differ).
        """
        reference = self.members[0].design
        for results in self.members[1:]:
            weights = results.design.weights
            if (weights is None) != (reference.weights is None) or (
                    weights is not None and not np.array_equal(weights, reference.weights)):
                raise InputError(f"{results.scenario.name}: its paths are weighted differently from "
                                 f"{self.members[0].scenario.name}'s (importance sampling of another cycle or "
                                 "horizon), so their differences cannot be paired. Compare them with "
                                 "run.tail_sampling: none, or give them the same cycle and horizon.")
        return reference

    @property
    def table(self):
        """Long table: scenario, metric, mean, difference to the reference, its se, se with independent draws,
        and the variance reduction factor ``se_independent^2 / se_difference^2``."""
        reference = self.members[0]
        rows = []
        for results in self.members:
            for name in HEADLINE_METRICS:
                mine, base = results.headline[name], reference.headline[name]
                if np.isnan(mine - base).all():
                    continue
                paired = paired_difference(mine, base, self.design)
                rows.append({"scenario": results.scenario.name, "metric": name,
                             **{key: float(value) for key, value in paired.items()}})
        return pd.DataFrame(rows)

    @property
    def segment_table(self):
        """Long table of the segment metrics (:data:`~simulator.accounts.metrics.SEGMENT_METRICS`): scenario,
        segment (``all`` for the book), metric, mean, difference to the reference's same segment on the same
        paths, its paired se, the se with independent draws and the variance reduction. Segments the reference
        does not have are left out."""
        reference = self.members[0]
        labels = reference.segment_names + (BOOK,)
        rows = []
        for results in self.members:
            mine_labels = results.segment_names + (BOOK,)
            shared = [label for label in labels if label in mine_labels]
            mine_columns = [mine_labels.index(label) for label in shared]
            base_columns = [labels.index(label) for label in shared]
            for name in SEGMENT_METRICS:
                paired = paired_difference(results.segment_headline[name][:, mine_columns],
                                           reference.segment_headline[name][:, base_columns], self.design)
                for k, label in enumerate(shared):
                    rows.append({"scenario": results.scenario.name, "segment": label, "metric": name,
                                 **{key: float(value[k]) for key, value in paired.items()}})
        return pd.DataFrame(rows)

    @property
    def plot(self):
        """Overlay figures of the compared runs: ``comparison.plot.overdue_rates()`` etc.
        (see :class:`simulator.presentation.plots.Plots`)."""
        return figure_writer(Results.plot_accessor, "Comparison")(self.members)

    @property
    def headline_means(self):
        """Wide table: one row per headline metric, one column per scenario (means over paths)."""
        return self.table.pivot(index="metric", columns="scenario", values="mean").reindex(
            columns=[m.scenario.name for m in self.members])

    def write_workbook(self, path):
        """An Excel workbook for finance colleagues (formatted by :mod:`simulator.workflows.workbook`).

        Sheets: ``read me`` (the runs, what each sheet holds, the units); ``headline`` (every metric of
        ``summary.json`` in the documented order, VaR and ES included: readable name, unit, each scenario's mean or
        tail value, then their standard errors); one wide sheet per key series (:data:`KEY_SERIES`: months as rows,
        each scenario's mean, 5th percentile, median and 95th percentile across paths as columns); and the long
        tables for pandas users: ``differences``, ``differences by segment`` and each scenario's ``series``.
        """
        names = [results.scenario.name for results in self.members]
        with pd.ExcelWriter(path, engine="openpyxl") as workbook:
            write_read_me(workbook, self._read_me())
            headline, kinds = self._headline_sheet()
            write_sheet(workbook, "headline", headline, row_kinds=kinds)
            timeseries = {name: results.timeseries for name, results in zip(names, self.members)}
            for series, (label, kind) in KEY_SERIES.items():
                wide = self._series_sheet(timeseries, series)
                if wide is not None:
                    write_sheet(workbook, label, wide, column_kinds={c: kind for c in wide.columns[1:]})
            for sheet_name, table in (("differences", self.table), ("differences by segment", self.segment_table)):
                table = _with_names(table, self.members[0].summary["currency"])
                write_sheet(workbook, sheet_name, table, column_kinds={"variance_reduction": "ratio"},
                            row_kinds=[metric_kind(metric) for metric in table.metric])
            for name, table in timeseries.items():
                write_sheet(workbook, f"series {name}", table)

    def _read_me(self):
        """Rows of the workbook's ``read me`` sheet."""
        first = self.members[0]
        summary = first.summary
        rows = [("what", "Comparison of stress scenarios on one book, on common random numbers (every scenario meets "
                         "the same random draws, so differences come from the scenarios)"),
                ("scenarios", ", ".join(r.scenario.name for r in self.members)),
                ("reference", f"{first.scenario.name} (differences are to it)"),
                ("seed, paths, loans, horizon", f"{summary['seed']}, {summary['paths']:,} paths, "
                                                f"{summary['loans']:,} loans, {summary['horizon_months']} months"),
                ("currency", summary["currency"]),
                ("", ""),
                ("headline", "Every headline metric per scenario: the mean over paths (for yes/no metrics the share "
                             "of paths where it happened; for the VaR and ES of the loss the tail value), then its "
                             "Monte Carlo standard error (the error of the mean, not the spread across paths)"),
                ("series sheets", "One key monthly series per sheet: months as rows; per scenario the mean and the "
                                  "5th, 50th and 95th percentiles across paths (the spread of outcomes)"),
                ("differences", "Long table: each scenario's mean, difference to the reference, the standard error "
                                "of the paired differences, the se with independent draws and the variance reduction "
                                "common random numbers buy. Differences of rates show as % of the book: 0.25% is "
                                "0.25 percentage points"),
                ("differences by segment", "The same per portfolio segment (all = the book)"),
                ("series <scenario>", "Long table of every monthly series (for pandas): month, metric, segment, mean, "
                                      "percentiles, se; see docs/outputs.md for each series' definition"),
                ("", ""),
                ("units", "rates and probabilities as percentages; money in the book's currency; months; loans"),
                ("definitions", "docs/outputs.md (headline metrics and time series)")]
        return rows

    def _headline_sheet(self):
        """The ``headline`` sheet and its rows' kinds: metrics in :data:`~simulator.accounts.metrics.REPORTED_METRICS`
        order, each scenario's mean (tail metrics: value) and se, from ``summary.json``'s statistics."""
        currency = self.members[0].summary["currency"]
        rows, kinds = [], []
        for metric in REPORTED_METRICS:
            stats = [results.summary["metrics"].get(metric) for results in self.members]
            if all(s is None for s in stats):
                continue
            row = {"metric": metric_name(metric), "unit": metric_unit(metric).replace("currency", currency),
                   "key": metric}
            row.update({r.scenario.name: _statistic(s, "value" if metric in TAIL_METRICS else "mean")
                        for r, s in zip(self.members, stats)})
            row.update({f"se {r.scenario.name}": _statistic(s, "se") for r, s in zip(self.members, stats)})
            rows.append(row)
            kinds.append(metric_kind(metric))
        return pd.DataFrame(rows), kinds

    @staticmethod
    def _series_sheet(timeseries, series):
        """Months as rows; each scenario's mean, p05, p50 and p95 of the book's ``series``; None if no run has it."""
        columns = {}
        for name, table in timeseries.items():
            rows = table[(table.metric == series) & (table.segment == BOOK)]
            if rows.empty:
                continue
            columns["month"] = rows["month"].to_numpy()
            for statistic, label in (("mean", "mean"), ("p05", "5th pct"), ("p50", "median"), ("p95", "95th pct")):
                columns[f"{name} {label}"] = rows[statistic].to_numpy()
        return pd.DataFrame(columns) if columns else None

    def save(self, out_dir, plots=True, lang="en"):
        """Write ``comparison.csv``, ``.parquet`` and ``.xlsx``, each scenario's run directory and the overlay
        figures (labels in ``lang``)."""
        def write(directory):
            table = self.table
            table.to_csv(directory / MARKER, index=False)
            table.to_parquet(directory / "comparison.parquet", index=False)
            self.segment_table.to_csv(directory / SEGMENT_TABLE, index=False)
            self.write_workbook(directory / "comparison.xlsx")
            for results in self.members:
                member = directory / "runs" / results.scenario.name
                member.mkdir(parents=True)
                results.write_files(member, plots=False)
            if plots:
                self.plot.write(directory / "plots", lang)

        return write_atomically(out_dir, write, marker=MARKER)


def load_members(directories):
    """The runs in run, comparison, weighted-ECL, sensitivity (its base run) or reverse stress directories (its run
    at the breaking severity), in the order given.

    Raises
    ------
    InputError
        If a directory is missing or is none of those.
    """
    members = []
    for directory in map(Path, directories):
        if not directory.is_dir():
            raise InputError(f"{directory}: not found. Give directories written by `simulate run`, "
                             "`simulate compare`, `simulate ecl`, `simulate sensitivity` or `simulate reverse`.")
        if (directory / MARKER).is_file() or (directory / WEIGHTED_MARKER).is_file():
            runs = directory / "runs"
            names = _member_order(directory)
            members.extend(load_results(runs / name) for name in names)
        elif (directory / SENSITIVITY_MARKER).is_file():
            members.append(load_results(directory / "runs" / "base"))
        elif (directory / REVERSE_MARKER).is_file():
            members.append(load_results(directory / "run"))
        elif (directory / "summary.json").is_file():
            members.append(load_results(directory))
        else:
            raise InputError(f"{directory}: not a run, comparison, ECL, sensitivity or reverse stress directory (no "
                             f"summary.json, {MARKER}, {WEIGHTED_MARKER}, {SENSITIVITY_MARKER} or {REVERSE_MARKER}). "
                             "Give a directory that a save() method (or a `simulate` command's --out) wrote.")
    return members


def _member_order(directory):
    """Scenario names of a comparison (reference first) or ECL directory, in the order they were run."""
    if (directory / MARKER).is_file():
        return list(dict.fromkeys(pd.read_csv(directory / MARKER)["scenario"]))
    summary = json.loads((directory / WEIGHTED_MARKER).read_text(encoding="utf-8"))
    return [row["scenario"] for row in summary["scenarios"]]


def unpaired_reasons(members):
    """Why the runs' paths do not share random numbers with the first run's: ``{scenario: [reasons]}``, empty if
    they all share book, horizon, seed and path count."""
    first = members[0]
    found = {}
    for other in members[1:]:
        reasons = []
        if other.scenario.portfolio != first.scenario.portfolio:
            reasons.append("another book")
        if other.scenario.run.horizon_months != first.scenario.run.horizon_months:
            reasons.append("another horizon")
        if other.seed != first.seed:
            reasons.append(f"seed {other.seed} instead of {first.seed}")
        if other.scenario.run.paths != first.scenario.run.paths:
            reasons.append(f"{other.scenario.run.paths} paths instead of {first.scenario.run.paths}")
        if reasons:
            found[other.scenario.name] = reasons
    return found


def compare_runs(members, allow_different=False):
    """Compare existing runs (see :func:`simulator.workflows.results.load_results`); the first is the reference.

    Runs are comparable on common random numbers only if they share the book,
    horizon, seed and path count (:func:`unpaired_reasons`); otherwise they are
    refused unless ``allow_different`` (then the differences are still reported,
    but their standard errors and variance reductions assume paired draws that are
    not).
    """
    first = members[0]
    names = [m.scenario.name for m in members]
    if len(set(names)) != len(names):
        raise InputError(f"compare: scenario names must be unique; got {names}. Give each run its own scenario name.")
    for name, reasons in unpaired_reasons(members).items():
        if not allow_different:
            raise InputError(f"compare: run {name} differs from {first.scenario.name} "
                             f"({'; '.join(reasons)}), so its paths do not share random numbers with the reference. "
                             "Rerun both with the same seed and paths, or pass allow_different=True to compare anyway.")
    if any(m.scenario.run.paths != first.scenario.run.paths or m.scenario.run.horizon_months
           != first.scenario.run.horizon_months for m in members[1:]):
        raise InputError("compare: runs with different path counts or horizons cannot be compared path by path. "
                         "Rerun them with the same paths= and horizon.")
    return Comparison(members)


def compare(scenarios, paths=None, seed=None, threads=None, map_blocks=None, loans=None):
    """Run ``scenarios`` on common random numbers (the first one's seed) and compare them.

    Parameters
    ----------
    scenarios : list of Scenario, str or Path
        Scenario objects or files; the first is the reference.
    paths, seed : int, optional
        Override ``run.paths`` and ``run.seed`` of every scenario.
    threads : int, optional
        Engine threads of an in-process run.
    loans : int, optional
        Resize every scenario's synthetic book to this many loans (as ``run``'s ``loans``).
    map_blocks : callable, optional
        Where the engine's blocks of paths run (see :func:`simulator.workflows.results.run`).

    Raises
    ------
    InputError
        If the scenarios do not share one book, horizon and path count, or two share a name.

    Examples
    --------
    >>> import simulator
    >>> comparison = simulator.compare(["scenarios/baseline.yaml", "scenarios/severe.yaml"], paths=100)  # doctest: +SKIP
    >>> comparison.headline_means                                                                      # doctest: +SKIP
    """
    scenarios = [(s if isinstance(s, Scenario) else load_scenario(s)).with_run(paths=paths, seed=seed)
                 for s in scenarios]
    if len(scenarios) < 2:
        raise InputError(f"compare: needs at least two scenarios; got {len(scenarios)}. "
                         "Name the reference first, then the others.")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"compare: scenario names must be unique; got {names}. Give each file its own 'name'.")
    first = resolve_seed(scenarios[0])
    for scenario in scenarios[1:]:
        if scenario.portfolio != first.portfolio or scenario.run.horizon_months != first.run.horizon_months:
            raise InputError(f"compare: {scenario.name} must use the same book and horizon as {first.name}; it "
                             "does not. Common random numbers compare scenarios of one book: make both extend "
                             "the same baseline and change only the economy, behaviour, funding or actions.")
    members = [run(scenario.with_run(seed=first.run.seed, paths=first.run.paths), threads=threads,
                   map_blocks=map_blocks, loans=loans)
               for scenario in [first] + list(scenarios[1:])]
    return Comparison(members)


def _statistic(stats, key):
    """``stats[key]`` of a metric's ``summary.json`` entry; None where the run lacks the metric or it is undefined."""
    return None if stats is None else stats.get(key)


def _with_names(table, currency):
    """A long table of metrics with the readable ``name`` and ``unit`` of each metric inserted after ``metric``
    (money in ``currency``)."""
    table = table.copy()
    at = table.columns.get_loc("metric") + 1
    table.insert(at, "unit", [metric_unit(metric).replace("currency", currency) for metric in table.metric])
    table.insert(at, "name", [metric_name(metric) for metric in table.metric])
    return table
