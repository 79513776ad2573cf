"""Running a scenario end to end, and its results: tidy frames and the run directory.

The run directory (the files :meth:`Results.write_files` writes) is written atomically: everything goes to a
temporary sibling that is renamed into place at the end, so an interrupted or
failed run leaves no half-written directory.
"""
import contextlib
import json
import math
import numbers
import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
import warnings
from functools import cached_property
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import yaml

from ..accounts.ifrs9 import cure_rates, ecl_rates, lgd_rates, pd_term_structure
from ..accounts.metrics import (CONDITIONAL_METRICS, HEADLINE_METRICS, MIN_REPLICATES, PROBABILITY_METRICS,
                               SEGMENT_METRICS, SEGMENT_SERIES, TAIL_METRICS, adverse_percentiles,
                               bucket_rate_paths, describe, headline_values, lending_stop_months, metric_unit,
                               paired_difference, path_series, segment_headline_values, segment_series,
                               tail_risk, vintage_curve, weighted_percentiles)
from ..inputs.errors import InputError, OutputError, ScenarioWarning, excerpt, must_be
from ..inputs.options import MAX_LOANS, MAX_PATHS, MAX_THREADS, check_integer
from ..inputs.checks import scenario_warnings
from ..inputs.loader import load_scenario, scenario_from_dict
from ..inputs.schema import ActionsSpec, Scenario
from ..model.engine.layout import METRIC_NAMES, STATE_NAMES, book_aggregates, with_segment_axis
from ..model.engine.simulate import check_fits, engine_months, settle_borrowers, simulate_segments
from ..model.macro import check_macro_paths
from ..model.portfolio import build_book, originations, with_new_lending
from ..model.sampling import path_design, resolve_sampling
from ..version import __version__

SEED_BITS = 32

BOOK = "all"
"""The segment label of the book's rows (time series, ``summary.json``'s ``by_segment``, :meth:`Results.by_segment`)."""

STATISTICS = ("mean", "p01", "p05", "p50", "p95", "p99", "se")
"""The statistics of a per-path quantity across paths (:func:`~simulator.accounts.metrics.describe`)."""

EFFECT_METRICS = ("peak_overdue_rate_1_30", "peak_overdue_rate_31_90", "peak_overdue_rate_90p", "cumulative_loss_rate",
                  "new_vintage_ever_90p_rate_12m",
                  "peak_provision_requirement", "min_liquidity_buffer", "cumulative_profit", "total_action_cost")
"""Headline metrics whose change an action set is judged by."""


class Results:
    """Outcome of one run: per-path aggregates plus everything derived from them.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario, with the concrete seed.
    segment_aggregates : numpy.ndarray (n_paths, n_months + 1, n_segments, N_METRICS)
        The engine's aggregates per segment of ``scenario.segment_names``.
    aggregates : numpy.ndarray (n_paths, n_months + 1, N_METRICS)
        The book's: the sum of the segments' (:func:`~simulator.model.engine.layout.book_aggregates`).
    central : dict
        Central macro path per variable (percent).
    n_loans : int
    wall_seconds : float
    stop_months : numpy.ndarray (n_paths,)
        The month each path stopped lending in the engine, NaN where it never did
        (:func:`simulate_with_funding`); ``None``: the engine lent on every path
        (``funding.when_short: keep_lending``, or aggregates from elsewhere), and the
        accounts find the months lending would have stopped.
    """

    plot_accessor = None
    """The class of ``results.plot`` and ``comparison.plot``, built from a list of runs: the package root
    (:mod:`simulator`) sets it to :class:`simulator.presentation.plots.Plots`, whose ``write`` also saves the run
    directory's figures. Figures belong to the presentation layer, which the workflows may not import."""

    def __init__(self, scenario, segment_aggregates, central, n_loans, wall_seconds, counterfactual=None,
                 vintages=None, target_se=None, stop_months=None, run_warnings=()):
        self.scenario = scenario
        self.segment_aggregates = with_segment_axis(segment_aggregates)
        self.aggregates = book_aggregates(self.segment_aggregates)
        self.central = central
        self.n_loans = n_loans
        self.wall_seconds = wall_seconds
        self.counterfactual = counterfactual
        self.vintages = vintages
        self.target_se = target_se
        self.stop_months = stop_months
        self.run_warnings = list(run_warnings)

    def extended(self, more):
        """These results followed by ``more``, the results of the next paths of the same run (same seed and
        settings; ``more.scenario`` counts all the paths)."""
        counterfactual = None if self.counterfactual is None else self.counterfactual.extended(more.counterfactual)
        vintages = None if self.vintages is None else np.concatenate([self.vintages, more.vintages])
        stop_months = None if self.stop_months is None else np.concatenate([self.stop_months, more.stop_months])
        return Results(more.scenario, np.concatenate([self.segment_aggregates, more.segment_aggregates]), self.central,
                       self.n_loans, self.wall_seconds, counterfactual, vintages, self.target_se, stop_months,
                       self.run_warnings)

    @cached_property
    def action_effects(self):
        """Effect of the scenario's actions against the same scenario without them, on common random numbers.

        For each metric of :data:`EFFECT_METRICS`: the mean with and without the
        actions, the mean paired difference (with - without) and its Monte Carlo
        standard error ``sd(difference) / sqrt(paths)`` (``None`` where the metric does
        not exist, e.g. a 12-month vintage rate on a shorter horizon), from
        :func:`~simulator.accounts.metrics.paired_difference`. ``None`` without actions.
        """
        if self.counterfactual is None:
            return None
        effects = {}
        for name in EFFECT_METRICS:
            with_actions, without = self.headline[name], self.counterfactual.headline[name]
            paired = paired_difference(with_actions, without, self.design)
            effects[name] = {"with_actions": json_number(paired["mean"]),
                             "without_actions": json_number(describe(without, self.design)["mean"]),
                             "difference": json_number(paired["difference"]),
                             "se": json_number(paired["se_difference"])}
        return effects

    @property
    def seed(self):
        return self.scenario.run.seed

    def band(self, values, percentiles=(5, 50, 95)):
        """Percentiles over paths (axis 0) of ``values``, a per-path array of this run, under its design: numpy's
        percentiles for equally weighted paths, importance-sampling quantiles otherwise
        (:func:`simulator.accounts.metrics.weighted_percentiles`). What the figures draw as bands and medians."""
        if self.design.weights is None:
            with warnings.catch_warnings():  # NaN where no path has the quantity (a survival horizon nobody reaches)
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.nanpercentile(values, percentiles, axis=0)
        return weighted_percentiles(values, percentiles, self.design.weights)

    def mean_of(self, values):
        """The mean over paths (axis 0) of ``values``, a per-path array of this run, under its design
        (:func:`simulator.accounts.metrics.describe`)."""
        return describe(values, self.design)["mean"]

    @cached_property
    def design(self):
        """How the paths combine into estimates: weights and independent replicates
        (:class:`simulator.model.sampling.PathDesign`, from the run's sampling settings)."""
        return path_design(self.scenario.run, self.scenario.macro.cycle, self.seed, engine_months(self.scenario))

    @cached_property
    def _series_and_outcomes(self):
        return path_series(self.segment_aggregates, self.scenario, self.central, self.design.weights,
                           self.stop_months)

    @property
    def series(self):
        """Per-path monthly series, ``{name: array (n_paths, n_months + 1)}`` (see :func:`simulator.accounts.metrics.path_series`)."""
        return self._series_and_outcomes[0]

    @cached_property
    def headline(self):
        """Per-path headline values, ``{metric: array (n_paths,)}``."""
        return headline_values(self.aggregates, *self._series_and_outcomes, self.vintages)

    @property
    def segment_names(self):
        """The portfolio's segments, in the order of the segment axis."""
        return tuple(self.scenario.segment_names)

    @cached_property
    def segment_series(self):
        """Per-path monthly series of each segment, ``{name: array (n_paths, n_months + 1, n_segments)}``
        (see :func:`simulator.accounts.metrics.segment_series`)."""
        return segment_series(self.segment_aggregates, self.scenario, self.design.weights)

    @cached_property
    def segment_headline(self):
        """Per-path headline values by segment, ``{metric: array (n_paths, n_segments + 1)}``, the book last
        (see :func:`simulator.accounts.metrics.segment_headline_values`)."""
        return segment_headline_values(self.segment_series, self.series)

    @cached_property
    def _segment_statistics(self):
        """``{segment: {metric: {statistic: value}}}`` over paths, the book as :data:`BOOK`."""
        labels = self.segment_names + (BOOK,)
        table = {label: {} for label in labels}
        for name in SEGMENT_METRICS:
            stats = describe(self.segment_headline[name], self.design)
            for k, label in enumerate(labels):
                table[label][name] = {key: json_number(value[k]) for key, value in stats.items()}
        return table

    def by_segment(self, metric=None):
        """Headline metrics by segment as a DataFrame: rows = segments (the book as ``all``), columns = statistics.

        Parameters
        ----------
        metric : str, optional
            One of :data:`~simulator.accounts.metrics.SEGMENT_METRICS`; without it, all of
            them, rows indexed by (segment, metric).

        Examples
        --------
        >>> results.by_segment("loss_share")[["mean", "se"]]   # doctest: +SKIP
        """
        if metric is not None and metric not in SEGMENT_METRICS:
            raise InputError(f"by_segment: metric must be one of {', '.join(SEGMENT_METRICS)}; got {metric!r}.")
        names = SEGMENT_METRICS if metric is None else (metric,)
        rows = {(label, name): values[name] for label, values in self._segment_statistics.items() for name in names}
        frame = pd.DataFrame(rows).T[list(STATISTICS)].astype(float)
        frame.index.names = ["segment", "metric"]
        return frame.droplevel("metric") if metric is not None else frame

    @cached_property
    def summary(self):
        """The content of ``summary.json``: run identity and headline statistics."""
        run = self.scenario.run
        metrics = {name: headline_statistics(name, self.headline[name], self.design)
                   for name in HEADLINE_METRICS if name in self.headline}
        metrics.update(tail_risk(self.headline["cumulative_loss_rate"], self.seed, self.design))
        units = {name: {"unit": metric_unit(name), **adverse_percentiles(name)}
                 for name in metrics if name not in PROBABILITY_METRICS}
        units.update({name: {"unit": metric_unit(name)} for name in metrics if name in PROBABILITY_METRICS})
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "paths": run.paths,
            "loans": self.n_loans,
            "horizon_months": run.horizon_months,
            "balance_sheet": run.balance_sheet,
            "funding_response": funding_response(self.scenario.funding),
            "behaviour_model": self.scenario.behaviour.model,
            "currency": self.scenario.portfolio.currency,
            "opening_balance": float(self.series["book_balance"][0, 0]),
            "versions": versions(),
            "wall_seconds": round(self.wall_seconds, 3),
            "warnings": scenario_warnings(self.scenario, self.scenario.name) + self.run_warnings,
            "metrics": metrics,
            "metric_units": units,
            "provisioning": self._binding_rule(),
            "action_effects": self.action_effects,
            "by_segment": self._segment_statistics,
            "sampling": {"sampling": run.sampling, "tail_sampling": run.tail_sampling,
                         "replicates": self.design.n_replicates,
                         **({"rqmc_points": run.rqmc_points} if run.sampling == "rqmc" else {}),
                         **({"importance_shift": run.importance_shift} if run.tail_sampling == "importance" else {})},
            "target_se": None if self.target_se is None else target_report(metrics, self.target_se,
                                                                            self.design.n_replicates),
        }

    def _binding_rule(self):
        """Which rule sets the provision requirement: at each path's peak month, and overall."""
        requirement = self.series["provision_requirement"][:, 1:]
        peak_month = requirement.argmax(axis=1)
        at_peak = self.series["ifrs9_binds"][:, 1:][np.arange(len(peak_month)), peak_month]
        return {"binding_rule_at_peak": "ifrs9" if at_peak.mean() >= 0.5 else "five_category",
                "ifrs9_binds_at_peak_share": float(at_peak.mean()),
                "ifrs9_binding_share": float(self.series["ifrs9_binds"][:, 1:].mean())}

    @cached_property
    def timeseries(self):
        """Long table: one row per (month, metric, segment) with mean, p01, p05, p50, p95, p99 and se.

        Per-path series get their statistics across paths; scenario-level quantities
        (the central macro path, the IFRS 9 PD term structure and ECL rates per DPD
        state) have one value per month, repeated in every statistic with se 0.
        ``segment`` is ``all`` for the book; the series of
        :data:`~simulator.accounts.metrics.SEGMENT_SERIES` also have one row per
        portfolio segment.
        """
        frames = []
        months = np.arange(self.scenario.run.horizon_months + 1)
        for name, values in self.series.items():
            frames.append(pd.DataFrame({"month": months, "metric": name, **describe(values, self.design)}))
        for name in SEGMENT_SERIES:
            for k, segment in enumerate(self.segment_names):
                frames.append(pd.DataFrame({"month": months, "metric": name, "segment": segment,
                                            **describe(self.segment_series[name][:, :, k], self.design)}))
        if self.vintages is not None:
            curve = vintage_curve(self.aggregates, self.vintages)
            frames.append(pd.DataFrame({"month": months, "metric": "new_vintage_ever_90p_rate_by_months_on_book",
                                        **describe(curve, self.design)}))
        scenario_level = {f"macro_{variable}_central_pct": level for variable, level in self.central.items()}
        weights = self.design.weights
        pds = pd_term_structure(self.aggregates, weights)
        rates, restructured_rates = ecl_rates(self.aggregates, self.scenario, weights)
        lgds, cures = lgd_rates(self.aggregates, self.scenario, weights), cure_rates(self.aggregates, weights)
        for state, label in enumerate(STATE_NAMES[:rates.shape[1]]):
            scenario_level[f"pd_12m_{label}"] = pds["12m"][:, state]
            scenario_level[f"pd_lifetime_{label}"] = pds["lifetime"][:, state]
            scenario_level[f"lgd_{label}"] = lgds[:, state]
            scenario_level[f"cure_after_default_{label}"] = cures[:, state]
            scenario_level[f"ecl_rate_{label}"] = rates[:, state]
            if self.scenario.actions.restructuring is not None:
                scenario_level[f"pd_lifetime_restructured_{label}"] = pds["restructured"][:, state]
                scenario_level[f"ecl_rate_restructured_{label}"] = restructured_rates[:, state]
        for name, value in scenario_level.items():
            frames.append(pd.DataFrame({"month": months, "metric": name,
                                        **{key: value for key in STATISTICS if key != "se"}, "se": 0.0}))
        table = pd.concat(frames, ignore_index=True)
        table.insert(2, "segment", table.pop("segment").fillna(BOOK))
        return table

    def headline_table(self):
        """Headline metrics as a DataFrame (rows = metrics, columns = statistics)."""
        rows = {k: v for k, v in self.summary["metrics"].items() if k in HEADLINE_METRICS}
        return pd.DataFrame(rows).T.reindex(columns=list(STATISTICS))

    @property
    def plot(self):
        """The house figures of this run: ``results.plot.overdue_rates()`` etc. (see :class:`simulator.presentation.plots.Plots`)."""
        return figure_writer(self.plot_accessor, "Results")([self])

    def save(self, out_dir, plots=True, lang="en"):
        """Write the run directory atomically (see :func:`write_atomically`); returns its path.

        ``lang`` is the language of the figures' labels (``en`` or ``zh``).
        """
        return write_atomically(out_dir, lambda staging: self.write_files(staging, plots, lang))

    def write_files(self, directory, plots=True, lang="en"):
        """Write the run directory's files into the existing ``directory`` (not atomic; see :meth:`save`)."""
        write_json(directory / "summary.json", self.summary)
        self.timeseries.to_csv(directory / "timeseries.csv", index=False)
        self.timeseries.to_parquet(directory / "timeseries.parquet", index=False)
        extra = {} if self.vintages is None else {"vintages": self.vintages}
        if self.stop_months is not None:
            extra["lending_stop_month"] = self.stop_months
        np.savez_compressed(directory / "paths.npz", aggregates=self.aggregates,
                            segment_aggregates=self.segment_aggregates, segment_names=np.array(self.segment_names),
                            metric_names=np.array(METRIC_NAMES), seed=np.array(self.seed),
                            **{f"central_{name}": level for name, level in self.central.items()}, **extra)
        (directory / "scenario.resolved.yaml").write_text(self.scenario.to_yaml(), encoding="utf-8")
        if plots:
            self.plot.write(directory / "plots", lang)
        if self.counterfactual is not None:
            without = directory / "without_actions"
            without.mkdir()
            self.counterfactual.write_files(without, plots=False)


def load_results(directory):
    """Read a run directory written by :meth:`Results.save` back into a :class:`Results`.

    Raises
    ------
    InputError
        If ``directory`` is not a complete run directory of this version.
    """
    directory = Path(directory)
    needed = ("summary.json", "paths.npz", "scenario.resolved.yaml")
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing:
        raise InputError(f"{directory}: not a run directory (missing {', '.join(missing)}). "
                         "Give a directory that Results.save (`simulate run --out`) wrote.")
    scenario = scenario_from_dict(yaml.safe_load((directory / "scenario.resolved.yaml").read_text(encoding="utf-8")),
                                  source=str(directory / "scenario.resolved.yaml"))
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    with np.load(directory / "paths.npz") as stored:
        if list(stored["metric_names"]) != list(METRIC_NAMES) or "segment_aggregates" not in stored.files:
            raise InputError(f"{directory}: written by another version of the simulator (its metrics differ). "
                             "Run the scenario again with this version.")
        central = {key[len("central_"):]: stored[key] for key in stored.files if key.startswith("central_")}
        aggregates = stored["segment_aggregates"]
        vintages = stored["vintages"] if "vintages" in stored.files else None
        stop_months = stored["lending_stop_month"] if "lending_stop_month" in stored.files else None
    if stop_months is None and scenario.funding.when_short != "keep_lending":
        raise InputError(f"{directory}: written by another version of the simulator (no lending stop months). "
                         "Run the scenario again with this version.")
    counterfactual = load_results(directory / "without_actions") if (directory / "without_actions").is_dir() else None
    from_scenario = scenario_warnings(scenario, scenario.name)
    return Results(scenario, aggregates, central, summary["loans"], summary["wall_seconds"], counterfactual, vintages,
                   stop_months=stop_months,
                   run_warnings=[w for w in summary.get("warnings", []) if w not in from_scenario])


def figure_writer(function, owner):
    """``function``, the presentation function that draws ``owner``'s figures, which :mod:`simulator.api` sets
    when it is imported (on first use of ``simulator.run`` and the package's other names).

    Raises
    ------
    RuntimeError
        If it is not set: a program that imports the workflow modules directly and asks for figures.
    """
    if function is None:
        raise RuntimeError(f"{owner} figures are drawn by the presentation layer, which simulator.api wires in: "
                           "`import simulator.api` first (simulator.run and the package's other names do it), or "
                           "save with plots=False.")
    return function


def headline_statistics(name, values, design=None):
    """The ``summary.json`` entry of headline metric ``name`` from its per-path ``values``.

    ``mean``, ``p01`` .. ``p99`` (the spread across paths) and ``se`` (the Monte Carlo
    error of the mean, :func:`~simulator.accounts.metrics.describe`); a yes/no metric
    (:data:`~simulator.accounts.metrics.PROBABILITY_METRICS`) has only ``mean``, its
    probability across paths, and ``se``; a metric defined on some paths only
    (:data:`~simulator.accounts.metrics.CONDITIONAL_METRICS`) has its statistics over those
    paths and ``paths``, how many they are (null statistics when there are none).
    """
    stats = {key: json_number(value) for key, value in describe(values, design).items()}
    if name in PROBABILITY_METRICS:
        return {"mean": stats["mean"], "se": stats["se"]}
    if name in CONDITIONAL_METRICS:
        stats["paths"] = int(np.sum(~np.isnan(values)))
    return stats


def json_number(value):
    """A float for JSON; ``None`` (null) where the statistic does not exist (NaN) or is unbounded (infinite)."""
    value = float(value)
    return value if np.isfinite(value) else None


def write_json(path, data):
    """Write ``data`` as strict JSON (RFC 8259: no NaN or Infinity; :func:`json_number` turns those into null).

    A non-finite number reaching here is a bug and raises ``ValueError``.
    """
    Path(path).write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")


MAX_OUTPUT_NAME_BYTES = 200
"""The longest file or directory name written (in UTF-8 bytes): file systems allow 255, and the temporary sibling a
directory is written to adds 14 (``.<name>.old.XXXXXXXX``)."""


def check_output_name(path, option):
    """Refuse an output path with a part longer than :data:`MAX_OUTPUT_NAME_BYTES` or longer than the system allows
    in all, before any work (an ``OSError`` at the end of a long run otherwise)."""
    too_long = [part for part in Path(path).parts if len(part.encode("utf-8", "surrogateescape"))
                > MAX_OUTPUT_NAME_BYTES]
    if too_long:
        raise InputError(must_be(option, "each part of the path", f"at most {MAX_OUTPUT_NAME_BYTES} bytes",
                                 too_long[0], "Choose a shorter name (a long scenario name makes a long default "
                                              "directory: give out_dir=)."))
    if len(str(Path(path).absolute()).encode("utf-8", "surrogateescape")) > MAX_OUTPUT_PATH_BYTES:
        raise InputError(must_be(option, "the path", f"at most {MAX_OUTPUT_PATH_BYTES} bytes in all", str(path),
                                 "Choose a shorter path."))


MAX_OUTPUT_PATH_BYTES = 3800
"""The longest output path in all (Linux allows 4096 with the names of the files written inside)."""


def check_out_dir(out_dir, marker="summary.json"):
    """Refuse, before any work, an output path that exists and is not one of our directories.

    A directory holding ``marker`` was written by us and may be replaced.

    An output path under a directory that cannot be written is refused too.

    Returns
    -------
    Path
    """
    out_dir = Path(out_dir)
    check_output_name(out_dir, "out_dir=")
    try:
        taken = out_dir.exists() and not (out_dir.is_dir() and (out_dir / marker).exists())
    except OSError as exc:  # a path the system cannot even look at
        raise InputError(f"{excerpt(out_dir)}: cannot be used as an output directory ({exc.strerror}). "
                         "Choose another out_dir=.") from None
    if taken:
        raise InputError(f"{out_dir}: exists and is not a run directory. Choose another out_dir= "
                         "or remove it first.")
    existing = next(parent for parent in out_dir.absolute().parents if parent.exists())
    if not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        raise InputError(f"{out_dir}: cannot be written ({existing} is not a writable directory). "
                         "Choose a writable out_dir=.")
    return out_dir


CRITICAL_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
"""Signals held back while a finished directory is swapped into place (delivered right after)."""
SWAP_ATTEMPTS = 3
"""Times the final rename is retried when another run put a directory at ``--out`` in the meantime."""


def write_atomically(out_dir, write, marker="summary.json"):
    """Fill ``out_dir`` through ``write(staging_dir)`` so that it appears whole or not at all.

    Everything is written to a temporary sibling that is renamed into place at the
    end; an existing directory of ours is replaced only then. Whatever happens (an
    exception, a full disk, an interrupt: SIGINT, SIGTERM and SIGHUP arrive as
    exceptions, see :class:`~simulator.inputs.errors.Interrupted`), every temporary
    is removed and a previous directory at ``out_dir`` is left intact; the swap of
    a finished directory into place runs with those signals held back, so it is
    never cut in half. Two runs writing the same ``out_dir`` at once: the one that
    finishes second replaces the first (each swap is atomic).

    Raises
    ------
    InputError
        If ``out_dir`` exists and is not ours, or cannot be created.
    OutputError
        If writing fails for lack of space or permission (nothing is left behind).
    """
    out_dir = check_out_dir(out_dir, marker)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot be written ({exc.strerror}). Choose a writable out_dir=.") from None
    try:
        try:
            write(staging)
        except OSError as exc:
            raise OutputError(f"{out_dir}: could not be written ({exc.strerror or exc}); nothing was written. "
                              "Free some space or choose another out_dir=.") from None
        _swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT, SIGTERM and SIGHUP back inside the block and deliver them, with the handlers they had, after it.

    Python runs signal handlers in the main thread whichever thread the operating
    system hands the signal to, so the handlers themselves are swapped for one that
    only records (a thread's signal mask would not do: another thread, numba's or
    BLAS's, may receive the signal). Outside the main thread nothing can be swapped
    and nothing is deferred.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum))
                for signum in CRITICAL_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in caught:
            signal.raise_signal(signum)


def _swap_into_place(staging, out_dir):
    """Rename ``staging`` to ``out_dir``, retiring a directory already there, with termination signals held."""
    with _signals_deferred():
        for attempt in range(SWAP_ATTEMPTS):
            retired = None
            try:
                if out_dir.exists():
                    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
                    os.replace(out_dir, retired / "run")
                os.replace(staging, out_dir)
                return
            except OSError:
                if retired is not None and not out_dir.exists() and (retired / "run").exists():
                    os.replace(retired / "run", out_dir)  # put the previous directory back
                if attempt == SWAP_ATTEMPTS - 1:
                    raise
            finally:
                if retired is not None:
                    shutil.rmtree(retired, ignore_errors=True)


def versions():
    """Versions that determine a run's numbers."""
    return {"simulator": __version__, "numpy": np.__version__, "numba": numba.__version__}


def resolve_seed(scenario):
    """The scenario with a concrete seed: its own, or a fresh random one (recorded in the results)."""
    if scenario.run.seed is not None:
        return scenario
    return scenario.with_run(seed=secrets.randbits(SEED_BITS))


def run(scenario, paths=None, seed=None, loans=None, threads=None, progress=None, target_se=None, max_paths=None,
        map_blocks=None):
    """Simulate a scenario and return its :class:`Results`.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A scenario object or the path of a scenario file.
    paths, seed, loans, threads : int, optional
        Override ``run.paths``, ``run.seed``, the synthetic book's ``n_loans`` and
        the engine's thread count.
    progress : callable, optional
        Called with the number of paths finished as each block finishes.
    target_se : dict of str -> float, optional
        Standard errors wanted for metrics of ``summary.json`` (a headline metric's
        mean, or a tail figure such as ``loss_var_999``): the run starts with
        ``paths`` paths and adds paths (:func:`paths_for_target`) until every target
        is met or ``max_paths`` is reached; ``summary.json`` says which.
    max_paths : int, optional
        The cap on paths under ``target_se`` (default 16 x the first batch).
    map_blocks : callable, optional
        Where the engine's blocks of paths run (see
        :func:`~simulator.model.engine.simulate.simulate_paths`): in this process by
        default; on a Dask cluster with :func:`simulator.workflows.cluster.engine_cluster`.
        The results are the same bits either way.

    Warns
    -----
    ScenarioWarning
        The book's opening delinquency drifts under a flat economy (:func:`opening_drift_warnings`); the message is
        in ``summary.json``'s ``warnings`` too. It is issued before the paths are simulated, so a caller that turns
        it into an error (``simulate run --strict``) stops at once.

    Examples
    --------
    >>> import simulator
    >>> results = simulator.run("scenarios/baseline.yaml", paths=50)  # doctest: +SKIP
    >>> results.headline_table()                                       # doctest: +SKIP
    """
    check_run_options(paths=paths, seed=seed, loans=loans, threads=threads, max_paths=max_paths)
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if loans is not None and scenario.portfolio.source == "tape":
        raise InputError("loans= resizes a synthetic book; this scenario reads a loan tape. "
                         "Drop loans= or use a synthetic portfolio.")
    scenario = resolve_seed(scenario.with_run(paths=paths, seed=seed).with_loans(loans))
    scenario = scenario_from_dict(scenario.model_dump(), source=scenario.name)  # paths, seed, loans checked too
    check_macro_paths(scenario)
    scenario = scenario.model_copy(update={"run": resolve_sampling(scenario.run)})
    max_paths = check_targets(scenario, target_se, max_paths)
    n_loans = scenario.portfolio.n_loans if scenario.portfolio.source == "synthetic" else None
    if n_loans is not None:
        check_fits(scenario.with_run(paths=max_paths), n_loans, source=scenario.name)
    started = time.perf_counter()
    book_seed = scenario.portfolio.seed  # the book is an input: run.seed moves only the paths
    book = build_book(scenario, book_seed)
    check_fits(scenario.with_run(paths=max_paths), book.n_loans, source=scenario.name)
    if scenario.portfolio.source == "synthetic":
        book = settle_borrowers(scenario, book, book_seed)
    drift = opening_drift_warnings(scenario, book, threads=threads)
    for message in drift:
        warnings.warn(message, ScenarioWarning, stacklevel=2)
    lending = with_new_lending(book, originations(scenario, book.n_loans, book_seed))
    check_fits(scenario.with_run(paths=max_paths), lending.n_loans, source=scenario.name)
    plain = scenario.model_copy(update={"actions": ActionsSpec()}) if has_actions(scenario) else None
    results, first_path = None, 0
    while True:
        aggregates, central, vintages, stops = simulate_with_funding(
            scenario, lending, scenario.run.seed, progress=progress, threads=threads, first_path=first_path,
            map_blocks=map_blocks)
        counterfactual = None
        if plain is not None:
            plain = plain.with_run(paths=scenario.run.paths)
            plain_aggregates, _, plain_vintages, plain_stops = simulate_with_funding(
                plain, book, scenario.run.seed, threads=threads, first_path=first_path, map_blocks=map_blocks)
            counterfactual = Results(plain, plain_aggregates, central, book.n_loans, 0.0, vintages=plain_vintages,
                                     stop_months=plain_stops)
        batch = Results(scenario, aggregates, central, book.n_loans, 0.0, counterfactual, vintages,
                        None if not target_se else {"targets": dict(target_se), "max_paths": max_paths}, stops, drift)
        results = batch if results is None else results.extended(batch)
        results.wall_seconds = time.perf_counter() - started
        if not target_se:
            return results
        wanted = paths_for_target(results, max_paths)
        if wanted <= scenario.run.paths:
            return results
        first_path, scenario = scenario.run.paths, scenario.with_run(paths=wanted)


def check_run_options(paths=None, seed=None, loans=None, threads=None, max_paths=None):
    """Refuse Python parameters of a run that are not integers within their bounds, naming the parameter
    (:mod:`simulator.inputs.options`; ``None`` means not given)."""
    check_integer("paths", paths, 1, MAX_PATHS, f"Give from 1 to {MAX_PATHS} paths.")
    check_integer("max_paths", max_paths, 1, MAX_PATHS, f"Give from 1 to {MAX_PATHS} paths.")
    check_integer("seed", seed, 0, 2 ** 63 - 1, "Give a whole number from 0 to 2^63 - 1.")
    check_integer("loans", loans, 1, MAX_LOANS, f"Give from 1 to {MAX_LOANS} loans.")
    check_integer("threads", threads, 1, MAX_THREADS, f"Give from 1 to {MAX_THREADS} threads.")


def simulate_with_funding(scenario, book, seed, progress=None, threads=None, first_path=0, map_blocks=None):
    """The engine's aggregates with the lender's cash feeding back into its lending: two exact passes.

    Pass 1 runs every path lending as the scenario says
    (:func:`~simulator.model.engine.simulate.simulate_segments`). From each path's own
    cash (:func:`~simulator.accounts.metrics.lending_stop_months`) comes the month its
    buffer would fall below the floor even after the emergency funding it may draw;
    pass 2 runs again only the paths that reach it, with new lending switched off
    from that month (the book runs off), and their rows replace pass 1's. The
    engine's draws are keyed by (seed, path, loan, month) and a stop touches only
    loans written from the stop month on, so each path's months before its stop are
    the same bits in both passes, and the stop month found in pass 1 is the one the
    final cash implies (the lender cannot run short earlier). The result is a pure
    function of (scenario, book, seed, path): the same for any threads, blocks or
    workers. Under ``funding.when_short: keep_lending`` there is no second pass.

    Parameters are those of :func:`~simulator.model.engine.simulate.simulate_segments`.

    Returns
    -------
    segment_aggregates, central, vintages
        As :func:`~simulator.model.engine.simulate.simulate_segments`.
    stop_months : numpy.ndarray (n_paths,) or None
        The month each path stopped lending, NaN where it never did; ``None`` under ``keep_lending``.
    """
    aggregates, central, vintages = simulate_segments(scenario, book, seed, progress=progress, threads=threads,
                                                      first_path=first_path, map_blocks=map_blocks)
    if scenario.funding.when_short == "keep_lending":
        return aggregates, central, vintages, None
    stop_months = lending_stop_months(aggregates, scenario, central)
    stopping = np.flatnonzero(~np.isnan(stop_months))
    if len(stopping):
        again, _, again_vintages = simulate_segments(
            scenario, book, seed, threads=threads, map_blocks=map_blocks, path_ids=first_path + stopping,
            stop_months=stop_months[stopping].astype(np.int64))
        aggregates[stopping] = again
        vintages[stopping] = again_vintages
    return aggregates, central, vintages, stop_months


def funding_response(funding):
    """What the lender does when its cash runs short (``summary.json``'s ``funding_response``): ``when_short``, the
    buffer's floor (fraction of the opening book) and whether the cash may go negative while lending goes on."""
    return {"when_short": funding.when_short, "minimum_buffer": funding.resolved.minimum_buffer,
            "cash_may_go_negative_while_lending": funding.when_short == "keep_lending"}


DRIFT_MONTHS = 6
"""The opening-drift check (:func:`opening_drift_warnings`) follows the book this many months."""
DRIFT_PATHS = 4
"""Paths of the opening-drift check: with the cycle switched off they differ only by the borrowers' own draws."""
DRIFT_PP = 2.0
"""An overdue bucket's rate may move this many percentage points from month 0 in months 1-6 of a flat economy ..."""
DRIFT_RELATIVE = 0.5
"""... or this share of its month-0 level, whichever is larger, ..."""
DRIFT_SE = 4.0
"""... and this many binomial standard errors of the rate over the check's loans and paths, so that a book of a few
dozen loans does not warn on its own noise."""


BUCKET_WORDS = {"1_30": "1-30 DPD", "31_90": "31-90 DPD", "90p": "90+ DPD"}
"""How the drift messages name the overdue buckets."""


def opening_drift_warnings(scenario, book, threads=None):
    """Warnings for a book whose opening delinquency mix is far from what its behaviour sustains.

    The book runs :data:`DRIFT_MONTHS` months on :data:`DRIFT_PATHS` paths of a flat
    economy: the scenario's macro baseline with no shocks, cycle volatility 0 (so
    ``x_t = 0``), no management actions, no new lending. For each overdue bucket ``b``
    (1-30, 31-90, 90+ DPD) with pooled rate ``r_b(t)`` (:func:`~simulator.accounts.metrics.bucket_rate_paths`)
    the drift is ``max_{t=1..6} |r_b(t) - r_b(0)|``; it warns when a bucket's drift exceeds
    ``max(DRIFT_PP / 100, DRIFT_RELATIVE r_b(0), DRIFT_SE sqrt(r (1 - r) / (n_eff DRIFT_PATHS)))`` with
    ``r = max(r_b(0), r_b(t))``: 2 points, half the opening rate, and 4 binomial standard errors of the pooled rate
    (which only a book of a few hundred loans or fewer reaches). The rates are by balance, so the binomial error
    counts Kish's effective number of loans, ``n_eff = (sum b_i)^2 / sum b_i^2`` over the opening balances
    ``b_i`` (a few large loans move a small book's balance rate more than their count says). Nothing in a flat
    economy should move the mix that fast, so the stress results would mix the
    scenario's effect with the book settling: the fix is ``macro.cycle.start`` (a book
    observed in a downturn starts with ``x_0 > 0``) or parameters fitted to the book's
    history (``simulate calibrate``). The shipped scenarios move at most 1.1 pp (tested).
    The check costs one engine call of 4 paths x 6 months (about 0.2 s for 20,000 loans).

    Returns
    -------
    list of str
        One message naming the drifting buckets, or none.
    """
    macro = scenario.macro.model_copy(update={"shocks": [], "cycle": scenario.macro.cycle.model_copy(
        update={"volatility": 0.0})})
    flat_run = scenario.run.model_copy(update={"paths": DRIFT_PATHS, "horizon_months": DRIFT_MONTHS, "sampling": "mc",
                                               "tail_sampling": "none", "chunk_paths": DRIFT_PATHS})
    flat = scenario.model_copy(update={"macro": macro, "actions": ActionsSpec(), "run": flat_run})
    aggregates, _, _ = simulate_segments(flat, book, scenario.run.seed, threads=threads)
    balances = book.principal + book.arrears
    effective_loans = balances.sum() ** 2 / np.square(balances).sum()
    moved = []
    for bucket, rates in bucket_rate_paths(aggregates).items():
        moves = rates[1:] - rates[0]
        month = int(np.argmax(np.abs(moves))) + 1
        level = max(rates[0], rates[month])
        noise = np.sqrt(level * (1.0 - level) / (effective_loans * DRIFT_PATHS))
        if abs(moves[month - 1]) > max(DRIFT_PP / 100, DRIFT_RELATIVE * rates[0], DRIFT_SE * noise):
            moved.append(f"{BUCKET_WORDS[bucket]} from {rates[0]:.1%} at month 0 to {rates[month]:.1%} "
                         f"by month {month}")
    if not moved:
        return []
    return [f"{scenario.name}: in a flat economy (no shocks, no cycle) the book's overdue rates move "
            f"{'; '.join(moved)}, "
            f"more than {DRIFT_PP:g} percentage points or {DRIFT_RELATIVE:.0%} of the opening rate: the opening "
            "delinquency mix is far from what the behaviour sustains, so the stress results mix the scenario with the "
            "book settling. Set macro.cycle.start to the credit conditions the book was observed in, or fit the "
            "behaviour to the book's history with `simulate calibrate`."]


def check_targets(scenario, target_se, max_paths):
    """Refuse unknown ``target_se`` metrics or targets that are not positive; the path cap (paths granularity kept).

    Returns
    -------
    int
        The most paths the run may reach (``run.paths`` without targets).
    """
    if not target_se:
        return scenario.run.paths
    known = sorted(set(HEADLINE_METRICS) | set(TAIL_METRICS))
    problems = [must_be(scenario.name, f"target_se[{name!r}]", "a metric of summary.json", name,
                        f"Use one of: {', '.join(known)}.") for name in target_se if name not in known]
    problems += [must_be(scenario.name, f"target_se[{name!r}]", "a positive, finite standard error", value,
                         "Give the standard error in the metric's units (0.0005 is 0.05 percentage points).")
                 for name, value in target_se.items()
                 if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf]
    if problems:
        raise InputError(problems)
    cap = max_paths or 16 * scenario.run.paths
    if cap < scenario.run.paths:
        raise InputError(must_be(scenario.name, "max_paths=", f"at least the first batch ({scenario.run.paths})",
                                 cap, "Raise max_paths= or lower paths=."))
    return cap - cap % path_granularity(scenario.run)


def path_granularity(run):
    """Paths come in units of this many: a scramble under ``rqmc`` (``rqmc_points`` resolved), a pair under
    ``antithetic``, else one."""
    return {"rqmc": run.rqmc_points, "antithetic": 2}.get(run.sampling, 1)


TARGET_MARGIN = 1.1
"""Paths added under a standard-error target aim 10% past the estimate of what is needed."""


def paths_for_target(results, max_paths):
    """Paths the run needs for every target: ``N (se / target)^2`` (errors fall as ``1 / sqrt(N)``), times
    :data:`TARGET_MARGIN`, in whole units of :func:`path_granularity`, at most ``max_paths``; the current count if
    every target is met."""
    run = results.scenario.run
    achieved = results.summary["target_se"]["metrics"]
    if all(entry["met"] for entry in achieved.values()):
        return run.paths
    # the ratio is capped before it is squared: a tiny target (1e-200) would overflow a float
    cap = math.sqrt(max_paths / run.paths)
    need = max((run.paths * min(entry["se"] / entry["target"], cap) ** 2 * TARGET_MARGIN
                for entry in achieved.values() if entry["se"] is not None), default=run.paths)
    unit = path_granularity(run)
    return int(min(max_paths, max(run.paths + unit, unit * np.ceil(need / unit))))


def target_report(metrics, target_se, n_replicates):
    """Each target's standard error achieved and whether it is met (``summary.json``'s ``target_se``).

    A target is never met on fewer than :data:`~simulator.accounts.metrics.MIN_REPLICATES`
    independent replicates: a standard error estimated from so few is itself too
    uncertain to say that the error is small (one replicate gives none at all).

    Parameters
    ----------
    metrics : dict
        ``summary.json``'s metrics.
    target_se : dict
        ``{"targets": {metric: target}, "max_paths": cap}``.
    n_replicates : int
        Independent replicates the errors rest on (paths, antithetic pairs or scrambles).
    """
    enough = n_replicates >= MIN_REPLICATES
    achieved = {name: {"target": target, "se": metrics[name]["se"],
                       "met": enough and metrics[name]["se"] is not None and metrics[name]["se"] <= target}
                for name, target in target_se["targets"].items()}
    return {"metrics": achieved, "max_paths": target_se["max_paths"],
            "all_met": all(entry["met"] for entry in achieved.values())}


def has_actions(scenario):
    """True if any management action is switched on."""
    return any(getattr(scenario.actions, name) is not None for name in type(scenario.actions).model_fields)
