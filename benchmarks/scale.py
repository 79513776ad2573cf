"""A real-size book: wall time, peak memory and the errors achieved by ``simulate run`` on a large loan tape.

Run from the repository root::

    python benchmarks/scale.py [--loans 1000000] [--paths 256] [--workdir DIR] [-- EXTRA simulate run OPTIONS]

It writes (once, kept in ``--workdir``) a Parquet tape of ``--loans`` loans drawn
from the baseline segments (``scenarios/make_sample_tape.py``) and a scenario that
applies the baseline economy to it, then runs ``simulate run`` on it in a child
process and prints the child's wall time and peak resident memory with the run's
own figures: paths, the mean cumulative loss and 99.9% VaR with their standard
errors, and the engine's share of the time. Anything after ``--`` is passed to
``simulate run`` (for example ``--target-se cumulative_loss_rate=0.0005``).

The target: 1,000,000 loans, 36 months, the mean loss to a standard error
of 0.05 points and the 99.9% VaR to 0.2 points, in at most 10 minutes and 4 GiB.
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scenarios"))

from make_sample_tape import write_tape  # noqa: E402

SCENARIO = """extends: {baseline}
name: scale_{loans}
description: The baseline economy on a generated {loans:,}-loan tape (benchmarks/scale.py).
portfolio:
  source: tape
  tape: {tape}
run:
  tail_sampling: {tail_sampling}
  rqmc_points: {rqmc_points}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--paths", type=int, default=256)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "simulator-scale")
    parser.add_argument("--tail-sampling", default="importance", choices=("none", "importance"),
                        help="run.tail_sampling of the scenario (importance for the 99.9%% VaR)")
    parser.add_argument("--rqmc-points", default="auto",
                        help="run.rqmc_points of the scenario: fewer points give more scrambles, so steadier errors")
    parser.add_argument("extra", nargs="*", help="options passed to simulate run (after --)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    tape = args.workdir / f"tape_{args.loans}.parquet"
    if not tape.exists():
        started = time.perf_counter()
        write_tape(args.loans, tape)
        print(f"wrote {tape} ({tape.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - started:.0f} s")
    scenario = args.workdir / f"scale_{args.loans}.yaml"
    scenario.write_text(SCENARIO.format(baseline=ROOT / "scenarios" / "baseline.yaml", loans=args.loans,
                                        tape=tape.name, tail_sampling=args.tail_sampling,
                                        rqmc_points=args.rqmc_points), encoding="utf-8")
    out = args.workdir / f"run_{args.loans}"
    command = [sys.executable, "-m", "simulator.cli", "run", str(scenario), "--paths", str(args.paths),
               "--out", str(out), "--no-plots", "-q", *args.extra]
    print(" ".join(command[2:]))
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # kB -> GiB
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    loss, var = summary["metrics"]["cumulative_loss_rate"], summary["metrics"]["loss_var_999"]
    print(f"loans {summary['loans']:,}, paths {summary['paths']}, sampling {summary['sampling']}")
    print(f"(standard errors from {summary['sampling']['replicates']} independent replicates)")
    print(f"wall {wall:.0f} s (run {summary['wall_seconds']:.0f} s), peak memory {peak:.2f} GiB")
    print(f"mean cumulative loss {loss['mean']:.4%} (se {loss['se']:.4%}); "
          f"99.9% VaR {var['value']:.4%} (se {var['se']:.4%})")
    if summary.get("target_se"):
        print(f"targets: {json.dumps(summary['target_se'])}")


if __name__ == "__main__":
    main()
