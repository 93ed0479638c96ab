"""A project's milestones on one time axis, laid out for an SVG drawn on the server.

Pure geometry, no I/O: dates in, coordinates out; templates/project.html draws them.
For each milestone, one row: the plan's date (a hollow ring), each approved extension as a
slip (an arrow from the date it moved from to the date it moved to: the row shows how far and
how often an item was put off), the date in force (a dot in the item's light), and across all
rows, today's line. The axis runs whole years, from the earliest date shown to the latest, so
the ticks are 1 January of each year.

Decisions: the SVG is at least 640 units wide and the page lets it scroll sideways on a phone,
rather than shrink its text below legibility; a table below it says the same in words for a
screen reader and for anyone who prefers to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 960
LEFT, RIGHT = 16, 16  # margins inside the drawing
AXIS_H = 36           # the year ticks' band
ROW_H = 52            # title line, then the track


@dataclass(frozen=True)
class Slip:
    x_from: float
    x_to: float
    moved_from: date
    moved_to: date


@dataclass(frozen=True)
class Row:
    milestone_id: int
    title: str
    light: str
    y_title: float
    y_track: float
    x_planned: float
    x_due: float
    planned_on: date
    due_on: date
    slips: tuple[Slip, ...]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str  # "2025年" on 1 January, "4月" etc. on a quarter, "" when left out
    year_starts: bool


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    ticks: tuple[Tick, ...]
    rows: tuple[Row, ...]
    x_today: float
    today: date


@dataclass(frozen=True)
class Placed:
    """One milestone's dates, for `lay_out`."""

    milestone_id: int
    title: str
    light: str
    planned_on: date
    due_on: date
    moves: tuple[tuple[date, date], ...]  # approved extensions, in order: (from, to)


def _quarter(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month >= 10 else date(day.year, day.month + 3, 1)


def lay_out(items: Sequence[Placed], today: date) -> Timeline:
    dates = [today, *(d for i in items for d in (i.planned_on, i.due_on)),
             *(d for i in items for move in i.moves for d in move)]
    start, end = _quarter(min(dates)), _next_quarter(_quarter(max(dates)))
    span = (end - start).days
    long_span = span > 4 * 366

    def x(day: date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - start).days / span, 1)

    rows = tuple(Row(milestone_id=i.milestone_id, title=i.title, light=i.light,
                     y_title=AXIS_H + n * ROW_H + 18, y_track=AXIS_H + n * ROW_H + 36,
                     x_planned=x(i.planned_on), x_due=x(i.due_on), planned_on=i.planned_on,
                     due_on=i.due_on,
                     slips=tuple(Slip(x(a), x(b), a, b) for a, b in i.moves))
                 for n, i in enumerate(items))
    ticks = []
    day = start
    while day <= end:  # the last tick closes the axis, unlabelled: its label would overflow
        label = f"{day.year}年" if day.month == 1 else ("" if long_span else f"{day.month}月")
        ticks.append(Tick(x(day), "" if day == end else label, day.month == 1))
        day = _next_quarter(day)
    return Timeline(width=WIDTH, height=AXIS_H + ROW_H * len(items) + 8, ticks=tuple(ticks),
                    rows=rows, x_today=x(today), today=today)
