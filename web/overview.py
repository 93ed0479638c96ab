"""The leaders' and the office's overview: per plan and unit, the lights as stacked bars, the
on-time rate, the change in red items since last week and their trend over twelve weeks.

Read-only, for whoever may view items in every unit (office, leaders, admins); an owner sees
their own unit on the list instead. The figures come from stored rows in three queries
(models.store.overview_figures): the counts are the lights the sweep last stored, the trend is
folded from the recorded light changes, not from logs. A count links to the list filtered to
exactly those items; a zero is no link. Units are ordered worst first (most red, then yellow),
so what needs a leader's attention is on top.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from models.rules.permissions import Action
from models.store.overview_figures import light_counts, red_trend
from models.tables.person import Person
from web.charts import lights_in, stacked, trend
from web.dependencies import Permitted, SessionDep, WebDep

WEEKS = 12
BAR_WIDTH = 300  # the stacked bars' drawing width
TREND_SIZE = (420, 150)
SPARK_SIZE = (120, 28)

router = APIRouter()
Everywhere = Annotated[Person, Depends(Permitted(Action.view_item))]


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["light"]] += row["count"]
    due, on_time = sum(r["due"] for r in rows), sum(r["on_time"] for r in rows)
    return {"counts": dict(counts), "total": sum(counts.values()), "due": due,
            "on_time": on_time, "rate": round(100 * on_time / due) if due else None}


def plans_shown(rows: list[dict[str, Any]], reds: dict[Any, list[int]]) -> list[dict[str, Any]]:
    by_plan: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    names: dict[Any, str] = {}
    for row in rows:
        by_plan[row["plan"]][row["unit"]].append(row)
        names[row["plan"]], names[(row["plan"], row["unit"])] = row["plan_name"], row["unit_name"]
    plans = []
    for plan, units in by_plan.items():
        shown: list[dict[str, Any]] = []
        for unit, unit_rows in units.items():
            figures = _figures(unit_rows)
            red = reds.get((plan, unit), [0] * (WEEKS + 1))
            shown.append(figures | {"code": unit, "name": names[(plan, unit)], "red": red,
                                    "change": red[-1] - red[-2]})
        shown.sort(key=lambda u: (-u["counts"].get("red", 0), -u["counts"].get("yellow", 0),
                                  u["name"]))
        scale = max(u["total"] for u in shown)
        for u in shown:
            u["bar"] = stacked(u["counts"], scale, BAR_WIDTH)
            u["spark"] = trend(u["red"], *SPARK_SIZE, pad=3)
        red = [sum(u["red"][n] for u in shown) for n in range(WEEKS + 1)]
        totals = _figures([r for rows_ in units.values() for r in rows_])
        plans.append({"code": plan, "name": names[plan], "units": shown,
                      "totals": totals | {"bar": stacked(totals["counts"], totals["total"],
                                                         BAR_WIDTH),
                                          "red": red, "change": red[-1] - red[-2]},
                      "trend": trend(red, *TREND_SIZE, pad=24),
                      "lights": lights_in(totals["counts"])})
    return plans


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, web: WebDep, db: SessionDep, me: Everywhere) -> Response:
    now = web.now()
    today = web.rules.today(now)
    days = [today - timedelta(weeks=k) for k in range(WEEKS, -1, -1)]
    ends = [datetime.combine(d, time.max, tzinfo=web.rules.zone) for d in days]
    rows = light_counts(session=db, today=today)
    plans = plans_shown(rows, red_trend(session=db, ends=ends))
    return web.page(request, "overview.html", me=me, plans=plans, days=days, today=today,
                    bar_width=BAR_WIDTH, trend_size=TREND_SIZE, spark_size=SPARK_SIZE)
