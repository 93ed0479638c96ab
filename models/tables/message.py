"""The outbox: every email and group-chat post, recorded before it is sent.

A message is written in the transaction that decides it (composing a sweep's digest, an
action's confirmation) and delivered afterwards by the delivery loop, which claims it, sends
it, and records the outcome. ``key`` is unique: composing twice cannot queue twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, LargeBinary, Text
from sqlmodel import Column, Field, SQLModel

from models.tables.columns import enum_column, json_column, utcnow


class MessageStatus(StrEnum):
    queued = "queued"
    sending = "sending"  # claimed by a delivery loop (claimed_by, claimed_at)
    sent = "sent"
    failed = "failed"    # a temporary failure: tried again at next_attempt_at
    dead = "dead"        # given up: listed for the office, retried only by hand


class Channel(StrEnum):
    email = "email"
    webhook = "webhook"
    dingtalk = "dingtalk"  # a 工作通知 to one person; address: their DingTalk userid
    wecom = "wecom"        # an 应用消息 to one person; address: their WeCom UserID


class Message(SQLModel, table=True):
    __table_args__ = (Index("ix_message_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    channel: Channel = enum_column(Channel)
    address: str = Field(max_length=320)        # an email address, or a webhook target's name
    recipient: str = Field(max_length=200)      # a display name
    person_id: int | None = Field(default=None, foreign_key="person.id")
    template: str = Field(max_length=40)
    subject: str = Field(max_length=500)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))  # empty for webhooks
    # The exact bytes an email goes out as, built when it is queued: what is recorded is what
    # is sent, and sending costs no building. Empty for webhooks.
    raw: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    message_id: str = Field(max_length=300)     # the Message-ID header, stable across attempts
    status: MessageStatus = enum_column(MessageStatus, default=MessageStatus.queued)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    detail: str | None = Field(default=None, max_length=500)  # the far end's answer
    # A DingTalk work notice is sent asynchronously: its task_id, then what DingTalk reports
    # about it (read, unread, failed), fetched in a later round.
    remote_id: str | None = Field(default=None, max_length=100)
    remote_result: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = None
    meta: dict[str, Any] = json_column()        # e.g. the sweep and milestones it covers
    created_at: datetime = Field(default_factory=utcnow)

