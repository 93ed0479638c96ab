"""The 督办单 on the web: its PDF, 签收 from the item page, and 签收 from a link (an order's
e-mail, or the 签收 button of a DingTalk or WeCom card).

Decisions:
1. A 签收 link (notifications/links.py ``receipt``) is signed for one person and one order,
   under its own salt, so an item link never signs anything. Opening it (GET) changes
   nothing (mail scanners and link previews fetch links): it shows the order and one button.
   The button's POST signs for the order (models.store.orders.sign_receipt: once; a second
   press answers the first receipt) and, the first time the link is used, signs its person
   in, as an item link does (web/email_links.py), so they land on the item.
2. A forged, altered or expired link, or one whose person was deactivated or moved to
   another unit, is refused with a 403 page saying which, and changes nothing.
3. The PDF is rendered on request from the order and the item's history up to its issue
   (notifications/order_document.py): the same bytes each time, nothing stored twice.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from models.rules.item_links import RECEIPT_SALT
from models.rules.permissions import Action
from models.store.orders import ReceiptRefused, order_rows, receipt_words, sign_receipt
from models.tables.milestone import Milestone
from models.tables.order import SupervisionOrder
from models.tables.person import Person
from notifications.order_document import order_context, order_pdf
from web.context import Web
from web.dependencies import (
    CurrentUser,
    FormChecked,
    FormToken,
    Refused,
    SessionDep,
    WebDep,
    WriterDep,
    check_token,
    signed_in,
)
from web.email_links import LINK_REFUSALS, STALE_LINK_PAGE, Followed, followed_link, use_up

router = APIRouter()
NO_SUCH_ORDER = "没有这份督办单。"


def visible_order(web: Web, db: Session, me: Person, order_id: int) -> SupervisionOrder:
    """The order, if ``me`` may see its item (its unit then, or its unit now); else the
    answer a missing one gets."""
    order = db.get(SupervisionOrder, order_id)
    milestone = db.get(Milestone, order.milestone_id) if order is not None else None
    if order is None or milestone is None or not (
            web.may(me, Action.view_item, order.unit_id)
            or web.may(me, Action.view_item, milestone.unit_id)):
        raise Refused(404, "未找到", NO_SUCH_ORDER, me)
    return order


def pdf_response(web: Web, db: Session, order: SupervisionOrder) -> Response:
    document = order_pdf(order_context(db, order, web.settings))
    name = quote(f"{order.number}.pdf")
    return Response(document, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename=\"order-{order.id}.pdf\"; "
                               f"filename*=UTF-8''{name}"})


@router.get("/orders/{order_id}.pdf")
def order_document(order_id: int, web: WebDep, db: SessionDep, me: CurrentUser) -> Response:
    return pdf_response(web, db, visible_order(web, db, me, order_id))


@router.post("/orders/{order_id}/receipt")
def receipt(request: Request, order_id: int, web: WebDep, db: WriterDep,
            token: FormToken) -> Response:
    """签收 from the item page, by a person of the order's unit (or the office)."""
    me = signed_in(web, request, db)
    order = visible_order(web, db, me, order_id)
    check_token(request, token, me)
    said = _sign(web, db, order, me)
    web.flash(request, said)
    return RedirectResponse(f"/milestones/{order.milestone_id}", status_code=303)


def _sign(web: Web, db: Session, order: SupervisionOrder, person: Person) -> str:
    """Sign and commit; what to tell the person."""
    number = order.number
    try:
        signed = sign_receipt(session=db, order=order, person=person, now=web.now())
    except ReceiptRefused as refused:
        raise Refused(403, "不能签收", str(refused), person) from None
    db.commit()
    if signed:
        return f"已签收督办单 {number}。请按要求办理并定期反馈进展。"
    (row,) = order_rows(db, web.rules.zone, order_id=order.id)
    return f"督办单 {number} 此前已签收（{receipt_words(row)}），未作改动。"


# ── 签收 by link ─────────────────────────────────────────────────────────────────────────────

def _receipt_link(web: Web, db: Session, token: str) -> tuple[Followed, SupervisionOrder]:
    followed = followed_link(web, db, token, salt=RECEIPT_SALT)
    order = db.get(SupervisionOrder, followed.claims.milestone_id)  # an order's id, here
    if order is None:
        raise Refused(403, "链接无法打开", LINK_REFUSALS["tampered"])
    return followed, order


@router.get("/r/{token}", response_class=HTMLResponse)
def open_receipt(request: Request, token: str, web: WebDep, db: SessionDep) -> Response:
    followed, order = _receipt_link(web, db, token)
    (row,) = order_rows(db, web.rules.zone, order_id=order.id)
    return web.page(request, "receipt.html", me=web.current(request, db), owner=followed.person,
                    order=row, signed=row["received_at"] is not None,
                    words=receipt_words(row))


@router.post("/r/{token}", dependencies=[Depends(FormChecked(STALE_LINK_PAGE))])
def use_receipt(request: Request, token: str, web: WebDep, db: WriterDep) -> Response:
    followed, order = _receipt_link(web, db, token)
    person, milestone_id = followed.person, order.milestone_id
    said = _sign(web, db, order, person)
    me = web.current(request, db)
    if me is None or me.id != person.id:
        if not use_up(web, db, followed, milestone_id):
            # Used before: the receipt stands, but the link signs no one in a second time.
            return web.page(request, "receipt.html", me=me, owner=person, order=None,
                            signed=True, words=said)
        web.sign_in(request, person)
    web.flash(request, said)
    return RedirectResponse(f"/milestones/{milestone_id}", status_code=303)
