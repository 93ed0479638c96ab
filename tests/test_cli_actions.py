"""Scripts acting on milestones from the command line: as the office, or as a named person held
to the web's permissions; several ids change together or not at all."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import Result

from models.tables.event import Event
from models.tables.message import Message
from models.tables.person import Person
from tests.conftest import snapshot
from tests.world import World, build_world

Duban = Callable[..., Result]
OFFICE, OWNER, OTHER_OWNER = ("zhou.min@duban.example", "wang.fang@duban.example",
                              "li.na@duban.example")
BEFORE_DUE = "2025-09-20"  # the world's demo-mzj items fall due on 2025-09-30


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def duban(duban: Duban, world: World) -> Duban:
    """The command line over the small world (conftest's `duban`)."""
    return duban


def events(engine: sa.Engine, kind: str) -> list[Event]:
    with Session(engine) as db:
        return list(db.exec(select(Event).where(Event.kind == kind).order_by(Event.id)))


def confirmation(engine: sa.Engine, event: Event) -> Message | None:
    with Session(engine) as db:
        return db.exec(select(Message).where(Message.key == f"confirm:{event.id}")).first()


def test_an_owner_script_marks_done_and_the_office_closes_it(duban: Duban, world: World,
                                                             engine: sa.Engine) -> None:
    item = str(world.construction)
    done = duban("done", item, "--evidence", "施工许可证已取得，已开工。", "--by", OWNER,
                 "--as-of", BEFORE_DUE, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {
        "milestone_id": world.construction, "state": "claimed", "light": "blue",
        "due_on": "2025-09-30", "level": 0, "acknowledged_level": 0, "snoozed_until": None,
        "major": False}
    [claim] = events(engine, "milestone.done_claimed")
    assert (claim.actor, claim.data["evidence"]) == (OWNER, "施工许可证已取得，已开工。")
    with Session(engine) as db:
        owner = db.exec(select(Person).where(Person.email == OWNER)).one()
    assert claim.actor_id == owner.id
    sent = confirmation(engine, claim)  # the same confirmation the web sends
    assert sent is not None and sent.address == OWNER

    closed = duban("close", item, "--reason", "佐证齐全", "--as-of", "2025-09-22", "--json")
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.output)["state"] == "closed"
    [close] = events(engine, "milestone.closed")
    assert close.actor.startswith("cli:") and close.actor_id is None
    assert close.reason == "佐证齐全"
    assert confirmation(engine, close) is not None


def test_an_owner_is_refused_another_units_item_and_closing_their_own(
        duban: Duban, world: World, engine: sa.Engine) -> None:
    before = snapshot(engine)
    foreign = duban("done", str(world.construction), "--evidence", "不是我们的", "--by",
                    OTHER_OWNER)
    assert foreign.exit_code == 2
    assert (f"milestone {world.construction}: {OTHER_OWNER} (owner of demo-jd) may not "
            "claim_done items of demo-mzj") in foreign.output
    assert snapshot(engine) == before

    assert duban("done", str(world.construction), "--evidence", "已开工", "--by", OWNER,
                 "--as-of", BEFORE_DUE).exit_code == 0
    claimed = snapshot(engine)
    own_close = duban("close", str(world.construction), "--by", OWNER, "--as-of", BEFORE_DUE)
    assert own_close.exit_code == 2
    assert f"{OWNER} (owner of demo-mzj) may not close items of demo-mzj" in own_close.output
    assert snapshot(engine) == claimed


@pytest.mark.parametrize("by, problem", [
    ("nobody@duban.example", "--by: no person with the email 'nobody@duban.example'"),
    ("chen.gang@duban.example", "--by: chen.gang@duban.example is deactivated"),
])
def test_acting_as_an_unknown_or_deactivated_person_is_refused(
        duban: Duban, world: World, engine: sa.Engine, by: str, problem: str) -> None:
    with Session(engine) as db:
        gone = db.exec(select(Person).where(Person.email == "chen.gang@duban.example")).one()
        gone.active = False
        db.add(gone)
        db.commit()
    before = snapshot(engine)
    result = duban("done", str(world.construction), "--evidence", "已开工", "--by", by)
    assert result.exit_code == 2
    assert problem in result.output and "nothing was changed" in result.output
    assert snapshot(engine) == before


def test_the_actor_may_come_from_the_environment(duban: Duban, world: World, engine: sa.Engine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_ACTOR", OTHER_OWNER)
    before = snapshot(engine)
    refused = duban("done", str(world.construction), "--evidence", "已开工")
    assert refused.exit_code == 2 and OTHER_OWNER in refused.output
    assert snapshot(engine) == before


def test_a_malformed_date_is_refused_naming_the_option(duban: Duban, world: World,
                                                       engine: sa.Engine) -> None:
    before = snapshot(engine)
    result = duban("extend", str(world.construction), "--to", "2025/10/31", "--reason", "雨季",
                   "--by", OWNER)
    assert result.exit_code == 2
    assert "--to: '2025/10/31' is not a date" in result.output
    assert snapshot(engine) == before


def test_bulk_done_is_all_or_nothing(duban: Duban, world: World, engine: sa.Engine) -> None:
    before = snapshot(engine)
    unknown = duban("done", str(world.construction), str(world.fire_check), "99999",
                    "--evidence", "均已完成", "--as-of", BEFORE_DUE)
    assert unknown.exit_code == 2
    assert ("milestone 99999: no milestone with id 99999; nothing was changed "
            "(all 3 milestones or none)") in unknown.output
    assert snapshot(engine) == before

    foreign = duban("done", str(world.construction), str(world.neighbourhood), "--evidence",
                    "均已完成", "--by", OWNER, "--as-of", BEFORE_DUE)
    assert foreign.exit_code == 2 and f"milestone {world.neighbourhood}:" in foreign.output
    assert snapshot(engine) == before

    both = duban("done", str(world.construction), str(world.fire_check), "--evidence",
                 "均已完成", "--by", OWNER, "--as-of", BEFORE_DUE, "--json")
    assert both.exit_code == 0, both.output
    assert [(r["milestone_id"], r["state"]) for r in json.loads(both.output)] == [
        (world.construction, "claimed"), (world.fire_check, "claimed")]
    assert len(events(engine, "milestone.done_claimed")) == 2


def test_an_approved_extension_moves_the_due_date(duban: Duban, world: World,
                                                  engine: sa.Engine) -> None:
    item = str(world.fire_check)
    asked = duban("extend", item, "--to", "2025-10-31", "--reason", "消防部门排期", "--by", OWNER,
                  "--as-of", BEFORE_DUE, "--json")
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["due_on"] == "2025-09-30"  # asked, not yet granted

    before = snapshot(engine)
    both = duban("extension", item, "--approve", "--reject")
    assert both.exit_code == 2 and "exactly one of --approve or --reject" in both.output
    by_owner = duban("extension", item, "--approve", "--by", OWNER)
    assert by_owner.exit_code == 2 and "may not decide_extension" in by_owner.output
    assert snapshot(engine) == before

    approved = duban("extension", item, "--approve", "--reason", "同意", "--by", OFFICE,
                     "--as-of", "2025-09-22", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["due_on"] == "2025-10-31"
    [decision] = events(engine, "milestone.extension_decided")
    assert decision.actor == OFFICE and decision.data["approved"] is True
    assert confirmation(engine, decision) is not None  # the owner who asked is told
    status = json.loads(duban("status", "--as-of", "2025-10-08", "--json").output)
    row = next(r for r in status["milestones"] if r["milestone_id"] == world.fire_check)
    assert (row["due_on"], row["light"]) == ("2025-10-31", "green")
