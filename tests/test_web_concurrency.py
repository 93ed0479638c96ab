"""Two people updating the same milestone at once: neither update may be lost.

On PostgreSQL two transactions really do overlap. The tests force the worst interleaving: both
read the milestone, then both write it (a barrier placed just before the status write), and
check that the second writer is refused with nothing of its action kept, never that it silently
overwrites the first. Through the web app, a person who submitted a stale form is told to
reload; an action sent without a version (scripts) is run again on the fresh row, so both land.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

import models.store.actions
from config.settings import Settings
from models.rules.item_links import make_link_token
from models.store.actions import Changed, claim_done, mark_major
from models.store.database import make_engine, writer
from models.tables.event import Event
from models.tables.milestone import Milestone
from models.tables.person import Person
from services.runtime import build
from tests.conftest import NOW
from tests.test_web_app import follow_link
from tests.world import RULES, World, build_world
from web.app import create_app

SECRET = "duban-concurrency-test-secret-0123456789"
OWNER, OFFICE = "wang.fang@duban.example", "zhou.min@duban.example"
WAIT = 10  # seconds any thread waits for the other before the test fails


@pytest.fixture
def pg(postgres_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(postgres_url)
    yield engine
    tables = ", ".join(f'"{t}"' for t in sa.inspect(engine).get_table_names()
                       if t != "duban_alembic_version")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def world(pg: sa.Engine) -> World:
    with Session(pg) as session:
        return build_world(session)


@pytest.fixture
def both_write_together(monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Hold each action just before its status write until the other has reached it too."""
    barrier = threading.Barrier(2, timeout=WAIT)
    real = models.store.actions.write_status

    def write_status(**kwargs: Any) -> bool:
        barrier.wait()
        return real(**kwargs)

    monkeypatch.setattr(models.store.actions, "write_status", write_status)
    return barrier


def person_id(engine: sa.Engine, email: str) -> int:
    with Session(engine) as db:
        found = db.exec(select(Person.id).where(Person.email == email)).one()
        assert found is not None
        return found


def together(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads at once; each result is its return value or its exception."""
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - reported to the test as a value
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WAIT)
        assert not thread.is_alive(), "a writer hung"
    return results


@pytest.mark.postgres
def test_the_second_of_two_overlapping_writers_is_refused_and_keeps_nothing(
        pg: sa.Engine, world: World, both_write_together: threading.Barrier) -> None:
    owner, office = person_id(pg, OWNER), person_id(pg, OFFICE)

    def claim() -> object:
        with Session(writer(pg)) as db:
            claim_done(session=db, rules=RULES, milestone_id=world.construction,
                       evidence="已开工", actor=OWNER, actor_id=owner, now=NOW)
            db.commit()
        return "claimed"

    def major() -> object:
        with Session(writer(pg)) as db:
            mark_major(session=db, rules=RULES, milestone_id=world.construction, major=True,
                       reason="区领导关注", actor=OFFICE, actor_id=office,
                       now=NOW + timedelta(seconds=1))
            db.commit()
        return "major"

    results = together(claim, major)
    won = [r for r in results if isinstance(r, str)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], Changed), results
    with Session(pg) as db:
        row = db.get(Milestone, world.construction)
        kinds = {e.kind for e in db.exec(select(Event).where(
            Event.milestone_id == world.construction, Event.kind.in_(  # type: ignore[attr-defined]
                ["milestone.done_claimed", "milestone.marked_major"])))}
    assert row is not None
    if won == ["claimed"]:  # the winner's change is there, the loser's is nowhere
        assert (row.state, row.major, kinds) == ("claimed", False, {"milestone.done_claimed"})
    else:
        assert (row.state, row.major, kinds) == ("overdue", True, {"milestone.marked_major"})


@pytest.fixture
def app(pg: sa.Engine, world: World, tmp_path: Path) -> Any:
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    return create_app(build(settings, engine=pg, rules=RULES, secret=SECRET))


def signed_in(app: Any, engine: sa.Engine, email: str, milestone_id: int) -> TestClient:
    client = TestClient(app)
    token = make_link_token(secret=SECRET, person_id=person_id(engine, email),
                            milestone_id=milestone_id, nonce=f"{email}-{milestone_id}")
    assert follow_link(client, f"/l/{token}").status_code == 303
    return client


def form(client: TestClient, milestone_id: int) -> dict[str, str]:
    import re

    page = client.get(f"/milestones/{milestone_id}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert csrf and version
    return {"csrf": csrf.group(1), "version": version.group(1)}


@pytest.mark.postgres
def test_without_a_version_the_loser_of_the_race_runs_again_and_both_updates_land(
        pg: sa.Engine, world: World, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The owner's claim (sent without a version, as a script would) has read the milestone
    when the office's mark commits; its write is refused, and the web runs it again on the
    fresh row: the claim and the office's mark are both kept, each recorded once."""
    item = world.construction
    owner = signed_in(app, pg, OWNER, item)
    csrf = form(owner, item)["csrf"]
    owner_has_read, office_committed = threading.Event(), threading.Event()
    real, writes = models.store.actions.write_status, []

    def write_status(**kwargs: Any) -> bool:
        writes.append(kwargs["why"])
        if writes.count("done claimed") == 1 and kwargs["why"] == "done claimed":
            owner_has_read.set()
            assert office_committed.wait(WAIT)
        return real(**kwargs)

    def office_marks_major() -> object:
        assert owner_has_read.wait(WAIT)
        with Session(writer(pg)) as db:
            mark_major(session=db, rules=RULES, milestone_id=item, major=True,
                       reason="区领导关注", actor=OFFICE, actor_id=person_id(pg, OFFICE),
                       now=NOW)
            db.commit()
        office_committed.set()
        return "major"

    monkeypatch.setattr(models.store.actions, "write_status", write_status)
    claim, major = together(
        lambda: owner.post(f"/milestones/{item}/done", data={
            "csrf": csrf, "evidence": "施工许可证已取得"}, follow_redirects=False),
        office_marks_major)
    assert getattr(claim, "status_code", None) == 303 and major == "major", (claim, major)
    assert writes == ["done claimed", "major", "done claimed"]  # the claim ran twice
    with Session(pg) as db:
        row = db.get(Milestone, item)
        assert row is not None and (row.state, row.major) == ("claimed", True)
        kinds = [e.kind for e in db.exec(select(Event).where(Event.milestone_id == item))]
    assert kinds.count("milestone.done_claimed") == 1
    assert kinds.count("milestone.marked_major") == 1
