"""The schema is created and upgraded by migrations, which match the models on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from models.store.database import alembic_config, migrate


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
