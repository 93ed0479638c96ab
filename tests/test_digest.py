"""The escalation digest lists each item once: the 西湖 plan swept as an office would, and the
rule that picks and caps the items (models/rules/digest.py)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from config.channels import Channels, load_channels
from config.plan_loader import load_plan_file
from config.secret import secret_key
from config.settings import Settings
from flows.sweep import run_sweep
from models.rules.digest import digest_of, shared_filters
from models.rules.item_links import read_link_token
from models.store.milestone_list import iter_chunks
from models.store.people import PersonIn, save_person
from models.store.plan_import import import_plan
from models.store.status_view import milestone_lights
from models.tables.escalation import EscalationStep, Notice
from models.tables.message import Message
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from notifications.compose import compose_due
from services.runtime import system_clock
from tests.conftest import NOW, REPO
from tests.world import RULES
from web.lists import Filters, read_filters

XIHU = REPO / "config" / "plans" / "xihu-2016-2020.yaml"
DAY = date(2017, 1, 16)
BASE = "https://duban.xihu.example"
OWNER, HEAD = "owner@xihu.example", "head@xihu.example"
OFFICE, LEADER = "office@xihu.example", "leader@xihu.example"
PEOPLE = [PersonIn(name="王芳", email=OWNER, role="owner", unit="xihu-mzj"),
          PersonIn(name="陈刚", email=HEAD, role="owner", unit="xihu-mzj", heads_unit=True),
          PersonIn(name="周敏", email=OFFICE, role="office"),
          PersonIn(name="赵书记", email=LEADER, role="leader")]
LEVELS_OF = {OWNER: {1}, HEAD: {1, 2}, OFFICE: {2, 3}, LEADER: {3}}  # from the ladder


@pytest.fixture
def channels(tmp_path: Path) -> Channels:
    path = tmp_path / "channels.yaml"
    path.write_text("webhooks: []\n", "utf-8")
    return load_channels(path)


def xihu(session: Session) -> None:
    import_plan(session=session, loaded=load_plan_file(XIHU), actor="test", now=NOW)
    for person in PEOPLE:
        save_person(session=session, person_in=person, actor="test", now=NOW)
    session.commit()


def sweep_and_compose(engine: sa.Engine, day: date, settings: Settings,
                      channels: Channels) -> dict[str, Message]:
    """A sweep at 09:00 of ``day`` and its digests, by address."""
    now = RULES.as_of(day)
    report = run_sweep(engine=engine, rules=RULES, clock=system_clock, now=now)
    compose_due(engine=engine, settings=settings, channels=channels, now=now)
    with Session(engine) as db:
        return {m.address: m for m in db.exec(select(Message).where(
            Message.template == "escalation_digest",
            col(Message.meta)["sweep"].as_string() == report.sweep_id))}


def listed(settings: Settings, message: Message) -> list[int]:
    """The items a digest shows, in its order: one signed link each, in both parts."""
    found = [link for link in re.findall(r'href="([^"]+)"', message.body_html) if "/l/" in link]
    assert found == [link for link in re.findall(r"https?://\S+", message.body_text)
                     if "/l/" in link]
    return [read_link_token(secret=secret_key(settings), token=link.rsplit("/", 1)[-1],
                            max_age_seconds=10**9, now=NOW.timestamp()).milestone_id
            for link in found]


def counted(message: Message) -> int:
    match = re.fullmatch(r"【督办】(\d+)项事项需要您处理（\d+年\d+月\d+日）", message.subject)
    assert match, message.subject
    return int(match[1])


def overdue(session: Session, day: date) -> set[int]:
    return {r["milestone_id"] for r in milestone_lights(
        session=session, rules=RULES, now=RULES.as_of(day), plan="xihu-2016-2020")
        if r["state"] == "overdue"}


def test_a_first_sweep_long_after_the_due_dates_lists_each_overdue_item_once(
        engine: sa.Engine, session: Session, tmp_path: Path, channels: Channels) -> None:
    """The office's first sweep at 2017-01-16 records every level each late item reached (the
    office is told at two of them, the unit head at two): each digest names each item once."""
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE, smtp_host="")
    xihu(session)
    sent = sweep_and_compose(engine, DAY, settings, channels)
    late = overdue(session, DAY)
    assert len(late) == 19  # the 2016 targets of 附件2, all open
    assert set(sent) == set(LEVELS_OF)
    for message in sent.values():
        shown = listed(settings, message)
        assert sorted(shown) == sorted(late), message.address
        assert counted(message) == len(late)
    # At its highest level: the office reads every item as 领导督办, none as 督办单.
    assert "【领导督办】共19项" in sent[OFFICE].body_text
    assert "督办单】" not in sent[OFFICE].body_text
    assert "以及另外" not in sent[OFFICE].body_text


def test_a_digest_names_an_item_as_it_is_named_when_the_digest_is_written(
        engine: sa.Engine, session: Session, tmp_path: Path, channels: Channels) -> None:
    """A notice keeps what its step said (level, light, days overdue), not a copy of the item's
    names: an item renamed by a re-import before the digest goes out is mailed as renamed."""
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE, smtp_host="")
    xihu(session)
    now = RULES.as_of(DAY)
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=now)
    with Session(engine) as db:
        notice = db.exec(select(Notice).order_by(col(Notice.id))).first()
        assert notice is not None
        assert "title" not in notice.context and "level" not in notice.context  # the step's
        address = OWNER if "owner" in notice.role_list else OFFICE
        db.execute(sa.update(Milestone).where(col(Milestone.id) == notice.milestone_id)
                   .values(title="更名后的节点"))
        db.commit()
    compose_due(engine=engine, settings=settings, channels=channels, now=now)
    with Session(engine) as db:
        message = db.exec(select(Message).where(Message.address == address,
                                                Message.template == "escalation_digest")).one()
    assert "更名后的节点" in message.body_text and "更名后的节点" in message.body_html


def test_sweeps_three_weeks_apart_through_2016_never_list_an_item_twice(
        engine: sa.Engine, session: Session, tmp_path: Path, channels: Channels) -> None:
    """Swept every third Monday from the plan's issue to 2017-01-16 (a scheduler down for a
    fortnight at a time), a sweep skips levels: items due soon at one sweep have passed 督办单
    and reached 领导督办 at the next. Every digest lists each item once, counts it once in its
    subject, and names exactly the items the sweep owes its reader."""
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE, smtp_host="")
    xihu(session)
    day, digests = date(2016, 10, 24), 0
    while day <= DAY:
        sent = sweep_and_compose(engine, day, settings, channels)
        with Session(engine) as db:  # a fresh snapshot: this day's steps and notices
            steps = db.exec(select(EscalationStep.milestone_id, EscalationStep.level,
                                   EscalationStep.reason).where(
                EscalationStep.as_of == day)).all()
        for address, message in sent.items():
            shown = listed(settings, message)
            assert len(shown) == len(set(shown)) == counted(message), (day, address)
            assert set(shown) == set(message.meta["milestones"])
            # Each item a step owes this reader: at the reader's level, or a catch-up step
            # that passed it (issue 13: one step, not one per level).
            assert set(shown) == {m for m, level, reason in steps
                                  if level in LEVELS_OF[address]
                                  or (reason == "catch_up" and min(LEVELS_OF[address]) <= level)}
            digests += 1
        day += timedelta(days=21)
    assert digests >= 4


def test_past_the_cap_the_digest_counts_the_rest_and_links_the_list_that_holds_them(
        engine: sa.Engine, session: Session, tmp_path: Path, channels: Channels) -> None:
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE, smtp_host="",
                        digest_item_cap=5)
    xihu(session)
    message = sweep_and_compose(engine, DAY, settings, channels)[OFFICE]
    shown = listed(settings, message)
    assert len(shown) == 5 and counted(message) == 19
    for part in (message.body_text, message.body_html):
        assert "以及另外 14 项" in part
    link = next(u for u in re.findall(r"https?://\S+", message.body_text) if "/l/" not in u)
    assert f'href="{html.escape(link)}"' in message.body_html
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/"
    params = dict(parse_qsl(url.query))
    assert params == {"plan": "xihu-2016-2020", "unit": "xihu-mzj", "light": "red"}
    filters, problems = read_filters(params, plans={"xihu-2016-2020"}, units={"xihu-mzj"},
                                     top_level=3)
    assert problems == []
    listed_ids = {item["milestone_id"] for chunk in iter_chunks(
        session=session, query=filters.query(), calendar=RULES.calendar, today=DAY)
        for item in chunk}
    assert overdue(session, DAY) - set(shown) <= listed_ids
    # The five shown are the due first (all are at 领导督办).
    due = dict(session.exec(select(Milestone.id, Milestone.due_on).join(Project).join(Plan)
                            .where(Plan.code == "xihu-2016-2020")).all())
    assert max(due[i] for i in shown) <= min(due[i] for i in overdue(session, DAY) - set(shown))


def item(milestone_id: int, level: int, repeat: int = 0, **values: object) -> dict[str, object]:
    return {"milestone_id": milestone_id, "level": level, "repeat": repeat,
            "due_on": f"2016-06-{milestone_id:02d}", "plan_code": "xihu-2016-2020",
            "unit_code": "xihu-mzj", "light": "red"} | values


@pytest.mark.parametrize(("notices", "cap", "shown", "rest"), [
    ([item(1, 1), item(1, 2), item(1, 3)], 50, [(1, 3, 0)], []),
    ([item(1, 2, 1), item(1, 2, 0), item(2, 1)], 50, [(1, 2, 1), (2, 1, 0)], []),
    ([item(3, 1), item(2, 1), item(1, 2)], 2, [(1, 2, 0), (2, 1, 0)], [(3, 1, 0)]),
    ([item(2, 3), item(1, 3), item(1, 1)], 1, [(1, 3, 0)], [(2, 3, 0)]),
])
def test_each_item_once_at_its_highest_level_most_urgent_first(
        notices: list[dict[str, object]], cap: int, shown: list[tuple[int, int, int]],
        rest: list[tuple[int, int, int]]) -> None:
    digest = digest_of(notices, cap=cap)
    assert [(i["milestone_id"], i["level"], i["repeat"]) for i in digest.shown] == shown
    assert [(i["milestone_id"], i["level"], i["repeat"]) for i in digest.rest] == rest
    assert digest.total == len({n["milestone_id"] for n in notices})


def test_the_rest_link_narrows_only_by_what_all_the_rest_share() -> None:
    assert shared_filters([item(1, 2), item(2, 2)]) == {
        "plan": "xihu-2016-2020", "unit": "xihu-mzj", "light": "red"}
    assert shared_filters([item(1, 2), item(2, 1, light="yellow", unit_code="xihu-jd")]) == {
        "plan": "xihu-2016-2020"}
    assert shared_filters([item(1, 2, light=None)]) == {"plan": "xihu-2016-2020",
                                                        "unit": "xihu-mzj"}
    assert Filters(**shared_filters([item(1, 2)])).link() == (  # type: ignore[arg-type]
        "/?plan=xihu-2016-2020&unit=xihu-mzj&light=red")
