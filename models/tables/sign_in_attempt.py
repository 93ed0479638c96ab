"""Sign-in attempts in the limiter's window: one row per password that was (or is being)
checked and did not succeed. A success deletes its email's rows; rows past the window are
pruned when the next attempt is reserved (models.store.sign_in_attempts)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class SignInAttempt(SQLModel, table=True):
    __tablename__ = "sign_in_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    address: str = Field(max_length=64, index=True)
    attempted_at: datetime = Field(index=True)
