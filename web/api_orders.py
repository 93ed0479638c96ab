"""The API's 督办单: list them, read one, fetch its PDF, and sign for it (签收).

An order is named in the path by its id or its 文号 (URL-encoded), as `duban orders show`
takes it. Who sees an order is who sees its unit's items (web.lists.remit): an owner their own
unit's, the office and leaders all. Signing is models.store.orders.sign_receipt: by a person
of the order's unit, or the office on its behalf; a second call answers the first receipt with
``signed_now: false`` and changes nothing, so a retried request is harmless.

No ``from __future__ import annotations``: FastAPI reads the route annotations when they are
defined, and ``Caller`` is passed in.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlmodel import Session

from models.store.orders import ReceiptRefused, find_order, order_rows, sign_receipt
from models.tables.order import SupervisionOrder
from models.tables.person import Person
from web.api_errors import Refusal, refusals
from web.api_schemas import OrderOut, ReceiptOut
from web.context import Web
from web.lists import remit
from web.orders import pdf_response

# An id, or a 文号 as the policy's format makes one: digits, letters, CJK and brackets (no
# slash or control character, which routing would read otherwise).
NUMBER = r"^[0-9A-Za-z\u3000-\u30ff\u4e00-\u9fff\uff08\uff09()\-]+$"
Reference = Annotated[str, Path(max_length=80, pattern=NUMBER,
                                description="督办单的序号（id）或文号。")]


def router(web: Web, Caller: Any) -> APIRouter:  # noqa: N803 (a type alias)
    routes = APIRouter(prefix="/orders", tags=["orders"])

    @routes.get("", response_model=list[OrderOut], summary="督办单列表")
    def orders(me: Caller,
               unsigned: Annotated[bool, Query(description="只列未签收的")] = False,
               milestone_id: Annotated[int | None, Query(ge=1, description="只列该事项的")] = None,
               limit: Annotated[int, Query(ge=1, le=1000, description="至多列出几份")] = 200,
               ) -> list[OrderOut]:
        """调用者可见的督办单，新签发的在前（至多 `limit` 份）：责任单位的人员只能看到本单位的。"""
        with web.reader() as db:
            units, _ = remit(web, db, me)
            rows = order_rows(db, web.rules.zone, unsigned=unsigned, milestone_id=milestone_id,
                              unit_ids=units, limit=limit)
        return [OrderOut.model_validate(r) for r in rows]

    @routes.get("/{reference}", response_model=OrderOut, responses=refusals(404),
                summary="一份督办单")
    def order(reference: Reference, me: Caller) -> OrderOut:
        """一份督办单：文号、事项、责任单位、级别、签发日期、签收时限和签收情况。"""
        with web.reader() as db:
            found = _visible(web, db, me, reference)
            (row,) = order_rows(db, web.rules.zone, order_id=found.id)
        return OrderOut.model_validate(row)

    @routes.get("/{reference}/pdf", response_class=Response, responses={
        **refusals(404), 200: {"content": {"application/pdf": {}},
                               "description": "A4 PDF，每次生成的字节相同。"}},
        summary="督办单 PDF")
    def document(reference: Reference, me: Caller) -> Response:
        """督办单的 A4 PDF（嵌入中文字体），与签发时的内容相同。"""
        with web.reader() as db:
            return pdf_response(web, db, _visible(web, db, me, reference))

    @routes.post("/{reference}/receipt", response_model=ReceiptOut,
                 responses=refusals(403, 404), summary="签收督办单")
    def receipt(reference: Reference, me: Caller) -> ReceiptOut:
        """签收：由督办单下达的单位的人员（或督查室代为）签收，记下签收人和时间；重复签收
        不作改动（`signed_now` 为 false）。"""
        with web.writer() as db:
            found = _visible(web, db, me, reference)
            try:
                signed = sign_receipt(session=db, order=found, person=me, now=web.now())
            except ReceiptRefused as refused:
                raise Refusal(403, "not_permitted", str(refused)) from None
            db.commit()
            (row,) = order_rows(db, web.rules.zone, order_id=found.id)
        return ReceiptOut.model_validate(row | {"signed_now": signed})

    return routes


def _visible(web: Web, db: Session, me: Person, reference: str) -> SupervisionOrder:
    found = find_order(db, reference)
    units, _ = remit(web, db, me)
    if found is None or (units is not None and found.unit_id not in units):
        raise Refusal(404, "not_found", "没有这份督办单（或您无权查看）。")
    return found
