"""A plan workbook's cells as the document a YAML plan file gives, each value with its place.

``Document.build`` reads the sheets of the layout by their headings and puts each value where the
plan file has it; ``Document.validated`` validates the result with ``PlanFile`` and
``cross_check`` and names every problem at its sheet, row and column, in Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from config.plan_file import PlanFile, cross_check
from config.plan_loader import LocatedProblem, PlanFileInvalid
from config.plan_workbook.example import EXAMPLE
from config.plan_workbook.problems import (
    Place,
    WorkbookProblem,
    cross_check_message,
    problem_at,
    pydantic_message,
)
from config.plan_workbook.rows import sheet_rows
from config.plan_workbook.sheets import (
    EXAMPLE_MARK,
    LIST_SEPARATORS,
    NO,
    NOTE_HEADING,
    SHEETS,
    YES,
    Column,
    Kind,
    Shape,
    Sheet,
)

MAX_PROBLEMS = 200    # a wrong file is described by its first problems, not by thousands

Path_ = tuple[str | int, ...]
Raw = list[tuple[int, list[Any]]]  # (row number, values) of a sheet


@dataclass(frozen=True)
class Unreadable:
    """A cell value of the wrong type for its column: validation names it with its place."""

    value: Any

    def __str__(self) -> str:
        return str(self.value)


_EMPTY = object()
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def convert(column: Column, value: Any) -> Any:
    """A cell's value as the plan file would hold it; ``_EMPTY`` for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return _EMPTY
    if isinstance(value, Unreadable):
        return value
    if isinstance(value, str):
        value = value.strip()
    if isinstance(value, bool) and column.kind is not Kind.flag:
        return Unreadable(value)
    if column.kind is Kind.text:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if isinstance(value, int | float | str) else Unreadable(value)
    if column.kind is Kind.date:
        return _date(value)
    if column.kind is Kind.integer and isinstance(value, str) and value.isascii() \
            and value.isdigit():
        return int(value)  # typed in a text cell: the year 2020 is one key, not two
    if isinstance(value, datetime | date):
        return Unreadable(value.isoformat())
    if column.kind is Kind.choice and isinstance(value, str):
        codes = {words: code for code, words in column.choices.items()}
        return codes.get(value, value)
    if column.kind is Kind.flag:
        return {YES: True, NO: False, True: True, False: False}.get(value, Unreadable(value))
    if column.kind is Kind.words:
        parts = re.split(f"[{LIST_SEPARATORS}]", str(value))
        return [part.strip() for part in parts if part.strip()]
    return value


def _date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else Unreadable(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = _DATE.match(value)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                return Unreadable(value)
        return value
    return Unreadable(value)


@dataclass
class Document:
    name: str
    content: dict[str, Any] = field(default_factory=dict)
    places: dict[Path_, tuple[Place, Column | None]] = field(default_factory=dict)
    problems: list[WorkbookProblem] = field(default_factory=list)
    references: list[tuple[Path_, Place, Column]] = field(default_factory=list)

    def build(self, tables: dict[str, Raw]) -> None:
        for sheet in SHEETS:
            raw = tables.get(sheet.title)
            self.places[(sheet.key,)] = (Place(sheet.title), None)
            if raw is None:
                self._problem(Place(sheet.title), "缺少这张工作表：模板中的每张表都要保留，没有"
                              "内容的表只留标题行")
                continue
            headings = raw[0][1] if raw else []
            letters = self._headings(sheet, headings)
            if letters is not None:
                headed = {i for i, v in enumerate(headings) if _filled(v)}
                self._rows(sheet, letters, raw[1:], headed)
        self._references()

    def _references(self) -> None:
        """Codes that name a unit or a project, checked against the sheet that lists them, so
        that a wrong code is reported with the other problems, not after they are fixed."""
        codes = {sheet.key: {entry.get("code") for entry in self.content.get(sheet.key, [])}
                 for sheet in SHEETS if sheet.shape is Shape.rows}
        for path, place, column in self.references:
            value = self._value(path)
            if isinstance(value, str) and value not in codes.get(str(column.refers_to), set()):
                title = next(s.title for s in SHEETS if s.key == column.refers_to)
                self._problem(place, f"代码 {value} 不在「{title}」表中：先在「{title}」表中列出")

    def _value(self, path: Path_) -> Any:
        value: Any = self.content
        for step in path:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def _problem(self, place: Place, message: str) -> None:
        self.problems.append(problem_at(self.name, place, message))

    def _headings(self, sheet: Sheet, headings: list[Any]) -> dict[str, int] | None:
        """Column index of each heading (0-based); None when the sheet cannot be read."""
        by_heading = {column.heading: column for column in sheet.columns}
        found: dict[str, int] = {}
        for index, value in enumerate(headings):
            heading = str(value).strip() if value is not None else ""
            place = Place(sheet.title, 1, get_column_letter(index + 1), heading or None)
            if not heading:
                continue
            if heading in found:
                self._problem(place, "这一列的标题重复出现")
            elif heading in by_heading or heading == NOTE_HEADING:
                found[heading] = index
            else:
                self._problem(place, "不认识的列（标题写错了？）本表的列为："
                              + "、".join([*by_heading, NOTE_HEADING]))
        missing = [c.heading for c in sheet.columns if c.required and c.heading not in found]
        for heading in missing:
            self._problem(Place(sheet.title, 1, None, heading), f"缺少必填的列“{heading}”")
        return None if missing else found

    def _rows(self, sheet: Sheet, found: dict[str, int], rows: Raw, headed: set[int]) -> None:
        example = [dict(zip([c.heading for c in sheet.columns], cells, strict=True))
                   for cells in list(sheet_rows(sheet, EXAMPLE))[:1]]
        kept: list[tuple[int, dict[str, Any]]] = []
        for number, values in rows:
            for index, value in enumerate(values):
                if index not in headed and _filled(value):  # typed beside the table: not lost
                    self._problem(Place(sheet.title, number, get_column_letter(index + 1)),
                                  "这一列没有标题：填在表格之外的内容不会导入，请移入对应的列或删去")
            cells = {h: values[i] if i < len(values) else None for h, i in found.items()}
            if not any(_filled(v) for h, v in cells.items() if h != NOTE_HEADING):
                continue
            note = cells.get(NOTE_HEADING)
            if isinstance(note, str) and note.strip().startswith(EXAMPLE_MARK):
                if not example or not _same(cells, example[0]):
                    self._problem(Place(sheet.title, number, get_column_letter(
                        found[NOTE_HEADING] + 1), NOTE_HEADING),
                        "本行标为“示例”但内容已改动：要导入本行，请删去备注中的“示例”；否则删除本行")
                continue
            kept.append((number, cells))
        if sheet.shape is Shape.single:
            self._single(sheet, found, kept)
        elif sheet.shape is Shape.rows:
            self.content[sheet.key] = [self._entry(sheet, found, number, cells, (sheet.key, i))
                                       for i, (number, cells) in enumerate(kept)]
        else:
            self._nested(sheet, found, kept)

    def _single(self, sheet: Sheet, found: dict[str, int],
                kept: list[tuple[int, dict[str, Any]]]) -> None:
        if not kept:
            self.places[(sheet.key,)] = (Place(sheet.title, 2), None)
            self._problem(Place(sheet.title, 2), "本表应在第 2 行填写本规划的代码、名称等")
            return
        for number, _ in kept[1:]:
            self._problem(Place(sheet.title, number), "本表只能有一行：一个工作簿只写一个规划")
        number, cells = kept[0]
        self.places[(sheet.key,)] = (Place(sheet.title, number), None)
        self.content[sheet.key] = self._entry(sheet, found, number, cells, (sheet.key,))

    def _entry(self, sheet: Sheet, found: dict[str, int], number: int, cells: dict[str, Any],
               where: Path_, columns: tuple[Column, ...] | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        self.places[where] = (Place(sheet.title, number), None)
        for column in columns if columns is not None else sheet.columns:
            place = self._place(sheet, found, number, column)
            self.places[(*where, *column.path)] = (place, column)
            if column.refers_to is not None:
                self.references.append(((*where, *column.path), place, column))
            value = convert(column, cells.get(column.heading))
            if value is _EMPTY:
                continue
            target = entry
            for name in column.path[:-1]:
                target = target.setdefault(name, {})
            target[column.path[-1]] = value
        return entry

    def _place(self, sheet: Sheet, found: dict[str, int], number: int, column: Column) -> Place:
        index = found.get(column.heading)
        return Place(sheet.title, number, _letter(index) if index is not None else None,
                     column.heading)

    def _nested(self, sheet: Sheet, found: dict[str, int],
                kept: list[tuple[int, dict[str, Any]]]) -> None:
        assert sheet.parent is not None
        parents: list[dict[str, Any]] = self.content.get(sheet.parent, [])
        index: dict[Any, int] = {}
        for i, parent in enumerate(parents):
            index.setdefault(parent.get("code"), i)
        link, field_name = sheet.columns[0], sheet.key.rsplit(".", 1)[1]
        seen: dict[tuple[int, str, Any], int] = {}
        for number, cells in kept:
            code = convert(link, cells.get(link.heading))
            place = self._place(sheet, found, number, link)
            if code is _EMPTY:
                self._problem(place, f"必填：请填写“{link.heading}”")
                continue
            if code not in index:
                parent_title = next(s.title for s in SHEETS if s.key == sheet.parent)
                self._problem(place, f"「{parent_title}」表中没有代码为 {code} 的一行")
                continue
            i = index[code]
            if sheet.shape is Shape.children:
                children = parents[i].setdefault(field_name, [])
                where = (sheet.parent, i, field_name, len(children))
                children.append(self._entry(sheet, found, number, cells, where,
                                            sheet.columns[1:]))
                continue
            self._pairs(sheet, found, number, cells, parents[i], i, seen)

    def _pairs(self, sheet: Sheet, found: dict[str, int], number: int, cells: dict[str, Any],
               parent: dict[str, Any], i: int, seen: dict[tuple[int, str, Any], int]) -> None:
        assert sheet.parent is not None
        key_column = sheet.columns[1]
        key_place = self._place(sheet, found, number, key_column)
        key = convert(key_column, cells.get(key_column.heading))
        if key is _EMPTY:
            self._problem(key_place, f"必填：请填写“{key_column.heading}”")
            return
        if isinstance(key, Unreadable):
            key = str(key)
        for name, column in zip(sheet.mappings, sheet.columns[2:], strict=True):
            value = convert(column, cells.get(column.heading))
            if value is _EMPTY:
                continue
            earlier = seen.setdefault((i, name, key), number)
            if earlier != number:
                self._problem(key_place, f"{key_column.heading} {key} 已在第 {earlier} 行填过")
                continue
            parent.setdefault(name, {})[key] = value
            where = (sheet.parent, i, name, key)
            self.places[where] = (self._place(sheet, found, number, column), column)
            self.places[(*where, "[key]")] = (key_place, key_column)

    def validated(self) -> PlanFile:
        plan_file = None
        located: list[tuple[Path_, str, Any]] = []  # (where, message, the error or None)
        try:
            plan_file = PlanFile.model_validate(self.content)
        except ValidationError as exc:
            located = [(tuple(e["loc"]), "", e) for e in exc.errors(include_url=False)]
        if plan_file is not None:
            located = [(path, message, None) for path, message in cross_check(plan_file)]
        known = {(p.sheet, p.row, p.column) for p in self.problems}
        for path, message, error in located:
            place, column = self._where(path)
            if place is not None and (place.sheet, place.row, place.column) in known:
                continue  # said already, in the words of the sheet
            text = pydantic_message(error, column) if error else cross_check_message(message)
            self.problems.append(problem_at(self.name, place, text))
        if self.problems or plan_file is None:
            raise PlanFileInvalid(_ordered(self.problems))
        return plan_file

    def _where(self, path: Path_) -> tuple[Place | None, Column | None]:
        for end in range(len(path), 0, -1):
            found = self.places.get(path[:end])
            if found is not None:
                return found
        return None, None


@cache
def _letter(index: int) -> str:
    letter: str = get_column_letter(index + 1)
    return letter


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _same(cells: dict[str, Any], example: dict[str, Any]) -> bool:
    def plain(value: Any) -> str:
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel keeps 20000.0 as 20000
        return "" if value is None else str(value).strip()
    return all(plain(cells.get(h)) == plain(v) for h, v in example.items() if h in cells)


def _ordered(problems: list[WorkbookProblem]) -> list[LocatedProblem]:
    order = {sheet.title: i for i, sheet in enumerate(SHEETS)}

    def key(p: WorkbookProblem) -> tuple[int, int, int, str]:
        column = p.column or ""
        return order.get(p.sheet or "", -1), p.row or 0, len(column), column

    ordered: list[LocatedProblem] = [*sorted(problems, key=key)]
    if len(ordered) > MAX_PROBLEMS:
        rest = len(ordered) - MAX_PROBLEMS
        ordered = [*ordered[:MAX_PROBLEMS],
                   problem_at(problems[0].file, None, f"另有 {rest} 处问题未列出")]
    return ordered

