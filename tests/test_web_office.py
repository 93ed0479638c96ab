"""The office's pages as people use them: the filtered list, people, units, the outbox, and the
leaders' overview; and that nobody else can change any of it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.settings import Settings
from flows.sweep import run_sweep
from models.store.actions import claim_done
from models.store.status_view import milestone_lights
from models.tables.message import Channel, Message, MessageStatus
from models.tables.person import Person
from models.tables.unit import Unit
from services.runtime import build, system_clock
from tests.conftest import NOW, snapshot
from tests.test_web_app import LEADER, OFFICE, OTHER_OWNER, OWNER, SECRET, Site
from tests.world import RULES, build_world, give_passwords, sweep_world
from web.app import create_app

NEW_PASSWORD = "新同事-登录-2026"



@contextmanager
def office_site(engine: sa.Engine, session: Session, password_hash: str,
                tmp_path: Path) -> Iterator[Site]:
    """The world on 2026-11-23, swept: every item overdue (red) except 开工建设, claimed done
    (blue, 待核实)."""
    world = build_world(session)
    give_passwords(session, password_hash)
    owner = session.exec(select(Person).where(Person.email == OWNER)).one()
    claim_done(session=session, rules=RULES, milestone_id=world.construction,
               evidence="已开工", actor=OWNER, actor_id=owner.id, now=NOW)
    session.add(Message(key="digest:dead", channel=Channel.email, address="li.na@duban.example",
                        recipient="李娜", template="digest", subject="督办提醒：1 项逾期",
                        body_text="…", body_html="", raw=b"Subject: ...\r\n\r\n...",
                        message_id="<dead@duban.example>",
                        status=MessageStatus.dead, attempts=5,
                        last_error="550 5.1.1 mailbox unavailable"))
    session.commit()
    sweep_world(engine)
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES, secret=SECRET, clock=lambda: NOW))
    with TestClient(app) as client:
        yield Site(client, engine, world)


@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[Site]:
    with office_site(engine, session, password_hash, tmp_path) as opened:
        yield opened


def post(site: Site, path: str, **data: object) -> Any:
    return site.client.post(path, data={"csrf": site.csrf("/")} | data, follow_redirects=False)


def listed(page: str) -> list[str]:
    """The item titles on a list page, in order."""
    return re.findall(r'<a href="/milestones/\d+">([^<]+)</a>', page)


def unit_id(site: Site, code: str) -> int:
    with Session(site.engine) as db:
        return db.exec(select(Unit.id).where(Unit.code == code)).one()  # type: ignore[return-value]


def dead_message_id(site: Site) -> int:
    with Session(site.engine) as db:
        return db.exec(select(Message.id).where(Message.key == "digest:dead")).one()  # type: ignore


# ── the list ────────────────────────────────────────────────────────────────────────────────


def test_filters_narrow_the_office_list(site: Site) -> None:
    site.login(OFFICE)
    # red first, the most overdue first; then the green one
    assert listed(site.client.get("/").text) == ["完成消防验收", "建成运营", "开工建设"]
    assert listed(site.client.get("/?plan=demo-2025-2026").text) == [
        "完成消防验收", "建成运营", "开工建设"]
    assert listed(site.client.get("/?unit=demo-jd").text) == ["建成运营"]
    overdue = site.client.get("/?light=red")
    assert listed(overdue.text) == ["完成消防验收", "建成运营"]
    assert "<h1>逾期事项" in overdue.text
    assert listed(site.client.get("/?light=blue").text) == ["开工建设"]
    assert listed(site.client.get("/?state=claimed").text) == ["开工建设"]
    assert listed(site.client.get("/?state=overdue&unit=demo-mzj").text) == ["完成消防验收"]
    with Session(site.engine) as db:
        rows = milestone_lights(session=db, rules=RULES, now=NOW)
    for level in {r["level"] for r in rows}:
        expected = {r["title"] for r in rows if r["level"] == level}
        assert set(listed(site.client.get(f"/?level={level}").text)) == expected
    assert listed(site.client.get("/?level=0&light=red").text) == []  # none at level 0 is red


def test_the_counts_above_the_list_count_each_light_of_what_is_selected(site: Site) -> None:
    site.login(OFFICE)
    page = site.client.get("/?light=green").text
    assert re.search(r"红灯 2</a>", page) and re.search(r"待核实 1</a>", page)
    assert re.search(r"绿灯 0</a>", page) and "共 0 项" in page
    assert re.search(r"黄灯 0</a>", page)
    assert 'href="/?light=red"' in page
    assert re.search(r"红灯 1</a>", site.client.get("/?unit=demo-jd").text)


def test_an_owner_sees_only_their_unit_whatever_they_ask_for(site: Site) -> None:
    site.login(OWNER)
    assert listed(site.client.get("/").text) == ["完成消防验收", "开工建设"]
    assert listed(site.client.get("/?light=red").text) == ["完成消防验收"]
    assert listed(site.client.get("/?unit=demo-mzj&state=claimed").text) == ["开工建设"]
    other = site.client.get("/?unit=demo-jd")
    assert other.status_code == 403 and "只能查看本单位（示例区民政局）" in other.text
    assert "建成运营" not in other.text
    assert 'name="unit"' not in site.client.get("/").text  # no unit to choose from


UNKNOWN_FILTERS = [
    ("plan=no-such-plan", "没有代码为“no-such-plan”的规划"),
    ("unit=nowhere", "没有代码为“nowhere”的单位"),
    ("light=purple", "灯色只能是 red、yellow、blue 或 green"),
    ("level=high", "督办级别只能是 0 到 3 的整数"),
    ("level=7", "督办级别只能是 0 到 3 的整数"),
    ("state=forgotten", "没有“forgotten”这个状态"),
]


def test_an_unknown_filter_value_is_named_and_lists_nothing(site: Site) -> None:
    site.login(OFFICE)
    for query, problem in UNKNOWN_FILTERS:
        page = site.client.get(f"/?{query}")
        assert page.status_code == 400 and problem in page.text, query
        assert listed(page.text) == [], query


def test_the_nav_shows_each_person_only_the_pages_they_may_use(site: Site) -> None:
    site.login(OWNER)
    nav = site.client.get("/").text.split("<nav>")[1].split("</nav>")[0]
    assert "事项" in nav and "/people" not in nav and "/overview" not in nav
    assert "/outbox" not in nav and "逾期事项" not in nav
    site.client.post("/logout", data={"csrf": site.csrf("/")})
    site.login(OFFICE)
    nav = site.client.get("/").text.split("<nav>")[1].split("</nav>")[0]
    for href in ("/?light=red", "/overview", "/people", "/units", "/outbox"):
        assert f'href="{href}"' in nav


# ── people ──────────────────────────────────────────────────────────────────────────────────


def test_the_office_adds_a_person_who_then_signs_in_with_the_password_set(site: Site) -> None:
    site.login(OFFICE)
    added = post(site, "/people", name="孙丽", email=" Sun.Li@duban.example ", role="owner",
                 unit="demo-jd", phone="0571-8888 0000", heads_unit="1")
    assert added.status_code == 303
    sun = site.person("sun.li@duban.example")
    assert added.headers["location"] == f"/people/{sun.id}"
    assert (sun.role, sun.unit_id, sun.heads_unit, sun.password_hash) == (
        "owner", unit_id(site, "demo-jd"), True, None)
    created = site.events("person.created")[-1]
    assert created.person_id == sun.id and created.actor == OFFICE
    weak = post(site, f"/people/{sun.id}/password", password="12345678901",
                confirm="12345678901")
    assert weak.status_code == 400 and "不能全部是数字" in weak.text
    assert post(site, f"/people/{sun.id}/password", password=NEW_PASSWORD,
                confirm=NEW_PASSWORD).status_code == 303
    [event] = site.events("person.password_set")
    assert (event.person_id, event.actor_id) == (sun.id, site.person(OFFICE).id)
    assert site.person("sun.li@duban.example").password_hash not in str(event.data)
    assert NEW_PASSWORD not in str(event.data)
    listing = site.client.get("/people").text
    assert "孙丽" in listing and "已设置" in listing
    newcomer = Site(TestClient(site.client.app), site.engine, site.world)
    assert newcomer.login("sun.li@duban.example", NEW_PASSWORD).headers["location"] == "/todo"
    assert listed(newcomer.client.get("/").text) == ["建成运营"]


REFUSED_PEOPLE = [
    ({"email": OWNER}, "邮箱 wang.fang@duban.example 已被 王芳 使用"),
    ({"email": "WANG.FANG@duban.example"}, "已被 王芳 使用"),
    ({"unit": "nowhere"}, "没有代码为“nowhere”的单位"),
    ({"unit": ""}, "项目负责人必须属于一个单位"),
    ({"email": "not-an-email"}, "邮箱格式不正确"),
    ({"name": ""}, "姓名格式不正确"),
]


def test_a_person_the_rules_refuse_is_not_added_and_the_problem_is_named(site: Site) -> None:
    site.login(OFFICE)
    before = snapshot(site.engine)
    for form, problem in REFUSED_PEOPLE:
        refused = post(site, "/people", **{"name": "孙丽", "email": "sun.li@duban.example",
                                            "role": "owner", "unit": "demo-jd"} | form)
        assert refused.status_code == 400 and problem in refused.text, form
        assert 'value="孙丽"' in refused.text or form.get("name") == "", form  # input kept
    assert snapshot(site.engine) == before


def test_the_office_changes_a_persons_unit_and_role(site: Site) -> None:
    site.login(OFFICE)
    wang = site.person(OWNER)
    changed = post(site, f"/people/{wang.id}", name="王芳", role="owner", unit="demo-jd",
                   phone="13800000000")
    assert changed.status_code == 303
    assert site.person(OWNER).unit_id == unit_id(site, "demo-jd")
    [event] = site.events("person.updated")
    assert event.data["changes"]["phone"] == [None, "13800000000"] and event.actor == OFFICE


def test_no_one_deactivates_themselves_or_changes_their_own_role(site: Site) -> None:
    site.login(OFFICE)
    me = site.person(OFFICE)
    before = snapshot(site.engine)
    refused = post(site, f"/people/{me.id}/deactivate", reason="试试")
    assert refused.status_code == 400 and "不能停用自己的账号" in refused.text
    demoted = post(site, f"/people/{me.id}", name=me.name, role="leader", unit="")
    assert demoted.status_code == 400 and "不能更改自己的角色" in demoted.text
    assert snapshot(site.engine) == before
    assert site.person(OFFICE).active


def test_a_deactivated_persons_session_stops_working_and_comes_back_when_reactivated(
        site: Site) -> None:
    owner = Site(TestClient(site.client.app), site.engine, site.world)
    owner.login(OWNER)
    assert owner.client.get("/").status_code == 200
    site.login(OFFICE)
    wang = site.person(OWNER)
    assert post(site, f"/people/{wang.id}/deactivate", reason="调离").status_code == 303
    assert owner.client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert owner.login(OWNER).status_code == 401
    [event] = site.events("person.deactivated")
    assert (event.person_id, event.actor_id, event.reason) == (
        wang.id, site.person(OFFICE).id, "调离")
    assert "已停用" in site.client.get("/people").text
    assert post(site, f"/people/{wang.id}/reactivate").status_code == 303
    assert site.person(OWNER).active and len(site.events("person.reactivated")) == 1
    assert owner.login(OWNER).status_code == 303


# ── units ───────────────────────────────────────────────────────────────────────────────────


def test_the_office_replaces_a_units_placeholder_contact(site: Site) -> None:
    site.login(OFFICE)
    jd = unit_id(site, "demo-jd")
    assert "占位，待替换" in site.client.get("/units").text
    before = snapshot(site.engine)
    bad = post(site, f"/units/{jd}", name="刘洋", email="liu.yang@", phone="")
    assert bad.status_code == 400 and "邮箱格式不正确" in bad.text
    assert snapshot(site.engine) == before
    assert post(site, f"/units/{jd}", name="刘洋", email="Liu.Yang@duban.example",
                phone="").status_code == 303
    with Session(site.engine) as db:
        unit = db.get(Unit, jd)
        assert unit is not None
        assert (unit.contact_name, unit.contact_email, unit.contact_phone,
                unit.contact_placeholder) == ("刘洋", "liu.yang@duban.example", None, False)
    [event] = site.events("unit.contact_set")
    assert event.unit_id == jd and event.actor == OFFICE


# ── the outbox ──────────────────────────────────────────────────────────────────────────────


def test_the_outbox_lists_a_dead_message_and_retry_queues_it_again(site: Site) -> None:
    site.login(OFFICE)
    page = site.client.get("/outbox?failed=1").text
    assert "督办提醒：1 项逾期" in page and "已放弃" in page and "550 5.1.1" in page
    message = dead_message_id(site)
    assert post(site, f"/outbox/{message}/retry").status_code == 303
    with Session(site.engine) as db:
        retried = db.get(Message, message)
        assert retried is not None
        assert (retried.status, retried.attempts, retried.next_attempt_at) == (
            MessageStatus.queued, 0, NOW)
    [event] = site.events("message.retried")
    assert event.actor == OFFICE and event.data["message_id"] == message
    again = post(site, f"/outbox/{message}/retry")
    assert again.status_code == 409 and "只有发送失败或已放弃的消息可以重试" in again.text
    assert "督办提醒" not in site.client.get("/outbox?failed=1").text


# ── who may ─────────────────────────────────────────────────────────────────────────────────


def office_posts(site: Site) -> list[tuple[str, dict[str, str]]]:
    target, jd = site.person(OTHER_OWNER).id, unit_id(site, "demo-jd")
    return [("/people", {"name": "孙丽", "email": "sun.li@duban.example", "role": "office"}),
            (f"/people/{target}", {"name": "李娜", "role": "office"}),
            (f"/people/{target}/deactivate", {}),
            (f"/people/{target}/reactivate", {}),
            (f"/people/{target}/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
            (f"/units/{jd}", {"name": "刘洋", "email": "liu.yang@duban.example"}),
            (f"/outbox/{dead_message_id(site)}/retry", {})]


@pytest.mark.parametrize("who", [OWNER, LEADER])
def test_owners_and_leaders_are_refused_every_office_page_and_change_nothing(
        site: Site, who: str) -> None:
    site.login(who)
    for path in ("/people", f"/people/{site.person(OWNER).id}", "/units",
                 f"/units/{unit_id(site, 'demo-jd')}", "/outbox"):
        page = site.client.get(path)
        assert page.status_code == 403 and "无权" in page.text, path
    before = snapshot(site.engine)
    for path, form in office_posts(site):
        refused = post(site, path, **form)
        assert refused.status_code == 403 and "无权" in refused.text, path
    assert snapshot(site.engine) == before


def test_office_forms_without_a_signed_in_person_or_the_csrf_token_change_nothing(
        site: Site) -> None:
    before = snapshot(site.engine)
    for path, form in office_posts(site):
        assert post(site, path, **form).headers["location"] == "/login", path
    site.login(OFFICE)
    for path, form in office_posts(site):
        forged = site.client.post(path, data={"csrf": "forged"} | form)
        assert forged.status_code == 403 and "表单已过期" in forged.text, path
    assert snapshot(site.engine) == before


# ── the overview ────────────────────────────────────────────────────────────────────────────


def test_the_overview_counts_are_the_lights_and_each_links_to_its_items(site: Site) -> None:
    run_sweep(engine=site.engine, rules=RULES, clock=system_clock, now=NOW)  # lights stored
    site.login(LEADER)
    page = site.client.get("/overview")
    assert page.status_code == 200 and "<form" not in page.text.split("<main>")[1]
    with Session(site.engine) as db:
        rows = milestone_lights(session=db, rules=RULES, now=NOW)
    expected = Counter((r["plan"], r["unit_code"], r["light"]) for r in rows)
    shown = {(plan, unit, light): int(count) for plan, unit, light, count in re.findall(
        r'href="/\?plan=([^&"]+)&amp;unit=([^&"]+)&amp;light=(\w+)"[^>]*>(\d+)<', page.text)}
    assert shown == {key: expected[key] for key in shown}
    assert {k for k, n in expected.items() if n} == set(shown)  # a zero is no link
    for (plan, unit, light), count in shown.items():
        assert len(listed(site.client.get(f"/?plan={plan}&unit={unit}&light={light}").text)) \
            == count


def test_owners_are_refused_the_overview(site: Site) -> None:
    site.login(OWNER)
    refused = site.client.get("/overview")
    assert refused.status_code == 403 and "无权" in refused.text
    site.client.post("/logout", data={"csrf": site.csrf("/")})
    assert site.client.get("/overview", follow_redirects=False).headers["location"] == "/login"


def test_each_office_form_says_on_the_next_page_what_it_did(site: Site) -> None:
    site.login(OFFICE)
    said = ["已添加人员 孙丽。", "李娜 的信息已保存。", "已停用 李娜 的账号。",
            "已恢复 李娜 的账号。", "已为 李娜 设置新密码，其原有登录已全部退出。",
            "示例区示例街道 的联系人已保存。",
            "已重新排入发送队列。"]
    for (path, form), message in zip(office_posts(site), said, strict=True):
        done = post(site, path, **form)
        assert done.status_code == 303, (path, done.text)
        shown = site.client.get(done.headers["location"]).text
        assert f'<p class="flash" role="status">{message}</p>' in shown, path
        assert message not in site.client.get(done.headers["location"]).text  # once
