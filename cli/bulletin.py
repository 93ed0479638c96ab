"""`duban bulletin generate|list|show`: the 晾晒 bulletins."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import context
from cli.output import Code, console, emit_json, fail, table

app = typer.Typer(no_args_is_help=True)

EDITIONS = {"internal": "内部版", "public": "公开版"}


def _plan_code(plan: str | None) -> str | None:
    """The plan code a --plan names, or None for 全部规划 (the bulletins across every plan,
    models.store.bulletin_history.ALL_PLANS_NAME); their key "*", as --json prints it, is
    taken too."""
    from models.store.bulletin_history import ALL_PLANS, ALL_PLANS_NAME

    return None if plan in (ALL_PLANS_NAME, ALL_PLANS) else plan


def _scope_name(scope: str) -> str:
    from models.store.bulletin_history import ALL_PLANS, ALL_PLANS_NAME

    return ALL_PLANS_NAME if scope == ALL_PLANS else scope


@app.command()
def generate(
        plan: Annotated[str | None, typer.Option(
            help="plan code, or 全部规划 (the default): one bulletin across every plan")] = None,
        period: Annotated[str, typer.Option(
            help="week (the last full week), month (the last full month) or "
                 "FROM..TO, e.g. 2026-11-01..2026-11-30")] = "week",
        as_of: Annotated[str | None, typer.Option(
            "--as-of", metavar="YYYY-MM-DD",
            help="issue as on this day (week and month are the ones before it)")] = None,
        edition: Annotated[str, typer.Option(help="internal, public or both")] = "both",
        send: Annotated[bool, typer.Option("--send", help="queue the emails")] = False,
        resend: Annotated[bool, typer.Option(
            "--resend", help="with --send: send again to everyone, even if sent before")] = False,
        json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Generate (or regenerate) a bulletin from the history as it stood at the period's end.

    Generating the same plan, period and edition again replaces the stored bulletin; with
    --send, only people not yet sent it get it, unless --resend.
    """
    from cli.supervision import parse_day
    from flows.bulletins import issue
    from models.rules.bulletin.editions import Edition
    from models.rules.bulletin.periods import parse_period
    from models.store.bulletin_history import UnknownPlan

    if resend and not send:
        fail("--resend needs --send", code=2)
    if edition not in ("internal", "public", "both"):
        fail(f"--edition: {edition!r} is not internal, public or both", code=2)
    day = parse_day(as_of, "--as-of")
    rules = context.rules()
    issued_on = day or rules.today(context.now())
    try:
        covered = parse_period(period, issued_on)
    except ValueError as exc:
        fail(f"--period: {exc}", code=2)
    context.require_database()
    editions = [Edition.internal, Edition.public] if edition == "both" else [Edition(edition)]
    try:
        issued = issue(engine=context.engine(), rules=rules, settings=context.settings(),
                       plan=_plan_code(plan), period=covered, editions=editions,
                       send_it=send, resend=resend, actor=context.actor(),
                       now=context.runtime().at(day))
    except UnknownPlan as exc:
        fail(f"--plan: {exc}", code=2)
    if json:
        emit_json([{"id": i.id, "scope": i.scope, "edition": i.edition,
                    "period": {"first": i.period.first, "last": i.period.last},
                    "replaced": i.replaced, "queued": i.queued} for i in issued])
        return
    for i in issued:
        console.print(f"通报 {i.id}：{_scope_name(i.scope)}，{i.period.first}—{i.period.last}，"
                      f"{EDITIONS[i.edition]}，{'已重新生成' if i.replaced else '已生成'}"
                      + (f"，新排队邮件 {i.queued} 封" if send else ""), highlight=False)


@app.command("list")
def list_(plan: Annotated[str | None, typer.Option(
            help="plan code, or 全部规划 for the bulletins across every plan")] = None,
          json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
          ) -> None:
    """Stored bulletins, newest period first."""
    from sqlmodel import col
    from sqlmodel.sql.expression import Select

    from cli.known import require_plan
    from models.store.bulletin_history import ALL_PLANS
    from models.tables.bulletin_record import BulletinRecord

    context.require_database()
    with context.session() as db:
        # What select() builds for more than the four columns it is typed for.
        query: Select[*tuple[Any, ...]] = Select(
            col(BulletinRecord.id), col(BulletinRecord.scope), col(BulletinRecord.scope_name),
            col(BulletinRecord.period_kind), col(BulletinRecord.period_first),
            col(BulletinRecord.period_last), col(BulletinRecord.edition),
            col(BulletinRecord.generated_at), col(BulletinRecord.sends)).order_by(
            col(BulletinRecord.period_last).desc(), col(BulletinRecord.scope),
            col(BulletinRecord.edition))
        if plan is not None:
            code = _plan_code(plan)
            require_plan(db, code)
            query = query.where(BulletinRecord.scope == (code or ALL_PLANS))
        rows: Sequence[Any] = db.exec(query).all()  # Rows, read by column name
    if json:
        emit_json([{"id": r.id, "scope": r.scope, "scope_name": r.scope_name,
                    "period": {"kind": r.period_kind, "first": r.period_first,
                               "last": r.period_last},
                    "edition": r.edition, "generated_at": r.generated_at, "resends": r.sends}
                   for r in rows])
        return
    table("督办晾晒通报", [Code("编号"), "范围", Code("期间"), "版本", Code("生成时间")],
          ((r.id, r.scope_name, f"{r.period_first}—{r.period_last}", EDITIONS[r.edition],
            f"{r.generated_at.astimezone(context.rules().zone):%Y-%m-%d %H:%M}") for r in rows))


@app.command()
def show(bulletin: Annotated[int, typer.Argument(help="bulletin id (see `duban bulletin list`)")],
         json: Annotated[bool, typer.Option("--json", help="the figures as JSON")] = False,
         html: Annotated[Path | None, typer.Option(
             help="write the HTML (its chart inline) to this file")] = None,
         pdf: Annotated[Path | None, typer.Option(help="write the PDF to this file")] = None,
         xlsx: Annotated[Path | None, typer.Option(help="write the workbook to this file")] = None,
         chart: Annotated[Path | None, typer.Option(help="write the chart (PNG) here")] = None,
         ) -> None:
    """A stored bulletin: its text, or its figures (--json), or its files."""
    from models.tables.bulletin_record import BulletinRecord

    context.require_database()
    with context.session() as db:
        row = db.get(BulletinRecord, bulletin)
        if row is None:
            fail(f"no bulletin with id {bulletin} (see `duban bulletin list`)", code=2)
        inline = "data:image/png;base64," + base64.b64encode(row.chart_png).decode()
        files = {html: row.html.replace("cid:bulletin-chart", inline).encode(),
                 pdf: row.pdf, xlsx: row.xlsx, chart: row.chart_png}
        for path, content in files.items():
            if path is not None:
                path.write_bytes(content)
                console.print(f"已写入 {path}", highlight=False)
        if json:
            emit_json({"id": row.id, "subject": row.subject, "figures": row.figures})
        elif not any(files):
            console.print(row.text, highlight=False, markup=False)
