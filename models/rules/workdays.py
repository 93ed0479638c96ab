"""Working days in China: which days an office is open, and counting them.

China moves its working days every year: the State Council announces the holidays each autumn and
pays for long breaks with weekend days worked (调休). Per year the office's own file wins (it may
publish a year before the chinese-calendar package does, or correct it), then the package, then
Monday–Friday, marked provisional so that deadlines computed from a guess can be flagged.

Counting is a lookup, not a walk: the years in use are flattened once into a prefix count per day
and a sorted list of workday ordinals, so a sweep over a million milestones pays O(1) per call.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Annotated, Any

import chinese_calendar
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from config.yaml_source import YamlSyntaxError, line_of, load_yaml


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule, as the office transcribed it from the State Council notice."""

    holidays: frozenset[date]  # days off that would otherwise be workdays
    workdays: frozenset[date]  # weekend days worked instead (调休)


class CalendarFileInvalid(ValueError):
    """The calendar file cannot be trusted; one line per problem: ``file:line: where: what``."""


@dataclass(frozen=True)
class _Tables:
    """The loaded years flattened: ``prefix[k]`` counts the workdays on ordinals [base, base+k)."""

    base: int
    end: int             # one past the last loaded ordinal; base == end == 0 before any load
    prefix: list[int]
    workdays: list[int]  # sorted ordinals: workdays[prefix[k]] is the first workday >= base + k


class WorkCalendar:
    """Answers about workdays; safe to share between threads (tables are swapped, not mutated)."""

    def __init__(self, overrides: Mapping[int, YearSchedule] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._tables = _Tables(0, 0, [0], [])
        self._lock = threading.Lock()

    def fingerprint(self) -> str:
        """What this calendar was built from, as text: the office's years and the package's
        version, so that a change to either is seen (flows.sweep re-examines every item)."""
        years = ";".join(f"{year}:{sorted(d.isoformat() for d in schedule.holidays)}:"
                         f"{sorted(d.isoformat() for d in schedule.workdays)}"
                         for year, schedule in sorted(self._overrides.items()))
        return f"chinese-calendar {getattr(chinese_calendar, '__version__', '?')}|{years}"

    @classmethod
    def from_file(cls, path: Path) -> WorkCalendar:
        """The calendar with the overrides of ``path``; a missing file means there are none."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as exc:
            raise CalendarFileInvalid(f"{path}: cannot read: {exc}") from None
        return cls(_parse_calendar(text, str(path)))

    def is_workday(self, day: date) -> bool:
        ordinal = day.toordinal()
        tables = self._covering(ordinal, ordinal)
        return tables.prefix[ordinal - tables.base + 1] != tables.prefix[ordinal - tables.base]

    def is_provisional(self, day: date) -> bool:
        """True when no source knows ``day``'s year, so Monday–Friday was assumed."""
        return day.year not in self._overrides and not _package_covers(day.year)

    def provisional_years(self, first: date, last: date) -> list[int]:
        return [y for y in range(first.year, last.year + 1) if self.is_provisional(date(y, 1, 1))]

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th workday after ``day`` (before it when n < 0; on or after it when n == 0)."""
        ordinal = day.toordinal()
        tables = self._covering(ordinal, ordinal)
        while True:
            k = ordinal - tables.base
            index = tables.prefix[k + 1] + n - 1 if n > 0 else tables.prefix[k] + n
            if 0 <= index < len(tables.workdays):
                return date.fromordinal(tables.workdays[index])
            # The answer lies beyond the loaded years: reach past it in one widening.
            edge = tables.end + 2 * (index - len(tables.workdays)) if index >= 0 else (
                tables.base - 1 + 2 * index)
            tables = self._covering(edge, edge)

    def workdays_between(self, start: date, end: date) -> int:
        """The number of workdays d with start < d <= end; 0 when end <= start."""
        if end <= start:
            return 0
        first, last = start.toordinal(), end.toordinal()
        tables = self._covering(first, last)
        return tables.prefix[last - tables.base + 1] - tables.prefix[first - tables.base + 1]

    def _covering(self, first: int, last: int) -> _Tables:
        tables = self._tables
        if tables.base <= first and last < tables.end:
            return tables
        return self._widen(date.fromordinal(first).year, date.fromordinal(last).year)

    def _widen(self, first: int, last: int) -> _Tables:
        """Load the years first..last and those between them and the loaded ones, each year
        once; the flat tables are rebuilt (O(loaded days), rare) and swapped in whole."""
        with self._lock:
            old = self._tables
            low, high = (date.fromordinal(old.base).year, date.fromordinal(old.end - 1).year
                         ) if old.end else (first, first - 1)
            workdays = [o for y in range(first, low) for o in self._workdays_of(y)]
            workdays += old.workdays
            workdays += [o for y in range(high + 1, last + 1) for o in self._workdays_of(y)]
            base = date(min(low, first), 1, 1).toordinal()
            end = date(max(high, last), 12, 31).toordinal() + 1
            flags = bytearray(end - base)
            for ordinal in workdays:
                flags[ordinal - base] = 1
            self._tables = _Tables(base, end, [0, *accumulate(flags)], workdays)
            return self._tables

    def _workdays_of(self, year: int) -> list[int]:
        days = map(date.fromordinal,
                   range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1))
        if (schedule := self._overrides.get(year)) is not None:
            return [d.toordinal() for d in days if d in schedule.workdays
                    or (d.weekday() < 5 and d not in schedule.holidays)]
        if _package_covers(year):
            return [d.toordinal() for d in days if chinese_calendar.is_workday(d)]
        return [d.toordinal() for d in days if d.weekday() < 5]


@cache
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


# --- the calendar file (config/calendar.yaml) --------------------------------------------------

_DAY = r"\d{4}-\d{1,2}-\d{1,2}"
_SPAN = re.compile(rf"\s*({_DAY})\s*(?:\.\.\s*({_DAY}))?\s*")


def _to_date(text: str) -> date | None:
    try:
        return date(*map(int, text.split("-")))
    except ValueError:
        return None


def _span(value: Any) -> tuple[date, date]:
    """A date or a FROM..TO range; ruamel reads a bare date as a date but a range as text."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, value
    found = _SPAN.fullmatch(value) if isinstance(value, str) else None
    first, last = (_to_date(found[1]), _to_date(found[2] or found[1])) if found else (None, None)
    if first is None or last is None:
        raise ValueError(f"expected a date YYYY-MM-DD or a range FROM..TO, got {value!r}")
    if first > last:
        raise ValueError(f"the range {value!r} ends before it starts")
    return first, last


class _YearEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    holidays: list[Annotated[tuple[date, date], BeforeValidator(_span)]] = []
    workdays: list[Annotated[tuple[date, date], BeforeValidator(_span)]] = []


_CALENDAR = TypeAdapter(dict[Annotated[int, Field(strict=True, ge=1000, le=9999)], _YearEntry])
_Problem = tuple[tuple[Any, ...], str]


def _parse_calendar(text: str, name: str) -> dict[int, YearSchedule]:
    """Read, validate and cross-check the file, reporting every problem with its line at once."""
    try:
        document = load_yaml(text)
    except YamlSyntaxError as exc:
        raise CalendarFileInvalid(f"{_at(name, exc.line)}: YAML syntax: {exc.message}") from None
    try:
        years = _CALENDAR.validate_python({} if document is None else document)
    except ValidationError as exc:
        problems = [_pydantic_problem(error) for error in exc.errors(include_url=False)]
    else:
        problems = [p for year, entry in years.items() for p in _cross_check(year, entry)]
    if problems:
        raise CalendarFileInvalid("\n".join(
            f"{_at(name, line_of(document, path))}: {'.'.join(map(str, path)) or '-'}: {message}"
            for path, message in problems))
    return {year: YearSchedule(_days(entry.holidays), _days(entry.workdays))
            for year, entry in years.items()}


def _at(name: str, line: int | None) -> str:
    return f"{name}:{line}" if line else name


def _pydantic_problem(error: Any) -> _Problem:
    path, message = tuple(error["loc"]), error["msg"].removeprefix("Value error, ")
    if path[-1:] == ("[key]",):
        path, message = path[:-1], f"expected a 4-digit year, got {error['input']!r}"
    elif error["type"] == "extra_forbidden":
        message = "unknown key (expected holidays or workdays)"
    elif error["type"] in ("dict_type", "model_type"):
        message = "expected a mapping: {YEAR: {holidays: [...], workdays: [...]}}"
    return path, message


def _cross_check(year: int, entry: _YearEntry) -> list[_Problem]:
    problems: list[_Problem] = []
    for field in ("holidays", "workdays"):
        for i, (first, last) in enumerate(getattr(entry, field)):
            if first.year != year or last.year != year:
                span = first if first == last else f"{first}..{last}"
                problems.append(((year, field, i), f"{span} is not in {year}"))
    both = _days(entry.holidays) & _days(entry.workdays)
    for i, (first, last) in enumerate(entry.workdays):
        if clash := sorted(d for d in both if first <= d <= last):
            problems.append(((year, "workdays", i), f"{clash[0]} is also listed under holidays"))
    return problems


def _days(spans: list[tuple[date, date]]) -> frozenset[date]:
    return frozenset(date.fromordinal(o) for first, last in spans
                     for o in range(first.toordinal(), last.toordinal() + 1))
