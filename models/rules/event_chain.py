"""The hash chain over the event log (留痕), as pure functions: how one event is sealed, and
what a walk along the chain finds wrong.

Each event gets a seal, the chain's next link: ``hash = sha256(prev_hash + "\\n" + canonical)``,
where ``canonical`` is the event row serialised as compact JSON with sorted keys, times in UTC
to the microsecond, and ``prev_hash`` is the previous seal's hash (64 zeros for the first).
Changing any field of a sealed event changes its hash; deleting an event leaves a seal without
its event; deleting a seal breaks the next seal's ``prev_hash``; deleting the last events and
their seals leaves the chain head (the last link, kept in its own row) pointing past them.

What it cannot do: someone who may rewrite the database at will may also rewrite every seal
after the one they changed. `duban audit verify` prints the head's hash; written down elsewhere
(a printed report, a mail to the leader), it pins the log as it was.

The fields are listed here, not taken from the table: a column added later is outside the
chain until this list (and the seals of old events) says otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

GENESIS = "0" * 64
FIELDS = ("id", "at", "kind", "actor_id", "actor", "reason", "plan_id", "project_id",
          "milestone_id", "indicator_id", "unit_id", "person_id", "data")


def canonical(event: Mapping[str, Any]) -> bytes:
    """The event's FIELDS as compact, key-sorted JSON (UTF-8), its time in UTC."""
    values = {name: event[name] for name in FIELDS}
    if isinstance(at := values["at"], datetime):
        values["at"] = _utc(at)
    return _ENCODE(values).encode()


def link(prev_hash: str, event: Mapping[str, Any]) -> str:
    """The seal's hash of ``event`` after a seal whose hash is ``prev_hash``."""
    return link_of(prev_hash, canonical(event))


def link_of(prev_hash: str, canonical_form: bytes) -> str:
    """`link`, from the event's canonical form."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_form).hexdigest()


# One encoder, made once (json.dumps makes one per call with these options).
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


@lru_cache(maxsize=256)  # a sweep's events share their time
def _utc(at: datetime) -> str:
    aware = at if at.utcoffset() is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Seal:
    seq: int
    event_id: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Head:
    seq: int
    event_id: int | None
    hash: str


@dataclass(frozen=True)
class Problem:
    """One thing found wrong; ``event_id`` is the event it concerns."""

    event_id: int | None
    what: str


def walk(sealed: Iterable[tuple[Seal, Mapping[str, Any] | None]]) -> Iterable[Problem | Seal]:
    """Walk the seals in order, each with its event's row (None: no such event), yielding
    each seal that holds and a Problem for each that does not."""
    previous = Seal(0, 0, GENESIS, GENESIS)
    for seal, event in sealed:
        if seal.seq != previous.seq + 1 or seal.prev_hash != previous.hash:
            yield Problem(seal.event_id, f"事件 {seal.event_id} 之前的留痕断开（第 {seal.seq} 环"
                                         f"与前一环接不上）：其前的事件或留痕记录被删除或改动")
        elif event is None:
            yield Problem(seal.event_id, f"事件 {seal.event_id} 已被删除（第 {seal.seq} 环的事件"
                                         "不在事件表中）")
        elif link(seal.prev_hash, event) != seal.hash:
            yield Problem(seal.event_id, f"事件 {seal.event_id} 的内容与其留痕不符：已被改动")
        else:
            yield seal
        previous = seal


def head_problem(last: Seal | None, head: Head) -> Problem | None:
    """Whether the chain head still names the last seal (else the last ones were removed)."""
    seq, digest = (last.seq, last.hash) if last else (0, GENESIS)
    if (head.seq, head.hash) == (seq, digest):
        return None
    return Problem(head.event_id, f"留痕在第 {seq} 环结束，链首却记着第 {head.seq} 环（事件 "
                                  f"{head.event_id}）：最后的事件及其留痕记录被删除或改动")


def unsealed_problem(event_id: int) -> Problem:
    return Problem(event_id, f"事件 {event_id} 没有留痕记录：它绕过督办写入，或其留痕记录被删除")
