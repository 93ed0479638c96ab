"""The headline figures of a bulletin and the counts they share with each unit's row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from models.rules.bulletin.periods import Period
from models.rules.bulletin.standing import Standing

HEADLINE_KEYS = ("due", "done", "on_time", "on_time_rate", "overdue", "newly_overdue",
                 "completed")


@dataclass(frozen=True)
class Headline:
    """The headline figures, each with its change since the previous period (now − then)."""

    due: int
    done: int
    on_time: int
    on_time_rate: float | None
    overdue: int
    newly_overdue: int
    completed: int
    change: dict[str, float | int | None]  # the same keys; None where either side is None


def headline(now: dict[int, Standing], then: dict[int, Standing], before: dict[int, Standing],
             period: Period, previous: Period) -> Headline:
    counted = counts(now.values(), newly_overdue(now, then), completed_in(now, period))
    counted_then = counts(then.values(), newly_overdue(then, before),
                          completed_in(then, previous))
    return Headline(**counted, change={k: _difference(counted[k], counted_then[k])
                                       for k in HEADLINE_KEYS})


def counts(seen: Iterable[Standing], newly: set[int], completed: set[int]) -> dict[str, Any]:
    rows = list(seen)
    due = sum(s.due for s in rows)
    on_time = sum(s.on_time for s in rows)
    return {"due": due, "done": sum(s.done for s in rows), "on_time": on_time,
            "on_time_rate": on_time / due if due else None,
            "overdue": sum(s.overdue for s in rows),
            "newly_overdue": sum(s.record.id in newly for s in rows),
            "completed": sum(s.record.id in completed for s in rows)}


def completed_in(seen: dict[int, Standing], period: Period) -> set[int]:
    """Claimed within the period and still claimed (or closed) at its end, whether the item
    was due yet or not: an office praises a unit that finishes early in the week it does."""
    return {i for i, s in seen.items() if s.claim_stands and s.status.claimed_on is not None
            and period.first <= s.status.claimed_on <= period.last}


def newly_overdue(now: dict[int, Standing], then: dict[int, Standing]) -> set[int]:
    """Overdue now, and not overdue (or not yet there) at the end of the period before."""
    return {i for i, s in now.items() if s.overdue and not (i in then and then[i].overdue)}


def _difference(now: float | int | None, then: float | int | None) -> float | int | None:
    if now is None or then is None:
        return None
    return now - then
