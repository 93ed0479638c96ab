"""待办 (``/todo``, the page people land on after signing in) and ``GET /api/todo``: the tabs of
models.store.todo with their counts, and the chosen tab's items as the list shows them.

Which tab opens: the one asked for (``?tab=``), else the first with work in it, else the
first. 待核实 rows carry the claim's evidence beside the 超时 flag and the claim day.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from models.store.milestone_list import BadCursor, Page, last_sweep_at, list_page
from models.store.todo import Tab, claim_details, counted, tabs_for
from models.tables.person import Person, Role
from web.context import Web
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep
from web.lists import Filters, lateness, next_action, read_limit, remit

router = APIRouter()


def person_tabs(web: Web, db: Session, me: Person) -> list[Tab]:
    units, _ = remit(web, db, me)
    if me.role == Role.leader and me.unit_id is not None:
        units = frozenset({me.unit_id})  # a leader in charge of a unit: that unit's items
    return counted(db, tabs_for(me, unit_ids=units, policy=web.rules.policies.default))


def chosen(tabs: list[Tab], asked: str | None) -> Tab | None:
    if asked:
        return next((t for t in tabs if t.key == asked), None)
    return next((t for t in tabs if t.query is not None and t.count), None) or \
        next((t for t in tabs if t.query is not None), None)


def tab_page(web: Web, db: Session, tab: Tab, limit: int, cursor: str | None) -> Page:
    assert tab.query is not None
    return list_page(session=db, query=tab.query, calendar=web.rules.calendar,
                     today=web.rules.today(web.now()), limit=limit, cursor=cursor)


@router.get("/todo", response_class=HTMLResponse)
def todo(request: Request, web: WebDep, db: SessionDep, me: CurrentUser) -> Response:
    tabs = person_tabs(web, db, me)
    asked = request.query_params.get("tab")
    tab = chosen(tabs, asked)
    if asked and tab is None:
        raise Refused(404, "没有这个待办", f"没有名为“{asked}”的待办栏目。", me)
    limit, problems = read_limit(request.query_params.get("limit"))
    context: dict[str, Any] = {
        "me": me, "tabs": tabs, "tab": tab, "rows": [], "next": None, "claims": {},
        "lateness": lateness, "next_action": next_action, "bulk": me.role == Role.office,
        "filters": Filters(), "as_of": last_sweep_at(db), "problems": problems}
    if tab is not None and tab.query is not None and not problems:
        try:
            page = tab_page(web, db, tab, limit, request.query_params.get("cursor"))
        except BadCursor as bad:
            return web.page(request, "todo.html", 400, **context | {"problems": [str(bad)]})
        context |= {"rows": page.items,
                    "next": page.next and f"/todo?tab={tab.key}&cursor={page.next}",
                    "claims": claim_details(db, [i["milestone_id"] for i in page.items
                                                 if i["state"] == "claimed"])}
    return web.page(request, "todo.html", **context)
