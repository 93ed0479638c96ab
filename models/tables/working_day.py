"""The working-day table: the calendar flattened into rows, so that SQL can count working days.

A copy of what ``models.rules.workdays.WorkCalendar`` answers, written by
``models.store.working_days`` whenever the calendar's fingerprint changes; never edited by hand.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel


class WorkingDay(SQLModel, table=True):
    """One day. ``workday_number`` counts the working days from the table's first day up to and
    including this one, so "working days between" is a subtraction and "the n-th working day
    after" is a join on ``workday_number`` (among working days)."""

    __tablename__ = "working_day"

    day: date = Field(primary_key=True)
    day_number: int = Field(index=True)       # date.toordinal(): day arithmetic as integers
    workday_number: int = Field(index=True)
    workday: bool
    provisional: bool                         # Monday–Friday assumed: no source knows the year


class WorkingDaySource(SQLModel, table=True):
    """What the table was built from: the calendar's fingerprint and the days it covers."""

    __tablename__ = "working_day_source"

    id: int = Field(default=1, primary_key=True)
    fingerprint: str = Field(max_length=16)
    first_day: date
    last_day: date
