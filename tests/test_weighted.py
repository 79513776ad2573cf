"""IFRS 9 probability-weighted ECL over a scenario set."""
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario_set
from simulator.workflows.weighted import run_weighted

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def write_set(tmp_path, items, run=None, name="set.yaml"):
    """A set file in tmp_path pointing at small copies of shipped scenarios."""
    for source in {item[0] for item in items}:
        data = {"extends": str(SCENARIOS / f"{source}.yaml"), "name": source,
                "run": {"paths": 4, "horizon_months": 6}, "portfolio": {"n_loans": 400}}
        (tmp_path / f"{source}.yaml").write_text(yaml.safe_dump(data))
    spec = {"weighted_scenarios": [{"scenario": f"{s}.yaml", "weight_pct": w} for s, w in items]}
    if run:
        spec["run"] = run
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


def test_weighted_ecl_is_the_weighted_sum_of_scenario_ecls(tmp_path):
    spec, scenarios = load_scenario_set(write_set(tmp_path, [("baseline", 50), ("adverse", 30), ("severe", 20)],
                                                  run={"seed": 3}))
    weighted = run_weighted(spec, scenarios)
    report = weighted.reporting_date
    ecls = [row["ecl"]["total"] for row in report["scenarios"]]
    assert report["weighted_ecl"]["total"] == pytest.approx(0.5 * ecls[0] + 0.3 * ecls[1] + 0.2 * ecls[2])
    assert sum(row["share_of_weighted_ecl"] for row in report["scenarios"]) == pytest.approx(1.0)
    assert all(member.seed == 3 for member in weighted.members)
    # severe foresees more losses for today's book than the baseline does
    assert ecls[2] > ecls[0]
    table = weighted.timeseries
    last = table[table.scenario == "weighted"].ifrs9_ecl.iloc[0]
    assert last == pytest.approx(report["weighted_ecl"]["total"])


def test_same_scenario_twice_on_common_random_numbers_gives_identical_ecl(tmp_path):
    spec, scenarios = load_scenario_set(write_set(tmp_path, [("baseline", 60), ("baseline", 40)], run={"seed": 5}))
    rows = run_weighted(spec, scenarios).reporting_date["scenarios"]
    assert rows[0]["ecl"] == rows[1]["ecl"]


def test_weights_must_sum_to_100(tmp_path):
    path = write_set(tmp_path, [("baseline", 50), ("severe", 40)])
    with pytest.raises(InputError) as err:
        load_scenario_set(path)
    assert err.value.problems == [f"{path}: weighted_scenarios[*].weight_pct must be percentages summing to 100; "
                                  "got 90.0. Adjust the weights so they add up to 100."]


def test_scenarios_on_different_books_are_refused(tmp_path):
    path = write_set(tmp_path, [("baseline", 50), ("severe", 50)])
    data = yaml.safe_load((tmp_path / "severe.yaml").read_text())
    data["portfolio"]["n_loans"] = 500
    (tmp_path / "severe.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"weighted_scenarios\[1\]\.scenario must be a scenario on the same book"):
        load_scenario_set(path)


def test_ecl_command_writes_its_directory_and_refuses_bad_sets(tmp_path):
    runner = CliRunner()
    good = write_set(tmp_path, [("baseline", 70), ("severe", 30)], run={"seed": 1})
    out = tmp_path / "out"
    result = runner.invoke(main, ["ecl", str(good), "--out", str(out), "--no-plots", "--loans", "150"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "runs" / "severe" / "summary.json").read_text())["loans"] == 150
    summary = json.loads((out / "weighted_ecl.json").read_text())
    assert [row["scenario"] for row in summary["scenarios"]] == ["baseline", "severe"]
    assert (out / "runs" / "severe" / "summary.json").exists() and (out / "weighted_ecl.csv").exists()
    bad = write_set(tmp_path, [("baseline", 70), ("severe", 20)], name="bad.yaml")
    result = runner.invoke(main, ["ecl", str(bad), "--out", str(tmp_path / "bad_out")])
    assert result.exit_code == 2
    assert "must be percentages summing to 100" in result.output
    assert not (tmp_path / "bad_out").exists()


def test_shipped_weighted_set_validates():
    result = CliRunner().invoke(main, ["validate", str(SCENARIOS / "ifrs9_weighted.yaml")])
    assert result.exit_code == 0 and "scenario set: baseline 50%, adverse 30%, severe 20%" in result.output
