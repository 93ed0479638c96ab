"""Event chain benchmark: what sealing every event into the hash chain costs a write.

    .venv/bin/python -m benchmarks.event_chain_benchmark [--postgres URL] [--single 300]
        [--bulk 20000]

On a fresh, migrated database (a SQLite file; PostgreSQL too when --postgres names a server
where it may create a database) it times, with sealing switched off ("before": the hooks of
models.store.event_chain removed, events inserted as before the chain) and on ("after"):
- ``--single`` transactions that each record one event and commit (a person's action);
- one transaction that inserts ``--bulk`` events in bulk and commits (a first sweep).
It prints events per second for each. Wall-clock on a shared machine: compare before with
after, not with other machines. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models.store import event_chain
from models.store.database import bulk_insert, make_engine, migrate, writer
from models.store.events import record
from models.tables.event_kinds import EventKind

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
HOOKS: list[tuple[str, Callable[..., None]]] = [
    ("after_flush", event_chain._note_flushed), ("before_commit", event_chain._seal_on_commit),
    ("after_transaction_end", event_chain._forget)]


def sealing(on: bool) -> None:
    for name, hook in HOOKS:
        if on and not sa_event.contains(OrmSession, name, hook):
            sa_event.listen(OrmSession, name, hook)
        elif not on and sa_event.contains(OrmSession, name, hook):
            sa_event.remove(OrmSession, name, hook)


def single(engine: sa.Engine, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        with Session(writer(engine)) as db:
            record(db, EventKind.person_password_set, at=AT, actor="bench", reason=str(i))
            db.commit()
    return n / (time.perf_counter() - started)


def bulk(engine: sa.Engine, n: int, sealed: bool) -> float:
    rows = [{"at": AT, "kind": EventKind.status_changed.value, "actor": "sweep",
             "milestone_id": i, "reason": None, "data": {"from": "open", "to": "overdue"}}
            for i in range(n)]
    started = time.perf_counter()
    with Session(writer(engine)) as db:
        if sealed:
            event_chain.insert_events(db, rows)
        else:
            bulk_insert(db, event_chain.EVENTS, rows)
        db.commit()
    return n / (time.perf_counter() - started)


def measure(url: str, singles: int, bulks: int) -> dict[str, float]:
    engine = make_engine(url)
    migrate(engine)
    found = {}
    for on in (False, True):
        sealing(on)
        when = "after" if on else "before"
        single(engine, 20)  # warm-up: imports and compiled statements
        found[f"single {when}"] = single(engine, singles)
        found[f"bulk {when}"] = bulk(engine, bulks, sealed=on)
    sealing(True)
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="a server URL, e.g. postgresql+psycopg://postgres@"
                                           "127.0.0.1:5432/test")
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--bulk", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        urls = {"SQLite": f"sqlite:///{Path(workdir) / 'bench.db'}"}
        admin = None
        if args.postgres:
            name = f"duban_bench_{secrets.token_hex(4)}"
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            urls["PostgreSQL"] = sa.make_url(args.postgres).set(database=name) \
                .render_as_string(hide_password=False)
        try:
            for backend, url in urls.items():
                for figure, rate in measure(url, args.single, args.bulk).items():
                    print(f"{backend:10} {figure:14} {rate:10,.0f} events/s")
        finally:
            if admin is not None:
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                admin.dispose()


if __name__ == "__main__":
    main()
