"""The outbox's part for messages to one person on DingTalk or WeCom.

Such a message is composed like an e-mail (its subject, text and the e-mail's bytes) and then
routed to the person's chosen app (`routed`). The delivery loop claims it like any other
message and records every outcome the same way; here it is:
1. postponed, not attempted, while the quiet hours last or while the app's per-person limit
   (work_notices.MEMBER_LIMITS, counted from this outbox's own sent rows) is reached;
2. sent as a card with one button that opens the person's signed link;
3. when the app refuses it for good (no app configured, a user id it does not know) or
   DingTalk later reports it undelivered, given up on that channel and queued as an e-mail
   to the person, from the bytes composed with it, under the key ``<key>:email``: the person
   is still told, exactly once, and the office sees why in the dead letters.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import anyio
import httpx
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from config.channels import Channels
from config.settings import Settings
from models.store.database import writer
from models.store.events import record
from models.tables.columns import table_of
from models.tables.event_kinds import EventKind
from models.tables.message import Channel, Message, MessageStatus
from models.tables.person import NotifyVia, Person
from notifications.outcome import Done, Failed, Outcome, Postponed
from notifications.webhooks import next_send_time
from notifications.work_notices import Card, DingTalkWorkNotice, Refused, deliver, member_wait

log = logging.getLogger(__name__)
PERSONAL = (Channel.dingtalk, Channel.wecom)
NAMES = {Channel.dingtalk: "钉钉", Channel.wecom: "企业微信"}
RESULTS_PER_ROUND = 100


def routed(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    """An e-mail row to a person, sent instead to their DingTalk or WeCom when they chose it
    and have a user id there. The e-mail's bytes stay in the row, for the fallback."""
    if row["channel"] is not Channel.email or row["person_id"] is None:
        return row
    person = session.get(Person, row["person_id"])
    if person is None or person.notify_via is NotifyVia.email:
        return row
    userid = (person.dingtalk_userid if person.notify_via is NotifyVia.dingtalk
              else person.wecom_userid)
    if not userid:
        return row
    return row | {"channel": Channel(person.notify_via.value), "address": userid}


async def send_cards(messages: list[Message], *, engine: Engine, channels: Channels,
                     settings: Settings, now: datetime, done: Done) -> None:
    sent = await anyio.to_thread.run_sync(lambda: _sent_recently(engine, messages, now))
    async with httpx.AsyncClient(timeout=10) as client:
        for message in messages:
            outcome = await _send_card(message, client, channels, settings, now, sent)
            await done(message, outcome)


async def _send_card(message: Message, client: httpx.AsyncClient, channels: Channels,
                     settings: Settings, now: datetime,
                     sent: dict[tuple[str, str], list[datetime]]) -> Outcome:
    name = NAMES[message.channel]
    app = channels.apps.dingtalk if message.channel is Channel.dingtalk else channels.apps.wecom
    if app is None:
        return Failed(True, f"config/channels.yaml 未配置{name}应用")
    if not message.raw:
        return Failed(True, "nothing to send: the message was never composed")
    if channels.quiet_hours is not None:
        opens = next_send_time(now, channels.quiet_hours, settings.zone)
        if opens > now:
            return Postponed(opens, "防打扰时段")
    mine = sent[(message.channel.value, message.address)]
    wait = member_wait(message.channel.value, mine, now)
    if wait is not None:
        return Postponed(wait, f"{name}对每人的发送频率限制")
    card = Card(title=message.subject, text=message.body_text,
                url=str(message.meta.get("link") or settings.base_url),
                receipt_url=message.meta.get("receipt_link"))
    outcome = await deliver(app, message.address, card, client)
    if not isinstance(outcome, Failed):
        mine.append(now)
    return outcome


def _sent_recently(engine: Engine, messages: list[Message], now: datetime
                   ) -> dict[tuple[str, str], list[datetime]]:
    """When each addressee of these messages was last sent to, over the longest limit window."""
    addresses = {m.address for m in messages}
    sent: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    if not addresses:
        return sent
    with Session(engine) as session:
        rows = session.exec(select(Message.channel, Message.address, Message.sent_at).where(
            col(Message.channel).in_(PERSONAL), col(Message.address).in_(addresses),
            col(Message.sent_at) > now - timedelta(days=1))).all()
    for channel, address, at in rows:
        if at is not None:
            sent[(str(channel), address)].append(at)
    return sent


def fall_back_to_email(connection: Connection, message: Message, now: datetime) -> int | None:
    """Queue, in the caller's transaction, the e-mail composed with a personal message that
    could not reach its person; its id, or None when queued before or there is no one to mail."""
    email = connection.execute(sa.select(table_of(Person).c.email).where(
        table_of(Person).c.id == message.person_id)).scalar_one_or_none()
    if email is None or not message.raw:
        return None
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = table_of(Message)
    row = {"key": f"{message.key}:email"[:300], "channel": Channel.email, "address": email,
           "recipient": message.recipient, "person_id": message.person_id,
           "template": message.template, "subject": message.subject,
           "body_text": message.body_text, "body_html": message.body_html, "raw": message.raw,
           "message_id": message.message_id, "status": MessageStatus.queued, "attempts": 0,
           "next_attempt_at": now, "meta": message.meta | {"instead_of": message.id},
           "created_at": now}
    return connection.execute(dialect.insert(table).values(**row)
                              .on_conflict_do_nothing(index_elements=["key"])
                              .returning(table.c.id)).scalar_one_or_none()


async def check_results(*, engine: Engine, channels: Channels, now: datetime) -> int:
    """Ask DingTalk what became of the work notices it accepted in earlier rounds; record
    each answer, and mail the person whose notice did not reach them. How many were checked."""
    app = channels.apps.dingtalk
    if app is None:
        return 0
    pending = await anyio.to_thread.run_sync(lambda: _accepted_unchecked(engine, now))
    async with httpx.AsyncClient(timeout=10) as client:
        notice = DingTalkWorkNotice(app, client)
        for message in pending:
            try:
                phrase, failed = await notice.result(str(message.remote_id), message.address)
            except (Refused, httpx.HTTPError, ValueError, KeyError) as exc:
                log.warning("work notice %s: result not available yet: %s", message.id, exc)
                continue
            await anyio.to_thread.run_sync(
                partial(_record_result, engine, message, phrase, failed, now))
    return len(pending)


def _accepted_unchecked(engine: Engine, now: datetime) -> list[Message]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(Message).where(
            Message.channel == Channel.dingtalk, Message.status == MessageStatus.sent,
            col(Message.remote_id).is_not(None), col(Message.remote_result).is_(None),
            col(Message.sent_at) < now).order_by(col(Message.id)).limit(RESULTS_PER_ROUND)).all())


def _record_result(engine: Engine, message: Message, phrase: str, failed: bool,
                   now: datetime) -> None:
    with writer(engine).connect() as connection:
        changed = connection.execute(sa.update(Message).where(
            col(Message.id) == message.id, col(Message.remote_result).is_(None))
            .values(remote_result=phrase[:200])).rowcount
        if changed == 1 and failed:
            email_id = fall_back_to_email(connection, message, now)
            reason = f"钉钉工作通知未送达：{phrase}" + (f"（已改发电子邮件 #{email_id}）"
                                                     if email_id else "")
            with Session(connection) as session:
                record(session, EventKind.message_dead, at=now, actor="system:delivery",
                       reason=reason, person_id=message.person_id,
                       data={"message_id": message.id, "address": message.address,
                             "attempts": message.attempts})
                session.flush()
        connection.commit()
