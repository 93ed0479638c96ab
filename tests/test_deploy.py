"""Scale-out for real: a Prefect server on PostgreSQL, `duban deploy`, a process worker, a sweep.

Slow (a server and a worker start), so it is one test that walks the whole path.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.tables.escalation import EscalationStep
from tests.conftest import POSTGRES_URL
from tests.world import build_world

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def prefect_server(tmp_path: Path, postgres_url: str) -> Iterator[dict[str, str]]:
    """`prefect server start` on a PostgreSQL database of its own (never the app's)."""
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
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 150
        while True:
            assert server.poll() is None, "the Prefect server exited"
            assert time.monotonic() < deadline, "the Prefect server did not come up"
            try:
                if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield env
    finally:
        server.terminate()
        server.wait(timeout=60)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_deployed_sweep_runs_on_a_worker(prefect_server: dict[str, str], database_url: str,
                                           engine: sa.Engine, session: Session,
                                           tmp_path: Path) -> None:
    world = build_world(session)
    env = {**prefect_server, "DUBAN_DATABASE_URL": database_url,
           "DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_CONFIG": str(tmp_path / "none.toml")}
    deployed = subprocess.run([str(BIN / "duban"), "deploy", "--pool", "duban-test"], env=env,
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    assert deployed.returncode == 0, deployed.stderr
    assert "0 9 * * mon-fri（Asia/Shanghai）" in deployed.stdout

    run = subprocess.run(
        [str(BIN / "prefect"), "deployment", "run", "supervise_all/supervise-all",
         "--param", "as_of=2025-10-21"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    worker = subprocess.run(
        [str(BIN / "prefect"), "worker", "start", "--pool", "duban-test", "--run-once"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert worker.returncode == 0, worker.stderr[-2000:]

    with Session(engine) as fresh:
        steps = fresh.exec(select(EscalationStep)).all()
        assert {(world.construction, 3), (world.fire_check, 3)} <= {
            (s.milestone_id, s.level) for s in steps}
        assert {s.as_of for s in steps} == {date(2025, 10, 21)}
