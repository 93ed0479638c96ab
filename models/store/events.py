"""Writing events, and asking which subjects have a history beyond plan imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from models.tables.event import Event, is_import_kind
from models.tables.event_kinds import EventKind, kind_of, validated


def record(session: Session, kind: EventKind | str, *, at: datetime, actor: str,
           actor_id: int | None = None, reason: str | None = None,
           data: dict[str, Any] | None = None, **subjects: int | None) -> Event:
    """Add an event of ``kind`` to the session; its data is checked against the kind's payload
    (models.tables.event_kinds), so a malformed event is refused before anything is written."""
    event = Event(at=at, kind=kind_of(kind).value, actor=actor, actor_id=actor_id,
                  reason=reason, data=validated(kind, data or {}), **subjects)
    session.add(event)
    return event


def ids_with_history(session: Session, column: str, ids: list[int]) -> set[int]:
    """Which of ``ids`` (of ``Event.<column>``) have events other than plan-import ones."""
    if not ids:
        return set()
    subject = getattr(Event, column)
    found: set[int] = set()
    for start in range(0, len(ids), _IN_CHUNK):  # bound the bound parameters of one statement
        rows = session.exec(select(subject, Event.kind).where(
            subject.in_(ids[start:start + _IN_CHUNK])).distinct()).all()
        found |= {row[0] for row in rows if not is_import_kind(row[1])}
    return found


_IN_CHUNK = 5000
