"""Events are typed: an unknown kind or a malformed payload is refused when written and named
when read, and what is stored keeps the shape it always had."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models.store.events import record
from models.tables.event import Event
from models.tables.event_kinds import EventInvalid, EventKind, ExtensionDecided
from tests.conftest import snapshot

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_a_kind_equals_its_stored_text() -> None:
    assert EventKind.extension_decided == "milestone.extension_decided"
    assert len({k.value for k in EventKind}) == len(EventKind)


def test_an_unknown_kind_is_refused_and_nothing_is_written(engine: sa.Engine,
                                                          session: Session) -> None:
    before = snapshot(engine)
    with pytest.raises(EventInvalid, match="unknown event kind 'milestone.done_claimd'"):
        record(session, "milestone.done_claimd", at=AT, actor="t", data={"evidence": "x"})
    session.commit()
    assert snapshot(engine) == before


@pytest.mark.parametrize(("kind", "data", "problem"), [
    (EventKind.done_claimed, {}, "evidence: Field required"),
    (EventKind.extension_decided, {"approved": True, "request_id": 1, "requested_on": "2025-13-01",
                                   "new_due_on": "2026-01-31", "previous_due_on": "2025-12-31"},
     "requested_on"),
    (EventKind.snoozed, {"until": "2026-01-05", "by": "me"}, "by: Extra inputs"),
    (EventKind.closed, {"note": "x"}, "note: Extra inputs"),
])
def test_a_malformed_payload_is_refused_naming_the_kind_and_field(
        session: Session, kind: EventKind, data: dict[str, object], problem: str) -> None:
    with pytest.raises(EventInvalid) as refused:
        record(session, kind, at=AT, actor="t", milestone_id=1, data=data)
    assert str(refused.value).startswith(kind.value) and problem in str(refused.value)


def test_what_is_stored_keeps_its_shape_and_reads_back_typed(engine: sa.Engine,
                                                            session: Session) -> None:
    data = {"approved": True, "request_id": 7, "requested_on": "2025-12-01",
            "new_due_on": "2026-01-31", "previous_due_on": "2025-12-31"}
    event = record(session, EventKind.extension_decided, at=AT, actor="t", milestone_id=1,
                   data=data)
    session.commit()
    with engine.connect() as connection:
        stored = connection.execute(sa.select(Event.__table__.c.data)).scalar_one()
    assert stored == data
    decided = session.get(Event, event.id).read(ExtensionDecided)
    assert decided.new_due_on == date(2026, 1, 31) and decided.approved is True


def test_a_malformed_row_is_named_where_it_is_read(engine: sa.Engine, session: Session) -> None:
    with engine.begin() as connection:  # as an old version or a hand-made fix might have left it
        connection.execute(sa.insert(Event.__table__).values(
            at=AT, kind="milestone.extension_decided", actor="t", milestone_id=1,
            data={"approved": True}))
    row = session.get(Event, 1)
    with pytest.raises(EventInvalid, match=r"event 1 \(milestone.extension_decided\): "
                                           r"requested_on: Field required"):
        row.read(ExtensionDecided)
