"""Personal API tokens for scripts calling /api: shown once, stored as a SHA-256 digest.

A token is 256 random bits, so a fast digest is enough (nothing to brute-force, unlike a
password); the digest is the primary key, so a lookup is one indexed read. Revoked, not deleted:
the log of who called what keeps its meaning. Every token expires (`expires_at`); a read-only
one may only read; `last_used_at` is kept to the minute (models.store.api_tokens).
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
    expires_at: datetime  # refused from this moment on
    read_only: bool = False
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
