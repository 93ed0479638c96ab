"""The list of milestones each person sees first, with its filters.

Filters are GET parameters (plan, unit, light, level, state), so a filtered list is a link: the
office's overdue list is ``/?light=red`` and the overview's counts link here. Decisions:
- A value that names nothing (an unknown plan or unit code, a light, level or state that does
  not exist) shows the problem and an empty list (400), never the unfiltered list, which would
  look like an answer to the question asked.
- An owner sees only their unit's items. A unit filter naming another unit is refused (403)
  rather than silently ignored, so the owner knows why they see nothing of it.
- The light counts above the table count what the other filters select, so each is a link
  that narrows the list to that light.
- Order: red, then yellow, then green; within a light the most overdue working days first,
  then the earliest due date (the plan's order breaks ties).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from models.rules.permissions import Action
from models.rules.rulebook import Rules
from models.store.status_view import milestone_lights
from models.tables.milestone import Light, MilestoneState
from models.tables.plan import Plan
from models.tables.unit import Unit
from web.context import Web
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep

LIGHT_RANK = {Light.red.value: 0, Light.yellow.value: 1, Light.green.value: 2}


@dataclass(frozen=True)
class Filters:
    plan: str | None = None
    unit: str | None = None
    light: str | None = None
    level: int | None = None
    state: str | None = None

    def link(self, **changes: Any) -> str:
        """This list's address with some filters changed (None drops one)."""
        values = {k: v for k, v in asdict(replace(self, **changes)).items() if v is not None}
        return "/?" + urlencode(values) if values else "/"

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Light, level and state; plan and unit are asked of the database."""
        return ((self.light is None or row["light"] == self.light)
                and (self.level is None or row["level"] == self.level)
                and (self.state is None or row["state"] == self.state))


def read_filters(params: Mapping[str, str], *, plans: set[str], units: set[str],
                 top_level: int) -> tuple[Filters, list[str]]:
    """The filters asked for, and a message for each value that names nothing."""
    given = {k: params.get(k, "").strip() or None for k in ("plan", "unit", "light", "level",
                                                             "state")}
    problems = []
    if given["plan"] is not None and given["plan"] not in plans:
        problems.append(f"没有代码为“{given['plan']}”的规划。")
    if given["unit"] is not None and given["unit"] not in units:
        problems.append(f"没有代码为“{given['unit']}”的单位。")
    if given["light"] is not None and given["light"] not in LIGHT_RANK:
        problems.append(f"灯色只能是 red、yellow 或 green，不能是“{given['light']}”。")
    if given["state"] is not None and given["state"] not in set(MilestoneState):
        problems.append(f"没有“{given['state']}”这个状态。")
    level = None
    if given["level"] is not None:
        if given["level"].isdigit() and int(given["level"]) <= top_level:
            level = int(given["level"])
        else:
            problems.append(f"督办级别只能是 0 到 {top_level} 的整数，不能是“{given['level']}”。")
    return Filters(given["plan"], given["unit"], given["light"], level, given["state"]), problems


def top_level(rules: Rules) -> int:
    return max(len(p.ladder) for p in (rules.policies.default, *rules.policies.plans.values()))


def sort_key(row: Mapping[str, Any]) -> tuple[int, int, str]:
    return LIGHT_RANK[row["light"]], -row["overdue_workdays"], row["due_on"]


router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, web: WebDep, db: SessionDep, me: CurrentUser) -> Response:
    plans = db.exec(select(Plan).order_by(Plan.code)).all()
    units = db.exec(select(Unit).order_by(Unit.code)).all()
    filters, problems = read_filters(request.query_params, plans={p.code for p in plans},
                                     units={u.code for u in units}, top_level=top_level(web.rules))
    everywhere = web.may(me, Action.view_item, None)  # office, leaders, admins
    own = next((u for u in units if u.id == me.unit_id), None)
    page: dict[str, Any] = {
        "me": me, "filters": filters, "plans": plans, "levels": range(top_level(web.rules) + 1),
        "units": units if everywhere else [], "own_unit": None if everywhere else own,
        "rows": [], "counts": {}}
    if problems:
        return web.page(request, "list.html", 400, problems=problems, **page)
    if not everywhere:
        if own is None or not web.may(me, Action.view_item, own.id):
            return web.page(request, "list.html", **page)
        if filters.unit not in (None, own.code):
            raise Refused(403, "无权查看", f"您只能查看本单位（{own.name}）的事项。", me)
        filters = replace(filters, unit=own.code)
    rows, counts = _listed(db, web, filters)
    return web.page(request, "list.html", **page | {"rows": rows, "counts": counts})


def _listed(db: Session, web: Web, filters: Filters) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The rows the filters select, in list order, and the light counts of all but the light."""
    rows = milestone_lights(session=db, rules=web.rules, now=web.now(), plan=filters.plan,
                            unit=filters.unit)
    any_light = replace(filters, light=None)
    counted = [r for r in rows if any_light.matches(r)]
    counts = Counter(r["light"] for r in counted)
    return sorted((r for r in counted if filters.matches(r)), key=sort_key), counts
