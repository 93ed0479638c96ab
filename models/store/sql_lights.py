"""Lights in SQL: state, light, overdue working days, ladder level and next check for the items
that have no facts beyond their due date, computed by one statement per id range.

The rules are models.rules.status (``milestone_status``, ``next_change_on``) and
models.rules.escalation (``reached_level``, ``next_step_on``); this module says the same in SQL
for the one case that needs no event log: an open item with no claim, decision or extension,
no ladder step recorded and no snooze in force. The working-day table
(models.store.working_days) makes each working-day sum a join:
- ``workday_number`` W(d) counts the working days up to and including d, so the working days
  after ``due`` up to ``today`` are W(today) − W(due);
- the n-th working day after d (n > 0) is the working day numbered W(d) + n; the n-th before it
  (n ≤ 0, 0 meaning "d, or the next working day") is numbered W(d) − [d is one] + n + 1;
- a working day numbered X lies after today exactly when X > W(today).
Items whose dates fall outside the table are not returned: the Python rules take them. The
property test (tests/test_sql_lights.py) holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from config.plan_file import Commitment
from config.policy import Policy
from models.rules.rulebook import Rules
from models.rules.status import OPEN_STATES, Status
from models.store.working_days import DAYS, Today, ensure_working_days, today_row
from models.tables.columns import table_of
from models.tables.escalation import EscalationStep
from models.tables.event import Event
from models.tables.event_kinds import FACT_KINDS
from models.tables.milestone import Light, Milestone, MilestoneState
from models.tables.plan import Plan, Project

MILESTONES, PROJECTS, PLANS = table_of(Milestone), table_of(Project), table_of(Plan)
EVENTS, STEPS = table_of(Event), table_of(EscalationStep)
_FAR = date(9999, 12, 31)
_NO_NUMBER = sa.cast(sa.null(), sa.Integer)  # no working day: typed, for PostgreSQL
_YEARS = 30  # the table spans at most this many years either side of today


@dataclass(slots=True)
class LitItem:
    """A milestone as stored (the columns a sweep compares and writes) and what SQL computed
    for it today. Slots, not frozen: a first sweep makes a million of them."""

    id: int
    project_id: int
    unit_id: int
    title: str
    commitment: Commitment | None
    major: bool
    acknowledged_level: int
    version: int
    state: MilestoneState
    light: Light
    due_on: date
    late: bool
    provisional: bool
    claimed_on: date | None
    level: int
    next_check_on: date | None
    project_code: str
    plan_code: str
    status: Status            # as milestone_status would have it today
    reached: int              # as reached_level
    next_check: date | None   # as the sweep's next check after today's steps


def lit_statement(*, policy: Policy, plan_ids: list[int], today: Today, project_id: int | None,
                  every_item: bool, postgres: bool) -> sa.Select[Any]:
    """The statement that lights the fact-free open items among ids (:after_id, :up_to_id] of
    the given plans (which share ``policy``) that are due for a look (all of them when
    ``every_item``). Built once per sweep, run per batch. On PostgreSQL it locks their rows
    (SKIP LOCKED), as the Python path's candidates are locked."""
    items = _items(policy, plan_ids, today, project_id, every_item)
    if postgres:
        items = items.with_for_update(skip_locked=True, of=MILESTONES)
    return _next_checks(items.subquery("item"), policy, today, postgres)


def lit_items(connection: sa.Connection, statement: sa.Select[Any], *, after_id: int,
              up_to_id: int) -> list[LitItem]:
    return [_item(row) for row in connection.execute(
        statement, {"after_id": after_id, "up_to_id": up_to_id})]


def _items(policy: Policy, plan_ids: list[int], today: Today, project_id: int | None,
           every_item: bool) -> sa.Select[Any]:
    """The candidates with their status and level: everything but the next check."""
    m, on = MILESTONES, sa.literal(today.day, sa.Date)
    due, soon, after_due = DAYS.alias("due_day"), DAYS.alias("soon_day"), DAYS.alias("next_day")
    due_before = due.c.workday_number - sa.case((due.c.workday, 1), else_=0)  # W(due) − [due]
    n = policy.due_soon_workdays
    soon_on = soon.c.day if n else due.c.day
    overdue = m.c.planned_due_on < on
    due_soon = sa.and_(sa.not_(overdue), soon_on <= on)
    overdue_workdays = sa.case((overdue, today.workday_number - due.c.workday_number), else_=0)
    plain, sooner = _thresholds(policy)

    def climbed(thresholds: list[tuple[int, int]]) -> ColumnElement[Any]:
        # reached_level keeps the last rung in ladder order whose threshold is met.
        whens = [(overdue_workdays >= t, level) for level, t in reversed(thresholds)]
        return sa.case(*whens, else_=1) if whens else sa.literal(1)

    late_level = sa.case((m.c.commitment == Commitment.binding.value, climbed(sooner)),
                         else_=climbed(plain)) if sooner != plain else climbed(plain)
    level = sa.case((overdue, late_level), (due_soon, 1), else_=0)
    start = policy.major_start_level
    if start > 1:  # a major item starts higher, once it is on the ladder at all
        level = sa.case((sa.and_(m.c.major, level > 0, level < start), start), else_=level)
    joined = m.join(PROJECTS, PROJECTS.c.id == m.c.project_id).join(
        PLANS, PLANS.c.id == PROJECTS.c.plan_id).join(
        due, due.c.day == m.c.planned_due_on).join(
        after_due, after_due.c.day_number == due.c.day_number + 1)
    if n:
        joined = joined.join(soon, sa.and_(soon.c.workday, soon.c.workday_number ==
                                           due_before - n + 1))
    query = sa.select(
        m.c.id, m.c.project_id, m.c.unit_id, m.c.title, m.c.commitment, m.c.major,
        m.c.acknowledged_level, m.c.version, m.c.state, m.c.light, m.c.due_on, m.c.late,
        m.c.provisional, m.c.claimed_on, m.c.level, m.c.next_check_on,
        PROJECTS.c.code.label("project_code"), PLANS.c.code.label("plan_code"),
        m.c.planned_due_on.label("new_due_on"), soon_on.label("soon_on"),
        after_due.c.day.label("after_due_on"), due.c.workday_number.label("due_number"),
        due_before.label("due_before"),
        sa.case((overdue, MilestoneState.overdue.value), (due_soon, MilestoneState.due_soon.value),
                else_=MilestoneState.pending.value).label("new_state"),
        sa.case((overdue, Light.red.value), (due_soon, Light.yellow.value),
                else_=Light.green.value).label("new_light"),
        overdue.label("new_late"), overdue_workdays.label("overdue_workdays"),
        sa.or_(due.c.provisional, soon.c.provisional if n else sa.false(),
               sa.literal(today.provisional)).label("new_provisional"),
        level.label("new_level"),
    ).select_from(joined).where(
        m.c.id > sa.bindparam("after_id"), m.c.id <= sa.bindparam("up_to_id"),
        m.c.retired_at.is_(None),
        m.c.state.in_([s.value for s in OPEN_STATES]), PROJECTS.c.plan_id.in_(plan_ids),
        *_no_facts(on))
    if not every_item:
        query = query.where(sa.or_(m.c.next_check_on.is_(None), m.c.next_check_on <= on))
    if project_id is not None:
        query = query.where(m.c.project_id == project_id)
    return query


def _no_facts(on: ColumnElement[date]) -> list[ColumnElement[bool]]:
    """No claim, decision or extension, no step recorded, no snooze in force."""
    m = MILESTONES
    return [~sa.exists().where(EVENTS.c.milestone_id == m.c.id, EVENTS.c.kind.in_(
                [k.value for k in FACT_KINDS])),
            ~sa.exists().where(STEPS.c.milestone_id == m.c.id),
            sa.or_(m.c.snoozed_until.is_(None), m.c.snoozed_until < on),
            m.c.due_on == m.c.planned_due_on]


def _thresholds(policy: Policy) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(level, working days overdue) of the rungs above 1: as written, and for a binding item
    (one level sooner) — the same list when binding items do not climb sooner."""
    rungs = policy.ladder[1:]
    plain = [(rung.level, rung.after_overdue_workdays) for rung in rungs]
    if not policy.binding_climbs_sooner:
        return plain, plain
    return plain, [(rung.level, 1 if rung.level == 2 else
                    policy.level(rung.level - 1).after_overdue_workdays) for rung in rungs]


def _next_checks(item: sa.Subquery, policy: Policy, today: Today,
                 postgres: bool) -> sa.Select[Any]:
    """The items with the day of their next check: the earliest of the next change of status
    (``next_change_on``) and the next ladder date after today's step (``next_step_on``)."""
    i, on = item.c, sa.literal(today.day, sa.Date)
    climb, repeat = DAYS.alias("climb_day"), DAYS.alias("repeat_day")
    plain, sooner = _thresholds(policy)

    def first_climb(thresholds: list[tuple[int, int]]) -> ColumnElement[Any]:
        # The first threshold day after today, as a working-day number: the targets grow
        # with the threshold, so the first past today in ascending order is the least.
        targets = [i.due_number + t if t > 0 else i.due_before + 1
                   for t in sorted({t for _, t in thresholds})]
        return sa.case(*((target > today.workday_number, target) for target in targets),
                       else_=_NO_NUMBER) if targets else _NO_NUMBER

    climbing = sa.case((i.commitment == Commitment.binding.value, first_climb(sooner)),
                       else_=first_climb(plain)) if sooner != plain else first_climb(plain)
    climb_target = sa.case((i.new_state == MilestoneState.pending.value, _NO_NUMBER),
                           else_=climbing)
    # Today's step, if one is owed, is sent at the reached level: its repeat comes
    # repeat_workdays later, or on the due date for a first reminder sent before it.
    repeats = i.new_level > i.acknowledged_level
    first_reminder = sa.and_(i.new_level == 1, i.new_due_on > on)
    repeat_target = sa.case(
        (sa.or_(i.new_level == 0, ~repeats, first_reminder), _NO_NUMBER),
        *((i.new_level == rung.level, today.workday_number + rung.repeat_workdays)
          for rung in policy.ladder), else_=_NO_NUMBER)
    repeat_on = sa.case((sa.and_(repeats, first_reminder), i.new_due_on), else_=repeat.c.day)
    change_on = sa.case((on < i.soon_on, i.soon_on), (i.new_due_on >= on, i.after_due_on),
                        else_=sa.null())
    joined = item.outerjoin(climb, sa.and_(climb.c.workday,
                                           climb.c.workday_number == climb_target)).outerjoin(
        repeat, sa.and_(repeat.c.workday, repeat.c.workday_number == repeat_target))
    return sa.select(
        *(c for c in item.c if c.name not in ("after_due_on", "due_number", "due_before")),
        _earliest(postgres, change_on, climb.c.day, repeat_on).label("new_next_check"),
    ).select_from(joined).where(
        # A target past the table's end has no row: leave the item to the Python rules.
        sa.or_(climb_target.is_(None), climb.c.day.is_not(None)),
        sa.or_(repeat_target.is_(None), repeat.c.day.is_not(None)),
    ).order_by(i.id)


def _earliest(postgres: bool, *days: ColumnElement[date]) -> ColumnElement[date]:
    """The earliest of some days, ignoring NULLs (NULL when all are): LEAST on PostgreSQL;
    SQLite's many-argument MIN returns NULL when any argument is, so NULL stands as 9999-12-31
    there for the comparison."""
    if postgres:
        return sa.func.least(*days, type_=sa.Date)
    far = sa.literal(_FAR, sa.Date)
    return sa.func.nullif(sa.func.min(*(sa.func.coalesce(d, far) for d in days)), far,
                          type_=sa.Date)


_STATES = {s.value: s for s in MilestoneState}
_LIGHTS = {light.value: light for light in Light}
_STORED = 18  # the first columns are the stored ones, in LitItem's order


def _item(row: sa.Row[Any]) -> LitItem:
    (due_on, soon_on, state, light, late, overdue_workdays, provisional, level,
     next_check) = row[_STORED:]
    status = Status(_STATES[state], _LIGHTS[light], due_on, soon_on, overdue_workdays,
                    bool(late), None, bool(provisional))
    (id_, project_id, unit_id, title, commitment, major, acknowledged_level, version,
     stored_state, stored_light, stored_due_on, stored_late, stored_provisional, claimed_on,
     stored_level, next_check_on, project_code, plan_code) = row[:_STORED]
    return LitItem(id_, project_id, unit_id, title, commitment, major, acknowledged_level,
                   version, stored_state, stored_light, stored_due_on, stored_late,
                   stored_provisional, claimed_on, stored_level, next_check_on, project_code,
                   plan_code, status, level, next_check)


@dataclass(frozen=True)
class Lighting:
    """A sweep's statements, one per policy in use (by the plans that share it), and a probe
    for any item due for a look in a range."""

    statements: tuple[sa.Select[Any], ...]
    probe: sa.Select[Any] | None  # None: every open item is due (the rules changed)

    def batch(self, connection: sa.Connection, *, after_id: int, up_to_id: int
              ) -> list[LitItem]:
        ids = {"after_id": after_id, "up_to_id": up_to_id}
        # A steady sweep finds most ranges with no fact-free item due (the few due have steps
        # recorded): the probe's index reads cost far less than PostgreSQL's planning of the
        # lighting statement (about 8 ms).
        if self.probe is not None and connection.execute(self.probe, ids).first() is None:
            return []
        return [item for statement in self.statements for item in lit_items(
            connection, statement, after_id=after_id, up_to_id=up_to_id)]


def prepare_lighting(connection: sa.Connection, rules: Rules, today: date, *,
                     project_id: int | None = None, every_item: bool = False,
                     rebuild: bool = True) -> Lighting | None:
    """Bring the working-day table up to the calendar and the due dates in use (in
    ``connection``'s transaction: commit it before the batches), and build the statements.
    None when there is nothing to light, or today lies outside the table, or the table is stale
    and ``rebuild`` is off: then the Python rules do it all."""
    low, high = connection.execute(sa.select(sa.func.min(MILESTONES.c.due_on),
                                             sa.func.max(MILESTONES.c.due_on))).one()
    if low is None:
        return None
    # A year of margin for windows and ladders; a date decades away is left to Python.
    first = max(min(low, today) - timedelta(days=366), date(today.year - _YEARS, 1, 1))
    last = min(max(high, today) + timedelta(days=366), date(today.year + _YEARS, 12, 31))
    if not ensure_working_days(connection, rules.calendar, first, last, rebuild=rebuild):
        return None
    found = today_row(connection, today)
    if found is None:
        return None
    by_policy: dict[str, tuple[Policy, list[int]]] = {}
    for plan_id, code in connection.execute(sa.select(PLANS.c.id, PLANS.c.code)):
        policy = rules.policy(code)
        by_policy.setdefault(policy.model_dump_json(), (policy, []))[1].append(plan_id)
    postgres = connection.dialect.name == "postgresql"
    return Lighting(tuple(lit_statement(policy=policy, plan_ids=ids, today=found,
                                        project_id=project_id, every_item=every_item,
                                        postgres=postgres)
                          for policy, ids in by_policy.values()),
                    None if every_item else _probe(today, project_id))


def _probe(today: date, project_id: int | None) -> sa.Select[Any]:
    m = MILESTONES
    query = sa.select(m.c.id).where(
        m.c.id > sa.bindparam("after_id"), m.c.id <= sa.bindparam("up_to_id"),
        m.c.retired_at.is_(None), m.c.state.in_([s.value for s in OPEN_STATES]),
        sa.or_(m.c.next_check_on.is_(None), m.c.next_check_on <= today),
        *_no_facts(sa.literal(today, sa.Date))).limit(1)
    return query if project_id is None else query.where(m.c.project_id == project_id)
