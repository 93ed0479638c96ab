"""`duban`: the entry point. Sub-commands live in modules named for what they manage.

Nothing here imports Prefect: commands that run no flow must start fast.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from cli import (
    actions,
    audit,
    backup,
    bulletin,
    ledger,
    orders,
    outbox,
    people,
    plans,
    setup,
    supervision,
    units,
    web,
)

app = typer.Typer(
    help="督办 Duban: milestone supervision for civil-affairs plans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _show_version(show: bool) -> None:
    if show:
        typer.echo(f"duban {version('duban')}")
        raise typer.Exit()


@app.callback()
def _main(_version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="print the version and exit")] = False) -> None:
    """督办 Duban: milestone supervision for civil-affairs plans."""


app.add_typer(plans.app, name="plans", help="Validate, import, list and show plans.")
app.add_typer(units.app, name="units", help="Responsible units and their contacts.")
app.add_typer(people.app, name="people", help="People: office staff, owners, leaders, admins.")
app.add_typer(bulletin.app, name="bulletin", help="The 晾晒 bulletins: generate, list, show.")
app.add_typer(outbox.app, name="outbox", help="Queued, sent and failed messages.")
app.add_typer(orders.app, name="orders", help="The numbered 督办单: list, show, print.")
app.add_typer(audit.app, name="audit", help="The event log's hash chain (留痕): verify it.")
app.command("init")(setup.init)
app.command("demo")(setup.demo)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("run")(setup.run)
app.command("status")(supervision.status)
app.command("export")(ledger.export)
app.command("sweep")(supervision.sweep)
app.command("done")(actions.done)
app.command("progress")(actions.progress)
app.command("extend")(actions.extend)
app.command("extension")(actions.extension)
app.command("close")(actions.close)
app.command("return")(actions.return_)
app.command("reopen")(actions.reopen)
app.command("ack")(actions.ack)
app.command("snooze")(actions.snooze)
app.command("major")(actions.major)
app.command("receipt")(orders.receipt)
app.command("instruct")(actions.instruct)
app.command("chase")(actions.chase)
app.command("transfer")(actions.transfer)
app.command("deploy")(supervision.deploy)
app.command("web")(web.web)

if __name__ == "__main__":
    app()
