"""The stored 晾晒 bulletins in the web app: the list, one bulletin's page, and its files.

Decisions:
- Who sees what: the internal edition (people's names, evidence notes, reasons) only to those
  who may view items in every unit (office, leaders, admins: ``web.may(me, view_item, None)``),
  the people it is emailed to; the public edition (晾晒) to everyone signed in, owners
  included, since it is made to be shown. The list leaves out what a person may not open;
  opening an internal bulletin or one of its files by its address anyway is refused (403).
- The page renders the stored figures again (``Figures.from_json``) with every row, not the
  stored email HTML, whose lists are cut for mail clients and whose chart is a ``cid:``
  address. The rendered document's body goes inside base.html, which has its own head.
- ``?unit=CODE`` shows that unit's own bulletin (``Figures.for_unit``: the whole ranking, its
  own items), ``?unit=*`` the whole one. Without it, an owner opening a public bulletin that
  ranks their unit sees their unit's own, as it was emailed to the unit, with a link to the
  whole; everyone else sees the whole. Any unit's view of a bulletin one may read is open, since
  it only narrows the whole one's lists. A code the bulletin does not list is refused (404) by
  name, rather than shown as a unit with nothing due.
- The files are the stored bytes of the whole bulletin (a unit's view has none of its own),
  always as downloads named like the email's attachments (the subject), in Chinese (RFC 5987).
- ``?plan=CODE`` filters the list (``*``: the bulletins across every plan, named 全部规划 as
  everywhere: models.store.bulletin_history.ALL_PLANS_NAME); a code that names
  no plan shows the problem and an empty list (400), as the item list does.
- Newest period first; then by scope and edition, so the two editions of one bulletin sit
  together.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures
from models.rules.bulletin.periods import PeriodKind
from models.rules.permissions import Action
from models.store.bulletin_history import ALL_PLANS_NAME
from models.tables.bulletin_record import BulletinRecord
from models.tables.person import Person
from models.tables.plan import Plan
from models.tables.unit import Unit
from notifications.bulletin.formats import EDITIONS
from notifications.bulletin.page import bulletin_html
from notifications.bulletin.publish import PDF_TYPE, XLSX_TYPE
from web.attachments import content_disposition
from web.context import Web
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep

EVERY = "*"  # a bulletin's scope across every plan, and the whole bulletin's ?unit=
KINDS = {PeriodKind.week: "周报", PeriodKind.month: "月报", PeriodKind.custom: "自定义"}
INTERNAL_ONLY = "内部版通报仅供督查室、领导和管理员查看；您可以查看同一期的公开版。"


def may_read(me: Person, edition: Edition) -> bool:
    return edition == Edition.public or Web.may(me, Action.view_item, None)


def document_body(document: str) -> str:
    """What lies inside the ``<body>`` of a whole HTML document."""
    start = document.index(">", document.index("<body")) + 1
    return document[start:document.rindex("</body>")]


router = APIRouter()


@router.get("/bulletins", response_class=HTMLResponse)
def bulletins(request: Request, web: WebDep, db: SessionDep, me: CurrentUser) -> Response:
    plans = db.exec(select(Plan).order_by(Plan.code)).all()
    plan = request.query_params.get("plan", "").strip() or None
    internal = web.may(me, Action.view_item, None)
    page: dict[str, Any] = {"me": me, "plans": plans, "plan": plan, "every": EVERY,
                            "every_name": ALL_PLANS_NAME,
                            "internal": internal, "kinds": KINDS, "editions": EDITIONS,
                            "rows": []}
    if plan not in (None, EVERY, *(p.code for p in plans)):
        return web.page(request, "bulletins.html", 400,
                        problem=f"没有代码为“{plan}”的规划。", **page)
    # What select() builds for more than the four columns it is typed for.
    query: Select[*tuple[Any, ...]] = Select(
        col(BulletinRecord.id), col(BulletinRecord.scope_name),
        col(BulletinRecord.period_kind), col(BulletinRecord.period_first),
        col(BulletinRecord.period_last), col(BulletinRecord.edition),
        col(BulletinRecord.generated_at)).order_by(
        col(BulletinRecord.period_last).desc(), col(BulletinRecord.period_first).desc(),
        col(BulletinRecord.scope), col(BulletinRecord.edition))
    if plan is not None:
        query = query.where(BulletinRecord.scope == plan)
    if not internal:
        query = query.where(BulletinRecord.edition == Edition.public)
    return web.page(request, "bulletins.html", **page | {"rows": db.exec(query).all()})


def opened(db: Session, me: Person, bulletin_id: int, *columns: Any) -> Any:
    """The bulletin's ``columns`` (only those: the files are large), if ``me`` may read it."""
    row = db.exec(select(BulletinRecord.edition, *columns)
                  .where(BulletinRecord.id == bulletin_id)).first()
    if row is None:
        raise Refused(404, "未找到", f"没有编号为 {bulletin_id} 的通报。", me)
    if not may_read(me, row.edition):
        raise Refused(403, "无权查看", INTERNAL_ONLY, me)
    return row


@router.get("/bulletins/{bulletin_id}", response_class=HTMLResponse)
def bulletin(request: Request, bulletin_id: int, web: WebDep, db: SessionDep,
             me: CurrentUser) -> Response:
    row = opened(db, me, bulletin_id, BulletinRecord.figures, BulletinRecord.generated_at)
    figures = Figures.from_json(row.figures)
    names = {u.unit_code: u.unit_name for u in figures.units}
    own = db.get(Unit, me.unit_id) if me.unit_id is not None else None
    own_code = own.code if own is not None and own.code in names else None
    asked = request.query_params.get("unit", "").strip() or None
    if asked is None and figures.edition == Edition.public and not web.may(
            me, Action.view_item, None):
        asked = own_code
    if asked not in (None, EVERY, *names):
        raise Refused(404, "未找到",
                      f"本通报中没有代码为“{asked}”的单位，请从通报页的单位列表中选择。", me)
    focus = None if asked in (None, EVERY) else asked
    shown = figures if focus is None else figures.for_unit(focus)
    document = bulletin_html(shown, chart_src=f"/bulletins/{bulletin_id}/chart.png",
                             link=None, rows=None, locale=web.settings.locale)
    return web.page(request, "bulletin.html", me=me, id=bulletin_id, figures=figures,
                    focus=focus, names=names, own_code=own_code, every=EVERY,
                    kinds=KINDS, editions=EDITIONS, generated_at=row.generated_at,
                    body=document_body(document))


def download(db: Session, me: Person, bulletin_id: int, column: Any, content_type: str,
             suffix: str) -> Response:
    row = opened(db, me, bulletin_id, BulletinRecord.subject, column.label("content"))
    return Response(row.content, media_type=content_type, headers={
        "Content-Disposition": content_disposition(row.subject + suffix),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private"})


@router.get("/bulletins/{bulletin_id}/chart.png")
def chart(bulletin_id: int, db: SessionDep, me: CurrentUser) -> Response:
    return download(db, me, bulletin_id, BulletinRecord.chart_png, "image/png", ".png")


@router.get("/bulletins/{bulletin_id}/workbook.xlsx")
def workbook(bulletin_id: int, db: SessionDep, me: CurrentUser) -> Response:
    return download(db, me, bulletin_id, BulletinRecord.xlsx, XLSX_TYPE, ".xlsx")


@router.get("/bulletins/{bulletin_id}/bulletin.pdf")
def pdf(bulletin_id: int, db: SessionDep, me: CurrentUser) -> Response:
    return download(db, me, bulletin_id, BulletinRecord.pdf, PDF_TYPE, ".pdf")
