"""Sweeps that count: one row per sweep, its digests composed once it has finished."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel


class SweepRun(SQLModel, table=True):
    """A sweep that counts (not a dry run): its digests are composed once it has finished."""

    __tablename__ = "sweep"

    id: str = Field(primary_key=True, max_length=40)
    as_of: date
    started_at: datetime
    finished_at: datetime | None = None
    evaluated: int = 0
    changed: int = 0
    escalated: int = 0
    notifications: int = 0
    # The rules it ran under (models.rules.rulebook.Rules.fingerprint), for a full sweep only.
    rules: str | None = Field(default=None, max_length=16)
    # When its digests were all composed (notifications/compose.py): its notices are done with.
    composed_at: datetime | None = None
