"""Scenario comparison on common random numbers."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.accounts.metrics import CONDITIONAL_METRICS
from simulator.cli import main
from simulator.workflows.comparison import compare
from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def small(name, **run):
    return load_scenario(SCENARIOS / f"{name}.yaml").with_loans(1500).with_run(
        paths=12, horizon_months=12, seed=3, **run)


def test_a_scenario_compared_with_itself_differs_by_exactly_zero():
    base = small("baseline")
    twin = base.model_copy(update={"name": "baseline_again"})
    table = compare([base, twin]).table
    assert (table.difference == 0.0).all()
    # a metric over the paths that run out has no error when fewer than two paths do (one of 12 paths here)
    undefined = table.se_difference.isna()
    assert table.metric[undefined].isin(CONDITIONAL_METRICS).all()
    assert (table.se_difference[~undefined] == 0.0).all()


def test_common_random_numbers_cut_the_variance_of_a_difference():
    table = compare([small("baseline"), small("severe")]).table
    loss = table[(table.scenario == "severe") & (table.metric == "cumulative_loss_rate")].iloc[0]
    assert loss.difference > 0
    assert loss.variance_reduction > 1.0
    assert loss.se_difference < loss.se_independent


def test_scenarios_of_different_books_are_refused():
    other = small("baseline").with_loans(1000).model_copy(update={"name": "smaller"})
    with pytest.raises(InputError, match="must use the same book and horizon as baseline"):
        compare([small("baseline"), other])


def test_compare_command_writes_its_directory(tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", str(SCENARIOS / "baseline.yaml"), str(SCENARIOS / "adverse.yaml"),
                                       "--paths", "3", "--loans", "300", "--out", str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "difference to baseline" in result.output and "percentage points" in result.output
    assert json.loads((out / "runs" / "adverse" / "summary.json").read_text())["loans"] == 300
    assert (out / "comparison.csv").exists() and (out / "comparison.parquet").exists()
    assert (out / "runs" / "adverse" / "summary.json").exists()
    result = CliRunner().invoke(main, ["compare", str(SCENARIOS / "baseline.yaml")])
    assert result.exit_code == 2 and "needs at least two scenario files" in result.output


def test_run_directories_round_trip_and_compare(tmp_path):
    import simulator
    from simulator.workflows.results import load_results

    dirs = []
    for name in ("baseline", "severe"):
        results = simulator.run(small(name))
        dirs.append(results.save(tmp_path / name, plots=False))
    loaded = load_results(dirs[0])
    original = simulator.run(small("baseline"))
    assert loaded.summary["metrics"] == original.summary["metrics"]
    runner = CliRunner()
    result = runner.invoke(main, ["compare", str(dirs[0]), str(dirs[1]), "--out", str(tmp_path / "cmp"),
                                  "--no-plots"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cmp" / "comparison.csv").exists()


def test_run_directories_of_different_seeds_are_refused_unless_allowed(tmp_path):
    import simulator

    first = simulator.run(small("baseline")).save(tmp_path / "a", plots=False)
    second = simulator.run(small("severe").with_run(seed=4)).save(tmp_path / "b", plots=False)
    runner = CliRunner()
    result = runner.invoke(main, ["compare", str(first), str(second), "--out", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert "differs from baseline (seed 4 instead of 3)" in result.output
    assert not (tmp_path / "c").exists()
    result = runner.invoke(main, ["compare", str(first), str(second), "--allow-different", "--no-plots",
                                  "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["compare", str(first), str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "not found" in result.output
    result = runner.invoke(main, ["compare", str(first), str(SCENARIOS / "severe.yaml")])
    assert result.exit_code == 2 and "not both" in result.output
