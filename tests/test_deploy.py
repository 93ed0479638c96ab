"""Scale-out for real: a Prefect server on PostgreSQL, `duban deploy`, a process worker, a sweep.

Slow (a server and a worker start each time), so there are two tests, each walking a whole
path: a sweep run by hand on a worker, and a run the server schedules by itself.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from config.policy import POLICY_FILE
from models.tables.escalation import EscalationStep
from models.tables.milestone import Milestone
from tests.conftest import POSTGRES_URL
from tests.world import build_world

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class PrefectServer:
    env: dict[str, str] = field(repr=False)  # what every client of this server runs with
    log: Path            # the server's stdout and stderr

    @property
    def api(self) -> str:
        return self.env["PREFECT_API_URL"]

    def tracebacks(self) -> str:
        """The server's log from its first traceback on, or "" when it logged none: its loop
        services (the scheduler among them) report failures only there."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return text[text.find("Traceback"):] if "Traceback" in text else ""


def wait_until(condition: Any, *, seconds: float, what: str, interval: float = 1.0) -> Any:
    """Poll ``condition`` until it returns something truthy, failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if value := condition():
            return value
        assert time.monotonic() < deadline, f"{what} within {seconds:.0f} s"
        time.sleep(interval)


@pytest.fixture
def prefect_server(tmp_path: Path, postgres_url: str) -> Iterator[PrefectServer]:
    """`prefect server start` on a PostgreSQL database of its own (never the app's), its
    scheduler looping every few seconds instead of every minute so tests need not wait."""
    name = f"prefect_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    port = free_port()
    database = sa.make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_API_DATABASE_CONNECTION_URL": database.render_as_string(hide_password=False),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
           "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "2",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    server = PrefectServer(env, tmp_path / "prefect-server.log")
    with server.log.open("wb") as log:
        process = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host",
                                    "127.0.0.1", "--port", str(port)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        def healthy() -> bool:
            assert process.poll() is None, f"the Prefect server exited:\n{server.log.read_text()}"
            try:
                return httpx.get(f"{server.api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, seconds=150, what="the Prefect server came up", interval=0.5)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=60)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def duban_env(server: PrefectServer, database_url: str, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "data").mkdir(exist_ok=True)
    # PYTHONPATH: the commands and flow runs import this checkout, even where the virtual
    # environment's editable install points at another (a git worktree sharing its .venv).
    return {**server.env, "PYTHONPATH": str(REPO), "DUBAN_DATABASE_URL": database_url,
            "DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_CONFIG": str(tmp_path / "none.toml")}


def flow_runs(server: PrefectServer, deployment: str) -> list[dict[str, Any]]:
    """Every flow run of ``deployment`` ("flow/name"), soonest first, as the API shows them."""
    found = httpx.get(f"{server.api}/deployments/name/{deployment}", timeout=10)
    found.raise_for_status()
    runs = httpx.post(f"{server.api}/flow_runs/filter", timeout=10, json={
        "deployments": {"id": {"any_": [found.json()["id"]]}},
        "sort": "EXPECTED_START_TIME_ASC"})
    runs.raise_for_status()
    result: list[dict[str, Any]] = runs.json()
    return result


def run_on_a_worker(env: dict[str, str], tmp_path: Path, deployment: str, *params: str) -> None:
    """A run of ``deployment`` asked for by hand (as the UI's Run button does), then a process
    worker that picks it up, runs it and exits."""
    run = subprocess.run(
        [str(BIN / "prefect"), "deployment", "run", deployment,
         *(arg for param in params for arg in ("--param", param))],
        env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    worker = subprocess.run(
        [str(BIN / "prefect"), "worker", "start", "--pool", "duban-test", "--run-once"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert worker.returncode == 0, worker.stderr[-2000:]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_deployed_sweep_runs_on_a_worker(prefect_server: PrefectServer, database_url: str,
                                           engine: sa.Engine, session: Session,
                                           tmp_path: Path) -> None:
    world = build_world(session)
    env = duban_env(prefect_server, database_url, tmp_path)
    deployed = subprocess.run([str(BIN / "duban"), "deploy", "--pool", "duban-test"], env=env,
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    assert deployed.returncode == 0, deployed.stderr
    for name, schedule in (("supervise_all/supervise-all", "0 9 * * mon-fri"),
                           ("deliver_outbox/deliver-outbox", "* * * * *"),
                           ("weekly_bulletins/weekly-bulletins", "0 9 * * mon")):
        assert f"已部署 {name}（" in deployed.stdout
        assert f"计划 {schedule}（Asia/Shanghai）" in deployed.stdout
    assert "已部署 supervise_project/supervise-project（" in deployed.stdout

    run_on_a_worker(env, tmp_path, "supervise_all/supervise-all", "as_of=2025-10-21")

    with Session(engine) as fresh:
        steps = fresh.exec(select(EscalationStep)).all()
        assert {(world.construction, 3), (world.fire_check, 3)} <= {
            (s.milestone_id, s.level) for s in steps}
        assert {s.as_of for s in steps} == {date(2025, 10, 21)}

    outcomes = httpx.post(f"{prefect_server.api}/artifacts/filter", timeout=10, json={
        "artifacts": {"key": {"any_": ["sweep-outcomes"]}}})
    [artifact] = outcomes.json()
    # Which machine and worker swept, outside the logs.
    assert socket.gethostname() in artifact["description"]
    assert "worker ProcessWorker" in artifact["description"]

    # The office sweeps one project from the UI: the one-project deployment, by its id.
    neighbourhood = session.get(Milestone, world.neighbourhood)
    assert neighbourhood is not None
    run_on_a_worker(env, tmp_path, "supervise_project/supervise-project",
                    f"project_id={neighbourhood.project_id}", "as_of=2026-01-09")
    with Session(engine) as fresh:
        later = {s.milestone_id for s in fresh.exec(select(EscalationStep).where(
            EscalationStep.as_of == date(2026, 1, 9)))}
        assert later == {world.neighbourhood}  # the other project was left alone
    page = httpx.post(f"{prefect_server.api}/artifacts/filter", timeout=10, json={
        "artifacts": {"key": {"any_": [f"project-{neighbourhood.project_id}"]}}})
    [project_page] = page.json()
    assert "建成运营" in project_page["data"] and "逾期" in project_page["data"]
    assert not prefect_server.tracebacks()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_server_schedules_runs_by_itself_and_a_worker_completes_them(
        prefect_server: PrefectServer, database_url: str, session: Session,
        tmp_path: Path) -> None:
    """Nothing is triggered by hand: after `duban deploy` the server's scheduler creates the
    runs of all three deployments, and a long-running worker picks up the minutely delivery
    when it falls due and runs it to Completed, writing the notices a sweep queued."""
    build_world(session)
    env = duban_env(prefect_server, database_url, tmp_path)
    swept = subprocess.run([str(BIN / "duban"), "sweep", "--as-of", "2025-10-21"], env=env,
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert swept.returncode == 0, swept.stderr
    # The office's policy with the sweep due two minutes from now (the bulletin as shipped):
    # the server must schedule that run itself and a worker run it.
    shanghai = ZoneInfo("Asia/Shanghai")
    due = (datetime.now(shanghai) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    policy = tmp_path / "policy.yaml"
    shipped = "  sweep: {day_of_week: mon-fri, hour: 9, minute: 0}"
    assert shipped in POLICY_FILE.read_text(encoding="utf-8")
    policy.write_text(POLICY_FILE.read_text(encoding="utf-8").replace(shipped, (
        f"  sweep: {{day_of_week: {due:%a}, hour: {due.hour}, minute: {due.minute}}}").lower()),
        encoding="utf-8")
    env["DUBAN_POLICY_FILE"] = str(policy)
    deployed = subprocess.run([str(BIN / "duban"), "deploy", "--pool", "duban-test"], env=env,
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    assert deployed.returncode == 0, deployed.stderr

    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as log:
        worker = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "duban-test", "--limit", "2"],
            env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2"}, cwd=tmp_path, stdout=log,
            stderr=subprocess.STDOUT)
    try:
        def completed(deployment: str) -> Callable[[], dict[str, Any] | None]:
            def found() -> dict[str, Any] | None:
                assert worker.poll() is None, f"the worker exited:\n{worker_log.read_text()}"
                failure = prefect_server.tracebacks()
                assert not failure, failure[:3000]
                return next((r for r in flow_runs(prefect_server, deployment)
                             if r["state_type"] == "COMPLETED"), None)
            return found

        # The delivery falls due at the next minute, the sweep at the one after; the worker
        # polls and spawns each.
        delivery = wait_until(completed("deliver_outbox/deliver-outbox"), seconds=180,
                              what="a scheduled deliver-outbox run completed", interval=2)
        sweep = wait_until(completed("supervise_all/supervise-all"), seconds=240,
                           what="the sweep's scheduled run completed", interval=2)
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    for run in (delivery, sweep):
        assert run["auto_scheduled"] and run["created_by"]["type"] == "SCHEDULE"
    started = datetime.fromisoformat(sweep["expected_start_time"]).astimezone(shanghai)
    assert started == due
    assert list((tmp_path / "data" / "outbox").glob("*/*.eml")), "the delivery wrote no mail"
    assert "Traceback" not in worker_log.read_text(encoding="utf-8", errors="replace")
    runs = flow_runs(prefect_server, "weekly_bulletins/weekly-bulletins")
    assert runs, "the server scheduled no weekly bulletin"
    for run in runs:
        start = datetime.fromisoformat(run["expected_start_time"]).astimezone(shanghai)
        assert run["state_type"] == "SCHEDULED" and run["auto_scheduled"]
        assert (start.hour, start.minute, start.weekday()) == (9, 0, 0)
    assert not prefect_server.tracebacks()
