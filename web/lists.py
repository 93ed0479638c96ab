"""The list of milestones each person sees first: their unit's, or everything."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.status_view import milestone_lights
from models.unit import Unit
from web.context import Web
from web.permissions import Action


def router(web: Web) -> APIRouter:
    routes = APIRouter()

    @routes.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        with web.reader() as db:
            me = web.current(request, db)
            if me is None:
                return RedirectResponse("/login", status_code=303)
            rows: list[dict[str, Any]] = []
            if web.may(me, Action.view_item, None):  # office, leaders, admins: everything
                rows = milestone_lights(session=db, rules=web.rules, now=web.now())
            elif me.unit_id is not None and web.may(me, Action.view_item, me.unit_id):
                unit = db.get(Unit, me.unit_id)
                rows = milestone_lights(session=db, rules=web.rules, now=web.now(),
                                        unit=unit.code if unit else None)
            return web.page(request, "list.html", me=me, rows=rows)

    return routes
