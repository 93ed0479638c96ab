"""Cells that hold what people wrote as the text it is, in every workbook Duban makes.

openpyxl reads a string that begins with "=" as a formula, and people's words (a title,
evidence such as ``=HYPERLINK(...)``) would arrive in the office's Excel as live formulas;
Duban writes no formula of its own, so every cell that would be one is stored as text. A CSV
has no cell types: there a leading "=", "+", "-" or "@" is prefixed with "'", which is how
Excel itself marks a text cell, so that opening the file runs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

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
