"""A plan file as the rows of each sheet, and the cells a value is written as.

Pure. The writer puts these rows in a workbook; the reader compares a row marked 示例 with the
template's example through the same cells.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel

from config.plan_file import PlanFile
from config.plan_workbook.sheets import KEY, PARENT, SHEETS, YES, Column, Kind, Shape, Sheet

Cell = str | int | float | date | None


def sheet_rows(sheet: Sheet, plan_file: PlanFile) -> Iterator[list[Cell]]:
    """The sheet's rows of ``plan_file``, in file order, as the cells to write."""
    for values in _values(sheet, plan_file):
        yield [cell_of(column, value) for column, value in zip(sheet.columns, values, strict=True)]


def _values(sheet: Sheet, plan_file: PlanFile) -> Iterator[list[Any]]:
    if sheet.shape is Shape.single:
        yield [_get(getattr(plan_file, sheet.key), c.path) for c in sheet.columns]
    elif sheet.shape is Shape.rows:
        for entry in getattr(plan_file, sheet.key):
            yield [_get(entry, c.path) for c in sheet.columns]
    else:
        parent_sheet = next(s for s in SHEETS if s.key == sheet.parent)
        code_path = parent_sheet.columns[0].path
        field_name = sheet.key.rsplit(".", 1)[1]
        for parent in getattr(plan_file, parent_sheet.key):
            code = _get(parent, code_path)
            if sheet.shape is Shape.children:
                for child in getattr(parent, field_name):
                    yield [code, *(_get(child, c.path) for c in sheet.columns[1:])]
                continue
            mappings = [getattr(parent, name) for name in sheet.mappings]
            keys = list(dict.fromkeys(k for mapping in mappings for k in mapping))
            for key in keys:
                yield [code, key, *(mapping.get(key) for mapping in mappings)]


def _get(entry: BaseModel | None, path: tuple[str, ...]) -> Any:
    value: Any = entry
    for name in path:
        if value is None:
            return None
        value = getattr(value, name)
    return value


def cell_of(column: Column, value: Any) -> Cell:
    """What a cell holds for a value of this column: coded values as their Chinese words,
    flags as 是/否, lists joined with 、, texts as texts, numbers and dates as themselves."""
    if value is None:
        return None
    if isinstance(value, Enum):
        value = value.value
    if column.kind is Kind.choice:
        return column.choices.get(str(value), str(value))
    if column.kind is Kind.flag:
        return YES if value else "否"
    if column.kind is Kind.words:
        return "、".join(str(v) for v in value)
    if column.kind is Kind.text:
        return str(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | str | date):
        return value
    return str(value)


def identity(column: Column) -> bool:
    """Whether the column names a parent or a key, rather than a field of the entry."""
    return column.key.endswith((f".{PARENT}", f".{KEY}"))
