"""Every response carries the security headers: pages, the API, downloads and error pages; HSTS
only when the site is served over https (issue 15, item 5)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from config.settings import Settings
from models.store.api_tokens import MAX_LIFETIME, issue_token
from models.tables.attachment import Attachment
from models.tables.person import Person
from services.runtime import build
from tests.conftest import PASSWORD
from tests.test_web_app import OFFICE, SECRET
from tests.world import NOW, RULES, build_world, give_passwords
from web.app import create_app
from web.headers import CONTENT_SECURITY_POLICY

EXPECTED = {"content-security-policy": CONTENT_SECURITY_POLICY, "x-frame-options": "DENY",
            "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def open_site(engine: sa.Engine, session: Session, password_hash: str, data: Path,
              base_url: str) -> tuple[TestClient, str]:
    """The world with one evidence file, served at `base_url`; a client and the office's
    API token."""
    world = build_world(session)
    give_passwords(session, password_hash)
    (data / "attachments").mkdir(parents=True)
    (data / "attachments" / "k3y").write_bytes(b"%PDF-1.4 evidence")
    session.add(Attachment(milestone_id=world.construction, name="许可证.pdf",
                           content_type="application/pdf", size=17, sha256="0" * 64,
                           stored_as="k3y"))
    office = session.exec(select(Person).where(Person.email == OFFICE)).one()
    token = issue_token(session=session, person=office, label="t", actor="test", now=NOW,
                        expires_in=MAX_LIFETIME)  # the app reads the real clock
    session.commit()
    settings = Settings(data_dir=data, base_url=base_url, smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES, secret=SECRET))
    return TestClient(app, base_url=base_url), token


@pytest.fixture
def http_site(engine: sa.Engine, session: Session, password_hash: str,
              tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    client, token = open_site(engine, session, password_hash, tmp_path / "data",
                              "http://testserver")
    with client:
        yield client, token


def sign_in(client: TestClient) -> None:
    page = client.get("/login").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    client.post("/login", data={"email": OFFICE, "password": PASSWORD,
                                "csrf": found.group(1)}, follow_redirects=False)


def assert_secured(answer: Response, hsts: bool = False) -> None:
    for name, value in EXPECTED.items():
        assert answer.headers.get(name) == value, (answer.url, name, answer.headers)
    assert answer.headers.get_list("x-content-type-options") == ["nosniff"]  # not twice
    assert ("strict-transport-security" in answer.headers) is hsts, answer.url


def test_pages_the_api_downloads_and_error_pages_carry_the_security_headers(
        http_site: tuple[TestClient, str]) -> None:
    client, token = http_site
    assert_secured(client.get("/login"))
    assert_secured(client.get("/", follow_redirects=False))  # the redirect to /login
    sign_in(client)
    list_page = client.get("/")
    assert list_page.status_code == 200 and "<form" in list_page.text
    assert_secured(list_page)
    download = client.get("/attachments/k3y")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert_secured(download)
    missing = client.get("/milestones/999999")
    assert missing.status_code == 404
    assert_secured(missing)
    assert_secured(client.get("/no-such-page"))
    api = client.get("/api/plans", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert_secured(api)
    assert_secured(client.get("/api/plans"))  # 401


def test_hsts_only_when_the_base_url_is_https(engine: sa.Engine, session: Session,
                                             password_hash: str, tmp_path: Path) -> None:
    client, _ = open_site(engine, session, password_hash, tmp_path / "data",
                          "https://duban.example")
    with client:
        answer = client.get("/login")
    assert_secured(answer, hsts=True)
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_an_unexpected_fault_answers_a_chinese_page_with_the_security_headers(
        http_site: tuple[TestClient, str]) -> None:
    client, _ = http_site

    def fault() -> None:
        raise RuntimeError("a fault no route handles")

    client.app.add_api_route("/fault", fault)  # type: ignore[attr-defined]
    unsafe = TestClient(client.app, raise_server_exceptions=False)
    answer = unsafe.get("/fault")
    assert answer.status_code == 500 and "服务器出错" in answer.text
    assert "a fault" not in answer.text  # nothing of the exception reaches the browser
    assert_secured(answer)
