"""Throughput of the roll-rate estimation on a history of about 3 million loan-months.

Run from the repository root::

    python benchmarks/rollrates.py [--loans N] [--months M] [--replicates B] [--seed S]

It simulates a history (:func:`simulator.estimation.rollrates.simulate_roll_rate_history`, the
``roll_rate_example`` matrix, ``rho = 3%``), writes it to Parquet and CSV in a temporary
folder (text columns as plain strings, as a lender's export would have them),
and prints rows (loan-months) per second of each step: reading and validating
each file, extracting the transitions, the cohort estimator
(counts and balance-weighted, monthly and pooled), the bootstrap over loans
(``B`` replicates) and the credit-cycle fit (``z_t``, ``rho`` and its bootstrap), and
for comparison the pooled counts done the way an analyst would in pandas
(``groupby().shift()`` and ``crosstab``), checked to give the same counts.
Each step is timed once after a warm-up on a small history (numba compilation
and first-import costs are excluded).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from simulator.inputs.history import extract_transitions, history_from_frame, read_history  # noqa: E402
from simulator.estimation.rollrates import (bootstrap_cohort, cohort_estimate, fit_credit_cycle,  # noqa: E402
                                 simulate_roll_rate_history)
from simulator.inputs.schema import ROLL_RATE_COLUMNS  # noqa: E402

EXAMPLE = ROOT / "scenarios" / "roll_rate_example.yaml"


def example_matrix():
    """The ``default`` matrix of ``roll_rate_example.yaml`` as fractions."""
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["behaviour"]["roll_rate"]
    return np.asarray(spec["matrices"]["default"], dtype=float) / 100.0


def estimate(history, replicates, seed):
    """Run every estimation step once; return {step: seconds}."""
    seconds = {}
    start = time.perf_counter()
    transitions = extract_transitions(history)
    seconds["transition extraction"] = time.perf_counter() - start
    start = time.perf_counter()
    cohort_estimate(transitions, weighting="count")
    cohort_estimate(transitions, weighting="balance")
    seconds["cohort estimator (count + balance)"] = time.perf_counter() - start
    start = time.perf_counter()
    bootstrap_cohort(transitions, n_replicates=replicates, seed=seed)
    seconds[f"bootstrap, B = {replicates}"] = time.perf_counter() - start
    start = time.perf_counter()
    fit_credit_cycle(transitions, n_replicates=replicates, seed=seed)
    seconds[f"credit cycle (z_t, rho, B = {replicates})"] = time.perf_counter() - start
    return seconds


def pandas_counts(frame):
    """The pooled transition counts as an analyst would get them in pandas: the next month's state of each loan by
    ``groupby().shift()``, then ``crosstab`` (the comparison the engine's vectorised estimator is measured against)."""
    frame = frame.sort_values(["loan_id", "month"], kind="stable")
    following = frame.groupby("loan_id", sort=False)["dpd_state"].shift(-1)
    moved = following.notna()
    return pd.crosstab(frame["dpd_state"][moved], following[moved])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=50_000, help="loans on the book each month")
    parser.add_argument("--months", type=int, default=60, help="months of history")
    parser.add_argument("--replicates", type=int, default=200, help="bootstrap replicates")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    matrix = example_matrix()

    warm_frame, _ = simulate_roll_rate_history(matrix, 0.03, 500, 6, seed=args.seed)
    estimate(history_from_frame(warm_frame), 2, args.seed)

    start = time.perf_counter()
    frame, _ = simulate_roll_rate_history(matrix, 0.03, args.loans, args.months, seed=args.seed)
    simulate_seconds = time.perf_counter() - start
    n_rows = len(frame)
    frame = frame.astype({"month": str, "dpd_state": str, "segment": str})
    seconds, size_mb = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for suffix, write in ((".parquet", frame.to_parquet), (".csv", frame.to_csv)):
            path = Path(folder) / f"history{suffix}"
            write(path, index=False)
            size_mb[suffix] = path.stat().st_size / 1e6
            start = time.perf_counter()
            history = read_history(path)
            seconds[f"read + validate ({suffix[1:]})"] = time.perf_counter() - start
    seconds.update(estimate(history, args.replicates, args.seed))
    start = time.perf_counter()
    reference = pandas_counts(frame)
    seconds["pandas groupby-shift + crosstab (counts only)"] = time.perf_counter() - start
    pooled = cohort_estimate(extract_transitions(history), weighting="count", by_segment=False)
    names = list(ROLL_RATE_COLUMNS)
    for from_name in reference.index:
        for to_name in reference.columns:
            assert reference.loc[from_name, to_name] == pooled.counts[0, names.index(from_name), names.index(to_name)]

    print(f"history: {n_rows:,} rows ({args.loans:,} loans x {args.months} months plus replacements), "
          f"{history.n_loans:,} loan ids, parquet {size_mb['.parquet']:.0f} MB, csv {size_mb['.csv']:.0f} MB; "
          f"simulated in {simulate_seconds:.1f} s")
    print(f"{'step':<48} {'seconds':>8} {'rows/second':>14}")
    for step, elapsed in seconds.items():
        print(f"{step:<48} {elapsed:>8.2f} {n_rows / elapsed:>14,.0f}")
    total = sum(elapsed for step, elapsed in seconds.items() if "csv" not in step and "pandas" not in step)
    print(f"{'all steps (parquet)':<48} {total:>8.2f} {n_rows / total:>14,.0f}")


if __name__ == "__main__":
    main()
