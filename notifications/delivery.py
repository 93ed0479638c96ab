"""The delivery loop: claim due messages, send them, record each outcome.

Semantics (at least once, with a narrow window):
1. Claim: one transaction marks up to ``delivery_batch`` due messages ``sending`` with this
   loop's name (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so loops share the work; a
   conditional UPDATE everywhere, so a row is claimed by one loop only) and counts the attempt.
2. Send: emails over ``delivery_connections`` SMTP connections at once, each sending one
   message at a time (notifications/smtp_sending.py), posts over one HTTP client; with no SMTP
   server configured, emails are written as .eml files and count as sent. The bytes were
   built when the message was composed: sending builds nothing.
3. Record each outcome as soon as the far end answers, committed before the connection that
   sent it sends another (see ``_Recorder``): ``sent``;
   ``failed`` with exponential backoff and jitter for a temporary failure; ``dead`` for a
   permanent one or after ``delivery_max_attempts``, logged as an error and recorded as an
   event so it shows in the office's lists. An outcome is written only while this loop still
   holds the claim (``sending``, claimed by it, at the attempt it claimed): a loop that
   stalled past ``CLAIM_TIMEOUT`` and lost the message to another writes nothing for it.
A loop killed between the server's acceptance and step 3 leaves the row ``sending``; after
``CLAIM_TIMEOUT`` another loop reclaims and sends it again. That window, the one message in
flight on each of the loop's connections (``delivery_connections`` at most), is the only way
a message can go out twice; the stable Message-ID lets mail systems drop the copy.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import anyio
import httpx
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlmodel import Session, col, select

from config.channels import Channels
from config.settings import Settings
from models.store.database import writer
from models.store.events import record
from models.tables.event_kinds import EventKind
from models.tables.message import Channel, Message, MessageStatus
from notifications.outcome import Delivered, Done, Failed, Outcome, Postponed, never_composed
from notifications.smtp_sending import send_smtp
from notifications.webhooks import next_send_time, post
from notifications.work_notice_round import PERSONAL, check_results, fall_back_to_email, send_cards

log = logging.getLogger(__name__)
CLAIM_TIMEOUT = timedelta(minutes=10)
DUE = (MessageStatus.queued, MessageStatus.failed)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    queued: int = 0  # postponed without an attempt (quiet hours, a per-person limit)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def deliver_due(*, engine: Engine, settings: Settings, channels: Channels, now: datetime,
                      worker: str | None = None) -> DeliveryReport:
    """One round: claim what is due, send it, record every outcome."""
    report = DeliveryReport()
    me = worker or worker_name()
    await check_results(engine=engine, channels=channels, now=now)
    claimed = await anyio.to_thread.run_sync(
        lambda: _claim(engine, now, me, settings.delivery_batch))
    report.claimed = len(claimed)
    recorder = _Recorder(engine, settings, channels, now, me, report)
    try:
        await _send(claimed, engine=engine, settings=settings, channels=channels, now=now,
                    done=recorder.add)
    finally:
        await recorder.close()
    return report


async def _send(claimed: list[Message], *, engine: Engine, settings: Settings,
                channels: Channels, now: datetime, done: Done) -> None:
    emails = [m for m in claimed if m.channel is Channel.email]
    posts = [m for m in claimed if m.channel is Channel.webhook]
    if emails:
        await (send_smtp(emails, settings, done) if settings.smtp_host
               else _write_eml(emails, settings, done))
    if posts:
        await _post_all(posts, channels, done)
    cards = [m for m in claimed if m.channel in PERSONAL]
    if cards:
        await send_cards(cards, engine=engine, channels=channels, settings=settings, now=now,
                         done=done)


class _Recorder:
    """Commits each outcome as soon as the far end has answered, before the connection that
    sent it sends another: a kill then leaves at most one message per connection unrecorded.

    On PostgreSQL a commit waits for the server's flush to disk: it runs in a worker thread,
    one per SMTP connection at once (the server flushes them together), and the other
    connections stay on the wire meanwhile. SQLite has one writer and waits for no disk at a
    commit (WAL, synchronous=NORMAL): the loop's own thread writes, in turn, as fast as a
    handoff to a thread would be, and without two threads taking the interpreter's lock from
    each other. The database connections are kept for the round: checking one out of the pool
    for every message would cost a ping and a reset each time.
    """

    def __init__(self, engine: Engine, settings: Settings, channels: Channels, now: datetime,
                 worker: str, report: DeliveryReport) -> None:
        self.engine, self.settings, self.channels, self.now = engine, settings, channels, now
        self.worker, self.report = worker, report
        self.in_threads = engine.dialect.name == "postgresql"
        self.writers = anyio.CapacityLimiter(settings.delivery_connections)
        self.idle: list[Connection] = []  # at most one per writer: none waits for another

    async def add(self, message: Message, outcome: Outcome) -> None:
        if self.in_threads:
            status = await anyio.to_thread.run_sync(partial(self._record, message, outcome),
                                                    limiter=self.writers)
        else:
            status = self._record(message, outcome)
        if status is not None:
            setattr(self.report, status.value, getattr(self.report, status.value) + 1)

    def _record(self, message: Message, outcome: Outcome) -> MessageStatus | None:
        connection = self.idle.pop() if self.idle else writer(self.engine).connect()
        try:
            status = _record(connection, self.settings, self.channels, message, outcome,
                             self.now, self.worker)
        except BaseException:
            connection.close()  # back to the pool, which rolls it back or discards it
            raise
        self.idle.append(connection)
        return status

    async def close(self) -> None:
        while self.idle:
            await anyio.to_thread.run_sync(self.idle.pop().close)


def _claim(engine: Engine, now: datetime, worker: str, limit: int) -> list[Message]:
    due = sa.or_(sa.and_(col(Message.status).in_(DUE), col(Message.next_attempt_at) <= now),
                 sa.and_(col(Message.status) == MessageStatus.sending,
                         col(Message.claimed_at) < now - CLAIM_TIMEOUT))
    with Session(writer(engine), expire_on_commit=False) as session:
        query = select(Message.id).where(due).order_by(col(Message.next_attempt_at),
                                                        col(Message.id)).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.exec(query).all())
        if not ids:
            return []
        claimed = session.execute(
            sa.update(Message).where(col(Message.id).in_(ids), due)
            .values(status=MessageStatus.sending, claimed_by=worker, claimed_at=now,
                    attempts=Message.attempts + 1)
            .returning(col(Message.id))).scalars().all()
        messages = list(session.exec(select(Message).where(col(Message.id).in_(claimed))
                                     .order_by(col(Message.id))).all())
        session.commit()
        return messages


# Built once: constructing an UPDATE costs more than running it, and this runs per message.
# The SET clause comes from the parameters each outcome brings (see `_next_state`).
_OUTCOME = sa.update(Message).where(
    col(Message.id) == sa.bindparam("claimed_id"),
    col(Message.status) == MessageStatus.sending,
    col(Message.claimed_by) == sa.bindparam("claimed_by_worker"),
    col(Message.attempts) == sa.bindparam("claimed_attempt"))


def _record(connection: Connection, settings: Settings, channels: Channels, message: Message,
            outcome: Outcome, now: datetime, worker: str) -> MessageStatus | None:
    """One transaction: a single-row UPDATE conditional on the claim still being this loop's
    (``sending``, claimed by it, at the attempt it claimed), plus an event for a dead letter.
    Answers the status written, or None when the claim was lost and nothing was written."""
    status, values = _next_state(settings, channels, message, outcome, now)
    # A plain connection, not a Session: this runs once per message sent, and the ORM's
    # bookkeeping would cost more than the UPDATE.
    changed = connection.execute(_OUTCOME, {
        "claimed_id": message.id, "claimed_by_worker": worker,
        "claimed_attempt": message.attempts, "status": status, "claimed_by": None,
        "sent_at": None, "detail": None, "last_error": None} | values).rowcount
    if changed != 1:
        connection.rollback()
        log.warning("message %s: outcome %s not recorded, the claim of %s (attempt %d) "
                    "was lost to another delivery loop", message.id,
                    type(outcome).__name__, worker, message.attempts)
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


async def _write_eml(messages: list[Message], settings: Settings,
                     done: Done) -> None:
    """No SMTP server: keep every email as a file, so the embedded default loses nothing."""
    for message in messages:
        if never_composed(message):
            await done(message, Failed(True, "nothing to send: the message was never composed"))
            continue
        try:
            path = await anyio.to_thread.run_sync(partial(_eml_file, message, settings))
        except OSError as exc:
            await done(message, Failed(False, f"cannot write: {exc}"))
            continue
        except Exception as exc:
            log.exception("message %s could not be written", message.id)
            await done(message, Failed(True, f"cannot write: {type(exc).__name__}: {exc}"))
            continue
        await done(message, Delivered(f"written to {path}"))


def _eml_file(message: Message, settings: Settings) -> Path:
    folder = settings.data_dir / "outbox" / message.created_at.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{message.id:08d}.eml"
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(message.raw)
    os.replace(temporary, path)  # a reader never sees half a file
    return path


async def _post_all(messages: list[Message], channels: Channels, done: Done) -> None:
    targets = {t.name: t for t in channels.webhooks}
    async with httpx.AsyncClient(timeout=10) as client:
        for message in messages:
            target = targets.get(message.address)
            if target is None:
                await done(message, Failed(True, f"webhook target {message.address!r} is no "
                                                 "longer configured in config/channels.yaml"))
                continue
            if never_composed(message):
                await done(message, Failed(True, "nothing to send: the message was never composed"))
                continue
            # Signed with the real clock: DingTalk refuses a signature an hour off its own,
            # whatever day the engine is replaying.
            try:
                outcome = await post(target, message.subject, message.body_text,
                                     client=client, now_ms=int(time.time() * 1000))
            except Exception as exc:  # post() answers every transport error as an outcome
                log.exception("message %s could not be posted", message.id)
                outcome = Failed(True, f"cannot post: {type(exc).__name__}: {exc}")
            await done(message, outcome)

