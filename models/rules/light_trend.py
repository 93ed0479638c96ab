"""How many items were red on given days, from their recorded light changes: a pure fold.

Each status change records the light it left and the light it came to
(``milestone.status_changed``: ``light = [old, new]``). An item's light on a day is the new
light of its last change at or before that day's end; before its first change it is the light
its first change left; an item with no change at all has had its current light throughout.
So only the changes since the first day are needed, not the whole history: the cost follows
what changed in the period. Items are grouped by whatever key the caller gives (plan, unit).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import accumulate


def red_counts(changes: Iterable[tuple[int, datetime, str | None, str]],
               group_of: Mapping[int, Hashable], ends: Sequence[datetime],
               current_lights: Mapping[int, str] | None = None) -> dict[Hashable, list[int]]:
    """For each group, the number of its items red at each of ``ends`` (in that order).

    ``changes``: (item id, when, old light, new light), ordered by item, then time, at least
    every change after ``ends[0]``; items not in ``group_of`` (retired ones) are skipped.
    ``current_lights``: each item's light now, for the items with no change in ``changes``.
    """
    # Per group, a difference array over the days: each red stretch of an item adds one from
    # the first day it covers to the first day it no longer does (two bisections a stretch,
    # not one a day).
    diffs: dict[Hashable, list[int]] = defaultdict(lambda: [0] * (len(ends) + 1))
    changed: set[int] = set()
    current: int | None = None
    history: list[tuple[datetime, str | None, str]] = []

    def settle() -> None:
        if current is None or current not in group_of or not history:
            return
        diff = diffs[group_of[current]]
        stretches: list[tuple[datetime | None, datetime | None, str | None]] = [
            (None, history[0][0], history[0][1])]  # before its first change
        stretches += [(at, history[k + 1][0] if k + 1 < len(history) else None, new)
                      for k, (at, _, new) in enumerate(history)]
        for since, until, light in stretches:
            if light == "red":
                first = 0 if since is None else bisect_left(ends, since)
                stop = len(ends) if until is None else bisect_left(ends, until)
                diff[first] += 1
                diff[stop] -= 1

    for item, at, old, new in changes:
        if item != current:
            settle()
            current, history = item, []
            changed.add(item)
        history.append((at, old, new))
    settle()
    for item, light in (current_lights or {}).items():
        if light == "red" and item not in changed and item in group_of:
            diffs[group_of[item]][0] += 1
    return {group: list(accumulate(diff[:-1])) for group, diff in diffs.items()}
