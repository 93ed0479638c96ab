"""The API's documentation works on a network without the internet: every asset its pages name
is served by the app itself, and the document describes the API in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from playwright.sync_api import Route, expect

from config.settings import Settings
from services.runtime import build
from tests.browser import DESK, LiveSite, chromium, live_site, page_opener  # noqa: F401
from tests.conftest import NOW
from tests.test_browser import OpenPage
from tests.world import RULES
from web.app import create_app

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def client(engine: sa.Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES,
                           secret="duban-docs-test-secret-0123456789abcdef", clock=lambda: NOW))
    with TestClient(app) as opened:
        yield opened


def referenced(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_the_docs_pages_load_every_asset_from_the_app_itself(client: TestClient,
                                                              page: str) -> None:
    answer = client.get(page)
    assert answer.status_code == 200 and 'lang="zh-CN"' in answer.text
    assert "<script>" not in answer.text  # the policy forbids inline script
    assets = referenced(answer.text)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        url = urljoin(f"http://testserver{page}", asset)
        assert urlsplit(url).netloc == "testserver", f"{asset} is not served by the app"
        fetched = client.get(url)
        assert fetched.status_code == 200 and fetched.content, asset
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "http" not in policy


def test_swagger_ui_is_started_by_a_served_script_that_names_the_document(
        client: TestClient) -> None:
    script = client.get("/api/docs/start.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"/api/openapi.json"' in script.text and "validatorUrl: null" in script.text
    # Everything else keeps the strict policy: no script at all.
    assert "script-src 'none'" in client.get("/login").headers["content-security-policy"]


def test_the_api_describes_itself_in_chinese(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    assert HAN.search(document["info"]["description"])
    assert all(HAN.search(tag["description"]) for tag in document["tags"])
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert HAN.search(operation["summary"]), (method, path)
            assert HAN.search(operation["description"]), (method, path)
    for code, answer in document["paths"]["/milestones/{milestone_id}/close"]["post"][
            "responses"].items():
        assert HAN.search(answer["description"]), code


def test_swagger_ui_shows_the_api_in_a_browser_with_nothing_from_elsewhere(
        site: LiveSite, open_page: OpenPage) -> None:
    page = open_page(DESK)
    outside: list[str] = []

    def refuse_outside(route: Route) -> None:
        """What the page would fetch from elsewhere (the policy stops most before this)."""
        if urlsplit(route.request.url).netloc == urlsplit(site.url).netloc:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", refuse_outside)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.url}/api/docs")
    expect(page.get_by_text("申报完成").first).to_be_visible()
    expect(page.locator(".info")).to_contain_text("个人令牌")
    page.screenshot(path="/tmp/duban-api-docs.png", full_page=False)
    page.goto(f"{site.url}/api/redoc")
    expect(page.get_by_role("heading", name="销号")).to_be_visible()
    expect(page.get_by_role("menuitem", name="督办事项")).to_be_visible()
    page.screenshot(path="/tmp/duban-api-redoc.png", full_page=False)
    assert outside == []
    # Only ReDoc's "by Redocly" logo, an image on redoc.ly, which the policy blocks.
    assert [e for e in errors if "redoc.ly" not in e] == []
