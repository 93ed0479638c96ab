"""One supervision sweep: evaluate what is due for a look, record changes, queue notices.

Plain functions over the database, with no Prefect: the flows in ``flows.supervise`` wrap them,
and the CLI calls them directly for one-shot runs.

Algorithm, batch by batch (ranges of milestone ids holding at most ``batch_size`` of the
items due, read once at the start; one transaction each):
1. Light in SQL the range's open items with no facts beyond their due date (models.store.
   sql_lights: state, light, level and next check by one statement), unless ``sql_lights``
   is off; the Python rules, which that module only restates, take the rest:
   select, in the range, open milestones whose ``next_check_on`` is today or earlier (or never
   set), not retired — or every open one when the policies or the calendar changed since the
   last full sweep (``Rules.fingerprint``); on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so
   concurrent sweeps share the work.
2. Load their facts (events, recorded ladder steps) with one query each.
3. For each: compute status and ladder steps (pure rules), and the next day anything can change;
   a lit item only its steps, from the status SQL gave.
4. Write the changed statuses in bulk, and what time changed in them as `light_change` rows
   (one `sweep.lights_changed` event for the whole sweep, at its end).
5. Insert the new steps with ON CONFLICT DO NOTHING on their unique key; only a step this
   sweep inserted queues its notice (the roles to tell), in the same transaction.
6. Set aside each item that failed in 2–5: its next check goes to the next working day, an
   event records the error, and the others' work stands (see `_evaluate`).
7. Commit (or, for a dry run, roll back: nothing is kept, and the report says what would happen).
   Each time the batches have rewritten a tenth of the table, vacuum it, so that the later
   batches reuse the space of the row versions the earlier ones left (models.store.reclaim).
A crash loses at most the open batch, which the next sweep redoes: no step is lost, none doubled.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Engine, or_
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from config.policy import Orders
from flows.indicators import sweep_indicators
from models.rules.escalation import LadderFacts, Sent, Step, next_step_on, reached_level, steps_due
from models.rules.rulebook import Rules
from models.rules.status import OPEN_STATES, Status, milestone_status, next_change_on
from models.store.co_units import co_unit_ids_of
from models.store.database import bulk_insert, bulk_update, refresh_statistics, writer
from models.store.directory import Directory
from models.store.events import record
from models.store.light_changes import change_row
from models.store.milestone_facts import ladder_facts, milestone_facts
from models.store.orders import OrderWanted, feedback_overdue, issue_orders, receipts_overdue
from models.store.reclaim import Reclaimer
from models.store.set_aside import Failure, isolating, set_aside
from models.store.sql_lights import Lighting, LitItem, prepare_lighting
from models.tables.columns import table_of
from models.tables.escalation import ROLE_SEPARATOR, EscalationStep, Notice
from models.tables.event_kinds import EventKind
from models.tables.light_change import LightChange
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from models.tables.sweep_run import SweepRun
from services.runtime import Clock

ACTOR = "system:sweep"
# A sweep that rewrote this many items refreshes the planner's statistics when it ends
# (about what PostgreSQL's autovacuum would, were it on and on time: 10 % of a 100k table).
STATISTICS_AFTER = 10_000
NOTIFICATION_KIND = {1: "reminder", 2: "notice"}  # 3 and above: "leader"
NOTICES = table_of(Notice)
ESCALATIONS = table_of(EscalationStep)
LIGHT_CHANGES = table_of(LightChange)
MILESTONES = table_of(Milestone)
STEPS_IN = sa.table("step_in", *(sa.column(c) for c in ESCALATIONS.c.keys() if c != "id"))


@dataclass
class SweepReport:
    sweep_id: str
    as_of: date
    dry_run: bool
    detail_limit: int | None = 1000  # keep at most this many change and step details (None: all)
    evaluated: int = 0
    changed: int = 0
    escalated: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    notifications: int = 0
    set_aside_count: int = 0  # items whose evaluation raised (models.store.set_aside)
    set_aside: list[dict[str, Any]] = field(default_factory=list)
    indicator_changes: list[dict[str, Any]] = field(default_factory=list)
    provisional: bool = False
    projects: dict[str, Counter[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"sweep_id": self.sweep_id, "as_of": self.as_of.isoformat(),
                "dry_run": self.dry_run, "evaluated": self.evaluated, "changed": self.changed,
                "escalated": self.escalated,
                "changes": self.changes,
                "set_aside_count": self.set_aside_count, "set_aside": self.set_aside,
                "escalations": self.escalations, "notifications": self.notifications,
                "indicator_changes": self.indicator_changes, "provisional": self.provisional,
                "projects": {code: dict(c) for code, c in sorted(self.projects.items())}}

    def keep(self, details: list[dict[str, Any]], item: dict[str, Any]) -> None:
        # A first sweep over a million items must not hold a million dicts.
        if self.detail_limit is None or len(details) < self.detail_limit:
            details.append(item)


def run_sweep(*, engine: Engine, rules: Rules, now: datetime, clock: Clock,
              dry_run: bool = False,
              project_id: int | None = None, batch_size: int = 1000,
              detail_limit: int | None = 1000, sql_lights: bool = True) -> SweepReport:
    """Sweep at the instant ``now`` (the real time, or 09:00 of a replayed day).

    ``sql_lights=False`` sends every item through the Python rules: the oracle the SQL is
    tested against, and the baseline the benchmark measures it by.

    ``clock`` stamps the sweep's start and finish in the time the delivery loop lives in, so
    that a replay of a past day still counts as running while it runs (notifications.compose
    takes an unfinished sweep started over an hour ago for dead).
    """
    today = rules.today(now)
    report = SweepReport(uuid.uuid4().hex, today, dry_run, detail_limit)
    with Session(engine) as session:  # who receives what: one snapshot for the whole sweep
        directory = Directory(session=session)
        every_item = project_id is None and _rules_changed(session, rules.fingerprint)
        ranges = _ranges(session, today, project_id, every_item, batch_size)
    if not dry_run:
        with Session(writer(engine)) as session:
            session.add(SweepRun(id=report.sweep_id, as_of=today, started_at=clock(),
                                 rules=rules.fingerprint if project_id is None else None))
            session.commit()
    lighting: Lighting | None = None
    if sql_lights:  # a dry run uses the working-day table only if it is current already
        with writer(engine).begin() as connection:
            lighting = prepare_lighting(connection, rules, today, project_id=project_id,
                                        every_item=every_item, rebuild=not dry_run)
    reclaimer = Reclaimer(engine, MILESTONES, floor=10 * batch_size) if len(ranges) > 1 else None
    for low, high in ranges:
        evaluated = report.evaluated
        with Session(writer(engine)) as session:
            lit = lighting.batch(session.connection(), after_id=low,
                                 up_to_id=high) if lighting else []
            batch = _candidates(session, today, low, high, project_id, every_item,
                                [item.id for item in lit])
            if batch or lit:
                _evaluate(session, batch, rules, today, now, directory, report, lit)
            session.rollback() if dry_run else session.commit()
        if reclaimer and high != ranges[-1][1]:  # a rolled-back UPDATE leaves them too
            reclaimer.wrote(report.evaluated - evaluated)
    with Session(writer(engine)) as session:
        _raise_order_duties(session, rules, today, now, directory, report, project_id)
        report.indicator_changes = sweep_indicators(session=session, rules=rules, now=now,
                                                    project_id=project_id)
        if dry_run:
            session.rollback()
            return report
        if report.changed:  # each change is a light_change row; the sweep, one event
            record(session, EventKind.lights_changed, at=now, actor=ACTOR,
                   data={"sweep_id": report.sweep_id, "as_of": today.isoformat(),
                         "changed": report.changed})
        # Finished: its notices can now be composed into one digest per person.
        session.execute(sa.update(SweepRun).where(col(SweepRun.id) == report.sweep_id).values(
            finished_at=clock(), evaluated=report.evaluated, changed=report.changed,
            escalated=report.escalated, notifications=report.notifications))
        session.commit()
    if report.evaluated >= STATISTICS_AFTER:  # the planner's picture of the table is stale
        with writer(engine).begin() as connection:
            refresh_statistics(connection)
    return report


def _rules_changed(session: Session, fingerprint: str) -> bool:
    """Whether the policies or the calendar changed since the last finished full sweep (or
    none ever finished): then every stored next check may be stale."""
    last = session.exec(select(SweepRun.rules).where(
        col(SweepRun.finished_at).is_not(None), col(SweepRun.rules).is_not(None))
        .order_by(col(SweepRun.finished_at).desc()).limit(1)).first()
    return last != fingerprint


def _due(today: date, project_id: int | None, every_item: bool) -> list[Any]:
    """Which items a sweep looks at: the open ones due for a look (every open one when the
    rules changed), of one project if given."""
    due = [] if every_item else [or_(col(Milestone.next_check_on).is_(None),
                                     col(Milestone.next_check_on) <= today)]
    if project_id is not None:
        due.append(col(Milestone.project_id) == project_id)
    return [col(Milestone.state).in_(list(OPEN_STATES)), col(Milestone.retired_at).is_(None),
            *due]


def _ranges(session: Session, today: date, project_id: int | None, every_item: bool,
            batch_size: int) -> list[tuple[int, int]]:
    """The sweep's batches as ranges (after_id, up_to_id] of the primary key holding at most
    ``batch_size`` of the items due, from one read of their ids: a steady sweep over a
    million items with a thousand due visits the ranges that hold them, not a thousand ranges
    of the whole table. The ids are read once, sorted once; each batch then reads its range
    again under its locks, so an item another sweep took meanwhile is not swept twice."""
    ids: list[int] = list(session.execute(
        sa.select(Milestone.id).where(*_due(today, project_id, every_item))  # type: ignore[call-overload]
        .order_by(col(Milestone.id))).scalars())
    return [(ids[i] - 1, ids[min(i + batch_size, len(ids)) - 1])
            for i in range(0, len(ids), batch_size)]


def _candidates(session: Session, today: date, after_id: int, up_to_id: int,
                project_id: int | None, every_item: bool, lit: list[int]
                ) -> list[tuple[Milestone, str, str]]:
    """The items due for a look among ids (after_id, up_to_id] (see ``_due``), but those
    ``lit`` in SQL. A range of the
    primary key, not "the next N candidates": the database walks the key in order and
    filters, so a batch costs the same early and late in a sweep, with or without
    statistics, instead of sorting every remaining candidate for each batch."""
    query = (select(Milestone, Project.code, Plan.code)
             .join(Project, col(Project.id) == Milestone.project_id)
             .join(Plan, col(Plan.id) == Project.plan_id)
             .where(col(Milestone.id) > after_id, col(Milestone.id) <= up_to_id,
                    *_due(today, project_id, every_item))
             .order_by(col(Milestone.id)))
    if lit:
        query = query.where(col(Milestone.id).not_in(lit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Milestone)
    return [(milestone, project, plan) for milestone, project, plan in session.exec(query).all()]


def _raise_order_duties(session: Session, rules: Rules, today: date, now: datetime,
                        directory: Directory, report: SweepReport,
                        project_id: int | None) -> None:
    """What an order asks of a unit besides the work: 逾期未签收 (an order not signed by the
    end of its receipt day, raised once to the unit's head and the office) and 催报 (a
    progress report missed, raised once per missed date to the unit's owners). Both go into
    the same digests as the ladder's steps."""
    raised: list[tuple[Milestone, dict[str, Any], list[str], str]] = []
    orders = receipts_overdue(session, today, now, project_id)
    milestones = {m.id: m for m in session.exec(select(Milestone).where(
        col(Milestone.id).in_([o.milestone_id for o in orders])))} if orders else {}
    for order in orders:
        raised.append((milestones[order.milestone_id],
                       {"level": order.level, "level_name": "逾期未签收",
                        "reason": "receipt_overdue", "order": order.number,
                        "overdue_workdays": order.overdue_workdays},
                       ["unit_head", "office"], f"receipt-overdue:{order.id}"))
    for milestone, due in feedback_overdue(session, rules, today, now, project_id):
        raised.append((milestone, {"level": milestone.level, "level_name": "催报",
                                   "reason": "feedback_missed", "feedback_due_on": due.isoformat(),
                                   "overdue_workdays": 0},
                       ["owner"], f"feedback:{milestone.id}:{due.isoformat()}"))
    if not raised:
        return
    codes = {m_id: (project, plan) for m_id, project, plan in session.exec(
        select(Milestone.id, Project.code, Plan.code)
        .join(Project, col(Project.id) == Milestone.project_id)
        .join(Plan, col(Plan.id) == Project.plan_id)
        .where(col(Milestone.id).in_([m.id for m, _, _, _ in raised]))).all()}
    directory.load(session, {m.unit_id for m, _, _, _ in raised})
    notices = []
    for milestone, specific, roles, key in raised:
        project, plan = codes[milestone.id]
        context = {"due_on": milestone.due_on.isoformat(), "repeat": 0,
                   "as_of": today.isoformat()} | specific
        found = directory.recipients(roles, milestone.unit_id)
        notices.append({"key": key, "kind": "notice" if "office" in roles else "reminder",
                        "roles": ROLE_SEPARATOR.join(roles), "escalation_id": None,
                        "milestone_id": milestone.id, "sweep_id": report.sweep_id,
                        "context": context, "created_at": now})
        report.notifications += len(found)
        report.escalated += 1
        report.keep(report.escalations, {"milestone_id": milestone.id, "plan": plan,
                                         "project": project, "title": milestone.title,
                                         "level": specific["level"], "repeat": 0,
                                         "reason": specific["reason"],
                                         "recipients": len(found)})
    if notices:
        bulk_insert(session, NOTICES, notices)


class _Told(NamedTuple):
    """A step due, whom it tells (its roles, and how many people they are today), and its
    level's name."""

    step: Step
    roles: tuple[str, ...]
    recipients: int
    level_name: str


@dataclass
class _Decision:
    """What the rules decided for one milestone, before anything is written."""

    milestone: Milestone | LitItem
    plan_code: str
    project_code: str
    status: Status
    update: dict[str, Any] | None        # the milestone's new values, if any changed
    change: dict[str, Any] | None        # its light_change row, if state or light changed
    steps: list[_Told]                   # each step due, and whom it tells
    orders: Orders                       # how its 督办单 are numbered and signed for
    order_levels: frozenset[int]         # the levels that issue one
    receipt_due_on: date                 # 签收 by then, for an order issued today
    level_names: dict[int, str]          # the ladder's names, for a catch-up's skipped levels


def _evaluate(session: Session, batch: list[tuple[Milestone, str, str]], rules: Rules,
              today: date, now: datetime, directory: Directory, report: SweepReport,
              lit: list[LitItem]) -> None:
    """Decide for the whole batch in Python (``lit`` items from the status SQL gave them),
    then write with a few bulk statements.

    The batch's rows are ours for the transaction (row locks on PostgreSQL, the write lock on
    SQLite), so the updates need no version check; they bump ``version`` so that an action
    that read a row before us is refused rather than overwriting the sweep.

    An item whose facts cannot be loaded, whose rules raise, or whose rows the database
    refuses is set aside (models.store.set_aside) without costing the others their work:
    loading and writing run in savepoints, halved around a failure (`isolating`).
    """
    by_id: dict[int | None, tuple[Milestone | LitItem, str, str]] = {
        m.id: (m, project_code, plan_code) for m, project_code, plan_code in batch}
    by_id |= {item.id: (item, item.project_code, item.plan_code) for item in lit}
    milestones = [m for m, _, _ in batch]
    facts, failed = isolating(session, "facts", lambda part: milestone_facts(
        session=session, milestones=part, zone=rules.zone), milestones, _id)
    statuses: dict[int, Status] = {}
    for milestone, _, plan_code in batch:
        if milestone.id in facts:
            try:
                statuses[_id(milestone)] = milestone_status(
                    facts[_id(milestone)], today, rules.calendar,
                    rules.policy(plan_code).due_soon_workdays)
            except Exception as exc:
                failed[_id(milestone)] = Failure.of("rules", exc)
    ladders, more = isolating(session, "ladder", lambda part: ladder_facts(
        session=session, milestones=part, due={_id(m): statuses[_id(m)].due_on for m in part}),
        [m for m in milestones if m.id in statuses], _id)
    failed |= more
    decisions: list[_Decision] = []
    co_units = co_unit_ids_of(session, [*ladders, *(item.id for item in lit if item.reached)])
    directory.load(session, {m.unit_id for m in milestones}.union(
        {item.unit_id for item in lit}, *co_units.values()))
    for item in lit:
        try:
            decisions.append(_decide(item, item.plan_code, item.project_code, item.status,
                                     LadderFacts(item.commitment, item.major, (),
                                                 item.acknowledged_level, None),
                                     rules, today, now, directory,
                                     co_units.get(item.id, frozenset()), item))
        except Exception as exc:
            failed[item.id] = Failure.of("rules", exc)
    for milestone, project_code, plan_code in batch:
        if milestone.id in ladders:
            try:
                decisions.append(_decide(milestone, plan_code, project_code,
                                         statuses[_id(milestone)], ladders[_id(milestone)],
                                         rules, today, now, directory,
                                         co_units.get(_id(milestone), frozenset())))
            except Exception as exc:
                failed[_id(milestone)] = Failure.of("rules", exc)
    decisions.sort(key=lambda d: _id(d.milestone))  # in id order, as the report lists
    inserted, more = isolating(
        session, "write", lambda part: _write(session, part, today, now, report.sweep_id),
        decisions, lambda d: _id(d.milestone))
    failed |= more
    for decision in decisions:
        if _id(decision.milestone) in inserted:
            _tally(report, decision, inserted[_id(decision.milestone)])
    set_aside(session=session, failures=failed, milestones={i: by_id[i][0] for i in failed},
              until=rules.calendar.add_workdays(today, 1), today=today, now=now, actor=ACTOR,
              sweep_id=report.sweep_id)
    for milestone_id, failure in sorted(failed.items()):
        report.keep(report.set_aside, {"milestone_id": milestone_id,
                                       "title": by_id[milestone_id][0].title,
                                       "stage": failure.stage, "error": str(failure)})
    report.set_aside_count += len(failed)


def _id(milestone: Milestone | LitItem) -> int:
    assert milestone.id is not None
    return milestone.id


def _decide(milestone: Milestone | LitItem, plan_code: str, project_code: str, status: Status,
            ladder: LadderFacts, rules: Rules, today: date, now: datetime,
            directory: Directory, co_unit_ids: frozenset[int] = frozenset(),
            lit: LitItem | None = None) -> _Decision:
    """What to write for one item; its level and next check as ``lit`` has them, if given."""
    policy = rules.policy(plan_code)
    steps = steps_due(status, ladder, policy, today, rules.calendar)
    if lit is not None:
        level, next_check = lit.reached, lit.next_check
    else:
        after = replace(ladder, sent=ladder.sent + tuple(Sent(s.level, s.repeat, today)
                                                         for s in steps))
        level = reached_level(status, ladder, policy)
        next_check = min((d for d in (
            next_change_on(status, today),
            next_step_on(status, after, policy, today, rules.calendar)) if d is not None),
            default=None)
    values = {"state": status.state, "light": status.light, "due_on": status.due_on,
              "late": status.late, "provisional": status.provisional,
              "claimed_on": status.claimed_on, "level": level, "next_check_on": next_check}
    update = None
    if any(getattr(milestone, k) != v for k, v in values.items()):
        update = values | {"_id": milestone.id, "version": milestone.version + 1,
                           "updated_at": now}
    change = None
    if (milestone.state, milestone.light) != (status.state, status.light):
        change = change_row(milestone, status.state, status.light, status.due_on,
                            status.overdue_workdays, now)
    told = []
    for step in steps:
        # A catch-up step tells the people of every level it covers, each once.
        roles = tuple(dict.fromkeys(role for number in (*step.skipped, step.level)
                                    for role in policy.level(number).recipients))
        told.append(_Told(step, roles, len(directory.item_recipients(
            roles, milestone.unit_id, co_unit_ids)), policy.level(step.level).name))
    return _Decision(milestone, plan_code, project_code, status, update, change, told,
                     policy.orders, frozenset(lvl.level for lvl in policy.ladder
                                              if lvl.issues_order),
                     rules.calendar.add_workdays(today, policy.orders.receipt_workdays),
                     {lvl.level: lvl.name for lvl in policy.ladder})


def _write(session: Session, decisions: list[_Decision], today: date, now: datetime,
           sweep_id: str) -> dict[int, list[_Told]]:
    """The decisions' updates and events, and their steps under the unique key: the steps
    this sweep inserted (with their ids), by milestone; only those queue notices."""
    updates = [d.update for d in decisions if d.update is not None]
    changes = [d.change for d in decisions if d.change is not None]
    if updates:
        bulk_update(session, MILESTONES, updates)
    if changes:
        bulk_insert(session, LIGHT_CHANGES, changes)
    rows = [{"milestone_id": d.milestone.id, "due_on": d.status.due_on,
             "level": told.step.level, "repeat": told.step.repeat, "reason": told.step.reason,
             "as_of": today, "recipients": told.recipients, "created_at": now}
            for d in decisions for told in d.steps]
    ids = _insert_steps(session, rows) if rows else {}
    orders = issue_orders(session, [
        _order_wanted(d, told.step, told.level_name, step_id, today) for d in decisions
        for told in d.steps
        if told.step.level in d.order_levels and told.step.repeat == 0
        and (step_id := ids.get((_id(d.milestone), told.step.level, told.step.repeat)))
        is not None], now)
    got: dict[int, list[_Told]] = {}
    notices = []
    for d in decisions:
        mine = got.setdefault(_id(d.milestone), [])
        for told in d.steps:
            step_id = ids.get((_id(d.milestone), told.step.level, told.step.repeat))
            if step_id is None:
                continue  # another sweep recorded this step: its notice is queued already
            mine.append(told)
            order = orders.get(step_id)
            notices.append(_notice(d, told, step_id, now, sweep_id,
                                   order.number if order else None))
    if notices:
        bulk_insert(session, NOTICES, notices)
    return got


def _order_wanted(d: _Decision, step: Step, level_name: str, step_id: int,
                  today: date) -> OrderWanted:
    return OrderWanted(
        milestone_id=_id(d.milestone), escalation_id=step_id, unit_id=d.milestone.unit_id,
        level=step.level, level_name=level_name, reason=step.reason, due_on=d.status.due_on,
        overdue_workdays=d.status.overdue_workdays, issued_on=today,
        receipt_due_on=d.receipt_due_on, office=d.orders.office,
        number_format=d.orders.number, feedback_workdays=d.orders.feedback_workdays)


def _notice(d: _Decision, told: _Told, step_id: int, now: datetime, sweep_id: str,
            order_number: str | None) -> dict[str, Any]:
    step, status = told.step, d.status
    # Only what its step row does not hold (the composer reads due date, level, repeat, reason
    # and day from the step: notifications.compose._said), and none of the item's names, read
    # from its rows when the digest is composed: a million of these are written at once.
    context = {"light": status.light, "level_name": told.level_name,
               "overdue_workdays": status.overdue_workdays} | (
                   {"order": order_number} if order_number else {}) | (
                   {"skipped": [d.level_names[n] for n in step.skipped]} if step.skipped else {})
    return {"key": f"escalation:{step_id}", "kind": NOTIFICATION_KIND.get(step.level, "leader"),
            "roles": ROLE_SEPARATOR.join(told.roles), "escalation_id": step_id,
            "milestone_id": d.milestone.id, "sweep_id": sweep_id, "context": context,
            "created_at": now}


def _tally(report: SweepReport, d: _Decision, inserted: list[_Told]) -> None:
    """Count a decision once it is written."""
    milestone, status = d.milestone, d.status
    counter = report.projects.setdefault(f"{d.plan_code}/{d.project_code}", Counter())
    report.evaluated += 1
    report.provisional |= status.provisional
    counter["evaluated"] += 1
    if d.change is not None:
        counter["changed"] += 1
        report.changed += 1
        report.keep(report.changes, {"milestone_id": milestone.id, "plan": d.plan_code,
                                     "project": d.project_code, "title": milestone.title,
                                     "from": milestone.state, "to": status.state,
                                     "light": status.light,
                                     "due_on": status.due_on.isoformat()})
    for told in inserted:
        step = told.step
        counter["escalations"] += 1
        report.escalated += 1
        report.notifications += told.recipients
        report.keep(report.escalations, {"milestone_id": milestone.id, "plan": d.plan_code,
                                         "project": d.project_code, "title": milestone.title,
                                         "level": step.level, "repeat": step.repeat,
                                         "reason": step.reason,
                                         "recipients": told.recipients})


STEP_COLUMNS = ["milestone_id", "due_on", "level", "repeat", "reason", "as_of", "recipients",
                "created_at"]


def _insert_steps(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, int, int], int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the steps this sweep got, by (milestone,
    level, repeat). On PostgreSQL the rows go in by COPY to a temporary table first: a
    thousand-row INSERT statement costs more to build than to run."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS step_in (milestone_id int, due_on date, level int, "
            '"repeat" int, reason varchar(20), as_of date, recipients int, '
            "created_at timestamptz) ON COMMIT DELETE ROWS")
        # Emptied at commit, but a batch split around a bad item fills it more than once.
        connection.exec_driver_sql("DELETE FROM step_in")
        bulk_insert(session, STEPS_IN, rows)
        names = ", ".join(f'"{c}"' for c in STEP_COLUMNS)
        result = connection.exec_driver_sql(
            f"INSERT INTO escalation ({names}) SELECT {names} FROM step_in "
            'ON CONFLICT (milestone_id, due_on, level, "repeat") DO NOTHING '
            'RETURNING id, milestone_id, level, "repeat"')
    else:
        result = connection.execute(
            sqlite.insert(ESCALATIONS)
            .on_conflict_do_nothing(index_elements=["milestone_id", "due_on", "level", "repeat"])
            .returning(ESCALATIONS.c.id, ESCALATIONS.c.milestone_id, ESCALATIONS.c.level,
                       ESCALATIONS.c.repeat), rows)
    return {(milestone, level, repeat): step_id for step_id, milestone, level, repeat in result}
