"""Signed item links that have been used: a link opens its item once.

The nonce is the primary key, so a second use of the same link is refused by the database
(two clicks at once cannot both get in), not by a check-then-insert in code.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.tables.columns import utcnow


class LinkUse(SQLModel, table=True):
    __tablename__ = "link_use"

    nonce: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id")
    milestone_id: int
    used_at: datetime = Field(default_factory=utcnow)
