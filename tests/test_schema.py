"""The schema as the single source of truth: every constraint in the type of what it constrains, seen by the JSON
schema, :func:`field_bounds` and the loader's messages; percent read as fractions in one place only."""
import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario, scenario_from_dict
from simulator.inputs.resolved import Resolved
from simulator.inputs.schema import CycleSpec, RangePctSpec, RunSpec, Scenario, Spec, field_bounds

ROOT = Path(__file__).resolve().parents[1]


def test_the_json_schema_shows_cycle_start_bounds_and_literal():
    start = Scenario.model_json_schema()["$defs"]["CycleSpec"]["properties"]["start"]
    number, literal = start["anyOf"]
    assert (number["type"], number["minimum"], number["maximum"]) == ("number", -5, 5)
    assert literal["const"] == "stationary"


def test_field_bounds_reads_the_bounds_of_union_members():
    assert field_bounds(CycleSpec, "start") == (-5.0, 5.0)
    assert field_bounds(RunSpec, "rqmc_points") == (1.0, 65536.0)
    assert field_bounds(CycleSpec, "persistence") == (0.0, 1.0)


@pytest.mark.parametrize("section, key, value, expected", [
    ("macro", ("cycle", "start"), 9,
     "macro.cycle.start must be 'stationary' or a number of standard deviations from -5 to 5; got 9. Use 0 to "
     "start at today's conditions (the default), 2 to start two sds into a downturn, or 'stationary' to draw the "
     "start from the cycle's long-run distribution."),
    ("macro", ("cycle", "start"), True,
     "macro.cycle.start must be 'stationary' or a number of standard deviations from -5 to 5; got 'true'."),
    ("run", ("rqmc_points",), 48,
     "run.rqmc_points must be a power of 2 from 1 to 65536, or 'auto'; got 48. Use 32 or 64."),
    ("run", ("rqmc_points",), "some",
     "run.rqmc_points must be a power of 2 from 1 to 65536, or 'auto'; got 'some'. Use a power of 2 such as 32, "
     "or 'auto'."),
])
def test_a_bad_union_value_is_one_house_message(write_yaml, tiny_scenario_dict, section, key, value, expected):
    where = tiny_scenario_dict.setdefault(section, {})
    for part in key[:-1]:
        where = where.setdefault(part, {})
    where[key[-1]] = value
    path = write_yaml(tiny_scenario_dict)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert len(caught.value.problems) == 1, caught.value.problems
    assert caught.value.problems[0].startswith(f"{path}: {expected}")


def test_section_rules_and_rules_across_sections_are_reported_together(tiny_scenario_dict):
    tiny_scenario_dict["portfolio"]["segments"][1]["apr_pct"] = {"min": 30, "max": 20}
    tiny_scenario_dict["macro"]["shocks"] = [{"shape": "step", "variable": "unemployment", "size_pp": 1,
                                              "start_month": 99}]
    with pytest.raises(InputError) as caught:
        scenario_from_dict(tiny_scenario_dict, source="s.yaml")
    assert caught.value.problems == [
        "s.yaml: portfolio.segments[1].apr_pct must be a range with min <= max; got {'min': 30.0, 'max': 20.0}. "
        "Swap or correct the bounds.",
        "s.yaml: macro.shocks[0].start_month must be <= run.horizon_months (6); got 99. Start the shock inside the "
        "horizon or lengthen it."]


def test_a_section_built_in_python_keeps_its_rule():
    with pytest.raises(ValidationError, match="must be a range with min <= max"):
        RangePctSpec(min=30, max=20)


def _specs(spec):
    yield spec
    for name in type(spec).model_fields:
        value = getattr(spec, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Spec):
                yield from _specs(item)


@pytest.mark.parametrize("name", ["baseline", "severe_with_actions", "roll_rate_example"])
def test_the_resolved_view_reads_every_percent_as_today_s_fraction(name):
    """Bit for bit ``value / 100.0``, the conversion the engine made before the view existed."""
    checked = 0
    for spec in _specs(load_scenario(ROOT / "scenarios" / f"{name}.yaml")):
        view = Resolved(spec)
        for key, value in spec.model_dump().items():
            if key.endswith("_pct") and isinstance(value, float):
                assert getattr(view, key[:-len("_pct")]) == value / 100.0
                checked += 1
        with pytest.raises(AttributeError):
            getattr(view, next(iter(type(spec).model_fields)) + "_pct")
    assert checked > 20


def test_the_resolved_view_reads_percent_sections_and_tables():
    scenario = load_scenario(ROOT / "scenarios" / "roll_rate_example.yaml")
    segment = scenario.resolved.portfolio.segments[0]
    assert segment.apr.min == scenario.portfolio.segments[0].apr_pct.min / 100.0
    assert segment.starting_dpd.by_state == [v / 100.0 for v in scenario.portfolio.segments[0].starting_dpd_pct
                                             .by_state_pct]
    assert scenario.resolved.behaviour.structural.willingness.by_state[0] == 1.0
    matrix = scenario.resolved.behaviour.roll_rate.matrices["default"]
    assert matrix[0] == [v / 100.0 for v in scenario.behaviour.roll_rate.matrices["default"][0]]


PINNED_PERCENT_ARITHMETIC = {("simulator/model/portfolio.py", "_segment_loans")}
"""Draws made in percent and divided once at the end (the APR and other debt of a synthetic loan): their arithmetic
is pinned by the bit-identity digests, so the fraction is not taken before the draw."""


def _divides_a_percent_key_by_100(node):
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant) and node.right.value in (100, 100.0)):
        return False
    return any(isinstance(inner, ast.Attribute) and inner.attr.endswith("_pct") for inner in ast.walk(node.left))


def test_no_percent_key_is_divided_by_100_past_the_inputs():
    """Percent becomes a fraction once, in :mod:`simulator.inputs.resolved`: model, accounts and workflows read
    ``spec.resolved.x`` instead of dividing ``spec.x_pct`` by 100."""
    found = []
    for layer in ("model", "accounts", "workflows"):
        for path in sorted((ROOT / "simulator" / layer).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, (ast.FunctionDef, ast.Lambda, ast.Module)):
                    continue
                if (relative, getattr(function, "name", None)) in PINNED_PERCENT_ARITHMETIC:
                    continue
                for statement in (function.body if isinstance(function.body, list) else [function.body]):
                    if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
                        continue
                    found += [f"{relative}:{node.lineno}" for node in ast.walk(statement)
                              if _divides_a_percent_key_by_100(node)]
    assert not found, f"percent keys divided by 100 outside simulator/inputs: {found}"
