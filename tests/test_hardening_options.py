"""Hostile and careless values on the newer surfaces: options and the numbers inside them, keys a search
may move, standard errors on too few replicates, Dask connections, summed shocks, names, table column types,
degenerate books, YAML booleans, report paths, sensitivity at a bound, and the guide's own commands.

Every refusal is one ``error:`` line per problem, exit code 2, no traceback, nothing written, before any work.
"""
import math
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import main
from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario, scenario_from_dict
from simulator.inputs.options import RUN_CONTROLS, check_integer, check_movable_key, check_real, parse_real
from simulator.model.portfolio import read_tape
from simulator.workflows import cluster
from simulator.workflows.results import paths_for_target, run, target_report
from simulator.workflows.sensitivity import PARAMETERS, sensitivity
from tests.assertions import assert_clean_errors

HOSTILE_NUMBERS = ["nan", "inf", "-inf", "1e400", "-1e400", "true", "1,5", "", "0x10", "1e-400x"]


# ------------------------------------------------------------------ 1. non-finite and extreme option values
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=12),
                 st.integers(min_value=-10 ** 30, max_value=10 ** 30)))
@settings(max_examples=300, deadline=None)
def test_the_option_checks_accept_exactly_the_finite_numbers_in_range(value):
    """Property: check_real returns a finite float in range or raises InputError; check_integer an int in range."""
    try:
        number = check_real("x", value, 0.0, 1.0, low_open=True)
        assert isinstance(number, float) and math.isfinite(number) and 0.0 < number <= 1.0
        assert not isinstance(value, (bool, str))
    except InputError as exc:
        assert len(exc.problems) == 1 and exc.problems[0].startswith("x must be a finite number in (0, 1]")
    try:
        count = check_integer("n", value, 1, 1000)
        assert type(count) is int and 1 <= count <= 1000 and not isinstance(value, bool)
    except InputError as exc:
        assert exc.problems[0].startswith("n must be an integer from 1 to 1000")


@pytest.mark.parametrize("text", HOSTILE_NUMBERS)
def test_parse_real_refuses_hostile_text_quoting_what_was_written(text):
    with pytest.raises(InputError) as info:
        parse_real(text, "--tolerance", 0.0, low_open=True)
    assert repr(text)[:20] in info.value.problems[0] or text == ""


RUN = ["run", "scenarios/baseline.yaml"]
REVERSE = ["reverse", "scenarios/baseline.yaml", "--shocks-from", "scenarios/severe.yaml", "--breach", "liquidity"]


@pytest.mark.parametrize("args, says", [
    (RUN + ["--paths", "nan"], "--paths must be an integer"),
    (RUN + ["--paths", "1e3"], "--paths must be an integer"),
    (RUN + ["--paths", "2000000"], "--paths must be an integer from 1 to 1000000"),
    (RUN + ["--max-paths", "0"], "--max-paths"),
    (RUN + ["--max-paths", "99999999999"], "--max-paths"),
    (RUN + ["--threads", "100000"], "--threads"),
    (RUN + ["--loans", "-5"], "--loans"),
    (RUN + ["--loans", "1e9"], "--loans"),
    (RUN + ["--seed", "true"], "--seed"),
    (RUN + ["--workers", "10000"], "--workers must be a number of worker processes from 1 to"),
    (RUN + ["--target-se", "cumulative_loss_rate=nan"], "--target-se cumulative_loss_rate must be a finite"),
    (RUN + ["--target-se", "cumulative_loss_rate=inf"], "--target-se cumulative_loss_rate"),
    (RUN + ["--target-se", "cumulative_loss_rate=-1"], "--target-se cumulative_loss_rate"),
    (RUN + ["--target-se", "cumulative_loss_rate"], "--target-se cumulative_loss_rate"),
    (REVERSE + ["--tolerance", "nan"], "--tolerance must be a finite number > 0"),
    (REVERSE + ["--tolerance", "inf"], "--tolerance"),
    (REVERSE + ["--tolerance", "1e-300"], "--tolerance: the width must be at least"),
    (REVERSE + ["--probability", "nan"], "--probability"),
    (REVERSE + ["--probability", "1.5"], "--probability"),
    (REVERSE + ["--within", "0"], "--within"),
    (REVERSE + ["--range", "0,inf"], "--range"),
    (REVERSE + ["--range", "nan,1"], "--range"),
    (["reverse", "scenarios/baseline.yaml", "--breach", "cumulative_loss_rate>1e400"], "the threshold must be a "
                                                                                        "finite number"),
    (["reverse", "scenarios/baseline.yaml", "--breach", "cumulative_loss_rate>-1e999"], "the threshold"),
    (["sensitivity", "scenarios/baseline.yaml", "--step", "nan%"], "--step"),
    (["sensitivity", "scenarios/baseline.yaml", "--step", "inf%"], "--step"),
    (["calibrate", "scenarios/sample_history.parquet", "--bootstrap", "1e12"], "--bootstrap"),
    (["calibrate", "scenarios/sample_history.parquet", "--holdout-months", "99999"], "--holdout-months"),
    (["validate-model", "--threads", "0"], "--threads"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_hostile_option_values_are_one_line_errors_before_any_work(tmp_path, args, says):
    started = time.perf_counter()
    result = CliRunner().invoke(main, args + ["--out" if args[0] != "validate-model" else "-o",
                                              str(tmp_path / ("out" if args[0] != "validate-model" else "v.pdf"))])
    assert time.perf_counter() - started < 20  # refused before the work, not after it
    lines = [line for line in result.stderr.splitlines() if not line.startswith("compiling")]
    assert result.exit_code == 2, (result.stderr, result.exception)
    assert "Traceback" not in result.stderr and lines and all(line.startswith("error: ") for line in lines)
    assert says in result.stderr
    assert not list(tmp_path.iterdir())


def test_python_parameters_are_checked_and_named_as_given(tiny_scenario):
    for kwargs, says in (({"paths": 0}, "paths must be"), ({"paths": True}, "paths must be"),
                         ({"threads": 10 ** 9}, "threads must be"), ({"seed": -1}, "seed must be"),
                         ({"max_paths": 2.5}, "max_paths must be"), ({"loans": float("nan")}, "loans must be")):
        with pytest.raises(InputError, match=says):
            run(tiny_scenario, **kwargs)
    for target in (float("nan"), float("inf"), 0.0, True):
        with pytest.raises(InputError, match="a positive, finite standard error"):
            run(tiny_scenario, target_se={"cumulative_loss_rate": target})


def test_a_tiny_target_reaches_the_cap_without_overflow(tiny_scenario):
    """A target of 1e-200 asked 1e400 paths in a float and overflowed; now the cap is reached and reported."""
    results = run(tiny_scenario.with_run(sampling="mc"), paths=8, target_se={"cumulative_loss_rate": 1e-200},
                  max_paths=16)
    assert results.scenario.run.paths == 16
    assert results.summary["target_se"]["metrics"]["cumulative_loss_rate"]["met"] is False
    assert paths_for_target(results, 16) == 16


# ------------------------------------------------------------------ 2. keys that make no sense to scale
@pytest.mark.parametrize("key", ["run.paths", "run.horizon_months", "run.seed", "run.chunk_paths", "run.threads",
                                 "run.rqmc_points", "portfolio.seed", "portfolio.n_loans", "name", "seed", "paths"])
def test_run_controls_are_refused_as_keys_to_move(key):
    with pytest.raises(InputError, match=f"got '{key}'"):
        check_movable_key(key)
    result = CliRunner().invoke(main, ["reverse", "scenarios/baseline.yaml", "--shock", key, "--range", "10,40",
                                       "--breach", "liquidity"])
    assert_clean_errors(result, "a model or economy parameter")
    result = CliRunner().invoke(main, ["sensitivity", "scenarios/baseline.yaml", "--params", key])
    assert_clean_errors(result, "a model or economy parameter")


def test_no_sensitivity_parameter_is_a_run_control():
    for key in PARAMETERS:
        check_movable_key(key, "--params")
    assert all(not key.startswith(tuple(c + "." for c in RUN_CONTROLS)) for key in PARAMETERS)


# ------------------------------------------------------------------ 3. standard errors from too few replicates
def test_one_path_has_no_standard_error_and_no_target_is_met_on_too_few_replicates(tiny_scenario):
    one = run(tiny_scenario.with_run(sampling="mc"), paths=1, seed=3)
    assert one.summary["metrics"]["cumulative_loss_rate"]["se"] is None
    metrics = {"cumulative_loss_rate": {"se": 1e-9}}
    targets = {"targets": {"cumulative_loss_rate": 1.0}, "max_paths": 64}
    assert target_report(metrics, targets, n_replicates=7)["all_met"] is False
    assert target_report(metrics, targets, n_replicates=8)["all_met"] is True


def test_a_target_is_not_met_after_one_or_two_paths(tiny_scenario):
    results = run(tiny_scenario.with_run(sampling="mc"), paths=2, target_se={"cumulative_loss_rate": 10.0},
                  max_paths=32)
    assert results.scenario.run.paths >= 8  # paths were added until the error rests on 8 replicates
    assert results.summary["target_se"]["all_met"] is True


def test_reverse_refuses_fewer_paths_than_an_interval_needs():
    result = CliRunner().invoke(main, REVERSE + ["--paths", "1"])
    assert_clean_errors(result, "paths must be at least 8")


# ------------------------------------------------------------------ 4. Dask options
@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers (stopped after the test)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.skipif(cluster.distributed is None, reason="the distributed extra is not installed")
def test_a_port_that_accepts_and_never_answers_fails_within_the_connect_limit(silent_port, tmp_path):
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["run", "scenarios/baseline.yaml", "--paths", "8", "--scheduler",
                                       f"tcp://127.0.0.1:{silent_port}", "--out", str(tmp_path / "out")])
    seconds = time.perf_counter() - started
    assert seconds < cluster.CONNECT_SECONDS + 5, seconds
    lines = [line for line in result.stderr.splitlines() if not line.startswith("compiling")]
    assert result.exit_code == 2 and len(lines) == 1 and "no Dask scheduler answered within 10 s" in lines[0]
    assert not (tmp_path / "out").exists()


@given(st.integers(min_value=-10 ** 6, max_value=10 ** 9) | st.booleans() | st.floats())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_workers_are_bounded_by_the_machine(workers):
    try:
        cluster.check_workers("--workers", workers)
    except InputError as exc:
        assert exc.problems[0].startswith("--workers must be a number of worker processes from 1 to")
    else:
        assert type(workers) is int and 1 <= workers <= cluster.WORKERS_PER_CORE * (cluster.os.cpu_count() or 1)


@pytest.mark.skipif(cluster.distributed is None, reason="the distributed extra is not installed")
def test_losing_the_scheduler_mid_run_is_one_line_with_the_retry_story(tmp_path):
    """A real scheduler and worker in subprocesses; the scheduler is killed while blocks are running."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0", "--no-show"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**__import__("os").environ, "PYTHONPATH": str(Path.cwd())})
    try:
        command = subprocess.Popen([sys.executable, "-m", "simulator.cli", "run", "scenarios/baseline.yaml",
                                    "--paths", "4000", "--scheduler", address, "--out", str(tmp_path / "out"),
                                    "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**__import__("os").environ, "PYTHONPATH": str(Path.cwd())})
        time.sleep(25)  # connected and computing (the first blocks take seconds each)
        scheduler.kill()
        _, stderr = command.communicate(timeout=120)
    finally:
        for process in (scheduler, worker):
            process.kill()
            process.wait(30)
    lines = stderr.strip().splitlines()
    assert command.returncode == 1, stderr
    assert "Traceback" not in stderr and len(lines) == 1, stderr
    assert "the Dask scheduler was lost in the middle of the run" in lines[0] and "same bits" in lines[0]
    assert not (tmp_path / "out").exists()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------ 5. combinations that pass field by field
def _with_shocks(shocks):
    data = yaml.safe_load(open("scenarios/baseline.yaml"))
    data["macro"]["shocks"] = shocks
    return data


@pytest.mark.parametrize("variable, sizes, says", [
    ("income_growth", [-60, -60], "above -100"), ("unemployment", [60, 60], "from 0 to 100"),
    ("unemployment", [-4, -4], "from 0 to 100"), ("policy_rate", [-8, -8], "from -10 to 100"),
])
def test_shocks_whose_sum_leaves_the_meaningful_range_are_refused_naming_them(tmp_path, variable, sizes, says):
    shocks = [{"variable": variable, "shape": "step", "start_month": 1 + i, "size_pp": size}
              for i, size in enumerate(sizes)]
    path = tmp_path / "summed.yaml"
    path.write_text(yaml.safe_dump(_with_shocks(shocks)))
    load_scenario(path)  # each shock is valid on its own
    for args in (["validate", str(path)], ["run", str(path), "--paths", "8", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, args)
        lines = [line for line in result.stderr.splitlines() if not line.startswith("compiling")]
        assert result.exit_code == 2 and len(lines) == 1, result.stderr
        assert says in lines[0] and "macro.shocks[0]" in lines[0] and "macro.shocks[1]" in lines[0]
    assert not (tmp_path / "out").exists()


@given(st.lists(st.floats(min_value=-100, max_value=100), min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_income_growth_shock_sums_property(sizes):
    """Property: a scenario validates through the summed-path check exactly when the summed path stays above -100."""
    from simulator.model.macro import check_macro_paths, central_path
    shocks = [{"variable": "income_growth", "shape": "step", "start_month": 1, "size_pp": size} for size in sizes]
    scenario = scenario_from_dict(_with_shocks(shocks), source="property")
    level = central_path(scenario.macro, scenario.run.horizon_months)["income_growth"]
    if level.min() > -100 and level.max() <= 100:
        check_macro_paths(scenario)
    else:
        with pytest.raises(InputError, match="once the shocks are summed"):
            check_macro_paths(scenario)


def test_reverse_refuses_a_range_whose_severe_end_is_meaningless(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(yaml.safe_dump(_with_shocks([
        {"variable": "income_growth", "shape": "step", "start_month": 1, "size_pp": -40},
        {"variable": "income_growth", "shape": "step", "start_month": 2, "size_pp": -30}])))
    result = CliRunner().invoke(main, ["reverse", "scenarios/baseline.yaml", "--shocks-from", str(path),
                                       "--breach", "cumulative_loss_rate>0.05", "--range", "0,2", "--paths", "8",
                                       "--out", str(tmp_path / "out")])
    assert_clean_errors(result, "once the shocks are summed", "narrow --range")


# ------------------------------------------------------------------ 6. names used as something else
@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "x" * 300, ".hidden", "a\\b", "tab\there"])
def test_a_scenario_name_is_a_name_not_a_path(tmp_path, name):
    data = yaml.safe_load(open("scenarios/baseline.yaml"))
    data["name"] = name
    path = tmp_path / "named.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert_clean_errors(result, "name must be a name of 1 to 100 characters")


def test_the_segment_name_all_is_reserved(tmp_path):
    data = yaml.safe_load(open("scenarios/baseline.yaml"))
    data["portfolio"]["segments"][0]["name"] = "all"
    path = tmp_path / "all.yaml"
    path.write_text(yaml.safe_dump(data))
    assert_clean_errors(CliRunner().invoke(main, ["validate", str(path)]), "segments[0].name must be not 'all'")


@pytest.mark.parametrize("out", ["x" * 300, "a/" + "y" * 250 + "/b"])
def test_a_long_out_is_an_input_error_before_any_work(tmp_path, out):
    result = CliRunner().invoke(main, ["run", "scenarios/baseline.yaml", "--out", str(tmp_path / out)])
    assert_clean_errors(result, "--out: each part of the path must be at most 200 bytes")


# ------------------------------------------------------------------ 7. and 8. table column types, degenerate books
@pytest.fixture
def tape():
    return pd.read_csv("scenarios/sample_tape.csv")


def _read(frame, tmp_path, suffix):
    path = tmp_path / f"tape{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    scenario = load_scenario("scenarios/tape_example.yaml")
    return read_tape(path, scenario.portfolio, 0.05, 1)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("column, make", [
    ("remaining_term", lambda c: c > 10), ("balance", lambda c: c > 0), ("dpd", lambda c: c > 0),
    ("income", lambda c: c > 0),
])
def test_boolean_columns_are_refused_with_the_column_named(tape, tmp_path, suffix, column, make):
    frame = tape.copy()
    frame[column] = make(frame[column] if column in frame else frame["balance"])
    with pytest.raises(InputError, match=f"column '{column}' must be numbers; got (True|False) \\(booleans\\)"):
        _read(frame, tmp_path, suffix)


@pytest.mark.parametrize("make, kind", [(lambda c: [[1.0, 2.0]] * len(c), "ndarray"), (lambda c: c.astype(str), "str")])
def test_list_and_text_columns_in_parquet_are_refused(tape, tmp_path, make, kind):
    frame = tape.copy()
    frame["balance"] = make(frame["balance"])
    with pytest.raises(InputError, match=f"column 'balance' must be numbers; got .* \\({kind}\\) in data row 1"):
        _read(frame, tmp_path, ".parquet")


def test_a_book_of_zero_balances_is_refused(tape, tmp_path):
    frame = tape.copy()
    frame["balance"] = 0.0
    with pytest.raises(InputError, match="above 0 for at least one loan"):
        _read(frame, tmp_path, ".parquet")


def test_a_history_with_a_boolean_balance_is_refused(tmp_path):
    from simulator.inputs.history import read_history
    frame = pd.read_parquet("scenarios/sample_history.parquet")
    frame["balance"] = frame["balance"] > 0
    path = tmp_path / "history.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError, match="column 'balance' must be numbers"):
        read_history(path)


# ------------------------------------------------------------------ 9. YAML booleans in numeric fields
@pytest.mark.parametrize("edit", [
    lambda d: d["run"].update(rqmc_points=True),
    lambda d: d["macro"].setdefault("cycle", {}).update(start=True),
    lambda d: d.setdefault("behaviour", {}).update(chargeoff_dpd=True),
    lambda d: d.setdefault("provisioning", {}).setdefault("ifrs9", {}).update(stage2_after_dpd=False),
    lambda d: d["macro"].update(shocks=[{"variable": "unemployment", "shape": "path", "levels_pct": [True, 6.0]}]),
], ids=["rqmc_points", "cycle.start", "chargeoff_dpd", "stage2_after_dpd(Literal 0)", "levels_pct item"])
def test_yaml_booleans_are_refused_in_every_kind_of_number_field(tmp_path, edit):
    data = yaml.safe_load(open("scenarios/baseline.yaml"))
    data.setdefault("run", {})
    edit(data)
    path = tmp_path / "booleans.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert_clean_errors(result)
    assert "'true'" in result.stderr or "'false'" in result.stderr


# ------------------------------------------------------------------ 10. reports half-written
def test_validate_model_refuses_a_directory_in_place_of_the_markdown_twin(tmp_path):
    (tmp_path / "out.md").mkdir()
    result = CliRunner().invoke(main, ["validate-model", "--quick", "-o", str(tmp_path / "out.pdf")])
    assert_clean_errors(result, "out.md: is a directory")
    assert not (tmp_path / "out.pdf").exists()


def test_validate_model_refuses_a_baseline_too_short_for_the_stationarity_check(tmp_path):
    data = yaml.safe_load(open("scenarios/baseline.yaml"))
    data["run"]["horizon_months"] = 12
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["validate-model", "--quick", "--baseline", str(path), "--stress", str(path),
                                       "-o", str(tmp_path / "v.pdf")])
    assert_clean_errors(result, "run.horizon_months must be at least 36")
    assert not list(tmp_path.glob("v.*"))


# ------------------------------------------------------------------ 11. sensitivity of a parameter that cannot move
def test_a_willingness_of_100_percent_is_skipped_saying_why(tiny_scenario):
    data = tiny_scenario.model_dump(mode="json")
    data["behaviour"]["structural"]["willingness"] = {key: 100.0 for key in
                                                      data["behaviour"]["structural"]["willingness"]}
    scenario = scenario_from_dict(data, source="willing")
    result = sensitivity(scenario, params=["behaviour.structural.willingness", "behaviour.recovery.rate_pct"],
                         paths=4, seed=1)
    skipped = {s["parameter"]: s["reason"] for s in result.settings["skipped"]}
    assert "a relative step cannot move" in skipped["behaviour.structural.willingness"]
    assert [p["parameter"] for p in result.settings["parameters"]] == ["behaviour.recovery.rate_pct"]


# ------------------------------------------------------------------ the guide's commands with hostile values
GUIDE = Path("docs/guide.md").read_text()
HOSTILE_RUNS = [
    ["run", "scenarios/severe.yaml", "--paths", "1e400"],
    ["run", "scenarios/severe.yaml", "--paths", "256", "--target-se", "cumulative_loss_rate=1e400"],
    ["run", "scenarios/severe.yaml", "--paths", "256", "--target-se", "cumulative_loss_rate=nan"],
    ["run", "scenarios/severe.yaml", "--paths", "1000", "--seed", "-7"],
    ["run", "scenarios/baseline.yaml", "--loans", "inf", "--threads", "2"],
    ["run", "scenarios/severe.yaml", "--workers", "100000"],
    ["run", "scenarios/severe.yaml", "--out", "runs/" + "n" * 400],
    ["compare", "scenarios/baseline.yaml", "scenarios/severe.yaml", "--paths", "-200"],
    ["sensitivity", "scenarios/severe.yaml", "--step", "nan%"],
    ["sensitivity", "scenarios/severe.yaml", "--params", "run.paths"],
    ["reverse", "scenarios/baseline.yaml", "--shocks-from", "scenarios/severe.yaml", "--breach", "liquidity",
     "--tolerance", "nan"],
    ["reverse", "scenarios/baseline.yaml", "--shocks-from", "scenarios/severe.yaml", "--breach", "liquidity",
     "--paths", "1"],
    ["reverse", "scenarios/baseline.yaml", "--breach", "cumulative_loss_rate>1e400"],
    ["reverse", "scenarios/baseline.yaml", "--shock", "run.horizon_months", "--range", "6,40", "--breach",
     "liquidity"],
    ["validate-model", "-o", "validation.md"],
    ["ecl", "scenarios/ifrs9_weighted.yaml", "--paths", "0"],
]


@pytest.mark.parametrize("args", HOSTILE_RUNS, ids=lambda args: " ".join(args)[:60])
def test_the_guides_commands_with_hostile_values_end_in_one_line_exit_2(tmp_path, args):
    assert f"simulate {args[0]}" in GUIDE  # the command is one the guide shows
    command = [sys.executable, "-m", "simulator.cli", *args]
    if "--out" not in args and args[0] not in ("validate-model",):
        command += ["--out", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=Path.cwd(),
                          env={**__import__("os").environ, "PYTHONPATH": str(Path.cwd())})
    lines = [line for line in done.stderr.splitlines() if not line.startswith("compiling")]
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(lines) >= 1 and all(line.startswith("error: ") for line in lines)
    assert not (tmp_path / "out").exists()


@pytest.fixture
def tiny_scenario(tiny_scenario_file):
    """The conftest's tiny scenario (4 paths x 6 months x 200 loans), loaded."""
    return load_scenario(tiny_scenario_file)



def test_report_output_is_checked_before_any_work(tmp_path):
    """``simulate report -o`` refuses a file name too long for the system before it reads any run."""
    long_name = tmp_path / ("b" * 300 + ".pdf")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "no-such-run"), "-o", str(long_name)])
    assert result.exit_code == 2, result.output
    assert "at most 200 bytes" in result.output and "no-such-run" not in result.output
    assert "Traceback" not in result.output


def test_a_boolean_series_column_is_refused(tmp_path):
    """A Parquet series whose value column is booleans is refused with the column named, not read as 0/1."""
    from simulator.inputs.series import read_series
    path = tmp_path / "series.parquet"
    pd.DataFrame({"date": pd.date_range("2007-01-01", periods=6, freq="MS"), "UNRATE": [True, False] * 3}) \
        .to_parquet(path)
    with pytest.raises(InputError, match="column 'UNRATE' must be numbers; got True"):
        read_series(path, "UNRATE")
