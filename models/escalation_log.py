"""Escalation steps and the notifications they queue: the outbox of the supervision engine.

A step row and its notification rows are written in one transaction, and a step exists once
per (milestone, due date in force, level, repeat): that unique key, not the scheduler, is what
makes two concurrent or repeated sweeps produce each notice once.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import enum_column, json_column, utcnow


class EscalationStep(SQLModel, table=True):
    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("milestone_id", "due_on", "level", "repeat",
                                       name="uq_escalation_step"),)

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestone.id", ondelete="CASCADE", index=True)
    due_on: date
    level: int
    repeat: int
    reason: str = Field(max_length=20)
    as_of: date                  # the day the sweep found it due
    recipients: int = 0          # how many people it was queued for
    created_at: datetime = Field(default_factory=utcnow)


class DeliveryStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"   # a temporary failure; retried at next_attempt_at
    dead = "dead"       # given up: listed for the office, can be retried by hand


class Notification(SQLModel, table=True):
    """One message to one person. ``key`` makes queueing idempotent.

    Few indexes on purpose: a first sweep writes millions of these. The delivery loop finds
    its work through (status, next_attempt_at); everything else is read by id or person.
    """

    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)             # template: reminder, notice, leader, …
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    address: str = Field(max_length=320)
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id",
                                      ondelete="CASCADE")
    milestone_id: int | None = None
    sweep_id: str | None = Field(default=None, max_length=40)  # digest grouping
    context: dict[str, Any] = json_column()
    status: DeliveryStatus = enum_column(DeliveryStatus, default=DeliveryStatus.queued)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    message_id: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
