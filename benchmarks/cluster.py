"""Wall time of a run in one process against a local Dask cluster, and what a cluster run sends.

Run from the repository root (needs the distributed extra: ``pip install ".[distributed]"``)::

    python benchmarks/cluster.py [--paths 256] [--loans 20000] [--repeats 3]

On the shipped baseline scenario (its 20,000-loan book, 36 months, resized to
``--paths``) it times ``simulator.run`` end to end (book, burn-in, engine,
statistics are lazy and not included):

* in this process with 1 and with 2 engine threads;
* on a local cluster (:func:`simulator.workflows.cluster.engine_cluster`) of 1 and
  of 2 worker processes, 1 engine thread each; the cluster is started once,
  outside the timings (its start-up time is printed on its own);

each ``--repeats`` times, the configurations interleaved so that the load of a
shared machine falls on all alike; the table gives the fastest and the median
repeat. It checks that every run gives the same bits, and prints the bytes a
cluster run sends: the scenario and the book once per worker, and per block
the path ids in and the block's aggregates out.
"""
import argparse
import contextlib
import pickle
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import simulator  # noqa: E402
from simulator.inputs.loader import load_scenario  # noqa: E402
from simulator.model.engine.simulate import path_blocks, simulate_block  # noqa: E402
from simulator.model.portfolio import build_book  # noqa: E402
from simulator.workflows.cluster import engine_cluster  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"


def transfer_bytes(scenario):
    """Pickled bytes of the scenario and the book (sent once per worker) and of one block's path ids and result."""
    book = build_book(scenario, scenario.portfolio.seed)
    block = path_blocks(0, scenario.run.paths, scenario.run.chunk_paths)[0]
    out, vintage = simulate_block(scenario, book, scenario.run.seed, block)
    return {"scenario": pickled_size(scenario), "book": pickled_size(book), "block_path_ids": block.nbytes,
            "block_result": out.nbytes + vintage.nbytes, "block_paths": len(block)}


def pickled_size(item):
    """Bytes of ``item`` pickled as Dask sends it (protocol 5)."""
    return len(pickle.dumps(item, protocol=5))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", type=int, default=256, help="Monte Carlo paths (default 256)")
    parser.add_argument("--loans", type=int, default=None, help="loans (default: the baseline's 20,000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each configuration (default 3)")
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args(argv)
    scenario = load_scenario(BASELINE).with_loans(args.loans).with_run(paths=args.paths, seed=args.seed)
    run = scenario.run
    print(f"baseline: {scenario.portfolio.n_loans:,} loans x {run.paths} paths x {run.horizon_months} months, "
          f"blocks of {run.chunk_paths} paths")
    sizes = transfer_bytes(scenario)
    print(f"sent once per worker: scenario {sizes['scenario']:,} B, book {sizes['book']:,} B; per block of "
          f"{sizes['block_paths']} paths: path ids {sizes['block_path_ids']:,} B in, aggregates "
          f"{sizes['block_result']:,} B out ({sizes['block_result'] // sizes['block_paths']:,} B a path)")

    simulator.run(scenario.with_run(paths=2), threads=1)  # load the kernels (numba cache) outside the timings
    times = {}
    bits = {}

    def timed(label, **options):
        started = time.perf_counter()
        results = simulator.run(scenario, **options)
        times.setdefault(label, []).append(time.perf_counter() - started)
        bits[label] = results.aggregates

    with contextlib.ExitStack() as stack:
        clusters = {}
        for workers in (1, 2):
            started = time.perf_counter()
            clusters[workers] = stack.enter_context(engine_cluster(workers=workers))
            simulator.run(scenario.with_run(paths=2), map_blocks=clusters[workers])  # workers load the kernels
            print(f"local cluster of {workers} worker(s): started and warmed up in "
                  f"{time.perf_counter() - started:.1f} s")
        for _ in range(args.repeats):
            timed("1 process, 1 thread", threads=1)
            timed("1 process, 2 threads", threads=2)
            timed("1 worker, 1 thread", map_blocks=clusters[1])
            timed("2 workers, 1 thread each", map_blocks=clusters[2])

    reference = bits["1 process, 1 thread"]
    assert all(np.array_equal(reference, other) for other in bits.values()), "a configuration changed the bits"
    base = min(times["1 process, 2 threads"])
    width = max(map(len, times))
    print(f"\n{'':{width}}  {'fastest s':>9}  {'median s':>8}  {'vs 1 process, 2 threads (fastest)':>10}")
    for label, seconds in times.items():
        print(f"{label:{width}}  {min(seconds):9.2f}  {statistics.median(seconds):8.2f}  "
              f"{min(seconds) / base - 1:+.1%}")
    print("every configuration gave the same bits")


if __name__ == "__main__":
    main()
