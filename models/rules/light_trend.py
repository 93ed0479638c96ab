"""How many items were red on given days, from their recorded light changes: a pure fold.

Each status change records the light it left and the light it came to
(``milestone.status_changed``: ``light = [old, new]``). An item's light on a day is the new
light of its last change at or before that day's end; before its first change it is the light
its first change left; an item with no change at all has had its current light throughout.
So only the changes since the first day are needed, not the whole history: the cost follows
what changed in the period. Items are grouped by whatever key the caller gives (plan, unit).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import datetime


def red_counts(changes: Iterable[tuple[int, datetime, str | None, str]],
               group_of: Mapping[int, Hashable], ends: Sequence[datetime],
               current_lights: Mapping[int, str] | None = None) -> dict[Hashable, list[int]]:
    """For each group, the number of its items red at each of ``ends`` (in that order).

    ``changes``: (item id, when, old light, new light), ordered by item, then time, at least
    every change after ``ends[0]``; items not in ``group_of`` (retired ones) are skipped.
    ``current_lights``: each item's light now, for the items with no change in ``changes``.
    """
    counts: dict[Hashable, list[int]] = defaultdict(lambda: [0] * len(ends))
    changed: set[int] = set()
    current: int | None = None
    history: list[tuple[datetime, str | None, str]] = []

    def settle() -> None:
        if current is None or current not in group_of or not history:
            return
        row = counts[group_of[current]]
        times = [at for at, _, _ in history]
        for n, end in enumerate(ends):
            last = bisect_right(times, end)  # the changes at or before the day's end
            if (history[last - 1][2] if last else history[0][1]) == "red":
                row[n] += 1

    for item, at, old, new in changes:
        if item != current:
            settle()
            current, history = item, []
            changed.add(item)
        history.append((at, old, new))
    settle()
    for item, light in (current_lights or {}).items():
        if light == "red" and item not in changed and item in group_of:
            counts[group_of[item]] = [n + 1 for n in counts[group_of[item]]]
    return dict(counts)
