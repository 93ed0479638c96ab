"""A real browser on the real app: Debian's Chromium driven by Playwright, the web app served by
uvicorn on loopback (as `duban run` serves it), mail through a real SMTP server (aiosmtpd).

Nothing is downloaded: Playwright drives the system's /usr/bin/chromium (scripts/test installs
it on CI). Where it is missing the browser tests are skipped, except on CI, where that fails.
Every wait is bounded: actions and expectations give up after TIMEOUT_MS.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import Session, select

from cli.web import served
from config.channels import Channels, load_channels
from config.secret import secret_key
from config.settings import Settings
from models.tables.person import Person
from notifications.outbox import deliver_round
from services.runtime import build
from tests.smtp_server import SmtpServer, free_port
from tests.world import RULES, World, build_world, give_passwords
from web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
TIMEOUT_MS = 10_000
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}
DAY = date(2025, 10, 21)  # both 2025-09-30 items of 示例区民政局 are overdue


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per module; each person gets a fresh context (cookies) of it."""
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is not installed (scripts/test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS, timeout=30_000)
        yield browser
        browser.close()


@pytest.fixture(name="open_page")
def page_opener(chromium: Browser) -> Iterator[Callable[[dict[str, int]], Page]]:
    """A page in a new browser context (a person's own browser) of the given viewport size."""
    contexts = []

    def new_page(viewport: dict[str, int]) -> Page:
        context = chromium.new_context(viewport=viewport, locale="zh-CN",  # type: ignore[arg-type]
                                       timezone_id="Asia/Shanghai")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()



@dataclass
class LiveSite:
    """The app at `url` on a real database, its mail going to `smtp`."""

    url: str
    engine: sa.Engine
    world: World
    settings: Settings
    channels: Channels
    smtp: SmtpServer

    def person(self, email: str) -> Person:
        with Session(self.engine) as db:
            return db.exec(select(Person).where(Person.email == email)).one()

    def deliver(self) -> dict[str, int]:
        """Compose and send what is due, as the scheduler's delivery job does. On its own
        event loop in a worker thread: Playwright's sync API holds this thread's loop."""
        with ThreadPoolExecutor(1) as worker:
            return worker.submit(asyncio.run, deliver_round(
                engine=self.engine, settings=self.settings, channels=self.channels,
                now=RULES.as_of(DAY))).result(timeout=60)

    def mail(self, address: str, subject: str) -> EmailMessage:
        """The one email received for `address` whose subject contains `subject`."""
        [found] = [m for m in self.smtp.mailbox.received
                   if m["To"].addresses[0].addr_spec == address and subject in m["Subject"]]
        return found


def item_link(mail: EmailMessage, title: str) -> str:
    """The link an email gives for the item titled `title`, from its HTML part."""
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    found = re.search(rf">{re.escape(title)}</div>.*?href=\"([^\"]+)\"", html, re.S)
    assert found, f"no link for {title} in the email"
    return found.group(1)


@pytest.fixture(name="site")
def live_site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[LiveSite]:
    """The small world, everyone with PASSWORD, the app replaying DAY (DUBAN_AS_OF) on a free
    loopback port; links in its emails point at that port."""
    world = build_world(session)
    give_passwords(session, password_hash)
    session.commit()
    smtp = SmtpServer()
    smtp.start()
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", base_url=f"http://127.0.0.1:{port}",
                        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                        smtp_timeout_seconds=5, as_of=DAY)
    (tmp_path / "channels.yaml").write_text("webhooks: []\n", "utf-8")
    app = create_app(build(settings, engine=engine, rules=RULES, secret=secret_key(settings)))
    try:
        with served(app, host="127.0.0.1", port=port):
            yield LiveSite(f"http://127.0.0.1:{port}", engine, world, settings,
                           load_channels(tmp_path / "channels.yaml"), smtp)
    finally:
        smtp.stop()
