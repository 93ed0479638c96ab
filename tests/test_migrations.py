"""The schema is created and upgraded by migrations, which match the models on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from models.store.database import alembic_config, migrate
from models.tables.escalation import EscalationStep, Notice
from models.tables.person import Person


def test_migrations_match_the_models_and_go_down_and_up_again(engine: sa.Engine) -> None:
    config = alembic_config(engine)
    command.check(config)  # raises if the models and the migrated schema differ
    command.downgrade(config, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"duban_alembic_version"}
    migrate(engine)
    command.check(config)


def test_bulletins_stored_before_issue_numbers_are_numbered_by_period(engine: sa.Engine) -> None:
    """0008: each scope's stored bulletins get 期号 in the order of their periods, per year,
    both editions of a period one number; a downgrade drops them again."""
    config = alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision("0013_notices").down_revision
    command.downgrade(config, before)
    bulletin = sa.table("bulletin", *(sa.column(c) for c in (
        "scope", "scope_name", "period_kind", "period_first", "period_last", "edition",
        "figures", "subject", "html", "text", "chart_png", "xlsx", "pdf", "sends",
        "generated_at", "generated_by")))
    weeks = [(date(2025, 12, 15), date(2025, 12, 21)), (date(2025, 12, 1), date(2025, 12, 7)),
             (date(2025, 12, 29), date(2026, 1, 4))]
    rows = [{"scope": scope, "scope_name": "规划", "period_kind": "week", "period_first": first,
             "period_last": last, "edition": edition, "figures": "{}", "subject": "s",
             "html": "", "text": "", "chart_png": b"", "xlsx": b"", "pdf": b"", "sends": 0,
             "generated_at": datetime(2026, 1, 5, tzinfo=UTC), "generated_by": "test"}
            for scope in ("p", "*") for first, last in weeks for edition in ("internal", "public")]
    with engine.begin() as connection:
        connection.execute(bulletin.insert(), rows)
    migrate(engine)
    with engine.connect() as connection:
        numbered = set(connection.execute(sa.text(
            "SELECT scope, period_last, edition, issue_year, issue_number FROM bulletin")))
    expected = {(date(2025, 12, 7), 2025, 1), (date(2025, 12, 21), 2025, 2),
                (date(2026, 1, 4), 2026, 1)}
    assert {(scope, _day(last), edition, year, number)
            for scope, last, edition, year, number in numbered} == {
        (scope, last, edition, year, number) for scope in ("p", "*")
        for last, year, number in expected for edition in ("internal", "public")}
    command.downgrade(config, before)
    assert "issue_number" not in {c["name"] for c in sa.inspect(engine).get_columns("bulletin")}
    migrate(engine)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def test_notices_not_yet_in_a_digest_survive_the_upgrade_to_one_per_step(
        engine: sa.Engine, session: Session) -> None:
    """0018: the per-recipient notices still waiting for their digest become one notice per
    step naming the roles of the people they were for, and reach the same people; a sweep
    with nothing waiting is marked composed."""
    from flows.sweep import run_sweep
    from models.tables.sweep_run import SweepRun
    from notifications.compose import addresses_told
    from tests.world import RULES, build_world

    build_world(session)
    now = RULES.as_of(date(2025, 10, 21))
    run_sweep(engine=engine, rules=RULES, clock=lambda: now, now=now)
    session.commit()
    steps = session.exec(select(EscalationStep.id, EscalationStep.milestone_id)
                         .order_by(col(EscalationStep.id))).all()
    people = session.exec(select(Person.id, Person.email, Person.name)).all()
    (swept,) = session.exec(select(SweepRun.id)).all()
    session.commit()  # its read locks would hold up the downgrade
    config = alembic_config(engine)
    command.downgrade(config, "0017_working_days")
    old = sa.table("notification", *(sa.column(c) for c in (
        "key", "kind", "person_id", "address", "escalation_id", "milestone_id", "sweep_id",
        "message_id")), sa.column("context", sa.JSON), sa.column("created_at", UTCDateTime()))
    sweep = sa.table("sweep", *(sa.column(c) for c in ("id", "evaluated", "changed",
                                                        "escalated", "notifications")),
                     sa.column("as_of", sa.Date()), sa.column("started_at", UTCDateTime()),
                     sa.column("finished_at", UTCDateTime()))
    with engine.begin() as connection:
        connection.execute(old.insert(), [
            {"key": f"escalation:{step}:{email}", "kind": "leader", "person_id": person,
             "address": email, "escalation_id": step, "milestone_id": milestone,
             "sweep_id": swept, "message_id": None, "created_at": now,
             "context": {"level": 3, "level_name": "领导督办", "recipient": name}}
            for step, milestone in steps for person, email, name in people
            if email != "li.na@duban.example"])
        connection.execute(sweep.insert(), [{
            "id": "done-before", "as_of": date(2025, 10, 20), "started_at": now,
            "finished_at": now, "evaluated": 0, "changed": 0, "escalated": 0,
            "notifications": 0}])
    migrate(engine)
    with Session(engine) as fresh:
        notices = fresh.exec(select(Notice).order_by(col(Notice.id))).all()
        told = addresses_told(fresh, swept)
        composed = dict(fresh.exec(select(SweepRun.id, SweepRun.composed_at)).all())
    assert [n.key for n in notices] == [f"escalation:{step}" for step, _ in steps]
    assert all(set(n.role_list) == {"owner", "unit_head", "office", "leader"}
               and "recipient" not in n.context for n in notices)
    assert told == {n.key: {email for _, email, _ in people if email != "li.na@duban.example"}
                    for n in notices}
    assert composed[swept] is None and composed["done-before"] is not None
