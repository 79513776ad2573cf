"""Sensitivities: which assumption moves the results most, on common random numbers.

Each chosen parameter is moved down and up by a relative step (``step = 0.1``:
``x 0.9`` and ``x 1.1``) and the scenario is run again on the same book
(``portfolio.seed``) with the same paths (``run.seed``): every path meets the same
random numbers in the base run and in each moved run, so for each headline metric
``m`` the change is the mean of the per-path differences

    ``diff = mean_p(m_p(moved) - m_p(base))``,  ``se = sd_p(...) / sqrt(n)``

(:func:`simulator.accounts.metrics.paired_difference`), far more precise than the
difference of two independent runs. The elasticity of ``m`` to the parameter is

    ``e = (diff / mean(m(base))) / (dθ / θ)``

with ``dθ / θ`` the parameter's realised relative change (``-step`` or ``+step``
unless a bound clipped it), and its standard error by the delta method for a ratio
of means (:func:`simulator.accounts.metrics.ratio_of_means`).

Moves are relative, never absolute: the parameters mix percent, months, standard
deviations and scale factors, so one absolute step would mean different things;
a relative step is unit-free and gives elasticities directly. The parameters
(:data:`PARAMETERS`; the default set is :data:`DEFAULT_PARAMETERS`) are scenario
keys, or names for a group of keys moved together:

* ``behaviour.structural.willingness`` scales the odds ``w / (1 - w)`` of every
  bucket's willingness to pay by the factor (a shift of ``log factor`` on the logit
  scale, the calibration's ``willingness_shift``), so it stays a probability;
* ``macro.shocks.unemployment`` (and ``.income_growth``) scales every shock of that
  variable: the ``size_pp`` of a step, ramp or hump, and the deviation of a
  ``path`` shock's levels from the baseline level;
* ``funding.liabilities.rollover_pct`` scales every liability's rollover rate, as
  written and under its stress.

A moved value beyond its field's bounds is clipped to the bound, with a note (a
rollover rate of 100% cannot go up); the elasticity then uses the realised change
of a single key, and is not given for a group whose keys moved unequally. A
parameter the scenario does not use (a structural key under the roll-rate model,
no unemployment shock, no liabilities, a value of 0 that a relative step cannot
move) is skipped with a note, and so is one that a step leaves where it is both ways
(a willingness of 100%, whose odds are infinite; a value held at its bound). Every moved scenario is validated like a file
(:func:`simulator.inputs.loader.scenario_from_dict`) before anything runs.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..accounts.metrics import HEADLINE_METRICS, describe, metric_kind, paired_difference, ratio_of_means
from ..accounts.names import metric_name
from ..inputs.errors import InputError
from ..inputs.options import check_movable_key
from ..inputs.loader import load_scenario, scenario_from_dict
from ..inputs.schema import (BehaviourSpec, CycleSpec, FundingSpec, LiabilitySpec, MacroBaselineSpec, PathShock,
                             RecoverySpec, RollRateSpec, Scenario, StressSpec, StructuralSpec, WillingnessSpec,
                             field_bounds)
from ..model.macro import check_macro_paths
from .results import (figure_writer, json_number, load_results, resolve_seed, run, versions, write_atomically,
                      write_json)
from .settings import SENSITIVITY_PARAMETERS, SENSITIVITY_PATHS
from .workbook import write_read_me, write_sheet

MARKER = "sensitivity.json"
"""The file that marks a sensitivity directory."""

STEP = 0.10
"""Default relative step: parameters move to x0.9 and x1.1."""

DEFAULT_PATHS = SENSITIVITY_PATHS
"""Paths per run unless ``paths`` is given (:data:`.settings.SENSITIVITY_PATHS`)."""

TORNADO_METRICS = ("cumulative_loss_rate", "peak_overdue_rate_90p", "peak_provision_requirement",
                   "min_liquidity_buffer")
"""Headline metrics that get a tornado chart and a board-pack page."""


@dataclass(frozen=True)
class Target:
    """One number of a scenario that a parameter moves.

    ``path`` locates it in the scenario's mapping (``model_dump``), ``spec`` and
    ``field`` give its bounds; ``kind`` is how it moves with the factor ``f``:
    ``scale`` (``v f``), ``odds`` (a percent probability whose odds are scaled by
    ``f``) or ``deviation`` (``centre + f (v - centre)``).
    """

    path: tuple
    spec: type
    field: str
    kind: str = "scale"
    centre: float = 0.0

    def moved(self, value, factor):
        if self.kind == "odds":
            w = value / 100.0
            return 100.0 * factor * w / (1.0 - w + factor * w)
        return self.centre + factor * (value - self.centre)


@dataclass(frozen=True)
class Parameter:
    """A parameter the sensitivity can move: its key (``--params``), what it is, the behaviour model that uses it
    (``None``: any) and ``targets(scenario)``, the numbers it moves (empty: not in this scenario, see ``absent``)."""

    key: str
    what: str
    targets: object
    model: str = None
    absent: str = ""


def _field(spec, *path, model=None, what=""):
    return Parameter(".".join(path), what, lambda scenario: [Target(path, spec, path[-1])], model)


def _shock_targets(variable):
    def targets(scenario):
        found = []
        centre = getattr(scenario.macro.baseline, f"{variable}_pct")
        for i, shock in enumerate(scenario.macro.shocks):
            if shock.variable != variable:
                continue
            if shock.shape == "path":
                found.extend(Target(("macro", "shocks", i, "levels_pct", j), PathShock, "levels_pct", "deviation",
                                    centre) for j in range(len(shock.levels_pct)))
            else:
                found.append(Target(("macro", "shocks", i, "size_pp"), type(shock), "size_pp"))
        return found
    return targets


def _rollover_targets(scenario):
    found = []
    for i, liability in enumerate(scenario.funding.liabilities):
        found.append(Target(("funding", "liabilities", i, "rollover_pct"), LiabilitySpec, "rollover_pct"))
        if liability.stress is not None and liability.stress.rollover_pct is not None:
            found.append(Target(("funding", "liabilities", i, "stress", "rollover_pct"), StressSpec, "rollover_pct"))
    return found


WILLINGNESS_BUCKETS = ("dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_plus")

PARAMETERS = {p.key: p for p in (
    _field(StructuralSpec, "behaviour", "structural", "job_finding_pct", model="structural",
           what="monthly job-finding rate at baseline unemployment"),
    _field(StructuralSpec, "behaviour", "structural", "replacement_rate_pct", model="structural",
           what="income while unemployed, share of income"),
    _field(StructuralSpec, "behaviour", "structural", "savings_target_months", model="structural",
           what="savings buffer target, months of spending"),
    Parameter("behaviour.structural.willingness", "odds of a delinquent borrower who can pay paying, every bucket",
              lambda scenario: [Target(("behaviour", "structural", "willingness", bucket), WillingnessSpec, bucket,
                                       "odds") for bucket in WILLINGNESS_BUCKETS], "structural"),
    _field(StructuralSpec, "behaviour", "structural", "payment_friction_pct", model="structural",
           what="monthly chance a current borrower who can pay misses anyway"),
    _field(RecoverySpec, "behaviour", "recovery", "rate_pct", what="recovery rate on charged-off balances"),
    _field(CycleSpec, "macro", "cycle", "volatility", what="stationary sd of the credit-cycle factor"),
    Parameter("macro.shocks.unemployment", "size of every unemployment shock", _shock_targets("unemployment"),
              absent="the scenario has no unemployment shock"),
    Parameter("funding.liabilities.rollover_pct", "rollover rate of every liability, as written and under stress",
              _rollover_targets, absent="the scenario has no liabilities"),
    # beyond the default set
    _field(StructuralSpec, "behaviour", "structural", "transitory_income_sd_pct", model="structural",
           what="monthly sd of log transitory income"),
    _field(StructuralSpec, "behaviour", "structural", "strategic_default_pct", model="structural",
           what="monthly chance a current borrower who can pay defaults on purpose"),
    _field(BehaviourSpec, "behaviour", "prepayment_pct", model="structural",
           what="monthly prepayment rate of current loans"),
    _field(RollRateSpec, "behaviour", "roll_rate", "asset_correlation_pct", model="roll_rate",
           what="asset correlation rho of the one-factor link"),
    _field(RollRateSpec, "behaviour", "roll_rate", "cycle_per_unemployment_pp", model="roll_rate",
           what="cycle shift per pp of unemployment above baseline"),
    _field(CycleSpec, "macro", "cycle", "unemployment_loading_pp", what="unemployment per sd of the cycle factor"),
    Parameter("macro.shocks.income_growth", "size of every income-growth shock", _shock_targets("income_growth"),
              absent="the scenario has no income-growth shock"),
    _field(MacroBaselineSpec, "macro", "baseline", "unemployment_pct", what="baseline unemployment rate"),
    _field(FundingSpec, "funding", "liquidity_buffer_pct", what="opening liquidity buffer"),
    _field(FundingSpec, "funding", "operating_cost_pct", what="annual operating cost"),
)}
"""Every parameter a sensitivity can move, by key."""

DEFAULT_PARAMETERS = SENSITIVITY_PARAMETERS
"""The parameters moved when none are named (:data:`.settings.SENSITIVITY_PARAMETERS`)."""

DIRECTIONS = (("down", -1.0), ("up", 1.0))


def _get(data, path):
    for part in path:
        data = data[part]
    return data


def _set(data, path, value):
    _get(data, path[:-1])[path[-1]] = value


def parse_step(text):
    """The relative step given as text (``"10%"``) as a fraction (0.1).

    Raises
    ------
    InputError
        Unless it is a percentage above 0 and below 100.
    """
    text = str(text).strip()
    if text.lower().endswith("pp"):
        raise InputError(f"step= must be a relative step in percent, e.g. 10%; got {text!r}. Absolute steps are "
                         "not offered: the parameters mix percent, months and standard deviations, so move one key "
                         "by an absolute amount with `simulate compare` on an edited scenario instead.")
    try:
        value = float(text[:-1]) if text.endswith("%") else None
    except ValueError:
        value = None
    if value is None or not 0.0 < value < 100.0:
        raise InputError(f"step= must be a percentage above 0% and below 100%, e.g. 10%; got {text!r}. "
                         "Write the relative step with a percent sign.")
    return value / 100.0


def choose_parameters(keys=None):
    """The :class:`Parameter` objects for ``keys`` (default :data:`DEFAULT_PARAMETERS`), in the order given.

    Raises
    ------
    InputError
        For run controls (:data:`~simulator.inputs.options.RUN_CONTROLS`), unknown or repeated keys, listing the
        valid ones.
    """
    keys = list(DEFAULT_PARAMETERS if keys is None else keys)
    for key in keys:
        check_movable_key(str(key), "--params")
    unknown = [key for key in keys if key not in PARAMETERS]
    if unknown:
        raise InputError(f"params=: unknown parameter(s) {', '.join(map(repr, unknown))}. Valid parameters: "
                         f"{', '.join(PARAMETERS)}.")
    if not keys or len(set(keys)) != len(keys):
        raise InputError(f"params= must name each parameter once; got {keys}. Give a comma-separated list of "
                         f"distinct keys from: {', '.join(PARAMETERS)}.")
    return [PARAMETERS[key] for key in keys]


def why_not(parameter, scenario):
    """Why ``parameter`` cannot be moved in ``scenario`` (``None`` if it can)."""
    if parameter.model is not None and scenario.behaviour.model != parameter.model:
        return f"not used by the {scenario.behaviour.model} model (behaviour.model)"
    data = scenario.model_dump(mode="json")
    targets = parameter.targets(scenario)
    if not targets:
        return parameter.absent
    if all(_get(data, t.path) in (None, 0) or (t.kind == "deviation" and _get(data, t.path) == t.centre)
           for t in targets):
        return "0 in this scenario, so a relative step does not move it"
    return None


def move(scenario, parameter, factor):
    """``scenario`` with ``parameter`` moved by ``factor``, validated.

    Returns
    -------
    moved : Scenario
    change : float
        The realised relative change of the parameter, ``factor - 1`` unless a bound
        clipped it (then the change of a single key, or NaN for a group of keys).
    notes : list of str
        One per clipped value.
    """
    data = scenario.model_dump(mode="json")
    targets = parameter.targets(scenario)
    notes, changes = [], set()
    for target in targets:
        value = _get(data, target.path)
        if value is None:
            continue
        wanted = target.moved(value, factor)
        lower, upper = field_bounds(target.spec, target.field)
        moved = float(min(max(wanted, lower), upper))
        where = ".".join(f"[{part}]" if isinstance(part, int) else part for part in target.path).replace(".[", "[")
        if moved != wanted:
            notes.append(f"{where}: {value:g} x{factor:g} would be {wanted:g}, beyond its bound; clipped to "
                         f"{moved:g}")
            changes.add(moved / value - 1.0 if target.kind == "scale" and value != 0 else np.nan)
        else:
            changes.add(factor - 1.0)
        _set(data, target.path, moved)
    change = changes.pop() if len(changes) == 1 else np.nan
    source = f"{scenario.name} with {parameter.key} x{factor:g}"
    moved = scenario_from_dict(data, source=source)
    check_macro_paths(moved, source)
    return moved, change, notes


@dataclass
class Move:
    """One moved run: the parameter, the direction, the factor, the realised change, clipping notes and the per-path
    headline values (``{metric: array (n_paths,)}``)."""

    parameter: str
    direction: str
    factor: float
    change: float
    notes: list
    headline: dict = None


class Sensitivity:
    """The outcome of :func:`sensitivity`: the base run, the table of effects and the settings.

    Attributes
    ----------
    base : Results
        The base run (the scenario as written, at the sensitivity's paths and seed).
    table : pandas.DataFrame
        One row per (parameter, direction, metric): ``parameter``, ``direction``,
        ``factor``, ``parameter_change`` (realised relative change), ``metric``,
        ``base_mean``, ``moved_mean``, ``difference`` (mean paired difference),
        ``se_difference``, ``se_independent``, ``elasticity``, ``se_elasticity``, ``note``.
    settings : dict
        Step, paths, seed, the parameters moved (with their base values and notes) and those skipped.
    """

    write_figures = None
    """Writes the tornado charts into a directory, ``write_figures(directory, lang)``; :meth:`save` calls it. The
    package root (:mod:`simulator`) sets it to :func:`simulator.presentation.plots.write_sensitivity_figures`:
    figures belong to the presentation layer, which the workflows may not import."""

    def __init__(self, base, table, settings):
        self.base = base
        self.table = table
        self.settings = settings

    def ranked(self, metric):
        """One row per parameter for ``metric``, largest effect first: the difference, se and elasticity down and
        up, and ``effect`` = the larger absolute difference (the tornado's order)."""
        rows = self.table[self.table.metric == metric]
        wide = rows.pivot(index="parameter", columns="direction",
                          values=["difference", "se_difference", "elasticity", "se_elasticity", "moved_mean"])
        wide.columns = [f"{value}_{direction}" for value, direction in wide.columns]
        wide["effect"] = wide[["difference_down", "difference_up"]].abs().max(axis=1)
        return wide.sort_values("effect", ascending=False).reset_index()

    def summary(self):
        """The content of ``sensitivity.json``: settings, the base run's headline means and se, and the table."""
        base = self.base.summary
        metrics = {name: {"mean": stats["mean"], "se": stats["se"]} for name, stats in base["metrics"].items()
                   if name in HEADLINE_METRICS}
        records = [{key: (json_number(value) if isinstance(value, float) else value) for key, value in row.items()}
                   for row in self.table.to_dict(orient="records")]
        return {"scenario": base["scenario"], "seed": base["seed"], "paths": base["paths"], "loans": base["loans"],
                "horizon_months": base["horizon_months"], "versions": versions(), **self.settings,
                "base": metrics, "table": records}

    def write_workbook(self, path):
        """An Excel workbook: a ``read me`` sheet (settings, parameters, skipped ones), one sheet per tornado metric
        (parameters ranked by effect, changes and elasticities down and up) and the full ``table``."""
        settings = self.settings
        readme = [("scenario", self.base.scenario.name), ("seed", self.base.seed),
                  ("paths per run", self.base.scenario.run.paths), ("step", f"{settings['step']:.0%}"),
                  ("what", "change of each headline metric when a parameter moves down and up by the step, on common "
                           "random numbers (mean of per-path differences, with its standard error)"), ("", "")]
        readme += [(p["parameter"], f"{p['what']}; base {p['base_value']}" + "".join(
            f"; {note}" for note in p["notes"])) for p in settings["parameters"]]
        readme += [(s["parameter"], f"skipped: {s['reason']}") for s in settings["skipped"]]
        with pd.ExcelWriter(path, engine="openpyxl") as workbook:
            write_read_me(workbook, readme)
            for metric in TORNADO_METRICS:
                ranked = self.ranked(metric)
                if ranked.empty:
                    continue
                sheet = ranked[["parameter", "difference_down", "se_difference_down", "difference_up",
                                "se_difference_up", "elasticity_down", "se_elasticity_down", "elasticity_up",
                                "se_elasticity_up"]]
                sheet.insert(1, "base_mean", float(describe(self.base.headline[metric], self.base.design)["mean"]))
                kind = metric_kind(metric)
                write_sheet(workbook, metric_name(metric), sheet, column_kinds={
                    column: "ratio" if "elasticity" in column else kind for column in sheet.columns[1:]})
            write_sheet(workbook, "table", self.table, column_kinds={
                "factor": "ratio", "parameter_change": "ratio", "elasticity": "ratio", "se_elasticity": "ratio"},
                row_kinds=[metric_kind(metric) for metric in self.table.metric])

    def save(self, out_dir, plots=True, lang="en"):
        """Write the sensitivity directory atomically: ``sensitivity.json``, ``.csv``, ``.parquet``, ``.xlsx``, the
        base run under ``runs/base`` and the tornado charts under ``plots/`` (labels in ``lang``)."""
        def write(directory):
            write_json(directory / MARKER, self.summary())
            self.table.to_csv(directory / "sensitivity.csv", index=False)
            self.table.to_parquet(directory / "sensitivity.parquet", index=False)
            self.write_workbook(directory / "sensitivity.xlsx")
            base = directory / "runs" / "base"
            base.mkdir(parents=True)
            self.base.write_files(base, plots=False)
            if plots:
                figure_writer(self.write_figures, "Sensitivity")(directory / "plots", lang)

        return write_atomically(out_dir, write, marker=MARKER)


def sensitivity(scenario, params=None, step=STEP, paths=None, seed=None, say=None, **run_options):
    """Move each parameter down and up by ``step`` and measure every headline metric's change on common random
    numbers.

    Parameters
    ----------
    scenario : Scenario, str or Path
    params : list of str, optional
        Keys of :data:`PARAMETERS`; default :data:`DEFAULT_PARAMETERS`.
    step : float
        Relative step, a fraction in (0, 1): parameters move to ``x (1 - step)`` and ``x (1 + step)``.
    paths : int, optional
        Paths per run; default :data:`DEFAULT_PATHS` (or the scenario's, if fewer).
    seed : int, optional
        Overrides ``run.seed`` (drawn once if the scenario has none); every run uses it.
    say : callable, optional
        Called with a line of text before each run (progress on the command line).
    **run_options
        Passed to every :func:`simulator.workflows.results.run` call (``loans``, ``threads``, ...).

    Returns
    -------
    Sensitivity

    Raises
    ------
    InputError
        Unknown parameters, a step outside (0, 1), a moved scenario that is not valid, or no
        parameter that applies to the scenario.

    Examples
    --------
    >>> import simulator.workflows.sensitivity as sens
    >>> result = sens.sensitivity("scenarios/severe.yaml", params=["behaviour.recovery.rate_pct"])  # doctest: +SKIP
    >>> result.ranked("cumulative_loss_rate")                                                        # doctest: +SKIP
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not 0.0 < step < 1.0:
        raise InputError(f"step must be above 0 and below 1 (a fraction: 0.1 for 10%); got {step!r}. "
                         "Give a relative step such as 0.1.")
    say = say or (lambda line: None)
    parameters = choose_parameters(params)
    paths = paths or min(DEFAULT_PATHS, scenario.run.paths)
    base_scenario = resolve_seed(scenario.with_run(paths=paths, seed=seed))
    skipped, moves, used = [], [], []
    data = base_scenario.model_dump(mode="json")
    for parameter in parameters:
        reason = why_not(parameter, base_scenario)
        if reason is not None:
            skipped.append({"parameter": parameter.key, "reason": reason})
            continue
        targets = parameter.targets(base_scenario)
        base_value = _get(data, targets[0].path) if len(targets) == 1 else "x1 (as written)"
        info = {"parameter": parameter.key, "what": parameter.what, "base_value": base_value, "notes": []}
        pair = []
        for direction, sign in DIRECTIONS:
            factor = 1.0 + sign * step
            moved, change, notes = move(base_scenario, parameter, factor)
            info["notes"].extend(f"{direction}: {note}" for note in notes)
            pair.append((Move(parameter.key, direction, factor, change, notes), moved))
        if all(moved == base_scenario for _, moved in pair):
            skipped.append({"parameter": parameter.key, "reason": "at a value a relative step cannot move (a bound, "
                                                                  "or a probability of 0% or 100%): moved down and up "
                                                                  "it stays where it is"})
            continue
        moves.extend(pair)
        used.append(info)
    if not moves:
        raise InputError(f"{base_scenario.name}: none of the parameters applies to this scenario ("
                         + "; ".join(f"{s['parameter']}: {s['reason']}" for s in skipped)
                         + "). Choose others with params=.")
    say(f"base run ({len(moves) + 1} runs in all)")
    base = run(base_scenario, **run_options)
    for record, moved in moves:
        say(f"{record.parameter} x{record.factor:g}")
        record.headline = dict(run(moved, **run_options).headline)
    settings = {"step": step, "parameters": used, "skipped": skipped,
                "scenario_paths": scenario.run.paths, "tornado_metrics": list(TORNADO_METRICS)}
    return Sensitivity(base, effects_table(base.headline, [record for record, _ in moves], base.design), settings)


def effects_table(base, moves, design=None):
    """The table of :class:`Sensitivity` from the base run's per-path headline values and the moved runs' (paths
    combined as the runs' common ``design`` says)."""
    rows = []
    for record in moves:
        for metric in HEADLINE_METRICS:
            if metric not in base:
                continue
            paired = paired_difference(record.headline[metric], base[metric], design)
            if np.isnan(paired["difference"]):
                continue
            elasticity, se_elasticity = np.nan, np.nan
            if np.isfinite(record.change) and record.change != 0.0:
                ratio, se_ratio = ratio_of_means(record.headline[metric] - base[metric], base[metric], design)
                elasticity, se_elasticity = ratio / record.change, se_ratio / abs(record.change)
            rows.append({"parameter": record.parameter, "direction": record.direction, "factor": record.factor,
                         "parameter_change": float(record.change), "metric": metric,
                         "base_mean": float(describe(base[metric], design)["mean"]),
                         "moved_mean": float(describe(record.headline[metric], design)["mean"]),
                         "difference": float(paired["difference"]), "se_difference": float(paired["se_difference"]),
                         "se_independent": float(paired["se_independent"]), "elasticity": float(elasticity),
                         "se_elasticity": float(se_elasticity), "note": "; ".join(record.notes)})
    return pd.DataFrame(rows)


def load_sensitivity(directory):
    """Read a sensitivity directory written by :meth:`Sensitivity.save`.

    Raises
    ------
    InputError
        If ``directory`` is not a complete sensitivity directory.
    """
    directory = Path(directory)
    missing = [name for name in (MARKER, "sensitivity.parquet", "runs/base") if not (directory / name).exists()]
    if missing:
        raise InputError(f"{directory}: not a sensitivity directory (missing {', '.join(missing)}). Give the "
                         "directory that Sensitivity.save (`simulate sensitivity --out`) wrote.")
    summary = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    settings = {key: summary[key] for key in ("step", "parameters", "skipped", "scenario_paths", "tornado_metrics")}
    return Sensitivity(load_results(directory / "runs" / "base"), pd.read_parquet(directory / "sensitivity.parquet"),
                       settings)
