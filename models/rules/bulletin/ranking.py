"""The ranking of units, its 红榜 and 黑榜, and each unit's row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from models.rules.bulletin.headline import counts
from models.rules.bulletin.standing import Standing

HONOUR = 3  # places on the 红榜 and on the 黑榜


@dataclass(frozen=True)
class UnitRow:
    unit_code: str
    unit_name: str
    due: int
    done: int
    on_time: int
    on_time_rate: float | None
    overdue: int
    newly_overdue: int
    completed: int
    place: int | None           # 1 = best; None: nothing due, not ranked
    previous_place: int | None  # None: not ranked in the previous period
    movement: int | None        # previous_place − place (positive: moved up); None if either is


def unit_rows(now: dict[int, Standing], then: dict[int, Standing], newly: set[int],
              completed: set[int]) -> list[UnitRow]:
    """Ranked units by place, then the units with nothing due by code."""
    names: dict[str, str] = {}
    by_unit: dict[str, list[Standing]] = defaultdict(list)
    for seen in now.values():
        names[seen.record.unit_code] = seen.record.unit_name
        by_unit[seen.record.unit_code].append(seen)
    then_by_unit: dict[str, list[Standing]] = defaultdict(list)
    for seen in then.values():
        then_by_unit[seen.record.unit_code].append(seen)
    counted = {code: counts(rows, newly, completed) for code, rows in by_unit.items()}
    places = rank(counted)
    before = rank({code: counts(rows, set(), set()) for code, rows in then_by_unit.items()})
    rows = []
    for code, c in counted.items():
        place, previous_place = places.get(code), before.get(code)
        rows.append(UnitRow(
            unit_code=code, unit_name=names[code], **c, place=place,
            previous_place=previous_place,
            movement=None if place is None or previous_place is None
            else previous_place - place))
    return sorted(rows, key=lambda r: (r.place is None, r.place or 0, r.unit_code))


def rank(counts: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Places, 1 = best, for units with something due: the higher on-time rate first, then
    more items on time, then fewer overdue, then the unit code (so every place is distinct and
    the same data always gives the same order)."""
    ranked = sorted((code for code, c in counts.items() if c["due"]),
                    key=lambda code: (-counts[code]["on_time_rate"], -counts[code]["on_time"],
                                      counts[code]["overdue"], code))
    return {code: place for place, code in enumerate(ranked, start=1)}


def honour_and_shame(ranked: list[UnitRow]) -> tuple[list[str], list[str]]:
    """红榜: the first places; 黑榜: the last places among units not all on time. Each at most
    HONOUR long and at most half the ranked units, so no unit is on both."""
    size = min(HONOUR, len(ranked) // 2)
    honour = [u.unit_code for u in ranked[:size]]
    behind = [u for u in ranked[len(ranked) - size:] if (u.on_time_rate or 0) < 1]
    return honour, [u.unit_code for u in behind]
