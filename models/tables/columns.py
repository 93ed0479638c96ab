"""Column helpers every table shares: aware-UTC timestamps and enums stored as plain text.

Enums are stored as VARCHAR, not PostgreSQL enum types, so that a later issue can add a state
without an ``ALTER TYPE`` migration; Python validates the values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.types import Enum as SAEnum
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(enum: type[StrEnum], *, nullable: bool = False, default: StrEnum | None = None,
                index: bool = False) -> Any:
    column_type = SAEnum(enum, native_enum=False, create_constraint=False, length=20,
                         values_callable=lambda members: [m.value for m in members])
    return Field(default=default, sa_column=Column(column_type, nullable=nullable, index=index))


def json_column() -> Any:
    """A JSON dict. Assign a new dict to change it: in-place mutation is not saved."""
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
