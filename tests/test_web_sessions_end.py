"""A session ends when its person signs out, gets a new password or is deactivated: a copy of
the cookie saved before no longer signs anyone in (issue 15, item 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import PASSWORD, Duban
from tests.test_web_app import OFFICE, OWNER, Site, open_site

COOKIE = "duban_session"
NEW_PASSWORD = "换了新密码-2026-秋"


@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[Site]:
    with open_site(engine, session, password_hash, tmp_path) as opened:
        yield opened


def browser(site: Site, email: str, password: str = PASSWORD) -> TestClient:
    """Another browser of the same app, signed in as `email`."""
    client = TestClient(site.client.app)
    token = csrf(client, "/login")
    signed = client.post("/login", data={"email": email, "password": password, "csrf": token},
                         follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/todo"
    return client


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def signs_in(site: Site, cookie: str) -> bool:
    """Whether a browser holding only this saved cookie sees the item list."""
    replay = TestClient(site.client.app, cookies={COOKIE: cookie})
    return replay.get("/", follow_redirects=False).status_code == 200


def saved_cookie(client: TestClient) -> str:
    cookie = client.cookies.get(COOKIE)
    assert cookie
    return cookie


def office_posts(site: Site, path: str, **data: str) -> int:
    office = browser(site, OFFICE)
    answer = office.post(path, data={"csrf": csrf(office, "/people")} | data,
                         follow_redirects=False)
    return answer.status_code


def test_a_cookie_saved_before_logout_is_refused_after_it(site: Site) -> None:
    owner = browser(site, OWNER)
    saved = saved_cookie(owner)
    assert signs_in(site, saved)
    out = owner.post("/logout", data={"csrf": csrf(owner, "/")}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert not signs_in(site, saved)
    assert owner.get("/", follow_redirects=False).headers["location"] == "/login"


def test_signing_out_in_one_browser_signs_the_person_out_in_every_browser(site: Site) -> None:
    phone, desk = browser(site, OWNER), browser(site, OWNER)
    phone.post("/logout", data={"csrf": csrf(phone, "/")})
    assert desk.get("/", follow_redirects=False).headers["location"] == "/login"
    assert browser(site, OWNER).get("/").status_code == 200  # signing in again works


def test_a_cookie_saved_before_the_office_sets_a_new_password_is_refused_after(
        site: Site) -> None:
    saved = saved_cookie(browser(site, OWNER))
    owner_id = site.person(OWNER).id
    assert office_posts(site, f"/people/{owner_id}/password", password=NEW_PASSWORD,
                        confirm=NEW_PASSWORD) == 303
    assert not signs_in(site, saved)
    assert signs_in(site, saved_cookie(browser(site, OWNER, NEW_PASSWORD)))


def test_a_clerk_who_sets_their_own_password_stays_signed_in_in_that_browser(
        site: Site) -> None:
    office, elsewhere = browser(site, OFFICE), browser(site, OFFICE)
    office_id = site.person(OFFICE).id
    office.post(f"/people/{office_id}/password", data={
        "csrf": csrf(office, "/people"), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert office.get("/people").status_code == 200
    assert elsewhere.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_cookie_saved_before_deactivation_is_refused_after_it_and_after_reactivation(
        site: Site) -> None:
    saved = saved_cookie(browser(site, OWNER))
    owner_id = site.person(OWNER).id
    assert office_posts(site, f"/people/{owner_id}/deactivate", reason="调离") == 303
    assert not signs_in(site, saved)
    assert office_posts(site, f"/people/{owner_id}/reactivate", reason="返岗") == 303
    assert not signs_in(site, saved)


def test_a_cookie_saved_before_duban_people_password_is_refused_after_it(
        site: Site, duban: Duban) -> None:
    saved = saved_cookie(browser(site, OWNER))
    assert duban("people", "password", OWNER, "--password", NEW_PASSWORD).exit_code == 0
    assert not signs_in(site, saved)
