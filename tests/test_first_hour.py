"""A newcomer's first hour: `duban init` makes the first office account and prints a link that
signs it in once; `duban demo` adds marked demo people whose digests land in data/outbox."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cli import context
from models.store.first_hour import DEMO_MARK, FIRST_OFFICE_EMAIL
from models.tables.person import Person, Role
from tests.conftest import Duban
from tests.test_web_app import follow_link
from web.app import create_app

LINK = re.compile(r"http://127\.0\.0\.1:8000(/l/[\w.\-]+)")


def sign_in_link(output: str) -> str:
    found = LINK.search(output)
    assert found, output
    return found.group(1)


def test_init_prints_a_link_that_signs_the_first_office_account_in_once(
        duban: Duban, database_url: str) -> None:
    first = duban("init")
    assert first.exit_code == 0, first.output
    assert FIRST_OFFICE_EMAIL in first.output and "一次有效" in first.output
    link = sign_in_link(first.output)
    app = create_app(context.runtime())
    with TestClient(app) as browser, TestClient(app) as forwarded:
        opened = follow_link(browser, link)
        assert opened.status_code == 303 and opened.headers["location"] == "/todo"
        start = browser.get("/")
        assert start.status_code == 200 and "人员" in start.text  # the office's own menu
        again = forwarded.get(link, follow_redirects=False)
        assert again.status_code == 403 and "链接已使用" in again.text
    engine = sa.create_engine(database_url)
    with Session(engine) as db:
        [office] = db.exec(select(Person).where(Person.role == Role.office)).all()
        assert office.email == FIRST_OFFICE_EMAIL
    # Until it has a password, each start offers a fresh link; then none, and no second account.
    assert sign_in_link(duban("init").output) != link
    with Session(engine) as db:
        office = db.exec(select(Person).where(Person.email == FIRST_OFFICE_EMAIL)).one()
        office.password_hash = "set by the office"
        db.add(office)
        db.commit()
    assert "/l/" not in duban("init").output
    with Session(engine) as db:
        assert len(db.exec(select(Person).where(Person.role == Role.office)).all()) == 1
    engine.dispose()


def test_demo_people_are_marked_and_their_digests_land_in_the_outbox_folder(
        duban: Duban, database_url: str, tmp_path: Path) -> None:
    assert duban("init").exit_code == 0
    added = duban("demo")
    assert added.exit_code == 0, added.output
    assert "/l/" in added.output and "example.org" in added.output
    engine = sa.create_engine(database_url)
    with Session(engine) as db:
        demo = db.exec(select(Person).where(Person.name.startswith(DEMO_MARK))).all()
    assert demo and all(p.email.endswith("@example.org") for p in demo)
    assert duban("demo").exit_code == 0  # idempotent: the same people, once
    with Session(engine) as db:
        assert len(db.exec(select(Person).where(Person.name.startswith(DEMO_MARK))).all()) \
            == len(demo)
    engine.dispose()
    assert duban("sweep", "--as-of", "2017-01-16").exit_code == 0
    delivered = duban("outbox", "deliver")
    assert delivered.exit_code == 0, delivered.output
    mails = [message_from_bytes(p.read_bytes())
             for p in (tmp_path / "data" / "outbox").rglob("*.eml")]
    to_demo = [m for m in mails if m["To"] and "@example.org" in m["To"]]
    assert to_demo, [m["To"] for m in mails]
    assert any("督办" in str(make_header(decode_header(m["Subject"]))) for m in to_demo)
