"""Writing people's words into an XLSX sheet so that they stay words.

openpyxl reads a string that begins with "=" as a formula, and people's words (a title, evidence
such as ``=HYPERLINK(...)``, a plan's text) would arrive in the office's Excel as live formulas;
Duban writes no formula of its own, so every cell that would be one is stored as the text it is.
Shared by the bulletin workbooks and the plan workbooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet


def append_as_typed(sheet: Worksheet, values: Sequence[Any]) -> list[Cell]:
    """Append a row whose text cells stay text (never a formula); return its cells.

    The cells are made first and appended as they are: finding the row again afterwards
    (``sheet[sheet.max_row]``) scans every cell of the sheet, once per row.
    """
    cells = [Cell(sheet, value=value) for value in values]
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"
    sheet.append(cells)
    return cells
