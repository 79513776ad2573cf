"""Scenario comparison on common random numbers.

Every scenario runs on the same book with the same seed, so each path meets the
same macro and idiosyncratic draws in every scenario and the differences come
from the scenarios. For each headline metric the comparison gives each
scenario's mean, its difference to the first scenario (the reference) with the
standard error of the paired per-path differences, the standard error the same
difference would have with independent draws (``sqrt(se_a^2 + se_b^2)``), and
their variance ratio (the variance reduction that common random numbers buy).
"""
import numpy as np
import pandas as pd

from .errors import InputError
from .metrics import HEADLINE_METRICS
from .results import resolve_seed, run, write_atomically

MARKER = "comparison.csv"


class Comparison:
    """Several runs of one book on common random numbers; the first is the reference.

    Attributes
    ----------
    members : list of Results
    """

    def __init__(self, members):
        self.members = members

    @property
    def table(self):
        """Long table: scenario, metric, mean, difference to the reference, its se, se with independent draws,
        and the variance reduction factor ``se_independent^2 / se_difference^2``."""
        reference = self.members[0]
        rows = []
        n = reference.scenario.run.paths
        for results in self.members:
            for name in HEADLINE_METRICS:
                mine, base = results.headline[name], reference.headline[name]
                difference = mine - base
                valid = ~np.isnan(difference)
                if not valid.any():
                    continue
                se_paired = float(np.std(difference[valid], ddof=1) / np.sqrt(valid.sum())) if n > 1 else 0.0
                se_independent = float(np.sqrt((np.nanvar(mine, ddof=1) + np.nanvar(base, ddof=1)) / valid.sum())
                                       ) if n > 1 else 0.0
                reduction = se_independent ** 2 / se_paired ** 2 if se_paired > 0 else np.nan
                rows.append({"scenario": results.scenario.name, "metric": name, "mean": float(np.nanmean(mine)),
                             "difference": float(np.mean(difference[valid])), "se_difference": se_paired,
                             "se_independent": se_independent, "variance_reduction": reduction})
        return pd.DataFrame(rows)

    def save(self, out_dir, plots=True):
        """Write ``comparison.csv`` and ``.parquet``, each scenario's run directory and overlay plots."""
        def write(directory):
            table = self.table
            table.to_csv(directory / MARKER, index=False)
            table.to_parquet(directory / "comparison.parquet", index=False)
            for results in self.members:
                member = directory / "runs" / results.scenario.name
                member.mkdir(parents=True)
                results.write_files(member, plots=False)
            if plots:
                from .plots import comparison_chart, save_figure
                save_figure(comparison_chart(self), directory / "plots" / "overdue_rates.png")

        return write_atomically(out_dir, write, marker=MARKER)


def compare_runs(members, allow_different=False):
    """Compare existing runs (see :func:`simulator.results.load_results`); the first is the reference.

    Runs are comparable on common random numbers only if they share the book,
    horizon, seed and path count; otherwise they are refused unless
    ``allow_different`` (then the differences are still reported, but their
    standard errors and variance reductions assume paired draws that are not).
    """
    first = members[0]
    names = [m.scenario.name for m in members]
    if len(set(names)) != len(names):
        raise InputError(f"compare: scenario names must be unique; got {names}. Give each run its own scenario name.")
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
        if reasons and not allow_different:
            raise InputError(f"compare: run {other.scenario.name} differs from {first.scenario.name} "
                             f"({'; '.join(reasons)}), so its paths do not share random numbers with the reference. "
                             "Rerun both with the same seed and paths, or pass --allow-different to compare anyway.")
    if any(m.scenario.run.paths != first.scenario.run.paths or m.scenario.run.horizon_months
           != first.scenario.run.horizon_months for m in members[1:]):
        raise InputError("compare: runs with different path counts or horizons cannot be compared path by path. "
                         "Rerun them with the same --paths and horizon.")
    return Comparison(members)


def compare(scenarios, threads=None):
    """Run ``scenarios`` on common random numbers (the first one's seed) and compare them.

    Raises
    ------
    InputError
        If the scenarios do not share one book, horizon and path count, or two share a name.
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"compare: scenario names must be unique; got {names}. Give each file its own 'name'.")
    first = resolve_seed(scenarios[0])
    for scenario in scenarios[1:]:
        if scenario.portfolio != first.portfolio or scenario.run.horizon_months != first.run.horizon_months:
            raise InputError(f"compare: {scenario.name} must use the same book and horizon as {first.name}; it "
                             "does not. Common random numbers compare scenarios of one book: make both extend "
                             "the same baseline and change only the economy, behaviour, funding or actions.")
    members = [run(scenario.with_run(seed=first.run.seed, paths=first.run.paths), threads=threads)
               for scenario in [first] + list(scenarios[1:])]
    return Comparison(members)
