"""`duban init` and `duban run`: bring up the embedded default."""

from __future__ import annotations

from pathlib import Path

from cli import context
from cli.output import console

SEED_PLANS = Path(__file__).resolve().parent.parent / "config" / "plans"


def init() -> None:
    """Create or upgrade the database; import the seed plans if no plan is loaded."""
    from sqlmodel import select

    from cli.plans import describe_changes, import_files
    from models.db import migrate
    from models.plan import Plan

    migrate(context.engine())
    console.print(f"数据库已就绪：{context.settings().database}", highlight=False)
    with context.session() as db:
        has_plans = db.exec(select(Plan.id)).first() is not None
    if not has_plans:
        for outcome in import_files(sorted(SEED_PLANS.glob("*.yaml"))):
            console.print(f"已导入 {outcome.plan_code}：{describe_changes(outcome.counts)}",
                          highlight=False)


def run() -> None:
    """Run the embedded service: today, initialise and list the plans under supervision."""
    from cli.plans import list_

    init()
    list_()
