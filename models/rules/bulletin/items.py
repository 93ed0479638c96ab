"""The bulletin's lists of items: red ones, ones completed in the period, extensions granted in
it. Each row names its milestone as it stood at the period's end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from models.rules.bulletin.history import Happened, History
from models.rules.bulletin.periods import Period
from models.rules.bulletin.standing import Standing
from models.tables.event_kinds import Acknowledged, DoneClaimed, EventKind, ExtensionDecided
from models.tables.milestone import Light


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
    assumption: str | None = None  # why its date or text is assumed (推定)
    unmarked: bool = False         # the plan gives no 约束性/预期性 (未标注)


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
    assumption: str | None = None


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


def red_items(history: History, now: dict[int, Standing], period: Period) -> list[RedItem]:
    """Most overdue first."""
    items = []
    for seen in now.values():
        if seen.status.light is not Light.red:
            continue
        record, status = seen.record, seen.status
        level = max((lvl for lvl, as_of, due in history.steps.get(record.id, ())
                     if as_of <= period.last and due == status.due_on), default=0)
        items.append(RedItem(
            milestone_id=record.id, plan=record.plan, project=record.project,
            title=record.title, unit_code=record.unit_code, unit_name=record.unit_name,
            due_on=status.due_on, overdue_workdays=status.overdue_workdays, level=level,
            acknowledged=level > 0 and _acknowledged(history.events.get(record.id, ()),
                                                     level, period),
            binding=record.binding, assumption=record.assumption,
            unmarked=record.unmarked and not record.binding))
    return sorted(items, key=lambda r: (-r.overdue_workdays, -r.level, r.plan, r.unit_code,
                                        r.milestone_id))


def _acknowledged(happened: Iterable[Happened], level: int, period: Period) -> bool:
    """Acknowledged at ``level`` or above by the end of the period, for the due date in force
    (an approved extension starts a new ladder: acknowledgements before it no longer count)."""
    acknowledged = 0
    for h in happened:
        if h.on > period.last:
            break
        if h.kind == EventKind.extension_decided and h.read(ExtensionDecided).approved:
            acknowledged = 0
        elif h.kind == EventKind.acknowledged:
            acknowledged = max(acknowledged, h.read(Acknowledged).level)
    return acknowledged >= level


def completed_items(history: History, now: dict[int, Standing], completed: set[int],
                    public: bool) -> list[CompletedItem]:
    """In the order they were claimed."""
    items = []
    for milestone_id in completed:
        seen = now[milestone_id]
        assert seen.status.claimed_on is not None  # completed holds only claimed items
        claim = next((h for h in reversed(history.events.get(milestone_id, ()))
                      if h.kind == EventKind.done_claimed and h.on == seen.status.claimed_on),
                     None)
        items.append(CompletedItem(
            milestone_id=milestone_id, plan=seen.record.plan, project=seen.record.project,
            title=seen.record.title, unit_code=seen.record.unit_code,
            unit_name=seen.record.unit_name, due_on=seen.status.due_on,
            claimed_on=seen.status.claimed_on,
            on_time=not seen.status.late,  # an item completed before it was due is on time
            evidence=None if public or claim is None else claim.read(DoneClaimed).evidence,
            claimed_by=None if public or claim is None or claim.actor_id is None
            else history.names.get(claim.actor_id), assumption=seen.record.assumption))
    return sorted(items, key=lambda c: (c.claimed_on, c.plan, c.unit_code, c.milestone_id))


def extensions_granted(history: History, now: dict[int, Standing], period: Period,
                       public: bool) -> list[ExtensionGranted]:
    """In the order they were decided; the reason is the one given when asking."""
    granted = []
    for milestone_id, seen in now.items():
        asked: Happened | None = None
        for h in history.events.get(milestone_id, ()):
            if h.kind == EventKind.extension_requested:
                asked = h
            if h.kind != EventKind.extension_decided or not period.first <= h.on <= period.last:
                continue
            decided = h.read(ExtensionDecided)
            if decided.approved:
                granted.append(ExtensionGranted(
                    milestone_id=milestone_id, plan=seen.record.plan,
                    project=seen.record.project, title=seen.record.title,
                    unit_code=seen.record.unit_code, unit_name=seen.record.unit_name,
                    previous_due_on=decided.previous_due_on, new_due_on=decided.new_due_on,
                    decided_on=h.on,
                    reason=None if public or asked is None else asked.reason))
    return sorted(granted, key=lambda e: (e.decided_on, e.plan, e.unit_code, e.milestone_id))
