"""The ``simulate`` command line: help, validate, run and the run directory contract
(:meth:`simulator.workflows.results.Results.write_files`).

Input problems exit with code 2 and one ``error: `` line per problem on stderr,
never a traceback; ``run`` writes its directory atomically.
"""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import simulator
import simulator.workflows.results
from simulator.accounts.metrics import PROBABILITY_METRICS, format_value
from simulator.cli import main
from simulator.inputs.loader import load_scenario
from tests.assertions import assert_clean_errors

HEADLINE = ("peak_overdue_rate_1_30", "peak_overdue_rate_31_90", "peak_overdue_rate_90p",
            "final_overdue_rate_1_30", "final_overdue_rate_31_90", "final_overdue_rate_90p",
            "cumulative_loss_rate", "total_collections_shortfall", "min_liquidity_buffer", "peak_provision_requirement")
STATS = ("mean", "p01", "p05", "p50", "p95", "p99", "se")
TAIL = ("loss_var_99", "loss_es_99", "loss_var_999", "loss_es_999")
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
RUN_FILES = ("summary.json", "timeseries.csv", "timeseries.parquet", "paths.npz", "scenario.resolved.yaml")


@pytest.fixture
def cli():
    """``cli(*args) -> click Result`` with stdout and stderr kept apart; exceptions propagate."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def simulate_command():
    """The installed console script next to this interpreter, else ``python -m simulator.cli``."""
    script = Path(sys.executable).with_name("simulate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "simulator.cli"]


def siblings(directory, *keep):
    """Names in ``directory`` other than ``keep`` (leftover run or staging directories)."""
    return sorted(p.name for p in Path(directory).iterdir() if p.name not in keep)


def read_summary(run_dir):
    return json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------ help
@pytest.mark.parametrize("command", [None] + sorted(main.commands))
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"simulate {command or ''}".strip() in result.stdout


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert simulator.__version__ in result.stdout


# -------------------------------------------------------------------- validate
def test_validate_good_file(cli, tiny_scenario_file, tiny_scenario_dict):
    result = cli("validate", tiny_scenario_file)
    assert result.exit_code == 0, result.stderr
    shocks = len(tiny_scenario_dict["macro"].get("shocks", []))
    assert result.stdout == (f"{tiny_scenario_file}: ok (structural model, 200 synthetic loans, 4 paths, "
                             f"6 months, {shocks} shocks)\n")
    assert result.stderr == ""


def test_validate_shipped_scenario(cli):
    path = Path(__file__).resolve().parents[1] / "scenarios" / "severe.yaml"
    result = cli("validate", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{path}: ok (structural model, ")
    assert f"{len(load_scenario(path).macro.shocks)} shocks)" in result.stdout


def test_validate_syntax_error(cli, write_yaml):
    path = write_yaml("run:\n  paths: [1, 2\nportfolio: {}\n", "broken.yaml")
    result = cli("validate", path)
    assert_clean_errors(result, f"error: {path.resolve()}: YAML syntax error at line 3, column 10")


def test_validate_unknown_key(cli, write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["run"]["horizon_month"] = 12
    path = write_yaml(tiny_scenario_dict)
    result = cli("validate", path)
    assert_clean_errors(result)
    assert result.stderr == f"error: {path}: unknown key 'run.horizon_month'. Did you mean 'horizon_months'?\n"


def test_validate_missing_file(cli, tmp_path):
    path = tmp_path / "absent.yaml"
    result = cli("validate", path)
    assert_clean_errors(result, f"error: {path.resolve()}: file not found.")


def test_validate_reports_every_problem_on_its_own_line(cli, write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["run"].update(paths=0, horizon_months=500)
    tiny_scenario_dict["portfolio"]["segments"][0]["share_pct"] = -3
    path = write_yaml(tiny_scenario_dict)
    result = cli("validate", path)
    assert_clean_errors(result, "run.paths must be", "run.horizon_months must be",
                        "portfolio.segments[0].share_pct must be")
    assert len(result.stderr.splitlines()) == 3


def test_console_script_exit_codes(tmp_path, tiny_scenario_file, write_yaml, tiny_scenario_dict):
    """A real process: exit codes and stderr as a shell sees them."""
    tiny_scenario_dict["run"]["pathz"] = 4
    bad = write_yaml(tiny_scenario_dict, "bad.yaml")
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    good = subprocess.run(simulate_command() + ["validate", str(tiny_scenario_file)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert good.returncode == 0, good.stderr
    assert ": ok (" in good.stdout
    failed = subprocess.run(simulate_command() + ["validate", str(bad)],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr == f"error: {bad}: unknown key 'run.pathz'. Did you mean 'paths'?\n"


# ------------------------------------------------------------------------- run
@pytest.fixture
def run_dir(cli, tiny_scenario_file, tmp_path):
    """A run directory written by ``simulate run`` on the tiny scenario (plots included)."""
    out = tmp_path / "runs" / "tiny"
    result = cli("run", tiny_scenario_file, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert f"run directory: {out}" in result.stdout
    return out


def test_run_writes_the_run_directory(run_dir):
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
        assert (run_dir / name).stat().st_size > 0, name
    plots = sorted((run_dir / "plots").glob("*.png"))
    assert plots
    for png in plots:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert siblings(run_dir.parent) == ["tiny"]


def test_summary_json_contract(run_dir, tiny_scenario_dict):
    summary = read_summary(run_dir)
    seed = tiny_scenario_dict["run"]["seed"]
    for key in ("scenario", "seed", "paths", "loans", "horizon_months", "versions", "wall_seconds", "metrics"):
        assert key in summary, key
    assert summary["scenario"] == tiny_scenario_dict["name"]
    assert (summary["seed"], summary["paths"], summary["loans"], summary["horizon_months"]) == (seed, 4, 200, 6)
    assert {"simulator", "numpy", "numba"} <= set(summary["versions"])
    assert summary["wall_seconds"] >= 0
    metrics = summary["metrics"]
    for name in HEADLINE:
        assert set(STATS) <= set(metrics[name]), name
        values = metrics[name]
        assert all(math.isfinite(values[s]) for s in STATS), name
        assert values["p05"] <= values["p50"] <= values["p95"] <= values["p99"], name
        assert values["se"] >= 0
    for name in TAIL:
        assert set(metrics[name]) >= {"value", "se"}, name
    for name in HEADLINE:
        if "overdue_rate" in name or name == "cumulative_loss_rate":
            assert -1.0 <= metrics[name]["mean"] <= 1.0, name


def test_timeseries_and_paths_files(run_dir, tiny_scenario_dict):
    csv = pd.read_csv(run_dir / "timeseries.csv")
    parquet = pd.read_parquet(run_dir / "timeseries.parquet")
    assert list(csv.columns) == ["month", "metric", "segment", *STATS]
    assert sorted(csv["month"].unique()) == list(range(7))
    assert len(csv) == len(parquet)
    assert list(csv["metric"]) == list(parquet["metric"])
    np.testing.assert_allclose(csv["mean"], parquet["mean"], rtol=1e-12, equal_nan=True)
    with np.load(run_dir / "paths.npz") as npz:
        assert npz["aggregates"].shape[:2] == (4, 7)
        assert npz["aggregates"].shape[2] == len(npz["metric_names"])
        assert int(npz["seed"]) == tiny_scenario_dict["run"]["seed"]
        assert npz["segment_aggregates"].shape == (4, 7, len(npz["segment_names"]), len(npz["metric_names"]))


def test_resolved_scenario_reproduces_the_run(cli, write_yaml, tiny_scenario_dict, tmp_path):
    """Without a seed in the file one is drawn; the resolved scenario stores it and reruns to the same numbers."""
    del tiny_scenario_dict["run"]["seed"]
    path = write_yaml(tiny_scenario_dict, "unseeded.yaml")
    first = tmp_path / "first"
    assert cli("run", path, "--out", first, "--no-plots", "--loans", 150).exit_code == 0
    resolved = first / "scenario.resolved.yaml"
    scenario = load_scenario(resolved)
    summary = read_summary(first)
    assert isinstance(summary["seed"], int)
    assert scenario.run.seed == summary["seed"]
    assert scenario.portfolio.n_loans == 150
    assert yaml.safe_load(resolved.read_text())["run"]["seed"] == summary["seed"]

    second = tmp_path / "second"
    assert cli("run", resolved, "--out", second, "--no-plots").exit_code == 0
    again = read_summary(second)
    assert again["metrics"] == summary["metrics"]
    for key in ("scenario", "seed", "paths", "loans", "horizon_months"):
        assert again[key] == summary[key], key


def test_overrides_show_in_summary(cli, tiny_scenario_file, tmp_path):
    out = tmp_path / "out"
    result = cli("run", tiny_scenario_file, "--out", out, "--paths", 3, "--seed", 11, "--loans", 150, "--no-plots")
    assert result.exit_code == 0, result.stderr
    summary = read_summary(out)
    assert (summary["paths"], summary["seed"], summary["loans"]) == (3, 11, 150)
    resolved = load_scenario(out / "scenario.resolved.yaml")
    assert (resolved.run.paths, resolved.run.seed, resolved.portfolio.n_loans) == (3, 11, 150)
    assert not (out / "plots").exists()
    assert f"scenario {resolved.name}: 3 paths x 150 loans x 6 months, seed 11" in result.stdout


def test_quiet_prints_nothing(cli, tiny_scenario_file, tmp_path):
    out = tmp_path / "out"
    result = cli("run", tiny_scenario_file, "--out", out, "--quiet", "--no-plots")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert (out / "summary.json").is_file()


def test_default_out_is_runs_slash_scenario_name(cli, tiny_scenario_file, tiny_scenario_dict, tmp_path,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("run", tiny_scenario_file, "--quiet", "--no-plots")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "runs" / tiny_scenario_dict["name"] / "summary.json").is_file()


def test_rerun_replaces_a_run_directory(cli, tiny_scenario_file, tmp_path):
    out = tmp_path / "runs" / "tiny"
    assert cli("run", tiny_scenario_file, "--out", out, "-q", "--no-plots").exit_code == 0
    assert cli("run", tiny_scenario_file, "--out", out, "-q", "--no-plots", "--seed", 5).exit_code == 0
    assert read_summary(out)["seed"] == 5
    assert siblings(out.parent) == ["tiny"]


def test_run_bad_scenario_leaves_no_directory(cli, write_yaml, tiny_scenario_dict, tmp_path):
    tiny_scenario_dict["run"]["paths"] = 0
    path = write_yaml(tiny_scenario_dict, "bad.yaml")
    runs = tmp_path / "runs"
    runs.mkdir()
    result = cli("run", path, "--out", runs / "bad")
    assert_clean_errors(result, f"error: {path}: run.paths must be greater than or equal to 1; got 0.")
    assert siblings(runs) == []
    assert siblings(tmp_path, "runs") == ["bad.yaml"]


def test_run_bad_tape_leaves_no_directory(cli, write_yaml, tiny_scenario_dict, tmp_path):
    (tmp_path / "tape.csv").write_text("balance,annual_rate_pct,remaining_term,dpd\n-1,12,6,0\n")
    tiny_scenario_dict["portfolio"].update(source="tape", tape="tape.csv")
    path = write_yaml(tiny_scenario_dict, "tape.yaml")
    result = cli("run", path, "--out", tmp_path / "runs" / "tape")
    assert_clean_errors(result, "column 'balance' must be a finite number in [0, 1e+12]")
    assert not (tmp_path / "runs").exists() or siblings(tmp_path / "runs") == []


def test_failure_while_writing_leaves_no_directory(cli, tiny_scenario_file, tmp_path, monkeypatch):
    def broken_write(self, directory, plots, lang):
        (directory / "summary.json").write_text("{}")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(simulator.workflows.results.Results, "write_files", broken_write)
    runs = tmp_path / "runs"
    with pytest.raises(RuntimeError, match="disk on fire"):
        cli("run", tiny_scenario_file, "--out", runs / "tiny", "-q")
    assert siblings(runs) == []


def test_failure_while_writing_keeps_the_previous_run(cli, tiny_scenario_file, tmp_path, monkeypatch):
    out = tmp_path / "runs" / "tiny"
    assert cli("run", tiny_scenario_file, "--out", out, "-q", "--no-plots").exit_code == 0
    before = (out / "summary.json").read_text()

    def broken_write(self, directory, plots, lang):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(simulator.workflows.results.Results, "write_files", broken_write)
    with pytest.raises(RuntimeError):
        cli("run", tiny_scenario_file, "--out", out, "-q", "--seed", 5)
    assert (out / "summary.json").read_text() == before
    assert siblings(out.parent) == ["tiny"]


def test_out_must_not_be_an_existing_non_run_directory(cli, tiny_scenario_file, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = cli("run", tiny_scenario_file, "--out", out, "--no-plots")
    assert_clean_errors(result)
    assert result.stderr == (f"error: {out}: exists and is not a run directory. Choose another --out "
                             "or remove it first.\n")
    assert siblings(out) == ["notes.txt"]
    assert siblings(tmp_path, "precious", "tiny.yaml") == []


def test_out_is_checked_before_simulating(cli, tiny_scenario_file, tmp_path, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("simulated before refusing --out")

    monkeypatch.setattr(simulator.workflows.results, "run", must_not_run)
    (tmp_path / "precious").mkdir()
    result = cli("run", tiny_scenario_file, "--out", tmp_path / "precious")
    assert result.exit_code == 2


def test_out_pointing_at_a_file_is_refused(cli, tiny_scenario_file, tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    result = cli("run", tiny_scenario_file, "--out", target)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert target.read_text() == "x"


LIBRARY_AND_CLI_MESSAGES = {
    "loans on a tape": (
        dict(loans=100), ["--loans", 100],
        "loans= resizes a synthetic book; this scenario reads a loan tape. Drop loans= or use a synthetic portfolio.",
        "--loans resizes a synthetic book; this scenario reads a loan tape. Drop --loans or use a synthetic "
        "portfolio."),
    "unknown target metric": (
        dict(target_se={"loss_var_95": 0.01}), ["--target-se", "loss_var_95=0.01"],
        "target_se['loss_var_95'] must be a metric of summary.json; got 'loss_var_95'.",
        "--target-se loss_var_95 must be a metric of summary.json; got 'loss_var_95'."),
    "cap below the first batch": (
        dict(paths=8, target_se={"cumulative_loss_rate": 0.001}, max_paths=4),
        ["--paths", 8, "--target-se", "cumulative_loss_rate=0.001", "--max-paths", 4],
        "max_paths= must be at least the first batch (8); got 4. Raise max_paths= or lower paths=.",
        "--max-paths must be at least the first batch (8); got 4. Raise --max-paths or lower --paths."),
}


@pytest.mark.parametrize("case", LIBRARY_AND_CLI_MESSAGES)
def test_library_names_the_parameter_and_the_cli_the_option(cli, write_yaml, tiny_scenario_dict, tmp_path, case):
    """The same refusal tells a Python caller of :func:`simulator.run` the parameter and ``simulate run`` its
    option."""
    keywords, options, library_says, cli_says = LIBRARY_AND_CLI_MESSAGES[case]
    if "loans" in keywords:
        (tmp_path / "tape.csv").write_text("balance,annual_rate_pct,remaining_term,dpd\n1000,12,6,0\n")
        tiny_scenario_dict["portfolio"].update(source="tape", tape="tape.csv")
    path = write_yaml(tiny_scenario_dict, "scenario.yaml")
    with pytest.raises(simulator.InputError) as caught:
        simulator.run(path, **keywords)
    assert len(caught.value.problems) == 1 and library_says in caught.value.problems[0]
    assert "--" not in caught.value.problems[0]
    result = cli("run", path, *options, "--out", tmp_path / "out")
    assert_clean_errors(result, cli_says)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--paths", "--loans"])
def test_non_positive_overrides_are_usage_errors(cli, tiny_scenario_file, tmp_path, option):
    result = cli("run", tiny_scenario_file, "--out", tmp_path / "out", option, 0)
    assert result.exit_code == 2
    assert option in result.stderr
    assert not (tmp_path / "out").exists()


def test_summary_reports_yes_no_metrics_as_probabilities_with_units(run_dir):
    """Yes/no metrics carry a probability and its se, no percentiles; every metric has its unit and, unless yes/no,
    the keys of its adverse tail (the low end where lower is worse)."""
    summary = read_summary(run_dir)
    metrics, units = summary["metrics"], summary["metric_units"]
    for name in PROBABILITY_METRICS:
        assert set(metrics[name]) == {"mean", "se"}, name
        assert 0.0 <= metrics[name]["mean"] <= 1.0
        assert units[name] == {"unit": "probability"}
    assert set(units) == set(metrics)
    assert units["cumulative_profit"] == {"unit": "currency", "favourable_5": "p95", "adverse_5": "p05",
                                          "adverse_1": "p01"}
    assert units["cumulative_loss_rate"]["adverse_1"] == "p99" and units["cumulative_loss_rate"]["unit"] == "%"


def test_survival_horizon_is_over_the_paths_that_run_out(tmp_path):
    """``survival_horizon_months`` never holds H + 1 for 'not within the horizon': its statistics are over the paths
    whose cash falls below the floor (0 here), and ``paths`` counts them (the share of ``liquidity_breached``).
    Lending on (``keep_lending``) the buffer itself goes negative then; stopping lending, that month is the stop."""
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    stopping = simulator.run(scenario, paths=40, loans=400)
    np.testing.assert_array_equal(stopping.headline["survival_horizon_months"],
                                  stopping.headline["lending_stop_month"])
    keep = scenario.model_copy(update={"funding": scenario.funding.model_copy(update={"when_short": "keep_lending"})})
    results = simulator.run(keep, paths=40, loans=400)
    survival = results.summary["metrics"]["survival_horizon_months"]
    breached = results.headline["liquidity_breached"]
    assert 0 < breached.sum() < len(breached), "the check needs paths that run out and paths that survive"
    assert survival["paths"] == int(breached.sum())
    months = [int(np.argmax(buffer[1:] < 0)) + 1 for buffer in results.series["liquidity_buffer"] if
              (buffer[1:] < 0).any()]
    assert survival["mean"] == pytest.approx(np.mean(months), rel=1e-12)
    assert survival["p99"] <= results.scenario.run.horizon_months


def test_tail_figures_say_how_many_paths_lie_beyond_them(run_dir):
    metrics = read_summary(run_dir)["metrics"]  # 4 paths: nothing lies beyond the 99% level
    for name in TAIL:
        level = 0.99 if name.endswith("_99") else 0.999
        assert metrics[name]["paths_beyond"] == pytest.approx((1 - level) * 4)
        assert metrics[name]["reliable"] is False


def test_headline_table_has_units_and_explains_its_columns(cli, tiny_scenario_file, tmp_path):
    result = cli("run", tiny_scenario_file, "--out", tmp_path / "r", "--no-plots")
    lines = result.stdout.splitlines()
    assert "standard error" in lines[1] and "spread of the outcome across paths" in lines[1]
    header = lines[2].split()
    assert header[:4] == ["metric", "unit", "mean", "se"] and "adverse" in header
    rows = {line.split()[0]: line for line in lines[3:] if line and not line.startswith(("(", " "))}
    assert rows["abs_trigger_hit"].split()[1:3] == ["prob.", "%"] and "probability across paths" in \
        rows["abs_trigger_hit"]
    summary = read_summary(tmp_path / "r")
    assert rows["min_coverage_ratio"].split()[-1] == format_value(summary["metrics"]["min_coverage_ratio"]["p01"],
                                                                  "rate", 3)
    assert "rests on 0.04 path(s) beyond it (*)" in rows["loss_var_99"]
    assert any(line.startswith("(*) fewer than 10 paths") for line in lines)
