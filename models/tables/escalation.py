"""Escalation steps and the notices they queue, one per step.

A step row and its notice are written in one transaction, and a step exists once per
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


class Notice(SQLModel, table=True):
    """What a sweep decided to tell, once per step (or per 逾期未签收 / 催报 it raised): the roles
    to tell, not the people. Who they are is resolved when the sweep's digests are composed
    (notifications/compose.py), from the item's unit and co-units and the directory as it is
    then: a notice is one narrow row, not one per recipient with a copy of the context. ``key``
    makes queueing idempotent; the sweep's digests, one per address, are keyed by address, and
    the sweep is marked composed (``SweepRun.composed_at``) once they all are.

    Few indexes on purpose: a first sweep writes a million of these.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)             # reminder, notice (督办单), leader
    roles: str = Field(max_length=200)           # whom to tell, comma-separated (ROLE_SEPARATOR)
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id",
                                      ondelete="CASCADE")
    # No foreign key: its check on each milestone deleted would read this unindexed table.
    # A notice outlives its milestone only if a re-import deleted a milestone without steps,
    # and composing joins the milestone: such a notice tells no one.
    milestone_id: int
    sweep_id: str = Field(max_length=40, index=True)
    context: dict[str, Any] = json_column()      # the step's facts as of the sweep's day
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def role_list(self) -> list[str]:
        return self.roles.split(ROLE_SEPARATOR)


ROLE_SEPARATOR = ","
