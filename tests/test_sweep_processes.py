"""Real `duban sweep` processes racing each other and being killed mid-way.

Each escalation step is a row under a unique key written in the transaction that queues its
notices, so two sweeps at once, or a sweep killed with SIGKILL and run again, must leave every
step exactly once and none missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks.synthetic import populate
from models.store.database import make_engine

DAY = "2025-10-21"
DUBAN = [sys.executable, "-m", "cli.main"]


@pytest.fixture
def crowded(database_url: str, tmp_path: Path) -> dict[str, str]:
    engine = make_engine(database_url)
    populate(engine, units=15, projects_per_unit=10, milestones_per_project=20,
             first_due=date(2025, 9, 1), last_due=date(2025, 10, 20))
    engine.dispose()
    return {**os.environ, "DUBAN_DATABASE_URL": database_url,
            "DUBAN_DATA_DIR": str(tmp_path), "DUBAN_CONFIG": str(tmp_path / "none.toml")}


def sweep_process(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*DUBAN, "sweep", "--as-of", DAY, "--json", *extra], env=env,
                            cwd=Path(__file__).parent.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> dict:
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    return json.loads(out)


def query(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text(sql))]
    engine.dispose()
    return rows


def recorded_steps(url: str) -> list[tuple[int, int, int]]:
    return sorted(query(url, "SELECT milestone_id, level, repeat FROM escalation"))


def steps_without_one_notice(url: str) -> int:
    """Steps whose notice is missing or doubled: each step queues exactly one."""
    return query(url, "SELECT count(*) FROM escalation e WHERE "
                      "(SELECT count(*) FROM notice n WHERE n.escalation_id = e.id) <> 1")[0][0]


def recipients_recorded(url: str) -> int:
    """How many people the steps say they tell."""
    return query(url, "SELECT sum(recipients) FROM escalation")[0][0]


def expected_steps(env: dict[str, str]) -> list[tuple[int, int, int]]:
    preview = finish(sweep_process(env, "--dry-run", "--detail", "0"))
    return sorted((e["milestone_id"], e["level"], e["repeat"]) for e in preview["escalations"])


def test_two_sweeps_at_once_record_each_step_once(crowded: dict[str, str],
                                                  database_url: str) -> None:
    expected = expected_steps(crowded)
    assert len(expected) >= 3000 and recorded_steps(database_url) == []  # several batches
    first, second = sweep_process(crowded), sweep_process(crowded)
    reports = [finish(first), finish(second)]
    assert recorded_steps(database_url) == expected
    assert sum(r["escalated"] for r in reports) == len(expected)
    assert sum(r["notifications"] for r in reports) == recipients_recorded(database_url)
    assert steps_without_one_notice(database_url) == 0


def test_a_sweep_killed_mid_way_and_run_again_records_each_step_once(
        crowded: dict[str, str], database_url: str) -> None:
    expected = expected_steps(crowded)
    victim = sweep_process(crowded)
    deadline = time.monotonic() + 120
    while not recorded_steps(database_url):  # the first batch has committed
        assert victim.poll() is None and time.monotonic() < deadline, "sweep ended too soon"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    partial = recorded_steps(database_url)
    assert 0 < len(partial) < len(expected)
    finish(sweep_process(crowded))
    assert recorded_steps(database_url) == expected
    assert steps_without_one_notice(database_url) == 0
