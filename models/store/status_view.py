"""Milestone lights at any day, computed from the facts without writing anything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from models.rules.escalation import reached_level
from models.rules.rulebook import Rules
from models.rules.status import milestone_status
from models.store.milestone_facts import ladder_facts, milestone_facts
from models.store.set_aside import isolating
from models.tables.co_unit import MilestoneCoUnit
from models.tables.columns import saved_id
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from models.tables.unit import Unit


def milestone_lights(*, session: Session, rules: Rules, now: datetime, plan: str | None = None,
                     unit: str | None = None, milestone_id: int | None = None,
                     project_id: int | None = None,
                     with_co_units: bool = False) -> list[dict[str, Any]]:
    """Each item's row with its light as of ``now``; of ``unit``: the items it leads, and
    with ``with_co_units`` also those it co-handles (协办)."""
    today = rules.today(now)
    query = (select(Milestone, Project, Plan.code, Unit)
             .join(Project, col(Project.id) == Milestone.project_id)
             .join(Plan, col(Plan.id) == Project.plan_id)
             .join(Unit, col(Unit.id) == Milestone.unit_id)
             .where(col(Milestone.retired_at).is_(None))
             .order_by(col(Plan.code), col(Project.seq), col(Milestone.seq)))
    if plan:
        query = query.where(Plan.code == plan)
    if unit and with_co_units:
        co_handled = (select(MilestoneCoUnit.milestone_id)
                      .join(Unit, col(Unit.id) == MilestoneCoUnit.unit_id)
                      .where(Unit.code == unit))
        query = query.where(or_(Unit.code == unit, col(Milestone.id).in_(co_handled)))
    elif unit:
        query = query.where(Unit.code == unit)
    if milestone_id is not None:
        query = query.where(Milestone.id == milestone_id)
    if project_id is not None:
        query = query.where(Milestone.project_id == project_id)
    rows = session.exec(query).all()
    milestones = [m for m, _, _, _ in rows]
    # An item whose events cannot be read (models.store.set_aside) shows as the sweep last
    # wrote it, rather than taking every other item's lights down with it.
    facts, _ = isolating(session, "facts", lambda part: milestone_facts(
        session=session, milestones=part, zone=rules.zone), milestones, _id)
    statuses = {m.id: milestone_status(facts[m.id], today, rules.calendar,
                                       rules.policy(code).due_soon_workdays)
                for m, _, code, _ in rows if m.id in facts}
    ladders = ladder_facts(session=session, milestones=[m for m in milestones
                                                        if m.id in statuses],
                           due={i: s.due_on for i, s in statuses.items()})
    out = []
    for milestone, project, plan_code, owner in rows:
        status = statuses.get(saved_id(milestone))
        row = {"due_on": milestone.due_on.isoformat(), "state": milestone.state.value,
               "light": milestone.light.value, "overdue_workdays": 0, "late": milestone.late,
               "level": milestone.level, "provisional": milestone.provisional}
        if status is not None:
            row = {"due_on": status.due_on.isoformat(), "state": status.state.value,
                   "light": status.light.value, "overdue_workdays": status.overdue_workdays,
                   "late": status.late, "provisional": status.provisional,
                   "level": reached_level(status, ladders[saved_id(milestone)],
                                          rules.policy(plan_code))}
        out.append({
            "milestone_id": milestone.id, "plan": plan_code, "project": project.code,
            "project_id": project.id,
            "project_name": project.name, "title": milestone.title, "unit": owner.name,
            "unit_code": owner.code, "due_on": row["due_on"],
            "planned_due_on": milestone.planned_due_on.isoformat(), "state": row["state"],
            "light": row["light"], "overdue_workdays": row["overdue_workdays"],
            "late": row["late"], "level": row["level"],
            "acknowledged_level": milestone.acknowledged_level,
            "commitment": milestone.commitment.value if milestone.commitment else None,
            "assumption": milestone.assumption, "provisional": row["provisional"]})
    return out


def _id(milestone: Milestone) -> int:
    assert milestone.id is not None
    return milestone.id
