"""Milestone lights at any day, computed from the facts without writing anything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.rules.escalation import reached_level
from models.rules.rulebook import Rules
from models.rules.status import milestone_status
from models.store.milestone_facts import ladder_facts, milestone_facts
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from models.tables.unit import Unit


def milestone_lights(*, session: Session, rules: Rules, now: datetime, plan: str | None = None,
                     unit: str | None = None,
                     milestone_id: int | None = None) -> list[dict[str, Any]]:
    today = rules.today(now)
    query = (select(Milestone, Project, Plan.code, Unit)
             .join(Project, col(Project.id) == Milestone.project_id)
             .join(Plan, col(Plan.id) == Project.plan_id)
             .join(Unit, col(Unit.id) == Milestone.unit_id)
             .where(col(Milestone.retired_at).is_(None))
             .order_by(Plan.code, Project.seq, Milestone.seq))
    if plan:
        query = query.where(Plan.code == plan)
    if unit:
        query = query.where(Unit.code == unit)
    if milestone_id is not None:
        query = query.where(Milestone.id == milestone_id)
    rows = session.exec(query).all()
    milestones = [m for m, _, _, _ in rows]
    facts = milestone_facts(session=session, milestones=milestones, zone=rules.zone)
    statuses = {m.id: milestone_status(facts[m.id], today, rules.calendar,  # type: ignore[index]
                                       rules.policy(code).due_soon_workdays)
                for m, _, code, _ in rows}
    ladders = ladder_facts(session=session, milestones=milestones,
                           due={i: s.due_on for i, s in statuses.items()})
    out = []
    for milestone, project, plan_code, owner in rows:
        status = statuses[milestone.id]  # type: ignore[index]
        level = reached_level(status, ladders[milestone.id],  # type: ignore[index]
                              rules.policy(plan_code))
        out.append({
            "milestone_id": milestone.id, "plan": plan_code, "project": project.code,
            "project_name": project.name, "title": milestone.title, "unit": owner.name,
            "unit_code": owner.code, "due_on": status.due_on.isoformat(),
            "planned_due_on": milestone.planned_due_on.isoformat(), "state": status.state.value,
            "light": status.light.value, "overdue_workdays": status.overdue_workdays,
            "late": status.late, "level": level, "acknowledged_level": milestone.acknowledged_level,
            "commitment": milestone.commitment.value, "provisional": status.provisional})
    return out
