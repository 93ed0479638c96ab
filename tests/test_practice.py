"""督办 as practised, beyond the ladder: a leader's 批示, the office's 催办 now and 转办, each told
to the unit's people once, through the same outbox; the 批示 is quoted in the next 督办单."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from config.settings import Settings
from models.store.orders import find_order
from models.tables.event import Event
from models.tables.message import Message
from models.tables.milestone import Milestone
from models.tables.unit import Unit
from notifications.order_document import order_context
from tests.conftest import Duban
from tests.test_orders import sweep
from tests.world import build_world

LEADER, OFFICE = "zhao@duban.example", "zhou.min@duban.example"


def messages(engine: sa.Engine, template: str) -> list[Message]:
    with Session(engine) as session:
        return list(session.exec(select(Message).where(Message.template == template)
                                 .order_by(col(Message.id))))


def test_a_leaders_instruction_reaches_the_unit_once_and_is_quoted_in_the_next_order(
        duban: Duban, engine, session, tmp_path):
    world = build_world(session)
    text = "请倒排工期，确保年底前完成消防验收。"
    done = duban("instruct", str(world.fire_check), "--text", text, "--by", LEADER,
                 "--as-of", "2025-10-10")
    assert done.exit_code == 0, done.output
    notices = messages(engine, "item_notice")
    assert {m.address for m in notices} == {"wang.fang@duban.example", "chen.gang@duban.example"}
    assert all(text in m.body_text and "赵书记" in m.body_text for m in notices)
    assert all(len(m.subject) <= 60 for m in notices)
    refused = duban("instruct", str(world.fire_check), "--text", text, "--by",
                    "wang.fang@duban.example")
    assert refused.exit_code == 2 and "may not instruct" in refused.output
    sweep(engine, date(2025, 10, 21))
    with Session(engine) as fresh:
        order = next(o for o in (find_order(fresh, str(n)) for n in range(1, 5))
                     if o is not None and o.milestone_id == world.fire_check)
        document = order_context(fresh, order, Settings(data_dir=tmp_path, smtp_host=""))
    assert document["instruction"] is not None and text in document["instruction"]
    assert "赵书记" in document["instruction"]


def test_a_chase_is_told_once_per_press_and_refused_on_a_closed_item(duban: Duban, engine,
                                                                    session):
    world = build_world(session)
    for _ in range(2):
        pressed = duban("chase", str(world.construction), "--reason", "请本周内报送进展",
                        "--by", OFFICE)
        assert pressed.exit_code == 0, pressed.output
    chased = messages(engine, "item_notice")
    with Session(engine) as fresh:
        events = fresh.exec(select(Event).where(Event.kind == "milestone.chased")).all()
    assert len(events) == 2  # each press is recorded, and told: 2 owners × 2 presses
    assert len(chased) == 4 and len({m.key for m in chased}) == 4
    owner = duban("chase", str(world.construction), "--by", "wang.fang@duban.example")
    assert owner.exit_code == 2  # an owner does not chase


def test_a_transfer_moves_the_item_and_tells_both_units(duban: Duban, engine, session):
    world = build_world(session)
    moved = duban("transfer", str(world.construction), "--to", "demo-jd", "--reason",
                  "职能调整，由街道牵头", "--by", OFFICE)
    assert moved.exit_code == 0, moved.output
    with Session(engine) as fresh:
        item = fresh.get(Milestone, world.construction)
        street = fresh.exec(select(Unit).where(Unit.code == "demo-jd")).one()
        assert item is not None and item.unit_id == street.id
    told = {m.address: m for m in messages(engine, "item_notice")}
    assert set(told) == {"li.na@duban.example", "wang.fang@duban.example",
                         "chen.gang@duban.example"}
    assert "转交贵单位办理" in told["li.na@duban.example"].body_text
    assert "贵单位不再负责此事项" in told["wang.fang@duban.example"].body_text
    # The new unit's owner may now act on it; the old unit's may not.
    assert duban("progress", str(world.construction), "--note", "已进场", "--by",
                 "li.na@duban.example").exit_code == 0
    assert duban("progress", str(world.construction), "--note", "x", "--by",
                 "wang.fang@duban.example").exit_code == 2
    same = duban("transfer", str(world.construction), "--to", "demo-jd", "--reason", "再转",
                 "--by", OFFICE)
    assert same.exit_code == 2 and "无需转办" in same.output
