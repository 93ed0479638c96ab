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
   sent it sends another (notifications/outcome_record.py): ``sent``;
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
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import anyio
import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.channels import Channels
from config.settings import Settings
from models.store.database import writer
from models.tables.message import Channel, Message, MessageStatus
from notifications.outcome import Delivered, Done, Failed, never_composed
from notifications.outcome_record import Recorder
from notifications.smtp_sending import send_smtp
from notifications.webhooks import post
from notifications.work_notice_round import PERSONAL, check_results, send_cards

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
    counts: dict[MessageStatus, int] = {}
    recorder = Recorder(engine, settings, channels, now, me, counts)
    try:
        await _send(claimed, engine=engine, settings=settings, channels=channels, now=now,
                    done=recorder.add)
    finally:
        await recorder.close()
        for status, count in counts.items():
            setattr(report, status.value, count)
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


def _claim(engine: Engine, now: datetime, worker: str, limit: int) -> list[Message]:
    """One statement: an UPDATE of the first ``limit`` due rows, conditional on their still
    being due, answering the rows it claimed."""
    due = sa.or_(sa.and_(col(Message.status).in_(DUE), col(Message.next_attempt_at) <= now),
                 sa.and_(col(Message.status) == MessageStatus.sending,
                         col(Message.claimed_at) < now - CLAIM_TIMEOUT))
    with Session(writer(engine), expire_on_commit=False) as session:
        first = select(Message.id).where(due).order_by(col(Message.next_attempt_at),
                                                        col(Message.id)).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            first = first.with_for_update(skip_locked=True)
        claimed = session.execute(
            sa.update(Message).where(col(Message.id).in_(first.scalar_subquery()), due)
            .values(status=MessageStatus.sending, claimed_by=worker, claimed_at=now,
                    attempts=Message.attempts + 1)
            .returning(Message)
            .execution_options(synchronize_session=False)).scalars().all()
        session.commit()
        return sorted(claimed, key=lambda m: m.id or 0)


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

