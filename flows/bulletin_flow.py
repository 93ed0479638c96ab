"""The weekly bulletin as a Prefect flow (imported only where it runs: Prefect is slow to
import)."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger

from flows.bulletins import weekly, weekly_flow_result
from services.runtime import current


@flow(name="weekly_bulletins", retries=1, retry_delay_seconds=300)
async def weekly_bulletins(issued_on: date | None = None) -> dict[str, Any]:
    """Last week's bulletins, both editions, for every plan running; sent. Safe to rerun:
    a bulletin already sent is regenerated in place and sent to nobody twice."""
    runtime = current()
    now = runtime.at(issued_on)
    issued = weekly(engine=runtime.engine, rules=runtime.rules, settings=runtime.settings,
                    issued_on=runtime.rules.today(now), now=now)
    result = weekly_flow_result(issued)
    get_run_logger().info("bulletins: %s", result)
    return result
