"""The ranking of units, its 红榜 and 黑榜, and each unit's row.

The office's rules (the bulletin prints the 红榜's under its heading):
1. Peers. A unit is ranked among its peers: the units of its own plan, or the peer group the
   office sets in the policy (``bulletin.peer_groups``: a group's name and its unit codes). A
   bulletin across plans so never places a Beijing district beside a provincial department;
   each peer group has its own places 1, 2, 3…, and its own 红榜 and 黑榜. A unit with items in
   several plans and no group is ranked in the first of them by code.
2. Places. Within its peers, by on-time rate (higher first), then more items on time, then
   fewer overdue, then the unit code: every place distinct, the same data the same order.
3. 红榜 (praise): only units that did well: an on-time rate of at least
   ``bulletin.honour_min_on_time_rate`` (90%) and no overdue (red) item at the period's end;
   of those, the best placed, at most ``bulletin.honour_places`` (3) and at most half the
   group's ranked units. A period where nobody did well has an empty 红榜, not one of the least
   bad.
4. 黑榜: the last places among units not all on time, as many as the 红榜 may hold at most
   (and at most half the group), never a unit on the 红榜.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from models.rules.bulletin.headline import counts
from models.rules.bulletin.standing import Standing

HONOUR = 3  # places on the 红榜 and on the 黑榜 when the policy says nothing


@dataclass(frozen=True)
class HonourRule:
    """Who may go on the 红榜, as the bulletin states it (kept with its figures)."""

    min_on_time_rate: float = 0.9
    places: int = HONOUR


@dataclass(frozen=True)
class UnitRow:
    unit_code: str
    unit_name: str
    due: int
    done: int
    on_time: int
    on_time_rate: float | None
    overdue: int
    newly_overdue: int
    completed: int
    place: int | None           # 1 = best among its peers; None: nothing due, not ranked
    previous_place: int | None  # None: not ranked in the previous period
    movement: int | None        # previous_place − place (positive: moved up); None if either is
    peers: str = ""             # its peer group's key (a plan code or a group's name)


def peer_of(unit_code: str, plans: Sequence[str], groups: Mapping[str, Sequence[str]]) -> str:
    """The key of the peers ``unit_code`` is ranked among: the office's group that lists it,
    else the first by code of the plans its items are in."""
    for group, codes in groups.items():
        if unit_code in codes:
            return group
    return min(plans) if plans else ""


def unit_rows(now: dict[int, Standing], then: dict[int, Standing], newly: set[int],
              completed: set[int],
              groups: Mapping[str, Sequence[str]] | None = None) -> list[UnitRow]:
    """Ranked units by peer group and place, then the units with nothing due by code."""
    names: dict[str, str] = {}
    by_unit: dict[str, list[Standing]] = defaultdict(list)
    for seen in now.values():
        names[seen.record.unit_code] = seen.record.unit_name
        by_unit[seen.record.unit_code].append(seen)
    then_by_unit: dict[str, list[Standing]] = defaultdict(list)
    for seen in then.values():
        then_by_unit[seen.record.unit_code].append(seen)
    peers = {code: peer_of(code, sorted({s.record.plan for s in rows}), groups or {})
             for code, rows in (then_by_unit | by_unit).items()}
    counted = {code: counts(rows, newly, completed) for code, rows in by_unit.items()}
    places = rank_among_peers(counted, peers)
    before = rank_among_peers({code: counts(rows, set(), set())
                               for code, rows in then_by_unit.items()}, peers)
    rows = []
    for code, c in counted.items():
        place, previous_place = places.get(code), before.get(code)
        rows.append(UnitRow(
            unit_code=code, unit_name=names[code], **c, place=place,
            previous_place=previous_place,
            movement=None if place is None or previous_place is None
            else previous_place - place, peers=peers[code]))
    return sorted(rows, key=lambda r: (r.place is None, r.peers if r.place else "",
                                       r.place or 0, r.unit_code))


def rank_among_peers(counts: dict[str, dict[str, Any]],
                     peers: Mapping[str, str]) -> dict[str, int]:
    """Places within each peer group (rule 2)."""
    grouped: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for code, c in counts.items():
        grouped[peers.get(code, "")][code] = c
    return {code: place for group in grouped.values() for code, place in rank(group).items()}


def rank(counts: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Places, 1 = best, for units with something due: the higher on-time rate first, then
    more items on time, then fewer overdue, then the unit code (so every place is distinct and
    the same data always gives the same order)."""
    ranked = sorted((code for code, c in counts.items() if c["due"]),
                    key=lambda code: (-counts[code]["on_time_rate"], -counts[code]["on_time"],
                                      counts[code]["overdue"], code))
    return {code: place for place, code in enumerate(ranked, start=1)}


def did_well(unit: UnitRow, rule: HonourRule) -> bool:
    """May go on the 红榜 (rule 3): on time often enough, and nothing overdue."""
    return (unit.on_time_rate is not None and unit.on_time_rate >= rule.min_on_time_rate
            and unit.overdue == 0)


def honour_and_shame(ranked: list[UnitRow],
                     rule: HonourRule = HonourRule()) -> tuple[list[str], list[str]]:
    """红榜 and 黑榜 of each peer group in turn (rules 3 and 4); ``ranked`` by group and place."""
    groups: dict[str, list[UnitRow]] = {}
    for unit in ranked:
        groups.setdefault(unit.peers, []).append(unit)
    honour: list[str] = []
    shame: list[str] = []
    for members in groups.values():
        size = min(rule.places, len(members) // 2)
        praised = [u.unit_code for u in members if did_well(u, rule)][:size]
        honour += praised
        shame += [u.unit_code for u in members[len(members) - size:]
                  if (u.on_time_rate or 0) < 1 and u.unit_code not in praised]
    return honour, shame
