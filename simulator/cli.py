"""The ``simulate`` command line (the only module that imports click).

Each command is a thin wrapper over the library. Input problems
(:class:`~simulator.inputs.errors.InputError`) are printed without a traceback and
exit with code 2; anything else is a bug and keeps its traceback.
"""
import contextlib
import math
import re
import signal
import sys
import time
import warnings
from pathlib import Path

import click

from .inputs.errors import InputError, Interrupted, OutputError, ScenarioWarning
from .presentation.labels import LANGUAGES
from .workflows.settings import (BACKTEST_PATHS, BACKTEST_RATES, SENSITIVITY_PARAMETERS, SENSITIVITY_PATHS,
                                 VALIDATION_BASELINE, VALIDATION_SEED, VALIDATION_STRESS)
from .inputs.options import MAX_LOANS, MAX_PATHS, MAX_THREADS, check_integer, parse_real

PROGRESS_MIN_LOAN_MONTHS = 50_000_000
"""Runs at least this large (paths x loans x months) show a progress bar."""


class Number(click.ParamType):
    """A numeric option checked by :mod:`simulator.inputs.options` as it is read, before any work: a bad value
    (not a number, NaN, infinite, out of range) is one ``error:`` line and exit code 2, like every input error.

    Parameters
    ----------
    integer : bool
        A count (an integer) rather than a real number.
    low, high : float, optional
        Bounds; ``low_open``/``high_open`` make them strict.
    fix : str
        How to fix a bad value.
    check : callable, optional
        A further check of the number, ``check(option, number)`` (e.g. what the machine can hold).
    """

    def __init__(self, integer=False, low=None, high=None, low_open=False, high_open=False, fix="", check=None):
        self.name = "integer" if integer else "number"
        self.integer, self.fix, self.check = integer, fix, check
        self.bounds = dict(low=low, high=high, low_open=low_open, high_open=high_open)

    def convert(self, value, param, ctx):
        option = param.opts[0] if param is not None else self.name
        if self.integer:
            text = str(value).strip()
            number = int(text) if text.lstrip("+-").isdigit() else text
            number = check_integer(option, number, self.bounds["low"], self.bounds["high"], self.fix)
        else:
            number = parse_real(value, option, fix=self.fix, **self.bounds)
        if self.check is not None:
            self.check(option, number)
        return number


def count_option(*names, low=1, high=None, fix="", **kwargs):
    """An integer option in ``[low, high]`` checked as it is read (see :class:`Number`)."""
    return click.option(*names, type=Number(integer=True, low=low, high=high, fix=fix), **kwargs)


PATHS_FIX = f"Give from 1 to {MAX_PATHS} paths."
THREADS_FIX = f"Give from 1 to {MAX_THREADS} threads (at most the machine's cores is useful)."
SEED_FIX = "Give a whole number from 0 to 2^63 - 1."
MAX_SEED = 2 ** 63 - 1


strict_option = click.option("--strict", is_flag=True,
                             help="Refuse a scenario with warnings (plausible mistakes) instead of running it.")


@contextlib.contextmanager
def warnings_policy(strict):
    """Scenario warnings raised inside print as ``warning:`` lines; under ``--strict`` they become one input error
    listing them all (exit 2)."""
    if not strict:
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        yield
    found = [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]
    for other in caught:
        if not issubclass(other.category, ScenarioWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if found:
        raise InputError([f"{message} (refused under --strict)" for message in found])


@contextlib.contextmanager
def refusing_warnings(strict):
    """Under ``--strict``, a scenario warning raised while the engine runs (a book whose opening delinquency drifts,
    :func:`simulator.workflows.results.opening_drift_warnings`, warned before its paths are simulated) stops the
    command at once as an input error (exit 2); otherwise it prints as a ``warning:`` line."""
    if not strict:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        try:
            yield
        except ScenarioWarning as warning:
            raise InputError(f"{warning} (refused under --strict)") from None


def say_if_compiling(scenarios, quiet):
    """Say once, on stderr, that the engine is being compiled when its kernel is not cached yet."""
    from .model.engine.simulate import engine_compiled
    models = {scenario.behaviour.model for scenario in scenarios}
    if not quiet and not all(engine_compiled(model) for model in models):
        click.echo("compiling the simulation engine (first run after installing, about 20 s; it is cached for "
                   "later runs) ...", err=True)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line on stderr (``warning: ...``), without the source location."""
    click.echo(f"warning: {message}", err=True)


INTERRUPTED_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
"""Exit codes after a signal: 128 + its number, the shell's convention."""


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


PARAMETER_FLAGS = {
    "allow_different": "--allow-different", "baseline": "--baseline", "breach": "--breach", "fixed": "--fix",
    "holdout_months": "--holdout-months", "loans": "--loans", "max_paths": "--max-paths", "out_dir": "--out",
    "params": "--params", "paths": "--paths", "probability": "--probability", "scheduler": "--scheduler",
    "severity_range": "--range", "shock": "--shock", "shocks_from": "--shocks-from", "step": "--step",
    "stress": "--stress", "target_se": "--target-se", "within": "--within", "workers": "--workers"}
"""The library's parameters that the commands' options set, and those options: a library message names the
parameter (``loans=``), :func:`as_options` turns it into the option (``--loans``)."""

_PARAMETER = re.compile(
    r"(?<![\w.])(?P<name>" + "|".join(sorted(PARAMETER_FLAGS, key=len, reverse=True)) + r")"
    r"(?:\[(?P<quote>['\"]?)(?P<key>[^\]'\"]*)(?P=quote)\]"                 # target_se['metric']
    r"|=(?:(?P<q>['\"])(?P<quoted>[^'\"]*)(?P=q)"                           # breach='liquidity'
    r"|(?P<value>[^\s'\",;)]*[^\s'\",;).:])?))")                            # loans=, workers=N


def as_options(message):
    """A library message with its parameters written as this command line's options.

    ``name=`` becomes the option, ``name=VALUE`` and ``name='VALUE'`` the option and
    its value, ``name=True`` the flag alone and ``name['key']`` the option and the key
    (see :data:`PARAMETER_FLAGS`); everything else is left as it is.

    >>> as_options("loans= resizes a synthetic book. Drop loans= or use workers=N, breach='liquidity'.")
    '--loans resizes a synthetic book. Drop --loans or use --workers N, --breach liquidity.'
    >>> as_options("severe: target_se['loss_var_999'] must be positive; pass allow_different=True.")
    'severe: --target-se loss_var_999 must be positive; pass --allow-different.'
    """
    def option(match):
        flag = PARAMETER_FLAGS[match["name"]]
        value = next((match[group] for group in ("key", "quoted", "value") if match[group] is not None), None)
        return flag if value in (None, "True") else f"{flag} {value}"

    return _PARAMETER.sub(option, message)


class InputErrorHandlingGroup(click.Group):
    """Clean endings: :class:`InputError` -> ``error:`` lines and exit 2; :class:`OutputError` -> one ``error:`` line
    and exit 1; SIGINT, SIGTERM, SIGHUP -> ``interrupted`` and exit 130, 143, 129 (every temporary cleaned up by
    the ``finally`` blocks the signal unwinds through). Warnings print as one line. The library's messages name its
    parameters; they are shown with the options that set them (:func:`as_options`)."""

    def invoke(self, ctx):
        warnings.showwarning = _show_warning
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _raise_interrupted)
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(f"error: {as_options(problem)}", err=True)
            ctx.exit(2)
        except OutputError as exc:
            click.echo(f"error: {as_options(str(exc))}", err=True)
            ctx.exit(1)
        except (KeyboardInterrupt, Interrupted) as exc:
            click.echo("interrupted", err=True)
            ctx.exit(INTERRUPTED_EXIT[getattr(exc, "signum", signal.SIGINT)])


@click.group(cls=InputErrorHandlingGroup)
@click.version_option(package_name="consumer-credit-stress")
def main():
    """Consumer-credit stress simulator: scenario files in, overdue rates, losses and cash out.

    \b
    Examples:
      simulate validate scenarios/severe.yaml
      simulate run scenarios/severe.yaml --paths 200 --out runs/severe
    """


@main.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@strict_option
def validate(scenario_file, strict):
    """Check SCENARIO_FILE (and everything it extends, or every scenario of a set) without running it.

    \b
    Example:
      simulate validate scenarios/adverse.yaml
    """
    from .inputs.loader import is_scenario_set, load_scenario, load_scenario_set
    from .model.macro import check_macro_paths
    if is_scenario_set(scenario_file):
        with warnings_policy(strict):
            spec, scenarios = load_scenario_set(scenario_file)
        weights = ", ".join(f"{s.name} {w.weight_pct:g}%" for s, w in zip(scenarios, spec.weighted_scenarios))
        click.echo(f"{scenario_file}: ok (scenario set: {weights})")
        return
    with warnings_policy(strict):
        scenario = load_scenario(scenario_file)
    check_macro_paths(scenario, scenario_file)
    run = scenario.run
    size = (f"{scenario.portfolio.n_loans} synthetic loans" if scenario.portfolio.source == "synthetic"
            else f"loan tape {scenario.portfolio.tape}")
    click.echo(f"{scenario_file}: ok ({scenario.behaviour.model} model, {size}, {run.paths} paths, "
               f"{run.horizon_months} months, {len(scenario.macro.shocks)} shocks)")


lang_option = click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
                           help="Language of the figures' labels (zh: Chinese, drawn with a CJK font).")


def parse_targets(context, parameter, values):
    """``--target-se METRIC=SE`` options as ``{metric: se}`` (``None`` without any)."""
    targets = {}
    for value in values:
        name, _, number = value.partition("=")
        targets[name.strip()] = parse_real(number, f"--target-se {name.strip()}", low=0, low_open=True,
                                           fix="Write METRIC=SE with a positive standard error in the metric's "
                                               "units, e.g. cumulative_loss_rate=0.0005.")
    return targets or None


@contextlib.contextmanager
def path_progress(n_paths):
    """A progress bar on stderr of paths done, their rate and the time left; yields its callback
    (``progress(n)`` after ``n`` more paths). Paths added under ``--target-se`` lengthen the bar."""
    started = time.perf_counter()
    with click.progressbar(length=n_paths, label="simulating paths", file=sys.stderr, show_pos=True,
                           item_show_func=lambda rate: rate) as bar:
        def progress(n):
            if bar.pos + n > bar.length:
                bar.length = bar.pos + n
            done = bar.pos + n
            bar.update(n, f"{done / max(time.perf_counter() - started, 1e-9):.1f} paths/s")
        yield progress


def format_targets(summary):
    """Lines saying whether each ``--target-se`` was met, with the paths it took."""
    report = summary["target_se"]
    lines = [f"\nstandard-error targets ({summary['paths']} paths):"]
    for name, entry in report["metrics"].items():
        verdict = "met" if entry["met"] else f"NOT met: the cap of {report['max_paths']} paths was reached"
        achieved = "n/a" if entry["se"] is None else f"{entry['se']:.6g}"
        lines.append(f"  {name}: se {achieved} against a target of {entry['target']:.6g} ({verdict})")
    return "\n".join(lines)


def run_options(function):
    """The options every simulating command takes: --out, --paths, --seed, --threads, --no-plots, --lang, --quiet,
    --strict."""
    options = [
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Directory to write (default: runs/<name>)."),
        count_option("--paths", high=MAX_PATHS, fix=PATHS_FIX, help="Monte Carlo paths (overrides run.paths)."),
        count_option("--seed", low=0, high=MAX_SEED, fix=SEED_FIX,
                     help="Random seed (overrides run.seed; shared by every scenario of a set)."),
        count_option("--threads", high=MAX_THREADS, fix=THREADS_FIX,
                     help="Engine threads (default: all cores; with --workers or --scheduler: per worker, default 1)."),
        click.option("--no-plots", is_flag=True, help="Skip the figures (PNG and SVG)."),
        lang_option,
        click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors."),
        strict_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def check_workers_lazily(option, workers):
    """:func:`simulator.workflows.cluster.check_workers`, imported when a ``--workers`` value is read (not at start-up)."""
    from .workflows.cluster import check_workers
    check_workers(option, workers)


def cluster_options(function):
    """--scheduler and --workers: where the engine's blocks of paths run (see :func:`engine_cluster`)."""
    options = [
        click.option("--scheduler", metavar="ADDRESS",
                     help="Run the paths on a running Dask cluster (tcp://HOST:8786). Needs the distributed extra."),
        click.option("--workers", type=Number(integer=True, low=1, check=check_workers_lazily,
                                              fix="Give at least 1 worker process."),
                     help="Run the paths on a local Dask cluster of this many processes. Needs the distributed "
                          "extra."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command("run")
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@run_options
@cluster_options
@count_option("--loans", high=MAX_LOANS, fix=f"Give from 1 to {MAX_LOANS} loans.",
              help="Resize the synthetic book to this many loans.")
@click.option("--target-se", "target_se", multiple=True, metavar="METRIC=SE", callback=parse_targets,
              help="Add paths until METRIC's standard error is at most SE (e.g. cumulative_loss_rate=0.0005 or "
                   "loss_var_999=0.002; repeat for several).")
@count_option("--max-paths", high=MAX_PATHS, fix=PATHS_FIX,
              help="The most paths --target-se may reach (default: 16 x --paths).")
def run_command(scenario_file, out_dir, paths, seed, scheduler, workers, loans, threads, no_plots, lang, quiet, strict,
                target_se, max_paths):
    """Simulate SCENARIO_FILE, write a run directory and print the headline table.

    \b
    Examples:
      simulate run scenarios/baseline.yaml
      simulate run scenarios/severe.yaml --paths 1000 --seed 7 --out runs/severe
      simulate run scenarios/severe.yaml --paths 256 --target-se cumulative_loss_rate=0.0005
      simulate run scenarios/severe.yaml --workers 2
      simulate run scenarios/severe.yaml --scheduler tcp://scheduler-host:8786
    """
    from . import api  # noqa: F401  (the figures' wiring: simulator.api hands the workflows their figures)
    from .inputs.loader import load_scenario
    from .workflows.cluster import engine_cluster
    from .workflows.results import check_out_dir, run
    with warnings_policy(strict):
        scenario = load_scenario(scenario_file)
    out_dir = check_out_dir(out_dir or Path("runs") / scenario.name)
    effective_paths = paths or scenario.run.paths
    n_loans = loans or scenario.portfolio.n_loans
    work = effective_paths * n_loans * scenario.run.horizon_months
    show_progress = not quiet and work >= PROGRESS_MIN_LOAN_MONTHS and sys.stderr.isatty()
    options = dict(paths=paths, seed=seed, loans=loans, threads=threads, target_se=target_se, max_paths=max_paths)
    with engine_cluster(scheduler, workers, threads) as map_blocks, refusing_warnings(strict):
        say_if_compiling([scenario], quiet)
        if show_progress:
            with path_progress(effective_paths) as progress:
                results = run(scenario, progress=progress, map_blocks=map_blocks, **options)
        else:
            results = run(scenario, map_blocks=map_blocks, **options)
    results.save(out_dir, plots=not no_plots, lang=lang)
    if not quiet:
        click.echo(format_headline(results))
        if results.target_se is not None:
            click.echo(format_targets(results.summary))
        click.echo(f"\nrun directory: {out_dir}")


@main.command()
@click.argument("set_file", type=click.Path(dir_okay=False, path_type=Path))
@run_options
@cluster_options
@click.option("--loans", type=click.IntRange(min=1), help="Resize the synthetic book to this many loans.")
def ecl(set_file, out_dir, paths, seed, scheduler, workers, threads, no_plots, lang, quiet, strict, loans):
    """IFRS 9 probability-weighted ECL over the scenario set in SET_FILE.

    Every scenario runs on the same book with the same seed (common random
    numbers); the output gives the weighted ECL at the reporting date and over
    the horizon, with each scenario's contribution.

    \b
    Example:
      simulate ecl scenarios/ifrs9_weighted.yaml --paths 300
    """
    from . import api  # noqa: F401  (the figures' wiring: simulator.api hands the workflows their figures)
    from .inputs.loader import load_scenario_set
    from .workflows.cluster import engine_cluster
    from .workflows.results import check_out_dir
    from .workflows.weighted import MARKER as WEIGHTED_MARKER
    from .workflows.weighted import run_weighted
    with warnings_policy(strict):
        spec, scenarios = load_scenario_set(set_file)
    out_dir = check_out_dir(out_dir or Path("runs") / spec.name, WEIGHTED_MARKER)
    scenarios = [s.with_run(paths=paths, seed=seed) for s in scenarios]
    with engine_cluster(scheduler, workers, threads) as map_blocks, refusing_warnings(strict):
        say_if_compiling(scenarios, quiet)
        weighted = run_weighted(spec, scenarios, threads=threads, map_blocks=map_blocks, loans=loans)
    weighted.save(out_dir, plots=not no_plots, lang=lang)
    if not quiet:
        report = weighted.reporting_date
        currency = scenarios[0].portfolio.currency
        click.echo(f"scenario set {spec.name}: probability-weighted ECL at the reporting date "
                   f"{report['weighted_ecl']['total']:,.0f} {currency}")
        for row in report["scenarios"]:
            click.echo(f"  {row['scenario']:20s} weight {row['weight']:6.1%}  ECL {row['ecl']['total']:>14,.0f}  "
                       f"contribution {row['contribution']:>14,.0f} ({row['share_of_weighted_ecl']:.1%})")
        click.echo(f"\noutput directory: {out_dir}")


@main.command("compare")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@run_options
@cluster_options
@click.option("--loans", type=click.IntRange(min=1), help="Resize the synthetic book to this many loans (scenario "
                                                             "files only).")
@click.option("--allow-different", is_flag=True,
              help="Compare run directories even if their book, seed or paths differ (no common random numbers).")
def compare_command(inputs, out_dir, paths, seed, scheduler, workers, threads, no_plots, lang, quiet, strict,
                    loans, allow_different):
    """Compare scenarios to the first one on common random numbers.

    INPUTS are scenario files (run now on one book with one seed) or run
    directories written by `simulate run` (checked to share book, seed and paths).

    \b
    Examples:
      simulate compare scenarios/baseline.yaml scenarios/adverse.yaml scenarios/severe.yaml --paths 200
      simulate compare runs/baseline runs/severe
    """
    from . import api  # noqa: F401  (the figures' wiring: simulator.api hands the workflows their figures)
    from .accounts.metrics import metric_kind
    from .inputs.loader import load_scenario
    from .workflows.cluster import engine_cluster
    from .workflows.comparison import MARKER as COMPARISON_MARKER
    from .workflows.comparison import compare, compare_runs
    from .workflows.results import check_out_dir, load_results
    if len(inputs) < 2:
        raise InputError(f"compare: needs at least two scenario files or run directories; got {len(inputs)}. "
                         "Name the reference first, then the others.")
    missing = [str(path) for path in inputs if not path.exists()]
    if missing:
        raise InputError(f"compare: {', '.join(missing)} not found. Give existing scenario files or run directories.")
    kinds = {path.is_dir() for path in inputs}
    if len(kinds) > 1:
        raise InputError("compare: give either scenario files or run directories, not both. Run the scenario files "
                         "first with `simulate run`, or compare the files directly.")
    if kinds == {True}:
        if scheduler is not None or workers is not None or loans is not None:
            raise InputError("compare: --scheduler, --workers and --loans run scenario files; run directories are "
                             "already simulated. Drop the option, or give the scenario files.")
        members = [load_results(path) for path in inputs]
        comparison = compare_runs(members, allow_different=allow_different)
        names = [m.scenario.name for m in members]
    else:
        with warnings_policy(strict):
            scenarios = [load_scenario(path).with_run(paths=paths, seed=seed) for path in inputs]
        names = [s.name for s in scenarios]
        comparison = None
    out_dir = check_out_dir(out_dir or Path("runs") / ("compare-" + "-".join(names)), COMPARISON_MARKER)
    if comparison is None:
        with engine_cluster(scheduler, workers, threads) as map_blocks, refusing_warnings(strict):
            say_if_compiling(scenarios, quiet)
            comparison = compare(scenarios, threads=threads, map_blocks=map_blocks, loans=loans)
    comparison.save(out_dir, plots=not no_plots, lang=lang)
    if not quiet:
        table = comparison.table
        reference = comparison.members[0].scenario.name
        currency = comparison.members[0].scenario.portfolio.currency
        click.echo(f"difference to {reference} (common random numbers, seed {comparison.members[0].seed}; rates in "
                   f"percentage points, money in {currency}):")
        for name in ("peak_overdue_rate_90p", "cumulative_loss_rate", "peak_provision_requirement",
                     "min_liquidity_buffer"):
            rows = table[(table.metric == name) & (table.scenario != reference)]
            kind = metric_kind(name)
            for row in rows.itertuples():
                if math.isfinite(row.variance_reduction):
                    reduction = f"variance reduction x{row.variance_reduction:.0f}"
                else:  # 0/0: both scenarios the same on every path; x/0: the paired difference is
                    reduction = ("the same on every path" if math.isnan(row.variance_reduction)
                                 else "the difference is the same on every path")
                click.echo(f"  {row.scenario:20s} {name:28s} {_diff3(row.difference, kind):>14s} "
                           f"(se {_diff3(row.se_difference, kind).lstrip('+')}; {reduction})")
        segments = comparison.segment_table
        click.echo("cumulative loss rate by segment, difference (se):")
        for row in segments[(segments.metric == "cumulative_loss_rate") & (segments.scenario != reference)
                            & (segments.segment != "all")].itertuples():
            click.echo(f"  {row.scenario:20s} {row.segment:28s} {_diff3(row.difference, 'rate'):>14s} "
                       f"(se {_diff3(row.se_difference, 'rate').lstrip('+')})")
        click.echo(f"\ncomparison directory: {out_dir}")


SENSITIVITY_SHOWN = ("cumulative_loss_rate", "peak_overdue_rate_90p")
"""Metrics whose ranked sensitivities `simulate sensitivity` prints."""


@main.command("sensitivity")
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--params", help="Comma-separated parameters to move (default: the documented set, see above).")
@click.option("--step", default="10%", show_default=True, help="Relative step: each parameter moves to x(1 - step) "
                                                               "and x(1 + step).")
@run_options
@cluster_options
@count_option("--loans", high=MAX_LOANS, fix=f"Give from 1 to {MAX_LOANS} loans.",
              help="Resize the synthetic book to this many loans.")
def sensitivity_command(scenario_file, params, step, out_dir, paths, seed, scheduler, workers, threads, no_plots, lang,
                        quiet, strict, loans):
    """Move each parameter of SCENARIO_FILE down and up by --step on common random numbers and report the change
    of every headline metric with its standard error, and elasticities.

    Every run uses the same book and seed, so the changes are paired per path.
    Runs use %(paths)d paths unless --paths is given (fewer if the scenario asks
    fewer). Writes sensitivity.csv, .parquet, .xlsx and .json, the base run under
    runs/base and a tornado chart per key metric; `simulate report DIR` makes its
    board-pack pages.

    \b
    Default parameters:
      %(defaults)s

    \b
    Examples:
      simulate sensitivity scenarios/severe.yaml
      simulate sensitivity scenarios/baseline.yaml --params behaviour.recovery.rate_pct,macro.cycle.volatility \\
          --step 20%% --paths 100
    """
    from . import api  # noqa: F401  (the figures' wiring: simulator.api hands the workflows their figures)
    from .accounts.metrics import metric_kind
    from .inputs.loader import load_scenario
    from .workflows.cluster import engine_cluster
    from .workflows.results import check_out_dir
    from .workflows.sensitivity import MARKER as SENSITIVITY_MARKER
    from .workflows.sensitivity import choose_parameters, parse_step, sensitivity
    step = parse_step(step)
    keys = None if params is None else [key.strip() for key in params.split(",") if key.strip()]
    choose_parameters(keys)  # refuse unknown keys before anything runs
    with warnings_policy(strict):
        scenario = load_scenario(scenario_file)
    out_dir = check_out_dir(out_dir or Path("runs") / f"sensitivity-{scenario.name}", SENSITIVITY_MARKER)
    say = (lambda line: None) if quiet else (lambda line: click.echo(f"  {line} ...", err=True))
    effective = paths or min(SENSITIVITY_PATHS, scenario.run.paths)
    if not quiet:
        reduced = f" (the scenario asks {scenario.run.paths}; --paths to change)" if paths is None and \
            effective < scenario.run.paths else ""
        click.echo(f"sensitivity of {scenario.name}: {effective} paths per run{reduced}, step {step:.0%}", err=True)
    with engine_cluster(scheduler, workers, threads) as map_blocks, refusing_warnings(strict):
        say_if_compiling([scenario], quiet)
        result = sensitivity(scenario, params=keys, step=step, paths=paths, seed=seed, say=say, loans=loans,
                             threads=threads, map_blocks=map_blocks)
    result.save(out_dir, plots=not no_plots, lang=lang)
    if quiet:
        return
    for skipped in result.settings["skipped"]:
        click.echo(f"note: {skipped['parameter']} not moved: {skipped['reason']}", err=True)
    for parameter in result.settings["parameters"]:
        for note in parameter["notes"]:
            click.echo(f"note: {parameter['parameter']} {note}", err=True)
    click.echo(f"scenario {result.base.scenario.name}: {effective} paths x {result.base.n_loans} loans per run, "
               f"seed {result.base.seed}, step {step:.0%}; change against the base run (se) and elasticity; rate "
               f"changes in percentage points")
    for metric in SENSITIVITY_SHOWN:
        kind = metric_kind(metric)
        base = result.base.summary["metrics"][metric]["mean"]
        click.echo(f"\n{metric} (base {_fmt3(base, kind)}):")
        click.echo(f"  {'parameter':44s} {'down':>10s} {'(se)':>9s} {'up':>10s} {'(se)':>9s} {'elasticity':>10s}")
        for row in result.ranked(metric).itertuples():
            click.echo(f"  {row.parameter:44s} {_diff3(row.difference_down, kind):>10s} "
                       f"{_diff3(row.se_difference_down, kind).lstrip('+'):>9s} {_diff3(row.difference_up, kind):>10s} "
                       f"{_diff3(row.se_difference_up, kind).lstrip('+'):>9s} {_elasticity(row.elasticity_up):>10s}")
    click.echo(f"\nsensitivity directory: {out_dir}")


sensitivity_command.help = sensitivity_command.help % {"paths": SENSITIVITY_PATHS,
                                                       "defaults": "\n      ".join(SENSITIVITY_PARAMETERS)}


def _elasticity(value):
    return "n/a" if value != value else f"{value:+.3f}"


@main.command("reverse")
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--breach", required=True,
              help="liquidity, failure, capital, coverage, abs_trigger, or a headline-metric threshold such as "
                   "'peak_overdue_rate_90p>0.05' (>, >=, <, <=).")
@click.option("--probability", type=Number(low=0, high=1, low_open=True,
                                            fix="Give e.g. 0.5 for half the paths, 0.05 for one in twenty."),
              help="Target share of paths breaching, in (0, 1] (default 0.5; a metric threshold without it targets "
                   "the mean over paths).")
@click.option("--shock", default="all", show_default=True,
              help="What is scaled: all macro shocks, one variable's (unemployment, income_growth, policy_rate), or a "
                   "numeric scenario key searched over --range (e.g. behaviour.recovery.rate_pct).")
@click.option("--shocks-from", type=click.Path(dir_okay=False, path_type=Path),
              help="Scale the macro shocks of this scenario instead (the book and funding stay SCENARIO_FILE's).")
@count_option("--within", high=1200, fix="Give a month of the horizon, e.g. 12.", help="With --breach liquidity or failure: it happens by this month.")
@click.option("--range", "severity_range", help="LO,HI searched (default 0,3 for a multiplier; required for a key).")
@click.option("--tolerance", type=Number(low=0, low_open=True, fix="Give a positive width, e.g. 0.01."),
              help="Bisection stops at this width (default 0.5% of the range).")
@run_options
@cluster_options
@count_option("--loans", high=MAX_LOANS, fix=f"Give from 1 to {MAX_LOANS} loans.",
              help="Resize the synthetic book to this many loans.")
def reverse_command(scenario_file, breach, probability, shock, shocks_from, within, severity_range, tolerance, out_dir,
                    paths, seed, scheduler, workers, threads, no_plots, lang, quiet, strict, loans):
    """Reverse stress test: the mildest severity of a shock at which a breach is reached.

    Every trial is a full run on common random numbers (same seed, book and paths):
    a grid over the range, then bisection to the breaking severity and to the ends of
    its confidence interval. Writes reverse.json, breaking_point.yaml, the run at the
    breaking severity (run/) and the breach probability figure; `simulate report`
    accepts the directory. Nothing breaking within the range is a finding (exit 0).

    \b
    Examples:
      simulate reverse scenarios/baseline.yaml --shocks-from scenarios/severe.yaml --breach liquidity --paths 200
      simulate reverse scenarios/severe.yaml --breach "peak_overdue_rate_90p>0.05" --shock unemployment
      simulate reverse scenarios/severe.yaml --breach capital --shock behaviour.recovery.rate_pct --range 0,60
    """
    from . import api  # noqa: F401  (the figures' wiring: simulator.api hands the workflows their figures)
    from .inputs.loader import load_scenario
    from .workflows.cluster import engine_cluster
    from .workflows.results import check_out_dir
    from .workflows.reverse import MARKER as REVERSE_MARKER
    from .workflows.reverse import reverse_stress
    with warnings_policy(strict):
        scenario = load_scenario(scenario_file)
        donor = load_scenario(shocks_from) if shocks_from is not None else None
    out_dir = check_out_dir(out_dir or Path("runs") / f"reverse-{scenario.name}", REVERSE_MARKER)

    def report(evaluation):
        if not quiet:
            click.echo(f"  severity {evaluation.severity:10.4g}: breach on {evaluation.count} of "
                       f"{len(evaluation.breached)} paths", err=True)

    with engine_cluster(scheduler, workers, threads) as map_blocks, refusing_warnings(strict):
        say_if_compiling([scenario], quiet)
        reverse = reverse_stress(scenario, breach, probability=probability, shock=shock, within=within,
                                 severity_range=severity_range, shocks_from=donor, paths=paths, seed=seed, loans=loans,
                                 tolerance=tolerance, progress=report,
                                 run_options={"threads": threads, "map_blocks": map_blocks})
    reverse.save(out_dir, plots=not no_plots, lang=lang)
    if not quiet:
        summary = reverse.summary
        click.echo(summary["statement"])
        macro = summary["macro_at_run_severity"]
        click.echo(f"central path at severity {summary['run_severity']:.4g}: unemployment peaks at "
                   f"{macro['peak_unemployment_pct']:.2f}% in month {macro['peak_unemployment_month']}, income growth "
                   f"bottoms at {macro['income_growth_trough_pct']:.2f}% in month "
                   f"{macro['income_growth_trough_month']} ({summary['runs']} runs of {summary['paths']} paths)")
        click.echo(f"\nreverse stress directory: {out_dir}")


@main.command("backtest")
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--macro", "macro_spec", metavar="FILE[:COLUMN]",
              help="Unemployment history, percent, monthly or quarterly (CSV or Parquet; FRED downloads as they are). "
                   "Default: the scenario's backtest.macro.")
@click.option("--observed", "observed_spec", metavar="FILE[:COLUMN]",
              help="The observed rate, percent, monthly or quarterly (e.g. FRED's DRCCLACBS). Default: the scenario's "
                   "backtest.observed.")
@click.option("--from", "from_date", help="First observed period compared (e.g. 2007-01-01 or '2007 Q1'; "
                                          "default: the scenario's backtest.start, else the first both files cover).")
@click.option("--to", "to_date", help="Last observed period compared (default: the scenario's backtest.end, else the "
                                      "last both files cover).")
@click.option("--rate", type=click.Choice(list(BACKTEST_RATES)),
              help="Model rate compared: 30+ DPD or 90+ DPD by balance, or the annualised net charge-off rate "
                   "(default: the scenario's backtest.rate, else 30p).")
@click.option("--interpolate-gaps", is_flag=True,
              help="Fill missing values ('.' in FRED files) linearly instead of refusing them.")
@run_options
@count_option("--loans", high=MAX_LOANS, fix=f"Give from 1 to {MAX_LOANS} loans.",
              help="Resize the synthetic book to this many loans.")
def backtest_command(scenario_file, macro_spec, observed_spec, from_date, to_date, rate, interpolate_gaps, out_dir,
                     paths, seed, threads, no_plots, lang, quiet, strict, loans):
    """Back-test SCENARIO_FILE's book: run it through the unemployment history in --macro with the credit cycle
    off, and compare its --rate with the --observed series, both as ratios to their first observation.

    The history defaults to the scenario's backtest section (each option given
    overrides it). Reports each series' peak ratio and period, its ratio at the
    end, the mean absolute error of the ratio, the lead or lag (in observed
    periods, within 4 either way) that minimises it and, when the section gives
    acceptance criteria, each one's value, limit and pass/fail. Writes
    backtest.json, backtest.csv (the aligned series), monthly.csv and
    plots/backtest.png. Runs %(paths)d paths unless --paths is given.

    \b
    Examples:
      simulate backtest scenarios/us_card_2007.yaml
      simulate backtest scenarios/us_card_2007.yaml \\
          --macro scenarios/history/us_unemployment_2006_2013.csv:UNRATE \\
          --observed scenarios/history/us_card_delinquency_2006_2013.csv:DRCCLACBS --from 2007-01 --to 2012-12
    """
    from .inputs.loader import load_scenario
    from .inputs.series import parse_bound, read_series, split_file_column
    from .presentation.backtest_figure import write_backtest_figure
    from .workflows.backtest import MARKER as BACKTEST_MARKER
    from .workflows.backtest import criterion_text, scenario_backtest
    from .workflows.results import check_out_dir
    bounds = {name: None if text is None else parse_bound(text, "backtest", name)
              for name, text in (("--from", from_date), ("--to", to_date))}
    macro, observed = (None if spec is None
                       else read_series(*split_file_column(spec), interpolate_gaps=interpolate_gaps)
                       for spec in (macro_spec, observed_spec))
    with warnings_policy(strict):
        scenario = load_scenario(scenario_file)
    out_dir = check_out_dir(out_dir or Path("runs") / f"backtest-{scenario.name}", BACKTEST_MARKER)
    say_if_compiling([scenario], quiet)
    with refusing_warnings(strict):
        result = scenario_backtest(scenario, macro, observed, start=bounds["--from"], end=bounds["--to"], rate=rate,
                                   paths=paths, seed=seed, loans=loans, threads=threads)
    result.save(out_dir, draw=None if no_plots else lambda done, directory: write_backtest_figure(done, directory,
                                                                                                   lang))
    if quiet:
        return
    summary = result.summary
    click.echo(f"back-test of {summary['scenario']} ({summary['rate']}: {summary['rate_definition']}), "
               f"{summary['from']}-{summary['to']}, {summary['paths']} paths x {summary['loans']:,} loans")
    click.echo(f"  {'':10s} {'peak ratio':>10s} {'peak':>8s} {'end ratio':>10s}")
    for name in ("observed", "model"):
        row = summary[name]
        click.echo(f"  {name:10s} {row['peak_ratio']:10.2f} {row['peak_period']:>8s} {row['end_ratio']:10.2f}")
    lag = summary["best_lag"]
    click.echo(f"mean absolute ratio error {summary['mean_abs_ratio_error']:.3f}; least at lag {lag:+d} "
               f"({'model late' if lag > 0 else 'model early' if lag < 0 else 'in step'}): "
               f"{summary['mean_abs_ratio_error_at_best_lag']:.3f}")
    if "acceptance" in summary:
        click.echo(f"acceptance: {'pass' if summary['acceptance']['passed'] else 'FAIL'}")
        for row in summary["acceptance"]["criteria"]:
            click.echo(f"  {'pass' if row['passed'] else 'FAIL'}  {row['description']}: "
                       f"{criterion_text(row['value'])} (limit {criterion_text(row['limit'])})")
    click.echo(f"\nback-test directory: {out_dir}")


backtest_command.help = backtest_command.help % {"paths": BACKTEST_PATHS}


@main.command("report")
@click.argument("directories", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("board.pdf"),
              show_default=True, help="PDF file to write.")
@lang_option
@click.option("--allow-different", is_flag=True,
              help="Put runs of different books, seeds or path counts in one pack (no common random numbers).")
def report_command(directories, out_path, lang, allow_different):
    """Write a board pack (PDF) from run, comparison, ECL or reverse stress DIRECTORIES.

    The pack has a cover with the key figures per scenario, one page per theme
    (overdue rates, losses, provisions, liquidity, management actions, and the
    differences between scenarios) with a chart and a two-line reading, and an
    appendix with every headline metric, the scenarios as run and the run metadata.

    \b
    Examples:
      simulate report runs/severe -o severe.pdf
      simulate report runs/compare-baseline-adverse-severe -o board.pdf --lang zh
    """
    from . import api  # noqa: F401  (the figures' wiring: simulator.api hands the workflows their figures)
    from .presentation.report import write_report
    sections = write_report(directories, out_path, lang=lang, allow_different=allow_different)
    click.echo(f"{out_path}: {len(sections)} pages ({', '.join(dict.fromkeys(sections))})")


@main.command("calibrate")
@click.argument("history_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--macro", "macro_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Monthly macro series (month, unemployment_pct[, income_growth_pct, rate_pct]).")
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Base scenario: the structural fit runs on its book, and a calibrated scenario extending it is "
                   "written (needs --macro).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write (default: runs/calibration-<history file name>).")
@count_option("--holdout-months", low=0, high=1200, fix="Give a number of months, e.g. 6.", default=6, show_default=True,
              help="Last months kept out of the roll-rate back-test's estimation.")
@count_option("--bootstrap", "n_replicates", low=0, high=100_000, fix="Give e.g. 200 (0: no intervals).",
              default=200, show_default=True,
              help="Loan resamples for the confidence intervals (0: none).")
@count_option("--seed", low=0, high=MAX_SEED, fix=SEED_FIX, default=0, show_default=True,
              help="Seed of the bootstrap and of the structural fit's simulations.")
@click.option("--fix", "fixed", multiple=True, metavar="PARAMETER",
              help="Hold a structural parameter at the base scenario's value (repeatable), e.g. "
                   "--fix savings_target_months.")
@count_option("--paths", high=MAX_PATHS, fix=PATHS_FIX, default=4, show_default=True,
              help="Simulated paths per structural-fit evaluation.")
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@lang_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def calibrate_command(history_file, macro_file, scenario_file, out_dir, holdout_months, n_replicates, seed, fixed,
                      paths, no_plots, lang, quiet):
    """Estimate roll rates, the credit cycle and the structural parameters from a loan history.

    HISTORY_FILE is a loan-month panel (CSV or Parquet: loan_id, month, dpd or
    dpd_state, balance[, segment, origination_month]). The output directory holds
    behaviour.yaml (a behaviour block ready for `extends:`), scenario.yaml with
    --scenario, the estimates with their intervals, the back-test and figures.

    \b
    Example:
      simulate calibrate scenarios/sample_history.parquet --macro scenarios/sample_history_macro.csv \\
          --scenario scenarios/baseline.yaml --out runs/calibration
    """
    from . import api  # noqa: F401  (the figures' wiring: simulator.api hands the workflows their figures)
    from .workflows.calibration import MARKER as CALIBRATION_MARKER
    from .workflows.calibration import calibrate
    from .workflows.results import check_out_dir
    out_dir = check_out_dir(out_dir or Path("runs") / f"calibration-{history_file.stem}", CALIBRATION_MARKER)
    if scenario_file is not None and macro_file is None:
        raise InputError("calibrate: --scenario needs --macro (the structural fit replays the history's economy). "
                         "Give the macro series of the history's months.")
    say = (lambda text: None) if quiet else (lambda text: click.echo(f"  {text} ...", err=True))
    calibration = calibrate(history_file, macro_file, scenario_file, holdout_months=holdout_months,
                            n_replicates=n_replicates, seed=seed, fixed=fixed, paths=paths, progress=say)
    calibration.save(out_dir, plots=not no_plots, lang=lang)
    if not quiet:
        click.echo(format_calibration(calibration.summary()))
        click.echo(f"\ncalibration directory: {out_dir}")


@main.command("validate-model")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("validation.pdf"), show_default=True,
              help="PDF to write; its Markdown twin is written beside it (validation.md).")
@click.option("--quick", is_flag=True, help="The small version (seconds) instead of the full one (about 1.5 minutes "
                                           "on 2 cores); back-tests run 2 paths of 2,000 loans instead of 16 paths "
                                           "of the scenario's book.")
@count_option("--seed", low=0, high=MAX_SEED, fix=SEED_FIX, default=VALIDATION_SEED, show_default=True,
              help="Seed of every check (they pass for any seed).")
@count_option("--threads", high=MAX_THREADS, fix=THREADS_FIX, help="Engine threads (default: all cores).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              default=VALIDATION_BASELINE, show_default=True,
              help="Baseline scenario of the common-random-numbers check.")
@click.option("--stress", "stress_file", type=click.Path(dir_okay=False, path_type=Path), default=VALIDATION_STRESS,
              show_default=True, help="Stress scenario of the common-random-numbers and determinism checks (the "
                                      "baseline's book).")
@click.option("--backtest", "backtest_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="SCENARIO", help="Also back-test this scenario against the history it names (repeatable); "
                                       "--baseline and --stress are back-tested when they name one.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def validate_model_command(out_path, quick, seed, threads, baseline_file, stress_file, backtest_files, quiet):
    """Run the model's own checks and write a validation report (PDF and Markdown).

    Each check simulates with a fixed seed and compares figures with a reference
    computed independently of the engine (closed forms or separate numpy/scipy
    code): the roll-rate engine against Markov matrix powers, the one-factor link
    against the Vasicek distribution, the labour-market flow identity, the
    variance reduction of common random numbers, and determinism across threads
    and block sizes. A figure passes within k = 5 Monte Carlo standard
    errors (computed). Every scenario given that names its history (a backtest
    section) is back-tested against it, and its acceptance criteria count like
    the figures. Exit code 0 if every figure passes, 1 if any fails (the
    report is written either way), 2 for bad options.

    \b
    Examples:
      simulate validate-model -o validation.pdf
      simulate validate-model --quick -o /tmp/validation.pdf --seed 7
      simulate validate-model --backtest scenarios/us_card_2007.yaml
    """
    from .presentation.validation_report import (check_report_path, format_figure, rule_text,
                                                write_validation_report)
    from .workflows.validation import validate_model, validation_settings
    out_path = check_report_path(out_path)
    settings = validation_settings(baseline_file, stress_file, quick=quick, seed=seed, threads=threads,
                                   backtests=backtest_files)
    say = (lambda name: None) if quiet else (lambda name: click.echo(f"  {name} ...", err=True))
    validation = validate_model(settings, progress=say)
    sections = write_validation_report(validation, out_path)
    if not quiet:
        for row in validation.results:
            click.echo(f"  {'pass' if row.passed else 'FAIL'}  {row.component}: {row.figure}  "
                       f"{format_figure(row.measured, row.unit)} vs {format_figure(row.expected, row.unit)}"
                       f"  ({rule_text(row)})")
        click.echo(f"{out_path} ({len(sections)} pages), {out_path.with_suffix('.md')}: "
                   f"{len(validation.results) - validation.n_failed} of {len(validation.results)} figures pass "
                   f"({validation.seconds:.0f} s, {settings.size} version, seed {seed})")
    if not validation.passed:
        click.get_current_context().exit(1)


def format_calibration(summary):
    """The calibration's headline figures as text."""
    from .presentation.report import rho_text
    history, cycle = summary["history"], summary["credit_cycle"]
    lines = [f"history {history['source']}: {history['rows']:,} rows, {history['loans']:,} loans, "
             f"{history['months']} months ({history['first_month']} to {history['last_month']}), "
             f"segments {', '.join(history['segments'])}"]
    lines.append("asset correlation rho: " + rho_text(cycle))
    if "satellite" in summary:
        fit = summary["satellite"]
        lines.append(f"satellite: z = {fit['coefficients']['intercept']:.3f} + "
                     f"{fit['coefficients']['unemployment_gap_pp']:.3f} x (u - {fit['baseline_unemployment_pct']:.2f}) "
                     f"(HAC se {fit['se_hac']['unemployment_gap_pp']:.3f}; R2 {fit['r_squared']:.2f}; "
                     f"DW {fit['durbin_watson']:.2f})")
    if "backtest" in summary:
        errors = summary["backtest"]
        lines.append(f"90+ back-test, roll-rate model: mean error {errors['roll_rate_in_sample_mean_abs_pp']:.2f} pp "
                     f"in sample, {errors.get('roll_rate_held_out_mean_abs_pp', float('nan')):.2f} pp on the last "
                     f"{errors['holdout_months']} months held out")
    if "structural" in summary:
        fit = summary["structural"]
        lines.append("structural fit (simulated method of moments):")
        for name, value in fit["parameters"].items():
            flag = "  (not identified by these moments)" if name in fit["not_identified"] else ""
            se = fit["se"][name]
            lines.append(f"  {name:32s} {value:10.3f}  se {'unbounded' if se is None else f'{se:.3f}'}{flag}")
        missed = [m["moment"] for m in fit["moments"] if not m["matched"]]
        lines.append(f"  moments matched {len(fit['moments']) - len(missed)} of {len(fit['moments'])}"
                     + (f"; missed: {', '.join(missed)}" if missed else ""))
    for warning in summary["warnings"]:
        lines.append(f"note: {warning}")
    return "\n".join(lines)


def format_headline(results):
    """The headline table as text, each metric with its unit.

    ``mean`` and ``se`` (the Monte Carlo error of the mean) first; then the spread of
    the outcome across paths, oriented by the metric's direction
    (:func:`~simulator.accounts.metrics.adverse_percentiles`): the favourable 5%, the
    median, the adverse 5% and 1%. Yes/no metrics show their probability and its se;
    the survival horizon its statistics over the paths whose buffer runs out; VaR and
    ES a value, its bootstrap se and a flag when fewer than
    :data:`~simulator.accounts.metrics.MIN_TAIL_PATHS` effective paths lie beyond it.
    """
    from .accounts.metrics import (CONDITIONAL_METRICS, MIN_TAIL_PATHS, adverse_percentiles, metric_kind,
                                   metric_unit)
    summary = results.summary
    currency = summary["currency"]
    units = {"currency": currency, "%": "%", "months": "months", "loans": "loans", "probability": "prob. %"}
    lines = [f"scenario {summary['scenario']}: {summary['paths']} paths x {summary['loans']} loans x "
             f"{summary['horizon_months']} months, seed {summary['seed']}, {summary['wall_seconds']:.1f} s",
             f"mean and se: the average over paths and its Monte Carlo standard error; favourable 5% .. adverse 1%: "
             f"the spread of the outcome across paths (adverse = the high end, or the low end where lower is worse). "
             f"Money in {currency}, rates in %.",
             f"{'metric':32s} {'unit':>8s} {'mean':>12s} {'se':>10s} {'favour. 5%':>12s} {'median':>12s} "
             f"{'adverse 5%':>12s} {'adverse 1%':>12s}"]
    thin_tails = []
    for name, stats in summary["metrics"].items():
        kind = metric_kind(name)
        unit = units[metric_unit(name)]
        head = f"{name:32s} {unit:>8s} {_fmt3(stats['value'] if 'value' in stats else stats['mean'], kind):>12s} " \
               f"{_fmt3(stats['se'], kind):>10s}"
        if "value" in stats:
            flag = "" if stats["reliable"] else f"  rests on {stats['paths_beyond']:g} path(s) beyond it (*)"
            if flag:
                thin_tails.append(name)
            lines.append(head + flag)
        elif kind == "probability":
            lines.append(head + "  (probability across paths)")
        else:
            keys = adverse_percentiles(name)
            spread = " ".join(f"{_fmt3(stats[keys[k]] if k != 'median' else stats['p50'], kind):>12s}"
                              for k in ("favourable_5", "median", "adverse_5", "adverse_1"))
            note = ""
            if name in CONDITIONAL_METRICS:
                note = (f"  over the {stats['paths']} of {summary['paths']} paths whose buffer runs out; the "
                        f"others survive the {summary['horizon_months']} months")
            lines.append(f"{head} {spread}{note}")
    if thin_tails:
        lines.append(f"(*) fewer than {MIN_TAIL_PATHS} paths lie beyond this level: the figure is one or two paths' "
                     f"loss and its se understates the error; run more paths (--paths or --target-se).")
    effects = summary.get("action_effects")
    if effects:
        lines.append("\neffect of the actions (without -> with, difference and its se; common random numbers; "
                     "rate differences in percentage points):")
        for name, effect in effects.items():
            kind = metric_kind(name)
            lines.append(f"  {name:30s} {_fmt3(effect['without_actions'], kind):>12s} -> "
                         f"{_fmt3(effect['with_actions'], kind):>12s}  {_diff3(effect['difference'], kind):>14s} "
                         f"(se {_diff3(effect['se'], kind).lstrip('+')})")
    provisioning = summary.get("provisioning")
    if provisioning:
        lines.append(f"provision requirement at its peak is set by {provisioning['binding_rule_at_peak']} "
                     f"(IFRS 9 binds in {provisioning['ifrs9_binding_share']:.0%} of path-months)")
    return "\n".join(lines)


def _diff3(value, kind):
    """A difference for the terminal tables: rate differences in percentage points to three decimals."""
    from .accounts.metrics import format_difference
    return format_difference(value, kind, decimals=3)


def _fmt3(value, kind):
    """A value for the terminal tables: rates to three decimals of a percent."""
    from .accounts.metrics import format_value
    return format_value(value, kind, decimals=3)


if __name__ == "__main__":  # pragma: no cover
    main()
