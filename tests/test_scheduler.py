"""The embedded scheduler: one per database, weekday mornings in Shanghai, no sweep lost to a
restart. Real locks, real processes and a real job store; every wait has a bound."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from config.policy import Cron, load_policy
from flows.scheduler import (
    BULLETIN_JOB_ID,
    JOB_ID,
    JOB_TABLE,
    SchedulerBusy,
    build_scheduler,
    hold_scheduler_lock,
)
from models.store.database import make_engine
from tests import scheduler_probe as probe
from tests.conftest import REPO

SHANGHAI = "Asia/Shanghai"
ZONE = ZoneInfo(SHANGHAI)
PROBE = "tests.scheduler_probe:record"
POLICY_CRON = load_policy().default.schedule.sweep
BUSY = "同一数据库只能有一个调度器"


@pytest.fixture
def jobs_url(database_url: str) -> Iterator[str]:
    """The job store lives in the app database, on each backend in turn."""
    yield database_url
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS apscheduler_jobs")
    engine.dispose()


@pytest.fixture(autouse=True)
def fresh_probe() -> Iterator[None]:
    probe.reset()
    yield
    probe.reset()


# --- one scheduler per database -------------------------------------------------------------

def test_a_second_scheduler_on_the_same_database_is_refused_until_the_first_lets_go(
        database_url: str, tmp_path: Path) -> None:
    with hold_scheduler_lock(database_url, tmp_path):
        with pytest.raises(SchedulerBusy, match=BUSY) as busy:
            with hold_scheduler_lock(database_url, tmp_path):
                pass  # pragma: no cover
        assert "另一个 duban run 已在使用数据库" in str(busy.value)
    with hold_scheduler_lock(database_url, tmp_path):
        pass


def test_the_sqlite_lock_is_a_file_beside_the_database_and_spares_other_databases(
        tmp_path: Path) -> None:
    first, other = tmp_path / "a" / "duban.db", tmp_path / "b" / "duban.db"
    with hold_scheduler_lock(f"sqlite:///{first}", tmp_path):
        assert (first.parent / "duban.db.scheduler.lock").exists()
        with pytest.raises(SchedulerBusy, match=str(first)):
            with hold_scheduler_lock(f"sqlite:///{first}", tmp_path):
                pass  # pragma: no cover
        with hold_scheduler_lock(f"sqlite:///{other}", tmp_path):
            pass


HOLDER = """
import sys, time
from pathlib import Path
from flows.scheduler import hold_scheduler_lock
with hold_scheduler_lock(sys.argv[1], Path(sys.argv[2])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_the_lock_dies_with_the_process_that_held_it(database_url: str, tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url, str(tmp_path)],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        _wait_for_line(_lines(holder.stdout), "held", timeout=20)
        with pytest.raises(SchedulerBusy):
            with hold_scheduler_lock(database_url, tmp_path):
                pass  # pragma: no cover
        holder.kill()  # SIGKILL: no exit handler runs, only the kernel and the server clean up
        holder.wait(timeout=10)
        # PostgreSQL notices the closed socket a moment later; give it a bounded while.
        deadline = time.monotonic() + 10
        while True:
            try:
                with hold_scheduler_lock(database_url, tmp_path):
                    break
            except SchedulerBusy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_second_duban_run_exits_3_and_the_first_stops_cleanly_on_sigterm(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DUBAN_") and k != "PYTHONUNBUFFERED"}  # the line must be flushed
    env |= {"DUBAN_DATA_DIR": str(tmp_path / "data"),
            "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'duban.db'}",
            "DUBAN_CONFIG": str(tmp_path / "absent.toml")}
    command = [sys.executable, "-m", "cli.main", "run", "--no-web"]
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        ready = _wait_for_line(_lines(first.stdout), "下次巡检", timeout=25)
        assert "09:00" in ready and SHANGHAI in ready
        second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=25)
        assert second.returncode == 3, second.stderr
        assert "另一个 duban run 已在使用数据库" in second.stderr and BUSY in second.stderr
        assert second.stdout == ""  # refused before it migrated, imported or printed anything
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0
    finally:
        first.kill()
        first.wait(timeout=10)


# --- when it fires ----------------------------------------------------------------------------

def _shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)  # 2026-11-23 is a Monday


@pytest.mark.parametrize(("now", "fires"), [
    (_shanghai(27, 10), _shanghai(30, 9)),         # Friday after the sweep: next Monday
    (_shanghai(28, 8), _shanghai(30, 9)),          # Saturday morning: Monday
    (_shanghai(29, 23, 59), _shanghai(30, 9)),     # Sunday night: Monday
    (_shanghai(27, 8, 59), _shanghai(27, 9)),      # Friday before nine: that morning
    (_shanghai(24, 9, 1), _shanghai(25, 9)),       # Tuesday just after: Wednesday
])
def test_the_sweep_fires_on_weekday_mornings_in_shanghai(jobs_url: str, now: datetime,
                                                         fires: datetime) -> None:
    trigger = _trigger(jobs_url, POLICY_CRON)
    assert trigger.get_next_fire_time(None, now) == fires
    # The same instant seen from UTC changes nothing: 09:00 Shanghai is 01:00 UTC.
    assert trigger.get_next_fire_time(None, now.astimezone(ZoneInfo("UTC"))) == fires


def test_a_week_of_sweeps_is_monday_to_friday_at_nine(jobs_url: str) -> None:
    trigger, fire_times = _trigger(jobs_url, POLICY_CRON), []
    when = trigger.get_next_fire_time(None, _shanghai(22, 12))  # Sunday noon
    while when is not None and when < _shanghai(29, 12):
        fire_times.append(when)
        when = trigger.get_next_fire_time(when, when + timedelta(seconds=1))
    assert fire_times == [_shanghai(day, 9) for day in (23, 24, 25, 26, 27)]


def test_the_weekly_bulletin_is_issued_on_mondays_at_nine(jobs_url: str) -> None:
    bulletin_cron = load_policy().default.schedule.bulletin
    scheduler = build_scheduler(database_url=jobs_url, timezone=SHANGHAI, sweep_cron=POLICY_CRON,
                                bulletin_cron=bulletin_cron)
    job = scheduler.get_job(BULLETIN_JOB_ID)
    assert job is not None and job.func_ref == "flows.scheduled_jobs:scheduled_bulletins"
    fires, when = [], job.trigger.get_next_fire_time(None, _shanghai(22, 12))  # Sunday noon
    while when is not None and when < _shanghai(29, 12):
        fires.append(when)
        when = job.trigger.get_next_fire_time(when, when + timedelta(seconds=1))
    assert fires == [_shanghai(23, 9)]


def _trigger(url: str, cron: Cron) -> CronTrigger:
    scheduler = build_scheduler(database_url=url, timezone=SHANGHAI, sweep_cron=cron)
    job = scheduler.get_job(JOB_ID)
    assert job is not None and isinstance(job.trigger, CronTrigger)
    return job.trigger


# --- no sweep lost to a restart ---------------------------------------------------------------

def _just_fired_twice(now: datetime) -> tuple[Cron, datetime, datetime]:
    """A trigger whose two latest fire times are 3 and 2 minutes ago, the next almost an hour on.

    Hour "*" is no valid policy, hence model_construct; the scheduler only reads the fields.
    """
    last = now.astimezone(ZONE).replace(second=0, microsecond=0) - timedelta(minutes=2)
    first = last - timedelta(minutes=1)
    cron = Cron.model_construct(day_of_week="mon-sun", hour="*",  # type: ignore[arg-type]
                                minute=f"{first.minute},{last.minute}")
    return cron, first, last


def _stop_with_run_missed(url: str, cron: Cron, missed_since: datetime) -> None:
    """A scheduler that stored the job, then went down with a run due at ``missed_since``."""
    scheduler = build_scheduler(database_url=url, timezone=SHANGHAI, sweep_cron=cron, func=PROBE)
    scheduler.start(paused=True)  # paused: nothing runs while we set the stage
    scheduler.modify_job(JOB_ID, next_run_time=missed_since)
    scheduler.shutdown()
    assert _stored_next_run(url) == missed_since


def _stored_next_run(url: str) -> datetime | None:
    """The sweep job's stored next run time (the delivery job shares the store)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        stamp = connection.exec_driver_sql(
            f"SELECT next_run_time FROM {JOB_TABLE} WHERE id = '{JOB_ID}'").scalar()
    engine.dispose()
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def _run_events(scheduler: BackgroundScheduler) -> queue.Queue[JobEvent]:
    events: queue.Queue[JobEvent] = queue.Queue()
    scheduler.add_listener(events.put, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return events


def test_a_sweep_due_as_the_scheduler_stops_stays_due_for_the_next_start(jobs_url: str) -> None:
    # APScheduler 3.11.3 alone advanced it past the due time at shutdown, and it never ran.
    cron, first_missed, _ = _just_fired_twice(datetime.now(ZONE))
    _stop_with_run_missed(jobs_url, cron, first_missed)
    assert _stored_next_run(jobs_url) == first_missed and probe.calls == []


def test_a_sweep_missed_while_down_runs_once_after_a_restart_and_not_again(
        jobs_url: str) -> None:
    cron, first_missed, last_missed = _just_fired_twice(datetime.now(ZONE))
    _stop_with_run_missed(jobs_url, cron, first_missed)
    assert probe.calls == []

    restarted = build_scheduler(database_url=jobs_url, timezone=SHANGHAI, sweep_cron=cron,
                                func=PROBE)
    events = _run_events(restarted)
    restarted.start()
    try:
        outcome = events.get(timeout=10)
    finally:
        restarted.shutdown(wait=True)
    # Two fire times were missed; coalescing runs the job once, for the later one.
    assert (outcome.code, outcome.scheduled_run_time) == (EVENT_JOB_EXECUTED, last_missed)
    assert len(probe.calls) == 1 and events.empty()
    next_run = _stored_next_run(jobs_url)
    assert next_run == first_missed + timedelta(hours=1)

    probe.reset()
    again = build_scheduler(database_url=jobs_url, timezone=SHANGHAI, sweep_cron=cron,
                            func=PROBE)
    again.start()
    try:
        assert not probe.ran.wait(timeout=1.5)
    finally:
        again.shutdown(wait=True)
    assert probe.calls == [] and _stored_next_run(jobs_url) == next_run


def test_a_changed_schedule_replaces_the_stored_run_time_instead_of_running_it(
        jobs_url: str) -> None:
    cron, first_missed, _ = _just_fired_twice(datetime.now(ZONE))
    _stop_with_run_missed(jobs_url, cron, first_missed)

    restarted = build_scheduler(database_url=jobs_url, timezone=SHANGHAI,
                                sweep_cron=POLICY_CRON, func=PROBE)
    restarted.start(paused=True)
    try:
        job = restarted.get_job(JOB_ID)
        assert job is not None
        now = datetime.now(ZONE)
        assert job.next_run_time == job.trigger.get_next_fire_time(None, now)
        assert job.next_run_time > now
    finally:
        restarted.shutdown()
    assert probe.calls == []


def test_plain_replace_existing_would_drop_the_missed_run(jobs_url: str) -> None:
    """Why build_scheduler keeps the stored run time: APScheduler alone recomputes it from now."""
    cron, first_missed, _ = _just_fired_twice(datetime.now(ZONE))
    _stop_with_run_missed(jobs_url, cron, first_missed)

    plain = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=jobs_url, tablename=JOB_TABLE)},
        timezone=SHANGHAI)
    plain.add_job(PROBE, CronTrigger(day_of_week=cron.day_of_week, hour=cron.hour,
                                     minute=cron.minute, timezone=SHANGHAI),
                  id=JOB_ID, replace_existing=True)
    plain.start(paused=True)
    plain.shutdown()
    assert _stored_next_run(jobs_url) == first_missed + timedelta(hours=1)


# --- helpers ----------------------------------------------------------------------------------

def _lines(stream: IO[str] | None) -> queue.Queue[str | None]:
    """The stream's lines as they come, read by a thread so that waiting on them can time out."""
    assert stream is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for_line(lines: queue.Queue[str | None], needle: str, *, timeout: float) -> str:
    deadline, seen = time.monotonic() + timeout, []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if needle in line:
            return line
    pytest.fail(f"no line with {needle!r} within {timeout} s; output was:\n{''.join(seen)}")
