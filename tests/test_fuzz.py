"""Fuzzing the inputs: mutated scenario files, loan tapes and histories either load or raise the simulator's
InputError (never another exception), and what loads also runs at a tiny size without non-finite outputs.

Mutations (hypothesis): drop a key, rename it (a typo), duplicate a sibling's value
into it, retype or perturb its value (non-finite numbers, huge and negative numbers,
strings, lists, mappings, deep nesting). A few hundred examples, well under a minute.
"""
import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import simulator
from simulator.inputs.errors import InputError
from simulator.inputs.history import read_history
from simulator.inputs.loader import load_scenario
from simulator.model.portfolio import build_book
from simulator.workflows.results import write_json
from tests.test_tape import good_tape

BASELINE = yaml.safe_load(open("scenarios/baseline.yaml", encoding="utf-8"))

ODD_VALUES = st.sampled_from([math.nan, math.inf, -math.inf, "1e400", -1, 0, 1e9, -1e9, 1e300, "text", "", [],
                              {}, None, True, [[[[[[1]]]]]], {"a": {"b": {"c": 1}}}, 0.5, 150, "90"])


def key_paths(node, prefix=()):
    """Every path to a mapping key or list item in a parsed YAML document."""
    paths = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        paths.append(prefix + (key,))
        paths.extend(key_paths(value, prefix + (key,)))
    return paths


@st.composite
def mutated_scenario(draw):
    data = copy.deepcopy(BASELINE)
    for _ in range(draw(st.integers(1, 3))):
        paths = key_paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        operation = draw(st.sampled_from(["drop", "rename", "retype", "perturb", "duplicate"]))
        if operation == "drop":
            del parent[key]
        elif operation == "rename" and isinstance(parent, dict):
            parent[f"{key}x"] = parent.pop(key)
        elif operation == "perturb" and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
            parent[key] = parent[key] * draw(st.sampled_from([-1, 0, 0.01, 100, 1e6]))
        elif operation == "duplicate" and isinstance(parent, dict) and len(parent) > 1:
            other = draw(st.sampled_from(sorted(k for k in parent if k != key)))
            parent[key] = copy.deepcopy(parent[other])
        else:
            parent[key] = draw(ODD_VALUES)
    return data


def assert_finite_run(results):
    assert np.isfinite(results.aggregates).all()
    write_json("/dev/null", results.summary)  # strict JSON: any NaN or infinity left raises
    for name, stats in results.summary["metrics"].items():
        for key, value in stats.items():
            assert value is None or math.isfinite(value), (name, key, value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated_scenario())
def test_mutated_scenarios_load_or_say_why_and_what_loads_runs(tmp_path, data):
    path = tmp_path / "fuzzed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    try:
        scenario = load_scenario(path)
    except InputError as exc:
        assert exc.problems and all(problem.startswith(str(path)) for problem in exc.problems)
        event("refused")
        return
    event("loaded and ran")
    tiny = scenario.with_run(paths=2, horizon_months=3)
    if tiny.portfolio.source == "synthetic":
        tiny = tiny.with_loans(50)
    try:
        results = simulator.run(tiny)
    except InputError:
        return  # refused before running (e.g. a run too large for memory)
    assert_finite_run(results)


TAPE_VALUES = st.sampled_from([math.nan, math.inf, -math.inf, -5.0, 0.0, 1e15, 1e300, "x", "", 45.5, 200, 3])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(["balance", "annual_rate_pct", "remaining_term", "dpd", "segment", "income",
                               "savings", "other_debt", "amortisation", "score", "arrears", "loan_id",
                               "original_principal", "original_term"]),
       row=st.integers(0, 5), value=TAPE_VALUES, drop=st.booleans())
def test_mutated_tapes_load_or_say_why(tmp_path, tiny_scenario_dict, column, row, value, drop):
    frame = good_tape()
    if drop and column in frame:
        frame = frame.drop(columns=[column])
    else:
        values = frame[column].astype(object).tolist() if column in frame else [None] * len(frame)
        values[row] = value
        frame[column] = values
    frame.to_csv(tmp_path / "tape.csv", index=False)
    tiny_scenario_dict["portfolio"].update(source="tape", tape="tape.csv")
    tiny_scenario_dict["portfolio"].pop("n_loans", None)
    tiny_scenario_dict["run"].update(paths=2, horizon_months=3)
    path = tmp_path / "tape_scenario.yaml"
    path.write_text(yaml.safe_dump(tiny_scenario_dict), encoding="utf-8")
    try:
        scenario = load_scenario(path)
        build_book(scenario, 1)
    except InputError as exc:
        assert exc.problems
        return
    assert_finite_run(simulator.run(scenario))


HISTORY = pd.read_parquet("scenarios/sample_history.parquet").head(400)


@settings(max_examples=80, deadline=None)
@given(column=st.sampled_from(list(HISTORY.columns)), row=st.integers(0, len(HISTORY) - 1),
       value=st.sampled_from([math.nan, math.inf, -1.0, 1e300, "x", "", "2023-13", "current", 181, None]),
       drop=st.booleans())
def test_mutated_histories_load_or_say_why(tmp_path_factory, column, row, value, drop):
    frame = HISTORY.copy()
    if drop:
        frame = frame.drop(columns=[column])
    else:
        values = frame[column].astype(object).tolist()
        values[row] = value
        frame[column] = values
    path = tmp_path_factory.mktemp("history") / "history.csv"
    frame.to_csv(path, index=False)
    try:
        history = read_history(path)
    except InputError as exc:
        assert exc.problems
        return
    assert history.n_loans > 0
