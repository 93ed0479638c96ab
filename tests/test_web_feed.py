"""A unit's calendar feed as a calendar app fetches it: by a signed key, read-only, showing what
is still due; and the page where people find their feed addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from icalendar import Calendar
from itsdangerous import URLSafeSerializer
from sqlmodel import Session, select

from config.settings import Settings
from models.store.actions import claim_done, close_out, decide_extension, request_extension
from models.tables.person import Person
from models.tables.unit import Unit
from services.runtime import build
from tests.conftest import NOW, snapshot
from tests.test_web_app import LEADER, OFFICE, OTHER_OWNER, OWNER, SECRET, Site
from tests.world import RULES, build_world, give_passwords
from web.app import create_app
from web.feeds import SALT


@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[Site]:
    world = build_world(session)
    give_passwords(session, password_hash)
    session.commit()
    settings = Settings(data_dir=tmp_path / "data", base_url="https://duban.example.gov.cn",
                        smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES, secret=SECRET, clock=lambda: NOW))
    with TestClient(app, base_url="https://testserver") as client:
        yield Site(client, engine, world)


def feed_urls(site: Site, email: str) -> dict[str, str]:
    """The feed addresses /calendar shows `email`, by unit code, as paths on the test server."""
    site.client.cookies.clear()
    site.login(email)
    page = site.client.get("/calendar")
    assert page.status_code == 200
    site.client.cookies.clear()  # a calendar app has no session
    urls = re.findall(r'value="(https://duban\.example\.gov\.cn/units/[^"]+)"', page.text)
    assert all(f'href="webcal://{u.split("://", 1)[1]}"' in page.text for u in urls)
    return {u.split("/units/", 1)[1].split("/", 1)[0]: u.removeprefix(
        "https://duban.example.gov.cn") for u in urls}


def events(site: Site, path: str) -> dict[str, dict[str, object]]:
    response = site.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar["x-wr-calname"] == "督办 · 示例区民政局"
    assert calendar["x-wr-timezone"] == "Asia/Shanghai"
    return {str(e["uid"]): {"start": e.decoded("dtstart"), "summary": str(e["summary"]),
                            "description": str(e["description"]),
                            "alarms": [a.decoded("trigger") for a in e.subcomponents]}
            for e in calendar.walk("VEVENT")}


def test_the_feed_shows_the_units_items_still_due_on_their_dates(site: Site) -> None:
    world = site.world
    with Session(site.engine) as db:
        owner = db.exec(select(Person).where(Person.email == OWNER)).one()
        claim_done(session=db, rules=RULES, milestone_id=world.construction, evidence="已开工",
                   actor=OWNER, actor_id=owner.id, now=NOW)
        request_extension(session=db, rules=RULES, milestone_id=world.fire_check,
                          proposed=date(2027, 3, 31), reason="消防部门排期", actor=OWNER,
                          actor_id=owner.id, now=NOW)
        decide_extension(session=db, rules=RULES, milestone_id=world.fire_check, approved=True,
                         actor=OFFICE, now=NOW)
        db.commit()
    feed = feed_urls(site, OWNER)["demo-mzj"]
    shown = events(site, feed)
    construction = f"milestone-{world.construction}@duban.example.gov.cn"
    fire_check = f"milestone-{world.fire_check}@duban.example.gov.cn"
    assert set(shown) == {construction, fire_check}  # demo-jd's item is not in this feed
    assert shown[construction]["start"] == date(2025, 9, 30)
    assert shown[construction]["summary"] == ("【督办】区社会福利中心二期工程："
                                              "开工建设（蓝灯 待核实）")  # claimed
    assert "已申报完成" in shown[construction]["description"]
    assert shown[construction]["alarms"] == []  # done, waiting for the office: no reminder
    assert shown[fire_check]["start"] == date(2027, 3, 31)  # the extended date
    assert shown[fire_check]["alarms"] == [-timedelta(days=3) + timedelta(hours=9)]
    assert (f"https://duban.example.gov.cn/milestones/{world.fire_check}"
            in shown[fire_check]["description"])

    with Session(site.engine) as db:
        close_out(session=db, rules=RULES, milestone_id=world.construction, actor=OFFICE,
                  now=NOW)
        db.commit()
    assert set(events(site, feed)) == {fire_check}  # closed: no longer due; same UID as before


def test_a_tampered_key_is_refused(site: Site) -> None:
    key = parse_qs(urlsplit(feed_urls(site, OWNER)["demo-mzj"]).query)["key"][0]
    other = parse_qs(urlsplit(feed_urls(site, OTHER_OWNER)["demo-jd"]).query)["key"][0]
    owner = site.person(OWNER)
    claims = {"person_id": owner.id, "unit_id": owner.unit_id}  # right claims, wrong signer
    forged = [key.split(".")[0] + "." + other.split(".")[1], key[:-3],
              URLSafeSerializer("not-the-secret", salt=SALT).dumps(claims),
              URLSafeSerializer(SECRET, salt="duban-item-link").dumps(claims)]
    before = snapshot(site.engine)
    for bad in forged:
        refused = site.client.get("/units/demo-mzj/calendar.ics", params={"key": bad})
        assert refused.status_code == 403 and "订阅地址无效" in refused.text, bad
    assert snapshot(site.engine) == before


def test_a_key_opens_its_own_unit_only(site: Site) -> None:
    owner_feed = feed_urls(site, OWNER)["demo-mzj"]
    other_unit = owner_feed.replace("/units/demo-mzj/", "/units/demo-jd/")
    refused = site.client.get(other_unit)
    assert refused.status_code == 403 and "订阅地址无效" in refused.text
    office_feed = feed_urls(site, OFFICE)["demo-mzj"]  # the office has one key per unit
    assert site.client.get(office_feed.replace("/demo-mzj/", "/demo-jd/")).status_code == 403


def test_a_key_stops_working_when_its_person_is_deactivated_or_moved(site: Site) -> None:
    feed = feed_urls(site, OWNER)["demo-mzj"]
    with Session(site.engine) as db:
        owner = db.exec(select(Person).where(Person.email == OWNER)).one()
        owner.unit_id = db.exec(select(Unit).where(Unit.code == "demo-jd")).one().id
        db.add(owner)
        db.commit()
    moved = site.client.get(feed)
    assert moved.status_code == 403 and "已失效" in moved.text

    feed = feed_urls(site, OTHER_OWNER)["demo-jd"]
    assert site.client.get(feed).status_code == 200
    with Session(site.engine) as db:
        other = db.exec(select(Person).where(Person.email == OTHER_OWNER)).one()
        other.active = False
        db.add(other)
        db.commit()
    gone = site.client.get(feed)
    assert gone.status_code == 403 and "已失效" in gone.text


def test_without_a_key_only_a_signed_in_reader_of_the_unit_gets_the_feed(site: Site) -> None:
    anonymous = site.client.get("/units/demo-mzj/calendar.ics")
    assert anonymous.status_code == 403 and "缺少订阅密钥" in anonymous.text
    site.login(OWNER)
    assert site.client.get("/units/demo-mzj/calendar.ics").status_code == 200
    assert site.client.get("/units/demo-jd/calendar.ics").status_code == 403
    assert site.client.get("/units/no-such-unit/calendar.ics").status_code == 404


def test_the_calendar_page_offers_each_person_the_units_they_may_see(site: Site) -> None:
    assert site.client.get("/calendar", follow_redirects=False).headers["location"] == "/login"
    assert set(feed_urls(site, OWNER)) == {"demo-mzj"}
    assert set(feed_urls(site, OTHER_OWNER)) == {"demo-jd"}
    for email in (OFFICE, LEADER):
        urls = feed_urls(site, email)
        assert set(urls) == {"demo-mzj", "demo-jd"}
        for code, url in urls.items():  # each address opens its unit's feed, signed out
            feed = site.client.get(url)
            assert feed.status_code == 200 and f"/units/{code}/" in url
