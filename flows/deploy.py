"""Scale-out: register the supervision flows as Prefect deployments on a work pool.

Prefect's server (on PostgreSQL) then owns the schedule, and workers on any number of machines
run the flows; the app database stays the source of truth, so two workers picking up runs at
once still record each escalation step once (see flows/sweep.py). In this mode do not also run
`duban run`: exactly one scheduler may fire the sweep (Prefect's, here).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from config.policy import Cron

T = TypeVar("T")

REPOSITORY = Path(__file__).resolve().parent.parent
SWEEP_DEPLOYMENT = "supervise-all"
PROJECT_DEPLOYMENT = "supervise-project"
DELIVERY_DEPLOYMENT = "deliver-outbox"
BULLETIN_DEPLOYMENT = "weekly-bulletins"
EVERY_MINUTE = "* * * * *"  # the outbox delivery


@dataclass(frozen=True)
class Deployed:
    name: str      # flow/deployment, as `prefect deployment run` takes it
    id: UUID
    schedule: str | None  # standard cron, in the deployment's time zone; None: run by hand


def cron_expression(cron: Cron) -> str:
    """Standard cron, which Prefect reads; weekday names mean the same to every scheduler."""
    return f"{cron.minute} {cron.hour} * * {cron.day_of_week}"


def deploy(*, pool: str, cron: Cron, timezone: str, source: Path = REPOSITORY,
           bulletin_cron: Cron | None = None) -> list[Deployed]:
    """Create the process work pool if needed and (re)register the sweep, one-project sweep,
    delivery and weekly bulletin deployments; returns them, the sweep first.

    ``source`` is where workers find the code: the same path on every worker machine (a
    checkout of this repository with its .venv), or a git URL.
    """
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.schedules import Cron as PrefectCron

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass
    supervise_all = _synchronously(flow.from_source(
        source=str(source), entrypoint="flows/supervise.py:supervise_all"))
    sweep_id = _synchronously(supervise_all.deploy(
        name=SWEEP_DEPLOYMENT, work_pool_name=pool,
        schedules=[PrefectCron(cron_expression(cron), timezone=timezone)],
        concurrency_limit=1, build=False, push=False, print_next_steps=False,
        ignore_warnings=True,
        description="督办巡检：更新红黄绿灯、逐级升级督办并排队发送通知。"))
    deployed = [Deployed(f"supervise_all/{SWEEP_DEPLOYMENT}", sweep_id, cron_expression(cron))]
    # No schedule: the office runs it from the UI (Deployments → supervise-project → Run,
    # with the project's id) after changing one project, and reads the project's page after.
    one_project = _synchronously(flow.from_source(
        source=str(source), entrypoint="flows/supervise.py:supervise_project"))
    project_id = _synchronously(one_project.deploy(
        name=PROJECT_DEPLOYMENT, work_pool_name=pool, concurrency_limit=4, build=False,
        push=False, print_next_steps=False, ignore_warnings=True,
        description="单个项目巡检：填写项目编号（project_id），只更新该项目的节点并排队通知。"))
    deployed.append(Deployed(f"supervise_project/{PROJECT_DEPLOYMENT}", project_id, None))
    # Several delivery runs at once are safe (rows are claimed with SKIP LOCKED); two at most.
    deliver = _synchronously(flow.from_source(source=str(source),
                                              entrypoint="flows/deliver.py:deliver_outbox"))
    deliver_id = _synchronously(deliver.deploy(
        name=DELIVERY_DEPLOYMENT, work_pool_name=pool,
        schedules=[PrefectCron(EVERY_MINUTE, timezone=timezone)], concurrency_limit=2,
        build=False, push=False, print_next_steps=False, ignore_warnings=True,
        description="发送通知：把巡检结果汇总成邮件和群消息并发送。"))
    deployed.append(Deployed(f"deliver_outbox/{DELIVERY_DEPLOYMENT}", deliver_id, EVERY_MINUTE))
    if bulletin_cron is not None:
        bulletins = _synchronously(flow.from_source(
            source=str(source), entrypoint="flows/bulletin_flow.py:weekly_bulletins"))
        bulletins_id = _synchronously(bulletins.deploy(
            name=BULLETIN_DEPLOYMENT, work_pool_name=pool,
            schedules=[PrefectCron(cron_expression(bulletin_cron), timezone=timezone)],
            concurrency_limit=1, build=False, push=False, print_next_steps=False,
            ignore_warnings=True, description="督办晾晒通报：上周各单位进展排名，生成并发送。"))
        deployed.append(Deployed(f"weekly_bulletins/{BULLETIN_DEPLOYMENT}", bulletins_id,
                                 cron_expression(bulletin_cron)))
    return deployed


def _synchronously(value: T | Coroutine[Any, Any, T]) -> T:
    """Prefect's ``async_dispatch`` methods return their value when called from sync code, as
    here; they are typed for both callers."""
    if isinstance(value, Coroutine):
        value.close()
        raise TypeError("a Prefect method returned a coroutine in sync code")
    return value
