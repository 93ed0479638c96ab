"""`duban units …`: the responsible units and their contacts."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import context
from cli.output import Code, console, emit_json, fail, table

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_(json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """All units, with their contacts (placeholders marked)."""
    from sqlmodel import select

    from models.tables.unit import Unit

    with context.session() as db:
        units = db.exec(select(Unit).order_by(Unit.code)).all()
    rows = [{"code": u.code, "name": u.name, "kind": u.kind, "contact_name": u.contact_name,
             "contact_email": u.contact_email, "contact_phone": u.contact_phone,
             "contact_placeholder": u.contact_placeholder} for u in units]
    if json:
        emit_json(rows)
        return
    table("责任单位", [Code("代码"), "名称", "类型", "联系人", "邮箱", "电话"], (
        (r["code"], r["name"], r["kind"], r["contact_name"],
         f"{r['contact_email']}（占位，待替换）" if r["contact_placeholder"]
         else r["contact_email"],
         r["contact_phone"]) for r in rows))


@app.command("set-contact")
def set_contact(code: str, name: Annotated[str, typer.Option(help="contact name")],
                email: Annotated[str, typer.Option(help="contact email")],
                phone: Annotated[str | None, typer.Option(help="contact phone")] = None) -> None:
    """Replace a unit's (placeholder) contact."""
    from pydantic import ValidationError
    from sqlmodel import select

    from models.store.people import ContactIn, set_unit_contact
    from models.tables.unit import Unit

    try:
        contact = ContactIn(name=name, email=email, phone=phone)
    except ValidationError as exc:
        fail("; ".join(f"--{e['loc'][0]}: {e['msg']}" for e in exc.errors()), code=2)
    with context.session() as db:
        unit = db.exec(select(Unit).where(Unit.code == code)).first()
        if unit is None:
            fail(f"没有代码为 {code!r} 的单位（duban units list 列出全部单位）", code=2)
        set_unit_contact(session=db, unit=unit, contact=contact, actor=context.actor(),
                         now=context.now())
        db.commit()
    console.print(f"{code} 联系人已更新", highlight=False)
