"""The outbox delivery flow, run every minute by either scheduler."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from notifications.outbox import deliver_round
from services.runtime import current


@flow(name="deliver_outbox")
async def deliver_outbox() -> dict[str, Any]:
    """Compose finished sweeps into digests, then send every message that is due."""
    runtime = current()
    totals = await deliver_round(engine=runtime.engine, settings=runtime.settings,
                                 channels=runtime.channels, now=runtime.now())
    if totals["claimed"]:
        get_run_logger().info("outbox: %s", totals)
    return totals
