"""The bulletin as an XLSX workbook: one sheet per table of the figures
(models/rules/bulletin/figures.py).

Cells hold the figures themselves, not their printed form: counts and values as numbers, rates
as fractions with a percentage format, dates as Excel dates, so that people can sort, filter and
sum them, and so that the workbook read back with openpyxl gives the same figures. "Nothing"
(a None) is an empty cell, never a dash or a zero.

The same figures give the same bytes: the document properties carry a stamp derived from the
period (``issued_at``) instead of the time of building, and every zip entry gets that stamp too
(zipfile otherwise writes the current time into each entry).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures
from models.rules.bulletin.indicators import IndicatorRow
from models.rules.bulletin.items import CompletedItem, ExtensionGranted, RedItem
from models.rules.bulletin.ranking import UnitRow
from notifications.bulletin.formats import (
    AUTHOR,
    EDITIONS,
    HEADLINE,
    LIGHTS,
    NEW,
    issued_at,
    movement,
)
from notifications.bulletin.page import bulletin_title
from notifications.sheet_cells import as_text

RATE = "0.0%"
DAY = 'yyyy"年"m"月"d"日"'
MOVEMENT = '"↑"0;"↓"0;"—"'  # +2 → ↑2, −1 → ↓1, 0 → —
CHANGE = '+0;"−"0;0'
CHANGE_RATE = '+0.0%;"−"0.0%;0.0%'  # a change of rate, in percentage points
SHEETS = ("概览", "单位排名", "红灯事项", "指标", "本期完成", "批准延期")


def bulletin_workbook(figures: Figures) -> bytes:
    """The XLSX file of ``figures``: sheets 概览, 单位排名, 红灯事项, 指标, 本期完成, 批准延期."""
    book = Workbook()
    overview = book.active
    assert overview is not None
    overview.title = SHEETS[0]
    _overview(overview, figures)
    public = figures.edition is Edition.public
    for title, columns, rows in (
            (SHEETS[1], _unit_columns(figures), figures.units),
            (SHEETS[2], RED_COLUMNS, figures.red_items),
            (SHEETS[3], INDICATOR_COLUMNS, figures.indicators),
            (SHEETS[4], _internal_only(COMPLETED_COLUMNS, public), figures.completed),
            (SHEETS[5], _internal_only(EXTENSION_COLUMNS, public), figures.extensions)):
        _table(book.create_sheet(title), columns, rows)
    stamp = issued_at(figures.period).astimezone(UTC).replace(tzinfo=None)
    book.properties.title = bulletin_title(figures)
    book.properties.creator = book.properties.lastModifiedBy = AUTHOR
    book.properties.created = book.properties.modified = stamp
    return _fixed_zip(_save(book), issued_at(figures.period))


# ── columns ─────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # in Excel's character widths; a Chinese character takes about two
    value: Callable[[Any], Any]
    number_format: str | None = None
    internal: bool = False  # left out of the public edition (names and evidence)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _movement(u: UnitRow) -> int | str | None:
    """The number of places, shown as an arrow by MOVEMENT; ``新`` for a newly ranked unit."""
    kind = movement(u).kind
    return None if kind is None else NEW if kind == "new" else u.movement


UNIT_COLUMNS = (
    Column("名次", 6, lambda u: u.place),
    Column("名次变化", 9, _movement, MOVEMENT),
    Column("上期名次", 9, lambda u: u.previous_place),
    Column("单位代码", 14, lambda u: u.unit_code),
    Column("单位", 30, lambda u: u.unit_name),
    Column("应完成", 8, lambda u: u.due),
    Column("已完成", 8, lambda u: u.done),
    Column("按期完成", 9, lambda u: u.on_time),
    Column("按期完成率", 11, lambda u: u.on_time_rate, RATE),
    Column("逾期", 7, lambda u: u.overdue),
    Column("新增逾期", 9, lambda u: u.newly_overdue),
    Column("本期完成", 9, lambda u: u.completed),
)


def _unit_columns(figures: Figures) -> tuple[Column, ...]:
    boards = {code: "红榜" for code in figures.honour}
    boards.update((code, "黑榜") for code in figures.shame)
    return (*UNIT_COLUMNS, Column("榜单", 7, lambda u: boards.get(u.unit_code)))


_ITEM = (
    Column("事项编号", 9, lambda i: i.milestone_id),
    Column("规划", 16, lambda i: i.plan),
    Column("项目", 30, lambda i: i.project),
    Column("事项", 30, lambda i: i.title),
    Column("单位代码", 14, lambda i: i.unit_code),
    Column("单位", 24, lambda i: i.unit_name),
)
RED_COLUMNS: tuple[Column, ...] = (
    *_ITEM,
    Column("到期日", 15, lambda r: r.due_on, DAY),
    Column("逾期工作日", 11, lambda r: r.overdue_workdays),
    Column("督办级别", 9, lambda r: r.level),
    Column("已确认", 7, lambda r: _yes(r.acknowledged)),
    Column("约束性", 7, lambda r: _yes(r.binding)),
)
INDICATOR_COLUMNS = (
    Column("规划", 16, lambda i: i.plan),
    Column("指标代码", 10, lambda i: i.code),
    Column("指标", 30, lambda i: i.name),
    Column("责任单位", 24, lambda i: i.unit_name),
    Column("计量单位", 9, lambda i: i.measure),
    Column("约束性", 7, lambda i: _yes(i.binding)),
    Column("基期年份", 9, lambda i: i.baseline_year),
    Column("基期值", 10, lambda i: i.baseline_value),
    Column("目标年份", 9, lambda i: i.target_year),
    Column("本年目标值", 11, lambda i: i.target_value),
    Column("目标表述", 24, lambda i: i.target_text),
    Column("进度线值", 10, lambda i: i.trajectory_value),
    Column("最新值", 10, lambda i: i.latest_value),
    Column("最新值日期", 15, lambda i: i.latest_on, DAY),
    Column("灯", 5, lambda i: LIGHTS[i.light].removesuffix("灯") if i.light else None),
)
COMPLETED_COLUMNS: tuple[Column, ...] = (
    *_ITEM,
    Column("到期日", 15, lambda c: c.due_on, DAY),
    Column("申报完成日", 15, lambda c: c.claimed_on, DAY),
    Column("按期", 6, lambda c: _yes(c.on_time)),
    Column("佐证材料", 36, lambda c: c.evidence, internal=True),
    Column("申报人", 10, lambda c: c.claimed_by, internal=True),
)
EXTENSION_COLUMNS: tuple[Column, ...] = (
    *_ITEM,
    Column("原到期日", 15, lambda e: e.previous_due_on, DAY),
    Column("新到期日", 15, lambda e: e.new_due_on, DAY),
    Column("批准日", 15, lambda e: e.decided_on, DAY),
    Column("延期理由", 36, lambda e: e.reason, internal=True),
)
_ROWS = UnitRow | RedItem | IndicatorRow | CompletedItem | ExtensionGranted


def _internal_only(columns: Sequence[Column], public: bool) -> tuple[Column, ...]:
    return tuple(c for c in columns if not (public and c.internal))


# ── sheets ──────────────────────────────────────────────────────────────────────────────────

def _table(sheet: Worksheet, columns: Sequence[Column], rows: Sequence[_ROWS]) -> None:
    """A header row with a filter over the table, and one row per item."""
    _header(sheet, columns)
    formats = [(i, c.number_format) for i, c in enumerate(columns, start=1) if c.number_format]
    for row_number, row in enumerate(rows, start=2):
        values = [c.value(row) for c in columns]
        _append_as_typed(sheet, values)
        for index, number_format in formats:
            if values[index - 1] is not None:
                sheet.cell(row=row_number, column=index).number_format = number_format
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _append_as_typed(sheet: Worksheet, values: Sequence[Any]) -> None:
    """Append a row whose text cells stay text (notifications.sheet_cells)."""
    sheet.append(values)
    as_text(sheet[sheet.max_row])


def _header(sheet: Worksheet, columns: Sequence[Column]) -> None:
    """The headings in bold, frozen so they stay in view, and the columns' widths."""
    sheet.append([c.heading for c in columns])
    bold = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        sheet.cell(row=1, column=index).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"


def _overview(sheet: Worksheet, figures: Figures) -> None:
    """The headline figures (本期, 上期, 变化), then what the bulletin covers.

    上期 is worked out from the figures and their changes (then = now − change); the previous
    rate from the previous counts, so it is there even when this period's rate is not."""
    headline = figures.headline
    now = {key: getattr(headline, key) for key, _ in HEADLINE}
    then = {key: None if headline.change.get(key) is None or now[key] is None
            else now[key] - headline.change[key] for key, _ in HEADLINE if key != "on_time_rate"}
    then["on_time_rate"] = then["on_time"] / then["due"] if then["due"] else None
    _header(sheet, OVERVIEW_COLUMNS)
    for row_number, (key, label) in enumerate(HEADLINE, start=2):
        sheet.append([label, now[key], then[key], headline.change.get(key)])
        rate = key == "on_time_rate"
        for column, number_format in ((2, RATE if rate else None), (3, RATE if rate else None),
                                      (4, CHANGE_RATE if rate else CHANGE)):
            if number_format:
                sheet.cell(row=row_number, column=column).number_format = number_format
    sheet.append([])
    for label, first, last in _coverage(figures):
        _append_as_typed(sheet, [label, first, last])
        for column, value in ((2, first), (3, last)):
            if isinstance(value, date):
                sheet.cell(row=sheet.max_row, column=column).number_format = DAY


OVERVIEW_COLUMNS = (
    Column("统计项", 16, lambda _: None),
    Column("本期", 20, lambda _: None),
    Column("上期", 20, lambda _: None),
    Column("变化", 12, lambda _: None),
)


def _coverage(figures: Figures) -> list[tuple[str, Any, Any]]:
    rows: list[tuple[str, Any, Any]] = [
        ("通报", bulletin_title(figures), None),
        ("范围", figures.scope_name, None if figures.scope == "*" else figures.scope),
        ("本期", figures.period.first, figures.period.last),
        ("上期", figures.previous.first, figures.previous.last),
        ("版本", EDITIONS[figures.edition], None),
    ]
    if figures.focus_unit is not None:
        names = {u.unit_code: u.unit_name for u in figures.units}
        rows.append(("本单位", names.get(figures.focus_unit), figures.focus_unit))
    return rows


# ── bytes ───────────────────────────────────────────────────────────────────────────────────

def _save(book: Workbook) -> bytes:
    # ExcelWriter, not Workbook.save: save_workbook overwrites the modified time with now.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).save()
    return buffer.getvalue()


def _fixed_zip(data: bytes, stamp: datetime) -> bytes:
    """The same archive with every entry dated ``stamp`` and given the same file mode."""
    date_time = stamp.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=date_time)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(entry.filename))
    return out.getvalue()
