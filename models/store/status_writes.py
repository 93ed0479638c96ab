"""Writing a freshly computed status onto a milestone, and recording the change as a row."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from models.rules.status import Status
from models.store.sql_lights import LitItem
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.milestone import Milestone


def write_status(*, session: Session, milestone: Milestone, status: Status, level: int,
                 next_check_on: date | None, now: datetime, actor: str, why: str,
                 extra: dict[str, Any] | None = None) -> bool:
    """Store ``status`` if nobody else wrote the milestone since it was read.

    ``extra`` holds fields an office action sets (major, acknowledged_level, snoozed_until),
    written in the same guarded statement.
    Returns False when the row changed under us (its ``version`` moved): the caller's view is
    stale and it must not act on it; the other writer's sweep or action has done the work.
    A change of state or light is recorded as a ``milestone.status_changed`` event.
    """
    values = {"state": status.state, "light": status.light, "due_on": status.due_on,
              "late": status.late, "provisional": status.provisional, "level": level,
              "claimed_on": status.claimed_on,
              "next_check_on": next_check_on} | (extra or {})
    if all(getattr(milestone, k) == v for k, v in values.items()):
        return True
    before, version = (milestone.state, milestone.light), milestone.version
    result = session.exec(
        update(Milestone)
        .where(col(Milestone.id) == milestone.id, col(Milestone.version) == version)
        .values(**values, version=version + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    if before != (status.state, status.light):
        session.add(Event(**status_event(milestone, status, now, actor, why)))
    # The row is written; bring the loaded object in line without marking it dirty, or the ORM
    # would write it again without the version check.
    for name, value in (values | {"version": version + 1}).items():
        set_committed_value(milestone, name, value)
    return True


def status_event(milestone: Milestone | LitItem, status: Status, now: datetime, actor: str,
                 why: str) -> dict[str, Any]:
    """The row that records a change of state or light: when, from, to and why."""
    return {"at": now, "kind": EventKind.status_changed, "actor": actor, "reason": why,
            "milestone_id": milestone.id, "project_id": milestone.project_id,
            "unit_id": milestone.unit_id,
            "data": {"state": [milestone.state, status.state],
                     "light": [milestone.light, status.light],
                     "due_on": status.due_on.isoformat(),
                     "overdue_workdays": status.overdue_workdays}}
