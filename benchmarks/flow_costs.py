"""What flow runs cost besides the sweep: an empty flow run (the fixed part of any), and the
per-project artifacts (pages for the first ``count`` projects of a loaded database, posted
from one flow run as a sweep that changed them would post them). Run inside
benchmarks.sweep_benchmark's flow child, whose Prefect server is already up."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import date

import sqlalchemy as sa


def flow_costs(engine: sa.Engine, count: int, as_of: date) -> dict[str, float]:
    """An empty flow run's time (median of five), and what the per-project artifacts cost a
    sweep that changed ``count`` projects."""
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

    @flow
    async def nothing() -> None:
        return None

    empty = []
    for _ in range(5):
        started = time.perf_counter()
        asyncio.run(nothing())
        empty.append(time.perf_counter() - started)
    return {"empty_s": statistics.median(empty), "pages": len(codes),
            "pages_s": asyncio.run(pages())}

