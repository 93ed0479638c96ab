"""`duban backup` and `duban restore` on the embedded default: a consistent copy of the SQLite
database and the evidence files, put back whole; refused while the service runs, and on
PostgreSQL with what to use instead."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from flows.scheduler import hold_scheduler_lock
from models.tables.event import Event
from tests.conftest import NOW, POSTGRES_URL, Duban, snapshot


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The embedded default only: these commands are SQLite's (conftest's runs both)."""
    path = tmp_path / "duban.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def test_a_backup_restored_brings_back_the_rows_and_the_evidence(
        duban: Duban, database_url: str, tmp_path: Path) -> None:
    assert duban("init").exit_code == 0
    evidence = tmp_path / "data" / "attachments"
    evidence.mkdir(parents=True)
    (evidence / "a1b2c3").write_bytes(b"%PDF-1.7 the acceptance report")
    engine = sa.create_engine(database_url)
    before = snapshot(engine)
    archive = tmp_path / "backups" / "duban.tar"
    taken = duban("backup", str(archive))
    assert taken.exit_code == 0, taken.output
    with tarfile.open(archive) as contents:
        assert {"duban.db", "attachments/a1b2c3"} <= set(contents.getnames())

    with Session(engine) as db:  # life goes on after the backup
        db.add(Event(at=NOW, kind="person.password_set", actor="later"))
        db.commit()
    (evidence / "a1b2c3").write_bytes(b"overwritten")
    (evidence / "d4e5f6").write_bytes(b"uploaded later")
    engine.dispose()

    put_back = duban("restore", str(archive))
    assert put_back.exit_code == 0, put_back.output
    engine = sa.create_engine(database_url)
    assert snapshot(engine) == before
    engine.dispose()
    assert sorted(p.name for p in evidence.iterdir()) == ["a1b2c3"]
    assert (evidence / "a1b2c3").read_bytes() == b"%PDF-1.7 the acceptance report"
    kept = evidence.with_name("attachments.before-restore")
    assert (kept / "d4e5f6").read_bytes() == b"uploaded later"  # what was replaced is kept


def test_restore_is_refused_while_the_service_runs_and_for_a_file_that_is_no_backup(
        duban: Duban, database_url: str, tmp_path: Path) -> None:
    assert duban("init").exit_code == 0
    archive = tmp_path / "duban.tar"
    assert duban("backup", str(archive)).exit_code == 0
    engine = sa.create_engine(database_url)
    before = snapshot(engine)
    with hold_scheduler_lock(database_url, tmp_path / "data"):  # as `duban run` holds it
        busy = duban("restore", str(archive))
    assert busy.exit_code == 3 and "请先停止服务" in busy.output
    not_one = tmp_path / "notes.tar"
    with tarfile.open(not_one, "w") as contents:
        contents.add(archive, arcname="something-else")
    refused = duban("restore", str(not_one))
    assert refused.exit_code == 2 and "不是 duban 备份" in refused.output
    assert snapshot(engine) == before
    engine.dispose()


def test_postgresql_is_pointed_to_its_own_tools(duban: Duban, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_DATABASE_URL", POSTGRES_URL)
    refused = duban("backup", str(tmp_path / "duban.tar"))
    assert refused.exit_code == 2 and "pg_dump" in refused.output
    assert not (tmp_path / "duban.tar").exists()
