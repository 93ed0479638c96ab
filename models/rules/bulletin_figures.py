"""The bulletin's figures as a pure function of the history and a period (definitions:
models/rules/bulletin.py).

``History`` is everything recorded up to the end of the period (models/store/bulletin_history.py
loads it); nothing later is in it, so the figures of a past period come out the same however
the data changed since. Each milestone's state at a day is models.rules.status.milestone_status over
its decisions and extensions, the same function the engine uses every day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from models.rules.bulletin import (
    HONOUR,
    CompletedItem,
    Edition,
    ExtensionGranted,
    Figures,
    Headline,
    IndicatorRow,
    Period,
    PeriodKind,
    RedItem,
    UnitRow,
)
from models.rules.indicator_light import Reading, Target, indicator_light, trajectory_value
from models.rules.rulebook import Rules
from models.rules.status import Decision, Extension, MilestoneFacts, Status, milestone_status
from models.tables.milestone import Light, MilestoneState

DONE = frozenset({MilestoneState.claimed, MilestoneState.closed})
HEADLINE_KEYS = ("due", "done", "on_time", "on_time_rate", "overdue", "newly_overdue",
                 "completed")


# ── periods ─────────────────────────────────────────────────────────────────────────────────

def period_ending_before(kind: PeriodKind, issued_on: date) -> Period:
    """The period a bulletin issued on ``issued_on`` covers: the last full week (Monday to
    Sunday) or calendar month before that day."""
    if kind is PeriodKind.week:
        monday = issued_on - timedelta(days=issued_on.weekday())
        return Period(kind, monday - timedelta(days=7), monday - timedelta(days=1))
    if kind is PeriodKind.month:
        last = issued_on.replace(day=1) - timedelta(days=1)
        return Period(kind, last.replace(day=1), last)
    raise ValueError("a custom period is given by its days")


def previous_period(period: Period) -> Period:
    """The period of the same kind just before: the week before, the month before, or as many
    days just before a custom period."""
    if period.kind is PeriodKind.month:
        last = period.first - timedelta(days=1)
        return Period(period.kind, last.replace(day=1), last)
    return Period(period.kind, period.first - timedelta(days=period.days),
                  period.first - timedelta(days=1))


def parse_period(text: str, issued_on: date) -> Period:
    """``week``, ``month`` or ``YYYY-MM-DD..YYYY-MM-DD`` (both days included)."""
    text = text.strip()
    if text in (PeriodKind.week.value, PeriodKind.month.value):
        return period_ending_before(PeriodKind(text), issued_on)
    first, sep, last = text.partition("..")
    try:
        if not sep:
            raise ValueError(text)
        period = Period(PeriodKind.custom, date.fromisoformat(first.strip()),
                        date.fromisoformat(last.strip()))
    except ValueError:
        raise ValueError(f"period {text!r}: expected week, month or FROM..TO with dates "
                         "as YYYY-MM-DD, e.g. 2026-11-01..2026-11-30") from None
    if period.last < period.first:
        raise ValueError(f"period {text!r}: ends before it starts")
    return period


# ── the history ─────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class MilestoneRecord:
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


@dataclass(frozen=True)
class Happened:
    """One event of a milestone that the figures read."""

    kind: str  # without the "milestone." prefix
    at: datetime
    on: date   # the local day
    actor_id: int | None
    reason: str | None
    data: dict[str, Any]


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


@dataclass
class History:
    scope: str
    scope_name: str
    until: datetime  # exclusive: the first instant after the period
    milestones: list[MilestoneRecord]
    events: dict[int, list[Happened]] = field(default_factory=dict)  # by milestone, in order
    # by milestone: (level, the day the sweep found it, the due date it was for)
    steps: dict[int, list[tuple[int, date, date]]] = field(default_factory=dict)
    indicators: list[IndicatorRecord] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # person id: name


def period_end(period: Period, rules: Rules) -> datetime:
    """The first instant after the period, in the rules' time zone."""
    return datetime.combine(period.last + timedelta(days=1), time.min, rules.zone)


# ── the figures ─────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class _Seen:
    """One milestone at the end of one period."""

    record: MilestoneRecord
    status: Status
    due: bool
    done: bool
    on_time: bool
    overdue: bool


def compute(history: History, period: Period, rules: Rules, edition: Edition) -> Figures:
    previous = previous_period(period)
    now = _look(history, period, rules)
    then = _look(history, previous, rules)
    before = _look(history, previous_period(previous), rules)
    newly, completed = _newly_overdue(now, then), _completed_in(now, period)
    headline_now = _counts(now.values(), newly, completed)
    headline_then = _counts(then.values(), _newly_overdue(then, before),
                            _completed_in(then, previous))
    units = _unit_rows(now, then, newly, completed)
    ranked = [u for u in units if u.place is not None]
    honour, shame = _honour_and_shame(ranked)
    public = edition is Edition.public
    return Figures(
        scope=history.scope, scope_name=history.scope_name, period=period, previous=previous,
        edition=edition,
        headline=Headline(**headline_now, change={
            k: _difference(headline_now[k], headline_then[k]) for k in HEADLINE_KEYS}),
        units=units,
        red_items=_red_items(history, now, period),
        indicators=_indicators(history, period),
        completed=_completed_items(history, now, completed, public),
        extensions=_extensions(history, now, period, public),
        honour=honour, shame=shame)


def _look(history: History, period: Period, rules: Rules) -> dict[int, _Seen]:
    """Every milestone that existed at the end of ``period``, as it stood then."""
    end = period_end(period, rules)
    seen: dict[int, _Seen] = {}
    for record in history.milestones:
        if (record.known_since is not None and record.known_since >= end) or (
                record.retired_at is not None and record.retired_at < end):
            continue
        happened = [h for h in history.events.get(record.id, ()) if h.at < end]
        status = milestone_status(
            _facts(record, happened), period.last, rules.calendar,
            rules.policy(record.plan).due_soon_workdays)
        if status.state is MilestoneState.waived:
            continue
        due = status.due_on <= period.last
        done = status.state in DONE
        seen[record.id] = _Seen(record, status, due, done and due,
                                done and due and not status.late,
                                status.state is MilestoneState.overdue)
    return seen


def _facts(record: MilestoneRecord, happened: list[Happened]) -> MilestoneFacts:
    decisions, extensions = [], []
    for h in happened:
        if h.kind == "extension_decided":
            if h.data.get("approved"):
                extensions.append(Extension(
                    requested_on=date.fromisoformat(h.data["requested_on"]), decided_on=h.on,
                    new_due_on=date.fromisoformat(h.data["new_due_on"])))
        elif h.kind in _DECISIONS:
            decisions.append((Decision(h.kind), h.on))
    return MilestoneFacts(record.planned_due_on, tuple(decisions), tuple(extensions))


_DECISIONS = frozenset(d.value for d in Decision)


def _counts(seen: Iterable[_Seen], newly: set[int], completed: set[int]
            ) -> dict[str, Any]:
    rows = list(seen)
    due = sum(s.due for s in rows)
    on_time = sum(s.on_time for s in rows)
    return {"due": due, "done": sum(s.done for s in rows), "on_time": on_time,
            "on_time_rate": on_time / due if due else None,
            "overdue": sum(s.overdue for s in rows),
            "newly_overdue": sum(s.record.id in newly for s in rows),
            "completed": sum(s.record.id in completed for s in rows)}


def _completed_in(seen: dict[int, _Seen], period: Period) -> set[int]:
    return {i for i, s in seen.items() if s.done and s.status.claimed_on is not None
            and period.first <= s.status.claimed_on <= period.last}


def _newly_overdue(now: dict[int, _Seen], then: dict[int, _Seen]) -> set[int]:
    """Overdue now, and not overdue (or not yet there) at the end of the period before."""
    return {i for i, s in now.items() if s.overdue and not (i in then and then[i].overdue)}


def _difference(now: float | int | None, then: float | int | None) -> float | int | None:
    if now is None or then is None:
        return None
    return now - then


def _unit_rows(now: dict[int, _Seen], then: dict[int, _Seen], newly: set[int],
               completed: set[int]) -> list[UnitRow]:
    names: dict[str, str] = {}
    by_unit: dict[str, list[_Seen]] = defaultdict(list)
    for seen in now.values():
        names[seen.record.unit_code] = seen.record.unit_name
        by_unit[seen.record.unit_code].append(seen)
    then_by_unit: dict[str, list[_Seen]] = defaultdict(list)
    for seen in then.values():
        then_by_unit[seen.record.unit_code].append(seen)
    counts = {code: _counts(rows, newly, completed) for code, rows in by_unit.items()}
    places = rank(counts)
    before = rank({code: _counts(rows, set(), set()) for code, rows in then_by_unit.items()})
    rows = []
    for code, c in counts.items():
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


def _honour_and_shame(ranked: list[UnitRow]) -> tuple[list[str], list[str]]:
    """红榜: the first places; 黑榜: the last places among units not all on time. Each at most
    HONOUR long and at most half the ranked units, so no unit is on both."""
    size = min(HONOUR, len(ranked) // 2)
    honour = [u.unit_code for u in ranked[:size]]
    behind = [u for u in ranked[len(ranked) - size:] if (u.on_time_rate or 0) < 1]
    return honour, [u.unit_code for u in behind]


def _red_items(history: History, now: dict[int, _Seen], period: Period) -> list[RedItem]:
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
            binding=record.binding))
    return sorted(items, key=lambda r: (-r.overdue_workdays, -r.level, r.plan, r.unit_code,
                                        r.milestone_id))


def _acknowledged(happened: Iterable[Happened], level: int, period: Period) -> bool:
    """Acknowledged at ``level`` or above by the end of the period, for the due date in force
    (an approved extension starts a new ladder: acknowledgements before it no longer count)."""
    acknowledged = 0
    for h in happened:
        if h.on > period.last:
            break
        if h.kind == "extension_decided" and h.data.get("approved"):
            acknowledged = 0
        elif h.kind == "acknowledged":
            acknowledged = max(acknowledged, int(h.data.get("level", 0)))
    return acknowledged >= level


def _indicators(history: History, period: Period) -> list[IndicatorRow]:
    """Each indicator against "this year's" target: the first target year not over when the
    period began (a week across New Year still shows the year it closes), on the straight
    line at the period's end or that year's end, whichever is first."""
    end = period.last
    rows = []
    for ind in history.indicators:
        readings = [Reading(on, value) for on, value in ind.readings if on <= end]
        targets = [Target(year, value, ind.target_qualifiers.get(year))
                   for year, (value, _) in ind.targets.items() if value is not None]
        latest = max(readings, key=lambda r: r.as_of, default=None)
        year = min((y for y in ind.targets if y >= period.first.year), default=None)
        this_year = ind.targets.get(year) if year == period.first.year or (
            year == end.year) else None
        light = indicator_light(baseline_year=ind.baseline_year,
                                baseline_value=ind.baseline_value, targets=targets,
                                readings=readings, direction=ind.direction, today=end)
        rows.append(IndicatorRow(
            plan=ind.plan, code=ind.code, name=ind.name, unit_name=ind.unit_name,
            measure=ind.measure, binding=ind.binding, baseline_year=ind.baseline_year,
            baseline_value=ind.baseline_value,
            target_year=year if this_year else None,
            target_value=this_year[0] if this_year else None,
            target_text=this_year[1] if this_year else None,
            trajectory_value=trajectory_value(
                baseline_year=ind.baseline_year, baseline_value=ind.baseline_value,
                targets=targets, day=min(end, date(year, 12, 31)) if this_year else end),
            latest_value=latest.value if latest else None,
            latest_on=latest.as_of if latest else None,
            light=light.value if light else None))
    seq = {(i.plan, i.code): i.seq for i in history.indicators}
    return sorted(rows, key=lambda r: (not r.binding, r.plan, seq[(r.plan, r.code)]))


def _completed_items(history: History, now: dict[int, _Seen], completed: set[int],
                     public: bool) -> list[CompletedItem]:
    items = []
    for milestone_id in completed:
        seen = now[milestone_id]
        claim = next((h for h in reversed(history.events.get(milestone_id, ()))
                      if h.kind == Decision.claimed.value and h.on == seen.status.claimed_on),
                     None)
        items.append(CompletedItem(
            milestone_id=milestone_id, plan=seen.record.plan, project=seen.record.project,
            title=seen.record.title, unit_code=seen.record.unit_code,
            unit_name=seen.record.unit_name, due_on=seen.status.due_on,
            claimed_on=seen.status.claimed_on,  # type: ignore[arg-type]
            on_time=seen.on_time,
            evidence=None if public or claim is None else claim.data.get("evidence"),
            claimed_by=None if public or claim is None or claim.actor_id is None
            else history.names.get(claim.actor_id)))
    return sorted(items, key=lambda c: (c.claimed_on, c.plan, c.unit_code, c.milestone_id))


def _extensions(history: History, now: dict[int, _Seen], period: Period,
                public: bool) -> list[ExtensionGranted]:
    granted = []
    for milestone_id, seen in now.items():
        asked: Happened | None = None
        for h in history.events.get(milestone_id, ()):
            if h.kind == "extension_requested":
                asked = h
            if (h.kind == "extension_decided" and h.data.get("approved")
                    and period.first <= h.on <= period.last):
                granted.append(ExtensionGranted(
                    milestone_id=milestone_id, plan=seen.record.plan,
                    project=seen.record.project, title=seen.record.title,
                    unit_code=seen.record.unit_code, unit_name=seen.record.unit_name,
                    previous_due_on=date.fromisoformat(h.data["previous_due_on"]),
                    new_due_on=date.fromisoformat(h.data["new_due_on"]), decided_on=h.on,
                    reason=None if public or asked is None else asked.reason))
    return sorted(granted, key=lambda e: (e.decided_on, e.plan, e.unit_code, e.milestone_id))

