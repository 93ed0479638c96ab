"""The append-only event log: every change, with who, when and why.

Subjects are referenced by plain ids, without foreign keys: the history of a milestone must
outlive the milestone (a re-import may delete one that nothing happened to), and a foreign key
would have to null or delete the event, which the log forbids. The database itself refuses
UPDATE and DELETE on this table (see the first migration).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.tables.columns import json_column
from models.tables.event_kinds import EventInvalid, EventKind, Payload, payload

P = TypeVar("P", bound=Payload)


class Event(SQLModel, table=True):
    # Indexed for reading one item's history and for history over time by kind (bulletins);
    # every other index would slow the busiest writes.
    __table_args__ = (Index("ix_event_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    kind: str = Field(max_length=64)  # "<subject>.<what happened>": milestone.created
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor: str = Field(max_length=500)  # who, readable: a person's email or "import:<file>"
    reason: str | None = Field(default=None, max_length=5000)
    plan_id: int | None = None
    project_id: int | None = Field(default=None, index=True)
    milestone_id: int | None = Field(default=None, index=True)
    indicator_id: int | None = Field(default=None, index=True)
    unit_id: int | None = None
    person_id: int | None = None
    data: dict[str, Any] = json_column()


    def read(self, model: type[P]) -> P:
        """This event's data as its kind's payload ``model`` (models.tables.event_kinds),
        validated; EventInvalid names the event when the row does not fit."""
        found = payload(self.kind, self.data, event_id=self.id)
        if not isinstance(found, model):
            raise EventInvalid(f"event {self.id} is {self.kind}, not a {model.__name__}")
        return found


def is_import_kind(kind: str) -> bool:
    """Whether ``kind`` records a row's making or changing rather than work on it: any other
    event on an item is history a re-import must not erase. (By suffix, so a person's
    creation filed under their unit is not history of the unit either; and a change of a
    milestone's co-units, which only an import makes.)"""
    return (kind == EventKind.co_units_changed
            or kind.rsplit(".", 1)[-1] in ("created", "updated", "removed", "retired",
                                           "restored"))

