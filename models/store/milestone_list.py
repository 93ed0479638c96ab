"""Lists of milestones, filtered, sorted and paged by the database on stored, indexed columns.

Every list (the pages, ``GET /api/milestones``, the 待办 tabs, the 台账 export) reads here.

Decisions:
1. Lists read the stored columns (state, light, level, due_on, claimed_on, late), which the
   actions write in the transaction that records them and the sweep writes for everything
   whose day of change has come (``next_check_on``). So a list is exact after every action; a
   change that only the passing of time makes (an item turning due soon or overdue, a level
   reached) shows from the next sweep, every working day at 09:00 (config/policy.yaml). The
   pages say "截至上次巡查 …" with that sweep's time (`last_sweep_at`). Computing every light
   from the events at read time, as the lists did before, costs what the table costs.
2. Order ``urgent`` (the default): red, yellow, blue (待核实), green; within a light the
   earliest due date first (the most overdue), then id. It is read light by light along the
   (light, due_on, id) indexes, so a page costs its own rows, not a sort of the whole set.
   ``due`` and ``-due`` order by due date, ``claimed`` by claim day (the office's 待核实).
3. Keyset pages: the cursor is the last row's sort key, opaque to callers (base64 JSON). An
   item that stays in the filtered set while others are added, changed or removed appears
   exactly once; one whose own light or date changes between pages is shown where it now
   sorts (once more, or not again), which is the price of ordering by urgency.
4. Text search: every word must appear in the milestone's or its project's title.
   PostgreSQL answers with pg_trgm GIN indexes (migration 0008); SQLite with LIKE over the
   rows the other filters leave, without an index (fine for an embedded site's thousands).
   LIKE's wildcards in what people type are escaped: ``50%`` searches for "50%".
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, tuple_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from models.rules.workdays import WorkCalendar
from models.store.co_units import co_handled_by_code, lead_or_co
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.milestone import Light, Milestone, MilestoneState
from models.tables.plan import Plan, Project
from models.tables.sweep_run import SweepRun
from models.tables.unit import Unit

URGENCY = (Light.red, Light.yellow, Light.blue, Light.green)
SORTS = ("urgent", "due", "-due", "claimed")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class BadCursor(ValueError):
    """A cursor this list did not hand out (or one for another order)."""


@dataclass(frozen=True)
class ListQuery:
    """What a list asks for. ``unit_ids`` is the caller's remit (None: everywhere), applied
    beside the ``unit`` filter, never instead of it. Both select the items the units lead
    and those they co-handle (协办); a row's ``unit_code`` is its lead unit's."""

    plan: str | None = None
    unit: str | None = None
    light: Light | None = None
    state: MilestoneState | None = None
    level: int | None = None
    min_level: int | None = None
    q: str | None = None
    sort: str = "urgent"
    unit_ids: frozenset[int] | None = None
    ids: frozenset[int] | None = None
    extra: tuple[ColumnElement[bool], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: str | None
    total: int
    counts: dict[str, int]  # per light, of the set without the light filter


def list_page(*, session: Session, query: ListQuery, calendar: WorkCalendar, today: date,
              limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
    """One page of the list, the cursor of the next one, and the filtered set's counts."""
    limit = max(1, min(limit, MAX_LIMIT))
    after = decode_cursor(cursor, query.sort) if cursor else None
    rows = _page_rows(session, query, limit + 1, after)
    more = len(rows) > limit
    rows = rows[:limit]
    counts = light_counts(session=session, query=query)
    total = counts.get(query.light, 0) if query.light else sum(counts.values())
    return Page([as_item(r, calendar, today) for r in rows],
                encode_cursor(rows[-1], query.sort) if more and rows else None, total, counts)


def count_items(*, session: Session, query: ListQuery) -> int:
    """How many items the query selects (the 待办 tabs' counts)."""
    statement = _filtered(core_select(func.count()).select_from(Milestone), query)
    return int(session.execute(statement).scalar_one())


def light_counts(*, session: Session, query: ListQuery) -> dict[str, int]:
    """How many items of each light the query's other filters select."""
    statement = _filtered(core_select(col(Milestone.light), func.count()),
                          _with(query, light=None)).group_by(col(Milestone.light))
    return {str(light): int(n) for light, n in session.execute(statement).all()}


def iter_chunks(*, session: Session, query: ListQuery, calendar: WorkCalendar, today: date,
                chunk: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Every item of the list in its order, ``chunk`` at a time: keyset pages, so that no more
    than one chunk is held at once however long the list (the 台账 export streams from here),
    each with its latest progress report (``progress``, ``progress_note``)."""
    after: dict[str, Any] | None = None
    while True:
        rows = _page_rows(session, query, chunk, after)
        items = [as_item(row, calendar, today) for row in rows]
        progress = latest_progress(session, [i["milestone_id"] for i in items])
        for item in items:
            item["progress"], item["progress_note"] = progress.get(item["milestone_id"],
                                                                  (None, None))
        if items:
            yield items
        if len(rows) < chunk:
            return
        after = _key(rows[-1], query.sort)


def latest_progress(session: Session, ids: list[int]) -> dict[int, tuple[float | None,
                                                                         str | None]]:
    """Each milestone's latest progress report: (percent, note)."""
    if not ids:
        return {}
    latest = (select(func.max(col(Event.id))).where(col(Event.milestone_id).in_(ids),
                                                    Event.kind == EventKind.progress_reported)
              .group_by(col(Event.milestone_id)))
    rows = session.exec(select(Event.milestone_id, Event.data, Event.reason)
                        .where(col(Event.id).in_(latest))).all()
    return {m: (data.get("percent"), reason) for m, data, reason in rows if m is not None}


def last_sweep_at(session: Session) -> datetime | None:
    """When the latest finished sweep finished: the time the stored lights are exact for."""
    return session.exec(select(func.max(SweepRun.finished_at))).one()


# ── the statements ───────────────────────────────────────────────────────────────────────


def _with(query: ListQuery, **changes: Any) -> ListQuery:
    return replace(query, **changes)


def _filtered(statement: Select[Any], query: ListQuery) -> Select[Any]:
    where: list[ColumnElement[bool]] = [col(Milestone.retired_at).is_(None), *query.extra]
    if query.plan is not None:
        where.append(col(Milestone.project_id).in_(
            select(col(Project.id)).join(Plan, col(Plan.id) == Project.plan_id)
            .where(Plan.code == query.plan)))
    if query.unit is not None:  # the items the unit leads or co-handles (协办)
        where.append(col(Milestone.unit_id).in_(
            select(col(Unit.id)).where(Unit.code == query.unit))
            | col(Milestone.id).in_(co_handled_by_code(query.unit)))
    if query.unit_ids is not None:
        where.append(lead_or_co(query.unit_ids))
    if query.ids is not None:
        where.append(col(Milestone.id).in_(sorted(query.ids)))
    if query.light is not None:
        where.append(col(Milestone.light) == query.light)
    if query.state is not None:
        where.append(col(Milestone.state) == query.state)
    if query.level is not None:
        where.append(col(Milestone.level) == query.level)
    if query.min_level is not None:
        where.append(col(Milestone.level) >= query.min_level)
    for word in (query.q or "").split():
        where.append(_mentions(word))
    return statement.where(*where)


def _mentions(word: str) -> ColumnElement[bool]:
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    titled = select(col(Milestone.id)).where(col(Milestone.title).ilike(pattern, escape="\\"))
    in_project = select(col(Milestone.id)).where(col(Milestone.project_id).in_(
        select(col(Project.id)).where(col(Project.name).ilike(pattern, escape="\\"))))
    return col(Milestone.id).in_(titled.union_all(in_project))


# Plain columns, not ORM entities: a page or an export chunk of 1,000 rows costs a third of the
# time without building and tracking a Milestone object for each.
ROW: tuple[Any, ...] = (col(Milestone.id), col(Milestone.title), col(Milestone.due_on),
       col(Milestone.planned_due_on), col(Milestone.state), col(Milestone.light),
       col(Milestone.level), col(Milestone.acknowledged_level), col(Milestone.late),
       col(Milestone.provisional), col(Milestone.claimed_on), col(Milestone.version),
       col(Milestone.snoozed_until), col(Milestone.major), col(Milestone.commitment),
       col(Milestone.assumption), col(Project.code).label("project"),
       col(Project.name).label("project_name"),
       col(Plan.code).label("plan"), col(Milestone.unit_id), col(Unit.code).label("unit_code"),
       col(Unit.name).label("unit"))


def _rows_statement(query: ListQuery) -> Select[Any]:
    return _filtered(core_select(*ROW).join(Project, col(Project.id) == Milestone.project_id)
                     .join(Plan, col(Plan.id) == Project.plan_id)
                     .join(Unit, col(Unit.id) == Milestone.unit_id), query)


def _page_rows(session: Session, query: ListQuery, limit: int,
               after: dict[str, Any] | None) -> list[Any]:
    if query.sort == "claimed":
        query = _with(query, extra=(*query.extra, col(Milestone.claimed_on).is_not(None)))
    if query.sort != "urgent":
        key = _sort_columns(query.sort)
        statement = _rows_statement(query)
        if after is not None:
            bound = tuple_(*key) > tuple_(*_bound(after, query.sort))
            if query.sort == "-due":
                bound = tuple_(*key) < tuple_(*_bound(after, query.sort))
            statement = statement.where(bound)
        order = [c.desc() for c in key] if query.sort == "-due" else key
        return list(session.execute(statement.order_by(*order).limit(limit)).all())
    # Light by light, each along an index in (due_on, id) order (decision 2).
    rows: list[Any] = []
    lights = [query.light] if query.light else list(URGENCY)
    start = URGENCY.index(Light(after["light"])) if after else 0
    for light in lights:
        if URGENCY.index(light) < start:
            continue
        statement = _rows_statement(_with(query, light=light))
        if after is not None and light == after["light"]:
            statement = statement.where(tuple_(col(Milestone.due_on), col(Milestone.id))
                                        > tuple_(literal(date.fromisoformat(after["due_on"])),
                                                 literal(after["id"])))
        statement = statement.order_by(col(Milestone.due_on), col(Milestone.id))
        rows += session.execute(statement.limit(limit - len(rows))).all()
        if len(rows) >= limit:
            break
    return rows


def _sort_columns(sort: str) -> list[Any]:
    if sort == "claimed":
        return [col(Milestone.claimed_on), col(Milestone.id)]
    return [col(Milestone.due_on), col(Milestone.id)]


def _bound(after: dict[str, Any], sort: str) -> Sequence[Any]:
    day = after["claimed_on"] if sort == "claimed" else after["due_on"]
    return (literal(date.fromisoformat(day)), literal(after["id"]))


# ── cursors and items ────────────────────────────────────────────────────────────────────


def _key(row: Any, sort: str) -> dict[str, Any]:
    key: dict[str, Any] = {"sort": sort, "id": row.id, "light": Light(row.light).value,
                           "due_on": row.due_on.isoformat()}
    if sort == "claimed":
        key["claimed_on"] = (row.claimed_on or date.min).isoformat()
    return key


def encode_cursor(row: Any, sort: str) -> str:
    raw = json.dumps(_key(row, sort), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, dict) or key.get("sort") != sort:
            raise BadCursor("这个翻页标记不属于当前的排序方式，请从第一页重新开始。")
        Light(key["light"])
        date.fromisoformat(key["due_on"])
        if sort == "claimed":
            date.fromisoformat(key["claimed_on"])
        if not isinstance(key["id"], int):
            raise TypeError
    except BadCursor:
        raise
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("翻页标记无法识别（可能被截断或改动），请从第一页重新开始。") from None
    return key


def as_item(row: Any, calendar: WorkCalendar, today: date) -> dict[str, Any]:
    """A list row as the API answers it and the pages show it."""
    item = dict(row._mapping)
    overdue = item["state"] == MilestoneState.overdue
    item |= {"milestone_id": item.pop("id"), "state": MilestoneState(item["state"]),
             "light": Light(item["light"]),
             "overdue_workdays": calendar.workdays_between(item["due_on"], today) if overdue
             else 0,
             "overdue_days": (today - item["due_on"]).days if overdue else 0}
    return item
