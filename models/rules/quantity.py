"""Reading the number out of a plan's table cell, keeping the words when there are more.

Pure: no I/O. "25 以上" is at least 25; ">11000" more than 11000; "36%" is 36 (the % belongs to
the indicator's measure); "服务半径 全覆盖" has no number and keeps only its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Qualifier(StrEnum):
    at_least = "at_least"    # ≥, 以上, 不低于, 不少于
    more_than = "more_than"  # >, 超过
    at_most = "at_most"      # ≤, 以下, 不超过, 不高于
    less_than = "less_than"  # <
    about = "about"          # 约, 左右


@dataclass(frozen=True)
class Quantity:
    value: float | None
    qualifier: Qualifier | None = None
    text: str | None = None  # the document's words, when they are not a plain number


_PREFIXES = [
    (("≥", ">=", "不低于", "不少于", "达到"), Qualifier.at_least),
    (("≤", "<=", "不超过", "不高于"), Qualifier.at_most),
    ((">", "超过", "大于"), Qualifier.more_than),
    (("<", "小于", "低于"), Qualifier.less_than),
    (("约",), Qualifier.about),
]
_SUFFIXES = [
    (("以上",), Qualifier.at_least),
    (("以下", "以内"), Qualifier.at_most),
    (("左右",), Qualifier.about),
]
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d+)?|\.\d+)$")


def parse_cell(cell: int | float | str) -> Quantity:
    if isinstance(cell, int | float):
        return Quantity(float(cell))
    text = cell.strip()
    rest, qualifier = text, None
    for words, meaning in _PREFIXES:
        word = next((w for w in words if rest.startswith(w)), None)
        if word:
            rest, qualifier = rest[len(word):].strip(), meaning
            break
    if qualifier is None:
        for words, meaning in _SUFFIXES:
            word = next((w for w in words if rest.endswith(w)), None)
            if word:
                rest, qualifier = rest[: -len(word)].strip(), meaning
                break
    rest = rest.removesuffix("%").removesuffix("％").replace(",", "").strip()
    if _NUMBER.match(rest):
        return Quantity(float(rest), qualifier, text)
    return Quantity(None, None, text)


def as_cell(value: float | None, text: str | None) -> int | float | str | None:
    """A stored quantity as the plan file writes it: its words when there are any, else the
    number (whole numbers as integers, as the document prints them)."""
    if text is not None:
        return text
    if value is not None and value == int(value):
        return int(value)
    return value
