"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, Connection, Engine, Table, TableClause, bindparam, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

if TYPE_CHECKING:
    import psycopg

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "duban_alembic_version"  # not alembic_version: Prefect uses that name


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine with the settings each backend needs to be safe under concurrent writers."""
    parsed = make_url(url)
    serializer = {"json_serializer": lambda o: json.dumps(o, ensure_ascii=False)}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **serializer, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                           **serializer, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" below issue BEGIN itself (see ``writer``).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON",
                       "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("writes", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The engine for a transaction that will write.

    On SQLite it takes the write lock at BEGIN (waiting up to busy_timeout for it): a deferred
    transaction that reads and then writes can fail at once with "database is locked" when
    another writer got in between, which no timeout helps. Readers stay deferred, so WAL lets
    them run beside the writer. On PostgreSQL this changes nothing.
    """
    return engine.execution_options(writes=True)


def is_item_fault(exc: Exception) -> bool:
    """Whether ``exc`` may be the fault of the items at hand rather than of the database: a
    lost connection, a lock timeout or a serialisation failure is the database's, and must
    stop the sweep (the next one redoes the batch) rather than set everything aside."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return False
    # By the DB-API's class names: COPY runs on the driver's cursor, whose errors
    # (psycopg.OperationalError, …) SQLAlchemy never wraps.
    return not {"OperationalError", "InterfaceError"} & {c.__name__ for c in type(exc).__mro__}


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def behind_migrations(engine: Engine) -> tuple[str, str] | None:
    """(the database's revision, the newest) when the schema needs an upgrade, else None."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    newest = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}).get_current_heads())
    if current == newest:
        return None
    return ", ".join(sorted(current)) or "无", ", ".join(sorted(newest))


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    command.upgrade(alembic_config(engine), "head")


def refresh_statistics(connection: Connection) -> None:
    """Give the planner fresh statistics after a bulk change (a plan import, a benchmark's
    load, a sweep that rewrote many items). PostgreSQL's autovacuum may be off or late, and
    without statistics it picks plans for the table as it was: after a first sweep it still
    believes every next check unset, and reads the whole table for a steady sweep's thousand
    items due. SQLite's planner uses them too (sqlite_stat1); ``analysis_limit`` makes its
    ANALYZE sample each index instead of reading all of it (SQLite's own advice)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE milestone, project, plan, unit, person, event, "
                                   "escalation, notice, light_change")
    else:
        connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
        connection.exec_driver_sql("ANALYZE")


def bulk_insert(session: Session, table: TableClause, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL, executemany else.

    A first sweep queues millions of rows; row-by-row INSERTs cost most of its time on
    PostgreSQL, COPY a small part of it.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    # On PostgreSQL the driver connection is psycopg's (the pool's DBAPI type does not say so).
    driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    cursor = driver.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_columns
                            else row[c] for c in columns])


def bulk_update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Update many rows by primary key ``id`` in the session's transaction: each row gives
    the new values and, as ``_id``, the row's id; every row sets the same columns.

    On PostgreSQL one ``UPDATE … FROM unnest(…)`` per call, the values as one array per
    column, bounded to the ids' range so that the planner reads that range of the key rather
    than the whole table for its join: a first sweep's executemany of a thousand single-row
    UPDATEs costs about a third more (issue 13). SQLite: executemany, a statement per row in
    process, which costs it nothing more.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(table.update().where(table.c.id == bindparam("_id")), rows)
        return
    columns = [c for c in rows[0] if c != "_id"]
    dialect = connection.dialect
    types = ", ".join([f"%(_id)s::{table.c.id.type.compile(dialect)}[]",
                       *(f"%({c})s::{table.c[c].type.compile(dialect)}[]" for c in columns)])
    names = ", ".join(f'"{c}"' for c in ["id", *columns])
    assignments = ", ".join(f'"{c}" = v."{c}"' for c in columns)
    ids = [row["_id"] for row in rows]
    arrays: dict[str, list[Any]] = {}
    for c in columns:  # as the column's type binds a value (an enum by its value)
        process = table.c[c].type.bind_processor(dialect)
        arrays[c] = [process(row[c]) for row in rows] if process else [row[c] for row in rows]
    connection.exec_driver_sql(
        f'UPDATE "{table.name}" AS t SET {assignments} FROM unnest({types}) AS v({names}) '
        "WHERE t.id = v.id AND t.id BETWEEN %(low)s AND %(high)s",
        {"_id": ids, "low": min(ids), "high": max(ids), **arrays})
