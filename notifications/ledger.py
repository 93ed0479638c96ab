"""The 台账: a filtered list of milestones as the office's Excel ledger, or as CSV.

Decisions:
1. Streaming: openpyxl's write-only workbook keeps no cells in memory (rows go to a temporary
   file as they are appended) and the rows come a chunk at a time from keyset pages
   (models.store.milestone_list.iter_chunks), so 100,000 rows never sit in memory at once.
2. Row 1 is the title (the filter in words and the day); row 2 the headings, frozen, with
   the filter buttons over the table; printing is A4 landscape, one page wide, the headings
   repeated on every page.
3. People's text is written as text, never as a formula (config.spreadsheet).
4. The 灯 cell is filled with its light's colour; 督办级别 is in words (一级 催办提醒 …).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, select

from config.spreadsheet import as_text, csv_text
from models.rules.rulebook import Rules
from models.tables.plan import Plan

STATES = {"pending": "未到期", "due_soon": "临期", "overdue": "逾期",
          "claimed": "已申报完成（待核实）", "closed": "已销号", "returned": "退回重办",
          "waived": "已豁免"}
LIGHTS = {"red": "红灯", "yellow": "黄灯", "blue": "蓝灯", "green": "绿灯"}
FILLS = {"red": "FFD32F2F", "yellow": "FFF9A825", "blue": "FF1565C0", "green": "FF388E3C"}
NUMERALS = "〇一二三四五六七八九"
COLUMNS = (("序号", 6), ("规划", 18), ("项目", 28), ("节点", 36), ("责任单位", 18),
           ("计划完成", 11), ("现截止", 11), ("状态", 12), ("灯", 6), ("督办级别", 14),
           ("最新进展", 9), ("进展说明", 30), ("申报日期", 11))
LIGHT_COLUMN = 9


@dataclass(frozen=True)
class Ledger:
    title: str                          # the filter in words
    as_of: date
    plan_names: dict[str, str]
    level_name: Callable[[str, int], str | None]   # (plan code, level) → the policy's name

    def heading(self) -> str:
        return f"督办事项台账（{self.title}） 截至 {self.as_of.isoformat()}"

    def values(self, number: int, item: dict[str, Any]) -> list[Any]:
        level = item["level"]
        name = self.level_name(item["plan"], level) if level else None
        numeral = NUMERALS[level] if 0 < level < 10 else str(level)
        progress = item.get("progress")
        return [number, self.plan_names.get(item["plan"], item["plan"]), item["project_name"],
                item["title"], item["unit"], item["planned_due_on"], item["due_on"],
                STATES.get(str(item["state"]), str(item["state"])),
                LIGHTS.get(str(item["light"]), str(item["light"])),
                f"{numeral}级 {name}" if name else ("—" if not level else f"{numeral}级"),
                None if progress is None else progress / 100, item.get("progress_note"),
                item.get("claimed_on")]


def write_xlsx(ledger: Ledger, chunks: Iterable[list[dict[str, Any]]], path: Path) -> int:
    """Write the ledger to ``path``; the number of rows written."""
    book = Workbook(write_only=True)
    sheet: Worksheet = book.create_sheet("台账")
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    title = WriteOnlyCell(sheet, value=ledger.heading())
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    bold = Font(bold=True)
    heads = []
    for name, _ in COLUMNS:
        head = WriteOnlyCell(sheet, value=name)
        head.font = bold
        heads.append(head)
    sheet.append(heads)
    styles = _column_styles(sheet)
    count = 0
    for chunk in chunks:
        for item in chunk:
            count += 1
            cells = [WriteOnlyCell(sheet, value=v) for v in ledger.values(count, item)]
            as_text(cells)
            for cell, style in zip(cells, styles[:len(COLUMNS)], strict=True):
                cell._style = copy(style)
            light = str(item["light"])
            cells[LIGHT_COLUMN - 1]._style = copy(styles[len(COLUMNS) + LIGHT_ORDER.index(light)]
                                                  if light in LIGHT_ORDER else styles[0])
            sheet.append(cells)
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(COLUMNS))}{count + 2}"
    book.save(path)
    return count


LIGHT_ORDER = tuple(FILLS)


def _column_styles(sheet: Worksheet) -> list[Any]:
    """Each column's cell style, then the 灯 cell's for each light, made once: setting a font
    or fill on every cell costs a lookup each time (most of an export's time), copying a
    made style costs nothing."""
    wrap = Alignment(wrap_text=True, vertical="top")
    formats = {6: "yyyy-mm-dd", 7: "yyyy-mm-dd", 13: "yyyy-mm-dd", 11: "0%"}
    styles = []
    for index in range(1, len(COLUMNS) + 1):
        cell = WriteOnlyCell(sheet)
        if index in formats:
            cell.number_format = formats[index]
        if index in (3, 4, 12):
            cell.alignment = wrap
        styles.append(cell._style)
    for light, colour in FILLS.items():
        cell = WriteOnlyCell(sheet)
        cell.fill = PatternFill("solid", fgColor=colour)
        if light != "yellow":
            cell.font = Font(color="FFFFFFFF")
        styles.append(cell._style)
    return styles


def write_csv(ledger: Ledger, chunks: Iterable[list[dict[str, Any]]], path: Path) -> int:
    """The same rows as CSV (UTF-8 with a BOM, so that Excel reads the Chinese)."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([ledger.heading()])
        writer.writerow([name for name, _ in COLUMNS])
        for chunk in chunks:
            for item in chunk:
                count += 1
                values = ledger.values(count, item)
                values[10] = None if values[10] is None else f"{round(values[10] * 100)}%"
                writer.writerow([csv_text(v) for v in values])
    return count


def ledger_for(*, session: Session, rules: Rules, title: str, as_of: date) -> Ledger:
    """The ledger's heading and the names it writes in words: plans and ladder levels."""
    names = {code: name for code, name in session.exec(select(Plan.code, Plan.name)).all()}

    def level_name(plan: str, level: int) -> str | None:
        ladder = rules.policy(plan).ladder
        return next((step.name for step in ladder if step.level == level), None)

    return Ledger(title, as_of, names, level_name)
