"""Recording a delivery attempt's outcome, committed before the connection that made it sends
another message.

Each outcome is a single-row UPDATE conditional on the claim still being this loop's
(``sending``, claimed by it, at the attempt it claimed): ``sent``; ``failed`` with exponential
backoff and jitter for a temporary failure; ``queued`` again, not counted as an attempt, for a
postponement; ``dead`` for a permanent failure or after ``delivery_max_attempts``, logged as an
error and recorded as a ``message.dead`` event in the same transaction (a DingTalk or WeCom
message that dies is queued as an e-mail too). A loop that stalled past the claim timeout and
lost the message to another writes nothing for it.

This runs once per message, at the wire's pace, so it is kept cheap: database connections held
for the round, statements compiled once, and ``sent`` (nearly every outcome) written by the
driver as one autocommitted statement, one round trip to the database (on PostgreSQL over
psycopg's asynchronous connection, so no thread hands it over).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import anyio
import psycopg
import sqlalchemy as sa
from sqlalchemy import Connection, Dialect, Engine
from sqlmodel import Session, col

from config.channels import Channels
from config.settings import Settings
from models.store.database import writer
from models.store.events import record
from models.tables.event_kinds import EventKind
from models.tables.message import Channel, Message, MessageStatus
from notifications.outcome import Delivered, Outcome, Postponed
from notifications.webhooks import next_send_time
from notifications.work_notice_round import PERSONAL, fall_back_to_email

log = logging.getLogger(__name__)
_CLAIM_HELD = (col(Message.id) == sa.bindparam("claimed_id"),
               col(Message.status) == MessageStatus.sending,
               col(Message.claimed_by) == sa.bindparam("claimed_by_worker"),
               col(Message.attempts) == sa.bindparam("claimed_attempt"))
# Built once: constructing an UPDATE costs more than running it. The SET clause comes from the
# parameters each outcome brings (see `_next_state`).
_OUTCOME = sa.update(Message).where(*_CLAIM_HELD)
_SENT = sa.update(Message).where(*_CLAIM_HELD).values(
    status=MessageStatus.sent, claimed_by=None, last_error=None,
    sent_at=sa.bindparam("sent_at"), detail=sa.bindparam("detail"),
    remote_id=sa.bindparam("remote_id"))


class Recorder:
    """Commits each outcome as soon as the far end has answered (``add``), before the
    connection that sent it sends another: a kill then leaves at most one message per
    connection unrecorded.

    On PostgreSQL a commit waits for the server's flush to disk: ``sent`` goes over an
    asynchronous connection of psycopg's, one per SMTP connection at once (the server flushes
    them together), and the other connections stay on the wire meanwhile; the rarer outcomes
    run in a worker thread, one per SMTP connection at once. SQLite has one writer and waits
    for no disk at a commit (WAL, synchronous=NORMAL): the loop's own thread writes, in turn,
    as fast as a handoff to a thread would be, and without two threads taking the
    interpreter's lock from each other. The database connections are kept for the round
    (``close``): checking one out of the pool for every message would cost a ping and a reset
    each time.
    """

    def __init__(self, engine: Engine, settings: Settings, channels: Channels, now: datetime,
                 worker: str, counts: dict[MessageStatus, int]) -> None:
        self.engine, self.settings, self.channels, self.now = engine, settings, channels, now
        self.worker, self.counts = worker, counts
        self.in_threads = engine.dialect.name == "postgresql"
        self.writers = anyio.CapacityLimiter(settings.delivery_connections)
        self.idle: list[Connection] = []  # at most one per writer: none waits for another
        self.sent = _SentStatement(engine.dialect)
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.idle_async: list[psycopg.AsyncConnection[Any]] = []

    async def add(self, message: Message, outcome: Outcome) -> None:
        if self.in_threads and isinstance(outcome, Delivered):
            status = await self._sent(message, outcome)
        elif self.in_threads:
            status = await anyio.to_thread.run_sync(partial(self._record, message, outcome),
                                                    limiter=self.writers)
        else:
            status = self._record(message, outcome)
        if status is not None:
            self.counts[status] = self.counts.get(status, 0) + 1

    def _record(self, message: Message, outcome: Outcome) -> MessageStatus | None:
        connection = self.idle.pop() if self.idle else writer(self.engine).connect()
        try:
            if isinstance(outcome, Delivered):
                status = self.sent.write(connection, message, outcome, self.now, self.worker)
            else:
                status = _record(connection, self.settings, self.channels, message, outcome,
                                 self.now, self.worker)
        except BaseException:
            connection.invalidate()  # whatever state the driver was left in goes with it
            connection.close()
            raise
        self.idle.append(connection)
        return status

    async def _sent(self, message: Message, outcome: Delivered) -> MessageStatus | None:
        connection = self.idle_async.pop() if self.idle_async else \
            await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        try:
            cursor = await connection.execute(
                self.sent.sql, self.sent.parameters(message, outcome, self.now, self.worker))
        except BaseException:
            await connection.close()
            raise
        self.idle_async.append(connection)
        return self.sent.status(cursor.rowcount, message, outcome, self.worker)

    async def close(self) -> None:
        while self.idle:
            await anyio.to_thread.run_sync(self.idle.pop().close)
        while self.idle_async:
            await self.idle_async.pop().close()


class _SentStatement:
    """``sent``, written by the driver itself: one statement, compiled once for the dialect,
    committed alone (autocommit), so it costs one round trip and little Python."""

    def __init__(self, dialect: Dialect) -> None:
        compiled = _SENT.compile(dialect=dialect)
        self.compiled, self.sql = compiled, compiled.string
        self.order = compiled.positiontup if dialect.positional else None
        # As SQLAlchemy would convert them: a datetime in SQLite's stored form, an enum's value.
        self.processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                           for bind, name in compiled.bind_names.items()}
        self.psycopg = dialect.name == "postgresql"

    def parameters(self, message: Message, outcome: Delivered, now: datetime,
                   worker: str) -> Any:
        values = self.compiled.construct_params({
            "claimed_id": message.id, "claimed_by_worker": worker,
            "claimed_attempt": message.attempts, "sent_at": now,
            "detail": outcome.detail[:500], "remote_id": outcome.remote_id})
        for name, process in self.processors.items():
            if process is not None:
                values[name] = process(values[name])
        return values if self.order is None else [values[n] for n in self.order]

    def write(self, connection: Connection, message: Message, outcome: Delivered,
              now: datetime, worker: str) -> MessageStatus | None:
        # sqlite3's or psycopg's connection; the pool's DBAPI type does not say which.
        driver: Any = connection.connection.driver_connection
        if self.psycopg:  # sqlite3 is in autocommit already (models/store/database.py)
            driver.autocommit = True
        try:
            changed = driver.execute(self.sql, self.parameters(message, outcome, now,
                                                               worker)).rowcount
        finally:
            if self.psycopg:
                driver.autocommit = False
        return self.status(changed, message, outcome, worker)

    @staticmethod
    def status(changed: int, message: Message, outcome: Delivered,
               worker: str) -> MessageStatus | None:
        if changed != 1:
            _claim_lost(message, outcome, worker)
            return None
        return MessageStatus.sent


def _record(connection: Connection, settings: Settings, channels: Channels, message: Message,
            outcome: Outcome, now: datetime, worker: str) -> MessageStatus | None:
    """One transaction: the conditional UPDATE, plus an event for a dead letter. Answers the
    status written, or None when the claim was lost and nothing was written."""
    status, values = _next_state(settings, channels, message, outcome, now)
    # A plain connection, not a Session: the ORM's bookkeeping would cost more than the UPDATE.
    changed = connection.execute(_OUTCOME, {
        "claimed_id": message.id, "claimed_by_worker": worker,
        "claimed_attempt": message.attempts, "status": status, "claimed_by": None,
        "sent_at": None, "detail": None, "last_error": None} | values).rowcount
    if changed != 1:
        connection.rollback()
        _claim_lost(message, outcome, worker)
        return None
    if status is MessageStatus.dead and message.channel in PERSONAL:
        fall_back_to_email(connection, message, now)
    if status is MessageStatus.dead:
        log.error("message %s to %s given up after %d attempt(s): %s", message.id,
                  message.address, message.attempts, values["last_error"])
        with Session(connection) as session:
            record(session, EventKind.message_dead, at=now, actor="system:delivery",
                   reason=str(values["last_error"]), person_id=message.person_id,
                   data={"message_id": message.id, "address": message.address,
                         "attempts": message.attempts})
            session.flush()
    connection.commit()
    return status


def _claim_lost(message: Message, outcome: Outcome, worker: str) -> None:
    log.warning("message %s: outcome %s not recorded, the claim of %s (attempt %d) was lost "
                "to another delivery loop", message.id, type(outcome).__name__, worker,
                message.attempts)


def _next_state(settings: Settings, channels: Channels, message: Message, outcome: Outcome,
                now: datetime) -> tuple[MessageStatus, dict[str, object]]:
    if isinstance(outcome, Delivered):
        return MessageStatus.sent, {"sent_at": now, "detail": outcome.detail[:500],
                                    "last_error": None, "remote_id": outcome.remote_id}
    if isinstance(outcome, Postponed):  # not an attempt: the claim's count is given back
        return MessageStatus.queued, {"next_attempt_at": outcome.until,
                                      "attempts": message.attempts - 1,
                                      "detail": outcome.reason[:500]}
    if outcome.permanent or message.attempts >= settings.delivery_max_attempts:
        instead = "；已改发电子邮件" if message.channel in PERSONAL and message.person_id else ""
        return MessageStatus.dead, {"last_error": (outcome.reason[:1900] + instead)}
    retry_at = now + _backoff(message.attempts, settings.delivery_retry_base_seconds)
    if message.channel is Channel.webhook:  # a retry must not land in the quiet hours
        retry_at = next_send_time(retry_at, channels.quiet_hours, settings.zone)
    return MessageStatus.failed, {"last_error": outcome.reason[:2000], "next_attempt_at": retry_at}


def _backoff(attempts: int, base: float) -> timedelta:
    """Exponential from ``base`` seconds, capped at an hour, with ±20 % jitter so that many
    failed messages do not all come back at the same second."""
    seconds = min(base * 2 ** max(attempts - 1, 0), 3600.0)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))
