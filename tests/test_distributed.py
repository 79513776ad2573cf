"""The engine's blocks of paths on a Dask cluster (:mod:`simulator.workflows.cluster`).

The aggregates must be the bits of the single-process run for any number of
worker processes and any block size, also when a worker dies mid-run (Dask
computes its block again elsewhere), for every command that simulates. The
clusters here are local (worker processes on this machine, loopback only).
Without Dask installed, the cluster tests are skipped and the options must say
how to install it.
"""
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import simulator
from simulator.model.engine import simulate as engine_simulate
from simulator.cli import main
from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario
from simulator.workflows import cluster
from simulator.workflows.cluster import check_versions, engine_cluster
from simulator.workflows.results import versions
from tests.assertions import assert_clean_errors

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

needs_dask = pytest.mark.skipif(cluster.distributed is None,
                                reason='dask[distributed] is not installed (pip install ".[distributed]")')


def small(name="baseline", chunk_paths=32):
    """2,000 loans, 24 paths, 12 months: the scenario with its seed fixed."""
    return load_scenario(SCENARIOS / f"{name}.yaml").with_loans(2000).with_run(
        paths=24, horizon_months=12, seed=17, chunk_paths=chunk_paths)


@pytest.fixture(scope="module")
def reference():
    """The single-process run (all blocks in one call of the kernel)."""
    return simulator.run(small(chunk_paths=24), threads=2)


def assert_same_bits(results, expected):
    assert np.array_equal(results.aggregates, expected.aggregates)
    assert np.array_equal(results.vintages, expected.vintages)
    assert all(np.array_equal(results.central[k], expected.central[k]) for k in expected.central)
    assert results.summary["metrics"] == expected.summary["metrics"]


# ------------------------------------------------------------------ without a cluster, or without dask
def test_no_option_runs_in_this_process():
    with engine_cluster() as map_blocks:
        assert map_blocks is None


def test_both_options_are_refused():
    with pytest.raises(InputError, match="give one of them"):
        with engine_cluster(scheduler="tcp://127.0.0.1:8786", workers=2):
            pass


@pytest.mark.parametrize("option", [["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:8786"]])
def test_options_without_dask_say_how_to_install_it(monkeypatch, tiny_scenario_file, tmp_path, option):
    monkeypatch.setattr(cluster, "distributed", None)
    monkeypatch.setattr(engine_simulate, "engine_compiled", lambda model: False)  # the error comes first
    result = CliRunner().invoke(main, ["run", str(tiny_scenario_file), "--out", str(tmp_path / "out"), *option],
                                catch_exceptions=False)
    assert_clean_errors(result, option[0], 'pip install ".[distributed]"')
    assert not (tmp_path / "out").exists()


class StubClient:
    """Answers ``run`` (each worker) and ``run_on_scheduler`` with the given versions, or raises ``ImportError``."""

    def __init__(self, workers, scheduler=None):
        self.workers, self.scheduler = workers, scheduler or versions()

    def run(self, function):
        return self.workers

    def run_on_scheduler(self, function):
        if self.scheduler == "missing":
            raise ModuleNotFoundError("No module named 'simulator'")
        return self.scheduler


def test_processes_of_other_versions_are_refused():
    same = versions()
    check_versions(StubClient({"tcp://127.0.0.1:40001": same}), "here")
    with pytest.raises(InputError, match="here: tcp://127.0.0.1:40002 runs .*same release"):
        check_versions(StubClient({"tcp://127.0.0.1:40001": same,
                                   "tcp://127.0.0.1:40002": {**same, "numba": "0.1"}}), "here")
    with pytest.raises(InputError, match="here: the scheduler runs .*same release"):
        check_versions(StubClient({"w": same}, {**same, "simulator": "0.0.1"}), "here")
    with pytest.raises(InputError, match="cannot import the simulator .*No module named 'simulator'"):
        check_versions(StubClient({"w": same}, "missing"), "here")


# ------------------------------------------------------------------ a bad scheduler
@needs_dask
@pytest.mark.parametrize("address, says", [
    ("tcp://127.0.0.1:1", "no Dask scheduler answered within 1 s. Start one with `dask scheduler`"),
    ("nonsense", "not a scheduler address"),
])
def test_a_bad_scheduler_address_is_an_input_error(address, says):
    with pytest.raises(InputError) as caught:
        with engine_cluster(scheduler=address, timeout=1):
            pass
    assert f"scheduler={address!r}: {says}" in str(caught.value)


@needs_dask
def test_a_scheduler_without_workers_is_an_input_error():
    with cluster.distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
        with pytest.raises(InputError, match="the scheduler has no workers .* `dask worker"):
            with engine_cluster(scheduler=empty.scheduler_address, timeout=1):
                pass


# ------------------------------------------------------------------ bit-identity
@needs_dask
@pytest.mark.parametrize("workers, chunk_sizes", [(1, (24, 5)), (2, (1, 7)), (3, (11,))])
def test_local_cluster_gives_the_single_process_bits(reference, workers, chunk_sizes):
    with engine_cluster(workers=workers) as map_blocks:
        assert len(map_blocks.client.scheduler_info()["workers"]) == workers
        for chunk in chunk_sizes:
            done = []
            results = simulator.run(small(chunk_paths=chunk), map_blocks=map_blocks, progress=done.append)
            assert_same_bits(results, reference)
            assert sorted(done) == sorted([chunk] * (24 // chunk) + ([24 % chunk] if 24 % chunk else []))


@pytest.fixture(scope="module")
def scheduler():
    """The address of a local cluster of 2 worker processes (each restarted by its nanny if it dies), for
    ``--scheduler``."""
    if cluster.distributed is None:
        pytest.skip('dask[distributed] is not installed (pip install ".[distributed]")')
    with cluster.distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as local:
        yield local.scheduler_address


def dying(map_blocks, marker):
    """A block mapper whose first block kills its worker process (SIGKILL) halfway: test only.

    The first block to start creates ``marker`` (atomically, so exactly one block
    does) and kills the process running it; every later block runs normally.
    """
    def map_dying(function, shared, blocks):
        def block_or_die(*args):
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return function(*args)
            os.kill(os.getpid(), signal.SIGKILL)

        return map_blocks(block_or_die, shared, blocks)

    return map_dying


@needs_dask
def test_a_worker_killed_mid_run_changes_nothing(reference, tmp_path, scheduler):
    marker = tmp_path / "killed"
    with engine_cluster(scheduler=scheduler) as map_blocks:
        first_pids = set(map_blocks.client.run(os.getpid).values())
        results = simulator.run(small(chunk_paths=3), map_blocks=dying(map_blocks, str(marker)))
        assert marker.exists()  # a worker did die, in the middle of a block
        map_blocks.client.wait_for_workers(2, timeout=30)
        assert set(map_blocks.client.run(os.getpid).values()) != first_pids  # and was replaced
    assert_same_bits(results, reference)


# ------------------------------------------------------------------ every simulating command, on one cluster
def cli_bits(tmp_path, command, inputs, *options):
    """Run ``simulate COMMAND INPUTS --out ... OPTIONS`` and return each run directory's aggregates."""
    out = tmp_path / ("out" + "".join(options).replace("/", "_").replace(":", "_"))
    result = CliRunner().invoke(main, [command, *map(str, inputs), "--out", str(out), "--no-plots", "-q",
                                       *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = {}
    for npz in sorted(out.rglob("paths.npz")):
        with np.load(npz) as stored:
            found[str(npz.relative_to(out))] = (stored["aggregates"], stored["vintages"])
    assert found
    return found


def assert_same_files(found, expected):
    assert found.keys() == expected.keys()
    for name in expected:
        assert all(np.array_equal(a, b) for a, b in zip(found[name], expected[name])), name


def small_file(tmp_path, name, chunk_paths):
    data = {"extends": str(SCENARIOS / f"{name}.yaml"), "name": name, "portfolio": {"n_loans": 400},
            "run": {"paths": 6, "horizon_months": 6, "seed": 5, "chunk_paths": chunk_paths}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@needs_dask
def test_run_compare_and_ecl_take_the_cluster_options_with_the_same_bits(tmp_path, scheduler):
    baseline, severe = small_file(tmp_path, "baseline", 4), small_file(tmp_path, "severe_with_actions", 1)
    weighted = tmp_path / "set.yaml"
    weighted.write_text(yaml.safe_dump({"weighted_scenarios": [{"scenario": "baseline.yaml", "weight_pct": 60},
                                                               {"scenario": "severe_with_actions.yaml",
                                                                "weight_pct": 40}]}))
    for command, inputs in (("run", [severe]), ("compare", [baseline, severe]), ("ecl", [weighted])):
        alone = cli_bits(tmp_path / command, command, inputs)
        assert_same_files(cli_bits(tmp_path / command, command, inputs, "--scheduler", scheduler), alone)


@needs_dask
def test_sensitivity_and_reverse_take_the_cluster_options_with_the_same_bits(tmp_path, scheduler):
    """Their base run and run at the breaking severity, and their tables, are the same bits on a cluster."""
    severe = small_file(tmp_path, "severe", 2)
    for command, options, table in (
            ("sensitivity", ["--params", "behaviour.recovery.rate_pct"], "sensitivity.csv"),
            ("reverse", ["--breach", "peak_overdue_rate_90p>0.02", "--range", "0,2", "--tolerance", "0.25",
                         "--paths", "8"],
             "reverse.json")):
        alone = cli_bits(tmp_path / command, command, [severe], *options)
        on_cluster = cli_bits(tmp_path / command, command, [severe], *options, "--scheduler", scheduler)
        assert_same_files(on_cluster, alone)
        texts = [(out / table).read_text() for out in sorted((tmp_path / command).iterdir())]
        if table.endswith(".json"):  # the run's wall time differs
            texts = [{k: v for k, v in json.loads(text).items() if "seconds" not in k} for text in texts]
        assert texts[0] == texts[1]


@needs_dask
@pytest.mark.parametrize("sampling", [{"sampling": "rqmc", "rqmc_points": 8, "tail_sampling": "importance"},
                                      {"sampling": "antithetic"}])
def test_variance_reduced_runs_give_the_same_bits_on_a_cluster(scheduler, sampling):
    """Scrambles and antithetic pairs cut across blocks of 5 paths: still the bits of one block in one process."""
    scenario = small(chunk_paths=5).with_run(**sampling)
    alone = simulator.run(scenario.with_run(chunk_paths=24))
    with engine_cluster(scheduler=scheduler) as map_blocks:
        assert_same_bits(simulator.run(scenario, map_blocks=map_blocks), alone)
