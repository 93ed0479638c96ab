"""How the bulletin writes each value, once for every output: the email and web page
(page.py), the PDF (pdf.py), the workbook (workbook.py) and the chart (chart.py).

The workbook keeps numbers as numbers; it reads the same words (labels, editions, lights) and
the same movement from here, and writes them with Excel number formats of the same look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures
from models.rules.bulletin.periods import Period
from models.rules.bulletin.ranking import UnitRow

NONE = "—"
MINUS = "\u2212"  # the minus sign, not a hyphen
NEW = "新"  # a unit ranked now and not in the period before
AUTHOR = "督办系统（Duban）"
EDITIONS = {Edition.internal: "内部版", Edition.public: "公开版"}
HEADLINE = (("due", "应完成事项"), ("done", "已完成"), ("on_time", "按期完成"),
            ("on_time_rate", "按期完成率"), ("overdue", "逾期未完成"),
            ("newly_overdue", "本期新增逾期"), ("completed", "本期完成"))
LIGHTS = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}
CHINA = timezone(timedelta(hours=8), "CST")  # no daylight saving: a fixed offset is exact


def level_name(level_names: dict[str, list[str]], plan: str, level: int) -> str | None:
    """The ladder's name of ``level`` in ``plan`` (督办单); ``2级`` when the figures have no
    names for it (stored before they kept them); None for an item not escalated."""
    if level < 1:
        return None
    names = level_names.get(plan, [])
    return names[level - 1] if level <= len(names) else f"{level}级"


def issue_words(figures: Figures) -> str | None:
    """期号 as printed: ``2017年第3期``; None for figures not issued."""
    if figures.issue_number is None:
        return None
    return f"{figures.issue_year}年第{figures.issue_number}期"


def rate(value: float | None) -> str:
    """0.875 → ``87.5%``; None → ``—``."""
    return NONE if value is None else f"{value * 100:.1f}%"


def signed(value: float | int | None, *, points: bool = False) -> str | None:
    """A change with its sign: ``+2``, ``−1``, ``0``; a rate's change in percentage points with
    one decimal (``+3.5``); None when there is nothing to compare."""
    if value is None:
        return None
    text = f"{abs(value) * 100:.1f}" if points else str(abs(value))
    if text.strip("0.") == "":
        return text
    return ("+" if value > 0 else MINUS) + text


def change(value: float | int | None, *, points: bool = False) -> str:
    """A change written out in full: ``+2``, ``+3.5 个百分点``; ``—`` when unknown."""
    text = signed(value, points=points)
    if text is None:
        return NONE
    return f"{text} 个百分点" if points else text


def amount(value: float | None, measure: str | None) -> str | None:
    """An indicator's number as written: no trailing zeros, its measure after it (``85%``,
    ``500张``); None when there is none."""
    if value is None:
        return None
    number = f"{value:.2f}".rstrip("0").rstrip(".")
    return number + (measure or "")


# What a computed value (the trajectory, the straight line from the baseline) may be written
# to: people, items, places and sheets are counted whole; a percentage to one decimal; anything
# else (money, 万人, ‰) to the decimals the document gives its baseline and target.
WHOLE = frozenset({"人", "个", "家", "张", "所", "户", "名", "次", "床", "单", "项", "座", "处"})


def decimals(measure: str | None, *given: float | None) -> int:
    """The decimals a computed value of ``measure`` is written with (see WHOLE)."""
    if measure in WHOLE:
        return 0
    if measure == "%":
        return 1
    return max((len(f"{g:.4f}".rstrip("0").partition(".")[2]) for g in given if g is not None),
               default=1)


def rounded(value: float | None, places: int) -> float | None:
    """Half up, as people round (Python's round() rounds 0.5 to even)."""
    if value is None:
        return None
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return float(exact)


def computed(value: float | None, measure: str | None, *given: float | None) -> str | None:
    """A computed value as its measure allows: ``28人`` for 27.95 people, ``59.3%``,
    ``13224元/人、年`` when the document gives whole yuan."""
    return amount(rounded(value, decimals(measure, *given)), measure)


def number(value: float | None, measure: str | None) -> str:
    """``amount`` in a table cell: ``—`` when there is none."""
    text = amount(value, measure)
    return NONE if text is None else text


def day(value: date | None, year: int) -> str:
    """``11月16日`` in the bulletin's year, ``2025-11-16`` in another (the full Chinese form
    does not fit a table's date column); ``—`` for none."""
    if value is None:
        return NONE
    return f"{value.month}月{value.day}日" if value.year == year else value.isoformat()


@dataclass(frozen=True, slots=True)
class Movement:
    """A unit's move in the ranking since the period before."""

    kind: str | None  # up | down | flat | new (not ranked last time); None: not ranked now
    arrow: str        # ↑2 / ↓1 / — ; "" when new or not ranked

    @property
    def text(self) -> str:
        """The arrow, or ``新`` for a newly ranked unit; "" for an unranked one."""
        return NEW if self.kind == "new" else self.arrow


def movement(unit: UnitRow) -> Movement:
    if unit.place is None:
        return Movement(None, "")
    if unit.previous_place is None or unit.movement is None:
        return Movement("new", "")
    if unit.movement > 0:
        return Movement("up", f"↑{unit.movement}")
    if unit.movement < 0:
        return Movement("down", f"↓{-unit.movement}")
    return Movement("flat", NONE)


def issued_at(period: Period) -> datetime:
    """The first instant after the period in Beijing time: the stamp a bulletin's files carry
    as their creation time, so that regenerating a past bulletin gives the same bytes."""
    return datetime.combine(period.last + timedelta(days=1), time.min, CHINA)
