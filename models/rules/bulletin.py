"""The 晾晒 bulletin's figures: what every output (HTML, XLSX, PDF, chart) shows, as plain data.

A bulletin covers one period (``Period``: from its first day to its last, inclusive) for one plan
or for every plan, and is computed from the event history as it stood at the end of the period
(models/rules/bulletin_figures.py), so regenerating a past bulletin gives the same figures.
Definitions (the office's, written down once here):

- due: milestones whose due date in force at the end of the period is on or before its last
  day, from the start of the plan; waived ones and ones retired by then are left out.
- done: due milestones claimed done (申报完成, and not sent back since) or closed (销号) by then.
- on time: done, and claimed on or before the due date in force when it was claimed (an
  extension asked after the due date does not make a late item on time: models.rules.status).
- on-time rate (按期完成率): on time / due; None when nothing is due (such units are listed
  apart, not ranked).
- overdue: due, not done, at the end of the period.
- newly overdue: overdue at the end of the period and not overdue at the end of the previous.
- completed this period: claims made within the period that still stand at its end.
- ranking: units with something due, by on-time rate (higher first), then more items on time,
  then fewer overdue items, then unit code: best first. 红榜 the first ``HONOUR`` places, 黑榜 the
  last ``HONOUR`` places (fewer when fewer units are ranked, never the same unit on both).
- change since the previous bulletin: the same figures for the period of the same length just
  before, computed the same way (so a first bulletin has changes too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any

HONOUR = 3  # places on the 红榜 and on the 黑榜


class Edition(StrEnum):
    internal = "internal"  # the office and leaders: names, contacts and evidence included
    public = "public"      # 晾晒: no people's names, contacts or evidence notes


class PeriodKind(StrEnum):
    week = "week"
    month = "month"
    custom = "custom"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Headline:
    """The headline figures, each with its change since the previous period (now − then)."""

    due: int
    done: int
    on_time: int
    on_time_rate: float | None
    overdue: int
    newly_overdue: int
    completed: int
    change: dict[str, float | int | None]  # the same keys; None where either side is None


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


@dataclass(frozen=True)
class RedItem:
    milestone_id: int
    plan: str
    project: str
    title: str
    unit_code: str
    unit_name: str
    due_on: date
    overdue_workdays: int
    level: int           # escalation level reached by the end of the period
    acknowledged: bool   # the office acknowledged that level by then
    binding: bool


@dataclass(frozen=True)
class IndicatorRow:
    plan: str
    code: str
    name: str
    unit_name: str | None  # of its project, if it has one
    measure: str | None
    binding: bool
    baseline_year: int | None
    baseline_value: float | None
    target_year: int | None       # this year's target (the year of the period's last day)
    target_value: float | None
    target_text: str | None       # the document's words where more than a number
    trajectory_value: float | None  # the straight line from the baseline, at the period's end
    latest_value: float | None    # the latest reading on or before the period's end
    latest_on: date | None
    light: str | None             # red / yellow / green, or None: nothing to judge by yet


@dataclass(frozen=True)
class CompletedItem:
    milestone_id: int
    plan: str
    project: str
    title: str
    unit_code: str
    unit_name: str
    due_on: date
    claimed_on: date
    on_time: bool
    evidence: str | None   # left out (None) in the public edition
    claimed_by: str | None  # a person's name; None in the public edition


@dataclass(frozen=True)
class ExtensionGranted:
    milestone_id: int
    plan: str
    project: str
    title: str
    unit_code: str
    unit_name: str
    previous_due_on: date
    new_due_on: date
    decided_on: date
    reason: str | None  # None in the public edition


@dataclass(frozen=True)
class Figures:
    scope: str  # a plan code, or "*" for every plan
    scope_name: str
    period: Period
    previous: Period
    edition: Edition
    headline: Headline
    units: list[UnitRow]          # ranked ones by place, then unranked by code
    red_items: list[RedItem]      # most overdue first
    indicators: list[IndicatorRow]  # binding first, then plan and code
    completed: list[CompletedItem]
    extensions: list[ExtensionGranted]
    honour: list[str] = field(default_factory=list)  # unit codes on the 红榜, best first
    shame: list[str] = field(default_factory=list)   # unit codes on the 黑榜, worst last
    focus_unit: str | None = None  # a unit's own bulletin: its lists only, the whole ranking

    def for_unit(self, unit_code: str) -> Figures:
        """The bulletin a unit receives: the whole scope's headline and ranking, so it sees
        itself side by side with the others, and only its own items."""
        red, completed, extensions = self._by_unit.get(unit_code, ([], [], []))
        return replace(self, focus_unit=unit_code, red_items=red, completed=completed,
                       extensions=extensions)

    @cached_property
    def _by_unit(self) -> dict[str, tuple[list[RedItem], list[CompletedItem],
                                          list[ExtensionGranted]]]:
        """Each unit's items, sorted out once: a scope of 3,000 units asks for each."""
        lists: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
        for index, items in enumerate((self.red_items, self.completed, self.extensions)):
            for item in items:
                lists.setdefault(item.unit_code, ([], [], []))[index].append(item)
        return lists

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (dates as YYYY-MM-DD), in a stable order."""
        return _plain(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        """The figures back from ``to_json`` (a stored bulletin, shown again)."""
        def period(p: dict[str, Any]) -> Period:
            return Period(PeriodKind(p["kind"]), date.fromisoformat(p["first"]),
                          date.fromisoformat(p["last"]))

        def rows(kind: type, items: list[dict[str, Any]]) -> list[Any]:
            dates = {f.name for f in fields(kind) if "date" in str(f.type)}
            return [kind(**{k: date.fromisoformat(v) if k in dates and v else v
                            for k, v in item.items()}) for item in items]

        return cls(scope=data["scope"], scope_name=data["scope_name"],
                   period=period(data["period"]), previous=period(data["previous"]),
                   edition=Edition(data["edition"]), headline=Headline(**data["headline"]),
                   units=rows(UnitRow, data["units"]), red_items=rows(RedItem, data["red_items"]),
                   indicators=rows(IndicatorRow, data["indicators"]),
                   completed=rows(CompletedItem, data["completed"]),
                   extensions=rows(ExtensionGranted, data["extensions"]),
                   honour=data["honour"], shame=data["shame"], focus_unit=data["focus_unit"])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
