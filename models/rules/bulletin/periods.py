"""The periods a bulletin covers: a week (Monday to Sunday), a calendar month, or any run of
days, each compared with the period of the same kind just before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from models.rules.rulebook import Rules


class PeriodKind(StrEnum):
    week = "week"
    month = "month"
    custom = "custom"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period_ending_before(kind: PeriodKind, issued_on: date) -> Period:
    """The period a bulletin issued on ``issued_on`` covers: the last full week (Monday to
    Sunday) or calendar month before that day."""
    if kind is PeriodKind.week:
        monday = issued_on - timedelta(days=issued_on.weekday())
        return Period(kind, monday - timedelta(days=7), monday - timedelta(days=1))
    if kind is PeriodKind.month:
        last = issued_on.replace(day=1) - timedelta(days=1)
        return Period(kind, last.replace(day=1), last)
    raise ValueError("a custom period is given by its days")


def previous_period(period: Period) -> Period:
    """The period of the same kind just before: the week before, the month before, or as many
    days just before a custom period."""
    if period.kind is PeriodKind.month:
        last = period.first - timedelta(days=1)
        return Period(period.kind, last.replace(day=1), last)
    return Period(period.kind, period.first - timedelta(days=period.days),
                  period.first - timedelta(days=1))


def parse_period(text: str, issued_on: date) -> Period:
    """``week``, ``month`` or ``YYYY-MM-DD..YYYY-MM-DD`` (both days included)."""
    text = text.strip()
    if text in (PeriodKind.week.value, PeriodKind.month.value):
        return period_ending_before(PeriodKind(text), issued_on)
    first, sep, last = text.partition("..")
    try:
        if not sep:
            raise ValueError(text)
        period = Period(PeriodKind.custom, date.fromisoformat(first.strip()),
                        date.fromisoformat(last.strip()))
    except ValueError:
        raise ValueError(f"period {text!r}: expected week, month or FROM..TO with dates "
                         "as YYYY-MM-DD, e.g. 2026-11-01..2026-11-30") from None
    if period.last < period.first:
        raise ValueError(f"period {text!r}: ends before it starts")
    return period


def period_end(period: Period, rules: Rules) -> datetime:
    """The first instant after the period, in the rules' time zone."""
    return datetime.combine(period.last + timedelta(days=1), time.min, rules.zone)
