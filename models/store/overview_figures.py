"""The overview's figures from stored rows, in three queries whatever the number of items.

1. Lights per plan and unit: the light the sweep last stored on each current item (the list
   filters on the same column, so a count and the list behind it agree), with how many items
   are due so far and how many of those were done on time.
2. and 3. Red items on past days: every item's plan, unit and light now, and the light changes
   recorded since the first day shown (``milestone.status_changed`` events of people's
   actions, ``light_change`` rows of the sweep's), folded by
   models.rules.light_trend: the cost follows the items and what changed in twelve weeks, not
   the whole history.

On time (按时完成率): of the items due by today or already done (claimed or closed; waived
ones are left out), the share done, lateness measured at the claim (models.rules.status), on or
before the due date that counts.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlmodel import Session, col, select

from models.rules.light_trend import red_counts
from models.store.light_changes import light_changes_since
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.light_change import LightChange
from models.tables.milestone import Milestone, MilestoneState
from models.tables.plan import Plan, Project
from models.tables.unit import Unit

DONE = (MilestoneState.claimed, MilestoneState.closed)


def light_counts(*, session: Session, today: date) -> list[dict[str, Any]]:
    """One row per plan, unit and light: {plan, plan_name, unit, unit_name, light, count,
    due, on_time}."""
    done = col(Milestone.state).in_(DONE)
    due = (done | (col(Milestone.due_on) <= today)) & (Milestone.state != MilestoneState.waived)
    query = (sa_select(col(Plan.code), col(Plan.name), col(Unit.code), col(Unit.name),
                       col(Milestone.light),
                       func.count(), func.sum(case((due, 1), else_=0)),
                       func.sum(case((done & ~col(Milestone.late), 1), else_=0)))
             .join(Project, col(Project.id) == Milestone.project_id)
             .join(Plan, col(Plan.id) == Project.plan_id)
             .join(Unit, col(Unit.id) == Milestone.unit_id)
             .where(col(Milestone.retired_at).is_(None))
             .group_by(Plan.code, Plan.name, Unit.code, Unit.name, Milestone.light)
             .order_by(Plan.code, Unit.code))
    names = ("plan", "plan_name", "unit", "unit_name", "light", "count", "due", "on_time")
    return [dict(zip(names, (plan, plan_name, unit, unit_name, str(light), int(count),
                             int(due or 0), int(on_time or 0)), strict=True))
            for plan, plan_name, unit, unit_name, light, count, due, on_time
            in session.execute(query)]


def red_trend(*, session: Session, ends: Sequence[datetime]) -> dict[Hashable, list[int]]:
    """(plan code, unit code) → the number of its current items red at each of ``ends``: the
    items' current lights and only their changes since ``ends[0]`` (models.rules.light_trend)."""
    group_of: dict[int, Hashable] = {}
    lights: dict[int, str] = {}
    for milestone_id, plan, unit, light in session.exec(
            select(Milestone.id, Plan.code, Unit.code, Milestone.light)
            .join(Project, col(Project.id) == Milestone.project_id)
            .join(Plan, col(Plan.id) == Project.plan_id)
            .join(Unit, col(Unit.id) == Milestone.unit_id)
            .where(col(Milestone.retired_at).is_(None))):
        if milestone_id is not None:
            group_of[milestone_id], lights[milestone_id] = (plan, unit), str(light)
    # The two lights read in SQL (a JSON path on both databases): parsing each event's JSON
    # in Python was most of the page's time.
    data = Event.__table__.c.data  # type: ignore[attr-defined]
    events = session.execute(
        sa_select(col(Event.milestone_id), col(Event.at), data[("light", 0)].as_string(),
                  data[("light", 1)].as_string())
        .where(col(Event.kind) == EventKind.status_changed,
               col(Event.milestone_id).is_not(None), col(Event.at) > ends[0])
        .order_by(col(Event.milestone_id), col(Event.at), col(Event.id)))
    swept = session.execute(light_changes_since(ends[0]).order_by(
        col(LightChange.milestone_id), col(LightChange.at), col(LightChange.id)))
    # The actions' changes (events) and time's (light_change rows), both by item then time.
    changes = heapq.merge(((i, at, old, new) for i, at, old, new in events),
                          ((i, at, old, new) for i, at, old, new in swept),
                          key=lambda change: (change[0], change[1]))
    return red_counts(changes, group_of, ends, lights)
