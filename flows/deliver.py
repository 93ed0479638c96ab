"""The outbox delivery flow, run every minute by either scheduler."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows import runtime
from notifications.outbox import deliver_round


@flow(name="deliver_outbox")
async def deliver_outbox() -> dict[str, Any]:
    """Compose finished sweeps into digests, then send every message that is due."""
    from config.channels import load_channels

    totals = await deliver_round(engine=runtime.engine(), settings=runtime.settings(),
                                 channels=load_channels(), now=runtime.now())
    if totals["claimed"]:
        get_run_logger().info("outbox: %s", totals)
    return totals
