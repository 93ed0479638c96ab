"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and a small named world.

PostgreSQL: each test run creates a database of its own (``duban_test_<random>``) on the server
named by DUBAN_TEST_POSTGRES_URL, migrates it once and empties it between tests, so concurrent
runs never collide. Where the server cannot be reached those tests are skipped with the reason,
unless CI=true or DUBAN_REQUIRE_POSTGRES=1, where that is a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel
from typer.testing import Result

import models  # noqa: F401
from models.store.database import make_engine, migrate
from tests.smtp_server import SmtpServer

REPO = Path(__file__).resolve().parent.parent
SEED_PLANS = sorted((REPO / "config" / "plans").glob("*.yaml"))
# The five source documents travel with the code (docs/seeds), so a clone checks its plan
# files against them wherever it is; ../shared/seeds, where they were handed over, is only
# compared with that copy when it is there (tests/test_seed_transcription.py).
SEED_DOCUMENTS = REPO / "docs" / "seeds"
HANDED_OVER = REPO.parent / "shared" / "seeds"
POSTGRES_URL = os.environ.get("DUBAN_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
PASSWORD = "示例区-督办-2026"  # every web test's people sign in with it


@pytest.fixture
def seed_documents() -> Path:
    """The five source documents (docs/seeds)."""
    assert len(list(SEED_DOCUMENTS.glob("*.txt"))) == 5, f"five documents in {SEED_DOCUMENTS}"
    return SEED_DOCUMENTS


Duban = Callable[..., Result]


@pytest.fixture
def duban(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Duban]:
    """`duban ARGS…` in-process on this test's database, data directory (made, as `duban init`
    would) and no config file, mail to the outbox folder; each call builds its runtime afresh,
    as a new command would."""
    from typer.testing import CliRunner

    from cli import context
    from cli.main import app

    (tmp_path / "data").mkdir()
    monkeypatch.setenv("DUBAN_DATABASE_URL", database_url)
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DUBAN_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("DUBAN_SMTP_HOST", "")
    monkeypatch.delenv("DUBAN_ACTOR", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        context.runtime.cache_clear()
        return runner.invoke(app, list(args))

    yield invoke
    context.runtime.cache_clear()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def password_hash() -> str:
    """PASSWORD hashed once for the whole run: argon2 is slow on purpose."""
    from models.rules.passwords import hash_password

    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "duban.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}"
        if os.environ.get("DUBAN_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"duban_test_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "duban.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


# Bookkeeping a refused call may write: an API token notes its use (once a minute).
NOT_A_CHANGE = {("api_token", "last_used_at")}


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: to show that a refused operation changed nothing at all."""
    with engine.connect() as connection:
        return {t.name: sorted(tuple(row) for row in connection.execute(sa.select(
                    *(c for c in t.columns if (t.name, c.name) not in NOT_A_CHANGE))))
                for t in SQLModel.metadata.sorted_tables}
