"""What a bulletin is computed from: everything recorded before the end of its period
(models/store/bulletin_history.py loads it), as plain values.

Names and assignments are read as they stood at the end of each period looked at, not as they
are today, so that a past bulletin regenerated after a plan re-import (a milestone renamed or
moved to another unit, a project or unit renamed) comes out the same. A record holds today's
values and ``revisions``: each value an import replaced, with the instant it was replaced (the
``[old, new]`` pairs the import logged). Rolling back from today means history recorded before
such revisions were kept, or a change made outside an import, reads as today's value: what
every bulletin read before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from models.tables.event_kinds import EventInvalid, EventKind, Payload, payload

P = TypeVar("P", bound=Payload)

T = TypeVar("T")


@dataclass(frozen=True)
class Revision:
    """``field`` read ``old`` until ``at`` (when an import changed it)."""

    at: datetime
    field: str
    old: Any


def value_at(current: T, revisions: Sequence[Revision], name: str, end: datetime) -> T:
    """The value of ``name`` just before ``end``: the old value of the first revision made at
    or after ``end``, else today's. ``revisions`` in the order they were made."""
    for revision in revisions:
        if revision.field == name and revision.at >= end:
            old: T = revision.old  # the imports logged it from the same field
            return old
    return current


@dataclass(frozen=True)
class MilestoneRecord:
    """A milestone with today's names; ``as_of`` gives it as it stood at an instant."""

    id: int
    plan: str
    project: str
    title: str
    unit_code: str
    unit_name: str
    planned_due_on: date
    binding: bool
    known_since: datetime | None  # None: part of the plan as first loaded, known from the start
    retired_at: datetime | None
    # Of title, unit_code, binding and project (its project's renames), in the order made.
    revisions: tuple[Revision, ...] = ()
    assumption: str | None = None  # why its date or text is assumed (推定), as it is today
    unmarked: bool = False  # the plan gives it no 约束性/预期性 (未标注), as it is today

    def as_of(self, end: datetime, units: dict[str, UnitNames]) -> MilestoneRecord:
        """As it stood just before ``end``: its title, project, unit and the unit's name then."""
        unit = units.get(self.unit_code)
        if not self.revisions and (unit is None or not unit.revisions):
            return self  # the common case, for every milestone of every period looked at
        code = value_at(self.unit_code, self.revisions, "unit_code", end)
        names = units.get(code)
        return replace(
            self, revisions=(),
            title=value_at(self.title, self.revisions, "title", end),
            project=value_at(self.project, self.revisions, "project", end),
            binding=value_at(self.binding, self.revisions, "binding", end),
            unit_code=code,
            unit_name=self.unit_name if code == self.unit_code and names is None
            else names.at(end) if names is not None else code)


@dataclass(frozen=True)
class UnitNames:
    """A unit's name today and the names an import replaced."""

    name: str
    revisions: tuple[Revision, ...] = ()

    def at(self, end: datetime) -> str:
        return value_at(self.name, self.revisions, "name", end)


@dataclass(frozen=True)
class Happened:
    """One event of a milestone that the figures read."""

    kind: EventKind
    at: datetime
    on: date   # the local day
    actor_id: int | None
    reason: str | None
    data: dict[str, Any]

    def read(self, model: type[P]) -> P:
        """The data as its kind's typed payload (EventInvalid when it does not fit)."""
        found = payload(self.kind, self.data)
        if not isinstance(found, model):
            raise EventInvalid(f"a {self.kind} event is not a {model.__name__}")
        return found


@dataclass(frozen=True)
class IndicatorRecord:
    id: int
    plan: str
    code: str
    seq: int
    name: str
    unit_name: str | None
    measure: str | None
    binding: bool
    direction: str
    baseline_year: int | None
    baseline_value: float | None
    targets: dict[int, tuple[float | None, str | None]]  # year: (value, words)
    target_qualifiers: dict[int, Any]
    readings: list[tuple[date, float]]  # (as of, value), known by the end of the period
    unmarked: bool = False  # no 约束性/预期性 in the plan (未标注)


@dataclass
class History:
    scope: str
    scope_name: str  # as it stood at ``until``
    until: datetime  # exclusive: the first instant after the period
    milestones: list[MilestoneRecord]
    events: dict[int, list[Happened]] = field(default_factory=dict)  # by milestone, in order
    # by milestone: (level, the day the sweep found it, the due date it was for)
    steps: dict[int, list[tuple[int, date, date]]] = field(default_factory=dict)
    indicators: list[IndicatorRecord] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # person id: name, as at ``until``
    # by unit code, for the units milestones are in now or were in before a re-import
    units: dict[str, UnitNames] = field(default_factory=dict)
    plan_names: dict[str, str] = field(default_factory=dict)  # by code, as at ``until``
