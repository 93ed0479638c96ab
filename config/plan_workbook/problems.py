"""Where a workbook is wrong and what is expected there, in Chinese.

The plan-file rules (config/plan_file.py) speak of fields; a clerk with a workbook open needs
the sheet, the row and the column, and what to type. Messages are worded from the column
(its heading, kind and choices) and from the pydantic error type, not from pydantic's English,
so that they stay Chinese whatever the rule that failed; an error of a kind not foreseen here
keeps its English text after a Chinese lead-in rather than being lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic_core import ErrorDetails

from config.plan_loader import LocatedProblem
from config.plan_workbook.sheets import Column, Kind

_SLUG = "只能用小写字母、数字和 -（以字母或数字开头），如 xihu-mzj"


@dataclass(frozen=True)
class Place:
    sheet: str
    row: int | None = None       # 1-based, as Excel shows it
    column: str | None = None    # the column's letter
    heading: str | None = None


@dataclass(frozen=True)
class WorkbookProblem(LocatedProblem):
    """A problem of a workbook: file, sheet, row and column, and what is expected there."""

    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    heading: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"工作表「{self.sheet}」")
        if self.row:
            where.append(f"第 {self.row} 行")
        if self.column:
            where.append(f"{self.column} 列" + (f"（{self.heading}）" if self.heading else ""))
        return f"{' '.join(where)}：{self.message}"


def problem_at(file: str, place: Place | None, message: str) -> WorkbookProblem:
    place = place or Place("")
    return WorkbookProblem(file, None, "", message, place.sheet or None, place.row,
                           place.column, place.heading)


def expectation(column: Column) -> str:
    """What a cell of the column must hold, said to the person filling it in."""
    if column.choices:
        return "应为 " + "、".join(column.choices.values()) + " 之一"
    return {Kind.date: "应为日期，如 2018-06-30", Kind.integer: "应为整数",
            Kind.number: "应为数字", Kind.flag: "应为 是 或 否",
            Kind.cell: "应为数字或一段文字"}.get(column.kind, "应为一段文字")


def pydantic_message(error: ErrorDetails, column: Column | None) -> str:
    """The Chinese message for one pydantic error at a cell of ``column`` (None: a row)."""
    kind, context = error["type"], error.get("ctx") or {}
    message = _message(kind, context, str(error["msg"]).removeprefix("Value error, "), column)
    got = error.get("input")
    if kind != "missing" and got is not None and not isinstance(got, dict | list):
        message += f"（填的是 {_shown(got)}）"
    return message


def _message(kind: str, context: dict[str, Any], english: str, column: Column | None) -> str:
    heading = column.heading if column else ""
    if kind == "missing":
        return f"必填：请填写“{heading}”" if column else "缺少必填的内容"
    if kind == "string_too_long":
        return f"太长：最多 {context.get('max_length')} 个字"
    if kind == "too_short":
        return "本表至少要填一行"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_pattern_mismatch":
        return "应为起止年份，如 2016-2020" if "\\d{4}" in str(context.get("pattern")) else _SLUG
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {context.get('ge', context.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {context.get('le', context.get('lt'))}"
    if kind == "value_error":
        return _custom(english, column)
    if column is not None and kind not in ("extra_forbidden",):
        return expectation(column)
    return f"不符合要求：{english}"


_CUSTOM = [
    (re.compile(r"contains a control character"), "含有控制字符（请删去不可见的字符）"),
    (re.compile(r"must be on one line"), "应在一行之内（不能换行）"),
    (re.compile(r"give exactly one of"), "“年度”和“到期日”二者只填一个"),
    (re.compile(r"expected binding"), "应为 约束性 或 预期性"),
    (re.compile(r"the first year comes after the last"), "规划期的起始年份晚于结束年份"),
    (re.compile(r"is empty"), "不能为空"),
    (re.compile(r"not a valid email|cannot be sent to"), "不是可以发送的邮箱地址（如 "
                                                          "zhangsan@example.gov.cn）"),
]


def _custom(english: str, column: Column | None) -> str:
    for pattern, chinese in _CUSTOM:
        if pattern.search(english):
            return chinese
    return expectation(column) if column else f"不符合要求：{english}"


_CROSS = [
    (re.compile(r"^(?:unit|project|indicator) code '(.+)' is used twice$"), "代码 {0} 重复出现"),
    (re.compile(r"^unit '(.+)' is not declared under `units:`$"),
     "单位代码 {0} 不在「单位」表中：先在「单位」表中列出该单位"),
    (re.compile(r"^unit '(.+)' leads this milestone and cannot also be one of its co_units$"),
     "单位 {0} 是本节点的牵头单位，不能同时列为协办单位"),
    (re.compile(r"^co-unit '(.+)' is named twice$"), "协办单位 {0} 重复填写"),
    (re.compile(r"^due (\S+) lies outside the plan period (\S+)$"),
     "到期 {0} 不在规划期 {1} 之内"),
    (re.compile(r"^no project with code '(.+)' in this file$"),
     "「项目」表中没有序号为 {0} 的项目"),
]


def cross_check_message(english: str) -> str:
    """The Chinese for a message of ``config.plan_file.cross_check``."""
    for pattern, chinese in _CROSS:
        match = pattern.match(english)
        if match:
            return chinese.format(*match.groups())
    return f"不符合要求：{english}"


def _shown(value: Any) -> str:
    text = str(value)
    return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"
