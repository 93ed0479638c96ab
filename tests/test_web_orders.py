"""The 督办单 where people meet it: on the item page (its PDF, the 签收 button), in its e-mail
(the PDF attached, a 签收 link that a forged copy cannot use), on a DingTalk card's 签收
button, through the API; and the leader's 批示, the office's 催办 and 转办 from the page."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from email.policy import default
from functools import partial
from pathlib import Path

import anyio
import httpx
import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from config.channels import Channels
from config.settings import Settings
from models.store.api_tokens import issue_token
from models.tables.event import Event
from models.tables.message import Message
from models.tables.milestone import Milestone
from models.tables.order import SupervisionOrder
from models.tables.person import NotifyVia, Person
from notifications.compose import compose_due
from notifications.outbox import deliver_round
from services.runtime import build
from tests.conftest import NOW
from tests.fake_im import serve
from tests.test_orders import ORDER_RULES, sweep
from tests.test_web_app import LEADER, OFFICE, OTHER_OWNER, OWNER, SECRET
from tests.test_web_items import Desk, Site
from tests.test_work_notices import apps
from tests.world import build_world, give_passwords
from web.app import create_app


@pytest.fixture(name="site")
def order_site(engine: sa.Engine, session: Session, password_hash: str,
               tmp_path: Path) -> Iterator[Site]:
    """The test world swept on 2025-10-21 under a ladder that issues orders: both its late
    items have a 督办单 to 民政局 (王芳, 陈刚)."""
    world = build_world(session)
    give_passwords(session, password_hash)
    session.commit()
    sweep(engine, date(2025, 10, 21))
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    app = create_app(build(settings, engine=engine, rules=ORDER_RULES, secret=SECRET,
                           clock=lambda: NOW))
    yield Site(app, engine, world, settings.data_dir)


def orders(engine: sa.Engine) -> list[SupervisionOrder]:
    with Session(engine) as db:
        return list(db.exec(select(SupervisionOrder).order_by(col(SupervisionOrder.id))))


def signed_by(engine: sa.Engine, order_id: int) -> str | None:
    with Session(engine) as db:
        order = db.get(SupervisionOrder, order_id)
        assert order is not None
        person = db.get(Person, order.received_by) if order.received_by else None
        return person.email if person else None


def test_the_owner_signs_on_the_item_page_once_and_another_unit_sees_nothing(site: Site):
    order = orders(site.engine)[0]
    owner = site.desk(OWNER)
    page = owner.get(f"/milestones/{order.milestone_id}").text
    assert order.number in page and f'action="/orders/{order.id}/receipt"' in page
    assert f'href="/orders/{order.id}.pdf"' in page
    pdf = owner.get(f"/orders/{order.id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdfium.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert order.number in text.replace("\r\n", "").replace(" ", "")

    stranger = site.desk(OTHER_OWNER)
    assert stranger.get(f"/orders/{order.id}.pdf").status_code == 404
    assert stranger.post(f"/orders/{order.id}/receipt").status_code == 404
    assert signed_by(site.engine, order.id) is None

    signed = owner.post(f"/orders/{order.id}/receipt")
    assert signed.status_code == 303
    after = owner.get(signed.headers["location"]).text
    assert f"已签收督办单 {order.number}" in after and "王芳" in after
    assert f'action="/orders/{order.id}/receipt"' not in after  # nothing left to sign
    again = owner.post(f"/orders/{order.id}/receipt")
    assert "此前已签收" in owner.get(again.headers["location"]).text
    assert signed_by(site.engine, order.id) == OWNER
    assert len(site.events("order.received")) == 1


def test_the_order_email_carries_its_pdf_and_a_receipt_link_a_forgery_cannot_use(
        site: Site, tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "mail", base_url="http://testserver", smtp_host="",
                        secret_key=SECRET)
    compose_due(engine=site.engine, settings=settings, channels=Channels(), now=NOW)
    with Session(site.engine) as db:
        mail = db.exec(select(Message).where(Message.address == OWNER)).one()
        office_mail = db.exec(select(Message).where(Message.address == OFFICE)).one()
    parsed = email.message_from_bytes(mail.raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    pdfs = [part for part in parsed.iter_attachments()
            if part.get_content_type() == "application/pdf"]
    numbers = {o.number for o in orders(site.engine)}
    assert {p.get_filename() for p in pdfs} == {f"{n}.pdf" for n in numbers}
    assert all(p.get_content().startswith(b"%PDF") for p in pdfs)
    # The office signs nothing by mail: no link to sign, no attachment.
    office = email.message_from_bytes(office_mail.raw, policy=default)
    assert not list(office.iter_attachments()) and "/r/" not in office_mail.body_text

    links = re.findall(r"http://testserver(/r/[\w.\-]+)", mail.body_text)
    assert len(links) == 2 and mail.meta["receipt_link"].endswith(links[0])
    phone = site.desk()  # the owner's phone, signed in to nothing
    shown = phone.get(links[0])
    assert shown.status_code == 200 and "签收" in shown.text
    assert all(signed_by(site.engine, o.id) is None for o in orders(site.engine))  # GET: none

    forged = links[0][:-3] + ("aaa" if not links[0].endswith("aaa") else "bbb")
    refused = phone.client.post(forged, data={"csrf": csrf_on(phone, links[0])},
                                follow_redirects=False)
    assert refused.status_code == 403 and "链接无效" in refused.text
    item_link = re.search(r"http://testserver/l/([\w.\-]+)", mail.body_text)
    assert item_link is not None  # an item link is no receipt link, though signed alike
    assert phone.get(f"/r/{item_link.group(1)}").status_code == 403
    assert all(signed_by(site.engine, o.id) is None for o in orders(site.engine))

    used = phone.client.post(links[0], data={"csrf": csrf_on(phone, links[0])},
                             follow_redirects=False)
    assert used.status_code == 303 and used.headers["location"].startswith("/milestones/")
    signed = [o for o in orders(site.engine) if signed_by(site.engine, o.id) == OWNER]
    assert len(signed) == 1
    assert "已签收督办单" in phone.get(used.headers["location"]).text  # and signed in


def test_a_dingtalk_card_carries_a_receipt_button_that_signs(site: Site, tmp_path: Path):
    """王芳 reads DingTalk: her work notice (through the local fake of DingTalk's API) has two
    buttons, 签收督办单 first; following it (the in-app browser opens it, then its button)
    signs for the order."""
    with Session(site.engine) as db:
        wang = db.exec(select(Person).where(Person.email == OWNER)).one()
        wang.notify_via, wang.dingtalk_userid = NotifyVia.dingtalk, "wangfang"
        db.add(wang)
        db.commit()
    settings = Settings(data_dir=tmp_path / "mail", base_url="http://testserver", smtp_host="",
                        secret_key=SECRET)
    with serve() as fake:
        fake.dingtalk_users.add("wangfang")
        anyio.run(partial(deliver_round, engine=site.engine, settings=settings,
                          channels=apps(tmp_path, fake), now=NOW))
        (card,) = [c for c in fake.cards if c.userid == "wangfang"]
    assert [title for title, _ in card.buttons] == ["签收督办单", "查看并处理"]
    path = card.buttons[0][1].removeprefix("http://testserver")
    assert path.startswith("/r/") and card.buttons[1][1].startswith("http://testserver/l/")
    phone = site.desk()
    pressed = phone.client.post(path, data={"csrf": csrf_on(phone, path)},
                                follow_redirects=False)
    assert pressed.status_code == 303
    assert [o.id for o in orders(site.engine) if signed_by(site.engine, o.id) == OWNER]


def test_the_api_lists_signs_and_prints_orders_within_the_callers_remit(
        site: Site, engine: sa.Engine):
    with Session(engine) as db:
        tokens = {p.email: issue_token(session=db, person=p, label="t", actor="t", now=NOW)
                  for p in db.exec(select(Person))}
        db.commit()
    client = TestClient(site.app)

    def call(method: str, path: str, who: str) -> httpx.Response:
        return client.request(method, f"/api{path}",
                              headers={"Authorization": f"Bearer {tokens[who]}"})

    mine = call("GET", "/orders", OWNER).json()
    assert {o["number"] for o in mine} == {o.number for o in orders(engine)}
    assert call("GET", "/orders", OTHER_OWNER).json() == []
    first = orders(engine)[0]
    assert call("POST", f"/orders/{first.id}/receipt",
                OTHER_OWNER).status_code == 404
    signed = call("POST", f"/orders/{first.id}/receipt", OWNER)
    assert signed.status_code == 200 and signed.json()["signed_now"] is True
    assert signed.json()["received_by"] == "王芳"
    again = call("POST", f"/orders/{first.id}/receipt", OWNER).json()
    assert again["signed_now"] is False
    pdf = call("GET", f"/orders/{first.id}/pdf", OFFICE)
    assert pdf.content.startswith(b"%PDF")
    assert len(site.events("order.received")) == 1


def test_leader_office_instruct_chase_and_transfer_from_the_item_page(site: Site):
    item = site.world.fire_check
    version = site.milestone(item).version
    leader = site.desk(LEADER)
    assert "instruction" in forms_of(leader, item) and "chase" not in forms_of(leader, item)
    said = leader.post(f"/milestones/{item}/instruction", text="请倒排工期", version=version)
    assert said.status_code == 303
    assert "请倒排工期" in leader.get(f"/milestones/{item}").text
    office = site.desk(OFFICE)
    version = site.milestone(item).version
    assert office.post(f"/milestones/{item}/chase", version=version).status_code == 303
    twice = office.post(f"/milestones/{item}/chase", version=version)  # the same form again
    assert twice.status_code == 409
    assert len(site.events("milestone.chased")) == 1
    owner = site.desk(OWNER)
    assert {"instruction", "chase", "transfer"}.isdisjoint(forms_of(owner, item))
    version = site.milestone(item).version
    moved = office.post(f"/milestones/{item}/transfer", to_unit="demo-jd", reason="职能调整",
                        version=version)
    assert moved.status_code == 303
    with Session(site.engine) as db:
        milestone = db.get(Milestone, item)
        assert milestone is not None
        unit = db.exec(select(Person).where(Person.email == OTHER_OWNER)).one().unit_id
        assert milestone.unit_id == unit
        assert db.exec(select(Event).where(Event.kind == "milestone.transferred")).one()


def forms_of(desk: Desk, item: int) -> set[str]:
    return set(re.findall(r'action="/milestones/\d+/([a-z/]+)"',
                          desk.get(f"/milestones/{item}").text))


def csrf_on(desk: Desk, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', desk.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)
