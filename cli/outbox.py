"""`duban outbox …`: deliver what is queued, list messages and dead letters, retry one."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli import context
from cli.output import Code, console, emit_json, errors, fail, shown_of, table

app = typer.Typer(no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]
STATUS_WORDS = {"queued": "待发送", "sending": "发送中", "sent": "已发送", "failed": "待重试",
                "dead": "发送失败"}


@app.command()
def deliver(json: Json = False) -> None:
    """Compose finished sweeps into messages and send everything due, once."""
    from notifications.outbox import deliver_round

    context.require_database()
    totals = asyncio.run(deliver_round(engine=context.engine(), settings=context.settings(),
                                       channels=context.channels(), now=context.now()))
    if json:
        emit_json(totals)
        return
    console.print(f"新邮件 {totals['emails_composed']} 封、群消息 {totals['posts_composed']} 条；"
                  f"发送 {totals['sent']}，待重试 {totals['failed']}，失败 {totals['dead']}",
                  highlight=False)


@app.command("list")
def list_(failed: Annotated[bool, typer.Option("--failed", help="only failed and dead")] = False,
          limit: Annotated[int, typer.Option(min=1, help="newest first, at most")] = 200,
          all_: Annotated[bool, typer.Option("--all", help="every message")] = False,
          json: Json = False) -> None:
    """Messages in the outbox, newest first; the line under the table says when there are
    more than --limit (--json gives the same rows)."""
    from notifications.outbox import count_messages, list_messages

    with context.session() as db:
        rows = list_messages(session=db, failed_only=failed, limit=None if all_ else limit)
        total = len(rows) if all_ else count_messages(session=db, failed_only=failed)
    if json:
        emit_json(rows)
        shown_of(len(rows), total, "条", to=errors)
        return
    table("发件箱" + ("（失败）" if failed else ""),
          [Code("编号"), "渠道", "收件人", "主题", "状态", "次数", "错误"],
          ((r["id"], r["channel"], f"{r['recipient']} <{r['address']}>", r["subject"],
            STATUS_WORDS[r["status"]], r["attempts"], r["last_error"] or "") for r in rows))
    shown_of(len(rows), total, "条")


@app.command()
def retry(message: Annotated[int, typer.Argument(help="message id (see `duban outbox list`)")],
          ) -> None:
    """Send a failed or dead message again."""
    from notifications.outbox import NotRetriable
    from notifications.outbox import retry as retry_message

    context.require_database()
    try:
        retry_message(engine=context.engine(), message_id=message, actor=context.actor(),
                      now=context.now())
    except NotRetriable as exc:
        fail(str(exc), code=2)
    console.print(f"消息 {message} 已重新排队", highlight=False)
