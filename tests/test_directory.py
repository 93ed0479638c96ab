"""Who a sweep tells: the directory reads a unit's people when a batch first names the unit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from models.store.directory import Directory
from models.tables.person import Person
from models.tables.unit import Unit
from tests.world import build_world


def units(session: Session) -> dict[str, int]:
    return {u.code: u.id for u in session.exec(select(Unit))}  # type: ignore[misc]


def emails(found: list) -> set[str]:  # type: ignore[type-arg]
    return {r.email for r in found}


def test_each_role_is_found_in_the_units_a_batch_names(session: Session) -> None:
    build_world(session)
    ids = units(session)
    directory = Directory(session=session)
    directory.load(session, [ids["demo-mzj"]])
    mzj = ids["demo-mzj"]
    assert emails(directory.recipients(["owner"], mzj)) == {"wang.fang@duban.example",
                                                          "chen.gang@duban.example"}
    assert emails(directory.recipients(["unit_head"], mzj)) == {"chen.gang@duban.example"}
    assert emails(directory.recipients(["office", "leader"], mzj)) == {
        "zhou.min@duban.example", "zhao@duban.example"}  # the leader in charge of everything
    with pytest.raises(LookupError, match="not loaded"):  # never silently no one
        directory.recipients(["owner"], ids["demo-jd"])


def test_a_unit_without_people_is_reached_at_its_contact_unless_a_placeholder(
        session: Session) -> None:
    build_world(session)
    ids = units(session)
    for person in session.exec(select(Person).where(Person.unit_id == ids["demo-jd"])):
        person.active = False
    session.commit()
    directory = Directory(session=session)
    directory.load(session, [ids["demo-jd"]])
    assert directory.recipients(["owner"], ids["demo-jd"]) == []  # an imported placeholder
    unit = session.get(Unit, ids["demo-jd"])
    assert unit is not None
    unit.contact_email, unit.contact_placeholder = "jd@duban.example", False
    session.commit()
    directory = Directory(session=session)
    directory.load(session, [ids["demo-jd"]])
    assert emails(directory.recipients(["owner", "unit_head"], ids["demo-jd"])) == {
        "jd@duban.example"}


def test_a_unit_is_read_once(engine: sa.Engine, session: Session) -> None:
    build_world(session)
    ids = units(session)
    statements: list[str] = []

    def seen(connection: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    with Session(engine) as fresh:
        directory = Directory(session=fresh)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            directory.load(fresh, [ids["demo-mzj"]])
            directory.load(fresh, [ids["demo-mzj"]])
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 2  # its people and its contact, once
