"""The outbox as the office sees it: one delivery round, listing, and retrying dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.channels import Channels
from config.settings import Settings
from models.store.database import writer
from models.store.events import record
from models.tables.event_kinds import EventKind
from models.tables.message import Message, MessageStatus
from notifications.compose import compose_due
from notifications.delivery import deliver_due
from notifications.outcome import never_composed

MAX_ROUNDS = 50  # one call never loops for ever, whatever keeps arriving
FAILED = (MessageStatus.failed, MessageStatus.dead)  # what `--failed` and the office's filter show


async def deliver_round(*, engine: Engine, settings: Settings, channels: Channels,
                        now: datetime) -> dict[str, int]:
    """Compose finished sweeps into messages, then deliver until nothing due is left. ``dead``
    counts the messages that could not even be composed, too."""
    composed = compose_due(engine=engine, settings=settings, channels=channels, now=now)
    totals = {"emails_composed": composed.emails, "posts_composed": composed.posts,
              "claimed": 0, "sent": 0, "failed": 0, "dead": composed.dead}
    for _ in range(MAX_ROUNDS):
        report = await deliver_due(engine=engine, settings=settings, channels=channels, now=now)
        for name in ("claimed", "sent", "failed", "dead"):
            totals[name] += getattr(report, name)
        if report.claimed == 0 or report.claimed == report.failed + report.dead:
            break
    return totals


def list_messages(*, session: Session, failed_only: bool = False,
                  limit: int | None = 200) -> list[dict[str, Any]]:
    """The newest ``limit`` messages (None: all); `count_messages` says how many there are."""
    query = select(Message).order_by(col(Message.id).desc()).limit(limit)
    if failed_only:
        query = query.where(col(Message.status).in_(FAILED))
    return [{"id": m.id, "channel": m.channel, "address": m.address, "recipient": m.recipient,
             "subject": m.subject, "status": m.status, "attempts": m.attempts,
             "next_attempt_at": m.next_attempt_at, "last_error": m.last_error,
             "sent_at": m.sent_at, "created_at": m.created_at}
            for m in session.exec(query).all()]


def count_messages(*, session: Session, failed_only: bool = False) -> int:
    query = select(sa.func.count()).select_from(Message)
    if failed_only:
        query = query.where(col(Message.status).in_(FAILED))
    return session.exec(query).one()


class NotRetriable(ValueError):
    pass


def retry(*, engine: Engine, message_id: int, actor: str, now: datetime,
          actor_id: int | None = None) -> None:
    """Put a failed or dead message back in the queue now, recording who did it."""
    with Session(writer(engine)) as session:
        message = session.get(Message, message_id)
        if message is None:
            raise NotRetriable(f"no message with id {message_id}")
        if message.status not in (MessageStatus.failed, MessageStatus.dead):
            raise NotRetriable(f"message {message_id} is {message.status.value}: only failed "
                               "or dead messages can be retried")
        if never_composed(message):
            raise NotRetriable(f"message {message_id} was never composed ({message.last_error}); "
                               "sending it again would send nothing")
        session.execute(sa.update(Message).where(col(Message.id) == message_id).values(
            status=MessageStatus.queued, next_attempt_at=now, attempts=0))
        record(session, EventKind.message_retried, at=now, actor=actor, actor_id=actor_id,
               person_id=message.person_id,
               data={"message_id": message_id, "previous_status": message.status,
                     "last_error": message.last_error})
        session.commit()
