"""Reading the user's tables (loan tapes, loan histories, macro series) with clear messages for bad files."""
import numpy as np
import pandas as pd

from .errors import InputError, must_be


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
    if pd.isna(value):
        return "an empty cell"
    return repr(value.item() if isinstance(value, np.generic) else value)
