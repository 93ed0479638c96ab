"""The numbered 督办单 (supervision order) and the per-office, per-year sequence of its 文号.

An order is issued in the transaction that records the escalation step it belongs to, and
takes its number from ``order_sequence`` in that same transaction: a rolled-back step gives
its number back, so numbers are never skipped; the row lock (PostgreSQL) or the write lock
(SQLite) on the sequence makes two sweeps at once take consecutive, distinct numbers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.tables.columns import utcnow


class OrderSequence(SQLModel, table=True):
    __tablename__ = "order_sequence"

    office: str = Field(primary_key=True, max_length=20)
    year: int = Field(primary_key=True)
    last: int = 0  # the last number issued in that year


class SupervisionOrder(SQLModel, table=True):
    __tablename__ = "supervision_order"
    __table_args__ = (UniqueConstraint("office", "year", "seq", name="uq_order_number"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=80, unique=True)     # the 文号, e.g. 督办〔2025〕3号
    office: str = Field(max_length=20)
    year: int
    seq: int
    milestone_id: int = Field(foreign_key="milestone.id", index=True)
    escalation_id: int = Field(foreign_key="escalation.id", unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    level: int
    level_name: str = Field(max_length=40)
    reason: str = Field(max_length=20)
    due_on: date                 # the due date in force when it was issued
    overdue_workdays: int
    issued_on: date              # the sweep's day, Asia/Shanghai
    issued_at: datetime = Field(default_factory=utcnow)
    receipt_due_on: date         # 签收 by the end of this working day
    received_at: datetime | None = None
    received_by: int | None = Field(default=None, foreign_key="person.id")
    receipt_overdue_at: datetime | None = None  # when 逾期未签收 was raised: once, never again


class FeedbackChase(SQLModel, table=True):
    """A 催报: an item under an order missed the progress report due on ``due_on``. The key
    makes it once per missed date, however many sweeps see it."""

    __tablename__ = "feedback_chase"

    milestone_id: int = Field(foreign_key="milestone.id", primary_key=True)
    due_on: date = Field(primary_key=True)
    raised_at: datetime = Field(default_factory=utcnow)
