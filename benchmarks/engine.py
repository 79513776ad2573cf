"""Throughput of the structural engine against a plain-numpy version and the random-number floor.

Run from the repository root::

    python benchmarks/engine.py [--loans N] [--paths P] [--months H] [--threads T]

On one book (the baseline scenario's synthetic book, resized to ``--loans``) and
one macro set, it prints borrower-months per second of

* the numba structural kernel through :func:`simulator.model.engine.simulate.simulate_paths`
  (after a warm-up call, so compile time is excluded), with 1 thread and with ``T``;
* the vectorised plain-numpy re-implementation of the same model
  (``tests/reference_numpy.py``, ``draws="numpy"``: numpy's Generator instead of
  Philox), timed on fewer paths and scaled; also its ``draws="philox"`` variant,
  which reproduces the engine's numbers;
* the random-number floor: only drawing what the kernel draws per loan-month,
  (a) with the engine's Philox (1 call = 4 words, optionally turned into 3
  uniforms and 2 look-ups of the discretised income shocks), in a numba loop
  parallel over paths, and (b) with numpy's Generator (4 uniforms + 2 shock
  indices per loan-month, as the numpy version draws them).

A borrower-month is one loan slot simulated for one month (under the constant
balance sheet every slot is live every month).
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

from simulator.model.engine.layout import CHARGEOFF, COUNT, N_LIVE_STATES, N_METRICS, BALANCE  # noqa: E402
from simulator.model.engine.rng import philox4x32, seed_key, uniform32  # noqa: E402
from simulator.model.engine.shocks import SHOCK_POINTS, equiprobable_lognormal  # noqa: E402
from simulator.model.engine.simulate import (engine_months, recorders_group, simulate_paths,  # noqa: E402
                                             structural_arguments)
from simulator.model.macro import macro_paths  # noqa: E402
from simulator.model.portfolio import build_book  # noqa: E402
from simulator.inputs.loader import load_scenario  # noqa: E402
from tests.reference_numpy import structural_reference  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"


# --------------------------------------------------------------------------- random-number floor
@njit(parallel=True, cache=True)
def philox_words_floor(seed, n_paths, n_loans, n_months):
    """One Philox call per loan-month, counters laid out as in the kernel; returns an XOR of all words."""
    k0, k1 = seed_key(seed)
    acc = np.zeros(n_paths, dtype=np.uint64)
    for p in prange(n_paths):
        path = np.uint64(p)
        x = np.uint64(0)
        for i in range(n_loans):
            loan = np.uint64(i)
            for m in range(1, n_months + 1):
                w0, w1, w2, w3 = philox4x32(loan, np.uint64(m), np.uint64(0), path, k0, k1)
                x ^= w0 ^ w1 ^ w2 ^ w3
        acc[p] = x
    result = np.uint64(0)
    for p in range(n_paths):
        result ^= acc[p]
    return result


@njit(parallel=True, cache=True)
def philox_variates_floor(seed, n_paths, n_loans, n_months, shock):
    """As :func:`philox_words_floor`, turning the words into the kernel's 3 uniforms and 2 shock look-ups."""
    k0, k1 = seed_key(seed)
    acc = np.zeros(n_paths)
    for p in prange(n_paths):
        path = np.uint64(p)
        s = 0.0
        for i in range(n_loans):
            loan = np.uint64(i)
            for m in range(1, n_months + 1):
                w0, w1, w2, w3 = philox4x32(loan, np.uint64(m), np.uint64(0), path, k0, k1)
                s += (uniform32(w0) + uniform32(w1) + uniform32(w3)
                      + shock[np.int64(w2 >> np.uint64(20))] + shock[np.int64((w2 >> np.uint64(8)) & np.uint64(0xFFF))])
        acc[p] = s
    return acc.sum()


def numpy_generator_floor(seed, n_paths, n_loans, n_months):
    """4 uniforms + 2 shock indices per loan-month from numpy's Generator (PCG64), one path at a time."""
    rng = np.random.default_rng(seed)
    uniforms = np.empty((n_months, 4, n_loans))
    total = 0.0
    for _ in range(n_paths):
        rng.random(out=uniforms)
        indices = rng.integers(0, SHOCK_POINTS, size=(n_months, 2, n_loans))
        total += uniforms[-1, 0, 0] + indices[-1, 0, 0]
    return total


def kernel_arguments(scenario, book, seed, n_paths):
    """The structural kernel's inputs for paths 0..n_paths-1, built by the engine's own code, with fresh recorders."""
    path_ids = np.arange(n_paths, dtype=np.int64)
    n_months = engine_months(scenario)
    macro = macro_paths(scenario.macro, seed, path_ids, n_months)
    recorders = recorders_group(np.zeros((n_paths, n_months + 1, N_METRICS)),
                                np.zeros((n_paths, n_months + 1, n_months + 1)))
    return structural_arguments(scenario, book, seed, path_ids, macro, recorders)


# --------------------------------------------------------------------------- timing
_LAST_CPU = [0.0]


def timed(fn, *args, **kwargs):
    """Wall time and result of ``fn(*args, **kwargs)``; its process CPU time is kept for the table."""
    cpu = time.process_time()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    _LAST_CPU[0] = time.process_time() - cpu
    return time.perf_counter() - start, result


def chargeoff_rate(agg):
    """Charge-offs over the horizon / opening balance, averaged over paths (a model sanity figure)."""
    opening = agg[:, 0, BALANCE:BALANCE + N_LIVE_STATES].sum(axis=1)
    return float(np.mean(agg[:, 1:, CHARGEOFF].sum(axis=1) / opening))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=10_000, help="loans in the book (default 10000)")
    parser.add_argument("--paths", type=int, default=100, help="Monte Carlo paths for the engine (default 100)")
    parser.add_argument("--months", type=int, default=36, help="horizon in months (default 36)")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"engine threads for the parallel runs (default all: {numba.config.NUMBA_NUM_THREADS})")
    parser.add_argument("--numpy-paths", type=int, default=8,
                        help="paths on which the numpy reference is timed, then scaled (default 8)")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    threads = min(args.threads or numba.config.NUMBA_NUM_THREADS, numba.config.NUMBA_NUM_THREADS)
    numpy_paths = max(1, min(args.numpy_paths, args.paths))
    philox_numpy_paths = max(1, min(2, numpy_paths))
    seed = args.seed

    scenario = (load_scenario(BASELINE).with_loans(args.loans)
                .with_run(paths=args.paths, horizon_months=args.months, balance_sheet="constant",
                          sampling="mc"))  # the numpy reference draws the cycle by plain Monte Carlo
    book = build_book(scenario, seed)
    simulated_months = engine_months(scenario)
    bm_per_path = book.n_loans * simulated_months
    total_bm = bm_per_path * args.paths
    print(f"baseline scenario, structural model, constant balance sheet: {book.n_loans:,} loans x "
          f"{args.paths} paths x {simulated_months} simulated months ({args.months} reported + "
          f"{simulated_months - args.months} of IFRS 9 look-ahead: the lifetime window and the time defaults take to "
          f"resolve) = {total_bm / 1e6:.1f} M borrower-months; "
          f"numba {numba.__version__}, numpy {np.__version__}, {numba.config.NUMBA_NUM_THREADS} threads available")

    # warm-up: compile (or load from cache) everything outside the timings
    t_compile = time.perf_counter()
    warm = scenario.with_run(paths=2, horizon_months=2)
    simulate_paths(warm, book, seed, threads=1)
    philox_words_floor(seed, 2, 10, 2)
    shock = equiprobable_lognormal(0.15)
    philox_variates_floor(seed, 2, 10, 2, shock)
    print(f"warm-up (compile / cache load): {time.perf_counter() - t_compile:.1f} s\n")

    rows = []

    def row(label, seconds, paths_timed, note=""):
        rate = bm_per_path * paths_timed / seconds
        rows.append((label, seconds, _LAST_CPU[0] / seconds, paths_timed, rate, note))
        return rate

    # (i) the engine
    t, (engine_1, *_) = timed(simulate_paths, scenario, book, seed, threads=1)
    rate_engine_1 = row("numba structural kernel (simulate_paths)", t, args.paths, "1 thread")
    t, (engine_t, *_) = timed(simulate_paths, scenario, book, seed, threads=threads)
    rate_engine_t = row("numba structural kernel (simulate_paths)", t, args.paths, f"{threads} threads")
    assert np.array_equal(engine_1, engine_t), "thread count changed the engine's results"

    # (ii) plain numpy, same book and macro inputs
    kernel_args = kernel_arguments(scenario, book, seed, numpy_paths)
    t, numpy_agg = timed(structural_reference, *kernel_args, draws="numpy", rng=np.random.default_rng(seed))
    rate_numpy = row("plain numpy reference, draws='numpy'", t, numpy_paths,
                     f"{numpy_paths} paths timed, rate scaled")
    pn_args = kernel_arguments(scenario, book, seed, philox_numpy_paths)
    t, philox_agg = timed(structural_reference, *pn_args, draws="philox")
    row("plain numpy reference, draws='philox'", t, philox_numpy_paths,
        f"{philox_numpy_paths} paths timed, rate scaled")

    # (iii) random-number floor
    numba.set_num_threads(1)
    t, _ = timed(philox_words_floor, seed, args.paths, book.n_loans, simulated_months)
    row("RNG floor: numba Philox, 1 call/loan-month", t, args.paths, "1 thread")
    numba.set_num_threads(threads)
    t, _ = timed(philox_words_floor, seed, args.paths, book.n_loans, simulated_months)
    row("RNG floor: numba Philox, 1 call/loan-month", t, args.paths, f"{threads} threads")
    numba.set_num_threads(1)
    t, _ = timed(philox_variates_floor, seed, args.paths, book.n_loans, simulated_months, shock)
    row("RNG floor: numba Philox -> 3 U + 2 shocks", t, args.paths, "1 thread")
    numba.set_num_threads(threads)
    t, _ = timed(philox_variates_floor, seed, args.paths, book.n_loans, simulated_months, shock)
    row("RNG floor: numba Philox -> 3 U + 2 shocks", t, args.paths, f"{threads} threads")
    generator_paths = min(args.paths, 20)
    t, _ = timed(numpy_generator_floor, seed, generator_paths, book.n_loans, simulated_months)
    row("RNG floor: numpy Generator 4 U + 2 indices", t, generator_paths,
        "1 thread" + (f", {generator_paths} paths timed, rate scaled" if generator_paths < args.paths else ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'seconds':>8}  {'cpu/wall':>8}  {'paths':>5}  {'borrower-months/s':>17}  note")
    for label, seconds, cpu_per_wall, paths_timed, rate, note in rows:
        print(f"{label:{width}}  {seconds:8.2f}  {cpu_per_wall:8.2f}  {paths_timed:5d}  {rate / 1e6:15.2f} M  {note}")
    print("(cpu/wall: cores this process kept busy; well below the thread count means the machine was busy)")
    print()
    print(f"ratio engine / plain numpy: {rate_engine_t / rate_numpy:.1f}x with {threads} threads, "
          f"{rate_engine_1 / rate_numpy:.1f}x on 1 thread")
    print(f"numpy reference timed on {numpy_paths} of {args.paths} paths (rates are per borrower-month, "
          f"so they scale linearly; a full numpy run would take about {total_bm / rate_numpy:.0f} s)")

    # sanity: the numpy version is the same model (other random numbers) and the Philox variant reproduces the engine
    same = np.allclose(philox_agg[:, :args.months + 1], engine_t[:philox_numpy_paths], rtol=1e-9, atol=1e-6)
    print(f"check: numpy draws='philox' == engine on paths 0..{philox_numpy_paths - 1}: {same}; "
          f"live loans per month engine/numpy: {engine_t[:, -1, COUNT:COUNT + N_LIVE_STATES].sum(axis=1).mean():.0f}"
          f"/{numpy_agg[:, -1, COUNT:COUNT + N_LIVE_STATES].sum(axis=1).mean():.0f}; "
          f"{args.months}-month charge-off rate engine {chargeoff_rate(engine_t):.2%}, "
          f"numpy draws {chargeoff_rate(numpy_agg[:, :args.months + 1]):.2%} ({numpy_paths} paths)")


if __name__ == "__main__":
    main()
