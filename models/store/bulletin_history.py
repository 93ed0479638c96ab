"""Loading a bulletin's history: everything recorded before the end of its period, set-based.

A handful of queries whatever the size (milestones, their events, escalation steps, indicators
with targets and readings, people's names), filtered by plan when the bulletin is for one plan
and by time, so later changes never reach a past bulletin's figures.

What a plan file says is taken as known from the start of the plan when it came with the plan's
first import (plans are loaded long after they were published, and replaying a week of 2019
must see the plan of 2019); a milestone added by a later import counts from that import on, and
one retired by an import stops counting from then. Values printed in the plan are known from
the start in the same way; values reported by people count from when they were reported.

Names and assignments come with what later imports (and edits of people) changed in them, the
``[old, new]`` pairs of the ``*.updated`` events: a milestone's title, unit and commitment, its
project's name, a unit's name, the plan's name and people's names. The figures read each as it
stood at the end of the period they look at (models/rules/bulletin/history.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select

from config.plan_file import Commitment
from models.rules.bulletin.history import (
    Happened,
    History,
    IndicatorRecord,
    MilestoneRecord,
    Revision,
    UnitNames,
    value_at,
)
from models.rules.rulebook import Rules
from models.tables.columns import saved_id
from models.tables.escalation import EscalationStep
from models.tables.event import Event
from models.tables.event_kinds import FACT_KINDS, EventKind
from models.tables.indicator import Indicator, IndicatorReading, IndicatorTarget, ReadingSource
from models.tables.milestone import Milestone
from models.tables.person import Person
from models.tables.plan import Plan, Project
from models.tables.unit import Unit

# The scope of a bulletin across every plan. People read and type one name for it, 全部规划: the
# words its bulletins' titles carry, on the command line (`--plan 全部规划`), the pages and the
# bulletins alike. "*" is only the key it is stored and linked under (never a plan code, which
# is a slug); it is not the name, because an unquoted * is a wildcard in every shell.
ALL_PLANS = "*"
ALL_PLANS_NAME = "全部规划"
KINDS = [*FACT_KINDS, EventKind.extension_requested, EventKind.acknowledged]


class UnknownPlan(ValueError):
    pass


def load_history(*, session: Session, rules: Rules, plan: str | None,
                 until: datetime) -> History:
    """``plan`` None: every plan. ``until`` is exclusive."""
    plan_row = None
    if plan is not None:
        plan_row = session.exec(select(Plan).where(Plan.code == plan)).first()
        if plan_row is None:
            known = ", ".join(session.exec(select(Plan.code).order_by(Plan.code))) or "none"
            raise UnknownPlan(f"unknown plan {plan!r} (plans: {known})")

    def in_scope(query: Any) -> Any:
        return query if plan_row is None else query.where(col(Plan.id) == plan_row.id)

    first_import: dict[int, datetime] = dict(session.exec(in_scope(
        select(col(Plan.id), func.min(Event.at)).join(Plan, col(Plan.id) == Event.plan_id)
        .where(Event.kind == EventKind.plan_created).group_by(col(Plan.id)))).all())
    created = dict(session.exec(in_scope(
        select(Event.milestone_id, Event.at).join(Plan, col(Plan.id) == Event.plan_id)
        .where(Event.kind == EventKind.milestone_created))).all())

    def known_since(milestone_id: int, plan_id: int, row_created: datetime) -> datetime | None:
        since = created.get(milestone_id, row_created)
        return None if since == first_import.get(plan_id) else since

    # Select: what select() builds, for more columns than it is typed for, or for rows keyed
    # by ids (which SQLModel types as Optional, for rows not yet saved).
    rows = session.exec(in_scope(
        Select(col(Milestone.id), col(Plan.id), col(Plan.code), col(Project.id),
               col(Project.name), col(Milestone.title), col(Unit.code), col(Unit.name),
               col(Milestone.planned_due_on), col(Milestone.commitment),
               col(Milestone.created_at), col(Milestone.retired_at), col(Milestone.assumption))
        .join(Project, col(Project.id) == Milestone.project_id)
        .join(Plan, col(Plan.id) == Project.plan_id)
        .join(Unit, col(Unit.id) == Milestone.unit_id)
        .order_by(col(Plan.code), col(Project.seq), col(Milestone.seq)))).all()
    unit_names: Select[*tuple[Any, ...]] = Select(col(Unit.id), col(Unit.code), col(Unit.name))
    units: dict[int, tuple[str, str]] = {
        unit_id: (code, name) for unit_id, code, name in session.exec(unit_names)}
    revised = _revisions(session, in_scope, units)
    milestones = [MilestoneRecord(
        id=m_id, plan=plan_code, project=project, title=title, unit_code=unit_code,
        unit_name=unit_name, planned_due_on=planned, binding=commitment == Commitment.binding,
        known_since=known_since(m_id, plan_id, row_created), retired_at=retired,
        revisions=_in_order(revised.get(("milestone", m_id), [])
                            + revised.get(("project", project_id), [])),
        assumption=assumption, unmarked=commitment is None)
        for m_id, plan_id, plan_code, project_id, project, title, unit_code, unit_name, planned,
        commitment, row_created, retired, assumption in rows]
    milestones = [m for m in milestones if m.known_since is None or m.known_since < until]

    events: dict[int, list[Happened]] = defaultdict(list)
    query: Select[*tuple[Any, ...]] = (
        Select(col(Event.milestone_id), col(Event.kind), col(Event.at), col(Event.actor_id),
               col(Event.reason), col(Event.data))
        .where(col(Event.kind).in_(KINDS), col(Event.at) < until,
               col(Event.milestone_id).is_not(None))
        .order_by(col(Event.at), col(Event.id)))
    if plan_row is not None:
        query = query.where(col(Event.plan_id) == plan_row.id)
    for milestone_id, kind, at, actor_id, reason, data in session.exec(query):
        events[milestone_id].append(Happened(
            kind=EventKind(kind), at=at, on=rules.today(at), actor_id=actor_id,
            reason=reason, data=data))

    steps: dict[int, list[tuple[int, Any, Any]]] = defaultdict(list)
    for milestone_id, level, as_of, due_on in session.exec(in_scope(
            select(col(EscalationStep.milestone_id), col(EscalationStep.level),
                   col(EscalationStep.as_of), col(EscalationStep.due_on))
            .join(Milestone, col(Milestone.id) == EscalationStep.milestone_id)
            .join(Project, col(Project.id) == Milestone.project_id)
            .join(Plan, col(Plan.id) == Project.plan_id)
            .where(col(EscalationStep.as_of) < rules.today(until)))):
        steps[milestone_id].append((level, as_of, due_on))

    person_names: Select[*tuple[Any, ...]] = Select(col(Person.id), col(Person.name))
    names = {person_id: value_at(name, _in_order(revised.get(("person", person_id), [])),
                                 "name", until)
             for person_id, name in session.exec(person_names)}
    scope_name = ALL_PLANS_NAME if plan_row is None else value_at(
        plan_row.name, _in_order(revised.get(("plan", saved_id(plan_row)), [])), "name", until)
    plan_rows: Select[*tuple[Any, ...]] = Select(col(Plan.id), col(Plan.code), col(Plan.name))
    plan_names = {code: value_at(name, _in_order(revised.get(("plan", plan_id), [])), "name",
                                 until)
                  for plan_id, code, name in session.exec(in_scope(plan_rows))}
    return History(scope=plan or ALL_PLANS, scope_name=scope_name, plan_names=plan_names,
                   until=until, milestones=milestones, events=dict(events), steps=dict(steps),
                   indicators=_indicators(session, in_scope, until), names=names,
                   units={code: UnitNames(name, _in_order(revised.get(("unit", unit_id), [])))
                          for unit_id, (code, name) in units.items()})


# What each *.updated event's changed fields are to the figures: (subject, field) → the name
# of the revised value; a milestone moved to another unit is revised by the unit's code.
REVISED = {("milestone", "title"): "title", ("milestone", "unit_id"): "unit_code",
           ("milestone", "commitment"): "binding", ("project", "name"): "project",
           ("unit", "name"): "name", ("plan", "name"): "name", ("person", "name"): "name"}


def _revisions(session: Session, in_scope: Any, units: dict[int, tuple[str, str]]
                         ) -> dict[tuple[str, int], list[tuple[int, Revision]]]:
    """Every revision of a name or assignment the figures read, by (subject, id), each with
    its event's id so that revisions of one instant keep the order they were made in."""
    subjects = {"milestone": col(Event.milestone_id), "project": col(Event.project_id),
                "unit": col(Event.unit_id), "plan": col(Event.plan_id),
                "person": col(Event.person_id)}
    revised: dict[tuple[str, int], list[tuple[int, Revision]]] = defaultdict(list)
    for subject, column in subjects.items():
        query: Select[*tuple[Any, ...]] = Select(
            col(Event.id), col(Event.at), column, col(Event.data)).where(
            Event.kind == f"{subject}.updated", col(column).is_not(None))
        if subject in ("milestone", "project", "plan"):
            query = in_scope(query.join(Plan, col(Plan.id) == Event.plan_id))
        for event_id, at, subject_id, data in session.exec(query):
            for name, (old, _) in data.get("changes", {}).items():
                field = REVISED.get((subject, name))
                if field == "unit_code":
                    old = units.get(old, (None,))[0]
                elif field == "binding":
                    old = old == Commitment.binding.value
                if field is not None and old is not None:
                    revised[(subject, subject_id)].append((event_id, Revision(at, field, old)))
    return revised


def _in_order(revisions: list[tuple[int, Revision]]) -> tuple[Revision, ...]:
    return tuple(r for _, r in sorted(revisions, key=lambda pair: (pair[1].at, pair[0])))


def _indicators(session: Session, in_scope: Any, until: datetime) -> list[IndicatorRecord]:
    rows = session.exec(in_scope(
        select(Indicator, Plan.code, Unit.name)
        .join(Plan, col(Plan.id) == Indicator.plan_id)
        .join(Project, col(Project.id) == Indicator.project_id, isouter=True)
        .join(Unit, col(Unit.id) == Project.unit_id, isouter=True)
        .where(col(Indicator.retired_at).is_(None) | (col(Indicator.retired_at) >= until))
        .order_by(col(Plan.code), col(Indicator.seq)))).all()
    ids = [indicator.id for indicator, _, _ in rows]
    targets: dict[int, dict[int, tuple[float | None, str | None]]] = defaultdict(dict)
    qualifiers: dict[int, dict[int, Any]] = defaultdict(dict)
    readings: dict[int, list[tuple[Any, float]]] = defaultdict(list)
    if ids:
        for t in session.exec(select(IndicatorTarget).where(
                col(IndicatorTarget.indicator_id).in_(ids))):
            targets[t.indicator_id][t.year] = (t.value, t.text)
            qualifiers[t.indicator_id][t.year] = t.qualifier
        for r in session.exec(select(IndicatorReading).where(
                col(IndicatorReading.indicator_id).in_(ids),
                col(IndicatorReading.value).is_not(None),
                (col(IndicatorReading.source) == ReadingSource.plan)
                | (col(IndicatorReading.created_at) < until))
                .order_by(col(IndicatorReading.as_of), col(IndicatorReading.id))):
            if r.value is not None:  # always, by the query; the column is nullable
                readings[r.indicator_id].append((r.as_of, r.value))
    return [IndicatorRecord(
        id=i.id, plan=plan_code, code=i.code, seq=i.seq, name=i.name,
        unit_name=unit_name, measure=i.measure, binding=i.commitment == Commitment.binding,
        direction=i.direction.value, baseline_year=i.baseline_year,
        baseline_value=i.baseline_value, targets=targets[i.id],
        target_qualifiers=qualifiers[i.id], readings=readings[i.id],
        unmarked=i.commitment is None)
        for i, plan_code, unit_name in rows]
