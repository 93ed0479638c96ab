"""The 留痕 shows tampering: every event is sealed into a hash chain as it is written, and
`duban audit verify` names the first event edited, deleted or slipped in behind Duban's back
(here: with the append-only triggers switched off, as someone with the database's password
could)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import Session, func, select

from flows.sweep import run_sweep
from models.store import actions
from models.store.database import alembic_config, migrate, writer
from models.store.event_chain import verify
from models.store.events import record
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.event_seal import EventSeal
from services.runtime import system_clock
from tests.conftest import NOW, Duban
from tests.world import RULES, World, build_world

SWEPT = RULES.as_of(date(2025, 10, 21))  # both 2025-09-30 items overdue


def a_history(engine: sa.Engine, session: Session) -> World:
    """Events by each way Duban writes them: plan import and people (ORM, one transaction),
    a sweep (bulk: COPY on PostgreSQL) and an action taken on an item (ORM)."""
    world = build_world(session)
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=SWEPT)
    with Session(writer(engine)) as acting:
        actions.claim_done(session=acting, rules=RULES, milestone_id=world.construction,
                           evidence="开工令已签发", actor="wang.fang@duban.example", now=SWEPT)
        acting.commit()
    return world


@contextmanager
def behind_dubans_back(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection on which the log's append-only triggers do not fire."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for trigger in ("event_no_update", "event_no_delete", "event_seal_no_update",
                            "event_seal_no_delete"):
                connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
        yield connection


def events(engine: sa.Engine) -> list[int]:
    with Session(engine) as db:
        return list(db.exec(select(Event.id).order_by(Event.id)))  # type: ignore[arg-type]


def test_a_log_written_every_way_verifies_whole(engine: sa.Engine, session: Session,
                                                duban: Duban) -> None:
    a_history(engine, session)
    with Session(engine) as db:
        held, head, problems = verify(db)
        assert problems == []
        assert held == db.exec(select(func.count()).select_from(Event)).one() > 10
        kinds = set(db.exec(select(Event.kind)))
    assert {"plan.created", "milestone.status_changed", "milestone.done_claimed"} <= kinds
    checked = duban("audit", "verify")
    assert checked.exit_code == 0, checked.output
    assert "留痕完整" in checked.output and head.hash in checked.output


def test_an_edited_event_is_found_and_named(engine: sa.Engine, session: Session,
                                            duban: Duban) -> None:
    a_history(engine, session)
    edited = events(engine)[7]
    with behind_dubans_back(engine) as connection:
        connection.execute(sa.update(Event).where(Event.id == edited)  # type: ignore[arg-type]
                           .values(actor="someone.else@duban.example"))
    checked = duban("audit", "verify")
    assert checked.exit_code == 1
    assert f"事件 {edited} 的内容与其留痕不符：已被改动" in checked.output
    assert f"首个有问题的事件：{edited}" in checked.output


def test_a_changed_time_or_payload_is_found_too(engine: sa.Engine, session: Session) -> None:
    world = a_history(engine, session)
    with Session(engine) as db:
        claimed = db.exec(select(Event.id).where(Event.kind == EventKind.done_claimed,
                                                 Event.milestone_id == world.construction)).one()
    with behind_dubans_back(engine) as connection:
        connection.execute(sa.update(Event).where(Event.id == claimed)  # type: ignore[arg-type]
                           .values(data={"evidence": "开工令已签发。"}))
    with Session(engine) as db:
        assert [p.event_id for p in verify(db)[2]] == [claimed]


def test_a_deleted_event_is_found_and_named(engine: sa.Engine, session: Session,
                                            duban: Duban) -> None:
    a_history(engine, session)
    deleted = events(engine)[3]
    with behind_dubans_back(engine) as connection:
        connection.execute(sa.delete(Event).where(Event.id == deleted))  # type: ignore[arg-type]
    checked = duban("audit", "verify")
    assert checked.exit_code == 1 and f"事件 {deleted} 已被删除" in checked.output


def test_the_last_events_deleted_with_their_seals_are_found_by_the_head(
        engine: sa.Engine, session: Session, duban: Duban) -> None:
    a_history(engine, session)
    last = events(engine)[-2:]
    with behind_dubans_back(engine) as connection:
        connection.execute(sa.delete(EventSeal).where(EventSeal.event_id.in_(last)))  # type: ignore[attr-defined]
        connection.execute(sa.delete(Event).where(Event.id.in_(last)))  # type: ignore[union-attr]
    checked = duban("audit", "verify")
    assert checked.exit_code == 1
    assert f"事件 {last[-1]}" in checked.output and "最后的事件及其留痕记录被删除" in checked.output


def test_an_event_slipped_in_behind_dubans_back_has_no_seal(engine: sa.Engine,
                                                           session: Session) -> None:
    a_history(engine, session)
    with engine.begin() as connection:  # a Core connection, no session: nothing seals it
        slipped = connection.execute(sa.insert(Event).values(  # type: ignore[arg-type]
            at=NOW, kind=EventKind.closed.value, actor="zhou.min@duban.example",
            milestone_id=1, data={}).returning(Event.id)).scalar_one()  # type: ignore[arg-type]
    with Session(engine) as db:
        [problem] = verify(db)[2]
    assert problem.event_id == slipped and "没有留痕记录" in problem.what


def test_two_writers_at_once_do_not_fork_the_chain(engine: sa.Engine, session: Session) -> None:
    build_world(session)
    start, failures = threading.Barrier(4), []

    def write(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(15):
                with Session(engine) as db:  # not the writer engine: they really race
                    record(db, EventKind.person_password_set, at=NOW, actor=f"writer-{n}",
                           reason=f"{n}-{i}")
                    db.commit()
        except Exception as exc:  # noqa: BLE001 (reported below, with the test)
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with Session(engine) as db:
        held, head, problems = verify(db)
        assert problems == []
        assert held == head.seq == db.exec(select(func.count()).select_from(Event)).one()
        assert len(db.exec(select(Event).where(Event.kind == EventKind.person_password_set))
                   .all()) == 60


def test_the_migration_seals_the_events_written_before_it(engine: sa.Engine,
                                                          session: Session) -> None:
    a_history(engine, session)
    session.close()  # its open read would hold the locks the downgrade's DROP INDEX needs
    config = alembic_config(engine)
    before_chain = ScriptDirectory.from_config(config).get_revision("0012_harden").down_revision
    command.downgrade(config, str(before_chain))
    assert "event_seal" not in sa.inspect(engine).get_table_names()
    migrate(engine)
    with Session(engine) as db:
        held, _, problems = verify(db)
        assert problems == []
        assert held == len(events(engine))
    with Session(engine) as later:  # the chain goes on from the migration's last link
        record(later, EventKind.person_password_set, at=NOW, actor="after")
        later.commit()
    with Session(engine) as db:
        assert verify(db)[2] == [] and verify(db)[0] == held + 1


@pytest.mark.parametrize("field", ["at", "kind", "reason", "milestone_id"])
def test_every_field_is_in_the_seal(field: str) -> None:
    from models.rules.event_chain import GENESIS, link

    row = {"id": 1, "at": NOW, "kind": "milestone.closed", "actor_id": None, "actor": "周敏",
           "reason": "佐证齐全", "plan_id": None, "project_id": 2, "milestone_id": 3,
           "indicator_id": None, "unit_id": 4, "person_id": None, "data": {"b": 1, "a": "中"}}
    changed = row | {field: {"at": NOW.replace(microsecond=1), "kind": "milestone.waived",
                             "reason": "佐证齐全。", "milestone_id": 4}[field]}
    assert link(GENESIS, row) == link(GENESIS, dict(reversed(list(row.items()))))
    assert link(GENESIS, row) != link(GENESIS, changed)
