"""Loading scenario files: hardened YAML, ``extends``, scenario sets, and house-style messages.

``extends: other.yaml`` inherits another scenario and deep-merges this file's keys
over it (mappings merge key by key, lists and scalars replace), so ``adverse.yaml``
states only what differs from ``baseline.yaml``. The YAML reader refuses duplicate
keys, deep nesting, alias bombs and oversized files.

Loading reports every problem of a file at once, as :class:`~simulator.inputs.errors.InputError`
messages of the form ``<file>: <field> must be <constraint>; got <value>. <fix>``:
pydantic's errors (a key's type, a section's rules, see :mod:`simulator.inputs.schema`)
and then, once every section is valid, the rules spanning sections
(:mod:`simulator.inputs.checks`).
"""
from __future__ import annotations

import difflib
import typing
import warnings
from pathlib import Path
from typing import Annotated, Union

import yaml
from pydantic import BaseModel, ValidationError

from .checks import ScenarioWarning, cross_section_problems, scenario_warnings
from .errors import RULE_ERROR, InputError, excerpt, must_be
from .schema import SECTION_RULES_OFF, Scenario, ScenarioSetSpec, section_problems_of
from .series import read_backtest_history, with_table_levels

# ----------------------------------------------------------------------- loading
MAX_SCENARIO_BYTES = 1_000_000
"""A scenario file is a few KB; larger files are refused before they are parsed."""
MAX_NESTING = 50
"""Deepest nesting of mappings and lists a scenario file may have (the schema needs 6)."""
MAX_NODES = 100_000
"""Most values a scenario file may hold once its aliases are expanded (a shipped scenario holds about 400)."""


class ScenarioTooLarge(yaml.YAMLError):
    """A scenario file beyond :data:`MAX_NESTING` or :data:`MAX_NODES` (the parser stops there)."""

    def __init__(self, message, mark):
        super().__init__(message)
        self.problem, self.problem_mark = message, mark


class ScenarioLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses duplicate keys, deep nesting and alias bombs.

    A subclass: the global ``SafeLoader`` is untouched. Nesting is counted while the
    document is composed (before Python's recursion limit could be hit); the number
    of values with every alias expanded is counted on the composed graph, whose
    aliases are shared nodes, so a "billion laughs" file is refused in
    milliseconds without ever being expanded.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise ScenarioTooLarge(f"nesting deeper than {MAX_NESTING} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node, sizes):
    """Values under ``node`` with every alias expanded, memoised by node (aliases are shared nodes)."""
    if id(node) in sizes:
        return sizes[id(node)]
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, sizes) for item in node.value)
    else:
        size = 1
    sizes[id(node)] = min(size, MAX_NODES + 1)
    return sizes[id(node)]


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


ScenarioLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text):
    """The document in ``text`` (None if empty), refusing documents beyond the limits."""
    loader = ScenarioLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise ScenarioTooLarge(f"more than {MAX_NODES:,} values once its aliases are expanded "
                                   "(an alias bomb?)", node.start_mark)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read_yaml(path):
    try:
        size = Path(path).stat().st_size
        if size > MAX_SCENARIO_BYTES:
            raise InputError(f"{path}: is {size:,} bytes; a scenario file may have at most {MAX_SCENARIO_BYTES:,} "
                             "(a scenario is a few KB). Check you gave the scenario, not a data file; loan tapes "
                             "go in portfolio.tape.")
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found. Check the path and the working directory.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({excerpt(exc)}). Check it is a UTF-8 text file you can read.") \
            from None
    try:
        data = _parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{path}: YAML syntax error at {where}: {excerpt(problem)}. Fix the file's syntax there.") \
            from None
    except ScenarioTooLarge as exc:
        mark = exc.problem_mark
        raise InputError(f"{path}: refused at line {mark.line + 1}, column {mark.column + 1}: {exc.problem}. "
                         "A scenario needs neither; write the values out.") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: YAML syntax error: {excerpt(exc)}. Fix the file's syntax.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(must_be(path, "the top level", "a mapping of sections (run, portfolio, ...)",
                                 type(data).__name__, "Start the file with 'portfolio:' and the other sections."))
    return data


def _deep_merge(base, override):
    """Merge ``override`` into ``base``: mappings recursively, everything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _absolutise_tape(data, directory):
    """Paths the file names (its loan tape, its shocks' ``levels_from`` tables, its back-test's series) made absolute
    from its folder."""
    portfolio = data.get("portfolio")
    if isinstance(portfolio, dict) and isinstance(portfolio.get("tape"), str):
        tape = Path(portfolio["tape"])
        if not tape.is_absolute():
            portfolio["tape"] = str((directory / tape).resolve())
    macro = data.get("macro")
    shocks = macro.get("shocks") if isinstance(macro, dict) else None
    backtest = data.get("backtest")
    tables = [shock.get("levels_from") if isinstance(shock, dict) else None
              for shock in (shocks if isinstance(shocks, list) else [])]
    tables += [backtest.get(key) for key in ("macro", "observed")] if isinstance(backtest, dict) else []
    for table in tables:
        if isinstance(table, dict) and isinstance(table.get("file"), str) and not Path(table["file"]).is_absolute():
            table["file"] = str((directory / table["file"]).resolve())


def _load_raw(path, chain):
    """Read ``path`` and everything it extends, merged (child over parent)."""
    path = Path(path).resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in chain + [path])
        raise InputError(f"{chain[-1]}: extends makes a cycle ({cycle}). Remove one of the 'extends' keys.")
    data = _read_yaml(path)
    _absolutise_tape(data, path.parent)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise InputError(must_be(path, "extends", "a file name", parent_name, "Write e.g. 'extends: baseline.yaml'."))
    parent_path = (path.parent / parent_name)
    if not parent_path.exists():
        raise InputError(f"{path}: extends names {parent_name!r}, which does not exist at {parent_path}. "
                         "Fix the name; it is relative to this file's folder.")
    parent = _load_raw(parent_path, chain + [path])
    parent.pop("name", None)
    parent.pop("description", None)
    return _deep_merge(parent, data)


def load_scenario(path):
    """Load, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        With every problem found in the file.
    """
    path = Path(path)
    data = _load_raw(path, [])
    if "weighted_scenarios" in data:
        raise InputError(f"{path}: is a scenario set (it lists weighted_scenarios), not a scenario. Run it with "
                         f"`simulate ecl {path}`, or run one of its scenarios with `simulate run`.")
    data.setdefault("name", path.stem)
    scenario = scenario_from_dict(data, source=str(path))
    if scenario.backtest is not None:
        read_backtest_history(scenario.backtest, str(path))  # its files, columns and dates are checked as it loads
    for message in scenario_warnings(scenario, path):
        warnings.warn(ScenarioWarning(message), stacklevel=2)
    return scenario


def is_scenario_set(path):
    """True if the YAML file at ``path`` is a scenario set (has ``weighted_scenarios``)."""
    return "weighted_scenarios" in _read_yaml(Path(path))


def load_scenario_set(path):
    """Load an IFRS 9 scenario set and every scenario it lists.

    Returns
    -------
    spec : ScenarioSetSpec
    scenarios : list of Scenario
        In the order listed, with the set's run options applied.

    Raises
    ------
    InputError
        Bad set file, weights not summing to 100, unreadable scenarios, or scenarios
        that do not share one book and horizon.
    """
    path = Path(path)
    data = _read_yaml(path)
    if "weighted_scenarios" not in data and ("portfolio" in data or "extends" in data):
        raise InputError(f"{path}: is a scenario, not a scenario set (it has no weighted_scenarios). Run it with "
                         f"`simulate run {path}`, or list it with weights in a set file (see "
                         "scenarios/ifrs9_weighted.yaml).")
    data.setdefault("name", path.stem)
    spec, problems = _validated(ScenarioSetSpec, data, str(path))
    scenarios = []
    for i, item in enumerate(spec.weighted_scenarios):
        try:
            scenarios.append(load_scenario(path.parent / item.scenario).with_run(paths=spec.run.paths,
                                                                                 seed=spec.run.seed))
        except InputError as exc:
            problems.extend(f"{path}: weighted_scenarios[{i}]: {problem}" for problem in exc.problems)
    if scenarios and not problems:
        first = scenarios[0]
        for i, scenario in enumerate(scenarios[1:], start=1):
            if scenario.portfolio != first.portfolio or scenario.run.horizon_months != first.run.horizon_months:
                problems.append(must_be(path, f"weighted_scenarios[{i}].scenario",
                                        f"a scenario on the same book and horizon as '{first.name}'",
                                        spec.weighted_scenarios[i].scenario,
                                        "Weighted ECL is for one book: use scenarios that extend the same "
                                        "baseline and change only the economy, behaviour or funding."))
    if problems:
        raise InputError(problems)
    return spec, scenarios


def scenario_from_dict(data, source="<scenario>"):
    """Validate a scenario given as a (merged) mapping; see :func:`load_scenario`.

    Every problem is reported at once: the keys' and the sections' (pydantic's
    errors), and, when every key is valid, the rules spanning sections.
    """
    scenario, problems = _validated(Scenario, data, source)
    problems += cross_section_problems(scenario, source)
    if problems:
        raise InputError(problems)
    return with_table_levels(scenario, source)


def _validated(model, data, source):
    """``data`` validated as ``model``, and the broken rules of its sections as house-style messages.

    Raises
    ------
    InputError
        When a key is wrong (its type, a bound, unknown): every such problem of the file.
    """
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        if not all(err["type"] == RULE_ERROR and err["ctx"]["section"] for err in exc.errors()):
            raise InputError(describe_validation_error(exc, source, model)) from None
    # every key is valid: pydantic stops at a section's first broken rule, so every section is asked
    spec = model.model_validate(data, context=SECTION_RULES_OFF)
    return spec, [must_be(source, _joined(where, problem.field), problem.constraint, problem.got, problem.fix)
                  for where, problem in section_problems_of(spec)]


SHOCK_SHAPES = ("step", "ramp", "hump", "path")
"""The tags of ``macro.shocks`` items; pydantic puts the one it tried in an error's location."""


def describe_validation_error(exc, source, root):
    """Every error of a pydantic ``ValidationError`` from validating ``root`` as house-style messages."""
    return [message for err in exc.errors() for message in _describe(err, source, root)]


def _format_loc(loc):
    """``('macro', 'shocks', 0, 'hump', 'peak_month')`` -> ``macro.shocks[0].peak_month``.

    The union tag pydantic puts after a shock's index is not a key of the file, so it is dropped.
    """
    text = ""
    previous = None
    for part in loc:
        skip = isinstance(previous, int) and part in SHOCK_SHAPES
        previous = part
        if skip:
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "the top level"


def _describe(err, source, root):
    """One pydantic error as house-style messages (``root``: the model validated); a broken rule of a section
    (:data:`~simulator.inputs.errors.RULE_ERROR`) gives one message per problem it carries."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == RULE_ERROR:
        where = _format_loc(loc) if loc else ""
        return [must_be(source, _joined(where, problem.field), problem.constraint, problem.got, problem.fix)
                for problem in err["ctx"]["problems"]]
    if kind == "extra_forbidden":
        valid = _valid_keys(loc[:-1], root)
        near = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"Did you mean '{near[0]}'?" if near else f"Valid keys here: {', '.join(valid)}."
        return [f"{source}: unknown key '{_format_loc(loc)}'. {hint}"]
    if kind == "missing":
        return [f"{source}: {_format_loc(loc)} is required but missing. Add it to the file."]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        shape = err.get("input", {}).get("shape") if isinstance(err.get("input"), dict) else None
        return [must_be(source, f"{_format_loc(loc)}.shape", f"one of {', '.join(map(repr, SHOCK_SHAPES))}", shape,
                        "Give each shock a 'shape' key (see docs/scenario-reference.md, macro.shocks).")]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return [must_be(source, _format_loc(loc), "a mapping of keys", err.get("input"),
                        "Write the section as 'key: value' lines indented under its name.")]
    constraint = err["msg"]
    if kind == "too_short":
        constraint = f"a list with at least {err['ctx']['min_length']} item(s)"
    for prefix in ("Input should be ", "Value error, "):
        if constraint.startswith(prefix):
            constraint = constraint[len(prefix):]
    field = _field_info(loc, root)
    fix = f"Expected {field.description}." if field is not None and field.description else \
        "Correct the value (see docs/scenario-reference.md)."
    return [must_be(source, _format_loc(loc), constraint, err.get("input"), fix)]


def _joined(where, field):
    """A section's place and a key relative to it: ``macro.shocks[0]`` and ``end_month`` -> ``macro.shocks[0].end_month``."""
    if not where or not field:
        return where or field or "the top level"
    return where + field if field.startswith("[") else f"{where}.{field}"


def _walk(loc, root):
    """Follow ``loc`` through the schema from ``root``; return the annotation reached and its field info."""
    annotation = root
    field = None
    for part in loc:
        annotation = _unwrap(annotation, part)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if isinstance(part, str) and part in annotation.model_fields:
                field = annotation.model_fields[part]
                annotation = field.annotation
                continue
            if isinstance(part, str):
                # discriminator tag of a union member, e.g. 'hump'
                continue
        field = None
    return annotation, field


def _unwrap(annotation, part):
    """Strip Optional/Annotated/list/dict/union layers so ``part`` can be looked up."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin is Union:
            members = [a for a in args if a is not type(None)]
            chosen = members[0]
            for member in members:
                inner = typing.get_args(member)[0] if typing.get_origin(member) is Annotated else member
                if isinstance(inner, type) and issubclass(inner, BaseModel) and "shape" in inner.model_fields:
                    if part in typing.get_args(inner.model_fields["shape"].annotation):
                        chosen = inner
            if len(members) == 1 or chosen is not members[0] or not isinstance(part, int):
                annotation = chosen
            else:
                return annotation
        elif origin in (list, tuple) and isinstance(part, int):
            annotation = args[0]
            return annotation
        elif origin is dict and not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            annotation = args[1]
            return annotation
        else:
            return annotation


def _valid_keys(loc, root):
    annotation, _ = _walk(loc, root)
    annotation = _unwrap(annotation, loc[-1] if loc else None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _field_info(loc, root):
    _, field = _walk(loc, root)
    return field
