"""Variance reduction, measured: standard error squared x CPU seconds of each sampling scheme against plain MC.

Run from the repository root::

    python benchmarks/variance.py [--scenarios baseline,severe,adverse] [--loans N] [--paths P] [--repeats R]

For each scenario and each sampling scheme (``run.sampling`` x ``run.tail_sampling``,
see :mod:`simulator.model.sampling`) the scenario is run ``R`` times with independent
seeds at ``P`` paths. The true variance of each estimator is the variance of its
``R`` estimates (not the error the run reports about itself, which is shown beside
it as a check: ``reported/true`` is the mean reported se over the true sd, and
should be near 1); the cost is the CPU seconds of a run (all threads, book building
included). The efficiency gain of a scheme against plain Monte Carlo is::

    gain = (var_mc x cpu_mc) / (var_scheme x cpu_scheme)

i.e. how many times less computer time it needs for the same standard error. The
true variance comes from R estimates, so a gain is itself uncertain: the ratio of
two variances from R runs each has a relative sd of about ``sqrt(4 / (R - 1))``
(60% at R = 12): read gains to within a factor of 1.5-2.

Estimates: the mean cumulative loss rate, the mean peak 90+ overdue rate, the 99%
VaR of the cumulative loss rate and the probability that the liquidity buffer runs
out (``liquidity_breached``; the baseline never breaches and severe always does,
so ``adverse`` is where that probability is measured).
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from simulator.inputs.loader import load_scenario  # noqa: E402
from simulator.workflows.results import run  # noqa: E402

SCHEMES = {
    "mc": {"sampling": "mc", "tail_sampling": "none"},
    "antithetic": {"sampling": "antithetic", "tail_sampling": "none"},
    "rqmc": {"sampling": "rqmc", "tail_sampling": "none"},
    "mc+importance": {"sampling": "mc", "tail_sampling": "importance"},
    "rqmc+importance": {"sampling": "rqmc", "tail_sampling": "importance"},
}

ESTIMATES = {
    "mean loss": lambda summary: summary["metrics"]["cumulative_loss_rate"]["mean"],
    "mean peak 90+": lambda summary: summary["metrics"]["peak_overdue_rate_90p"]["mean"],
    "99% VaR loss": lambda summary: summary["metrics"]["loss_var_99"]["value"],
    "P(liquidity out)": lambda summary: summary["metrics"]["liquidity_breached"]["mean"],
}
REPORTED_SE = {
    "mean loss": lambda summary: summary["metrics"]["cumulative_loss_rate"]["se"],
    "mean peak 90+": lambda summary: summary["metrics"]["peak_overdue_rate_90p"]["se"],
    "99% VaR loss": lambda summary: summary["metrics"]["loss_var_99"]["se"],
    "P(liquidity out)": lambda summary: summary["metrics"]["liquidity_breached"]["se"],
}


def measure(scenario, scheme, paths, loans, repeats, rqmc_points, shift):
    """Estimates, reported errors and CPU seconds of ``repeats`` runs with seeds 1..R."""
    settings = dict(SCHEMES[scheme], rqmc_points=rqmc_points, importance_shift=shift)
    estimates = {name: [] for name in ESTIMATES}
    reported = {name: [] for name in ESTIMATES}
    cpu = []
    for seed in range(1, repeats + 1):
        started = time.process_time()
        summary = run(scenario.with_run(**settings), paths=paths, loans=loans, seed=seed).summary
        cpu.append(time.process_time() - started)
        for name in ESTIMATES:
            estimates[name].append(ESTIMATES[name](summary))
            reported[name].append(REPORTED_SE[name](summary))
    return ({name: np.array(v, dtype=float) for name, v in estimates.items()},
            {name: np.array(v, dtype=float) for name, v in reported.items()}, float(np.mean(cpu)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="baseline,severe,adverse")
    parser.add_argument("--schemes", default=",".join(SCHEMES))
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--paths", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--rqmc-points", type=int, default=32)
    parser.add_argument("--shift", type=float, default=2.0, help="importance shift, sds")
    args = parser.parse_args()
    run(load_scenario(ROOT / "scenarios" / "baseline.yaml"), paths=2, loans=100, seed=0)  # compile outside timing
    print(f"{args.loans} loans, {args.paths} paths, {args.repeats} independent runs per scheme; "
          f"rqmc: {args.rqmc_points} points x {args.paths // args.rqmc_points} scrambles; "
          f"importance shift {args.shift} sd\n")
    for name in args.scenarios.split(","):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        results = {scheme: measure(scenario, scheme, args.paths, args.loans, args.repeats, args.rqmc_points,
                                   args.shift) for scheme in args.schemes.split(",")}
        mc_estimates, _, mc_cpu = results["mc"]
        print(f"== {name}")
        print(f"{'estimate':18s} {'scheme':16s} {'mean':>10s} {'true se':>10s} {'reported/true':>14s} "
              f"{'cpu s':>7s} {'gain':>7s}")
        for estimate in ESTIMATES:
            mc_var = np.var(mc_estimates[estimate], ddof=1)
            for scheme, (estimates, reported, cpu) in results.items():
                values = estimates[estimate]
                var = np.var(values, ddof=1)
                gain = mc_var * mc_cpu / (var * cpu) if var > 0 else np.nan
                ratio = np.mean(reported[estimate]) / np.sqrt(var) if var > 0 else np.nan
                print(f"{estimate:18s} {scheme:16s} {np.mean(values):10.5f} {np.sqrt(var):10.6f} "
                      f"{ratio:14.2f} {cpu:7.2f} {gain:7.1f}")
        print()


if __name__ == "__main__":
    main()
