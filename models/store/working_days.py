"""Keeping the working-day table (models.tables.working_day) equal to the calendar in force.

The table is derived data: rebuilt whole, in one transaction, when the calendar's fingerprint
(``WorkCalendar.fingerprint``: the office's years and the package's version) differs from the
one it was built from, or when it does not cover the days asked for. Sweeps under one calendar
find it current and pay one indexed read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from models.rules.workdays import WorkCalendar
from models.tables.columns import table_of
from models.tables.working_day import WorkingDay, WorkingDaySource

DAYS, SOURCE = table_of(WorkingDay), table_of(WorkingDaySource)
_NEVER = date(1, 1, 1)  # the placeholder source row covers no day


@dataclass(frozen=True)
class Today:
    """Today's row, which every statement compares with."""

    day: date
    workday_number: int
    provisional: bool


def calendar_fingerprint(calendar: WorkCalendar) -> str:
    return hashlib.sha256(calendar.fingerprint().encode()).hexdigest()[:16]


def ensure_working_days(connection: sa.Connection, calendar: WorkCalendar, first: date,
                        last: date, *, rebuild: bool = True) -> bool:
    """Make the table hold ``calendar``'s days from ``first`` to ``last`` at least (whole
    years); whether it does (False only when it is stale and ``rebuild`` is off: a dry run
    writes nothing). Run in its own transaction: the source row is locked first, so two
    sweeps at once rebuild it once."""
    fingerprint = calendar_fingerprint(calendar)
    postgres = connection.dialect.name == "postgresql"
    if rebuild:
        insert = postgresql.insert if postgres else sqlite.insert
        connection.execute(insert(SOURCE).values(id=1, fingerprint="", first_day=_NEVER,
                                                 last_day=_NEVER).on_conflict_do_nothing())
    query = sa.select(SOURCE.c.fingerprint, SOURCE.c.first_day, SOURCE.c.last_day).where(
        SOURCE.c.id == 1)
    built, built_first, built_last = connection.execute(
        query.with_for_update() if postgres and rebuild else query).first() or ("", _NEVER,
                                                                               _NEVER)
    if built == fingerprint and built_first <= first and last <= built_last:
        return True
    if not rebuild:
        return False
    if built == fingerprint:  # the same calendar: widen, never narrow
        first, last = min(first, built_first), max(last, built_last)
    first, last = date(first.year, 1, 1), date(last.year, 12, 31)
    connection.execute(DAYS.delete())
    connection.execute(DAYS.insert(), _rows(calendar, first, last))
    connection.execute(SOURCE.update().where(SOURCE.c.id == 1).values(
        fingerprint=fingerprint, first_day=first, last_day=last))
    if postgres:
        connection.exec_driver_sql("ANALYZE working_day")
    return True


def _rows(calendar: WorkCalendar, first: date, last: date) -> list[dict[str, object]]:
    rows, count, day = [], 0, first
    while day <= last:
        workday = calendar.is_workday(day)
        count += workday
        rows.append({"day": day, "day_number": day.toordinal(), "workday_number": count,
                     "workday": workday, "provisional": calendar.is_provisional(day)})
        day += timedelta(days=1)
    return rows


def today_row(connection: sa.Connection, today: date) -> Today | None:
    """Today as the table has it (None: outside the table)."""
    found = connection.execute(sa.select(DAYS.c.workday_number, DAYS.c.provisional).where(
        DAYS.c.day == today)).first()
    return None if found is None else Today(today, found[0], found[1])
