"""Running the engine's blocks of paths on a Dask cluster (the only module that imports dask).

:func:`simulator.model.engine.simulate.simulate_paths` cuts the paths into blocks
and hands them to a *block mapper*; :func:`engine_cluster` gives one that runs the
blocks on the worker processes of a Dask distributed cluster, a local one
(``--workers N``) or an existing one (``--scheduler ADDRESS``). What travels:

* once per engine run, to every worker (``client.scatter(..., broadcast=True)``):
  the scenario and the loan book;
* per block, to a worker: its path ids and the months they stop lending (16 bytes a path) and the task;
* per block, back: the block's aggregates and vintage counts, months 0..H
  (``8 (H + 1) (N_METRICS + H + 1)`` bytes a path).

A block's output depends only on (scenario, book, seed, path ids, stop months), so the
aggregates are bit-for-bit those of a run in one process, whatever the number of
workers, the block size or the order the blocks finish in; a block lost with its
worker is simply computed again elsewhere. Dask is an optional extra
(``pip install ".[distributed]"``).
"""
import asyncio
import concurrent.futures
import contextlib
import logging
import os

import numba

from ..inputs.errors import ClusterLost, InputError
from ..inputs.options import option_problem
from .results import versions

try:
    import distributed
    import psutil  # a dependency of distributed: the memory available to local workers
except ImportError:  # the optional extra is not installed: engine_cluster says how to install it
    distributed = psutil = None

INSTALL_HINT = 'pip install ".[distributed]" (or pip install "dask[distributed]")'
"""How to get the optional extra."""

CONNECT_SECONDS = 10
"""How long to try to reach a scheduler (and hear its answer), and to wait for its first worker."""
WORKERS_PER_CORE = 4
"""A local cluster has at most this many worker processes a core (more only adds overhead)."""
WORKER_BYTES = 500 * 2 ** 20
"""Memory a local worker process takes before its first block (Python, numpy, numba's compiled engine, Dask)."""
RETRY_HINT = ("Nothing was written. Run the command again once the cluster is back (or with --workers N for a local "
              "cluster): a run's numbers depend only on the scenario, the seed and the paths, so the rerun gives the "
              "same bits.")
"""What to do after the scheduler is lost in the middle of a run (docs/cluster.md)."""


class ClusterBlocks:
    """A block mapper (see :func:`~simulator.model.engine.simulate.simulate_paths`) that runs blocks on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client
    threads : int
        Numba threads of each block's kernel call on its worker.
    where : str
        The cluster in messages (``--scheduler tcp://host:8786``).

    Raises
    ------
    ClusterLost
        When the scheduler goes away in the middle of the run (one line; the CLI exits with code 1).
    """

    def __init__(self, client, threads, where="the cluster"):
        self.client = client
        self.threads = threads
        self.where = where

    def __call__(self, function, shared, blocks):
        """Compute ``function(*shared, block)`` for every block on the cluster; yield ``(index, result)`` as each
        finishes.

        The ``shared`` arguments (the scenario, the book, the seed) are sent to every
        worker once; each task carries only its block. Tasks still pending when the
        caller stops iterating (an error, an interrupt) are cancelled.
        """
        client = self.client
        futures, scattered = [], []
        try:
            scattered = [client.scatter(item, broadcast=True, hash=False) for item in shared]
            futures = [client.submit(with_threads, self.threads, function, *scattered, block, pure=False)
                       for block in blocks]
            index = {future.key: i for i, future in enumerate(futures)}
            for future in distributed.as_completed(futures):
                yield index[future.key], future.result()
        except (concurrent.futures.CancelledError, distributed.comm.CommClosedError, OSError) as exc:
            if client.status == "running" and not isinstance(exc, distributed.client.FutureCancelledError):
                raise  # the cluster is there: not its loss (a bug keeps its traceback)
            raise ClusterLost(f"{self.where}: the Dask scheduler was lost in the middle of the run "
                              f"({type(exc).__name__}). {RETRY_HINT}") from None
        finally:
            with contextlib.suppress(Exception):  # nothing to cancel on a scheduler that is gone
                client.cancel(futures + scattered, asynchronous=False)


def with_threads(threads, function, *args):
    """``function(*args)`` with numba limited to ``threads`` threads in this (worker) thread."""
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return function(*args)


@contextlib.contextmanager
def engine_cluster(scheduler=None, workers=None, threads=None, timeout=CONNECT_SECONDS):
    """A block mapper for ``simulator.run(..., map_blocks=...)`` and the other workflows, or ``None``.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    workers : int, optional
        Start a local cluster of this many worker processes for the duration of the block
        (one task at a time each).
    threads : int, optional
        Numba threads of each block's kernel call on a worker (default 1: one core per
        worker process).
    timeout : float
        Seconds to reach the scheduler and to wait for its first worker.

    Yields
    ------
    ClusterBlocks or None
        ``None`` (run in this process) when neither ``scheduler`` nor ``workers`` is given.

    Raises
    ------
    InputError
        If both are given, Dask is not installed, the scheduler cannot be reached or has
        no worker, or a worker runs other versions of the simulator, numpy or numba (whose
        numbers could differ).

    Examples
    --------
    >>> with engine_cluster(workers=2) as map_blocks:                       # doctest: +SKIP
    ...     results = simulator.run("scenarios/baseline.yaml", map_blocks=map_blocks)
    """
    if scheduler is None and workers is None:
        yield None
        return
    if scheduler is not None and workers is not None:
        raise InputError(f"scheduler={scheduler!r} and workers={workers}: give one of them. workers= starts a "
                         "local cluster; scheduler= uses a running one.")
    option = "workers=" if scheduler is None else "scheduler="
    if distributed is None:
        raise InputError(f"{option} runs the paths on Dask, which is not installed. Install the optional extra: "
                         f"{INSTALL_HINT}.")
    if workers is not None:
        check_workers("workers", workers)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_dask_logs_quiet())
        if scheduler is None:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            client = stack.enter_context(connect(scheduler, timeout))
        check_versions(client, scheduler or "the local cluster")
        yield ClusterBlocks(client, threads or 1, f"--scheduler {scheduler}" if scheduler else "--workers")


@contextlib.contextmanager
def _dask_logs_quiet():
    """Dask's own log lines (its reconnection attempts and their tracebacks when a scheduler is lost) off for the
    duration: what went wrong is told once, by :class:`ClusterLost` or :class:`InputError`."""
    loggers = [logging.getLogger(name) for name in ["distributed", *logging.root.manager.loggerDict]
               if name.split(".")[0] == "distributed"]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def check_workers(option, workers):
    """Refuse a local cluster larger than this machine can hold: more than :data:`WORKERS_PER_CORE` processes a
    core, or more processes of :data:`WORKER_BYTES` each than the memory available.

    Parameters
    ----------
    option : str
        The option or parameter in messages (``--workers``, ``workers``).
    workers : int
    """
    cores = os.cpu_count() or 1
    available = _available_memory()
    limit = WORKERS_PER_CORE * cores
    if available is not None:
        limit = min(limit, max(1, available // WORKER_BYTES))
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= limit:
        memory = "" if available is None else f", {available / 2 ** 30:.1f} GiB available"
        raise InputError(option_problem(option, f"a number of worker processes from 1 to {limit} on this machine "
                                 f"({cores} cores{memory})", workers,
                                 f"Use at most {limit}, e.g. one a core ({cores}); for more, start workers on other "
                                 "machines and use --scheduler."))


def _available_memory():
    """Bytes of memory available to new processes, or ``None`` where it cannot be read."""
    return None if psutil is None else int(psutil.virtual_memory().available)


async def _handshake(scheduler, timeout):
    """Open a connection to ``scheduler`` and read its handshake, all within ``timeout`` seconds."""
    comm = await asyncio.wait_for(distributed.comm.connect(scheduler, timeout=timeout), timeout)
    await comm.close()


def probe(scheduler, timeout):
    """Refuse, within ``timeout`` seconds, an address where no Dask scheduler answers.

    ``distributed.Client`` bounds the TCP connection by its timeout but then waits
    without limit for the scheduler's handshake, so a port that accepts and never
    answers (a firewall, another program) would hang the command; this probe bounds
    both. Anything that goes wrong in it means that no scheduler answered there.
    """
    try:
        asyncio.run(_handshake(scheduler, timeout))
    except ValueError as exc:
        raise InputError(f"scheduler={scheduler!r}: not a scheduler address ({exc}). Give it as "
                         "tcp://HOST:PORT, as printed by `dask scheduler` (port 8786 by default).") from None
    except Exception:  # a refused or silent port, or one that speaks another protocol: no scheduler there
        raise InputError(f"scheduler={scheduler!r}: no Dask scheduler answered within {timeout:g} s. Start one "
                         f"with `dask scheduler` on that machine (and `dask worker {scheduler}` on each worker "
                         "machine), check the host, port and firewall, or use workers=N for a local cluster.") \
            from None


def connect(scheduler, timeout):
    """A client of the scheduler at ``scheduler`` that has at least one worker; :class:`InputError` if not (within
    about ``2 timeout`` seconds: the scheduler's answer, then its first worker)."""
    probe(scheduler, timeout)
    try:
        client = distributed.Client(scheduler, timeout=timeout)
    except (ValueError, OSError):  # it answered the probe and went away since: the same message
        probe(scheduler, timeout)
        raise
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        client.close()
        raise InputError(f"scheduler={scheduler!r}: the scheduler has no workers (waited {timeout:g} s). Start "
                         f"some with `dask worker {scheduler} --nthreads 1` on each machine.") from None
    return client


def check_versions(client, where):
    """Refuse a scheduler or workers that cannot import the simulator, or whose simulator, numpy or numba differ from
    this process's (the scheduler unpickles the tasks, the workers run them, and other versions could give other
    numbers)."""
    here = versions()
    try:
        found = {"the scheduler": client.run_on_scheduler(versions), **client.run(versions)}
    except ImportError as exc:
        raise InputError(f"{where}: the scheduler or a worker cannot import the simulator ({exc}). Install the "
                         "same release of the simulator where `dask scheduler` and `dask worker` run.") from None
    other = {name: theirs for name, theirs in found.items() if theirs != here}
    if other:
        name, theirs = next(iter(other.items()))
        raise InputError(f"{where}: {name} runs {theirs}, this machine {here}; {len(other)} process(es) differ. "
                         "Results are bit-for-bit reproducible only on the same versions: install the same release "
                         "of the simulator, numpy and numba on the scheduler and every worker.")
