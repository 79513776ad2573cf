"""Macro history from a table: one dated column of percent levels, monthly or quarterly.

A series file is a CSV or Parquet table with a date column and value columns;
the user names the value column. What loads as it is:

* FRED downloads: header ``observation_date,<SERIES>`` (or ``date,<SERIES>``),
  the date the first day of the month or quarter, a value not published written
  ``.``;
* the Federal Reserve's supervisory scenario tables: header ``Scenario Name,Date,
  ...,Unemployment rate,...``, dates written ``2025 Q1``, whole numbers sometimes
  without decimals;
* any table with one row a month or a quarter and ISO dates (``2007-01-01``,
  ``2007-01``, or a quarter's last day such as ``2007-03-31``) or quarter labels
  (``2007 Q1``, ``2007Q1``, ``2007-Q1``).

The frequency is read from the dates (consecutive months or consecutive
quarters) unless the user states it. A gap (an empty cell or FRED's ``.``) is
refused with the file, row and date named, unless the user asks for linear
interpolation between the neighbouring values.

Months are counted as ``12 * year + (month - 1)``; a quarter's value stands at
its last month (a quarter-end stock, and the month at which a scenario's
quarterly ``path`` shock places it, see :func:`simulator.model.macro.central_path`:
quarterly levels at months 3, 6, ... linearly interpolated from the month-0
baseline), so :func:`monthly_levels` interpolates linearly between quarter ends.
"""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .errors import InputError, must_be
from .tables import cell_text, numeric_column_problem, read_table

FREQUENCIES = ("monthly", "quarterly")
MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3}

DATE_COLUMNS = ("observation_date", "date", "Date", "DATE")
"""Date columns found without being named, in this order (FRED's two headers, the supervisory tables')."""

MISSING_MARKS = ("", ".")
"""Cell texts that mean a value not published (FRED writes ``.``)."""

QUARTER_LABEL = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
ISO_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T].*)?\s*$")


@dataclass(frozen=True)
class Series:
    """A dated series of percent levels, one value a period, in date order, without gaps.

    Attributes
    ----------
    months : numpy.ndarray of int
        Each period's month (``12 * year + month - 1``): the first month of the
        period as the file dates it (for a quarter, its first month).
    values : numpy.ndarray of float
        Levels in percent, as in the file.
    frequency : {'monthly', 'quarterly'}
    source : str
        ``file:column``, for messages and outputs.
    """

    months: np.ndarray
    values: np.ndarray
    frequency: str
    source: str

    @property
    def step(self):
        """Months per period."""
        return MONTHS_PER_PERIOD[self.frequency]

    @property
    def end_months(self):
        """Each period's last month (where a quarter's value stands)."""
        return self.months + self.step - 1

    @property
    def labels(self):
        """Period labels: ``2007-01`` monthly, ``2007Q1`` quarterly."""
        return [period_label(month, self.frequency) for month in self.months]


def period_label(month, frequency):
    """``2007-03`` for a month, ``2007Q1`` for the quarter holding it."""
    year, month_of_year = divmod(int(month), 12)
    if frequency == "quarterly":
        return f"{year}Q{month_of_year // 3 + 1}"
    return f"{year}-{month_of_year + 1:02d}"


def parse_period(text):
    """The month (``12 * year + month - 1``) and frequency a date text names, or ``None`` if it names none.

    ``2025 Q1`` -> (first month of 2025Q1, 'quarterly'); ``2007-01-01`` or ``2007-01`` ->
    (that month, ``None``: a day says nothing of the frequency).

    >>> parse_period("2025 Q2")
    (24303, 'quarterly')
    >>> parse_period("2007-01-01")
    (24084, None)
    """
    text = str(text)
    quarter = QUARTER_LABEL.match(text)
    if quarter:
        return 12 * int(quarter.group(1)) + 3 * (int(quarter.group(2)) - 1), "quarterly"
    iso = ISO_MONTH.match(text)
    if iso and 1 <= int(iso.group(2)) <= 12:
        return 12 * int(iso.group(1)) + int(iso.group(2)) - 1, None
    return None


def parse_bound(text, source, field):
    """A ``--from``/``--to`` or ``start``/``end`` date as a month; see :func:`parse_period`.

    Raises
    ------
    InputError
    """
    parsed = parse_period(text)
    if parsed is None:
        raise InputError(must_be(source, field, "a date such as '2007-01-01', '2007-01' or '2007 Q1'", text,
                                 "Write the date as the series file does."))
    return parsed[0]


def split_file_column(text):
    """``FILE[:COLUMN]`` as ``(Path, column or None)``; a Windows drive letter is not a column.

    >>> split_file_column("data/unrate.csv:UNRATE")
    (PosixPath('data/unrate.csv'), 'UNRATE')
    """
    head, sep, tail = str(text).rpartition(":")
    if sep and head and "/" not in tail and "\\" not in tail and len(head) > 1:
        return Path(head), tail
    return Path(text), None


def _cell_problem(path, field, constraint, cell, fix):
    """A problem with one cell in the house format, the cell quoted as the user wrote it."""
    return f"{path}: {field} must be {constraint}; got {cell_text(cell)}. {fix}"


def _choose_columns(frame, path, column, date_column):
    """The date column and the value column of ``frame``, or the problems found."""
    columns = [str(name) for name in frame.columns]
    frame.columns = columns
    present = ", ".join(repr(name) for name in columns)
    problems = []
    if date_column is None:
        date_column = next((name for name in DATE_COLUMNS if name in columns), None)
        if date_column is None:
            problems.append(must_be(path, "the date column", f"one of {list(DATE_COLUMNS)}", columns,
                                    "Name the date column (date_column) or rename it 'date'."))
    elif date_column not in columns:
        problems.append(must_be(path, "date_column", f"a column of the file ({present})", date_column,
                                "Check the spelling against the file's header row."))
    values = [name for name in columns if name != date_column and name != "Scenario Name"]
    if column is None:
        if len(values) != 1:
            problems.append(must_be(path, "column", f"named when the file has several value columns ({present})",
                                    None, "Name the column, e.g. FILE:UNRATE or column: 'Unemployment rate'."))
        else:
            column = values[0]
    elif column not in columns:
        problems.append(must_be(path, "column", f"a column of the file ({present})", column,
                                "Check the spelling against the file's header row."))
    if problems:
        raise InputError(problems)
    return date_column, column


def _periods(frame, path, date_column, frequency):
    """Each row's month and the series' frequency (read from the dates unless given)."""
    parsed, problems = [], []
    for row, cell in enumerate(frame[date_column], start=2):
        period = None if pd.isna(cell) else parse_period(cell)
        if period is None:
            problems.append(_cell_problem(path, f"row {row} of column {date_column!r}",
                                    "a date such as '2007-01-01' or '2025 Q1'", cell,
                                    "Fix or remove the row."))
        parsed.append(period or (0, None))
    if problems:
        raise InputError(problems)
    months = np.array([month for month, _ in parsed], dtype=np.int64)
    labelled = {kind for _, kind in parsed if kind is not None}
    steps = np.diff(months)
    detected = frequency is None
    if detected:
        if labelled:
            frequency = "quarterly"
        elif len(months) < 2:
            raise InputError(must_be(path, "frequency", "given for a series of one row", None,
                                     "Add rows or state the frequency (monthly or quarterly)."))
        else:
            frequency = "monthly" if steps[0] == 1 else "quarterly"
    step = MONTHS_PER_PERIOD[frequency]
    if frequency == "quarterly":
        months = months - months % 3  # a quarter dated by any of its months (first day or last day)
        steps = np.diff(months)
    wrong = np.flatnonzero(steps != step)
    if len(wrong):
        i = int(wrong[0])
        raise InputError(must_be(path, f"the dates of column {date_column!r}",
                                 f"consecutive {'months' if step == 1 else 'quarters'} in increasing order",
                                 f"{frame[date_column].iloc[i]} (row {i + 2}) followed by "
                                 f"{frame[date_column].iloc[i + 1]} (row {i + 3})",
                                 "Sort the rows, remove duplicates, and give one row a period"
                                 f"{' (or state the frequency)' if detected else ''}."))
    return months, frequency


def _levels(frame, path, date_column, column, interpolate_gaps):
    """The value column as floats; gaps refused or linearly interpolated; a column that is not numbers (booleans,
    lists, Parquet text) refused first (:func:`~simulator.inputs.tables.numeric_column_problem`)."""
    problem = numeric_column_problem(path, frame, column)
    if problem:
        raise InputError(problem)
    cells = frame[column]
    text = cells.astype(str).str.strip()
    missing = cells.isna().to_numpy() | text.isin(MISSING_MARKS).to_numpy()
    values = pd.to_numeric(cells.where(~missing), errors="coerce").to_numpy(dtype=float, copy=True)
    problems = []
    for i in np.flatnonzero(np.isnan(values) & ~missing):
        problems.append(_cell_problem(path, f"row {i + 2} ({frame[date_column].iloc[i]}) of column {column!r}",
                                      "a number (percent)", cells.iloc[i], "Fix the cell."))
    if problems:
        raise InputError(problems)
    gaps = np.flatnonzero(missing)
    if len(gaps) == 0:
        return values
    if not interpolate_gaps:
        raise InputError([_cell_problem(path, f"row {i + 2} ({frame[date_column].iloc[i]}) of column {column!r}",
                                        "a number (percent)", cells.iloc[i],
                                  "The value is missing (FRED writes '.' for a value not published): fill it in, "
                                  "choose dates that avoid it, or ask for interpolation (interpolate_gaps: true, "
                                  "or --interpolate-gaps).") for i in gaps])
    known = np.flatnonzero(~missing)
    ends = [i for i in gaps if i < known.min() or i > known.max()] if len(known) else list(gaps)
    if ends:
        i = ends[0]
        raise InputError(_cell_problem(path, f"row {i + 2} ({frame[date_column].iloc[i]}) of column {column!r}",
                                       "a number (percent): a gap at either end cannot be interpolated",
                                       cells.iloc[i], "Fill it in or choose dates that leave it out."))
    values[gaps] = np.interp(gaps, known, values[known])
    return values


def read_series(path, column=None, *, date_column=None, frequency=None, start=None, end=None,
                interpolate_gaps=False, source=None):
    """Read a dated series of percent levels from a CSV or Parquet table.

    Parameters
    ----------
    path : str or Path
    column : str, optional
        The value column; may be left out when the file has one besides the date.
    date_column : str, optional
        Default: the first of :data:`DATE_COLUMNS` present.
    frequency : {'monthly', 'quarterly'}, optional
        Default: read from the dates (quarter labels, or the step between the first two rows).
    start, end : int, optional
        First and last month kept (see :func:`parse_bound`); periods are kept when
        their first month lies in ``[start, end]``. Gaps outside are not looked at.
    interpolate_gaps : bool
        Fill missing values linearly between their neighbours instead of refusing them.
    source : str, optional
        How messages name the file (default: its path).

    Returns
    -------
    Series

    Raises
    ------
    InputError
        For a missing or unreadable file, an unknown column (the message lists the
        columns present), a bad date, dates that are not consecutive periods, a
        cell that is not a number, a gap (unless interpolated), or no row between
        ``start`` and ``end``.
    """
    path = Path(path)
    name = source or str(path)
    frame = read_table(path, "series")
    if frequency is not None and frequency not in FREQUENCIES:
        raise InputError(must_be(name, "frequency", f"one of {list(FREQUENCIES)}", frequency,
                                 "Leave it out to read it from the dates."))
    date_column, column = _choose_columns(frame, name, column, date_column)
    months, frequency = _periods(frame, name, date_column, frequency)
    keep = np.ones(len(months), dtype=bool)
    if start is not None:
        keep &= months >= start - start % MONTHS_PER_PERIOD[frequency]
    if end is not None:
        keep &= months <= end
    if not keep.any():
        raise InputError(must_be(name, f"the dates of column {date_column!r}",
                                 f"covering {period_label(start, frequency) if start is not None else 'the start'} to "
                                 f"{period_label(end, frequency) if end is not None else 'the end'}",
                                 f"{frame[date_column].iloc[0]} to {frame[date_column].iloc[-1]}",
                                 "Choose dates inside the file's range."))
    frame = frame[keep]
    values = _levels(frame, name, date_column, column, interpolate_gaps)
    return Series(months[keep], values, frequency, f"{name}:{column}")


def monthly_levels(series):
    """The series at monthly steps: ``(months, values)``.

    Monthly series are returned as they are. A quarterly value stands at its
    quarter's last month and the months between two quarter ends are linearly
    interpolated (the rule of a scenario's quarterly ``path`` shock), so the
    result runs from the first quarter's last month to the last quarter's last month.
    """
    if series.frequency == "monthly":
        return series.months.copy(), series.values.copy()
    anchors = series.end_months
    months = np.arange(anchors[0], anchors[-1] + 1)
    return months, np.interp(months, anchors, series.values)


def with_table_levels(scenario, source):
    """``scenario`` with every ``path`` shock's ``levels_from`` table read into ``levels_pct`` and its frequency.

    The table's first period used is the shock's first level: month 1 for a
    monthly table, month 3 for a quarterly one (so a supervisory scenario starting
    ``2025 Q1`` goes with a baseline holding the 2024Q4 level). A shock that states
    ``frequency`` must agree with the table's.

    Raises
    ------
    InputError
        Every problem of every table, each naming the scenario file and the shock.
    """
    shocks, problems = [], []
    for i, shock in enumerate(scenario.macro.shocks):
        table = getattr(shock, "levels_from", None)
        if table is None:
            shocks.append(shock)
            continue
        where = f"macro.shocks[{i}].levels_from"
        try:
            start = None if table.start is None else parse_bound(table.start, source, f"{where}.start")
            end = None if table.end is None else parse_bound(table.end, source, f"{where}.end")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        try:
            series = read_series(table.file, table.column, date_column=table.date_column, start=start, end=end,
                                 interpolate_gaps=table.interpolate_gaps)
        except InputError as exc:
            problems.extend(f"{source}: {where}: {problem}" for problem in exc.problems)
            continue
        if "frequency" in shock.model_fields_set and shock.frequency != series.frequency:
            problems.append(must_be(source, f"macro.shocks[{i}].frequency", f"the table's ({series.frequency!r})",
                                    shock.frequency, "Remove the key: a table's frequency is read from its dates."))
            continue
        shocks.append(shock.model_copy(update={"frequency": series.frequency, "levels_from": None,
                                               "levels_pct": [float(value) for value in series.values]}))
    if problems:
        raise InputError(problems)
    if all(new is old for new, old in zip(shocks, scenario.macro.shocks)):
        return scenario
    return scenario.model_copy(update={"macro": scenario.macro.model_copy(update={"shocks": shocks})})


@dataclass(frozen=True)
class BacktestHistory:
    """What a scenario's ``backtest`` section names, read: the two series and the window's bounds.

    Attributes
    ----------
    macro, observed : Series
        The unemployment history and the observed rate.
    start, end : int or None
        Calendar months bounding the observed periods compared (``None``: as far as both files go).
    ceilings : dict of int -> float
        The acceptance's ``ratio_ceilings`` by calendar month (whether the window compares that period is checked
        by the back-test, whose window the command line may change).
    """

    macro: Series
    observed: Series
    start: Optional[int]
    end: Optional[int]
    ceilings: dict


def read_backtest_history(spec, source):
    """Read the series of a scenario's ``backtest`` section (:class:`simulator.inputs.schema.BacktestSpec`).

    Parameters
    ----------
    spec : BacktestSpec
        Its files absolute (the loader resolves them from the scenario's folder).
    source : str
        The scenario file, for messages.

    Returns
    -------
    BacktestHistory

    Raises
    ------
    InputError
        Every problem at once, each naming the scenario file and the field: a file missing or unreadable, a column
        absent, a gap, a date (a bound or a ratio ceiling's period) that is not a date.
    """
    problems, bounds, series = [], {}, {}
    for key in ("start", "end"):
        text = getattr(spec, key)
        try:
            bounds[key] = None if text is None else parse_bound(text, source, f"backtest.{key}")
        except InputError as exc:
            problems.extend(exc.problems)
    for key in ("macro", "observed"):
        table = getattr(spec, key)
        try:
            series[key] = read_series(table.file, table.column, date_column=table.date_column,
                                      interpolate_gaps=table.interpolate_gaps)
        except InputError as exc:
            problems.extend(f"{source}: backtest.{key}: {problem}" for problem in exc.problems)
    ceilings = {}
    for period, ceiling in (spec.acceptance.ratio_ceilings if spec.acceptance is not None else {}).items():
        try:
            ceilings[parse_bound(period, source, "backtest.acceptance.ratio_ceilings")] = float(ceiling)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return BacktestHistory(series["macro"], series["observed"], bounds.get("start"), bounds.get("end"), ceilings)
