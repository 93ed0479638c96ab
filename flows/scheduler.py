"""The embedded scheduler behind `duban run`: one APScheduler per database, sweeps on a cron.

The job store lives in the app database (table ``apscheduler_jobs``, kept out of Alembic by
models/migrations/env.py), so the next run time survives a restart: a sweep missed while the
process was down runs once, coalesced, when it comes back within ``MISFIRE_GRACE_SECONDS``.
APScheduler 3 cannot share a job store between schedulers (each would run every job), so
``hold_scheduler_lock`` makes sure only one process schedules per database.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import signal
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from models.store.database import make_engine

if TYPE_CHECKING:
    from config.policy import Cron

logger = logging.getLogger(__name__)

JOB_ID = "supervise_all"
JOB_TABLE = "apscheduler_jobs"
SWEEP_JOB = "flows.scheduled_jobs:scheduled_sweep"
BULLETIN_JOB_ID = "weekly_bulletins"
BULLETIN_JOB = "flows.scheduled_jobs:scheduled_bulletins"
DELIVERY_JOB_ID = "deliver_outbox"
DELIVERY_JOB = "flows.scheduled_jobs:scheduled_delivery"
DELIVERY_INTERVAL_SECONDS = 60
# A sweep missed at 09:00 (machine down, process restarting) still runs if the scheduler is back
# by 15:00 the same day; later than that we would rather not send notices into the evening and
# leave it to the next scheduled sweep, which loses nothing: a sweep picks up every milestone
# whose next_check_on has passed, however many sweeps were skipped.
MISFIRE_GRACE_SECONDS = 6 * 60 * 60
# PostgreSQL advisory locks take one bigint. Derived from a fixed name so that every version of
# Duban on every host agrees on it; advisory locks are per database, so databases sharing a
# server do not block each other.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"duban-scheduler").digest()[:8], "big", signed=True)


class SchedulerBusy(RuntimeError):
    """Another scheduler already owns this database's job store."""


def _busy(where: str) -> SchedulerBusy:
    return SchedulerBusy(f"另一个 duban run 已在使用数据库 {where}：同一数据库只能有一个调度器。")


def hold_scheduler_lock(database_url: str,
                        data_dir: Path) -> contextlib.AbstractContextManager[None]:
    """Own the database's job store for the duration of the context, or raise SchedulerBusy.

    PostgreSQL: a session-level advisory lock on a connection kept open for the whole context.
    SQLite: an exclusive ``flock`` on ``<db file>.scheduler.lock`` (``data_dir`` holds it for an
    in-memory database). Neither waits. Both are released on exit, and also when the process
    dies however it dies: the server ends the session's advisory locks when its connection
    closes, and the kernel drops flock locks when the last descriptor of the file is closed.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return _advisory_lock(database_url)
    database = url.database or ""
    path = (data_dir / "duban.db" if database in ("", ":memory:") else Path(database)).resolve()
    return _file_lock(path.with_name(path.name + ".scheduler.lock"), where=str(path))


@contextlib.contextmanager
def _advisory_lock(database_url: str) -> Iterator[None]:
    # AUTOCOMMIT: a connection left "idle in transaction" for weeks would pin old row versions
    # and could be killed by idle_in_transaction_session_timeout, silently dropping the lock.
    engine = make_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                      {"key": ADVISORY_KEY}).scalar_one()
            if not held:
                raise _busy(make_url(database_url).render_as_string(hide_password=True))
            yield
        # Closing the connection (really closed: NullPool) ends the session, and its lock.
    finally:
        engine.dispose()


@contextlib.contextmanager
def _file_lock(lock_file: Path, *, where: str) -> Iterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(where) from None
        yield
    finally:
        # Closing the descriptor drops the lock. The file stays: deleting it would let a
        # newcomer lock a fresh inode while another process locks the old one.
        os.close(descriptor)


class _Scheduler(BackgroundScheduler):
    """A BackgroundScheduler that does not process jobs once shutdown has begun.

    In APScheduler 3.11.3 ``shutdown()`` closes the executors, then wakes the scheduler thread,
    which looks for due jobs once more: a job due at that moment goes to the closed pool, fails,
    and its next run time is advanced all the same. The sweep would be lost rather than run at
    the next start. (Found when a paused scheduler's past-due job vanished at shutdown.)
    """

    def _process_jobs(self) -> float | None:
        # shutdown() marks the state before it takes this lock to close the executors: so either
        # this pass finishes first and its job runs, or it sees the state and leaves the job due.
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                return None
            wait: float | None = super()._process_jobs()
            return wait


def build_scheduler(*, database_url: str, timezone: str, sweep_cron: Cron,
                    func: str = SWEEP_JOB,
                    delivery: str | None = DELIVERY_JOB,
                    bulletin_cron: Cron | None = None) -> BackgroundScheduler:
    """A scheduler, not started, with the sweep job on ``sweep_cron`` in ``timezone`` (and the
    weekly bulletin on ``bulletin_cron``, when given).

    ``replace_existing=True`` alone would recompute the next run time from now and silently drop
    a run missed while the process was down. So when the stored job has the same trigger its
    stored next run time is kept (and, if past, runs once at start); only a changed schedule is
    recomputed. ``func`` is a textual reference, stored as such: tests point it at a probe.
    """
    store = SQLAlchemyJobStore(engine=make_engine(database_url), tablename=JOB_TABLE)
    scheduler = _Scheduler(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        timezone=timezone)
    _add_cron_job(scheduler, store, JOB_ID, func, "督办巡检", sweep_cron, timezone)
    if bulletin_cron is not None:
        _add_cron_job(scheduler, store, BULLETIN_JOB_ID, BULLETIN_JOB, "督办晾晒通报",
                      bulletin_cron, timezone)
    if delivery is not None:  # the outbox, every minute; a missed minute is simply the next one
        scheduler.add_job(delivery, IntervalTrigger(seconds=DELIVERY_INTERVAL_SECONDS,
                                                    timezone=timezone),
                          id=DELIVERY_JOB_ID, name="发送通知", replace_existing=True)
    return scheduler


def _add_cron_job(scheduler: BackgroundScheduler, store: SQLAlchemyJobStore, job_id: str,
                  func: str, name: str, cron: Cron, timezone: str) -> None:
    # Weekday names only: APScheduler 3 numbers Monday 0 where cron numbers it 1.
    trigger = CronTrigger(day_of_week=cron.day_of_week, hour=cron.hour, minute=cron.minute,
                          timezone=timezone)
    keep: dict[str, Any] = {}
    stored = _stored_job(store, scheduler, job_id)
    if stored is not None and stored.next_run_time is not None and _same(stored.trigger, trigger):
        keep["next_run_time"] = stored.next_run_time
    scheduler.add_job(func, trigger, id=job_id, name=name, replace_existing=True, **keep)


def _stored_job(store: SQLAlchemyJobStore, scheduler: BackgroundScheduler,
                job_id: str) -> Job | None:
    # The store must know its scheduler to restore a job; the scheduler's start() repeats this.
    store.start(scheduler, "default")
    try:
        return store.lookup_job(job_id)
    except Exception:  # a job pickled by an older Duban may no longer restore: replace it
        logger.warning("stored job %r cannot be restored; scheduling it afresh", job_id,
                       exc_info=True)
        return None


def _same(stored: Any, trigger: CronTrigger) -> bool:
    return isinstance(stored, CronTrigger) and stored.__getstate__() == trigger.__getstate__()


def next_sweep(scheduler: BackgroundScheduler) -> datetime | None:
    job = scheduler.get_job(JOB_ID)
    return job.next_run_time if job is not None else None


class _Stop(Exception):
    """Raised by the SIGTERM handler, as Python raises KeyboardInterrupt for SIGINT."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def _log_next_run(when: datetime | None) -> None:
    logger.info("next sweep at %s", when)


def serve(*, database_url: str, data_dir: Path, timezone: str, sweep_cron: Cron,
          bulletin_cron: Cron | None = None,
          announce: Callable[[datetime | None], None] = _log_next_run,
          func: str = SWEEP_JOB,
          alongside: contextlib.AbstractContextManager[object] | None = None,
          locked: bool = False) -> None:
    """Schedule sweeps until SIGINT or SIGTERM, holding the database's scheduler lock
    (``locked``: the caller holds it already, see `hold_scheduler_lock`).

    Raises SchedulerBusy if another scheduler holds it. On a signal the scheduler shuts down
    after the sweep in progress, if any, has finished (each of its batches commits on its own).
    Must run in the main thread: that is where Python delivers signals.
    ``alongside`` (the web app) is entered once the lock is held and left after the scheduler
    has stopped: a second `duban run` is refused for the lock before it would fight for a port.
    """
    lock = contextlib.nullcontext() if locked else hold_scheduler_lock(database_url, data_dir)
    with lock, alongside or contextlib.nullcontext():
        scheduler = build_scheduler(database_url=database_url, timezone=timezone,
                                    sweep_cron=sweep_cron, func=func,
                                    bulletin_cron=bulletin_cron)
        # The handlers raise rather than set a flag: a flag checked before a blocking wait
        # could miss a signal arriving in between.
        previous = signal.signal(signal.SIGTERM, _raise_stop)
        try:
            scheduler.start()
            announce(next_sweep(scheduler))
            while True:
                signal.pause()
        except (_Stop, KeyboardInterrupt):
            logger.info("stopping the scheduler")
        finally:
            signal.signal(signal.SIGTERM, previous)
            if scheduler.running:
                scheduler.shutdown(wait=True)
