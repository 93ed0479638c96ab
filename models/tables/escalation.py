"""Escalation steps and the notices they queue, one per recipient.

A step row and its notice rows are written in one transaction, and a step exists once per
(milestone, due date in force, level, repeat): that unique key, not the scheduler, is what
makes two concurrent or repeated sweeps produce each notice once. Notices become emails and
group-chat posts in the outbox (models/tables/message.py, notifications/compose.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.tables.columns import json_column, utcnow


class EscalationStep(SQLModel, table=True):
    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("milestone_id", "due_on", "level", "repeat",
                                       name="uq_escalation_step"),)

    id: int | None = Field(default=None, primary_key=True)
    # Looked up by milestone through the unique key, which starts with it (migration 0019).
    milestone_id: int = Field(foreign_key="milestone.id", ondelete="CASCADE")
    due_on: date
    level: int
    repeat: int
    reason: str = Field(max_length=20)
    as_of: date                  # the day the sweep found it due
    recipients: int = 0          # how many people it was queued for
    created_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """One notice for one person: what the sweep decided to tell whom. ``key`` makes queueing
    idempotent. The notices of one sweep to one address become one email (a digest): see
    notifications/compose.py, which sets ``message_id`` when it has put a notice in a message.

    Few indexes on purpose: a first sweep writes millions of these.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)             # reminder, notice (督办单), leader
    person_id: int | None = Field(default=None, foreign_key="person.id")
    address: str = Field(max_length=320)
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id",
                                      ondelete="CASCADE")
    milestone_id: int | None = None
    sweep_id: str | None = Field(default=None, max_length=40)
    context: dict[str, Any] = json_column()
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
