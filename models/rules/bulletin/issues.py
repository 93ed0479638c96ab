"""A bulletin's issue number (期号): 2017年第3期, counted per scope (a plan, or every plan) and
year, in the order the issues are first generated.

1. The year is that of the period's last day (the week of 29 December 2025 to 4 January 2026
   is an issue of 2026).
2. The two editions of one period are one issue: they share its number.
3. A period's number, once given, is kept: regenerating a past bulletin prints the number it
   was issued under, and numbers never shift when an older period is generated late (that one
   takes the next number, as a late issue would on paper).
4. A new period's number is one more than the highest the scope has that year (1 for its first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Issued:
    """A stored bulletin, as far as its number goes."""

    period_first: date
    period_last: date
    issue_year: int | None
    issue_number: int | None


def issue_of(first: date, last: date, stored: Iterable[Issued]) -> tuple[int, int]:
    """(year, number) of the period ``first``..``last`` among the scope's ``stored`` bulletins
    (every edition, this period's too)."""
    year = last.year
    taken = []
    for row in stored:
        if row.issue_number is None or row.issue_year is None:
            continue
        if (row.period_first, row.period_last) == (first, last):
            return row.issue_year, row.issue_number  # rules 2 and 3
        if row.issue_year == year:
            taken.append(row.issue_number)
    return year, max(taken, default=0) + 1
