"""The list of milestones, with its filters, search, order and pages (models.store.milestone_list).

Filters are GET parameters (plan, unit, light, level, state, q, sort), so a filtered list is a
link: the office's overdue list is ``/?light=red`` and the overview's counts link here; the
same parameters export the list (``/milestones.xlsx?…``, web/ledger.py). Decisions:
- A value that names nothing (an unknown plan or unit code, a light, level, state or order
  that does not exist, a cursor this list did not hand out) shows the problem and an empty
  list (400), never the unfiltered list, which would look like an answer to the question asked.
- An owner sees only their unit's items. A unit filter naming another unit is refused (403)
  rather than silently ignored, so the owner knows why they see nothing of it.
- The light counts above the list count what the other filters select, so each is a link
  that narrows the list to that light; "共 N 项" is the filtered set's total.
- Below 600 px the list is cards (light, title on two lines, project, lateness, the one next
  action); wider, a table whose column heads sort it. The office's list has checkboxes for
  the bulk actions (web/bulk.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, func, select

from models.rules.permissions import Action
from models.rules.rulebook import Rules
from models.store.milestone_list import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SORTS,
    BadCursor,
    ListQuery,
    last_sweep_at,
    list_page,
)
from models.tables.milestone import Light, MilestoneState
from models.tables.person import Person, Role
from models.tables.plan import Plan
from models.tables.unit import Unit
from web.context import Web
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep

LIGHT_NAMES = {"red": "红灯", "yellow": "黄灯", "blue": "蓝灯", "green": "绿灯"}


@dataclass(frozen=True)
class Filters:
    plan: str | None = None
    unit: str | None = None
    light: str | None = None
    level: int | None = None
    state: str | None = None
    q: str | None = None
    sort: str | None = None

    def link(self, path: str = "/", **changes: Any) -> str:
        """This list's address with some filters changed (None drops one)."""
        values = {k: v for k, v in (asdict(self) | changes).items() if v is not None}
        return path + ("?" + urlencode(values) if values else "")

    def query(self, unit_ids: frozenset[int] | None = None) -> ListQuery:
        return ListQuery(plan=self.plan, unit=self.unit,
                         light=Light(self.light) if self.light else None,
                         state=MilestoneState(self.state) if self.state else None,
                         level=self.level, q=self.q, sort=self.sort or "urgent",
                         unit_ids=unit_ids)

    def words(self) -> str:
        """The filter in words, for the 台账's title row."""
        parts = [f"{name}：{value}" for name, value in (
            ("规划", self.plan), ("单位", self.unit),
            ("灯", LIGHT_NAMES.get(self.light or "")), ("状态", self.state),
            ("督办级别", self.level), ("检索", self.q)) if value not in (None, "")]
        return "；".join(parts) or "全部事项"


def read_filters(params: Mapping[str, str], *, plans: set[str], units: set[str],
                 top_level: int) -> tuple[Filters, list[str]]:
    """The filters asked for, and a message for each value that names nothing."""
    given = {k: params.get(k, "").strip() or None for k in ("plan", "unit", "light", "level",
                                                             "state", "q", "sort")}
    problems = []
    if given["plan"] is not None and given["plan"] not in plans:
        problems.append(f"没有代码为“{given['plan']}”的规划。")
    if given["unit"] is not None and given["unit"] not in units:
        problems.append(f"没有代码为“{given['unit']}”的单位。")
    if given["light"] is not None and given["light"] not in LIGHT_NAMES:
        problems.append(f"灯色只能是 red、yellow、blue 或 green，不能是“{given['light']}”。")
    if given["state"] is not None and given["state"] not in set(MilestoneState):
        problems.append(f"没有“{given['state']}”这个状态。")
    if given["sort"] is not None and given["sort"] not in SORTS:
        problems.append(f"排序只能是 {'、'.join(SORTS)}，不能是“{given['sort']}”。")
    if given["q"] is not None and len(given["q"]) > 100:
        problems.append("检索词太长：最多 100 个字。")
    level = None
    if given["level"] is not None:
        if given["level"].isdigit() and int(given["level"]) <= top_level:
            level = int(given["level"])
        else:
            problems.append(f"督办级别只能是 0 到 {top_level} 的整数，不能是“{given['level']}”。")
    return Filters(given["plan"], given["unit"], given["light"], level, given["state"],
                   given["q"], given["sort"]), problems


def read_limit(raw: str | None) -> tuple[int, list[str]]:
    if raw is None or raw == "":
        return DEFAULT_LIMIT, []
    if raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw), []
    return DEFAULT_LIMIT, [f"每页条数只能是 1 到 {MAX_LIMIT} 的整数，不能是“{raw}”。"]


def top_level(rules: Rules) -> int:
    return max(len(p.ladder) for p in (rules.policies.default, *rules.policies.plans.values()))


def remit(web: Web, db: Session, me: Person) -> tuple[frozenset[int] | None, Unit | None]:
    """The units whose items this person may list (None: every unit), and their own unit.
    Someone who may see no unit's items gets the empty set."""
    if web.may(me, Action.view_item, None):
        return None, None
    own = db.get(Unit, me.unit_id) if me.unit_id is not None else None
    if own is None or not web.may(me, Action.view_item, own.id):
        return frozenset(), own
    return frozenset({own.id}) if own.id is not None else frozenset(), own


def scoped(filters: Filters, own: Unit | None, units: frozenset[int] | None,
           me: Person) -> Filters:
    """An owner's filters narrowed to their unit; refused when they name another."""
    if units is None or own is None:
        return filters
    if filters.unit not in (None, own.code):
        raise Refused(403, "无权查看", f"您只能查看本单位（{own.name}）的事项。", me)
    return replace(filters, unit=own.code)


def lateness(row: Mapping[str, Any]) -> str | None:
    """"逾期 12 个工作日", or in months or years where a count of days says less."""
    if not row["overdue_workdays"] and not row.get("overdue_days"):
        return None
    days = row.get("overdue_days") or 0
    if days >= 730:
        return f"逾期约 {round(days / 365)} 年"
    if days >= 90:
        return f"逾期约 {round(days / 30.4)} 个月"
    return f"逾期 {row['overdue_workdays']} 个工作日"


def next_action(row: Mapping[str, Any], me: Person) -> tuple[str, str]:
    """The one thing this person would do next with the item: a label and where."""
    href = f"/milestones/{row['milestone_id']}"
    state = str(row["state"])
    if me.role == Role.office:
        if state == MilestoneState.claimed:
            return "核实销号", href + "#decide"
        if row["level"] > row["acknowledged_level"]:
            return "确认督办", href + "#office"
    if me.role == Role.owner and row.get("unit_id", me.unit_id) != me.unit_id:
        return "报告进度", href  # 协办: only the lead unit claims it done
    if me.role == Role.owner and state in ("pending", "due_soon", "overdue", "returned"):
        return ("重新办理" if state == "returned" else "办理"), href + "#done"
    return "查看", href


router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, web: WebDep, db: SessionDep, me: CurrentUser) -> Response:
    plans = db.exec(select(Plan).order_by(Plan.code)).all()
    unit_count = db.exec(select(func.count()).select_from(Unit)).one()
    # A choice of every unit only where it fits a select (a nation's 3,000 do not): else a code.
    units = db.exec(select(Unit).order_by(Unit.code)).all() if unit_count <= 300 else []
    asked = request.query_params.get("unit", "").strip()
    known = {u.code for u in units} if units else set(db.exec(select(Unit.code).where(
        Unit.code == asked)).all())
    filters, problems = read_filters(request.query_params, plans={p.code for p in plans},
                                     units=known, top_level=top_level(web.rules))
    limit, more_problems = read_limit(request.query_params.get("limit"))
    problems += more_problems
    allowed_units, own = remit(web, db, me)
    page: dict[str, Any] = {
        "me": me, "filters": filters, "plans": plans, "levels": range(top_level(web.rules) + 1),
        "units": units if allowed_units is None else [], "own_unit": own,
        "many_units": allowed_units is None and unit_count > 300,
        "rows": [], "counts": {}, "total": 0, "next": None, "lateness": lateness,
        "next_action": next_action, "bulk": me.role == Role.office,
        "as_of": last_sweep_at(db), "first_page": not request.query_params.get("cursor")}
    if problems:
        return web.page(request, "list.html", 400, problems=problems, **page)
    if allowed_units == frozenset():
        return web.page(request, "list.html", **page)
    filters = scoped(filters, own, allowed_units, me)
    try:
        found = list_page(session=db, query=filters.query(allowed_units),
                          calendar=web.rules.calendar, today=web.rules.today(web.now()),
                          limit=limit, cursor=request.query_params.get("cursor"))
    except BadCursor as bad:
        return web.page(request, "list.html", 400, problems=[str(bad)], **page)
    return web.page(request, "list.html", **page | {
        "rows": found.items, "counts": found.counts, "total": found.total,
        "next": found.next and filters.link(cursor=found.next, limit=limit
                                            if limit != DEFAULT_LIMIT else None)})
