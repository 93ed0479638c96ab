"""Column helpers every table shares: aware-UTC timestamps, enums stored as plain text, the id of
a saved row and the Core table behind a model.

Enums are stored as VARCHAR, not PostgreSQL enum types, so that a later issue can add a state
without an ``ALTER TYPE`` migration; Python validates the values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, Column, Table, inspect
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


class HasId(Protocol):
    id: int | None


def saved_id(row: HasId) -> int:
    """The id of a row that has been flushed. SQLModel types ``id`` as ``int | None`` because it is
    None until the INSERT; every row read from the database, or added and flushed, has one."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: it was never flushed")
    return row.id


def table_of(model: type[Any]) -> Table:
    """The Core ``Table`` a table model maps, for set-based statements. SQLAlchemy sets
    ``model.__table__``, but SQLModel does not declare it to type checkers."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} does not map a table")
    return table
