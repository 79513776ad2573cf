"""A scenario section read with its percentages as fractions: the one place percent becomes a fraction.

Scenario files write rates in percent: keys ending in ``_pct``, sections of
percentages (:class:`~simulator.inputs.schema.PercentSpec`, such as
``behaviour.structural.willingness``) and the roll-rate matrices. The model, the
accounts and the workflows compute with fractions: they read a section through its
:attr:`~simulator.inputs.schema.Spec.resolved` view, which gives the key ``x_pct``
as ``x``, its value ``/ 100.0`` (element by element for a list or a mapping;
``apr_pct.min`` reads as ``apr.min``). Every other key reads as it is, a section as
its own view.

Examples
--------
>>> from simulator.inputs.schema import RecoverySpec
>>> RecoverySpec(rate_pct=9.4).resolved.rate == 9.4 / 100.0
True
"""
from __future__ import annotations

from pydantic import BaseModel

PERCENT_SUFFIX = "_pct"
PERCENT_UNIT = {"unit": "percent"}
"""``json_schema_extra`` of a percent field whose key does not end in ``_pct`` (the roll-rate matrices)."""


def as_fraction(value):
    """``value`` in percent as a fraction: a number ``/ 100.0``, element by element in lists and mappings."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: as_fraction(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_fraction(item) for item in value]
    return value / 100.0


class Resolved:
    """A read-only view of a scenario section whose percentages read as fractions.

    Parameters
    ----------
    spec : simulator.inputs.schema.Spec
        The section.

    Notes
    -----
    ``view.x`` is, in this order: the percent key or property ``x_pct`` of the
    section as a fraction (a section of percentages as its view); the key ``x`` as a
    fraction when every number of the section is a percentage or when the field says
    so; any other key, property or method ``x`` as it is, a section or a list of
    sections as their views. Reading ``view.x_pct`` is refused, so that code
    reading a view cannot mix units.
    """

    __slots__ = ("_spec",)

    def __init__(self, spec):
        object.__setattr__(self, "_spec", spec)

    def __getattr__(self, name):
        spec = self._spec
        fields = type(spec).model_fields
        if name.endswith(PERCENT_SUFFIX):
            raise AttributeError(f"a resolved view reads {name} as {name[:-len(PERCENT_SUFFIX)]!r}, a fraction")
        percent_name = name + PERCENT_SUFFIX
        if percent_name in fields or isinstance(getattr(type(spec), percent_name, None), property):
            value = getattr(spec, percent_name)
            return Resolved(value) if isinstance(value, BaseModel) else as_fraction(value)
        if name in fields and (getattr(spec, "all_percent", False) or fields[name].json_schema_extra == PERCENT_UNIT):
            return as_fraction(getattr(spec, name))
        value = getattr(spec, name)
        if isinstance(value, BaseModel):
            return Resolved(value)
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return [Resolved(item) for item in value]
        return value

    def __setattr__(self, name, value):
        raise AttributeError("a resolved view is read-only")

    def __repr__(self):
        return f"Resolved({self._spec!r})"
