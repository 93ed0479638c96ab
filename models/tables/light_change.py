"""What time alone changed: an item's state and light as a sweep found them, one narrow row per
change.

A sweep that finds an item turned due soon, overdue or red because days passed records the
change here, not as an event: the change follows from the item's due date and the calendar, so
it needs no seal of its own, and a first sweep over a million items writes a million narrow rows
instead of a million sealed events with their JSON. The sweep itself is one event
(``sweep.lights_changed``, with how many). Changes a person's action brings about stay events,
with the action. Readers take both (models.store.light_changes): the item and project pages,
the API's history, the digest's history lines and the overview's trend.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class LightChange(SQLModel, table=True):
    __tablename__ = "light_change"
    # One item's changes in order (its history); all changes since a day (the overview's trend).
    __table_args__ = (Index("ix_light_change_milestone_at", "milestone_id", "at"),
                      Index("ix_light_change_at", "at"))

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestone.id", ondelete="CASCADE")
    at: datetime
    state_from: str = Field(max_length=20)
    state_to: str = Field(max_length=20)
    light_from: str = Field(max_length=20)
    light_to: str = Field(max_length=20)
    due_on: date
    overdue_workdays: int
