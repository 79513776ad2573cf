"""Write ``docs/scenario-reference.md``, the scenario reference, from the schema's pydantic models.

Every key of a scenario file (dotted path), with its type, unit, default, range,
allowed values and description, is read from the models (the field's type and
its ``annotated_types`` constraints, ``Literal`` choices, ``Field`` description),
so the page cannot disagree with what the loader accepts. Each section ends with
an example cut from a shipped scenario under ``scenarios/``.

Run from the repository root after changing a scenario field::

    python docs/scripts/scenario_reference.py

``tests/test_docs.py`` fails while the committed page differs from what this writes.
"""
from __future__ import annotations

import inspect
import re
import sys
import types
import typing
from pathlib import Path

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:   # run as a script from anywhere: import this checkout's package
    sys.path.insert(0, str(ROOT))

from simulator.inputs.schema import Scenario, ScenarioSetSpec  # noqa: E402  (the schema's one import)

PAGE = ROOT / "docs" / "scenario-reference.md"
COMMAND = "python docs/scripts/scenario_reference.py"

EXAMPLES = {
    "run": [("baseline.yaml", "run", False)],
    "portfolio": [("baseline.yaml", "portfolio", True)],
    "macro": [("severe.yaml", "macro", False), ("covid_shock.yaml", "macro", False)],
    "behaviour": [("baseline.yaml", "behaviour", False), ("roll_rate_example.yaml", "behaviour", False)],
    "provisioning": [("baseline.yaml", "provisioning", False)],
    "funding": [("severe.yaml", "funding", False), ("baseline.yaml", "funding", False)],
    "actions": [("severe_with_actions.yaml", "actions", False), ("underwriting.yaml", "actions", False)],
    "weighted_scenarios": [("ifrs9_weighted.yaml", "weighted_scenarios", False)],
}
"""Per section: (shipped scenario, its top-level key, keep only a list's first item)."""

UNITS = (("_per_month", "a month"), ("_pct", "percent"), ("_pp", "percentage points"), ("_dpd", "days past due"),
         ("_months", "months"), ("_month", "month"), ("months", "months"))
"""Units read from a key's suffix (the schema's naming rule)."""


# ----------------------------------------------------------------- types
def _unwrap(annotation):
    """The bare type and the constraints carried by ``Annotated`` metadata."""
    constraints = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *metadata = typing.get_args(annotation)
        for item in metadata:
            constraints.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, constraints


def _members(annotation):
    """The alternatives of a union (``Optional`` included), else the type itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return list(typing.get_args(annotation))
    return [annotation]


def _models(annotation):
    """The pydantic models reachable in a type (through unions, lists and mappings), in order."""
    annotation, _ = _unwrap(annotation)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation) if typing.get_origin(annotation) is not typing.Literal else ():
        found += [model for model in _models(arg) if model not in found]
    return found


def _range(constraints):
    """Interval text from ``Ge``/``Gt``/``Le``/``Lt`` (and lengths from ``MinLen``/``MaxLen``)."""
    low = high = None
    parts = []
    for item in constraints:
        if isinstance(item, annotated_types.Ge):
            low = f"[{_number(item.ge)}"
        elif isinstance(item, annotated_types.Gt):
            low = f"({_number(item.gt)}"
        elif isinstance(item, annotated_types.Le):
            high = f"{_number(item.le)}]"
        elif isinstance(item, annotated_types.Lt):
            high = f"{_number(item.lt)})"
        elif isinstance(item, annotated_types.MinLen) and item.min_length:
            parts.append(f"at least {item.min_length}")
        elif isinstance(item, annotated_types.MaxLen):
            parts.append(f"at most {item.max_length}")
    if low or high:
        parts.insert(0, f"{low or '(-inf'}, {high or 'inf)'}")
    return "; ".join(parts)


def _number(value):
    """A bound as written in a scenario (``1e12`` rather than ``1000000000000.0``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    if isinstance(value, int) and value >= 2**62:
        return f"2^{value.bit_length()} - 1" if value == 2**value.bit_length() - 1 else str(value)
    if isinstance(value, float):
        return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{value:g}")
    return str(value)


def _type(annotation):
    """(type text, range text, allowed values) of a field's type."""
    annotation, constraints = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "choice", _range(constraints), [repr_value(v) for v in typing.get_args(annotation)]
    if origin in (typing.Union, types.UnionType):
        texts, ranges, allowed = [], [], []
        for member in _members(annotation):
            if member is type(None):
                continue
            text, span, choices = _type(member)
            if choices:
                allowed += choices
                text = "choice"
            if text not in texts:
                texts.append(text)
            if span:
                ranges.append(span)
        nullable = type(None) in _members(annotation)
        return " or ".join(texts) + (" or null" if nullable else ""), "; ".join(ranges), allowed
    if origin in (list, tuple):
        item_text, item_range, item_allowed = _type(typing.get_args(annotation)[0])
        span = "; ".join(part for part in (_range(constraints) and f"{_range(constraints)} items",
                                           _each(item_range)) if part)
        return f"list of {item_text}{'s' if item_text == 'section' else ''}", span, item_allowed
    if origin is dict:
        key, value = typing.get_args(annotation)
        value_text, value_range, value_allowed = _type(value)
        return (f"mapping of {_type(key)[0]} to {value_text}", _each(value_range),
                value_allowed)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return "section", _range(constraints), []
    name = {int: "integer", float: "number", str: "text", bool: "true or false"}.get(annotation,
                                                                                  getattr(annotation, "__name__", str(annotation)))
    return name, _range(constraints), []


def _each(span):
    """A range that applies to every item of a list or mapping (once, however deep the nesting)."""
    return span if not span or span.startswith("each in") else f"each in {span}"


def repr_value(value):
    """A value as it would be written in YAML."""
    if value is None:
        return "null"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, BaseModel):
        return repr_value(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {repr_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(repr_value(v) for v in value) + "]"
    if isinstance(value, float):
        return _number(value)
    return str(value)


# ----------------------------------------------------------------- rows
def _default(field):
    """The default as written in YAML; ``required`` when there is none."""
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel) and all(not f.is_required() for f in type(value).model_fields.values()):
        return "see its keys"
    return f"`{repr_value(value)}`"


def _unit(name, description, parent_unit=""):
    """The key's unit: money when its description says currency, else from its suffix or its section's."""
    if "currency" in (description or ""):
        return "money"
    return next((unit for suffix, unit in UNITS if name.endswith(suffix)), parent_unit)


def _cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ")


def field_rows(model, prefix, parent_unit=""):
    """Table rows (one per key, nested models' keys after their parent) and the unions of models met.

    A key without a unit of its own takes its section's (``rates_pct.normal`` is in percent).
    """
    rows, unions = [], []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        type_text, span, allowed = _type(field.annotation)
        span = "; ".join(part for part in (_range(field.metadata), span) if part)
        models = _models(field.annotation)
        container = typing.get_origin(_unwrap(_members(_unwrap(field.annotation)[0])[0])[0])
        unit = _unit(name, field.description, parent_unit)
        rows.append((f"`{path}`", type_text, unit, _default(field),
                     span, ", ".join(f"`{v}`" for v in allowed), _cell(field.description)))
        if len(models) == 1:
            child = path + ("[]" if container in (list, tuple) else ".<name>" if container is dict else "")
            sub_rows, sub_unions = field_rows(models[0], child + ".", unit if unit == "percent" else "")
            rows += sub_rows
            unions += sub_unions
        elif len(models) > 1:
            unions.append((path + ("[]" if container in (list, tuple) else ""), field, models))
    return rows, unions


def _table(rows):
    head = ["key", "type", "unit", "default", "range", "allowed values", "description"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _doc(model):
    """A model's docstring as one paragraph per blank-line-separated block."""
    return inspect.cleandoc(model.__doc__ or "")


# ----------------------------------------------------------------- examples
def example(file, key, first_item_only):
    """The lines of ``key``'s block in a shipped scenario, optionally cut after a list's first item."""
    lines = (ROOT / "scenarios" / file).read_text(encoding="utf-8").splitlines()
    start = lines.index(f"{key}:")
    end = next((i for i in range(start + 1, len(lines))
                if lines[i] and not lines[i].startswith((" ", "#"))), len(lines))
    block = lines[start:end]
    while block and not block[-1].strip():
        block.pop()
    if first_item_only:
        items = [i for i, line in enumerate(block) if re.match(r"^\s*- ", line)]
        indent = re.match(r"^(\s*)- ", block[items[0]]).group(1) if items else ""
        later = [i for i in items[1:] if block[i].startswith(indent + "- ")]
        if later:
            block = block[:later[0]] + [f"{indent}# ... (the other items alike)"]
    return block


def _examples(section):
    out = []
    for file, key, first_item_only in EXAMPLES.get(section, []):
        out += ["", f"From `scenarios/{file}`:", "", "```yaml", *example(file, key, first_item_only), "```"]
    return out


# ----------------------------------------------------------------- page
def _discriminator(annotation):
    """The key naming a union's variant (``Field(discriminator=...)``), looked for through lists."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *metadata = typing.get_args(annotation)
        found = [item.discriminator for item in metadata if isinstance(item, FieldInfo) and item.discriminator]
        if found:
            return found[0]
    return next((key for arg in typing.get_args(annotation) if (key := _discriminator(arg))), None)


def _union_section(path, field, models):
    """A discriminated union (the macro shocks): the shared keys, then one table per variant."""
    discriminator = field.discriminator or _discriminator(field.annotation)
    lines = ["", f"### `{path}`: one of {len(models)} kinds", ""]
    if discriminator:
        kinds = [typing.get_args(m.model_fields[discriminator].annotation)[0] for m in models]
        shared = [name for name in models[0].model_fields
                  if all(name in m.model_fields and m.model_fields[name].is_required() for m in models)]
        lines.append(f"Each item names its kind with `{discriminator}` ({', '.join(f'`{k}`' for k in kinds)}); "
                     f"required in every item: {', '.join(f'`{name}`' for name in shared)}.")
        for name in shared:
            _, _, allowed = _type(models[0].model_fields[name].annotation)
            if allowed and name != discriminator:
                lines.append(f"`{name}` is one of {', '.join(f'`{v}`' for v in allowed)}.")
    for model in models:
        kind = (typing.get_args(model.model_fields[discriminator].annotation)[0]
                if discriminator else model.__name__)
        rows, _ = field_rows(model, f"{path}.")
        lines += ["", f"#### `{discriminator}: {kind}`" if discriminator else f"#### {kind}", "",
                  _doc(model), "", *_table(rows)]
    return lines


def _section(title, model, prefix, section_key):
    rows, unions = field_rows(model, prefix)
    lines = ["", f"## {title}", "", _doc(model), "", *_table(rows)]
    for path, field, models in unions:
        lines += _union_section(path, field, models)
    lines += _examples(section_key)
    return lines


def render():
    """The page's Markdown text."""
    lines = [
        "# Scenario reference",
        "",
        f"<!-- Generated from the schema by `{COMMAND}`; do not edit by hand. -->",
        "",
        "Every key of a scenario file, generated from the schema (the pydantic models the",
        "loader validates against): its type, unit, default, range and allowed values, and",
        "what it means. A range is an interval: `[0, 100]` includes both ends, `(0, 100]`",
        "excludes 0. Every key ending in `_pct` is in percent (`unemployment_pct: 5.2` is",
        "5.2%), `_pp` in percentage points; money is in the book's currency. Unknown keys",
        "are refused with the nearest valid key suggested. `extends: other.yaml` (relative",
        "to the file) inherits another scenario and deep-merges this file over it. Rules",
        "that tie several keys together (segment shares summing to 100, thresholds in",
        "order, ...) are checked when the file is loaded; see [Scenarios](scenarios.md).",
        "",
        f"Regenerate this page with `{COMMAND}` after changing a field.",
    ]
    top = [(name, field) for name, field in Scenario.model_fields.items() if not _models(field.annotation)]
    rows = [(f"`{name}`", *_type(field.annotation)[:1], "", _default(field),
             "", "", _cell(field.description)) for name, field in top]
    lines += ["", "## Top level", "", _doc(Scenario), "", *_table(rows)]
    for name, field in Scenario.model_fields.items():
        model = (_models(field.annotation) or [None])[0]
        if model is not None:
            lines += _section(f"`{name}`", model, f"{name}.", name)
    lines += _section("Scenario sets (`simulate ecl`)", ScenarioSetSpec, "", "weighted_scenarios")
    return "\n".join(lines) + "\n"


def main():
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
