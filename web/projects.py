"""A key project's page: its facts, its milestones on one time axis (web.timeline), its
indicators against their targets, and its history.

Who may see it: whoever may see an item of it (the office, leaders and admins every project; an
owner the projects of their unit, or with a milestone of their unit). A few queries, whatever
the plan's size: the project's milestones (with today's lights), their approved extensions,
its indicators with their targets and latest readings, and its latest events.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from models.rules.permissions import Action
from models.store.light_changes import merged, project_changes_as_events
from models.store.status_view import milestone_lights
from models.tables.columns import saved_id
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.indicator import Indicator, IndicatorReading, IndicatorTarget
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from models.tables.unit import Unit
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep
from web.history import lines
from web.timeline import Placed, lay_out

HISTORY_SHOWN = 100
router = APIRouter()


def approved_moves(db: Session, milestone_ids: list[int]) -> dict[int, list[tuple[date, date]]]:
    """Each milestone's approved extensions, in order: (the due date moved from, moved to)."""
    moves: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for event in db.exec(select(Event).where(col(Event.milestone_id).in_(milestone_ids),
                                             Event.kind == EventKind.extension_decided)
                         .order_by(col(Event.at), col(Event.id))):
        if event.data.get("approved") and event.milestone_id is not None:
            moves[event.milestone_id].append((date.fromisoformat(event.data["previous_due_on"]),
                                              date.fromisoformat(event.data["new_due_on"])))
    return moves


def indicator_rows(db: Session, project_id: int) -> list[dict[str, Any]]:
    """The project's indicators, each with its targets by year and its latest reading."""
    indicators = db.exec(select(Indicator).where(Indicator.project_id == project_id,
                                                 col(Indicator.retired_at).is_(None))
                         .order_by(col(Indicator.seq))).all()
    ids = [saved_id(i) for i in indicators]
    targets: dict[int, list[IndicatorTarget]] = defaultdict(list)
    for target in db.exec(select(IndicatorTarget).where(col(IndicatorTarget.indicator_id)
                                                        .in_(ids)).order_by(col(IndicatorTarget.year))):
        targets[target.indicator_id].append(target)
    latest: dict[int, IndicatorReading] = {}
    for reading in db.exec(select(IndicatorReading).where(col(IndicatorReading.indicator_id)
                                                          .in_(ids))
                           .order_by(col(IndicatorReading.as_of), col(IndicatorReading.id))):
        latest[reading.indicator_id] = reading
    rows = []
    for indicator in indicators:
        found = latest.get(saved_id(indicator))
        goal = next((t for t in reversed(targets[saved_id(indicator)]) if t.value is not None),
                    None)
        share = None
        if (found is not None and found.value is not None and goal is not None
                and goal.value and indicator.direction == "up"):
            share = max(0.0, min(100.0, 100 * found.value / goal.value))
        rows.append({"indicator": indicator, "targets": targets[saved_id(indicator)],
                     "reading": found, "goal": goal, "share": share})
    return rows


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, project_id: int, web: WebDep, db: SessionDep,
                 me: CurrentUser) -> Response:
    found = db.exec(select(Project, Plan, Unit).join(Plan, col(Plan.id) == Project.plan_id)
                    .join(Unit, col(Unit.id) == Project.unit_id)
                    .where(Project.id == project_id)).first()
    if found is None:
        raise Refused(404, "未找到", "没有这个项目。", me)
    project, plan, unit = found
    units = {project.unit_id} | set(db.exec(select(Milestone.unit_id).where(
        Milestone.project_id == project_id)).all())
    if not any(web.may(me, Action.view_item, u) for u in units):
        raise Refused(403, "无权查看", "您无权查看此项目。", me)
    now = web.now()
    today = web.rules.today(now)
    items = milestone_lights(session=db, rules=web.rules, now=now, project_id=project_id)
    moves = approved_moves(db, [i["milestone_id"] for i in items])
    timeline = lay_out([Placed(i["milestone_id"], i["title"], i["light"],
                               date.fromisoformat(i["planned_due_on"]),
                               date.fromisoformat(i["due_on"]),
                               tuple(moves.get(i["milestone_id"], ())))
                        for i in items], today) if items else None
    events = merged(db.exec(select(Event).where(Event.project_id == project_id)
                            .order_by(col(Event.at).desc(), col(Event.id).desc())
                            .limit(HISTORY_SHOWN)).all(),
                    project_changes_as_events(db, project_id, HISTORY_SHOWN),
                    newest_first=True)[:HISTORY_SHOWN]
    titles = {i["milestone_id"]: i["title"] for i in items}
    of = {saved_id(e): titles.get(e.milestone_id or 0) for e in events}
    history = [(line, of[line.event_id]) for line in lines(db, events, web.rules.zone)]
    return web.page(request, "project.html", me=me, project=project, plan=plan, unit=unit,
                    items=items, moves=moves, timeline=timeline,
                    indicators=indicator_rows(db, project_id), history=history,
                    shown=HISTORY_SHOWN, today=today)
