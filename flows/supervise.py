"""Prefect flows around the sweep. Imported only where a flow runs: Prefect is slow to import.

The sweep works on sets in the database (see flows.sweep); the flow adds orchestration, retries,
and an artifact of per-project outcomes for the Prefect UI, naming the machine that ran it.
No task per milestone.
"""

from __future__ import annotations

import os
import socket
from datetime import date
from functools import partial
from typing import Any

import anyio
from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

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


def where_it_ran() -> str:
    """This process's host and pid, and the Prefect worker that started it when one did: with
    several workers, the one place outside their logs that says which machine swept."""
    place = f"{socket.gethostname()}（进程 {os.getpid()}）"
    # Set by Prefect's workers in the environment of the runs they start (workers/base.py).
    worker = os.environ.get("PREFECT__WORKER_NAME")
    return f"{place}，worker {worker}" if worker else place


async def _publish(report: SweepReport) -> None:
    """Log the sweep's totals and leave an artifact on its run.

    A sweep that touched some project publishes the per-project table under the key
    ``sweep-outcomes``, whose latest version the Prefect UI shows. A sweep that touched none
    (most runs: only items due for a look are read) publishes a markdown note on its own run,
    without the key: a table of "—" under the key would hide the last sweep that did change
    something, while the note still says that this run happened, where, and that nothing
    changed.
    """
    get_run_logger().info(
        "sweep %s as of %s: %d evaluated, %d changed, %d escalations, %d notices",
        report.sweep_id, report.as_of, report.evaluated, report.changed, report.escalated,
        report.notifications)
    title = f"督办巡检 {report.as_of.isoformat()}{'（预演）' if report.dry_run else ''}"
    ran_on = where_it_ran()
    if not report.projects:
        await acreate_markdown_artifact(
            markdown=f"**{title}**：没有需要检查的节点，无任何变化。\n\n运行于 {ran_on}。",
            description=f"{title} · 无变化 · {ran_on}")
        return
    rows = [{"project": code, **{k: counts.get(k, 0)
                                 for k in ("evaluated", "changed", "escalations")}}
            for code, counts in sorted(report.projects.items())]
    await acreate_table_artifact(key="sweep-outcomes", table=rows,
                                 description=f"{title} · 运行于 {ran_on}")
