"""What one escalation digest lists. Pure: the items of one person's notices in, the digest out.

A sweep that first sees an item late records every level up to the one reached (escalation.py,
rule 3), and one person can be a recipient at several of them (the office at 督办单 and 领导督办,
a unit head at 催办提醒 and 督办单), so one sweep can owe one address several notices about one
item. The digest is about items, not notices:
1. Each item once, at the highest level (then repeat) among this person's notices: the notice
   that says most about where the item stands.
2. The highest level first, then the earliest due date (the item id breaks ties, so the order
   is the same every time).
3. At most ``cap`` items in full: a digest of hundreds is read by nobody and is heavy on a phone.
   The rest are counted, and linked to the web app's list narrowed by what they all share
   (plan, unit, light: the filters of web/lists.py), where each can be opened.
The subject counts the distinct items, shown or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The filters of the web app's list (web/lists.py), by the item key that holds each one's value:
# the digest's link narrows that list to what the items left out share.
LIST_FILTERS = {"plan": "plan_code", "unit": "unit_code", "light": "light"}


@dataclass(frozen=True)
class Digest:
    shown: list[dict[str, Any]]          # in full, in digest order
    rest: list[Mapping[str, Any]] = field(default_factory=list)  # counted and linked only

    @property
    def total(self) -> int:
        return len(self.shown) + len(self.rest)


def digest_of(items: Iterable[Mapping[str, Any]], *, cap: int) -> Digest:
    """Each item (``milestone_id``) once at its highest ``level`` and ``repeat``, the digest's
    order, and the first ``cap`` of them shown."""
    if cap < 1:
        raise ValueError(f"a digest shows at least one item, not {cap}")
    best: dict[int, Mapping[str, Any]] = {}
    for item in items:
        kept = best.get(item["milestone_id"])
        if kept is None or (item["level"], item["repeat"]) > (kept["level"], kept["repeat"]):
            best[item["milestone_id"]] = item
    ordered = sorted(best.values(),
                     key=lambda i: (-i["level"], i["due_on"], i["milestone_id"]))
    return Digest([dict(i) for i in ordered[:cap]], ordered[cap:])  # the rest as they came


def shared_filters(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The list filters every one of ``items`` has the same value for (an item without a value
    for one, such as a notice queued before its light was recorded, rules that filter out)."""
    values: dict[str, set[Any]] = {name: set() for name in LIST_FILTERS}
    for item in items:
        for name, key in LIST_FILTERS.items():
            values[name].add(item.get(key))
    return {name: value for name, found in values.items() if len(found) == 1
            for value in found if isinstance(value, str)}
