"""``GET /milestones.xlsx?<the list's filters>``: the list as the 台账 (notifications.ledger).

The same filters, remit and refusals as the list page (web.lists); every row of the filtered
set, not one page. The workbook is written to a temporary file as the rows stream from the
database and sent from there, then removed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import select
from starlette.background import BackgroundTask

from models.store.milestone_list import iter_chunks
from models.tables.plan import Plan
from models.tables.unit import Unit
from notifications.ledger import ledger_for, write_xlsx
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep
from web.lists import read_filters, remit, scoped, top_level

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/milestones.xlsx")
def export(request: Request, web: WebDep, db: SessionDep, me: CurrentUser) -> Response:
    plans = set(db.exec(select(Plan.code)).all())
    units = set(db.exec(select(Unit.code)).all())
    filters, problems = read_filters(request.query_params, plans=plans, units=units,
                                     top_level=top_level(web.rules))
    if problems:
        raise Refused(400, "无法导出", " ".join(problems), me)
    allowed_units, own = remit(web, db, me)
    if allowed_units == frozenset():
        raise Refused(403, "无权导出", "您没有可查看的事项。", me)
    filters = scoped(filters, own, allowed_units, me)
    today = web.rules.today(web.now())
    ledger = ledger_for(session=db, rules=web.rules, title=filters.words(), as_of=today)
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        write_xlsx(ledger, iter_chunks(session=db, query=filters.query(allowed_units),
                                       calendar=web.rules.calendar, today=today), path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    filename = f"督办台账-{today.isoformat()}.xlsx"
    return FileResponse(path, media_type=XLSX, background=BackgroundTask(path.unlink),
                        headers={"Content-Disposition":
                                 f"attachment; filename*=UTF-8''{quote(filename)}"})
