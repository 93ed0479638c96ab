"""`duban export`: the 台账 of a filtered list, as XLSX or CSV (notifications.ledger).

The filters are the list page's (web.lists.Filters), so a page's address and a command give
the same rows; the command sees every unit, as the office does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.output import console, fail
from models.tables.milestone import Light, MilestoneState

Out = Annotated[Path | None, typer.Option(dir_okay=False, writable=True, metavar="FILE")]


def export(plan: Annotated[str | None, typer.Option(help="plan code")] = None,
           unit: Annotated[str | None, typer.Option(help="unit code")] = None,
           light: Annotated[Light | None, typer.Option(help="red, yellow, blue or green")] = None,
           state: Annotated[MilestoneState | None, typer.Option(help="a state")] = None,
           level: Annotated[int | None, typer.Option(min=0, help="escalation level")] = None,
           q: Annotated[str | None, typer.Option(help="words in the project or milestone "
                                                "title")] = None,
           xlsx: Out = None, csv: Out = None) -> None:
    """Write the 台账 of the milestones the filters select to --xlsx FILE or --csv FILE."""
    from cli.known import require_plan, require_unit
    from models.store.milestone_list import iter_chunks
    from notifications.ledger import ledger_for, write_csv, write_xlsx
    from web.lists import Filters

    if (xlsx is None) == (csv is None):
        fail("请给出 --xlsx FILE 或 --csv FILE 之一", code=2)
    filters = Filters(plan=plan, unit=unit, light=light.value if light else None, level=level,
                      state=state.value if state else None, q=q)
    rules = context.rules()
    today = rules.today(context.runtime().now())
    with context.session() as db:
        require_plan(db, plan)
        require_unit(db, unit)
        ledger = ledger_for(session=db, rules=rules, title=filters.words(), as_of=today)
        chunks = iter_chunks(session=db, query=filters.query(), calendar=rules.calendar,
                             today=today)
        target = xlsx or csv
        assert target is not None
        partial = target.with_name(target.name + ".partial")
        try:
            count = (write_xlsx if xlsx else write_csv)(ledger, chunks, partial)
            partial.replace(target)  # a failed export leaves no half-written file behind
        finally:
            partial.unlink(missing_ok=True)
    console.print(f"已导出 {count} 项 → {target}")
