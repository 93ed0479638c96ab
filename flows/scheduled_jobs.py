"""Jobs the embedded scheduler runs, named by textual reference
(``flows.scheduled_jobs:scheduled_sweep``).

APScheduler imports this module whenever it loads a job from its store, so nothing here imports
Prefect at module level: Prefect takes seconds to import, and only a running job needs it.
"""

from __future__ import annotations

import asyncio
import logging
import os

logger = logging.getLogger(__name__)

# Read by Prefect when it is imported and when it starts its ephemeral server (TECH_NOTES §1.1,
# §1.3): a cold server can take over a minute here, and a government network gets no telemetry.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def _prefect_environment() -> None:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Prefect's own history lives in the data directory too, never in ~/.prefect.
    from services.runtime import current

    os.environ.setdefault("PREFECT_HOME", str((current().settings.data_dir / "prefect").resolve()))


def scheduled_sweep() -> None:
    """Run the ``supervise_all`` flow once and log its outcome.

    A failure is logged and re-raised, so that APScheduler records it (EVENT_JOB_ERROR) and
    ``duban run --once`` exits with an error.
    """
    _prefect_environment()
    from flows.supervise import supervise_all

    logger.info("scheduled sweep starting")
    try:
        outcome = asyncio.run(supervise_all())
    except Exception:
        logger.exception("scheduled sweep failed")
        raise
    logger.info("scheduled sweep %s as of %s: %d evaluated, %d changed, %d escalations, "
                "%d notices", outcome["sweep_id"], outcome["as_of"], outcome["evaluated"],
                outcome["changed"], outcome["escalated"], outcome["notifications"])


def scheduled_delivery() -> None:
    """Run the ``deliver_outbox`` flow once; failures are logged and re-raised like the sweep's."""
    _prefect_environment()
    from flows.deliver import deliver_outbox

    try:
        asyncio.run(deliver_outbox())
    except Exception:
        logger.exception("outbox delivery failed")
        raise


def scheduled_bulletins() -> None:
    """Run the ``weekly_bulletins`` flow once; failures are logged and re-raised like the
    sweep's."""
    _prefect_environment()
    from flows.bulletin_flow import weekly_bulletins

    try:
        outcome = asyncio.run(weekly_bulletins())
    except Exception:
        logger.exception("weekly bulletins failed")
        raise
    logger.info("weekly bulletins: %d issued, %d emails queued", len(outcome["bulletins"]),
                outcome["queued"])
