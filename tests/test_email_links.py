"""Links in emails: each one signs in only the person the email went to, once, with the key the
web app checks; an address no person answers for gets the item page, which asks for a password.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.channels import Channels, load_channels
from config.secret import secret_key
from config.settings import Settings
from flows.sweep import run_sweep
from models.rules.item_links import LinkClaims, make_link_token, read_link_token
from models.store import actions
from models.store.database import writer
from models.store.people import ContactIn, set_unit_contact
from models.tables.columns import saved_id
from models.tables.link_use import LinkUse
from models.tables.message import Message
from models.tables.person import Person
from models.tables.unit import Unit
from notifications.compose import compose_due
from services.milestone_actions import take
from services.runtime import build, system_clock
from tests.test_web_app import OFFICE, OWNER, SECRET, Site, follow_link, open_site
from tests.world import RULES, build_world
from web.app import create_app
from web.email_links import LINK_MAX_AGE_SECONDS

BASE = "https://duban.example.gov.cn"
NOW = RULES.as_of(date(2025, 10, 21))  # both 2025-09-30 items overdue: levels 1 and 2
MAILBOX = "bangongshi@mzj.example"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", base_url=BASE, smtp_host="")


@pytest.fixture
def channels(tmp_path: Path) -> Channels:
    path = tmp_path / "channels.yaml"
    path.write_text("webhooks: []\n", "utf-8")
    return load_channels(path)


def digests(engine: sa.Engine, settings: Settings, channels: Channels) -> dict[str, Message]:
    """Sweep at NOW and compose: the digest email of each address."""
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=NOW)
    compose_due(engine=engine, settings=settings, channels=channels, now=NOW)
    with Session(engine) as db:
        return {m.address: m for m in db.exec(select(Message).where(
            Message.template == "escalation_digest"))}


def links(message: Message) -> list[str]:
    """The item links of an email; the text part carries the same ones as the HTML part."""
    found = re.findall(r'href="([^"]+)"', message.body_html)
    assert sorted(found) == sorted(re.findall(r"https?://\S+", message.body_text))
    return found


def claims(settings: Settings, link: str) -> LinkClaims:
    assert link.startswith(f"{BASE}/l/"), link
    return read_link_token(secret=secret_key(settings), token=link.removeprefix(f"{BASE}/l/"),
                           max_age_seconds=LINK_MAX_AGE_SECONDS, now=NOW.timestamp())


def person_ids(session: Session) -> dict[str, int]:
    return {p.email: p.id for p in session.exec(select(Person))}  # type: ignore[misc]


def test_every_link_in_a_digest_signs_in_its_recipient_only(engine, session, settings,
                                                            channels) -> None:
    build_world(session)
    people = person_ids(session)
    sent = digests(engine, settings, channels)
    assert set(sent) == {"wang.fang@duban.example", "chen.gang@duban.example",
                         "zhou.min@duban.example", "zhao@duban.example"}
    nonces = []
    for address, message in sent.items():
        found = [claims(settings, link) for link in links(message)]
        assert {c.person_id for c in found} == {people[address]} == {message.person_id}
        assert sorted(c.milestone_id for c in found) == sorted(message.meta["milestones"])
        nonces += [c.nonce for c in found]
    assert len(set(nonces)) == len(nonces)  # every link opens once, on its own


def test_a_digest_link_opens_its_item_in_the_web_app_once(engine, session, settings,
                                                          channels) -> None:
    world = build_world(session)
    sent = digests(engine, settings, channels)
    [link] = [link for link in links(sent["wang.fang@duban.example"])
              if claims(settings, link).milestone_id == world.construction]
    # The web app stands where the sweep and composer stood: one clock stamps and checks links.
    app = create_app(build(settings, engine=engine, rules=RULES, secret=secret_key(settings),
                           clock=lambda: NOW))
    with TestClient(app, base_url=BASE) as phone, TestClient(app, base_url=BASE) as forwarded:
        opened = follow_link(phone, link)
        assert opened.headers["location"] == f"/milestones/{world.construction}"
        page = phone.get(opened.headers["location"])
        assert page.status_code == 200 and "开工建设" in page.text and "申报完成" in page.text
        again = forwarded.get(link, follow_redirects=False)
        assert again.status_code == 403 and "链接已使用" in again.text


def test_a_unit_mailbox_without_an_account_gets_links_that_ask_for_a_password(
        engine, session, settings, channels) -> None:
    world = build_world(session)
    for person in session.exec(select(Person).where(Person.email.in_(  # type: ignore[attr-defined]
            ["wang.fang@duban.example", "chen.gang@duban.example"]))):
        person.active = False  # the unit has no owner or head: its mailbox stands in
        session.add(person)
    unit = session.exec(select(Unit).where(Unit.code == "demo-mzj")).one()
    set_unit_contact(session=session, unit=unit, contact=ContactIn(name="民政局办公室",
                     email=MAILBOX), actor="test", now=NOW)
    session.commit()
    sent = digests(engine, settings, channels)
    mailbox = sent[MAILBOX]
    assert mailbox.person_id is None
    assert set(links(mailbox)) == {f"{BASE}/milestones/{world.construction}",
                                   f"{BASE}/milestones/{world.fire_check}"}
    office = person_ids(session)["zhou.min@duban.example"]  # same sweep, a person: signed
    assert {claims(settings, link).person_id
            for link in links(sent["zhou.min@duban.example"])} == {office}


def test_confirmations_link_to_the_item_for_the_owner_who_claimed_it(engine, session,
                                                                      settings) -> None:
    world = build_world(session)
    people = person_ids(session)
    owner = people["wang.fang@duban.example"]
    with Session(writer(engine)) as acting:
        take(actions.claim_done, session=acting, settings=settings, rules=RULES,
             milestone_id=world.construction, evidence="开工令已签发",
             actor="wang.fang@duban.example", actor_id=owner, now=NOW)
        take(actions.close_out, session=acting, settings=settings, rules=RULES,
             milestone_id=world.construction, actor="zhou.min@duban.example",
             actor_id=people["zhou.min@duban.example"], now=NOW)
        acting.commit()
    with Session(engine) as db:
        confirmations = {m.template: m for m in db.exec(select(Message))}
    assert set(confirmations) == {"done_received", "item_closed"}
    for message in confirmations.values():
        assert message.address == "wang.fang@duban.example"
        [found] = {claims(settings, link) for link in links(message)}
        assert (found.person_id, found.milestone_id) == (owner, world.construction)


# ── opening a link in a browser ─────────────────────────────────────────────────────────────

@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[Site]:
    with open_site(engine, session, password_hash, tmp_path) as served:
        yield served


def link_for(site: Site, email: str, milestone_id: int) -> str:
    token = make_link_token(secret=SECRET, person_id=saved_id(site.person(email)),
                            milestone_id=milestone_id, nonce=secrets.token_urlsafe(16))
    return f"/l/{token}"


def uses(site: Site) -> int:
    with Session(site.engine) as db:
        return len(db.exec(select(LinkUse)).all())


def test_a_mail_scanner_fetching_a_link_neither_uses_it_up_nor_signs_in(site: Site) -> None:
    link = link_for(site, OWNER, site.world.construction)
    with TestClient(site.client.app) as scanner:  # fetches every link of a message, twice
        for _ in range(2):
            page = scanner.get(link, follow_redirects=False)
            assert page.status_code == 200 and "王芳" in page.text and "登录并打开" in page.text
        assert scanner.get("/", follow_redirects=False).headers["location"] == "/login"
    assert uses(site) == 0
    opened = follow_link(site.client, link)  # the owner, later, on her phone
    assert opened.headers["location"] == f"/milestones/{site.world.construction}"
    assert "申报完成" in site.client.get(opened.headers["location"]).text
    assert uses(site) == 1
    with TestClient(site.client.app) as forwarded:
        again = forwarded.get(link, follow_redirects=False)
        assert again.status_code == 403 and "链接已使用" in again.text
        assert follow_link(forwarded, link).status_code == 403


def test_the_button_without_the_pages_token_signs_no_one_in(site: Site) -> None:
    link = link_for(site, OWNER, site.world.construction)
    refused = site.client.post(link, data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and "请重新打开邮件中的链接" in refused.text
    assert site.client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert uses(site) == 0


def test_another_persons_link_asks_before_switching_who_is_signed_in(site: Site) -> None:
    site.login(OFFICE)
    link = link_for(site, OWNER, site.world.construction)
    asked = site.client.get(link, follow_redirects=False)
    assert asked.status_code == 200
    assert "您当前以周敏登录，此链接属于王芳" in asked.text
    assert "切换为王芳" in asked.text and "留在周敏" in asked.text
    assert f'href="/milestones/{site.world.construction}"' in asked.text  # stay: the item
    assert "人员" in site.client.get("/").text  # still the office's menu: nothing switched
    assert uses(site) == 0
    switched = follow_link(site.client, link)
    assert switched.headers["location"] == f"/milestones/{site.world.construction}"
    start = site.client.get("/")
    assert "王芳" in start.text and "人员" not in start.text
    assert uses(site) == 1


def test_a_link_for_the_person_signed_in_goes_straight_to_the_item(site: Site) -> None:
    site.login(OWNER)
    link = link_for(site, OWNER, site.world.construction)
    for _ in range(2):  # the same email tapped twice
        opened = site.client.get(link, follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/milestones/{site.world.construction}"
    assert uses(site) == 1  # and nobody else can sign in with it now
    with TestClient(site.client.app) as forwarded:
        assert forwarded.get(link, follow_redirects=False).status_code == 403
