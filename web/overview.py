"""The leaders' overview: how many milestones are red, yellow and green, by plan and unit.

Read-only, for whoever may view items in every unit (office, leaders, admins); an owner sees
their own unit on the list instead. Each count links to the list filtered to exactly those
items, so a number can always be checked against the items behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import select

from models.rules.permissions import Action
from models.store.status_view import milestone_lights
from models.tables.person import Person
from models.tables.plan import Plan
from web.dependencies import Permitted, SessionDep, WebDep

LIGHTS = ("red", "yellow", "blue", "green")  # blue: claimed, 待核实


def light_table(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Plan code → unit code → {"unit": name, "red": n, "yellow": n, "green": n, "total": n},
    in the order the rows come (plan order, then a unit's first project)."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        counts = table.setdefault(row["plan"], {}).setdefault(
            row["unit_code"], {"unit": row["unit"], "total": 0} | dict.fromkeys(LIGHTS, 0))
        counts[row["light"]] += 1
        counts["total"] += 1
    return table


router = APIRouter()
Everywhere = Annotated[Person, Depends(Permitted(Action.view_item))]


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, web: WebDep, db: SessionDep, me: Everywhere) -> Response:
    table = light_table(milestone_lights(session=db, rules=web.rules, now=web.now()))
    names = {p.code: p.name for p in db.exec(select(Plan))}
    plans = [{"code": code, "name": names[code], "units": units,
              "totals": {k: sum(u[k] for u in units.values()) for k in (*LIGHTS, "total")}}
             for code, units in table.items()]
    return web.page(request, "overview.html", me=me, plans=plans, lights=LIGHTS)
