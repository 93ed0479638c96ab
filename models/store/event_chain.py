"""Sealing every event into the hash chain as its transaction commits, and verifying the chain
(models.rules.event_chain says what a seal is).

How events reach the chain:
1. A session notes each event it writes, with the event's canonical form: ORM events
   (`record`) after each flush, bulk ones in `insert_events`, which gives them ids before
   inserting them (from the sequence on PostgreSQL, after the last id under SQLite's lock).
   The form is made from the values written, which are the values read back (times in UTC
   to the microsecond, JSON data), so nothing is read again to seal it.
2. Just before the outermost transaction commits (``before_commit``; not at a savepoint),
   the session locks the chain head, seals its events in id order, each to the previous
   link, and moves the head, all in that transaction. If a savepoint of the transaction was
   rolled back, the events it wrote are gone: only the ids still there are sealed.

The head is locked at commit, after everything else the transaction does, so the lock is held
for the sealing only and a transaction waiting for it holds no lock its holder needs: writers
are serialised at their commits, without deadlocks. An event written some other way (raw SQL,
a Core connection outside a session) has no seal, and verification says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from models.rules.event_chain import (
    FIELDS,
    GENESIS,
    Head,
    Problem,
    Seal,
    canonical,
    head_problem,
    link_of,
    unsealed_problem,
    walk,
)
from models.store.database import bulk_insert
from models.tables.columns import saved_id, table_of
from models.tables.event import Event
from models.tables.event_seal import EventChainHead, EventSeal

if TYPE_CHECKING:
    from sqlmodel import Session as SQLModelSession

EVENTS, SEALS, HEAD = table_of(Event), table_of(EventSeal), table_of(EventChainHead)
_PENDING = "duban_unsealed_events"  # session.info: id → canonical form, of this transaction
_SAVEPOINT_UNDONE = "duban_savepoint_undone"  # session.info: a savepoint was rolled back
_CHUNK = 5000
_ABSENT = dict.fromkeys(FIELDS)  # a column a bulk row leaves out is NULL
_FEW = 50  # fewer seals than this go in by INSERT: COPY costs more to set up than it saves


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many events in the session's transaction (as `bulk_insert`), noting them for
    the seal; each row gets its ``id``."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        ids = connection.execute(select(func.nextval(func.pg_get_serial_sequence(
            "event", "id"))).select_from(func.generate_series(1, len(rows)))).scalars().all()
        for row, event_id in zip(rows, ids, strict=True):
            row["id"] = event_id
        bulk_insert(cast("SQLModelSession", session), EVENTS, rows)
    else:
        # SQLite: take the one writer's lock first (a no-op write), so that no one else can
        # insert between reading the last id and inserting after it. (RETURNING in order
        # would insert row by row.)
        connection.execute(HEAD.update().where(HEAD.c.id == 1).values(seq=HEAD.c.seq))
        last = connection.execute(select(func.coalesce(func.max(EVENTS.c.id), 0))).scalar_one()
        for event_id, row in enumerate(rows, start=last + 1):
            row["id"] = event_id
        connection.execute(EVENTS.insert(), rows)
    pending = _pending(session)
    for row in rows:
        pending[row["id"]] = canonical(_ABSENT | row)


def seal_pending(session: Session) -> int:
    """Seal the events this transaction wrote (see the module's docstring); how many."""
    session.flush()
    pending: dict[int, bytes] = session.info.pop(_PENDING, {})
    if session.info.pop(_SAVEPOINT_UNDONE, False):
        pending = {i: pending[i] for i in _still_there(session, list(pending))}
    if not pending:
        return 0
    connection = session.connection()  # Core: no ORM machinery for the few statements here
    seq, last_hash, last_id = _locked_head(connection)
    seals = []
    for event_id in sorted(pending):
        seq, prev = seq + 1, last_hash
        last_hash, last_id = link_of(prev, pending[event_id]), event_id
        seals.append({"seq": seq, "event_id": event_id, "prev_hash": prev, "hash": last_hash})
    if len(seals) >= _FEW:
        bulk_insert(cast("SQLModelSession", session), SEALS, seals)
    else:
        connection.execute(SEALS.insert(), seals)
    connection.execute(HEAD.update().where(HEAD.c.id == 1).values(
        seq=seq, hash=last_hash, event_id=last_id))
    return len(seals)


def _still_there(session: Session, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(session.execute(select(EVENTS.c.id).where(
            EVENTS.c.id.in_(ids[start:start + _CHUNK]))).scalars())
    return found


def _locked_head(connection: Connection) -> tuple[int, str, int | None]:
    """The chain head, locked for this transaction (PostgreSQL; SQLite's writer lock is held
    already). A missing head row (a truncated table) is rebuilt from the last seal."""
    head = connection.execute(select(HEAD).where(HEAD.c.id == 1).with_for_update()).first()
    if head is not None:
        return head.seq, head.hash, head.event_id
    last = _last_seal(connection)
    seq, digest, event_id = (last.seq, last.hash, last.event_id) if last else (0, GENESIS, None)
    connection.execute(HEAD.insert().values(id=1, seq=seq, hash=digest, event_id=event_id))
    return seq, digest, event_id


def verify(session: Session, limit: int = 20) -> tuple[int, Head, list[Problem]]:
    """Walk the whole chain: how many seals hold, the head, and the first ``limit`` problems
    (in chain order, then events without a seal, then the head)."""
    found: list[Problem] = []
    held, last = 0, None
    for step in walk(_sealed(session)):
        if isinstance(step, Problem):
            found.append(step)
        else:
            held += 1
        last = step if isinstance(step, Seal) else last
    row = session.execute(select(HEAD).where(HEAD.c.id == 1)).first()
    head = Head(0, None, GENESIS) if row is None else Head(row.seq, row.event_id, row.hash)
    found += [unsealed_problem(i) for i in session.execute(
        select(EVENTS.c.id).where(~EVENTS.c.id.in_(select(SEALS.c.event_id)))
        .order_by(EVENTS.c.id).limit(limit)).scalars()]
    if (problem := head_problem(_last_seal(session), head)) is not None:
        found.append(problem)
    return held, head, found[:limit]


def _sealed(session: Session) -> Iterator[tuple[Seal, Mapping[str, Any] | None]]:
    """Every seal in chain order with its event's row (None: gone), read in pages."""
    after = 0
    while True:
        rows = session.execute(
            select(SEALS, *(EVENTS.c[f].label(f"e_{f}") for f in FIELDS))
            .join(EVENTS, EVENTS.c.id == SEALS.c.event_id, isouter=True)
            .where(SEALS.c.seq > after).order_by(SEALS.c.seq).limit(_CHUNK)).mappings().all()
        if not rows:
            return
        for row in rows:
            seal = Seal(row["seq"], row["event_id"], row["prev_hash"], row["hash"])
            event = None if row["e_id"] is None else {f: row[f"e_{f}"] for f in FIELDS}
            yield seal, event
        after = rows[-1]["seq"]


def _last_seal(session: Session | Connection) -> Seal | None:
    row = session.execute(select(SEALS).order_by(SEALS.c.seq.desc()).limit(1)).first()
    return None if row is None else Seal(row.seq, row.event_id, row.prev_hash, row.hash)


def _pending(session: Session) -> dict[int, bytes]:
    found: dict[int, bytes] = session.info.setdefault(_PENDING, {})
    return found


# ── the session's hooks (every Session: SQLModel's is SQLAlchemy's) ─────────────────────────

@sa_event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _context: Any) -> None:
    new = [o for o in session.new if isinstance(o, Event)]
    if new:
        pending = _pending(session)
        for event in new:
            pending[saved_id(event)] = canonical({f: getattr(event, f) for f in FIELDS})


@sa_event.listens_for(Session, "after_soft_rollback")
def _note_undone(session: Session, previous: SessionTransaction) -> None:
    if previous.nested:  # its events are gone; the outer transaction's commit checks which
        session.info[_SAVEPOINT_UNDONE] = True


@sa_event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is not the commit
        seal_pending(session)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: committed (sealed) or rolled back
        session.info.pop(_PENDING, None)
        session.info.pop(_SAVEPOINT_UNDONE, None)
