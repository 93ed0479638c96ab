"""`duban orders list|show` and `duban receipt`: the numbered 督办单 and 签收."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session

from cli import context
from cli.output import console, emit_json, errors, fail, shown_of, table
from models.store.orders import receipt_words

app = typer.Typer(no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _orders(db: Session, **only: Any) -> list[dict[str, Any]]:
    from models.store.orders import order_rows

    return order_rows(db, context.rules().zone, **only)


@app.command("list")
def list_(unsigned: Annotated[bool, typer.Option(
              "--unsigned", help="only orders not yet signed for")] = False,
          limit: Annotated[int, typer.Option(min=1, help="newest first, at most")] = 200,
          all_: Annotated[bool, typer.Option("--all", help="every order")] = False,
          json: Json = False) -> None:
    """督办单 issued, newest first, with its 文号, item, unit and 签收; the line under the
    table says when there are more than --limit (--json gives the same rows)."""
    from models.store.orders import count_orders

    with context.session() as db:
        rows = _orders(db, unsigned=unsigned, limit=None if all_ else limit)
        total = len(rows) if all_ else count_orders(db, unsigned=unsigned)
    if json:
        emit_json(rows)
        shown_of(len(rows), total, "份", to=errors)
        return
    table(f"督办单（{total} 份）", ["序号", "文号", "节点 ID", "节点", "责任单位", "级别",
                                  "签发", "签收时限", "签收"],
          ([r["id"], r["number"], r["milestone_id"], r["title"], r["unit"], r["level_name"],
            r["issued_on"], r["receipt_due_on"], receipt_words(r)] for r in rows))
    shown_of(len(rows), total, "份")


@app.command()
def show(reference: Annotated[str, typer.Argument(help="the order's id or its 文号")],
         pdf: Annotated[Path | None, typer.Option(
             "--pdf", help="write the order as an A4 PDF to this file")] = None,
         json: Json = False) -> None:
    """One 督办单: what it orders and whether it was signed for; --pdf writes the document."""
    from models.store.orders import find_order
    from notifications.order_document import order_context, order_pdf

    with context.session() as db:
        order = find_order(db, reference)
        if order is None:
            fail(f"没有督办单 {reference!r}（`duban orders list` 列出全部）", code=2)
        document = order_context(db, order, context.settings())
        (row,) = _orders(db, order_id=order.id)
    if pdf is not None:
        pdf.write_bytes(order_pdf(document))
    if json:
        emit_json(row | {"history": document["history"]})
        return
    for label, key in (("文号", "number"), ("督办事项", "title"), ("责任单位", "unit"),
                       ("督办级别", "level_name"), ("现截止", "due_on"), ("签发", "issued_on"),
                       ("签收时限", "receipt_due_on")):
        console.print(f"{label}：{row[key]}", highlight=False)
    console.print(f"签收：{receipt_words(row)}", highlight=False)
    if pdf is not None:
        console.print(f"已写入 {pdf}", highlight=False)


def receipt(reference: Annotated[str, typer.Argument(help="the order's id or its 文号")],
            by: Annotated[str, typer.Option("--by", help="e-mail of the person signing")]
            ) -> None:
    """签收: a person of the order's unit (or the office on its behalf) signs for it."""
    from sqlmodel import select

    from models.store.orders import ReceiptRefused, find_order, sign_receipt
    from models.tables.person import Person

    with context.session() as db:
        order = find_order(db, reference)
        if order is None:
            fail(f"没有督办单 {reference!r}（`duban orders list` 列出全部）", code=2)
        person = db.exec(select(Person).where(Person.email == by.strip().lower())).first()
        if person is None:
            fail(f"--by: 没有邮箱为 {by!r} 的人员（`duban people list`）", code=2)
        try:
            signed = sign_receipt(session=db, order=order, person=person, now=context.now())
        except ReceiptRefused as exc:
            fail(str(exc), code=2)
        db.commit()
        number = order.number
    console.print(f"已签收督办单 {number}" if signed else f"督办单 {number} 此前已签收，未作改动",
                  highlight=False)
