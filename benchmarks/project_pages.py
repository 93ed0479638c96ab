"""What the per-project artifacts cost: pages for the first ``count`` projects of a loaded
database, posted from one flow run as a sweep that changed them would post them. Run inside
benchmarks.sweep_benchmark's flow child, whose Prefect server is already up."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import sqlalchemy as sa


def project_pages(engine: sa.Engine, count: int, as_of: date) -> dict[str, float]:
    """What the per-project artifacts cost a sweep that changed ``count`` projects."""
    from collections import Counter

    from prefect import flow

    from flows.supervise import publish_projects
    from flows.sweep import SweepReport
    from tests.world import RULES

    with engine.connect() as connection:
        codes = [f"{plan}/{project}" for plan, project in connection.execute(sa.text(
            "SELECT plan.code, project.code FROM project JOIN plan ON plan.id = project.plan_id "
            "ORDER BY project.id LIMIT :n"), {"n": count})]

    @flow
    async def pages() -> float:
        report = SweepReport("benchmark", as_of, False,
                             projects={code: Counter(changed=1) for code in codes})
        started = time.perf_counter()
        await publish_projects(report, engine, RULES, count)
        return time.perf_counter() - started

    return {"pages": len(codes), "pages_s": asyncio.run(pages())}

