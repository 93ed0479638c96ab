"""Writing a plan file as a workbook, or the blank template with one example row per sheet.

Every sheet has its headings in row 1 (bold, frozen, each with a note saying what it holds) and
a 备注 column last for the reader's own notes. Drop-downs offer the coded values (约束性/预期性,
单位类型, 指标方向) and the codes of the 单位 and 项目 sheets; dates, years and numbers are checked
as they are typed. Texts are written as text cells (a "3" stays the text "3", a "=…" never
becomes a formula), numbers as numbers, dates as dates.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from config.plan_file import PlanFile
from config.plan_workbook.example import EXAMPLE
from config.plan_workbook.rows import Cell, sheet_rows
from config.plan_workbook.sheets import (
    EXAMPLE_MARK,
    NOTE_HEADING,
    SHEETS,
    Column,
    Kind,
    Sheet,
)
from config.spreadsheet import append_as_typed

# Rows below the data that keep their drop-downs and checks, for the rows people add.
SPARE_ROWS = 500
EXAMPLE_NOTE = f"{EXAMPLE_MARK}：导入时跳过本行；照此格式在下面填写，或删除本行"
_HEADING_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FONT = Font(italic=True, color="808080")
_KIND_HINTS = {Kind.date: "日期，如 2018-06-30", Kind.integer: "整数", Kind.number: "数字",
               Kind.cell: "数字，或文件印的原文（如“25 以上”）", Kind.flag: "是 / 否",
               Kind.words: "多个用“、”分隔"}


def plan_workbook(plan_file: PlanFile) -> bytes:
    """The plan as a workbook that ``read.load_plan_workbook`` reads back to the same plan."""
    return _workbook((sheet, list(sheet_rows(sheet, plan_file))) for sheet in SHEETS)


def template_workbook() -> bytes:
    """A blank plan workbook: headings, checks and one example row per sheet, marked 示例."""
    return _workbook(((sheet, list(sheet_rows(sheet, EXAMPLE))[:1]) for sheet in SHEETS),
                     example=True)


def _workbook(sheets: Iterable[tuple[Sheet, list[list[Cell]]]], example: bool = False) -> bytes:
    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet a new workbook starts with
    for sheet, rows in sheets:
        _fill(book.create_sheet(sheet.title), sheet, rows, example)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _fill(ws: Worksheet, sheet: Sheet, rows: list[list[Cell]], example: bool) -> None:
    append_as_typed(ws, [c.heading for c in sheet.columns] + [NOTE_HEADING])
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font, cell.fill = Font(bold=True), _HEADING_FILL
        hint = "；".join(h for h in (_required(column), column.note, _KIND_HINTS.get(column.kind),
                                     _choice_hint(column)) if h)
        cell.comment = Comment(hint, "督办") if hint else None
        ws.column_dimensions[get_column_letter(index)].width = _width(column)
    ws.cell(row=1, column=len(sheet.columns) + 1).font = Font(bold=True)
    ws.column_dimensions[get_column_letter(len(sheet.columns) + 1)].width = 30
    ws.freeze_panes = "A2"
    for values in rows:
        cells = append_as_typed(ws, [*values, EXAMPLE_NOTE if example else None])
        for cell, column in zip(cells, sheet.columns, strict=False):
            if column.kind is Kind.date:
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, str):
                cell.number_format = "@"  # stays text when edited: "3" is not the number 3
        if example:
            for cell in cells:
                cell.font = _EXAMPLE_FONT
    last = len(rows) + 1 + SPARE_ROWS
    for index, column in enumerate(sheet.columns, start=1):
        check = _check(column)
        if check is not None:
            ws.add_data_validation(check)
            letter = get_column_letter(index)
            check.add(f"{letter}2:{letter}{last}")


def _required(column: Column) -> str:
    return "必填" if column.required else ""


def _choice_hint(column: Column) -> str:
    if column.choices:
        return "可选：" + "、".join(column.choices.values())
    if column.refers_to:
        return f"填「{_sheet(column.refers_to).title}」表中已有的代码"
    return ""


def _width(column: Column) -> float:
    wide = {Kind.text: 24, Kind.cell: 14, Kind.date: 12, Kind.words: 24}
    return max(len(column.heading) * 2 + 2, wide.get(column.kind, 10))


def _sheet(key: str) -> Sheet:
    return next(s for s in SHEETS if s.key == key)


def _check(column: Column) -> DataValidation | None:
    """The Excel check of what may be typed in the column, with the message when it is not."""
    low, high = column.bounds
    if column.choices:
        words = ",".join(column.choices.values())
        return _validation("list", f'"{words}"', message="请从下拉列表中选择："
                           + "、".join(column.choices.values()))
    if column.suggestions:
        words = "、".join(column.suggestions)
        return _validation("list", '"' + ",".join(column.suggestions) + '"', style="information",
                           message=f"常用的有：{words}；其他单位可照填")
    if column.refers_to:
        target = _sheet(column.refers_to)
        return _validation("list", f"{quote_sheetname(target.title)}!$A$2:$A$10000",
                           message=f"请填「{target.title}」表中已有的代码", style="warning")
    if column.kind is Kind.date:
        return _validation("date", "DATE(1990,1,1)", "DATE(2100,12,31)",
                           message="请填日期，如 2018-06-30")
    if column.kind in (Kind.integer, Kind.number):
        kind, what = ("whole", "整数") if column.kind is Kind.integer else ("decimal", "数字")
        if low is not None and high is not None:
            return _validation(kind, str(low), str(high),
                               message=f"请填 {low:g} 到 {high:g} 的{what}")
        if low is not None:
            return _validation(kind, str(low), operator="greaterThanOrEqual",
                               message=f"请填不小于 {low:g} 的{what}")
    return None


def _validation(kind: str, formula1: str, formula2: str | None = None, *, message: str,
                operator: str = "between", style: str = "stop") -> DataValidation:
    check = DataValidation(type=kind, formula1=formula1, formula2=formula2,
                           operator=None if kind == "list" else operator, allow_blank=True,
                           showErrorMessage=True, errorStyle=style, error=message,
                           errorTitle="输入有误")
    return check
