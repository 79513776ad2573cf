"""Excel workbooks a finance team can read: formatted sheets shared by the comparison and the sensitivity.

Every sheet written through :func:`write_sheet` has a frozen, bold header row,
columns wide enough for their header and values, and number formats by unit
(:data:`NUMBER_FORMATS`: rates as percentages, money with thousands separators,
months to one decimal). A sheet whose rows are metrics of different units is
formatted row by row (``row_kinds``); one whose columns share a unit, column by
column (``column_kinds``). Readable metric names come from
:data:`simulator.accounts.names.READABLE_NAMES` (the board pack's words) and units
from :func:`simulator.accounts.metrics.metric_unit`.
"""
import pandas as pd
from openpyxl.styles import Alignment, Font

NUMBER_FORMATS = {"rate": "0.00%", "probability": "0.0%", "money": "#,##0", "count": "#,##0", "months": "0.0",
                  "ratio": "0.000", "text": "@"}
"""Unit kind (:func:`simulator.accounts.metrics.metric_kind`, plus ``ratio`` for unit-free numbers such as
elasticities) -> Excel number format."""

MAX_WIDTH = 60
"""No column is wider than this many characters (long texts wrap)."""


def write_sheet(workbook, name, frame, column_kinds=None, row_kinds=None, index=False):
    """Write ``frame`` to sheet ``name`` of the open ``pandas.ExcelWriter`` ``workbook`` and format it.

    Parameters
    ----------
    column_kinds : dict, optional
        Column header -> kind (:data:`NUMBER_FORMATS`) for the numeric cells of that column.
    row_kinds : sequence, optional
        The kind of each data row, applied to its numeric cells (for sheets of metrics with different units);
        ``column_kinds`` wins where both name a cell.
    index : bool
        Write the frame's index as the first column.

    Returns
    -------
    openpyxl.worksheet.worksheet.Worksheet
    """
    name = name[:31]  # Excel's limit on sheet names
    frame.to_excel(workbook, sheet_name=name, index=index)
    sheet = workbook.sheets[name]
    column_kinds = column_kinds or {}
    for column in sheet.iter_cols(min_row=1):
        header = column[0]
        header.font = Font(bold=True)
        header.alignment = Alignment(wrap_text=True, vertical="top")
        kind = column_kinds.get(header.value)
        for k, cell in enumerate(column[1:]):
            if not isinstance(cell.value, (int, float)) or isinstance(cell.value, bool):
                continue
            cell_kind = kind or (row_kinds[k] if row_kinds is not None else None)
            if cell_kind is not None:
                cell.number_format = NUMBER_FORMATS[cell_kind]
        widest = max((len(_shown(cell.value)) for cell in column[1:]), default=0)
        sheet.column_dimensions[header.column_letter].width = min(MAX_WIDTH, max(10, widest + 2,
                                                                                  len(str(header.value or "")) + 2))
    sheet.freeze_panes = "B2" if index or _is_label_column(frame, index) else "A2"
    return sheet


def write_read_me(workbook, rows):
    """A ``read me`` sheet of ``(item, explanation)`` rows, the explanations wrapped."""
    sheet = write_sheet(workbook, "read me", pd.DataFrame(rows, columns=["item", "explanation"]))
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 110
    for cell in sheet["B"][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return sheet


def _shown(value):
    """About how many characters a cell's value takes once formatted (numbers with separators and decimals)."""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _is_label_column(frame, index):
    """Whether the sheet's first column labels its rows (text), so it stays in view when scrolling right too."""
    return not index and len(frame.columns) > 1 and not pd.api.types.is_numeric_dtype(frame.dtypes.iloc[0])
