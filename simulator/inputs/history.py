"""Loan-month performance histories and macro series: reading and validation.

A history is a lender's panel with one row per loan and month: the loan's
delinquency state and balance at the end of that month. :func:`read_history`
reads and checks it (every problem of the file is reported at once) and returns a
:class:`History` of numpy arrays; :func:`extract_transitions` turns it into one
record per loan-month move, the input of :mod:`simulator.estimation.rollrates`.

History columns (CSV or Parquet, one row per loan and month):

=======================  =========  =====================================================
column                   required   meaning
=======================  =========  =====================================================
``loan_id``              yes        the loan's identifier (string or integer)
``month``                yes        ``YYYY-MM`` (``2024-03``) or an integer month index
``dpd``                  one of     days past due at month end, a whole number >= 0
``dpd_state``            the two    state at month end: ``current``, ``dpd_1_30``,
                                    ``dpd_31_60``, ``dpd_61_90``, ``dpd_91_120``,
                                    ``dpd_121_150``, ``dpd_151_180``, ``charged_off``,
                                    ``closed`` (prepaid or paid off), or its index 0-8
``balance``              yes        outstanding balance at month end, >= 0, currency
``segment``              no         segment name (default ``default``); fixed per loan
``origination_month``    no         month the loan was opened, in the format of ``month``
=======================  =========  =====================================================

Rules the file must follow:

* Each loan's rows are contiguous and in increasing month order (sort the file by
  ``loan_id``, ``month``), one row per loan and month, with no month missing
  between a loan's first and last row.
* A loan moves at most one state worse a month (current -> 1-30 -> 31-60 ...); it
  may cure to any better state, close from any state, and be charged off from
  ``dpd_91_120`` or worse (lenders charge off at 90, 120, 150 or 180 days).
  ``charged_off`` and ``closed`` are exits: the exit month is the loan's last row.
* ``dpd`` maps to states as ``ceil(dpd / 30)`` capped at 6: 0 -> current,
  1-30 -> ``dpd_1_30``, ..., 151-180 and beyond -> ``dpd_151_180``. Days cannot
  record exits, so a ``dpd`` history says nothing about charge-offs and closures
  (a loan whose rows stop simply left the panel); use ``dpd_state`` to estimate
  them. Calendar day counts can also jump two states in a 31-day month (30 -> 61
  days), which the rule above refuses: export contractual delinquency (missed
  instalments x 30 days) or ``dpd_state``.

Macro columns (:func:`read_macro`; CSV or Parquet, one row per month, percent):

========================  ========  ==================================================
column                    required  meaning
========================  ========  ==================================================
``month``                 yes       in the format of the history's ``month``
``unemployment_pct``      yes       unemployment rate, percent (5.2 = 5.2%)
``income_growth_pct``     no        annual growth of household income, percent
``rate_pct``              no        policy (or lending reference) rate, percent
========================  ========  ==================================================
"""
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, must_be
from .schema import DPD_STATE_KEYS, ROLL_RATE_COLUMNS
from .tables import cell_text, numeric_column_problem, read_table

CHARGED_OFF = ROLL_RATE_COLUMNS.index("charged_off")
CLOSED = ROLL_RATE_COLUMNS.index("closed")
WORST_LIVE = len(DPD_STATE_KEYS) - 1
EARLIEST_CHARGE_OFF = DPD_STATE_KEYS.index("dpd_91_120")

HISTORY_REQUIRED = ("loan_id", "month", "balance")
HISTORY_STATE_COLUMNS = ("dpd", "dpd_state")
HISTORY_OPTIONAL = ("segment", "origination_month")
MACRO_REQUIRED = ("month", "unemployment_pct")
MACRO_OPTIONAL = ("income_growth_pct", "rate_pct")
DEFAULT_SEGMENT = "default"

SHOWN_EXAMPLES = 3
"""Offending rows named in a message; the rest are counted ("and 41 more")."""

YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")


def allowed_transitions():
    """Boolean ``(9, 9)`` table: ``[from, to]`` is a move a loan can make in one month.

    From a live state ``s``: any state ``<= s + 1``, ``closed``, and ``charged_off``
    when ``s >= 4`` (91-120 days). Nothing leaves ``charged_off`` or ``closed``.
    """
    n_states = len(ROLL_RATE_COLUMNS)
    allowed = np.zeros((n_states, n_states), dtype=bool)
    for s in range(len(DPD_STATE_KEYS)):
        allowed[s, :min(s + 1, WORST_LIVE) + 1] = True
        allowed[s, CLOSED] = True
        allowed[s, CHARGED_OFF] = s >= EARLIEST_CHARGE_OFF
    return allowed


@dataclass(frozen=True)
class History:
    """A validated loan-month panel as parallel arrays, sorted by loan then month.

    Attributes
    ----------
    source : str
        The file it was read from (named in messages).
    loan : int64 array (n_rows,)
        Loan index, ``0 .. n_loans - 1`` in order of first appearance.
    month : int64 array (n_rows,)
        Month index, ``0 .. n_months - 1`` from the earliest month of the file.
    state : int8 array (n_rows,)
        State index into :data:`~simulator.inputs.schema.ROLL_RATE_COLUMNS` (0-6 live,
        7 charged off, 8 closed).
    balance : float64 array (n_rows,)
        Outstanding balance at month end, currency.
    segment : int32 array (n_rows,)
        Index into ``segment_names``.
    loan_ids : numpy.ndarray (n_loans,)
        The file's ``loan_id`` of each loan index.
    month_labels : tuple of str (n_months,)
        ``YYYY-MM`` (or the integer index as text) of each month index.
    first_period : int
        Absolute period of month index 0: ``12 * year + month - 1`` for ``YYYY-MM``
        months, the file's integer otherwise.
    month_format : {"year-month", "integer"}
    segment_names : tuple of str
    origination_month : int64 array (n_loans,) or None
        Month index (may be negative) each loan was opened, when the file gives it.
    """

    source: str
    loan: np.ndarray
    month: np.ndarray
    state: np.ndarray
    balance: np.ndarray
    segment: np.ndarray
    loan_ids: np.ndarray
    month_labels: tuple
    first_period: int
    month_format: str
    segment_names: tuple
    origination_month: np.ndarray = None

    @property
    def n_rows(self):
        return self.loan.shape[0]

    @property
    def n_loans(self):
        return self.loan_ids.shape[0]

    @property
    def n_months(self):
        return len(self.month_labels)


@dataclass(frozen=True)
class Transitions:
    """One record per move of a loan from one month to the next (consecutive rows of a loan).

    Attributes
    ----------
    loan : int64 array (n_transitions,)
        Loan index (as in :class:`History`); the bootstrap resamples these.
    segment : int32 array (n_transitions,)
    month : int64 array (n_transitions,)
        Month index of the *end* of the move (1 .. n_months - 1): the move from
        month ``t - 1`` to month ``t`` is recorded at ``t``, as the engine applies
        month ``t``'s cycle index to it.
    from_state : int8 array (n_transitions,)
        Live state at the start, 0-6.
    to_state : int8 array (n_transitions,)
        State at the end, 0-8.
    balance : float64 array (n_transitions,)
        Balance at the start of the move (the weight of balance-weighted rates).
    n_loans, n_months : int
    segment_names, month_labels : tuple of str
    source : str
        The history's file (named in messages).
    """

    loan: np.ndarray
    segment: np.ndarray
    month: np.ndarray
    from_state: np.ndarray
    to_state: np.ndarray
    balance: np.ndarray
    n_loans: int
    n_months: int
    segment_names: tuple
    month_labels: tuple
    source: str

    @property
    def n_transitions(self):
        return self.loan.shape[0]


def read_history(path):
    """Read and validate a loan-month history (CSV or Parquet, by extension).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    History

    Raises
    ------
    InputError
        Missing or unreadable file, missing or unknown columns, both or neither of
        ``dpd`` and ``dpd_state``, bad values, duplicate, unsorted or missing months,
        rows after an exit, impossible transitions; every problem of the file at once.
    """
    path = Path(path)
    return history_from_frame(read_table(path, "history"), str(path))


def history_from_frame(frame, source="<history>"):
    """Validate a history held in a DataFrame (the columns of the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
    source : str
        Name used in messages (the file name when read from disk).

    Returns
    -------
    History

    Raises
    ------
    InputError
        As :func:`read_history`.
    """
    problems = _column_problems(source, frame, HISTORY_REQUIRED, HISTORY_OPTIONAL + HISTORY_STATE_COLUMNS, "history")
    given = [c for c in HISTORY_STATE_COLUMNS if c in frame.columns]
    if len(given) != 1:
        problems.append(must_be(source, "the delinquency column", "exactly one of 'dpd' (days past due) or "
                                "'dpd_state' (state name or index 0-8)", given or "neither",
                                "Keep dpd_state if you have it (it records charge-offs and closures), else dpd."))
    if problems:
        raise InputError(problems)
    if len(frame) == 0:
        raise InputError(f"{source}: the history has no rows. Export one row per loan and month.")
    locate = _RowLocator(frame)
    problems = []
    loan_codes, loan_ids = pd.factorize(frame["loan_id"], use_na_sentinel=True)
    if (loan_codes < 0).any():
        problems.append(locate.problem(source, "loan_id", "a non-empty identifier", np.flatnonzero(loan_codes < 0),
                                       "Give every row its loan's id."))
    period, month_format, month_problems = _parse_months(source, frame["month"], "month", locate)
    problems += month_problems
    balance, balance_problems = _numbers(source, frame["balance"], "balance", "a number >= 0", locate,
                                         "Give the outstanding balance at month end (0 for a closed loan).")
    problems += balance_problems
    if "dpd" in frame.columns:
        state, state_problems = _states_from_days(source, frame["dpd"], locate)
    else:
        state, state_problems = _states_from_names(source, frame["dpd_state"], locate)
    problems += state_problems
    if "segment" in frame.columns:
        segment, segment_names = pd.factorize(frame["segment"], use_na_sentinel=True)
        if (segment < 0).any():
            problems.append(locate.problem(source, "segment", "a segment name", np.flatnonzero(segment < 0),
                                           "Fill the segment of every row, or drop the column to use one segment."))
        segment_names = tuple(str(name) for name in segment_names)
    else:
        segment, segment_names = np.zeros(len(frame), np.int64), (DEFAULT_SEGMENT,)
    origination = None
    if "origination_month" in frame.columns:
        origination, origination_format, origination_problems = _parse_months(
            source, frame["origination_month"], "origination_month", locate)
        problems += origination_problems
        if not origination_problems and not month_problems and origination_format != month_format:
            problems.append(must_be(source, "origination_month", f"in the format of month ({month_format})",
                                    origination_format, "Write both columns as YYYY-MM or both as integers."))
    if problems:
        raise InputError(problems)
    problems = _check_panel(source, locate, loan_codes, period, state, segment, origination)
    if problems:
        raise InputError(problems)
    first_period = int(period.min())
    n_months = int(period.max()) - first_period + 1
    origination_month = None
    if origination is not None:
        starts = np.flatnonzero(np.r_[True, np.diff(loan_codes) != 0])
        origination_month = (origination[starts] - first_period).astype(np.int64)
    return History(
        source=source, loan=loan_codes.astype(np.int64), month=(period - first_period).astype(np.int64),
        state=state, balance=balance, segment=segment.astype(np.int32), loan_ids=np.asarray(loan_ids),
        month_labels=month_labels_of(first_period + np.arange(n_months), month_format), first_period=first_period,
        month_format=month_format, segment_names=segment_names, origination_month=origination_month)


def extract_transitions(history):
    """The moves of every loan between consecutive months: the estimator's input.

    Parameters
    ----------
    history : History

    Returns
    -------
    Transitions
        One record per pair of consecutive rows of the same loan (a loan with
        ``r`` rows gives ``r - 1`` moves); the month is that of the second row.
    """
    same_loan = history.loan[1:] == history.loan[:-1]
    start = np.flatnonzero(same_loan)
    return Transitions(
        loan=history.loan[start], segment=history.segment[start], month=history.month[start + 1],
        from_state=history.state[start], to_state=history.state[start + 1], balance=history.balance[start],
        n_loans=history.n_loans, n_months=history.n_months, segment_names=history.segment_names,
        month_labels=history.month_labels, source=history.source)


def read_macro(path, history=None):
    """Read and validate a monthly macro series (CSV or Parquet).

    Parameters
    ----------
    path : str or Path
    history : History, optional
        When given, the series must cover every month of the history (in the
        same month format) and is returned aligned with it: row ``t`` is the
        history's month index ``t``. Months outside the history are dropped.

    Returns
    -------
    pandas.DataFrame
        ``month`` (label, ``YYYY-MM`` or the integer as text), ``unemployment_pct``
        and whichever of ``income_growth_pct`` and ``rate_pct`` the file has, in
        percent, one row per month in increasing order, no gaps.

    Raises
    ------
    InputError
        Missing or unreadable file, missing or unknown columns, empty file, bad
        months, duplicate months, non-numeric values, months missing (inside the
        series, or months of the history the series does not cover).
    """
    path = Path(path)
    source = str(path)
    frame = read_table(path, "macro series")
    problems = _column_problems(source, frame, MACRO_REQUIRED, MACRO_OPTIONAL, "macro series")
    if problems:
        raise InputError(problems)
    if len(frame) == 0:
        raise InputError(f"{source}: the macro series has no rows. Give one row per month of the history.")
    locate = _RowLocator(frame, loan_column=None)
    period, month_format, month_problems = _parse_months(source, frame["month"], "month", locate)
    value_columns = [c for c in MACRO_REQUIRED[1:] + MACRO_OPTIONAL if c in frame.columns]
    values = {}
    problems = list(month_problems)
    for column in value_columns:
        values[column], column_problems = _numbers(source, frame[column], column, "a number (percent)", locate,
                                                   "Fill every month; interpolate a missing value if needed.",
                                                   low=-np.inf)
        problems += column_problems
    if month_problems:
        raise InputError(problems)
    order = np.argsort(period, kind="stable")
    period = period[order]
    repeated = np.unique(period[1:][np.diff(period) == 0])
    if repeated.size:
        problems.append(f"{source}: month must be unique (one row per month); got "
                        f"{_listed(month_labels_of(repeated, month_format))} more than once. Keep one row per month.")
    if history is None:
        keep = np.ones(period.shape[0], bool)
        jumps = np.flatnonzero(np.diff(period) > 1)
        if jumps.size:
            where = [f"{a} to {b}" for a, b in zip(month_labels_of(period[jumps], month_format),
                                                   month_labels_of(period[jumps + 1], month_format))]
            problems.append(f"{source}: month must be consecutive (a monthly series); got a jump from "
                            f"{_listed(where)}. Add the missing months.")
    else:
        if month_format != history.month_format:
            raise InputError(must_be(source, "month", f"in the history's format ({history.month_format})",
                                     month_format, "Write the months of both files the same way."))
        wanted = history.first_period + np.arange(history.n_months)
        keep = np.isin(period, wanted)
        missing = wanted[~np.isin(wanted, period)]
        if missing.size:
            problems.append(f"{source}: month must cover every month of the history {history.source} "
                            f"({history.month_labels[0]} to {history.month_labels[-1]}); got no row for "
                            f"{_listed(month_labels_of(missing, month_format))}. Add the missing months.")
    if problems:
        raise InputError(problems)
    result = pd.DataFrame({"month": list(month_labels_of(period[keep], month_format))})
    for column in value_columns:
        result[column] = values[column][order][keep]
    return result


# --------------------------------------------------------------------------- reading
def _column_problems(source, frame, required, optional, what):
    """Missing required and unknown columns (with the nearest documented name)."""
    documented = required + optional
    problems = [f"{source}: required column '{c}' is missing. The {what} needs columns {', '.join(required)} "
                f"(documented columns: {', '.join(documented)}). Add it, or rename the column that holds it."
                for c in required if c not in frame.columns]
    for column in frame.columns:
        if column not in documented:
            near = difflib.get_close_matches(str(column), documented, n=1)
            hint = f"Did you mean '{near[0]}'? " if near else ""
            problems.append(must_be(source, f"column '{column}'", f"one of {', '.join(documented)}", column,
                                    f"{hint}Rename or drop it."))
    return problems


class _RowLocator:
    """Names rows of the file in messages: ``data row 12 (loan 17, month 2024-03)``."""

    def __init__(self, frame, loan_column="loan_id"):
        self.frame = frame
        self.loan_column = loan_column

    def value(self, column, row):
        """The cell of ``column`` at position ``row`` as the user wrote it."""
        return cell_text(self.frame[column].iloc[int(row)])

    def describe(self, row):
        row = int(row)
        if self.loan_column is None:
            return f"data row {row + 1} (month {self.value('month', row)})"
        return f"data row {row + 1} (loan {self.value(self.loan_column, row)}, month {self.value('month', row)})"

    def rows(self, rows):
        return _listed([self.describe(r) for r in rows[:SHOWN_EXAMPLES]], len(rows))

    def problem(self, source, field, constraint, rows, fix):
        """One message for all ``rows`` (positions) where column ``field`` breaks ``constraint``.

        The message quotes the distinct offending values of the rows it names.
        """
        values = " / ".join(dict.fromkeys(self.value(field, row) for row in rows[:SHOWN_EXAMPLES]))
        return f"{source}: {field} must be {constraint}; got {values} in {self.rows(rows)}. {fix}"


def _listed(items, total=None):
    """``a, b, c (and 41 more)``: the first few items and a count of the rest."""
    items = list(items)
    total = len(items) if total is None else total
    shown = ", ".join(str(i) for i in items[:SHOWN_EXAMPLES])
    return shown if total <= SHOWN_EXAMPLES else f"{shown} (and {total - SHOWN_EXAMPLES} more)"


# --------------------------------------------------------------------------- values
def _numbers(source, column, field, constraint, locate, fix, low=0.0):
    """Column as float64 and the problem (if any) of its type (booleans, lists, Parquet text: see
    :func:`~simulator.inputs.tables.numeric_column_problem`), or of its non-numeric, missing or below-``low``
    cells."""
    wrong_type = numeric_column_problem(source, column.to_frame(field), field)
    if wrong_type is not None:
        return np.full(len(column), np.nan), [wrong_type]
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < low)
    if not bad.any():
        return values, []
    return values, [locate.problem(source, field, constraint, np.flatnonzero(bad), fix)]


def _states_from_days(source, column, locate):
    """State ``min(ceil(dpd / 30), 6)`` of each row, and the problems of bad day counts."""
    days, problems = _numbers(source, column, "dpd", "a whole number of days >= 0", locate,
                              "Give days past due at month end (0 for an up-to-date loan).")
    fractional = np.flatnonzero(np.isfinite(days) & (days != np.floor(days)))
    if not problems and fractional.size:
        problems = [locate.problem(source, "dpd", "a whole number of days >= 0", fractional,
                                   "Round days past due to whole days.")]
    state = np.minimum(np.ceil(np.nan_to_num(np.maximum(days, 0.0)) / 30.0), WORST_LIVE).astype(np.int8)
    return state, problems


def _states_from_names(source, column, locate):
    """State index of each row from names or indices 0-8, and the problems of unknown values."""
    n_states = len(ROLL_RATE_COLUMNS)
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    lookup = {name: k for k, name in enumerate(ROLL_RATE_COLUMNS)}
    lookup.update({str(k): k for k in range(n_states)})
    unique_states = np.array([lookup.get(_state_text(u), -1) for u in uniques] + [-1], dtype=np.int64)
    state = unique_states[codes]  # code -1 (an empty cell) picks the trailing -1
    bad = np.flatnonzero(state < 0)
    if not bad.size:
        return state.astype(np.int8), []
    return state.astype(np.int8), [locate.problem(
        source, "dpd_state", f"one of {', '.join(ROLL_RATE_COLUMNS)} or its index 0-{n_states - 1}", bad,
        "Map the lender's status codes to these states.")]


def _state_text(value):
    """``3``, ``3.0`` and ``'3'`` all read as ``'3'``; names pass through."""
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        return str(int(value))
    return str(value).strip()


def _parse_months(source, column, field, locate):
    """Absolute periods of a month column, its format, and the problems of unreadable months.

    ``YYYY-MM`` becomes ``12 * year + month - 1``; integers are kept. Text is
    parsed once per distinct value (``pd.factorize``), so millions of rows cost
    little more than the factorisation.
    """
    fix = "Write months as YYYY-MM (e.g. 2024-03) or as integer month numbers."
    constraint = "a month as YYYY-MM or an integer"
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        bad = np.flatnonzero(~np.isfinite(values) | (values != np.floor(values)))
        problems = [locate.problem(source, field, constraint, bad, fix)] if bad.size else []
        return np.nan_to_num(values).astype(np.int64), "integer", problems
    if pd.api.types.is_datetime64_any_dtype(column):
        bad = np.flatnonzero(column.isna().to_numpy())
        problems = [locate.problem(source, field, constraint, bad, fix)] if bad.size else []
        period = (12 * column.dt.year + column.dt.month - 1).to_numpy(dtype=float, na_value=0.0)
        return period.astype(np.int64), "year-month", problems
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    unique_periods = np.array([year_month_period(text) for text in uniques] + [-1], dtype=np.int64)
    period = unique_periods[codes]  # code -1 (an empty cell) picks the trailing -1
    bad = np.flatnonzero(period < 0)
    problems = [locate.problem(source, field, constraint, bad, fix)] if bad.size else []
    return period, "year-month", problems


def year_month_period(text):
    """``12 * year + month - 1`` of a ``YYYY-MM`` text, or -1 when it is not one."""
    match = YEAR_MONTH.fullmatch(str(text).strip())
    if match and 1 <= int(match.group(2)) <= 12:
        return 12 * int(match.group(1)) + int(match.group(2)) - 1
    return -1


def month_labels_of(periods, month_format):
    """Month labels (``YYYY-MM`` or the integer as text) of absolute periods."""
    if month_format == "integer":
        return tuple(str(int(p)) for p in periods)
    return tuple(f"{int(p) // 12:04d}-{int(p) % 12 + 1:02d}" for p in periods)


# --------------------------------------------------------------------------- panel structure
def _check_panel(source, locate, loan, period, state, segment, origination):
    """Problems of order, duplicates, gaps, exits and transitions of a panel with valid values.

    Everything is checked on the rows sorted by (loan, month), so an unsorted file
    also gets its duplicates, gaps and transitions reported; for a sorted file (the
    usual case) that order is the identity and costs no sort.
    """
    n_rows = loan.shape[0]
    same_block = loan[1:] == loan[:-1]
    in_order = bool(np.all(loan[1:] >= loan[:-1]) and np.all(period[1:][same_block] >= period[:-1][same_block]))
    order = np.arange(n_rows) if in_order else np.lexsort((period, loan))
    problems = []
    if not in_order:
        out_of_place = np.flatnonzero(order != np.arange(n_rows))
        problems.append(f"{source}: rows must be sorted by loan_id, then month, with each loan's rows together; "
                        f"got {locate.rows(out_of_place)} out of place. Sort the file by loan_id, month.")
    loan, period, state, segment = loan[order], period[order], state[order], segment[order]
    same = loan[1:] == loan[:-1]
    step = period[1:] - period[:-1]
    previous, current = order[:-1], order[1:]

    duplicate = np.flatnonzero(same & (step == 0))
    if duplicate.size:
        problems.append(f"{source}: (loan_id, month) must be unique; got {locate.rows(current[duplicate])} "
                        "more than once. Keep one row per loan and month.")
    gap = np.flatnonzero(same & (step > 1))
    if gap.size:
        where = [f"loan {locate.value('loan_id', current[g])} between {locate.value('month', previous[g])} and "
                 f"{locate.value('month', current[g])}" for g in gap[:SHOWN_EXAMPLES]]
        problems.append(f"{source}: the months of a loan must be consecutive; got a gap for "
                        f"{_listed(where, gap.size)}. Add the missing months (the loan's state and balance at "
                        "each month end).")
    changed = np.flatnonzero(same & (segment[1:] != segment[:-1]))
    if changed.size:
        problems.append(locate.problem(source, "segment", "the same in every row of a loan", current[changed],
                                       "Give each loan one segment (its segment at origination)."))
    if origination is not None:
        origination = origination[order]
        moved = np.flatnonzero(same & (origination[1:] != origination[:-1]))
        if moved.size:
            problems.append(locate.problem(source, "origination_month", "the same in every row of a loan",
                                           current[moved], "Give each loan one origination month."))
        first = np.r_[True, ~same]
        late = np.flatnonzero(first & (origination > period))
        if late.size:
            problems.append(locate.problem(source, "origination_month", "no later than the loan's first month",
                                           order[late], "Check the origination dates."))
    move = same & (step == 1)
    after_exit = np.flatnonzero(move & (state[:-1] >= CHARGED_OFF))
    if after_exit.size:
        problems.append(f"{source}: a loan must have no rows after it is charged_off or closed; got "
                        f"{locate.rows(current[after_exit])} after the exit month. Drop the rows after each "
                        "loan's exit month.")
    impossible = np.flatnonzero(move & (state[:-1] < CHARGED_OFF) & ~allowed_transitions()[state[:-1], state[1:]])
    if impossible.size:
        where = [f"loan {locate.value('loan_id', current[k])} {ROLL_RATE_COLUMNS[state[k]]} in "
                 f"{locate.value('month', previous[k])} -> {ROLL_RATE_COLUMNS[state[k + 1]]} in "
                 f"{locate.value('month', current[k])}" for k in impossible[:SHOWN_EXAMPLES]]
        problems.append(f"{source}: a loan must move at most one state worse a month, and be charged off only from "
                        f"dpd_91_120 or worse; got {_listed(where, impossible.size)}. Check those loans' "
                        "delinquency: a missing month, or day counts that jump two states in a 31-day month "
                        "(export dpd_state, or missed instalments x 30 as dpd).")
    return problems
