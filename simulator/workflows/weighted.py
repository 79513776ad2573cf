"""IFRS 9 probability-weighted ECL over a scenario set.

IFRS 9 5.5.17(a) asks for an unbiased, probability-weighted amount over a range
of possible outcomes. A scenario set lists scenarios on one book with weights
(e.g. baseline 50%, adverse 30%, severe 20%). Every scenario is run with the
same seed, so the same borrowers meet the same idiosyncratic draws in every
scenario (common random numbers) and the differences come from the economy.

* ECL at the reporting date = ``sum_s w_s ECL_s(0)``: today's book is the same in
  every scenario; its ECL differs because each scenario implies other future losses.
* Over the horizon, the weighted mean ECL and provision requirement paths
  ``sum_s w_s E[ECL_s(t)]``.
* Each scenario's contribution ``w_s ECL_s(0)`` and its share of the total.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .results import figure_writer, load_results, resolve_seed, run, write_atomically, write_json

MARKER = "weighted_ecl.json"


class WeightedEcl:
    """Probability-weighted ECL of a scenario set.

    Attributes
    ----------
    name : str
    weights : list of float
        Fractions, summing to 1.
    members : list of Results
        One run per scenario, in the set's order, all with the same seed.
    """

    write_figures = None
    """Writes the probability-weighted ECL figure into a directory, ``write_figures(directory, lang)``; :meth:`save`
    calls it. The package root (:mod:`simulator`) sets it to
    :func:`simulator.presentation.plots.write_weighted_figure`: figures belong to the presentation layer, which the
    workflows may not import."""

    def __init__(self, name, weights, members):
        self.name = name
        self.weights = weights
        self.members = members

    @property
    def reporting_date(self):
        """ECL at month 0, total and by stage, with each scenario's contribution."""
        rows = []
        for weight, results in zip(self.weights, self.members):
            ecl = {f"stage_{k}": float(results.mean_of(results.series[f"ecl_stage_{k}"][:, 0])) for k in (1, 2, 3)}
            ecl["total"] = float(results.mean_of(results.series["ifrs9_ecl"][:, 0]))
            rows.append({"scenario": results.scenario.name, "weight": weight, "ecl": ecl,
                         "contribution": weight * ecl["total"]})
        total = sum(row["contribution"] for row in rows)
        for row in rows:
            row["share_of_weighted_ecl"] = row["contribution"] / total if total > 0 else 0.0
        weighted = {key: sum(row["weight"] * row["ecl"][key] for row in rows)
                    for key in ("stage_1", "stage_2", "stage_3", "total")}
        return {"weighted_ecl": weighted, "scenarios": rows}

    @property
    def timeseries(self):
        """Long table: month, scenario (or ``weighted``), weight, mean ECL and provision requirement."""
        frames = []
        months = np.arange(self.members[0].scenario.run.horizon_months + 1)
        weighted = {"ifrs9_ecl": 0.0, "provision_requirement": 0.0}
        for weight, results in zip(self.weights, self.members):
            means = {key: results.mean_of(results.series[key]) for key in weighted}
            frames.append(pd.DataFrame({"month": months, "scenario": results.scenario.name, "weight": weight,
                                        **means}))
            for key in weighted:
                weighted[key] = weighted[key] + weight * means[key]
        frames.append(pd.DataFrame({"month": months, "scenario": "weighted", "weight": 1.0, **weighted}))
        return pd.concat(frames, ignore_index=True)

    def summary(self):
        first = self.members[0]
        return {"scenario_set": self.name, "seed": first.seed, "paths": first.scenario.run.paths,
                "loans": first.n_loans, "horizon_months": first.scenario.run.horizon_months,
                "currency": first.scenario.portfolio.currency, **self.reporting_date}

    def save(self, out_dir, plots=True, lang="en"):
        """Write ``weighted_ecl.json``, ``weighted_ecl.csv``, each scenario's run directory and a figure
        (labels in ``lang``)."""
        def write(directory):
            write_json(directory / MARKER, self.summary())
            self.timeseries.to_csv(directory / "weighted_ecl.csv", index=False)
            for results in self.members:
                member_dir = directory / "runs" / results.scenario.name
                member_dir.mkdir(parents=True)
                results.write_files(member_dir, plots, lang)
            if plots:
                figure_writer(self.write_figures, "WeightedEcl")(directory / "plots", lang)

        return write_atomically(out_dir, write, marker=MARKER)


def run_weighted(spec, scenarios, threads=None, progress=None, map_blocks=None, loans=None):
    """Run every scenario of a set with one seed and weigh their ECL.

    Parameters
    ----------
    spec : ScenarioSetSpec
    scenarios : list of Scenario
        As returned by :func:`simulator.inputs.loader.load_scenario_set`.
    threads, progress, map_blocks, loans : optional
        As for :func:`simulator.workflows.results.run`, for every scenario.
    """
    first = resolve_seed(scenarios[0])
    seed = first.run.seed
    members = [run(scenario.with_run(seed=seed), threads=threads, progress=progress, map_blocks=map_blocks,
                   loans=loans)
               for scenario in scenarios]
    weights = [item.weight for item in spec.resolved.weighted_scenarios]
    return WeightedEcl(spec.name, weights, members)


def load_weighted(directory):
    """The :class:`WeightedEcl` of an ``ecl`` directory (``weighted_ecl.json`` and its runs under ``runs/``), e.g.
    for the board pack's probability-weighted ECL page."""
    directory = Path(directory)
    summary = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    members = [load_results(directory / "runs" / row["scenario"]) for row in summary["scenarios"]]
    return WeightedEcl(summary["scenario_set"], [row["weight"] for row in summary["scenarios"]], members)
