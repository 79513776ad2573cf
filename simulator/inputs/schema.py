"""The scenario schema: one typed, frozen pydantic model per section of a scenario file.

A scenario is a YAML file with the sections ``run``, ``portfolio``, ``macro``,
``behaviour``, ``provisioning``, ``funding`` and ``actions`` (read by
:mod:`simulator.inputs.loader`). Every key ending in ``_pct`` is written in percent
(``5.2`` means 5.2%); :attr:`Spec.resolved` reads them as fractions, the one place
the conversion happens.

Each rule lives beside what it constrains: a rule about one key in the key's type
(bounds, allowed values, unions such as ``macro.cycle.start``), so that the JSON
schema (:meth:`Scenario.model_json_schema`) and :func:`field_bounds` see it; a rule
about one section in that section's :meth:`Spec.section_problems`. Rules spanning
sections are in :mod:`simulator.inputs.checks`.
"""
from __future__ import annotations

import datetime
import typing
from typing import Annotated, ClassVar, Literal, Optional, Union

import yaml
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo,
                      WrapValidator, model_validator)
from pydantic_core import PydanticCustomError

from .errors import RULE_ERROR, Problem
from .resolved import PERCENT_UNIT, Resolved

DPD_STATE_KEYS = ("current", "dpd_1_30", "dpd_31_60", "dpd_61_90",
                  "dpd_91_120", "dpd_121_150", "dpd_151_180")
"""Keys of the live delinquency states, in order; index = months past due."""

N_LIVE_STATES = len(DPD_STATE_KEYS)
ROLL_RATE_COLUMNS = DPD_STATE_KEYS + ("charged_off", "closed")


MAX_MONTH = 1200
"""Months in a scenario (start, end, peak, hold, decay) are at most this (100 years)."""
MAX_MONEY = 1e12
"""Amounts in a scenario (a median loan or income, a cost) are at most this, in the book's currency."""


MAX_NAME_CHARACTERS = 100
"""A name (of a scenario, a segment, a liability) is at most this long: it becomes a directory, a column, a label."""
RESERVED_SEGMENT_NAMES = ("all",)
"""Segment names the results use themselves: ``all`` is the whole book's row in ``by_segment`` and the series."""


NAME_RULE = (f"a name of 1 to {MAX_NAME_CHARACTERS} characters, not a path (no leading dot, none of "
             "/ \\ : * ? \" < > | or control characters)")


def _a_name(value):
    """Refuse a name that is not a plain name: too long, a path (``../x``, ``/tmp/x``), control characters, a leading
    dot."""
    if not value.strip() or len(value) > MAX_NAME_CHARACTERS or value.startswith(".") or \
            any(c in value for c in '/\\:*?"<>|') or any(ord(c) < 32 for c in value):
        raise rule_error([Problem("", NAME_RULE, value, "Give a short name such as severe_2026 (it names the run's "
                                                         "directory under runs/).")])
    return value


Name = Annotated[str, AfterValidator(_a_name)]
"""A name: 1 to :data:`MAX_NAME_CHARACTERS` characters, never a path (it names directories under ``runs/``)."""


def _segment_name(value):
    if value in RESERVED_SEGMENT_NAMES:
        raise rule_error([Problem("", f"not {' or '.join(map(repr, RESERVED_SEGMENT_NAMES))}", value,
                                  "That name is the whole book's row in the results; rename the segment.")])
    return value


SECTION_RULES_OFF = {"section_rules": False}
"""Validation context that skips the sections' own rules (to check the rules spanning sections all the same)."""


def rule_error(problems, section=False):
    """The pydantic error that carries the :class:`~simulator.inputs.errors.Problem` s of one value or section.

    ``section`` says they break a rule of a section (:meth:`Spec.section_problems`) rather than a key's type.
    """
    summary = "\n".join(f"{p.field + ' ' if p.field else ''}must be {p.constraint}; got {p.got!r}. {p.fix}"
                        for p in problems)
    return PydanticCustomError(RULE_ERROR, "{summary}",
                               {"problems": list(problems), "section": section, "summary": summary})


def one_of(*members, says, fix):
    """A union type whose failure is one house-style message instead of one per member.

    Parameters
    ----------
    *members : types
        The union's members, each with its own constraints (``Annotated[float, Field(ge=-5, le=5)]``).
    says : str
        The constraint in words ("'stationary' or a number from -5 to 5").
    fix : str or callable
        How to fix a bad value; a callable gets the value.
    """
    def collapse(value, handler):
        try:
            return handler(value)
        except ValidationError:
            how = fix(value) if callable(fix) else fix
            raise rule_error([Problem("", says, value, how)]) from None
    return Annotated[Union[members], WrapValidator(collapse)]


def _power_of_two(value):
    if value & (value - 1):
        raise ValueError("not a power of 2")
    return value


def _powers_of_two_near(value):
    """How to fix a bad ``run.rqmc_points``: the powers of 2 either side of it."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 < value < 65536:
        return f"Use {1 << (value.bit_length() - 1)} or {1 << value.bit_length()}."
    return "Use a power of 2 such as 32, or 'auto'."


def _numbers_in(annotation):
    """True if ``annotation`` holds numbers anywhere: a plain int or float, a ``Literal`` of numbers
    (``Literal[0, 30, ...]``), or a union, list or mapping with such a member, item or value."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _numbers_in(typing.get_args(annotation)[0])
    if origin is Literal:
        return any(isinstance(member, (int, float)) and not isinstance(member, bool)
                   for member in typing.get_args(annotation))
    if origin in (Union, list, tuple, dict):
        return any(_numbers_in(member) for member in typing.get_args(annotation))
    return annotation in (int, float)


def _booleans_as_text(value):
    """``value`` with every boolean (in lists and mapping values too) as the text ``'true'``/``'false'``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return [_booleans_as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _booleans_as_text(item) for key, item in value.items()}
    return value


class Spec(BaseModel):
    """Base of every scenario section: unknown keys refused, instances frozen, no booleans as numbers.

    A section with rules about several of its keys states them in
    :meth:`section_problems`; pydantic reports them with the section's place in
    the file, together with every other problem of the file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, data):
        """YAML reads ``yes``/``true`` as booleans, which pydantic would take as 1 (or as 0 for
        ``Literal[0, 30, ...]``).

        Such values, in a number field or inside a list or mapping of numbers, are
        handed on as the text ``'true'``/``'false'``, so the field refuses them with
        its own path and constraint.
        """
        if not isinstance(data, dict):
            return data
        numeric = {name for name, field in cls.model_fields.items() if _numbers_in(field.annotation)}
        return {key: (_booleans_as_text(value) if key in numeric else value) for key, value in data.items()}

    def section_problems(self):
        """What breaks a rule about this section as a whole (none here; sections with such rules override it).

        Returns
        -------
        list of Problem
            Each with its key relative to the section (``""``: the section itself).
        """
        return []

    @model_validator(mode="after")
    def _section_rules(self, info: ValidationInfo):
        if info.context != SECTION_RULES_OFF:
            problems = self.section_problems()
            if problems:
                raise rule_error(problems, section=True)
        return self

    @property
    def resolved(self):
        """This section with every percent read as a fraction (see :class:`~simulator.inputs.resolved.Resolved`)."""
        return Resolved(self)


def section_problems_of(spec, where=""):
    """Every broken section rule in ``spec`` and the sections under it, each with the place of its section.

    pydantic stops at the first section whose rule is broken (a scenario whose segment
    is wrong never asks the portfolio); this asks them all, the section before its keys.

    Returns
    -------
    list of (str, Problem)
        The section's place (``portfolio.segments[2].apr_pct``; ``""``: the top level) and the problem.
    """
    found = [(where, problem) for problem in spec.section_problems()]
    for name in type(spec).model_fields:
        value = getattr(spec, name)
        place = f"{where}.{name}" if where else name
        if isinstance(value, Spec):
            found += section_problems_of(value, place)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Spec):
                    found += section_problems_of(item, f"{place}[{i}]")
    return found


def field_bounds(spec, name):
    """The bounds ``(lower, upper)`` of the number field ``name`` of the model ``spec``, read from its type.

    The bounds of a list's items and of a union's numeric member count too (``macro.cycle.start``: -5, 5);
    ``-inf``/``inf`` where there are none; strict bounds (``gt``, ``lt``) are returned as they are.
    """
    field = spec.model_fields[name]
    metadata = list(field.metadata)
    pending = [field.annotation]
    while pending:
        annotation = pending.pop()
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) is Annotated:
            metadata += [m for info in args[1:] for m in getattr(info, "metadata", [info])]
            pending.append(args[0])
        elif typing.get_origin(annotation) in (list, Union):
            pending.extend(args)
    lower, upper = -float("inf"), float("inf")
    for constraint in metadata:
        for key in ("ge", "gt"):
            if getattr(constraint, key, None) is not None:
                lower = float(getattr(constraint, key))
        for key in ("le", "lt"):
            if getattr(constraint, key, None) is not None:
                upper = float(getattr(constraint, key))
    return lower, upper


# --------------------------------------------------------------------------- run
class RunSpec(Spec):
    """How the simulation is run."""

    horizon_months: int = Field(36, ge=1, le=120, description="months simulated, 1-120")
    paths: int = Field(500, ge=1, le=1_000_000, description="Monte Carlo paths")
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1,
                                description="integer seed; drawn and stored when absent")
    balance_sheet: Literal["constant", "runoff"] = Field(
        "constant", description="'constant' replaces closed loans like for like; 'runoff' lets the book amortise")
    chunk_paths: int = Field(32, ge=1, le=1_000_000, description="paths simulated per engine call (memory/progress only)")
    threads: Optional[int] = Field(None, ge=1, le=4096, description="engine threads; all cores when absent")
    sampling: Literal["mc", "rqmc", "antithetic"] = Field(
        "rqmc", description="how the paths' shared cycle draws are sampled: 'rqmc' scrambled Sobol points "
                            "(14-27x less computer time for the same error on the means), 'mc' independent, "
                            "'antithetic' pairs (see docs/variance-reduction.md)")
    rqmc_points: one_of(Annotated[int, Field(ge=1, le=65536), AfterValidator(_power_of_two)], Literal["auto"],
                        says="a power of 2 from 1 to 65536, or 'auto'", fix=_powers_of_two_near) = Field(
        "auto", description="Sobol points per independent scramble under 'rqmc', a power of 2; 'auto': 32, or "
                            "fewer so that there are at least 8 scrambles")
    tail_sampling: Literal["none", "importance"] = Field(
        "none", description="'importance' shifts the cycle toward adverse paths and weights each path by its "
                            "likelihood ratio (tail quantiles, breach probabilities)")
    importance_shift: float = Field(2.0, ge=0, le=5,
                                    description="shift of the cycle's loss-driving direction under 'importance', "
                                                "in standard deviations")

    def section_problems(self):
        """``paths`` against the sampling scheme (checked again when a run changes the paths)."""
        problems = []
        m = self.rqmc_points
        if self.sampling == "rqmc" and m != "auto" and self.paths < 2 * m:
            problems.append(Problem("paths", f"at least two scrambles of run.rqmc_points ({m}) under rqmc "
                                    "(their spread is the standard error)", self.paths,
                                    f"Use at least {2 * m} paths, fewer rqmc_points, or rqmc_points: auto."))
        if self.sampling == "antithetic" and self.paths % 2:
            problems.append(Problem("paths", "even under antithetic sampling (paths come in pairs)", self.paths,
                                    f"Use {self.paths + 1} paths."))
        return problems


# --------------------------------------------------------------------- portfolio
class PercentSpec(Spec):
    """A section whose every number is a percentage: its :attr:`~Spec.resolved` view reads them all as fractions."""

    all_percent: ClassVar[bool] = True


class LogNormalSpec(Spec):
    """A log-normal distribution given by its median and the sd of its log."""

    median: float = Field(gt=0, le=MAX_MONEY, description="median, in currency units")
    sigma: float = Field(0.5, ge=0, le=3, description="standard deviation of the log")


class RangePctSpec(PercentSpec):
    """A uniform range in percent."""

    min: float = Field(ge=0, le=100, description="lower end, percent")
    max: float = Field(ge=0, le=100, description="upper end, percent")

    def section_problems(self):
        if self.min > self.max:
            return [Problem("", "a range with min <= max", {"min": self.min, "max": self.max},
                            "Swap or correct the bounds.")]
        return []


class ScoreSpec(Spec):
    """Borrower risk score (a bureau-style score, higher = safer), normal and clipped to 300-900."""

    mean: float = Field(650, ge=300, le=900)
    sd: float = Field(60, ge=0, le=300)


class StartingDpdSpec(PercentSpec):
    """Share of the segment's loans in each delinquency state at month 0, percent (sums to 100)."""

    current: float = Field(95.0, ge=0, le=100)
    dpd_1_30: float = Field(2.0, ge=0, le=100)
    dpd_31_60: float = Field(0.8, ge=0, le=100)
    dpd_61_90: float = Field(0.6, ge=0, le=100)
    dpd_91_120: float = Field(0.6, ge=0, le=100)
    dpd_121_150: float = Field(0.5, ge=0, le=100)
    dpd_151_180: float = Field(0.5, ge=0, le=100)

    @property
    def by_state_pct(self):
        """The shares of the live states, in :data:`DPD_STATE_KEYS` order, percent."""
        return [getattr(self, key) for key in DPD_STATE_KEYS]

    def section_problems(self):
        total = sum(self.by_state_pct)
        if abs(total - 100.0) > 1e-6:
            return [Problem("", "percentages summing to 100", round(total, 6),
                            "Adjust the delinquency mix so it adds up to 100.")]
        return []


class SegmentSpec(Spec):
    """One segment of the book: who the borrowers are and what loans they hold."""

    name: Annotated[Name, AfterValidator(_segment_name)]
    share_pct: float = Field(gt=0, le=100, description="share of the book's loans, percent")
    principal: LogNormalSpec = Field(description="original loan amount")
    apr_pct: RangePctSpec = Field(description="annual percentage rate, percent, uniform in [min, max]")
    term_months: list[Annotated[int, Field(ge=3, le=36)]] = Field(
        min_length=1, description="original terms to draw from (equally likely), 3-36 months")
    amortisation: Literal["equal_instalment", "equal_principal", "interest_first"] = "equal_instalment"
    income: LogNormalSpec = Field(description="borrower's monthly income")
    essential_spending_pct: float = Field(55.0, ge=0, le=100, description="essential spending, percent of income")
    other_debt_dti_pct: RangePctSpec = Field(
        RangePctSpec(min=5, max=25), description="other lenders' debt service, percent of income")
    max_total_dti_pct: float = Field(50.0, gt=0, le=200, description="underwriting cap: (this loan's instalment + "
                                     "other debt service) / income at origination, percent; larger loans are cut")
    savings_months: float = Field(1.5, ge=0, le=60, description="mean savings, in months of essential spending")
    starting_dpd_pct: StartingDpdSpec = StartingDpdSpec()
    score: ScoreSpec = ScoreSpec()
    unemployment_sensitivity: float = Field(
        1.0, ge=0, le=5, description="segment unemployment rate / the scenario's unemployment rate")


BOOK_SEED = 20261128
"""Default ``portfolio.seed``: the book is an input, the same whatever ``run.seed`` a run uses."""


class PortfolioSpec(Spec):
    """The loan book: a synthetic book built from segments, or a loan tape."""

    currency: str = "CNY"
    source: Literal["synthetic", "tape"] = "synthetic"
    n_loans: int = Field(20_000, ge=1, le=50_000_000, description="loans in a synthetic book")
    tape: Optional[str] = Field(None, description="loan tape (CSV or Parquet), relative to the scenario file")
    segments: list[SegmentSpec] = Field(min_length=1)
    seed: int = Field(BOOK_SEED, ge=0, le=2**63 - 1,
                      description="seed of the synthetic book, its settling run and the new loans' templates; "
                                  "fixed, so that run.seed (--seed) moves only the Monte Carlo paths")

    def section_problems(self):
        """Segment shares summing to 100, unique segment names, a tape when the source is one."""
        problems = []
        total_share = sum(seg.share_pct for seg in self.segments)
        if abs(total_share - 100.0) > 1e-6:
            problems.append(Problem("segments[*].share_pct", "percentages summing to 100", round(total_share, 6),
                                    "Adjust the segment shares so they add up to 100."))
        names = [seg.name for seg in self.segments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(Problem("segments[*].name", "unique", duplicates, "Rename the segments."))
        if self.source == "tape" and not self.tape:
            problems.append(Problem("tape", "a loan tape path when source is 'tape'", None,
                                    "Add 'tape: my_loans.csv' or set 'source: synthetic'."))
        return problems


# ------------------------------------------------------------------------- macro
MacroVariable = Literal["unemployment", "income_growth", "policy_rate"]


class MacroBaselineSpec(Spec):
    """Baseline levels, percent (income growth and policy rate annual)."""

    unemployment_pct: float = Field(5.2, ge=0, le=60)
    income_growth_pct: float = Field(5.0, ge=-50, le=50)
    policy_rate_pct: float = Field(3.0, ge=-5, le=50)


class StepShock(Spec):
    """``size`` added from ``start_month`` (to ``end_month`` inclusive, when given)."""

    shape: Literal["step"]
    variable: MacroVariable
    size_pp: float = Field(ge=-100, le=100, description="change in percentage points: 3.0 is +3 points "
                                                             "(5.2% -> 8.2%), not 0.03")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    end_month: Optional[int] = Field(None, ge=1, le=MAX_MONTH)

    def section_problems(self):
        if self.end_month is not None and self.end_month < self.start_month:
            return [Problem("end_month", f">= start_month ({self.start_month})", self.end_month,
                            "Make the shock end after it starts.")]
        return []


class RampShock(Spec):
    """Linear rise from 0 at ``start_month - 1`` to ``size`` at ``end_month``, held after."""

    shape: Literal["ramp"]
    variable: MacroVariable
    size_pp: float = Field(ge=-100, le=100, description="change in percentage points: 3.0 is +3 points "
                                                             "(5.2% -> 8.2%), not 0.03")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    end_month: int = Field(ge=1, le=MAX_MONTH)

    def section_problems(self):
        if self.end_month is not None and self.end_month < self.start_month:
            return [Problem("end_month", f">= start_month ({self.start_month})", self.end_month,
                            "Make the shock end after it starts.")]
        return []


class HumpShock(Spec):
    """Rise linearly to ``size`` at ``peak_month``, hold ``hold_months``, decay linearly over ``decay_months``."""

    shape: Literal["hump"]
    variable: MacroVariable
    size_pp: float = Field(ge=-100, le=100, description="change in percentage points: 3.0 is +3 points "
                                                             "(5.2% -> 8.2%), not 0.03")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    peak_month: int = Field(ge=1, le=MAX_MONTH)
    hold_months: int = Field(0, ge=0, le=MAX_MONTH)
    decay_months: int = Field(12, ge=0, le=MAX_MONTH)

    def section_problems(self):
        if self.peak_month < self.start_month:
            return [Problem("peak_month", f">= start_month ({self.start_month})", self.peak_month,
                            "Put the peak at or after the start.")]
        return []


def _date_as_text(value):
    """YAML reads an unquoted ``2007-02-01`` as a date: it is handed on as the text it was."""
    return value.isoformat() if isinstance(value, datetime.date) else value


DateText = Annotated[str, BeforeValidator(_date_as_text)]
"""A date or period as text ('2007-01-01', '2007-01', '2025 Q1'), read by :func:`simulator.inputs.series.parse_period`
when the scenario loads."""


class LevelsFromSpec(Spec):
    """Where a ``path`` shock reads its levels: a column of a CSV or Parquet table (:mod:`simulator.inputs.series`)."""

    file: str = Field(min_length=1, description="series table (CSV or Parquet), relative to the scenario file")
    column: str = Field(min_length=1, description="the value column, percent levels")
    date_column: Optional[str] = Field(None, description="default: observation_date, date or Date")
    start: Optional[DateText] = Field(None, description="first period used ('2025 Q1', '2007-01-01'); default the "
                                                        "first")
    end: Optional[DateText] = Field(None, description="last period used; default the last")
    interpolate_gaps: bool = Field(False, description="fill missing values ('.') linearly instead of refusing them")


class PathShock(Spec):
    """An explicit path of levels (percent), linearly interpolated from the baseline at month 0.

    Monthly values fall on months 1, 2, ...; quarterly values on months 3, 6, ...
    The last value holds to the end of the horizon. The levels are written in
    ``levels_pct`` or read from a table by ``levels_from`` (its frequency is the
    table's; loading fills ``levels_pct`` in and clears ``levels_from``).
    """

    shape: Literal["path"]
    variable: MacroVariable
    frequency: Literal["monthly", "quarterly"] = "quarterly"
    levels_pct: Optional[list[Annotated[float, Field(ge=-100, le=100)]]] = Field(None, min_length=1)
    levels_from: Optional[LevelsFromSpec] = None

    def section_problems(self):
        """Exactly one source of levels."""
        if (self.levels_pct is None) == (self.levels_from is None):
            given = "both" if self.levels_pct is not None else "neither"
            return [Problem("", "given exactly one of levels_pct (the levels) and levels_from (a table holding them)",
                            given, "Write the levels in levels_pct, or point levels_from at a table.")]
        return []


Shock = Annotated[Union[StepShock, RampShock, HumpShock, PathShock], Field(discriminator="shape")]


class CycleSpec(Spec):
    """The per-path AR(1) credit-cycle factor ``x`` (stationary sd ``sigma``).

    ``x_t = phi x_{t-1} + sqrt(1 - phi^2) sigma eps_t``. Where it starts is ``start``:
    a number ``k`` starts every path at ``x_0 = k sigma`` (default 0: today's credit
    conditions are those of the central path, which is what a stress projection from
    an observed book assumes); ``stationary`` draws ``x_0 ~ N(0, sigma^2)``, so every
    month's ``x_t`` has the long-run distribution (an unconditional, through-the-cycle
    view, in which a roll-rate matrix is the cycle's average from month 1).
    A positive ``x`` is a worse economy: it adds ``unemployment_loading_pp * x`` to the
    unemployment path and subtracts ``income_growth_loading_pp * x`` from income growth.
    """

    volatility: float = Field(1.0, ge=0, le=5, description="stationary sd sigma; 0 = deterministic")
    persistence: float = Field(0.9, ge=0, lt=1, description="monthly AR(1) coefficient phi")
    unemployment_loading_pp: float = Field(0.6, ge=0, le=10)
    income_growth_loading_pp: float = Field(1.5, ge=0, le=20)
    start: one_of(Annotated[float, Field(ge=-5, le=5)], Literal["stationary"],
                  says="'stationary' or a number of standard deviations from -5 to 5",
                  fix="Use 0 to start at today's conditions (the default), 2 to start two sds into a downturn, "
                      "or 'stationary' to draw the start from the cycle's long-run distribution.") = Field(
        0.0, union_mode="left_to_right", description="x_0 in stationary sds (-5 to 5), or 'stationary'")


class MacroSpec(Spec):
    """Baseline levels, shocks on top and the stochastic cycle around the central path."""

    baseline: MacroBaselineSpec = MacroBaselineSpec()
    shocks: list[Shock] = []
    cycle: CycleSpec = CycleSpec()


# --------------------------------------------------------------------- behaviour
class RecoverySpec(Spec):
    """Recoveries after charge-off: ``rate_pct`` of the charged-off balance, paid evenly over ``months``."""

    rate_pct: float = Field(9.4, ge=0, le=100)
    months: int = Field(12, ge=0, le=120, description="0 = sold at charge-off (debt sale)")


class BucketPctSpec(PercentSpec):
    """A percentage per delinquency bucket."""

    current_pct: ClassVar[float] = 0.0
    """The percentage of the current state, which has no bucket here."""

    dpd_1_30: float = Field(0.0, ge=0, le=100)
    dpd_31_60: float = Field(0.0, ge=0, le=100)
    dpd_61_90: float = Field(0.0, ge=0, le=100)
    dpd_91_plus: float = Field(0.0, ge=0, le=100)

    @property
    def by_state_pct(self):
        """Percentages for the live states 0..6: ``current_pct`` for state 0, the 91+ bucket's for states 4-6."""
        tail = self.dpd_91_plus
        return [self.current_pct, self.dpd_1_30, self.dpd_31_60, self.dpd_61_90, tail, tail, tail]


class WillingnessSpec(BucketPctSpec):
    """Chance that a delinquent borrower who can pay does pay this month, percent, by bucket.

    (Current borrowers are governed by payment friction and strategic default instead.)
    """

    current_pct: ClassVar[float] = 100.0

    dpd_1_30: float = Field(98.0, ge=0, le=100)
    dpd_31_60: float = Field(60.0, ge=0, le=100)
    dpd_61_90: float = Field(45.0, ge=0, le=100)
    dpd_91_plus: float = Field(20.0, ge=0, le=100)


class StructuralSpec(Spec):
    """Parameters of the structural borrower model."""

    job_finding_pct: float = Field(33.0, gt=0, le=100, description="monthly job-finding rate at baseline unemployment")
    job_finding_elasticity: float = Field(1.0, ge=0, le=5,
                                          description="finding rate scales as (u_baseline / u_t) ** elasticity")
    replacement_rate_pct: float = Field(60.0, ge=0, le=100, description="income while unemployed, percent")
    permanent_income_sd_pct: float = Field(10.0, ge=0, le=100, description="annual sd of log permanent income")
    transitory_income_sd_pct: float = Field(15.0, ge=0, le=100, description="monthly sd of log transitory income")
    savings_target_months: float = Field(4.0, ge=0, le=60, description="savings buffer target, months of spending")
    strategic_default_pct: float = Field(0.05, ge=0, le=100,
                                         description="monthly chance a current borrower who can pay defaults on purpose")
    payment_friction_pct: float = Field(3.5, ge=0, le=100,
                                        description="monthly chance a current borrower who can pay misses anyway "
                                                    "(late salary, oversight); most cure the next month")
    willingness: WillingnessSpec = WillingnessSpec()

    @property
    def missed_when_able_pct(self):
        """Monthly chance that a current borrower who can pay misses, for either reason, percent."""
        return self.strategic_default_pct + self.payment_friction_pct


class RollRateSpec(Spec):
    """Roll-rate model: monthly transition matrices and the one-factor cycle link.

    ``matrices`` maps a segment name (or ``default``) to 7 rows (current, 1-30, ...,
    151-180) of 9 percentages (the same 7 states, charged_off, closed), each row
    summing to 100. The matrices are the long-run average over the credit cycle.
    """

    asset_correlation_pct: float = Field(5.0, ge=0, lt=100, description="rho of the one-factor link")
    cycle_per_unemployment_pp: float = Field(0.5, ge=0, le=10,
                                             description="cycle shift (in sd) per pp of unemployment above baseline")
    matrices: dict[str, list[list[Annotated[float, Field(ge=-1e6, le=1e6)]]]] = Field(
        json_schema_extra=PERCENT_UNIT, description="per segment (or 'default'): 7 rows of 9 percentages")

    def section_problems(self):
        """Every matrix 7 rows of 9 non-negative percentages summing to 100."""
        problems = []
        for name, rows in self.matrices.items():
            where = f"matrices.{name}"
            if len(rows) != N_LIVE_STATES:
                problems.append(Problem(where, f"{N_LIVE_STATES} rows ({', '.join(DPD_STATE_KEYS)})", len(rows),
                                        "Give one row per live state."))
                continue
            for r, row in enumerate(rows):
                if len(row) != len(ROLL_RATE_COLUMNS):
                    problems.append(Problem(f"{where}[{r}]", f"{len(ROLL_RATE_COLUMNS)} percentages "
                                            f"({', '.join(ROLL_RATE_COLUMNS)})", len(row),
                                            "Give one column per state."))
                elif any(v < 0 for v in row) or abs(sum(row) - 100.0) > 1e-6:
                    problems.append(Problem(f"{where}[{r}]", "non-negative percentages summing to 100", row,
                                            "Fix the row so it is a probability distribution."))
        return problems


STRUCTURAL_PREPAYMENT_PCT = 1.0
"""Default monthly prepayment rate of current loans in the structural model, percent."""


class BehaviourSpec(Spec):
    """Borrower behaviour: which model, and what both models share."""

    model: Literal["structural", "roll_rate"] = "structural"
    chargeoff_dpd: Literal[90, 120, 150, 180] = Field(180, description="days past due at which loans are charged off")
    prepayment_pct: Optional[float] = Field(None, ge=0, le=100,
                                            description="monthly prepayment rate of current loans (structural "
                                                        "model; 1.0 when not given); the roll-rate model has "
                                                        "prepayment in its matrices' closed column")
    penalty_rate_uplift_pct: float = Field(50.0, ge=0, le=500,
                                           description="overdue amounts accrue at APR x (1 + uplift)")
    recovery: RecoverySpec = RecoverySpec()
    structural: StructuralSpec = StructuralSpec()
    roll_rate: Optional[RollRateSpec] = None

    @model_validator(mode="before")
    @classmethod
    def _structural_prepayment_default(cls, data):
        """The structural model prepays 1% a month unless told otherwise; the roll-rate model has no such key."""
        if isinstance(data, dict) and data.get("model", "structural") == "structural" \
                and data.get("prepayment_pct") is None:
            data = {**data, "prepayment_pct": STRUCTURAL_PREPAYMENT_PCT}
        return data

    def section_problems(self):
        """The roll-rate model needs its matrices and has no prepayment key."""
        problems = []
        if self.model == "roll_rate" and self.prepayment_pct is not None:
            problems.append(Problem("prepayment_pct", "absent under the roll-rate model", self.prepayment_pct,
                                    "The roll-rate model's prepayment is the matrices' 'closed' column; remove the "
                                    "key (or set it to null if it comes from a file this one extends)."))
        if self.model == "roll_rate" and self.roll_rate is None:
            problems.append(Problem("roll_rate", "a roll_rate block when behaviour.model is 'roll_rate'", None,
                                    "Add behaviour.roll_rate.matrices (see scenarios/roll_rate_example.yaml)."))
        return problems


DpdThreshold = Literal[0, 30, 60, 90, 120, 150, 180]
"""Delinquency thresholds are whole 30-day buckets: a rule "after N days" applies from N + 1 DPD."""


class Ifrs9Spec(Spec):
    """IFRS 9: the default definition, staging (Stage 2 beyond a DPD backstop or on restructuring, Stage 3 when
    credit-impaired) and the lifetime window.

    A loan defaults when its days past due first exceed ``default_after_dpd`` (90: the
    rebuttable presumption of IFRS 9 B5.5.37), or when it is charged off. Stage 3
    follows the default definition unless ``stage3_after_dpd`` sets an earlier
    trigger (a lender's NPL rule such as 60).
    """

    default_after_dpd: DpdThreshold = Field(90, description="a loan defaults when days past due exceed this "
                                                            "(IFRS 9 B5.5.37: 90 at the latest); below the "
                                                            "charge-off DPD")
    stage2_after_dpd: DpdThreshold = Field(30, description="Stage 2 when days past due exceed this (backstop 30)")
    stage3_after_dpd: Optional[DpdThreshold] = Field(None, description="Stage 3 (credit-impaired) when days past due "
                                                     "exceed this; default: default_after_dpd; at most that")
    lifetime_months: int = Field(24, ge=12, le=60, description="window of lifetime ECL for Stages 2-3, months; "
                                 "the engine simulates this far beyond the horizon")

    @property
    def stage3_dpd(self):
        """The Stage 3 threshold in force: ``stage3_after_dpd``, else the default definition."""
        return self.default_after_dpd if self.stage3_after_dpd is None else self.stage3_after_dpd

    def section_problems(self):
        """Stage 3 at or before default, after Stage 2."""
        problems = []
        if self.stage3_after_dpd is not None and self.stage3_after_dpd > self.default_after_dpd:
            problems.append(Problem("stage3_after_dpd", f"at most default_after_dpd ({self.default_after_dpd})",
                                    self.stage3_after_dpd, "A loan in default is credit-impaired (IFRS 9 Appendix A): "
                                    "drop stage3_after_dpd to follow the default definition, or lower it to an "
                                    "earlier NPL trigger."))
        if self.stage3_dpd <= self.stage2_after_dpd:
            problems.append(Problem("stage3_after_dpd", f"greater than stage2_after_dpd ({self.stage2_after_dpd})",
                                    self.stage3_dpd, "Stage 3 must start after Stage 2."))
        return problems


class FiveCategoryRatesSpec(PercentSpec):
    """Minimum provision rates per category, percent (PBOC 2002: general 1%, 2%, 25%, 50%, 100%)."""

    normal: float = Field(1.0, ge=0, le=100)
    special_mention: float = Field(2.0, ge=0, le=100)
    substandard: float = Field(25.0, ge=0, le=100)
    doubtful: float = Field(50.0, ge=0, le=100)
    loss: float = Field(100.0, ge=0, le=100)


class FiveCategorySpec(Spec):
    """Five-category classification (正常/关注/次级/可疑/损失) by DPD, rates and regulatory floors.

    Default thresholds are the credit-card rules (Art. 92): 关注 1-90, 次级 91-120,
    可疑 121-180, 损失 beyond 180 DPD.
    """

    special_mention_after_dpd: DpdThreshold = 0
    substandard_after_dpd: DpdThreshold = 90
    doubtful_after_dpd: DpdThreshold = 120
    loss_after_dpd: DpdThreshold = 180
    rates_pct: FiveCategoryRatesSpec = FiveCategoryRatesSpec()
    restructured_category: Literal["special_mention", "substandard"] = Field(
        "special_mention", description="lowest category of a restructured loan (the 2023 measures: at least "
        "关注; 'substandard' for the stricter treatment of restructuring under financial difficulty)")
    coverage_floor_pct: float = Field(150.0, ge=0, le=1000, description="provisions / NPL floor, percent")
    loan_provision_floor_pct: float = Field(2.5, ge=0, le=100, description="provisions / loans floor, percent")

    def thresholds(self):
        return [self.special_mention_after_dpd, self.substandard_after_dpd, self.doubtful_after_dpd,
                self.loss_after_dpd]

    def section_problems(self):
        thresholds = self.thresholds()
        if any(b <= a for a, b in zip(thresholds, thresholds[1:])):
            return [Problem("", "thresholds in increasing order (special_mention < substandard < doubtful < loss)",
                            thresholds, "Order the *_after_dpd values.")]
        return []


class ProvisioningSpec(Spec):
    """IFRS 9 and the five-category rules."""

    ifrs9: Ifrs9Spec = Ifrs9Spec()
    five_category: FiveCategorySpec = FiveCategorySpec()


class StressSpec(Spec):
    """A funding stress on one liability from ``from_month`` on."""

    from_month: int = Field(1, ge=1, le=MAX_MONTH)
    rollover_pct: Optional[float] = Field(None, ge=0, le=100, description="rollover rate under stress, percent")
    spread_add_pct: float = Field(0.0, ge=-10, le=50, description="added to the spread, percentage points")


class LiabilitySpec(Spec):
    """One funding source. Its amount matures evenly over ``maturity_months`` and is rolled at ``rollover_pct``.

    An ``abs`` liability is backed by a share of the book (``amount x overcollateral_pct``);
    once the book's delinquency crosses ``trigger_pct`` (90+ DPD or M1+, see
    ``trigger_metric``) the trigger is hit for good and every collection on the
    backing pool goes to the noteholders (early amortisation) until they are repaid.
    """

    name: Name
    type: Literal["bank_line", "interbank", "abs", "bond"]
    amount_pct: float = Field(ge=0, le=1000, description="amount, percent of the opening book balance")
    maturity_months: int = Field(12, ge=1, le=120, description="average maturity; 1/maturity of it falls due monthly")
    rollover_pct: float = Field(100.0, ge=0, le=100, description="share of maturing amount refinanced, percent")
    spread_pct: float = Field(1.0, ge=-5, le=50, description="annual spread over the policy rate, percent")
    stress: Optional[StressSpec] = None
    trigger_pct: Optional[float] = Field(None, ge=0, le=100, description="ABS delinquency trigger, percent")
    trigger_metric: Literal["90p", "m1p"] = "90p"
    overcollateral_pct: float = Field(110.0, ge=100, le=300, description="ABS pool / notes, percent")

    @property
    def pool_share_pct(self):
        """The backing pool of an ``abs`` liability, percent of the opening book (before the pledge limit)."""
        return self.amount_pct / 100.0 * self.overcollateral_pct

    def section_problems(self):
        if self.trigger_pct is not None and self.type != "abs":
            return [Problem("trigger_pct", "set only on an 'abs' liability", self.trigger_pct,
                            "Remove it or set 'type: abs'.")]
        return []


class CapitalSpec(Spec):
    """Capital and its floor: capital / (risk weight x loans)."""

    opening_capital_pct: float = Field(15.0, ge=0, le=100, description="opening capital, percent of the book")
    risk_weight_pct: float = Field(75.0, ge=0, le=1250, description="risk weight of the loans, percent "
                                   "(Basel regulatory retail: 75)")
    capital_ratio_floor_pct: float = Field(10.5, ge=0, le=100, description="minimum capital ratio, percent")


class EmergencyFundingSpec(Spec):
    """Emergency funding drawn when the liquidity buffer would fall below its floor (``when_short:
    emergency_funding``): borrowed at the policy rate plus a penalty spread, up to a limit, repaid from the cash
    above the floor."""

    spread_pct: float = Field(6.0, ge=0, le=50, description="annual spread over the policy rate, percent")
    limit_pct: float = Field(10.0, ge=0, le=1000,
                             description="most emergency funding outstanding, percent of the opening book")


class FundingSpec(Spec):
    """Liquidity buffer, liabilities, operating costs and capital (percent of the opening book balance).

    ``when_short`` says what the lender does when its buffer would fall below ``minimum_buffer_pct``:
    ``stop_lending`` (no new loans from that month on, the book runs off), ``emergency_funding`` (borrow the gap
    at a penalty spread up to ``emergency_funding.limit_pct``, then stop lending) or ``keep_lending`` (lend on
    regardless, the buffer may go negative: the behaviour before 2026-05, for comparison). See docs/funding.md.
    """

    liquidity_buffer_pct: float = Field(10.0, ge=0, le=1000, description="opening liquidity buffer, percent")
    liabilities: list[LiabilitySpec] = []
    operating_cost_pct: float = Field(3.0, ge=0, le=100, description="annual operating cost, percent of the book")
    liquidity_ratio_floor_pct: float = Field(50.0, ge=0, le=1000,
                                             description="cash held / liabilities due within a month, percent")
    capital: CapitalSpec = CapitalSpec()
    when_short: Literal["stop_lending", "emergency_funding", "keep_lending"] = Field(
        "stop_lending", description="what the lender does when its buffer would fall below its floor")
    minimum_buffer_pct: float = Field(0.0, ge=0, le=1000,
                                      description="floor of the liquidity buffer, percent of the opening book")
    emergency_funding: Optional[EmergencyFundingSpec] = None

    def section_problems(self):
        names = [liability.name for liability in self.liabilities]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            return [Problem("liabilities[*].name", "unique", duplicates, "Rename the liabilities.")]
        problems = []
        if self.when_short == "emergency_funding" and self.emergency_funding is None:
            problems.append(Problem("emergency_funding", "set when when_short is 'emergency_funding'", None,
                                    "Add emergency_funding: {spread_pct: 6, limit_pct: 10} or choose another "
                                    "when_short."))
        if self.when_short != "emergency_funding" and self.emergency_funding is not None:
            problems.append(Problem("emergency_funding", "set only when when_short is 'emergency_funding'",
                                    self.emergency_funding.model_dump(),
                                    "Remove it or set when_short: emergency_funding."))
        if self.minimum_buffer_pct > self.liquidity_buffer_pct:
            problems.append(Problem("minimum_buffer_pct", f"at most liquidity_buffer_pct ({self.liquidity_buffer_pct:g})",
                                    self.minimum_buffer_pct,
                                    "The opening buffer may not start below its floor: lower the floor or raise "
                                    "the buffer."))
        return problems


class CollectionsSpec(Spec):
    """Stronger collections: contact delinquent accounts, which makes borrowers who can pay more likely to pay.

    A contacted borrower's willingness ``w`` to pay all arrears (cure) rises to
    ``w + (1 - w) cure_effect`` and to pay at least the instalment to
    ``w + (1 - w) instalment_effect``. In the roll-rate model a contacted loan that
    would roll worse cures instead with probability ``cure_effect`` and stays (pays
    the instalment) with probability ``instalment_effect``.
    """

    contact_pct: BucketPctSpec = Field(description="share of accounts in each bucket contacted per month, percent")
    cure_effect_pct: float = Field(30.0, ge=0, le=100, description="effect of a contact on paying in full, percent")
    instalment_effect_pct: float = Field(30.0, ge=0, le=100,
                                         description="effect of a contact on paying the instalment, percent")
    capacity_accounts_per_month: Optional[int] = Field(None, ge=0, le=10**12, description="contacts the team can make a month")
    cost_per_contact: float = Field(15.0, ge=0, le=MAX_MONEY, description="cost of one contact, book currency")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)


class RestructuringSpec(Spec):
    """Flexible repayment plans for borrowers in difficulty.

    Eligible: a borrower who has just lost the job (``on_job_loss``), a loan 1-30
    DPD (``on_dpd_1_30``), or a borrower whose income this month is more than
    ``income_drop_pct`` below the usual (``None``: not a criterion). An eligible loan
    is offered a plan with probability ``offer_pct`` and takes it with ``take_up_pct``.
    The arrears are capitalised and the loan is current again but flagged
    restructured (IFRS 9 Stage 2; five-category at least 关注). Plans: ``holiday``
    (no instalment for ``months`` months, interest capitalised, term extended by
    ``months``), ``extension`` (term extended by ``months``, lower instalment),
    ``rate_cut`` (rate cut by ``rate_cut_pct``, lower instalment).
    """

    on_job_loss: bool = True
    on_dpd_1_30: bool = True
    income_drop_pct: Optional[float] = Field(None, gt=0, le=100)
    offer_pct: float = Field(100.0, ge=0, le=100)
    take_up_pct: float = Field(60.0, ge=0, le=100)
    plan: Literal["holiday", "extension", "rate_cut"] = "holiday"
    months: int = Field(3, ge=1, le=36, description="holiday length or term extension, months")
    rate_cut_pct: float = Field(0.0, ge=0, le=100, description="rate reduction of a rate_cut plan, percent")
    max_per_loan: int = Field(1, ge=1, le=10)
    cost_per_restructuring: float = Field(50.0, ge=0, le=MAX_MONEY, description="cost of setting up one plan, book currency")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)

    @property
    def take_probability_pct(self):
        """Chance that an eligible loan is offered a plan and takes it, percent."""
        return self.offer_pct / 100.0 * self.take_up_pct

    def section_problems(self):
        if self.plan == "rate_cut" and self.rate_cut_pct == 0:
            return [Problem("rate_cut_pct", "above 0 for a rate_cut plan", 0,
                            "Set the rate reduction in percent, e.g. 50.")]
        return []


class OriginationsSpec(Spec):
    """New lending and its underwriting policy; replaces the like-for-like replacement of a constant book.

    Each month from ``start_month`` to ``end_month`` (default: the horizon),
    ``volume_pct`` percent of the opening number of loans are originated, split by
    ``segment_mix_pct`` (default: the portfolio's shares), as new loans drawn from the
    segment definitions. Applicants scoring below ``score_cutoff`` are declined and
    replaced by approved ones, so the volume is kept with better borrowers.
    ``pd_improvement_pct`` stands for better scoring beyond the cut-off: it scales the
    new borrowers' job-loss hazard and payment friction by ``1 - x`` (in the roll-rate
    model: the share of current new loans that would become delinquent).
    """

    volume_pct: float = Field(ge=0, le=100, description="new loans a month, percent of the opening loan count")
    segment_mix_pct: Optional[dict[str, Annotated[float, Field(ge=0, le=100)]]] = None
    score_cutoff: Optional[float] = Field(None, ge=300, le=900, description="a minimum applicant score on the "
                                          "scores' 300-900 scale")
    pd_improvement_pct: float = Field(0.0, ge=0, lt=100, description="cut in new vintages' default drivers, percent")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    end_month: Optional[int] = Field(None, ge=1, le=MAX_MONTH)

    def section_problems(self):
        """A mix given summing to 100 (the portfolio's shares do when none is), an end after the start."""
        problems = []
        mix = self.segment_mix_pct
        if mix is not None and abs(sum(mix.values()) - 100.0) > 1e-6:
            problems.append(Problem("segment_mix_pct", "non-negative percentages summing to 100", mix,
                                    "Adjust the mix."))
        if self.end_month is not None and self.end_month < self.start_month:
            problems.append(Problem("end_month", f">= start_month ({self.start_month})", self.end_month,
                                    "End the originations after they start."))
        return problems


class UnderwritingSpec(Spec):
    """Underwriting that tightens with the cycle: the lender's debt-to-income cap for new loans falls as unemployment rises.

    In month ``t`` the cap on a new loan's total debt-to-income ratio (its annuity plus
    the borrower's other debt service, over income: the test the segment's
    ``max_total_dti_pct`` applies at origination) is
    ``max_total_dti - cut x max(u_t - u_0, 0)``, ``u_t`` the scenario's unemployment rate
    and ``u_0`` its baseline. Under the constant balance sheet a slot whose loan closes
    is offered to its applicant again (the slot's origination template) only if the
    applicant passes the month's cap; a declined slot stays empty and is offered again
    each month, so the book shrinks in a downturn and keeps its better borrowers, as US
    card lenders did in 2008-2010 (Federal Reserve Senior Loan Officer Opinion Survey:
    most banks tightened card standards and cut limits). Structural model only.
    """

    dti_cap_cut_pp_per_unemployment_pp: float = Field(
        gt=0, le=20, description="cut in the total debt-to-income cap for new loans, in pp of DTI per pp of "
                                 "unemployment above its baseline")


class ActionsSpec(Spec):
    """Management actions; each is off unless its block is present."""

    collections: Optional[CollectionsSpec] = None
    restructuring: Optional[RestructuringSpec] = None
    originations: Optional[OriginationsSpec] = None
    underwriting: Optional[UnderwritingSpec] = None


# --------------------------------------------------------------------------- back-test
BACKTEST_RATE_NAMES = ("30p", "90p", "chargeoff")
"""The model rates a back-test compares (defined in :data:`simulator.workflows.settings.BACKTEST_RATES`)."""


class HistorySeriesSpec(Spec):
    """A dated series of percent levels a back-test reads: a column of a CSV or Parquet table
    (:func:`simulator.inputs.series.read_series`; FRED downloads load as they are)."""

    file: str = Field(min_length=1, description="series table (CSV or Parquet), relative to the scenario file")
    column: str = Field(min_length=1, description="the value column, percent levels")
    date_column: Optional[str] = Field(None, description="default: observation_date, date or Date")
    interpolate_gaps: bool = Field(False, description="fill missing values ('.') linearly instead of refusing them")


class AcceptanceSpec(Spec):
    """A validator's criteria for a back-test, each reported pass or fail (:mod:`simulator.workflows.backtest`).

    Ratios are each series divided by its first observation in the window.
    """

    peak_ratio_tolerance: Optional[float] = Field(
        None, ge=0, le=100, description="|model peak ratio - observed peak ratio| <= this")
    peak_timing_periods: Optional[int] = Field(
        None, ge=0, le=120, description="|model peak period - observed peak period| <= this many observed periods")
    ratio_ceilings: dict[DateText, Annotated[float, Field(gt=0, le=100)]] = Field(
        default_factory=dict, description="period ('2011Q4', '2011-12') -> the model's ratio there is at most this")

    def section_problems(self):
        """At least one criterion."""
        if self.peak_ratio_tolerance is None and self.peak_timing_periods is None and not self.ratio_ceilings:
            return [Problem("", "at least one of peak_ratio_tolerance, peak_timing_periods, ratio_ceilings", {},
                            "Give a criterion, or remove the acceptance block.")]
        return []


class BacktestSpec(Spec):
    """The history a scenario is back-tested against (``simulate backtest SCENARIO``, the board pack's back-test
    page and ``simulate validate-model``): the unemployment that happened, the delinquency that happened, the window
    compared, the model rate and, optionally, the validator's acceptance criteria. Files are relative to the
    scenario file; the dates are checked against the files when the scenario loads."""

    macro: HistorySeriesSpec = Field(description="the unemployment history, percent (e.g. FRED's UNRATE)")
    observed: HistorySeriesSpec = Field(description="the observed rate, percent (e.g. FRED's DRCCLACBS)")
    start: Optional[DateText] = Field(None, description="first observed period compared ('2007-01', '2007 Q1'); "
                                                        "default: the first both files cover")
    end: Optional[DateText] = Field(None, description="last observed period compared; default: the last both files "
                                                     "cover")
    rate: Literal[BACKTEST_RATE_NAMES] = Field("30p", description="model rate compared: 30+ DPD or 90+ DPD by "
                                                                  "balance, or the annualised net charge-off rate")
    acceptance: Optional[AcceptanceSpec] = None


class Scenario(Spec):
    """A complete, validated scenario."""

    name: one_of(Name, Literal[""], says=NAME_RULE + " (or empty: the file's name)",
                 fix="Give a short name such as severe_2026 (it names the run's directory under runs/).") = ""
    description: str = ""
    run: RunSpec = RunSpec()
    portfolio: PortfolioSpec
    macro: MacroSpec = MacroSpec()
    behaviour: BehaviourSpec = BehaviourSpec()
    provisioning: ProvisioningSpec = ProvisioningSpec()
    funding: FundingSpec = FundingSpec()
    actions: ActionsSpec = ActionsSpec()
    backtest: Optional[BacktestSpec] = None

    @property
    def segment_names(self):
        return [seg.name for seg in self.portfolio.segments]

    def with_run(self, **changes):
        """A copy with ``run`` fields replaced (``None`` values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        return self.model_copy(update={"run": self.run.model_copy(update=changes)})

    def with_loans(self, n_loans):
        """A copy whose synthetic book has ``n_loans`` loans."""
        if n_loans is None:
            return self
        return self.model_copy(update={"portfolio": self.portfolio.model_copy(update={"n_loans": n_loans})})

    def to_yaml(self):
        """The resolved scenario as YAML text (all defaults filled in)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)




class WeightedScenarioSpec(Spec):
    """One scenario of an IFRS 9 probability-weighted set."""

    scenario: str = Field(min_length=1, description="scenario file, relative to the set file")
    weight_pct: float = Field(gt=0, le=100, description="probability weight, percent")


class SetRunSpec(Spec):
    """Run options applied to every scenario of a set (common random numbers need one seed)."""

    paths: Optional[int] = Field(None, ge=1, le=1_000_000)
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1)


class ScenarioSetSpec(Spec):
    """An IFRS 9 scenario set: scenarios on the same book with probability weights summing to 100."""

    name: one_of(Name, Literal[""], says=NAME_RULE + " (or empty: the file's name)",
                 fix="Give a short name such as severe_2026 (it names the run's directory under runs/).") = ""
    description: str = ""
    weighted_scenarios: list[WeightedScenarioSpec] = Field(min_length=1)
    run: SetRunSpec = SetRunSpec()

    def section_problems(self):
        total = sum(item.weight_pct for item in self.weighted_scenarios)
        if abs(total - 100.0) > 1e-6:
            return [Problem("weighted_scenarios[*].weight_pct", "percentages summing to 100", round(total, 6),
                            "Adjust the weights so they add up to 100.")]
        return []

