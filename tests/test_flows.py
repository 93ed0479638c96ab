"""The supervision flows run for real on a Prefect server started once for the test session."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from services import runtime
from tests.world import build_world

# Prefect reads its settings at import: keep it off the developer's ~/.prefect and quiet.
PREFECT_ENV = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
               "PREFECT_LOGGING_TO_API_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}


@pytest.fixture(scope="session")
def prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect")))
    for name, value in PREFECT_ENV.items():
        os.environ.setdefault(name, value)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def service(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            prefect: None) -> Iterator[None]:
    """The flows' process-wide runtime pointed at this test's database and the test policy."""
    monkeypatch.setenv("DUBAN_DATABASE_URL", database_url)
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DUBAN_CONFIG", str(tmp_path / "none.toml"))
    runtime.current.cache_clear()
    yield
    runtime.current().engine.dispose()
    runtime.current.cache_clear()


def test_supervise_all_runs_as_a_flow_and_publishes_outcomes(service: None,
                                                             session: Session) -> None:
    from prefect import get_client

    from flows.supervise import supervise_all

    world = build_world(session)
    state = asyncio.run(supervise_all(as_of=date(2025, 10, 21), return_state=True))
    assert state.is_completed()
    report = state.result()
    assert report["as_of"] == "2025-10-21"
    assert {e["milestone_id"] for e in report["escalations"]} == {world.construction,
                                                                   world.fire_check}
    assert report["projects"]["demo-2025-2026/1"] == {"evaluated": 2, "changed": 2,
                                                      "escalations": 2}

    async def latest_artifact():  # the per-project table shown in the Prefect UI
        async with get_client() as client:
            return await client.read_latest_artifacts()

    artifacts = {a.key: a for a in asyncio.run(latest_artifact())}
    assert "demo-2025-2026/1" in str(artifacts["sweep-outcomes"].data)
    assert socket.gethostname() in (artifacts["sweep-outcomes"].description or "")


def test_a_sweep_with_nothing_to_look_at_leaves_the_last_outcomes_table_in_place(
        service: None, session: Session) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.supervise import supervise_all

    build_world(session)
    busy = asyncio.run(supervise_all(as_of=date(2025, 10, 21), return_state=True))
    # The same day again: every item was pushed past today, so nothing is due for a look.
    idle = asyncio.run(supervise_all(as_of=date(2025, 10, 21), return_state=True))
    assert idle.result()["evaluated"] == 0

    async def artifacts():
        async with get_client() as client:
            latest = {a.key: a for a in await client.read_latest_artifacts()}
            of_idle = await client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[idle.state_details.flow_run_id])))
            return latest, of_idle

    latest, of_idle = asyncio.run(artifacts())
    assert latest["sweep-outcomes"].flow_run_id == busy.state_details.flow_run_id
    [note] = of_idle
    assert note.key is None and note.type == "markdown"
    assert "无任何变化" in str(note.data) and socket.gethostname() in str(note.data)


def test_supervise_project_touches_only_that_project(service: None, session: Session) -> None:
    from flows.supervise import supervise_project

    world = build_world(session)
    from models.tables.milestone import Milestone
    project_id = session.get(Milestone, world.neighbourhood).project_id
    report = asyncio.run(supervise_project(project_id=project_id, as_of=date(2026, 1, 9)))
    assert {c["milestone_id"] for c in report["changes"]} == {world.neighbourhood}


def test_each_changed_project_keeps_its_milestones_as_a_versioned_artifact(
        service: None, session: Session) -> None:
    """The Prefect UI's Artifacts page lists ``project-<id>``; its versions are the project's
    history, one per sweep that changed something in it."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.supervise import supervise_all
    from models.tables.milestone import Milestone

    world = build_world(session)
    welfare = session.get(Milestone, world.construction).project_id
    neighbourhood = session.get(Milestone, world.neighbourhood).project_id
    october = asyncio.run(supervise_all(as_of=date(2025, 10, 21), return_state=True))
    january = asyncio.run(supervise_all(as_of=date(2026, 1, 9), return_state=True))

    ours = {october.state_details.flow_run_id, january.state_details.flow_run_id}

    async def versions(project_id: int) -> list:  # the server outlives this test's database
        async with get_client() as client:
            found = await client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"project-{project_id}"])))
            return sorted((a for a in found if a.flow_run_id in ours), key=lambda a: a.created)

    first, second = asyncio.run(versions(welfare))
    assert [first.flow_run_id, second.flow_run_id] == [
        october.state_details.flow_run_id, january.state_details.flow_run_id]
    assert first.type == "markdown" and "区社会福利中心二期工程" in str(first.description)
    page = str(first.data)
    for words in ("开工建设", "完成消防验收", "逾期", "红灯", "三级 领导督办", "2025-09-30"):
        assert words in page
    assert "2025-10-21 巡检" in page and "2026-01-09 巡检" in str(second.data)
    # Nothing changed in the neighbourhood centre in October: it first shows in January.
    [only] = asyncio.run(versions(neighbourhood))
    assert only.flow_run_id == january.state_details.flow_run_id
    assert "建成运营" in str(only.data)


def test_a_dry_run_leaves_no_project_history(service: None, session: Session) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.supervise import supervise_all

    build_world(session)
    run = asyncio.run(supervise_all(as_of=date(2025, 10, 21), dry_run=True, return_state=True))
    assert run.result()["escalated"] > 0

    async def keys() -> set[str | None]:
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run.state_details.flow_run_id])))}

    found = asyncio.run(keys())
    assert "sweep-outcomes" in found  # what it would do is still said
    assert not {k for k in found if k and k.startswith("project-")}


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_workers_share_one_large_sweep_and_sweep_each_item_once(
        service: None, database_url: str, tmp_path: Path) -> None:
    """Two processes run `supervise_all` as flow runs at once on a plan just imported (every
    item never looked at): each takes the batches the other does not hold, so both do part of
    the work, no item is evaluated twice, and every step and event is recorded once."""
    import json
    import subprocess
    import sys
    import time

    import sqlalchemy as sa
    from prefect.settings import PREFECT_API_URL

    from benchmarks.synthetic import populate
    from flows.sweep import run_sweep
    from models.tables.sweep_run import SweepRun

    engine = runtime.current().engine
    rules = runtime.current().rules
    populate(engine, units=10, projects_per_unit=10, milestones_per_project=20,
             first_due=date(2025, 9, 1), last_due=date(2025, 10, 20))
    now = runtime.current().at(date(2025, 10, 21))
    expected = run_sweep(engine=engine, rules=rules, now=now, clock=runtime.current().clock,
                         dry_run=True, detail_limit=None)
    assert expected.evaluated == 2000 and expected.escalated >= 2000
    with Session(engine) as fresh:  # the policy in force was swept under before the import
        fresh.add(SweepRun(id="before-the-import", as_of=date(2025, 10, 20),
                           started_at=now, finished_at=now, rules=rules.fingerprint))
        fresh.commit()

    start = tmp_path / "go"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    workers = [subprocess.Popen(
        [sys.executable, "-m", "tests.flow_worker", str(start), "2025-10-21", "100", "2"],
        env=env,
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for _ in range(2)]
    deadline = time.monotonic() + 120  # both imported and waiting, then both at once
    # (tests/flow_worker.py then holds each in its first batch until the other has one too)
    while len(list(tmp_path.glob("go.ready-*"))) < len(workers):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers), \
            "a worker did not get ready"
        time.sleep(0.05)
    start.touch()
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))

    evaluated = [r["evaluated"] for r in reports]
    assert sum(evaluated) == expected.evaluated and min(evaluated) > 0, evaluated
    with engine.connect() as connection:
        def one(sql: str) -> Any:
            return connection.execute(sa.text(sql)).scalar_one()

        assert one("SELECT count(*) FROM escalation") == expected.escalated
        assert one("SELECT count(*) FROM (SELECT 1 FROM escalation GROUP BY milestone_id, "
                   'level, "repeat" HAVING count(*) > 1) AS twice') == 0
        assert one("SELECT count(*) FROM light_change") == sum(
            r["changed"] for r in reports) == expected.changed
        assert one("SELECT count(DISTINCT milestone_id) FROM light_change") == expected.changed
        assert one("SELECT sum(CAST(data->>'changed' AS INTEGER)) FROM event "
                   "WHERE kind = 'sweep.lights_changed'") == expected.changed  # one per sweep
        assert one("SELECT count(*) FROM notice") == expected.escalated  # one per step
        assert one("SELECT sum(recipients) FROM escalation") == sum(
            r["notifications"] for r in reports)


def test_a_project_swept_by_hand_gets_its_page_even_when_nothing_changed(
        service: None, session: Session) -> None:
    """The office runs supervise-project from the UI and opens the project's artifact: there
    is a new version for that run, saying what it found, though the run changed nothing."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.supervise import supervise_project
    from models.tables.milestone import Milestone

    world = build_world(session)
    welfare = session.get(Milestone, world.construction).project_id
    runs = [asyncio.run(supervise_project(project_id=welfare, as_of=date(2025, 10, 21),
                                          return_state=True)) for _ in range(2)]
    assert runs[1].result()["evaluated"] == 0  # the same day again: nothing due for a look

    async def pages() -> list:
        async with get_client() as client:
            found = await client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(
                    any_=[r.state_details.flow_run_id for r in runs])))
            return sorted((a for a in found if a.key == f"project-{welfare}"),
                          key=lambda a: a.created)

    first, second = asyncio.run(pages())
    assert "状态变化 2 个" in str(first.data)
    assert "检查 0 个节点" in str(second.data) and "红灯 2" in str(second.data)
