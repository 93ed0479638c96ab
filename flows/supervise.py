"""Prefect flows around the sweep. Imported only where a flow runs: Prefect is slow to import.

The sweep works on sets in the database (see flows.sweep); the flow adds orchestration, retries,
and a table artifact of per-project outcomes for the Prefect UI. No task per milestone.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import anyio
from prefect import flow, get_run_logger
from prefect.artifacts import acreate_table_artifact

from flows.sweep import SweepReport, run_sweep
from services.runtime import current

# Async flows: a sync flow run waits ~1 s on exit for its heartbeat thread (TECH_NOTES §1.2),
# which would dwarf a steady-state sweep. The sweep itself runs in a worker thread.


@flow(name="supervise_all", retries=1, retry_delay_seconds=60)
async def supervise_all(as_of: date | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Sweep every plan: lights, state changes, escalation steps and their notices."""
    return await _sweep(as_of, dry_run, None)


@flow(name="supervise_project")
async def supervise_project(project_id: int, as_of: date | None = None,
                            dry_run: bool = False) -> dict[str, Any]:
    """Sweep one project's milestones and indicators."""
    return await _sweep(as_of, dry_run, project_id)


async def _sweep(as_of: date | None, dry_run: bool, project_id: int | None) -> dict[str, Any]:
    runtime = current()
    report = await anyio.to_thread.run_sync(partial(
        run_sweep, engine=runtime.engine, rules=runtime.rules, now=runtime.at(as_of),
        clock=runtime.clock, dry_run=dry_run, project_id=project_id))
    await _publish(report)
    return report.as_dict()


async def _publish(report: SweepReport) -> None:
    get_run_logger().info(
        "sweep %s as of %s: %d evaluated, %d changed, %d escalations, %d notices",
        report.sweep_id, report.as_of, report.evaluated, report.changed, report.escalated,
        report.notifications)
    rows = [{"project": code, **{k: counts.get(k, 0)
                                 for k in ("evaluated", "changed", "escalations")}}
            for code, counts in sorted(report.projects.items())]
    await acreate_table_artifact(key="sweep-outcomes",
                                 table=rows or [{"project": "—", "evaluated": 0}],
                                 description=f"督办巡检 {report.as_of.isoformat()}"
                                             f"{'（预演）' if report.dry_run else ''}")
