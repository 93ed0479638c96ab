"""Writing people's words into an XLSX sheet so that they stay words.

openpyxl reads a string that begins with "=" as a formula, and people's words (a title, evidence
such as ``=HYPERLINK(...)``, a plan's text) would arrive in the office's Excel as live formulas;
Duban writes no formula of its own, so every cell that would be one is stored as the text it is.
A CSV has no cell types: there a leading "=", "+", "-" or "@" is prefixed with "'", which is how
Excel itself marks a text cell, so that opening the file runs nothing. Shared by the bulletin
workbooks, the plan workbooks and the 台账 export.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TypedCell(Protocol):
    data_type: str


def as_text(cells: Iterable[TypedCell]) -> None:
    """Turn every formula cell among ``cells`` back into the text it was given as."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"


def csv_text(value: Any) -> Any:
    """A value for a CSV cell: text that a spreadsheet would run is quoted as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def append_as_typed(sheet: Worksheet, values: Sequence[Any]) -> list[Cell]:
    """Append a row whose text cells stay text (never a formula); return its cells.

    The cells are made first and appended as they are: finding the row again afterwards
    (``sheet[sheet.max_row]``) scans every cell of the sheet, once per row.
    """
    cells = [Cell(sheet, value=value) for value in values]
    as_text(cells)
    sheet.append(cells)
    return cells
