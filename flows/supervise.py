"""Prefect flows around the sweep. Imported only where a flow runs: Prefect is slow to import.

The sweep works on sets in the database (see flows.sweep); the flow adds orchestration, retries,
and artifacts for the Prefect UI: the per-project outcomes, naming the machine that ran it, and
for each project the sweep changed its milestones under the key ``project-<id>``, so that a
project's versions in Prefect are its history sweep by sweep. No task per milestone, nor per
project: the project pages are read in a few queries and posted concurrently by one client.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Any

import anyio
from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.utilities.context import get_task_and_flow_run_ids
from sqlalchemy import Engine
from sqlmodel import Session

from flows.sweep import SweepReport, run_sweep
from models.rules.rulebook import Rules
from models.store.project_cards import ProjectCard, project_cards
from notifications.project_card import artifact_key, project_markdown
from services.runtime import current

POSTS_AT_ONCE = 4  # project artifacts in flight: the server writes them one at a time anyway
# Each artifact costs the Prefect server 20–50 ms here (2 cores, SQLite; no bulk call exists):
# past this many changed projects in one sweep (a plan import, a policy change), the ones with
# the most steps and changes get their page, the log counts the rest, and the outcomes table
# still lists every project.
PROJECT_PAGES = 200

# Async flows: a sync flow run waits ~1 s on exit for its heartbeat thread (TECH_NOTES §1.2),
# which would dwarf a steady-state sweep. The sweep itself runs in a worker thread.


@flow(name="supervise_all", retries=1, retry_delay_seconds=60)
async def supervise_all(as_of: date | None = None, dry_run: bool = False,
                        batch_size: int = 1000,
                        project_pages: int = PROJECT_PAGES) -> dict[str, Any]:
    """Sweep every plan: lights, state changes, escalation steps and their notices.

    Several runs at once share the work (on PostgreSQL): each takes the batches of ids no other
    run holds (FOR UPDATE SKIP LOCKED) and skips the items another already moved past today,
    so two workers on one large sweep each do part and every item is swept once. Smaller
    batches share more finely."""
    return await _sweep(as_of, dry_run, None, batch_size, project_pages)


@flow(name="supervise_project")
async def supervise_project(project_id: int, as_of: date | None = None,
                            dry_run: bool = False) -> dict[str, Any]:
    """Sweep one project's milestones and indicators."""
    return await _sweep(as_of, dry_run, project_id)


async def _sweep(as_of: date | None, dry_run: bool, project_id: int | None,
                 batch_size: int = 1000, project_pages: int = PROJECT_PAGES) -> dict[str, Any]:
    runtime = current()
    report = await anyio.to_thread.run_sync(partial(
        run_sweep, engine=runtime.engine, rules=runtime.rules, now=runtime.at(as_of),
        clock=runtime.clock, dry_run=dry_run, project_id=project_id, batch_size=batch_size))
    await publish_outcomes(report, runtime.engine, runtime.rules, project_pages, project_id)
    return report.as_dict()


async def publish_outcomes(report: SweepReport, engine: Engine, rules: Rules,
                           project_pages: int = PROJECT_PAGES,
                           asked_for: int | None = None) -> None:
    """Everything a sweep leaves in Prefect: its totals, and each changed project's page; a
    project swept by hand (``asked_for``) gets its page even if nothing changed in it, since
    that page is what the person who asked will look at."""
    await _publish_totals(report)
    await publish_projects(report, engine, rules, project_pages, asked_for)


def changed_projects(report: SweepReport) -> list[str]:
    """The projects ("plan/project") where this sweep changed a light or state or recorded a
    step, most steps and changes first; a dry run kept nothing, so it changed none."""
    return [] if report.dry_run else sorted(
        (code for code, counts in report.projects.items()
         if counts.get("changed", 0) or counts.get("escalations", 0)),
        key=lambda code: (-report.projects[code].get("escalations", 0),
                          -report.projects[code].get("changed", 0), code))


async def publish_projects(report: SweepReport, engine: Engine, rules: Rules,
                           limit: int = PROJECT_PAGES, asked_for: int | None = None) -> int:
    """One markdown artifact per changed project (at most ``limit``) under its key, as the
    sweep left it, and the ``asked_for`` project's; returns how many. Read in the worker
    thread, posted from the event loop."""
    started = time.perf_counter()
    codes = changed_projects(report)
    ids = [asked_for] if asked_for is not None and not report.dry_run else []
    if not codes and not ids:
        return 0
    cards = await anyio.to_thread.run_sync(partial(_read_cards, engine, codes[:limit], ids))
    await post_cards(report, cards, rules)
    get_run_logger().info("%d project artifacts in %.2f s%s", len(cards),
                          time.perf_counter() - started,
                          f"; {len(codes) - limit} more changed projects left without one"
                          if len(codes) > limit else "")
    return len(cards)


def _read_cards(engine: Engine, codes: list[str], ids: list[int]) -> list[ProjectCard]:
    with Session(engine) as session:
        return project_cards(session=session, codes=codes, ids=ids)


async def post_cards(report: SweepReport, cards: Sequence[ProjectCard], rules: Rules) -> None:
    """Prefect has no bulk artifact call: one client, a few posts in flight at a time."""
    _, flow_run_id = get_task_and_flow_run_ids()
    limit = anyio.Semaphore(POSTS_AT_ONCE)
    title = f"督办巡检 {report.as_of.isoformat()}"
    async with get_client() as client:
        async def post(card: ProjectCard) -> None:
            async with limit:
                levels = {lvl.level: lvl.name for lvl in rules.policy(card.plan_code).ladder}
                await client.create_artifact(ArtifactCreate(
                    key=artifact_key(card.id), type="markdown", flow_run_id=flow_run_id,
                    description=f"{card.plan_code}/{card.code} {card.name} · {title}",
                    data=project_markdown(
                        card, as_of=report.as_of, level_names=levels,
                        counts=report.projects.get(f"{card.plan_code}/{card.code}", {}))))

        async with anyio.create_task_group() as group:
            for card in cards:
                group.start_soon(post, card)


def where_it_ran() -> str:
    """This process's host and pid, and the Prefect worker that started it when one did: with
    several workers, the one place outside their logs that says which machine swept."""
    place = f"{socket.gethostname()}（进程 {os.getpid()}）"
    # Set by Prefect's workers in the environment of the runs they start (workers/base.py).
    worker = os.environ.get("PREFECT__WORKER_NAME")
    return f"{place}，worker {worker}" if worker else place


async def _publish_totals(report: SweepReport) -> None:
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
