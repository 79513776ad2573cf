"""Hostile and careless input: non-finite numbers, resource bombs, strict JSON out, documented option values.

Each class of problem is refused with the house message (file, field, what was
expected, what was found, a fix), exit code 2 and no traceback; resource limits
are checked in time and memory (``tracemalloc``), not only in outcome.
"""
import copy
import glob
import json
import re
import time
import tracemalloc
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli import main
from simulator.inputs.errors import EXCERPT_CHARACTERS, InputError
from simulator.presentation.plots import shown_path
from simulator.inputs.checks import ScenarioWarning
from simulator.inputs.loader import MAX_NESTING, MAX_SCENARIO_BYTES, is_scenario_set, load_scenario
from simulator.model.engine.simulate import settle_borrowers
from simulator.model.portfolio import build_book
from simulator.workflows.results import DRIFT_MONTHS, opening_drift_warnings, resolve_seed
from tests.assertions import assert_clean_errors

SCENARIOS = "scenarios"
MEMORY_LIMIT = 200 * 2 ** 20
TIME_LIMIT_SECONDS = 2.0


def refused_quickly(path):
    """Load ``path``; it must raise InputError within the time limit (timed alone) and the memory limit (traced
    in a second load, since tracing slows Python several-fold). Returns the messages."""
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        load_scenario(path)
    seconds = time.perf_counter() - started
    assert seconds < TIME_LIMIT_SECONDS, seconds
    tracemalloc.start()
    try:
        with pytest.raises(InputError):
            load_scenario(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, peak
    for problem in info.value.problems:
        assert len(problem) < 400, problem  # quotes an excerpt, never the expansion
    return info.value.problems


def billion_laughs(levels=9):
    text = "a: &a ['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol']\n"
    previous = "a"
    for level in range(1, levels + 1):
        name = f"n{level}"
        text += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text + f"portfolio: *{previous}\n"


def test_an_alias_bomb_is_refused_without_expanding_it(write_yaml):
    problems = refused_quickly(write_yaml(billion_laughs()))
    assert "values once its aliases are expanded" in problems[0]


def test_deep_nesting_is_refused_without_a_recursion_error(write_yaml):
    problems = refused_quickly(write_yaml("portfolio: " + "[" * 20_000 + "]" * 20_000 + "\n"))
    assert f"nesting deeper than {MAX_NESTING} levels" in problems[0]


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("# " + "x" * (50 * 2 ** 20) + "\n")
    problems = refused_quickly(path)
    assert f"a scenario file may have at most {MAX_SCENARIO_BYTES:,}" in problems[0]


def with_baseline(path):
    """Make the scenario at ``path`` extend a copy of the shipped baseline beside it."""
    base = path.parent / "base.yaml"
    base.write_text(open(f"{SCENARIOS}/baseline.yaml", encoding="utf-8").read(), encoding="utf-8")
    path.write_text("extends: base.yaml\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_a_modest_legitimate_use_of_anchors_still_loads(write_yaml):
    path = with_baseline(write_yaml("portfolio:\n  n_loans: &same 200\nrun:\n  paths: *same\n"))
    scenario = load_scenario(path)
    assert scenario.portfolio.n_loans == scenario.run.paths == 200


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e400", "-1.0e+400"])
@pytest.mark.parametrize("field, template", [
    ("macro.shocks[0].size_pp", "macro:\n  shocks:\n    - {{shape: step, variable: unemployment, size_pp: {v}}}\n"),
    ("macro.baseline.unemployment_pct", "macro:\n  baseline: {{unemployment_pct: {v}}}\n"),
    ("macro.cycle.volatility", "macro:\n  cycle: {{volatility: {v}}}\n"),
    ("actions.collections.cost_per_contact",
     "actions:\n  collections: {{contact_pct: {{dpd_1_30: 50}}, cost_per_contact: {v}}}\n"),
])
def test_non_finite_numbers_are_refused_in_every_kind_of_field(write_yaml, field, template, value):
    problems = refused_quickly(with_baseline(write_yaml(template.format(v=value), "child.yaml")))
    assert any(field in problem and "finite" in problem for problem in problems), problems


def test_a_principal_median_must_be_finite_and_plausible(write_yaml, tiny_scenario_dict):
    for value, says in ((float("inf"), "finite"), (1e15, "less than or equal to 1000000000000")):
        data = copy.deepcopy(tiny_scenario_dict)
        data["portfolio"]["segments"][0]["principal"]["median"] = value
        problems = refused_quickly(write_yaml(data))
        assert any("portfolio.segments[0].principal.median" in p and says in p for p in problems), problems


def test_long_values_are_quoted_as_an_excerpt(write_yaml, tiny_scenario_dict):
    data = copy.deepcopy(tiny_scenario_dict)
    data["run"]["paths"] = "x" * 10_000
    problems = refused_quickly(write_yaml(data))
    assert any("(10,002 characters)" in p for p in problems), problems
    assert all("x" * EXCERPT_CHARACTERS not in p for p in problems)


def strict_json(path):
    """Parse ``path`` refusing NaN and Infinity (RFC 8259)."""
    def refuse(constant):
        raise AssertionError(f"{path}: non-standard JSON constant {constant}")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_every_json_file_a_run_writes_is_strict(tmp_path, tiny_scenario_file):
    out = simulator.run(tiny_scenario_file, paths=3).save(tmp_path / "run", plots=False)
    summary = strict_json(out / "summary.json")
    assert summary["metrics"]["cumulative_loss_rate"]["mean"] is not None


def test_calibrate_without_bootstrap_works_and_writes_strict_json(tmp_path):
    """``--bootstrap 0`` is documented as "no bootstrap": no intervals, everything else."""
    result = CliRunner().invoke(main, ["calibrate", "scenarios/sample_history.parquet", "--macro",
                                       "scenarios/sample_history_macro.csv", "--bootstrap", "0", "--out",
                                       str(tmp_path / "cal"), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    summary = strict_json(tmp_path / "cal" / "calibration.json")
    assert summary["credit_cycle"]["rho_interval"] == [None, None]
    assert (tmp_path / "cal" / "calibration_report.pdf").is_file()


def test_bad_scenarios_give_clean_errors_through_the_cli(write_yaml):
    result = CliRunner().invoke(main, ["validate", str(write_yaml(billion_laughs()))])
    assert_clean_errors(result, "aliases are expanded")


def test_a_scenario_set_given_to_run_and_a_scenario_given_to_ecl_say_which_command_fits():
    runner = CliRunner()
    assert_clean_errors(runner.invoke(main, ["run", "scenarios/ifrs9_weighted.yaml"]),
                        "is a scenario set", "simulate ecl scenarios/ifrs9_weighted.yaml")
    assert_clean_errors(runner.invoke(main, ["ecl", "scenarios/baseline.yaml"]),
                        "is a scenario, not a scenario set", "simulate run scenarios/baseline.yaml")


def test_reports_and_figures_show_sources_relative_or_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "severe").mkdir(parents=True)
    assert shown_path(tmp_path / "runs" / "severe") == "runs/severe"
    assert shown_path("/somewhere/else/runs/baseline") == "baseline"


def test_the_first_run_says_the_engine_is_compiling(monkeypatch, capsys, tiny_scenario_file):
    import simulator.cli as cli
    import simulator.model.engine.simulate as engine  # the command line reads it there when a command runs
    scenario = load_scenario(tiny_scenario_file)
    monkeypatch.setattr(engine, "engine_compiled", lambda model: False)
    cli.say_if_compiling([scenario], quiet=False)
    assert "compiling the simulation engine" in capsys.readouterr().err
    cli.say_if_compiling([scenario], quiet=True)
    monkeypatch.setattr(engine, "engine_compiled", lambda model: True)
    cli.say_if_compiling([scenario], quiet=False)
    assert capsys.readouterr().err == ""


def test_the_engine_knows_when_its_kernels_are_cached(tiny_scenario_file):
    from simulator.model.engine.simulate import engine_compiled
    simulator.run(tiny_scenario_file, paths=1)  # compiles or loads the structural kernel, caching it
    assert engine_compiled("structural") is True


FRACTION_UNEMPLOYMENT = "macro:\n  baseline: {unemployment_pct: 0.052}\n"
SMALL_UNEMPLOYMENT_SHOCK = ("macro:\n  shocks:\n    - {shape: step, variable: unemployment, size_pp: 0.03, "
                            "start_month: 1}\n")
LONG_PATH = ("run:\n  horizon_months: 6\nmacro:\n  shocks:\n    - {shape: path, variable: unemployment, "
             "frequency: quarterly, levels_pct: [6, 7, 8, 9]}\n")


@pytest.mark.parametrize("text, says", [
    (FRACTION_UNEMPLOYMENT, "macro.baseline.unemployment_pct is 0.052, which reads as 0.052% but looks like a "
                            "fraction; keys ending in _pct are in percent: did you mean 5.2?"),
    (SMALL_UNEMPLOYMENT_SHOCK, "macro.shocks[0].size_pp is 0.03, an unemployment shock of 0.03 percentage points, "
                               "below 0.5; size_pp is in points of the rate (3.0 moves 5.2% to 8.2%): did you mean 3?"),
    (LONG_PATH, "macro.shocks[0].levels_pct has 4 quarterly levels; a 6-month horizon uses the first 2, the other 2 "
                "are ignored"),
])
def test_plausible_mistakes_warn_run_and_are_refused_under_strict(write_yaml, tmp_path, text, says):
    path = with_baseline(write_yaml(text + "portfolio:\n  n_loans: 60\n", "child.yaml"))
    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(path), "--paths", "2", "--no-plots", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert f"warning: {path}: {says}" in result.stderr
    assert any(says in warning for warning in strict_json(out / "summary.json")["warnings"])
    strict = runner.invoke(main, ["run", str(path), "--strict", "--out", str(tmp_path / "refused")])
    assert_clean_errors(strict, says, "(refused under --strict)")
    assert not (tmp_path / "refused").exists()
    assert_clean_errors(runner.invoke(main, ["validate", str(path), "--strict"]), says)


def test_shipped_scenarios_have_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        for path in sorted(glob.glob(f"{SCENARIOS}/*.yaml")):
            if not is_scenario_set(path):
                load_scenario(path)


def drifting_tape_scenario(directory):
    """The shipped sample tape with every borrower's income cut to 35%: its opening mix (90+ at 1.9%) is far from
    what such borrowers sustain, so its overdue rates climb in a flat economy (90+ past 20% by month 6)."""
    tape = pd.read_csv(f"{SCENARIOS}/sample_tape.csv")
    tape["income"] *= 0.35
    tape.to_csv(directory / "stretched_tape.csv", index=False)
    path = directory / "drifting.yaml"
    path.write_text(f"extends: {Path(SCENARIOS, 'tape_example.yaml').resolve()}\nname: drifting_tape\n"
                    "portfolio:\n  source: tape\n  tape: stretched_tape.csv\n", encoding="utf-8")
    return path


def test_a_book_whose_delinquency_drifts_in_a_flat_economy_warns_and_is_refused_under_strict(tmp_path):
    path = drifting_tape_scenario(tmp_path)
    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(path), "--paths", "2", "--no-plots", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    warning = re.search(r"warning: drifting_tape: in a flat economy \(no shocks, no cycle\) the book's overdue "
                        r"rates move .*90\+ DPD from (\d+\.\d)% at month 0 to (\d+\.\d)% by month (\d)", result.stderr)
    assert warning, result.stderr
    opening, later, month = float(warning[1]), float(warning[2]), int(warning[3])
    assert opening < 3 and later > 10 and 1 <= month <= DRIFT_MONTHS
    assert "macro.cycle.start" in result.stderr and "simulate calibrate" in result.stderr
    assert any("flat economy" in w for w in strict_json(out / "summary.json")["warnings"])
    assert any("flat economy" in w for w in simulator.load_results(out).summary["warnings"])
    started = time.perf_counter()
    strict = runner.invoke(main, ["run", str(path), "--strict", "--paths", "200", "--out", str(tmp_path / "refused")])
    assert_clean_errors(strict, "in a flat economy", "(refused under --strict)")
    assert time.perf_counter() - started < 20  # refused before the 200 paths are simulated
    assert not (tmp_path / "refused").exists()


@pytest.mark.parametrize("path", [p for p in sorted(glob.glob(f"{SCENARIOS}/*.yaml")) if not is_scenario_set(p)])
def test_shipped_books_hold_their_delinquency_in_a_flat_economy(path):
    scenario = resolve_seed(load_scenario(path))
    book = build_book(scenario, scenario.portfolio.seed)
    if scenario.portfolio.source == "synthetic":
        book = settle_borrowers(scenario, book, scenario.portfolio.seed)
    assert opening_drift_warnings(scenario, book) == []


MAX_SEED = 2 ** 63 - 1


@pytest.mark.parametrize("options", [
    ["--paths", "1"], ["--seed", "0"], ["--seed", str(MAX_SEED)], ["--threads", "1"], ["--loans", "1"],
    ["--lang", "zh"], ["--no-plots", "--strict"],
], ids=lambda options: " ".join(options))
def test_run_works_at_each_documented_boundary(tmp_path, tiny_scenario_file, options):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(tiny_scenario_file), "--out", str(out), "--quiet", *options])
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    strict_json(out / "summary.json")


@pytest.mark.parametrize("command", [
    ["compare", "scenarios/baseline.yaml", "scenarios/severe.yaml", "--paths", "1", "--seed", str(MAX_SEED),
     "--no-plots"],
    ["ecl", "scenarios/ifrs9_weighted.yaml", "--paths", "1", "--no-plots"],
    ["calibrate", "scenarios/sample_history.parquet", "--macro", "scenarios/sample_history_macro.csv",
     "--holdout-months", "0", "--bootstrap", "1", "--no-plots"],
    ["calibrate", "scenarios/sample_history.parquet", "--macro", "scenarios/sample_history_macro.csv",
     "--holdout-months", "31", "--bootstrap", "0", "--seed", str(MAX_SEED), "--no-plots"],
], ids=["compare-1-path", "ecl-1-path", "calibrate-holdout-0", "calibrate-holdout-max"])
def test_other_commands_work_at_their_documented_boundaries(tmp_path, tiny_scenario_file, command):
    args = [a.format(tiny=tiny_scenario_file) for a in command] + ["--out", str(tmp_path / "out"), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (result.stderr, result.exception)
    for path in (tmp_path / "out").rglob("*.json"):
        strict_json(path)


@pytest.mark.parametrize("options, says", [
    (["--paths", "0"], "--paths"), (["--seed", "-1"], "--seed"), (["--seed", str(MAX_SEED + 1)], "--seed"),
    (["--threads", "0"], "--threads"), (["--loans", "0"], "--loans"), (["--lang", "fr"], "--lang"),
])
def test_run_refuses_values_just_beyond_each_boundary(tmp_path, tiny_scenario_file, options, says):
    result = CliRunner().invoke(main, ["run", str(tiny_scenario_file), "--out", str(tmp_path / "run"), *options])
    assert result.exit_code == 2 and says in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()
