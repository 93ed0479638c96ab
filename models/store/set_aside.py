"""Items set aside: what the sweep could not evaluate, so that one bad row cannot jam it.

As Healthchecks does with a check whose processing crashes, a milestone whose facts cannot be
read, or whose rules raise, is pushed forward (its ``next_check_on`` to the next working day)
and recorded as a ``milestone.evaluation_failed`` event naming the error; the sweep goes on
with the rest. The office finds them with `set_aside_milestones`.

An item is set aside while its ``next_check_on`` is still the day its latest failure pushed
it to: a later evaluation that succeeds always moves it (to a day after the one it ran on, or
to none), so the list needs no column of its own and no event for a recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from models.rules.status import OPEN_STATES
from models.store.database import is_item_fault
from models.store.event_chain import insert_events
from models.store.sql_lights import LitItem
from models.tables.columns import saved_id, table_of
from models.tables.event import Event
from models.tables.event_kinds import EventKind, validated
from models.tables.milestone import Milestone

log = logging.getLogger(__name__)
EVALUATION_FAILED = EventKind.evaluation_failed
MESSAGE_CHARS = 500  # the error's text in the event: enough to name it, never a dump
MILESTONES = table_of(Milestone)

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Failure:
    """Why one milestone could not be evaluated, and at which stage."""

    stage: str           # "facts", "ladder", "rules" or "write"
    error: str           # the exception's type
    message: str         # its text, cut to MESSAGE_CHARS

    @classmethod
    def of(cls, stage: str, exc: BaseException) -> Failure:
        return cls(stage, type(exc).__name__, str(exc)[:MESSAGE_CHARS])

    def __str__(self) -> str:
        return f"{self.error}: {self.message}" if self.message else self.error


def isolating(session: Session, stage: str, run: Callable[[list[Item]], dict[int, Result]],
              items: Sequence[Item], key: Callable[[Item], int]
              ) -> tuple[dict[int, Result], dict[int, Failure]]:
    """``run(items)`` in a savepoint; if it raises for the items' sake, halve and try again,
    down to the single items that fail. Returns what succeeded (``run``'s results, merged) and
    a Failure per failing item, by ``key``.

    The savepoint keeps the transaction usable after a statement the database refused
    (PostgreSQL aborts the whole transaction otherwise) and undoes a half-done write. A batch
    with one bad item costs about 2·log2(n) extra calls; a clean batch one savepoint.
    """
    results: dict[int, Result] = {}
    failures: dict[int, Failure] = {}
    todo = [list(items)]
    while todo:
        part = todo.pop()
        if not part:
            continue
        try:
            with session.begin_nested():
                results |= run(part)
        except Exception as exc:
            if not is_item_fault(exc):
                raise
            if len(part) == 1:
                failures[key(part[0])] = Failure.of(stage, exc)
            else:
                half = len(part) // 2
                todo += [part[half:], part[:half]]
    return results, failures


def set_aside(*, session: Session, failures: dict[int, Failure],
              milestones: Mapping[int, Milestone | LitItem],
              until: date, today: date, now: datetime, actor: str,
              sweep_id: str | None = None) -> None:
    """Push each failed milestone's next check to ``until`` and record why, in a savepoint: if
    even this cannot be written, the items are only logged, and since the sweep's batches move
    on by id, they still cannot stop it."""
    if not failures:
        return
    for milestone_id, failure in failures.items():
        log.error("milestone %s set aside until %s: %s failed with %s", milestone_id, until,
                  failure.stage, failure)
    updates = [{"_id": i, "next_check_on": until, "version": milestones[i].version + 1,
                "updated_at": now} for i in failures]
    events = [{"at": now, "kind": EVALUATION_FAILED.value, "actor": actor,
               "reason": str(failure)[:MESSAGE_CHARS], "milestone_id": i,
               "project_id": milestones[i].project_id, "unit_id": milestones[i].unit_id,
               "data": validated(EVALUATION_FAILED, {
                   "error": failure.error, "message": failure.message, "stage": failure.stage,
                   "as_of": today.isoformat(), "next_check_on": until.isoformat(),
                   "sweep_id": sweep_id})}
              for i, failure in failures.items()]
    try:
        with session.begin_nested():
            session.execute(MILESTONES.update().where(MILESTONES.c.id == bindparam("_id")),
                            updates)
            insert_events(session, events)
    except Exception as exc:
        if not is_item_fault(exc):
            raise
        log.error("could not record %d milestone(s) set aside: %s", len(failures), exc)


def set_aside_milestones(*, session: Session) -> list[dict[str, Any]]:
    """The open milestones set aside now, each with its latest failure, oldest first."""
    rows = session.exec(
        select(Event, Milestone)
        .join(Milestone, col(Milestone.id) == Event.milestone_id)
        .where(Event.kind == EVALUATION_FAILED, col(Milestone.state).in_(list(OPEN_STATES)),
               col(Milestone.retired_at).is_(None))
        .order_by(col(Event.id))).all()
    latest: dict[int, tuple[Event, Milestone]] = {}
    for event, milestone in rows:
        latest[saved_id(milestone)] = (event, milestone)
    return [{"milestone_id": m.id, "title": m.title, "unit_id": m.unit_id, "failed_at": e.at,
             "as_of": e.data.get("as_of"), "stage": e.data.get("stage"),
             "error": e.data.get("error"), "message": e.data.get("message"),
             "next_check_on": m.next_check_on}
            for e, m in latest.values()
            if m.next_check_on is not None
            and m.next_check_on.isoformat() == e.data.get("next_check_on")]
