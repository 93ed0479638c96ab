"""`duban audit verify`: walk the event log's hash chain (留痕) and say whether it is whole."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import context
from cli.output import console, emit_json, errors

app = typer.Typer(no_args_is_help=True)


@app.command()
def verify(json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check every event against its seal and the chain; exit 1 naming the first event found
    edited, deleted or written behind Duban's back."""
    from models.store.event_chain import verify as walk

    with context.session() as db:
        held, head, problems = walk(session=db)
    if json:
        emit_json({"sealed": held, "head": {"seq": head.seq, "event_id": head.event_id,
                                            "hash": head.hash},
                   "problems": [{"event_id": p.event_id, "what": p.what} for p in problems]})
    elif not problems and head.event_id is None:
        console.print("留痕完整：尚无事件。", highlight=False)
    elif not problems:
        console.print(f"留痕完整：{held} 条事件均与其留痕相符。链首：第 {head.seq} 环，"
                      f"事件 {head.event_id}，哈希 {head.hash}"
                      "（记下它，日后可核对留痕未被整体改写）", highlight=False)
    else:
        first = problems[0]
        errors.print(f"[bold red]留痕被改动[/]：{first.what}", highlight=False, markup=True)
        for problem in problems[1:]:
            errors.print(f"  另：{problem.what}", highlight=False, markup=False)
        errors.print(f"首个有问题的事件：{first.event_id}。其余 {held} 条事件与其留痕相符。",
                     highlight=False, markup=False)
    if problems:
        raise typer.Exit(1)
