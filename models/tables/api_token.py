"""Personal API tokens for scripts calling /api: shown once, stored as a SHA-256 digest.

A token is 256 random bits, so a fast digest is enough (nothing to brute-force, unlike a
password); the digest is the primary key, so a lookup is one indexed read. Revoked, not deleted:
the log of who called what keeps its meaning.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.tables.columns import utcnow


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    digest: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
