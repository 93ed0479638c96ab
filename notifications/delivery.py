"""The delivery loop: claim due messages, send them, record each outcome.

Semantics (at least once, with one narrow window):
1. Claim: one transaction marks up to ``delivery_batch`` due messages ``sending`` with this
   loop's name (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so loops share the work; a
   conditional UPDATE everywhere, so a row is claimed by one loop only) and counts the attempt.
2. Send: emails over one SMTP connection (STARTTLS/TLS per settings), posts over one HTTP
   client; with no SMTP server configured, emails are written as .eml files and count as sent.
   A dropped connection (aiosmtplib's SMTPServerDisconnected, a timeout, a 421) is opened
   again for the rest, a few times a round. A message whose sending raises anything else is
   its own fault (an address the client refuses, a row never composed): it is dead, with the
   reason, and the others go on.
3. Record each outcome as soon as the far end answers, committed before the next message is
   sent (see ``_Recorder``): ``sent``;
   ``failed`` with exponential backoff and jitter for a temporary failure; ``dead`` for a
   permanent one or after ``delivery_max_attempts``, logged as an error and recorded as an
   event so it shows in the office's lists. An outcome is written only while this loop still
   holds the claim (``sending``, claimed by it, at the attempt it claimed): a loop that
   stalled past ``CLAIM_TIMEOUT`` and lost the message to another writes nothing for it.
A loop killed between the server's acceptance and step 3 leaves the row ``sending``; after
``CLAIM_TIMEOUT`` another loop reclaims and sends it again. That window, the one message in
flight on the loop's one connection, is the only way a message can go out twice; the stable
Message-ID lets mail systems drop the copy.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import aiosmtplib
import anyio
import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.channels import Channels
from config.settings import Settings
from models.store.database import writer
from models.store.events import record
from models.tables.event_kinds import EventKind
from models.tables.message import Channel, Message, MessageStatus
from notifications.outcome import Delivered, Failed, Outcome, Postponed
from notifications.webhooks import next_send_time, post
from notifications.work_notice_round import PERSONAL, check_results, fall_back_to_email, send_cards

log = logging.getLogger(__name__)
CLAIM_TIMEOUT = timedelta(minutes=10)
DUE = (MessageStatus.queued, MessageStatus.failed)
SMTP_CONNECTIONS = 3  # connections a round may open when the server keeps hanging up
Done = Callable[[Message, Outcome], Awaitable[None]]  # records an outcome before the next send


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    queued: int = 0  # postponed without an attempt (quiet hours, a per-person limit)


def never_composed(message: Message) -> bool:
    """A dead letter from composition (notifications.compose): stored with nothing to send."""
    return not (message.body_text if message.channel is Channel.webhook else message.raw)


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
    emails = [m for m in claimed if m.channel is Channel.email]
    posts = [m for m in claimed if m.channel is Channel.webhook]
    if emails:
        await (_send_smtp(emails, settings, recorder.add) if settings.smtp_host
               else _write_eml(emails, settings, recorder.add))
    if posts:
        await _post_all(posts, channels, recorder.add)
    cards = [m for m in claimed if m.channel in PERSONAL]
    if cards:
        await send_cards(cards, engine=engine, channels=channels, settings=settings, now=now,
                         done=recorder.add)
    return report


class _Recorder:
    """Commits each outcome as soon as the far end has answered, before the next message is
    sent: a kill then leaves at most the one message in flight unrecorded."""

    def __init__(self, engine: Engine, settings: Settings, channels: Channels, now: datetime,
                 worker: str, report: DeliveryReport) -> None:
        self.engine, self.settings, self.channels, self.now = engine, settings, channels, now
        self.worker, self.report = worker, report

    async def add(self, message: Message, outcome: Outcome) -> None:
        status = await anyio.to_thread.run_sync(partial(
            _record, self.engine, self.settings, self.channels, message, outcome, self.now,
            self.worker))
        if status is not None:
            setattr(self.report, status.value, getattr(self.report, status.value) + 1)


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


def _record(engine: Engine, settings: Settings, channels: Channels, message: Message,
            outcome: Outcome, now: datetime, worker: str) -> MessageStatus | None:
    """One transaction: a single-row UPDATE conditional on the claim still being this loop's
    (``sending``, claimed by it, at the attempt it claimed), plus an event for a dead letter.
    Answers the status written, or None when the claim was lost and nothing was written."""
    status, values = _next_state(settings, channels, message, outcome, now)
    update = sa.update(Message).where(
        col(Message.id) == message.id, col(Message.status) == MessageStatus.sending,
        col(Message.claimed_by) == worker, col(Message.attempts) == message.attempts,
    ).values({"status": status, "claimed_by": None, "sent_at": None, "detail": None,
              "last_error": None} | values)
    # A plain connection, not a Session: this runs once per message sent, and the ORM's
    # bookkeeping would cost more than the UPDATE.
    with writer(engine).connect() as connection:
        if connection.execute(update).rowcount != 1:
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


async def _send_smtp(messages: list[Message], settings: Settings,
                     done: Done) -> None:
    pending = deque(messages)
    for _ in range(SMTP_CONNECTIONS):
        if not pending:
            return
        try:
            async with _smtp(settings) as smtp:
                await _send_over(smtp, pending, settings, done)
        except (ssl.SSLCertVerificationError, aiosmtplib.SMTPAuthenticationError) as exc:
            # Retrying cannot help.
            await _all(pending, Failed(True, f"SMTP configuration: {exc}"), done)
        except (aiosmtplib.SMTPException, OSError) as exc:
            await _all(pending, Failed(False, f"SMTP server unreachable: {exc}"), done)
    await _all(pending, Failed(False, f"SMTP connection lost {SMTP_CONNECTIONS} times in one "
                                      "round"), done)


async def _all(pending: deque[Message], failure: Failed, done: Done) -> None:
    while pending:
        await done(pending.popleft(), failure)


async def _send_over(smtp: aiosmtplib.SMTP, pending: deque[Message], settings: Settings,
                     done: Done) -> None:
    """Send over one connection until none is left or the connection cannot carry more. Each
    outcome is committed before the next message goes out: the server never holds two
    accepted messages whose outcomes a kill could lose."""
    while pending:
        message = pending.popleft()
        outcome, usable = await _send_one(smtp, message, settings)
        await done(message, outcome)
        if not usable or not smtp.is_connected:
            return


def _smtp(settings: Settings) -> aiosmtplib.SMTP:
    password = settings.smtp_password.get_secret_value() or None
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port,
        use_tls=settings.smtp_security == "tls",
        start_tls=True if settings.smtp_security == "starttls" else False,
        username=settings.smtp_username or None, password=password,
        timeout=settings.smtp_timeout_seconds)


async def _send_one(smtp: aiosmtplib.SMTP, message: Message, settings: Settings
                    ) -> tuple[Outcome, bool]:
    """The outcome, and whether the connection can carry the next message."""
    if never_composed(message):
        return Failed(True, "nothing to send: the message was never composed"), True
    try:
        errors, response = await smtp.sendmail(settings.mail_from.email, [message.address],
                                               message.raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        return Failed(not all(400 <= c < 500 for c in codes),
                      "recipient refused: " + "; ".join(f"{r.code} {r.message}"
                                                        for r in exc.recipients)), True
    except aiosmtplib.SMTPResponseException as exc:
        # 421: the server is closing the connection (RFC 5321 3.8).
        return Failed(not 400 <= exc.code < 500, f"SMTP {exc.code} {exc.message}"), \
            exc.code != 421
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
        # Dropped, reset or silent mid-transaction: what the server kept is unknown, so this
        # one is tried again later, and the rest go over a new connection.
        return Failed(False, f"SMTP connection lost: {type(exc).__name__}: {exc}"), False
    except Exception as exc:
        # Not the server's doing (aiosmtplib refuses an address it cannot send, …): retrying
        # cannot help. The connection may be mid-transaction: the rest take a new one.
        log.exception("message %s could not be sent", message.id)
        return Failed(True, f"cannot send: {type(exc).__name__}: {exc}"), False
    refused = {address: r for address, r in errors.items()}
    if refused:  # one recipient per message: a refusal in `errors` is this message's
        code, text = next(iter(refused.values()))
        return Failed(not 400 <= code < 500, f"recipient refused: {code} {text}"), True
    return Delivered(response), True


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

