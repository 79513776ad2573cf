"""Scenario files: the shipped ones validate, ``extends`` merges, and every kind of
mistake is refused with a message in the house style
``<file>: <field> must be <constraint>; got <value>. <fix>``.
"""
import copy
from pathlib import Path

import pytest
import yaml

from simulator.inputs.errors import InputError
from simulator.inputs.loader import is_scenario_set, load_scenario
from simulator.inputs.schema import Scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHIPPED_FILES = sorted(SCENARIOS.glob("*.yaml"))
SHIPPED = [p for p in SHIPPED_FILES if not is_scenario_set(p)]
"""Shipped scenarios (scenario sets are tested in test_weighted.py)."""

ROLL_RATE_MATRIX = [
    [95.2, 3.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    [70.0, 15.0, 15.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [15.0, 5.0, 10.0, 70.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [6.0, 2.0, 2.0, 5.0, 85.0, 0.0, 0.0, 0.0, 0.0],
    [3.0, 0.0, 1.0, 1.0, 5.0, 90.0, 0.0, 0.0, 0.0],
    [2.0, 0.0, 0.0, 1.0, 1.0, 4.0, 92.0, 0.0, 0.0],
    [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 3.0, 94.0, 0.0],
]


def problems_of(path, source=None):
    """Load ``path``, expect an InputError, check the shared shape of its messages, return them.

    Every message is one line starting with ``<source>: `` (``source`` defaults to
    ``path``, as given or resolved).
    """
    source = Path(source or path)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    problems = info.value.problems
    assert problems, "InputError without problems"
    for problem in problems:
        assert "\n" not in problem, f"a problem must be one line: {problem!r}"
        assert problem.startswith(f"{source}: ") or problem.startswith(f"{source.resolve()}: "), problem
    assert str(info.value) == "\n".join(problems)
    return problems


def only_problem(path, source=None):
    problems = problems_of(path, source)
    assert len(problems) == 1, problems
    return problems[0]


def with_roll_rate(data, matrices):
    data["behaviour"]["model"] = "roll_rate"
    data["behaviour"].pop("prepayment_pct", None)  # the structural model's; refused under the roll-rate model
    data["behaviour"]["roll_rate"] = {"asset_correlation_pct": 8, "matrices": matrices}
    return data


# ------------------------------------------------------------------ shipped files
def test_scenarios_are_shipped():
    names = {p.name for p in SHIPPED}
    assert {"baseline.yaml", "adverse.yaml", "severe.yaml", "roll_rate_example.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_scenario_validates(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert scenario.name == raw.get("name", path.stem)
    assert abs(sum(seg.share_pct for seg in scenario.portfolio.segments) - 100.0) < 1e-9


def test_tiny_fixture_is_valid(tiny_scenario_file):
    scenario = load_scenario(tiny_scenario_file)
    assert (scenario.run.paths, scenario.run.horizon_months, scenario.portfolio.n_loans) == (4, 6, 200)


def test_scenario_is_frozen(tiny_scenario_file):
    scenario = load_scenario(tiny_scenario_file)
    with pytest.raises(Exception):
        scenario.run.paths = 10


# ------------------------------------------------------------------------ extends
def test_extends_deep_merges_mappings_and_replaces_lists(write_yaml, tiny_scenario_dict):
    write_yaml(tiny_scenario_dict, "parent.yaml")
    only_segment = copy.deepcopy(tiny_scenario_dict["portfolio"]["segments"][0])
    only_segment["share_pct"] = 100
    child = write_yaml({
        "extends": "parent.yaml",
        "run": {"paths": 7},
        "portfolio": {"segments": [only_segment]},
        "macro": {"shocks": [{"shape": "step", "variable": "unemployment", "size_pp": 1.0}]},
        "behaviour": {"structural": {"willingness": {"dpd_1_30": 90}}},
    }, "child.yaml")
    parent = load_scenario(child.parent / "parent.yaml")
    scenario = load_scenario(child)

    assert scenario.run.paths == 7                                   # overridden
    assert scenario.run.horizon_months == 6                          # sibling kept
    assert scenario.run.seed == parent.run.seed                      # sibling kept
    assert scenario.portfolio.n_loans == 200                         # sibling of a replaced list kept
    assert scenario.segment_names == ["prime"]                       # list replaced, not merged
    assert [s.shape for s in scenario.macro.shocks] == ["step"]
    assert scenario.macro.baseline == parent.macro.baseline
    willingness = scenario.behaviour.structural.willingness
    assert willingness.dpd_1_30 == 90                                # three levels down
    assert willingness.dpd_31_60 == parent.behaviour.structural.willingness.dpd_31_60
    assert scenario.behaviour.structural.job_finding_pct == parent.behaviour.structural.job_finding_pct
    assert scenario.funding == parent.funding


def test_extends_does_not_inherit_name_and_description(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["description"] = "the parent"
    write_yaml(tiny_scenario_dict, "parent.yaml")
    child = write_yaml("extends: parent.yaml\n", "my_child.yaml")
    scenario = load_scenario(child)
    assert scenario.name == "my_child"
    assert scenario.description == ""


def test_extends_chain_is_relative_to_each_file(write_yaml, tiny_scenario_dict):
    write_yaml(tiny_scenario_dict, "base/parent.yaml")
    write_yaml("extends: ../base/parent.yaml\nrun: {paths: 9}\n", "mid/child.yaml")
    grandchild = write_yaml("extends: ../mid/child.yaml\nrun: {horizon_months: 12}\n", "leaf/grandchild.yaml")
    scenario = load_scenario(grandchild)
    assert (scenario.run.paths, scenario.run.horizon_months, scenario.portfolio.n_loans) == (9, 12, 200)


def test_shipped_adverse_inherits_baseline_book():
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    adverse = load_scenario(SCENARIOS / "adverse.yaml")
    assert adverse.portfolio == baseline.portfolio
    assert adverse.run == baseline.run
    assert adverse.behaviour.recovery.rate_pct != baseline.behaviour.recovery.rate_pct
    assert adverse.behaviour.structural == baseline.behaviour.structural


def test_extends_cycle_is_refused_and_named(write_yaml):
    a = write_yaml("extends: B.yaml\n", "A.yaml")
    b = write_yaml("extends: A.yaml\n", "B.yaml")
    problem = only_problem(a, source=b)   # reported against the file whose 'extends' closes the cycle
    assert problem == (f"{b.resolve()}: extends makes a cycle (A.yaml -> B.yaml -> A.yaml). "
                       "Remove one of the 'extends' keys.")


def test_extends_itself_is_a_cycle(write_yaml):
    s = write_yaml("extends: S.yaml\n", "S.yaml")
    assert "extends makes a cycle (S.yaml -> S.yaml)" in only_problem(s)


def test_extends_missing_file_is_refused(write_yaml):
    child = write_yaml("extends: nope.yaml\nrun: {paths: 3}\n", "child.yaml")
    problem = only_problem(child)
    assert problem.startswith(f"{child.resolve()}: extends names 'nope.yaml', which does not exist at ")
    assert "relative to this file's folder" in problem


def test_extends_must_be_a_file_name(write_yaml):
    child = write_yaml("extends: 3\n", "child.yaml")
    assert only_problem(child).startswith(f"{child.resolve()}: extends must be a file name; got 3.")


# ---------------------------------------------------------------- reading YAML
def test_missing_scenario_file(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.problems == [f"{path.resolve()}: file not found. Check the path and the working directory."]


def test_yaml_syntax_error_reports_line_and_column(write_yaml):
    path = write_yaml("run:\n  paths: 4\n  horizon_months: [1, 2\nportfolio: {}\n", "broken.yaml")
    problem = only_problem(path)
    assert problem.startswith(f"{path.resolve()}: YAML syntax error at line 4, column 10: ")
    assert problem.endswith("Fix the file's syntax there.")


def test_yaml_bad_indentation_reports_line_and_column(write_yaml):
    path = write_yaml("run:\n  paths: 4\n bad: 3\n", "indent.yaml")
    assert "YAML syntax error at line 3, column 2" in only_problem(path)


def test_duplicate_keys_are_refused(write_yaml):
    path = write_yaml("run:\n  paths: 4\n  paths: 5\n", "dup.yaml")
    problem = only_problem(path)
    assert "line 3, column 3" in problem
    assert "duplicate key 'paths' (first at line 2)" in problem


def test_duplicate_key_check_does_not_change_global_safe_loader():
    assert yaml.safe_load("a: 1\na: 2\n") == {"a": 2}


def test_top_level_must_be_a_mapping(write_yaml):
    path = write_yaml("- 1\n- 2\n", "list.yaml")
    assert only_problem(path).startswith(
        f"{path.resolve()}: the top level must be a mapping of sections (run, portfolio, ...); got 'list'.")


def test_empty_file_asks_for_portfolio(write_yaml):
    path = write_yaml("", "empty.yaml")
    assert only_problem(path) == f"{path}: portfolio is required but missing. Add it to the file."


# ------------------------------------------------------------------ unknown keys
def test_unknown_run_key_suggests_nearest(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["run"]["horizon_month"] = 12
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == f"{path}: unknown key 'run.horizon_month'. Did you mean 'horizon_months'?"


def test_unknown_top_level_key_suggests_nearest(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["fundng"] = {"liquidity_buffer_pct": 5}
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == f"{path}: unknown key 'fundng'. Did you mean 'funding'?"


def test_unknown_segment_key_suggests_nearest(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["segments"][1]["savings_month"] = 2
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == (f"{path}: unknown key 'portfolio.segments[1].savings_month'. "
                                  "Did you mean 'savings_months'?")


def test_unknown_key_nested_inside_segment(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["segments"][2]["starting_dpd_pct"]["dpd_1_31"] = 0
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == (f"{path}: unknown key 'portfolio.segments[2].starting_dpd_pct.dpd_1_31'. "
                                  "Did you mean 'dpd_1_30'?")


def test_unknown_key_in_hump_shock_suggests_nearest(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["macro"]["shocks"] = [
        {"shape": "hump", "variable": "unemployment", "size_pp": 2, "peak_month": 3, "decay_month": 4}]
    path = write_yaml(tiny_scenario_dict)
    problem = only_problem(path)
    assert problem.startswith(f"{path}: unknown key 'macro.shocks[0].")
    assert problem.endswith("decay_month'. Did you mean 'decay_months'?")


def test_shock_field_path_has_no_union_tag(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["macro"]["shocks"] = [
        {"shape": "hump", "variable": "unemployment", "size_pp": 2, "peak_month": 3, "decay_month": 4}]
    path = write_yaml(tiny_scenario_dict)
    assert "'macro.shocks[0].decay_month'" in only_problem(path)


def test_unknown_key_in_roll_rate_block(write_yaml, tiny_scenario_dict):
    with_roll_rate(tiny_scenario_dict, {"default": ROLL_RATE_MATRIX})
    tiny_scenario_dict["behaviour"]["roll_rate"]["asset_corelation_pct"] = 3
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == (f"{path}: unknown key 'behaviour.roll_rate.asset_corelation_pct'. "
                                  "Did you mean 'asset_correlation_pct'?")


def test_unknown_key_without_near_match_lists_valid_keys(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["run"]["zzz"] = 1
    path = write_yaml(tiny_scenario_dict)
    problem = only_problem(path)
    assert problem.startswith(f"{path}: unknown key 'run.zzz'. Valid keys here: ")
    for key in ("horizon_months", "paths", "seed", "balance_sheet"):
        assert key in problem


# ------------------------------------------------------------- types and ranges
def test_wrong_type_names_field_and_constraint(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["run"]["paths"] = "many"
    path = write_yaml(tiny_scenario_dict)
    problem = only_problem(path)
    assert problem.startswith(f"{path}: run.paths must be a valid integer")
    assert "; got 'many'. " in problem


@pytest.mark.parametrize("section, key, value, expected", [
    ("run", "paths", 0, "run.paths must be greater than or equal to 1; got 0. Expected Monte Carlo paths."),
    ("run", "horizon_months", 500,
     "run.horizon_months must be less than or equal to 120; got 500. Expected months simulated, 1-120."),
    ("run", "seed", -1, "run.seed must be greater than or equal to 0; got -1."),
    ("run", "balance_sheet", "constnt", "run.balance_sheet must be 'constant' or 'runoff'; got 'constnt'."),
])
def test_out_of_range_run_values(write_yaml, tiny_scenario_dict, section, key, value, expected):
    tiny_scenario_dict[section][key] = value
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path).startswith(f"{path}: {expected}")


def test_negative_share_names_segment_field(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["segments"][0]["share_pct"] = -3
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path).startswith(
        f"{path}: portfolio.segments[0].share_pct must be greater than 0; got -3. ")


def test_term_out_of_range_names_list_item(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["segments"][0]["term_months"] = [12, 48]
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path).startswith(
        f"{path}: portfolio.segments[0].term_months[1] must be less than or equal to 36; got 48.")


def test_boolean_is_not_an_integer(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["run"]["paths"] = True
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path).startswith(f"{path}: run.paths must be ")


def test_unknown_shock_shape_is_refused(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["macro"]["shocks"] = [{"shape": "humpp", "variable": "unemployment", "size_pp": 2}]
    path = write_yaml(tiny_scenario_dict)
    problem = only_problem(path)
    assert problem.startswith(f"{path}: macro.shocks[0]")
    assert "'humpp'" in problem


def test_unknown_shock_shape_message_names_the_shape_field(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["macro"]["shocks"] = [{"shape": "humpp", "variable": "unemployment", "size_pp": 2}]
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path).startswith(f"{path}: macro.shocks[0].shape must be ")


# ------------------------------------------------------------ cross-field rules
def test_segment_shares_must_sum_to_100(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["segments"][0]["share_pct"] -= 10
    total = round(float(sum(seg["share_pct"] for seg in tiny_scenario_dict["portfolio"]["segments"])), 6)
    assert total == 90.0
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == (f"{path}: portfolio.segments[*].share_pct must be percentages summing to 100; "
                                  f"got {total!r}. Adjust the segment shares so they add up to 100.")


def test_starting_dpd_mix_must_sum_to_100(write_yaml, tiny_scenario_dict):
    mix = tiny_scenario_dict["portfolio"]["segments"][1]["starting_dpd_pct"]
    mix["current"] -= 5
    total = round(sum(mix.values()), 6)
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == (f"{path}: portfolio.segments[1].starting_dpd_pct must be percentages summing "
                                  f"to 100; got {total!r}. Adjust the delinquency mix so it adds up to 100.")


def test_tape_source_needs_tape(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["source"] = "tape"
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path).startswith(f"{path}: portfolio.tape must be a loan tape path when source is 'tape'")


def test_shock_starting_after_horizon(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["macro"]["shocks"] = [
        {"shape": "step", "variable": "unemployment", "size_pp": 1, "start_month": 7}]
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path).startswith(f"{path}: macro.shocks[0].start_month must be <= run.horizon_months (6)")


def test_several_field_problems_reported_at_once(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["run"].update(paths=0, horizon_months=500, horizon_month=3)
    tiny_scenario_dict["portfolio"]["segments"][0]["share_pct"] = -3
    path = write_yaml(tiny_scenario_dict)
    problems = problems_of(path)
    assert len(problems) == 4, problems
    joined = "\n".join(problems)
    for fragment in (f"{path}: run.paths must be greater than or equal to 1; got 0.",
                     f"{path}: run.horizon_months must be less than or equal to 120; got 500.",
                     f"{path}: unknown key 'run.horizon_month'. Did you mean 'horizon_months'?",
                     f"{path}: portfolio.segments[0].share_pct must be greater than 0; got -3."):
        assert fragment in joined


def test_several_cross_field_problems_reported_at_once(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["segments"][0]["share_pct"] -= 10
    tiny_scenario_dict["portfolio"]["segments"][2]["apr_pct"] = {"min": 36, "max": 24}
    tiny_scenario_dict["macro"]["shocks"] = [
        {"shape": "hump", "variable": "unemployment", "size_pp": 2, "start_month": 5, "peak_month": 3}]
    path = write_yaml(tiny_scenario_dict)
    problems = problems_of(path)
    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{path}: portfolio.segments[*].share_pct must be percentages summing to 100")
    assert any(p.startswith(f"{path}: portfolio.segments[2].apr_pct must be a range with min <= max")
               for p in problems)
    assert any(p.startswith(f"{path}: macro.shocks[0].peak_month must be >= start_month (5); got 3.")
               for p in problems)


# ------------------------------------------------------------------ roll rates
def test_roll_rate_example_shape(tiny_scenario_dict, write_yaml):
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"default": ROLL_RATE_MATRIX}))
    assert load_scenario(path).behaviour.model == "roll_rate"


def test_roll_rate_model_needs_roll_rate_block(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["behaviour"]["model"] = "roll_rate"
    tiny_scenario_dict["behaviour"].pop("prepayment_pct", None)
    path = write_yaml(tiny_scenario_dict)
    assert only_problem(path) == (
        f"{path}: behaviour.roll_rate must be a roll_rate block when behaviour.model is 'roll_rate'; got None. "
        "Add behaviour.roll_rate.matrices (see scenarios/roll_rate_example.yaml).")


def test_roll_rate_row_must_sum_to_100(write_yaml, tiny_scenario_dict):
    matrix = copy.deepcopy(ROLL_RATE_MATRIX)
    matrix[3][0] = 10.0
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"default": matrix}))
    assert only_problem(path).startswith(
        f"{path}: behaviour.roll_rate.matrices.default[3] must be non-negative percentages summing to 100; "
        "got [10.0, 2.0, ")


def test_roll_rate_row_must_not_be_negative(write_yaml, tiny_scenario_dict):
    matrix = copy.deepcopy(ROLL_RATE_MATRIX)
    matrix[0][:2] = [100.0, -1.0]
    matrix[0][-1] = 1.0                                       # sums to 100 with a negative entry
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"default": matrix}))
    assert "matrices.default[0] must be non-negative percentages summing to 100" in only_problem(path)


def test_roll_rate_wrong_row_count(write_yaml, tiny_scenario_dict):
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"default": ROLL_RATE_MATRIX[:6]}))
    problem = only_problem(path)
    assert problem.startswith(f"{path}: behaviour.roll_rate.matrices.default must be 7 rows (current, dpd_1_30, ")
    assert "; got 6. " in problem


def test_roll_rate_wrong_column_count(write_yaml, tiny_scenario_dict):
    matrix = copy.deepcopy(ROLL_RATE_MATRIX)
    matrix[2] = matrix[2][:8]
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"default": matrix}))
    problem = only_problem(path)
    assert problem.startswith(f"{path}: behaviour.roll_rate.matrices.default[2] must be 9 percentages (")
    assert "; got 8. " in problem


def test_roll_rate_matrix_for_unknown_segment(write_yaml, tiny_scenario_dict):
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"default": ROLL_RATE_MATRIX, "prim": ROLL_RATE_MATRIX}))
    assert only_problem(path) == (f"{path}: behaviour.roll_rate.matrices.prim must be named after a segment or "
                                  "'default'; got 'prim'. Did you mean 'prime'?")


def test_roll_rate_needs_matrix_for_every_segment(write_yaml, tiny_scenario_dict):
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"prime": ROLL_RATE_MATRIX}))
    problem = only_problem(path)
    assert problem.startswith(f"{path}: behaviour.roll_rate.matrices must be a matrix for every segment or a 'default'")
    assert "near_prime" in problem and "subprime" in problem


def test_roll_rate_per_segment_matrices_are_enough(write_yaml, tiny_scenario_dict):
    matrices = {name: ROLL_RATE_MATRIX for name in ("prime", "near_prime", "subprime")}
    path = write_yaml(with_roll_rate(tiny_scenario_dict, matrices))
    assert load_scenario(path).behaviour.roll_rate.matrices.keys() == matrices.keys()


def test_several_roll_rate_problems_reported_at_once(write_yaml, tiny_scenario_dict):
    bad_row = copy.deepcopy(ROLL_RATE_MATRIX)
    bad_row[0][0] = 90.0
    path = write_yaml(with_roll_rate(tiny_scenario_dict, {"default": bad_row, "prim": ROLL_RATE_MATRIX[:6]}))
    problems = problems_of(path)
    assert len(problems) == 3, problems
    assert any("matrices.default[0] must be non-negative percentages" in p for p in problems)
    assert any("matrices.prim must be named after a segment" in p for p in problems)
    assert any("matrices.prim must be 7 rows" in p for p in problems)


@pytest.mark.parametrize("start", [-5, 0, 2.5, 5, "stationary"])
def test_cycle_start_accepts_its_documented_values(write_yaml, tiny_scenario_dict, start):
    data = copy.deepcopy(tiny_scenario_dict)
    data.setdefault("macro", {}).setdefault("cycle", {})["start"] = start
    scenario = load_scenario(write_yaml(data, "s.yaml"))
    assert scenario.macro.cycle.start == start
    assert load_scenario(write_yaml(yaml.safe_load(scenario.to_yaml()), "r.yaml")).macro.cycle.start == start


@pytest.mark.parametrize("start", [-5.5, 9, float("nan"), float("inf"), "sideways", "0.5x"])
def test_cycle_start_refuses_anything_else_in_one_line(write_yaml, tiny_scenario_dict, start):
    data = copy.deepcopy(tiny_scenario_dict)
    data.setdefault("macro", {}).setdefault("cycle", {})["start"] = start
    problem = only_problem(write_yaml(data, "s.yaml"))
    assert "macro.cycle.start must be 'stationary' or a number of standard deviations from -5 to 5" in problem
    assert "Use 0 to start at today's conditions" in problem


@pytest.mark.parametrize("ifrs9, chargeoff, says", [
    ({"default_after_dpd": 180}, 180, "provisioning.ifrs9.default_after_dpd must be below behaviour.chargeoff_dpd (180)"),
    ({"default_after_dpd": 90}, 90, "provisioning.ifrs9.default_after_dpd must be below behaviour.chargeoff_dpd (90)"),
    ({"default_after_dpd": 60, "stage3_after_dpd": 90}, 180,
     "provisioning.ifrs9.stage3_after_dpd must be at most default_after_dpd (60)"),
    ({"default_after_dpd": 30, "stage2_after_dpd": 30, "stage3_after_dpd": None}, 180,
     "provisioning.ifrs9.stage3_after_dpd must be greater than stage2_after_dpd (30)"),
])
def test_inconsistent_default_definitions_are_refused(write_yaml, tiny_scenario_dict, ifrs9, chargeoff, says):
    data = copy.deepcopy(tiny_scenario_dict)
    data["provisioning"]["ifrs9"].update(ifrs9)
    data["behaviour"]["chargeoff_dpd"] = chargeoff
    problems = problems_of(write_yaml(data, "s.yaml"))  # charge-off at 90 also refuses the book's 91+ loans
    assert any(says in problem for problem in problems), problems


def test_default_definition_defaults_to_90_and_stage_3_follows_it(write_yaml, tiny_scenario_dict):
    data = copy.deepcopy(tiny_scenario_dict)
    data["provisioning"]["ifrs9"].pop("stage3_after_dpd", None)
    ifrs9 = load_scenario(write_yaml(data, "s.yaml")).provisioning.ifrs9
    assert (ifrs9.default_after_dpd, ifrs9.stage3_after_dpd, ifrs9.stage3_dpd) == (90, None, 90)


def test_prepayment_is_refused_under_the_roll_rate_model_and_defaults_under_the_structural(write_yaml,
                                                                                          tiny_scenario_dict):
    roll_rate = load_scenario(SCENARIOS / "roll_rate_example.yaml")
    assert roll_rate.behaviour.prepayment_pct is None
    data = yaml.safe_load(roll_rate.to_yaml())
    data["behaviour"]["prepayment_pct"] = 2.0
    problem = only_problem(write_yaml(data, "r.yaml"))
    assert "behaviour.prepayment_pct must be absent under the roll-rate model; got 2.0" in problem
    assert "matrices' 'closed' column" in problem
    structural = copy.deepcopy(tiny_scenario_dict)
    structural["behaviour"].pop("prepayment_pct")
    assert load_scenario(write_yaml(structural, "s.yaml")).behaviour.prepayment_pct == 1.0
