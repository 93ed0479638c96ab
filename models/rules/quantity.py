"""Reading the number and its unit out of a plan's table cell, keeping the words besides.

Pure: no I/O. "25 以上" is at least 25; ">11000" more than 11000; "36%" is 36 per cent; "0.46‰" is
0.46 per mille; "28人" is 28 people; "服务半径 全覆盖" has no number and keeps only its text.

A number is always read in the unit it is printed in (never converted: 0.46‰ stays 0.46 with the
unit ‰, as the document compares it with 0.8‰). The unit is the one printed after the number, else
the indicator's measure (the table's 单位 column), which the caller passes in.
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
    unit: str | None = None  # the unit the number is in: printed in the cell, or the measure


# The units the seed plans print, in a cell after its number or in a 单位 column. Longest first,
# so that "万个" is not read as "个". A measure the caller passes is tried before these.
UNITS = ("元/人、年", "万个", "万人", "万元", "%", "‰", "张", "个", "人", "家", "单", "所", "数")
_SAME_UNIT = {"％": "%"}  # full-width per cent, as some documents print it

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


def normal_unit(unit: str | None) -> str | None:
    return _SAME_UNIT.get(unit, unit) if unit else None


def parse_cell(cell: int | float | str, measure: str | None = None) -> Quantity:
    measure = normal_unit(measure)
    if isinstance(cell, int | float):
        return Quantity(float(cell), unit=measure)
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
    for spelling, unit in _SAME_UNIT.items():
        rest = rest.replace(spelling, unit)
    printed = next((u for u in ((measure,) if measure else ()) + UNITS if rest.endswith(u)), None)
    if printed is not None:
        rest = rest.removesuffix(printed).strip()
    rest = rest.replace(",", "")
    if _NUMBER.match(rest):
        return Quantity(float(rest), qualifier, text, printed or measure)
    return Quantity(None, None, text)


def indicator_unit(measure: str | None, cells: list[int | float | str]) -> str | None:
    """An indicator's unit: its measure (the 单位 column); where that is empty, the unit every
    numeric cell prints after its number, if they all print the same one ("0.46‰" → ‰)."""
    if measure:
        return measure
    units = {q.unit for q in map(parse_cell, cells) if q.value is not None}
    return units.pop() if len(units) == 1 else None


def as_cell(value: float | None, text: str | None) -> int | float | str | None:
    """A stored quantity as the plan file writes it: its words when there are any, else the
    number (whole numbers as integers, as the document prints them)."""
    if text is not None:
        return text
    if value is not None and value == int(value):
        return int(value)
    return value
