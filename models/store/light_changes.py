"""Reading an item's light changes: the events people's actions wrote, and the narrow rows the
sweep writes for what time alone changed (models/tables/light_change.py), as one history.

A row is read back as the ``milestone.status_changed`` event it stands for, unsaved, with the
negative of its row id as its id: every reader of history (the pages, the API, the digests)
keeps reading events, and an id never collides with a real event's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.store.sql_lights import LitItem
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.light_change import LightChange
from models.tables.milestone import Milestone

SWEEP = "system:sweep"


def change_row(milestone: Milestone | LitItem, state: str, light: str, due_on: Any,
               overdue_workdays: int, at: datetime) -> dict[str, Any]:
    """The row a sweep writes when time turned ``milestone`` to ``state`` and ``light``."""
    return {"milestone_id": milestone.id, "at": at, "state_from": milestone.state,
            "state_to": state, "light_from": milestone.light, "light_to": light,
            "due_on": due_on, "overdue_workdays": overdue_workdays}


def as_event(change: LightChange, project_id: int | None = None,
             unit_id: int | None = None) -> Event:
    return Event(id=-(change.id or 0), at=change.at, kind=EventKind.status_changed,
                 actor=SWEEP, reason="sweep", milestone_id=change.milestone_id,
                 project_id=project_id, unit_id=unit_id,
                 data={"state": [change.state_from, change.state_to],
                       "light": [change.light_from, change.light_to],
                       "due_on": change.due_on.isoformat(),
                       "overdue_workdays": change.overdue_workdays})


def changes_as_events(session: Session, milestone_ids: Iterable[int]) -> list[Event]:
    """The sweep's light changes of these items, as events, oldest first."""
    ids = sorted(set(milestone_ids))
    if not ids:
        return []
    # Sorted here, not by the database: an ORDER BY at tempts SQLite to walk the whole table
    # along ix_light_change_at instead of looking the items up by theirs.
    found = session.exec(select(LightChange).where(col(LightChange.milestone_id).in_(ids))).all()
    return [as_event(c) for c in sorted(found, key=lambda c: (c.at, c.id or 0))]


def project_changes_as_events(session: Session, project_id: int, limit: int) -> list[Event]:
    """A project's newest ``limit`` light changes by the sweep, as events, newest first."""
    rows = session.exec(
        select(LightChange, Milestone.unit_id)
        .join(Milestone, col(Milestone.id) == LightChange.milestone_id)
        .where(Milestone.project_id == project_id)
        .order_by(col(LightChange.at).desc(), col(LightChange.id).desc()).limit(limit)).all()
    return [as_event(c, project_id, unit_id) for c, unit_id in rows]


def merged(events: Sequence[Event], changes: Sequence[Event], *,
           newest_first: bool = False) -> list[Event]:
    """Events and light changes in one order of time; at the same instant (one sweep's) the
    change comes first, as the sweep finds the light before it raises a step for it."""
    def key(e: Event) -> tuple[datetime, int, int]:
        return e.at, int(e.id is None or e.id >= 0), abs(e.id or 0)
    return sorted([*events, *changes], key=key, reverse=newest_first)


def history_of(session: Session, milestone_ids: Iterable[int | None], *,
               kinds: Sequence[str] | None = None, until: datetime | None = None,
               newest_first: bool = False) -> list[Event]:
    """These items' events (of ``kinds``, if given) and light changes (when their kinds
    include ``milestone.status_changed``), up to ``until`` if given, in one order of time."""
    ids = sorted({i for i in milestone_ids if i is not None})
    if not ids:
        return []
    query = select(Event).where(col(Event.milestone_id).in_(ids))
    if kinds is not None:
        query = query.where(col(Event.kind).in_(kinds))
    if until is not None:
        query = query.where(col(Event.at) <= until)
    changes = changes_as_events(session, ids) if kinds is None or \
        EventKind.status_changed in kinds else []
    return merged(session.exec(query).all(),
                  [c for c in changes if until is None or c.at <= until],
                  newest_first=newest_first)


def light_changes_since(since: datetime) -> sa.Select[Any]:
    """(milestone_id, at, old light, new light) of the sweep's changes after ``since``."""
    query: sa.Select[Any] = sa.select(  # type: ignore[call-overload]
        LightChange.milestone_id, LightChange.at, LightChange.light_from,
        LightChange.light_to).where(col(LightChange.at) > since)
    return query
