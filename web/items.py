"""One milestone's page, with the actions taken on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from models.actions import claim_done, close_out, return_for_redo
from models.event import Event
from models.milestone import Milestone
from models.status_view import milestone_lights
from models.unit import Unit
from web.context import Web
from web.permissions import Action


def router(web: Web) -> APIRouter:
    routes = APIRouter()

    @routes.get("/milestones/{milestone_id}", response_class=HTMLResponse)
    def item(request: Request, milestone_id: int) -> Response:
        with web.reader() as db:
            me = web.current(request, db)
            if me is None:
                return RedirectResponse("/login", status_code=303)
            milestone = db.get(Milestone, milestone_id)
            if milestone is None:
                return web.error(request, 404, "未找到", "没有这个事项。", me)
            if not web.may(me, Action.view_item, milestone.unit_id):
                return web.error(request, 403, "无权查看", "您无权查看此事项。", me)
            unit = db.get(Unit, milestone.unit_id)
            light = next(r for r in milestone_lights(
                session=db, rules=web.rules, now=web.now(), unit=unit.code if unit else None)
                if r["milestone_id"] == milestone_id)
            history = db.exec(select(Event).where(Event.milestone_id == milestone_id)
                              .order_by(Event.id.desc())).all()  # type: ignore[union-attr]
            can = {a.value: web.may(me, a, milestone.unit_id)
                   for a in (Action.claim_done, Action.close, Action.return_for_redo)}
            return web.page(request, "item.html", me=me, item=light,
                            version=milestone.version, can=can, history=history)

    @routes.post("/milestones/{milestone_id}/done")
    def done(request: Request, milestone_id: int, evidence: Annotated[str, Form()] = "",
             version: Annotated[int | None, Form()] = None,
             csrf: Annotated[str, Form()] = "") -> Response:
        return web.act(request, milestone_id, Action.claim_done, csrf, claim_done, version,
                       evidence=evidence, settings=web.settings)

    @routes.post("/milestones/{milestone_id}/close")
    def close(request: Request, milestone_id: int, reason: Annotated[str, Form()] = "",
              version: Annotated[int | None, Form()] = None,
              csrf: Annotated[str, Form()] = "") -> Response:
        return web.act(request, milestone_id, Action.close, csrf, close_out, version,
                       reason=reason.strip() or None, settings=web.settings)

    @routes.post("/milestones/{milestone_id}/return")
    def send_back(request: Request, milestone_id: int, reason: Annotated[str, Form()] = "",
                  version: Annotated[int | None, Form()] = None,
                  csrf: Annotated[str, Form()] = "") -> Response:
        return web.act(request, milestone_id, Action.return_for_redo, csrf, return_for_redo,
                       version, reason=reason)

    return routes
