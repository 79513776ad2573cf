"""Reading the user's tables (loan tapes, loan histories, macro series) with clear messages for bad files."""
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, excerpt, must_be


def read_table(path, what, missing_hint="Check the path; a relative path is taken from the current directory."):
    """A CSV or Parquet file (by extension) as a DataFrame.

    Parameters
    ----------
    path : Path
    what : str
        What the file is, in messages ("loan tape", "history", ...).
    missing_hint : str
        The fix suggested when the file does not exist.

    Raises
    ------
    InputError
        If the file is missing, has another extension, or cannot be parsed.
    """
    if not path.exists():
        raise InputError(f"{path}: {what} file not found. {missing_hint}")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputError(must_be(path, "the file extension", "'.csv' or '.parquet'", path.suffix,
                                 f"Save the {what} as CSV or Parquet."))
    try:
        return pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # any parser failure is a bad file, not a bug here
        reason = " ".join(str(exc).split())
        raise InputError(f"{path}: cannot be read as a {suffix[1:]} table ({type(exc).__name__}: {reason}). "
                         f"Export the {what} again as CSV with a header row, or as Parquet.") from None


def cell_text(value):
    """A cell as a user would write it: plain numbers and strings, 'an empty cell' for NaN."""
    if not isinstance(value, (list, tuple, dict, np.ndarray)) and pd.isna(value):
        return "an empty cell"
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return repr(value.item() if isinstance(value, np.generic) else value)


def numeric_column_problem(path, frame, column):
    """The house message if ``column`` of ``frame`` is not a column of numbers (``None`` if it is).

    A number column must have a numeric type: booleans (a Parquet ``bool`` column, or
    ``true``/``false`` in a CSV, would otherwise read as 0/1), lists, mappings and, in
    Parquet, text (a ``string`` column) are refused with the column named and the first
    cell that is not a plain number. In a CSV file every cell is text: a cell that is
    not a number is left to the caller's value checks, which name its row.
    """
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return None
    text_allowed = Path(path).suffix.lower() == ".csv"
    plain = values.map(lambda cell: cell is None or (isinstance(cell, str) and text_allowed)
                       or (isinstance(cell, (int, float, np.integer, np.floating))
                           and not isinstance(cell, (bool, np.bool_))))
    rows = np.flatnonzero(~plain.to_numpy(dtype=bool))
    if not len(rows):
        return None
    first = rows[0]
    kind = "booleans" if pd.api.types.is_bool_dtype(values) else type(values.iloc[first]).__name__
    return (f"{path}: column '{column}' must be numbers; got {excerpt(cell_text(values.iloc[first]))} ({kind}) in "
            f"data row {first + 1}. Store the column as numbers (integers or floats).")
