"""Reading a plan workbook into a ``PlanFile`` by the same rules as a YAML plan file.

Algorithm:
1. Refuse what is not a workbook to read: larger than the plan-file limit, a zip that unpacks to
   more than ``MAX_UNPACKED_BYTES`` (a small file can unpack to gigabytes), not an .xlsx.
2. Read every sheet of the layout (config/plan_workbook/sheets.py) by its headings, so columns
   may be moved; an unknown heading is refused like an unknown key in YAML (a typo must not be
   silently ignored); sheets of one's own are ignored. Formulas are read as the values Excel
   last computed; a formula without one is refused.
3. Build the same document a YAML file gives, noting the place (sheet, row, column) of each
   value, then validate it with ``PlanFile`` and ``cross_check`` and name every problem at its
   place, in Chinese. All problems are reported at once.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from config.plan_file import PlanFile
from config.plan_loader import MAX_PLAN_FILE_BYTES, LoadedPlan, PlanFileInvalid, read_limited
from config.plan_workbook.document import Document, Raw, Unreadable
from config.plan_workbook.problems import Place, WorkbookProblem, problem_at
from config.plan_workbook.sheets import SHEETS

MAX_WORKBOOK_BYTES = MAX_PLAN_FILE_BYTES
# The seed plans' workbooks unpack to under 1 MB; 50 MB is a plan a hundred times larger.
MAX_UNPACKED_BYTES = 50 * 2**20
MAX_ROWS = 20_000     # per sheet, counting empty rows: Excel can store a million of them
MAX_COLUMNS = 100


def load_plan_workbook(path: Path) -> LoadedPlan:
    name = str(path)
    raw = read_limited(path, MAX_WORKBOOK_BYTES, "无法读取")
    return LoadedPlan(name, parse_plan_workbook(raw, name), hashlib.sha256(raw).hexdigest())


def parse_plan_workbook(data: bytes, name: str = "<workbook>") -> PlanFile:
    _check_package(data, name)
    tables, problems = _read_tables(data, name)
    document = Document(name)
    document.problems += problems
    document.build(tables)
    return document.validated()


def _refuse(name: str, message: str) -> PlanFileInvalid:
    return PlanFileInvalid([problem_at(name, None, message)])


def _check_package(data: bytes, name: str) -> None:
    if len(data) > MAX_WORKBOOK_BYTES:
        raise _refuse(name, f"大于 {MAX_WORKBOOK_BYTES // 2**20} MB，超过一个规划工作簿的上限："
                      "请把规划拆成多个文件")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(entry.file_size for entry in package.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise _refuse(name, "不是 Excel 工作簿（.xlsx）：旧的 .xls 请在 Excel 中另存为 "
                      ".xlsx") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _refuse(name, f"解压后大于 {MAX_UNPACKED_BYTES // 2**20} MB，不像一个规划工作簿")


def _read_tables(data: bytes, name: str) -> tuple[dict[str, Raw], list[WorkbookProblem]]:
    """Each sheet of the layout as (row, values); values of formulas as Excel computed them."""
    problems: list[WorkbookProblem] = []
    try:
        tables, formulas = _cells(data, data_only=False)
        if formulas:  # only then is the second reading, for the values, needed
            values, _ = _cells(data, data_only=True)
            for title, row, column in formulas:
                value = values[title][row - 1][1][column - 1]
                formula = tables[title][row - 1][1][column - 1]
                # without a value the cell holds its formula, which no column accepts
                tables[title][row - 1][1][column - 1] = value if value is not None \
                    else Unreadable(formula)
                if value is None:
                    headings = tables[title][0][1]
                    heading = headings[column - 1] if column <= len(headings) else None
                    place = Place(title, row, get_column_letter(column),
                                  str(heading) if heading is not None else None)
                    problems.append(problem_at(name, place, "公式没有计算结果：请在 Excel 中"
                                               "打开并保存，或直接填入数值"))
    except _TooLong as exc:
        raise PlanFileInvalid([problem_at(name, Place(exc.title), f"超过 {MAX_ROWS} 行：请删去多余"
                                          "的空行，或把规划拆成多个文件")]) from None
    except Exception as exc:  # noqa: BLE001 - a damaged file can fail anywhere inside openpyxl
        raise _refuse(name, f"无法作为 Excel 工作簿读取（{type(exc).__name__}）：请在 Excel "
                      "中打开并另存为 .xlsx") from None
    return tables, problems


class _TooLong(Exception):
    def __init__(self, title: str) -> None:
        self.title = title


def _cells(data: bytes, *, data_only: bool) -> tuple[dict[str, Raw], list[tuple[str, int, int]]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    try:
        tables: dict[str, Raw] = {}
        formulas: list[tuple[str, int, int]] = []
        wanted = {sheet.title for sheet in SHEETS}
        for ws in book.worksheets:
            if ws.title not in wanted or ws.title in tables:
                continue
            rows: Raw = []
            # every row is padded to the width asked for: the sheet's own, at most MAX_COLUMNS
            width = min(ws.max_column or MAX_COLUMNS, MAX_COLUMNS)
            for number, cells in enumerate(ws.iter_rows(max_col=width), start=1):
                if number > MAX_ROWS:
                    raise _TooLong(ws.title)
                values = []
                for index, cell in enumerate(cells, start=1):
                    kind = getattr(cell, "data_type", None)
                    if kind == "f":
                        formulas.append((ws.title, number, index))
                    # an error value (#DIV/0!, #N/A) is no text, number or date
                    values.append(Unreadable(cell.value) if kind == "e" else cell.value)
                rows.append((number, values))
            tables[ws.title] = rows
        return tables, formulas
    finally:
        book.close()
