"""What people do, in a real browser: an owner acts from the escalation email on a phone, the
office closes the item at a desk, and `duban run` serves the pages. See tests/browser.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from flows.sweep import run_sweep
from models.store import actions
from models.store.database import writer
from models.tables.event import Event
from models.tables.milestone import Milestone
from services.milestone_actions import take
from services.runtime import system_clock
from tests.browser import (  # noqa: F401 (chromium … page_opener: fixtures)
    DAY,
    DESK,
    PHONE,
    LiveSite,
    chromium,
    item_link,
    live_site,
    page_opener,
)
from tests.conftest import PASSWORD
from tests.smtp_server import free_port
from tests.world import RULES

OWNER, OFFICE = "wang.fang@duban.example", "zhou.min@duban.example"
EVIDENCE = "开工令已于10月20日签发，施工单位已进场。"
REPO = Path(__file__).resolve().parent.parent
OpenPage = Callable[[dict[str, int]], Page]


def events(site: LiveSite, kind: str) -> list[Event]:
    with Session(site.engine) as db:
        return list(db.exec(select(Event).where(Event.kind == kind)))


def test_an_owner_claims_an_overdue_item_from_the_email_on_a_phone(
        site: LiveSite, open_page: OpenPage, tmp_path: Path) -> None:
    run_sweep(engine=site.engine, rules=RULES, clock=system_clock, now=RULES.as_of(DAY))
    assert site.deliver()["sent"] > 0
    mail = site.mail(OWNER, "督办")
    link = item_link(mail, "开工建设")
    assert link.startswith(f"{site.url}/l/")

    phone = open_page(PHONE)
    phone.goto(link)  # what a mail scanner fetches too: a page with a button, nothing used up
    phone.screenshot(path=tmp_path / "link-page.png", full_page=True)
    phone.get_by_role("button", name="登录并打开").click()
    expect(phone.get_by_role("heading", name="开工建设")).to_be_visible()
    main = phone.get_by_role("main")
    expect(main).to_contain_text("红灯")
    expect(main).to_contain_text("2025-09-30")
    expect(main).to_contain_text("三级 领导督办")  # 10 workdays late: the leader is told too
    phone.get_by_label("完成情况说明（佐证）").fill(EVIDENCE)
    phone.get_by_role("button", name="申报完成").click()
    expect(main).to_contain_text("已申报完成")
    expect(main).to_contain_text("蓝灯 待核实")  # a claim stops the chasing; the office checks it
    expect(main).to_contain_text(EVIDENCE)  # in the history
    phone.screenshot(path=tmp_path / "owner-claimed.png", full_page=True)

    [claim] = events(site, "milestone.done_claimed")
    assert (claim.milestone_id, claim.actor_id) == (site.world.construction,
                                                    site.person(OWNER).id)
    assert claim.data["evidence"] == EVIDENCE

    forwarded = open_page(PHONE)  # the same link, in anyone else's browser
    forwarded.goto(link)
    expect(forwarded.get_by_role("main")).to_contain_text("链接已使用")
    forwarded.screenshot(path=tmp_path / "link-used.png", full_page=True)


def test_the_office_signs_in_and_closes_a_claimed_item(site: LiveSite, open_page: OpenPage,
                                                       tmp_path: Path) -> None:
    item = site.world.construction
    with Session(writer(site.engine)) as acting:
        take(actions.claim_done, session=acting, settings=site.settings, rules=RULES,
             milestone_id=item, evidence=EVIDENCE, actor=OWNER, actor_id=site.person(OWNER).id,
             now=RULES.as_of(DAY))
        acting.commit()

    desk = open_page(DESK)
    desk.goto(f"{site.url}/login")
    desk.get_by_label("邮箱").fill(OFFICE)
    desk.get_by_label("密码").fill(PASSWORD)
    desk.get_by_role("button", name="登录").click()
    expect(desk).to_have_url(f"{site.url}/todo")
    desk.goto(f"{site.url}/?state=claimed")  # the claims waiting for the office
    desk.get_by_role("link", name="开工建设").click()
    main = desk.get_by_role("main")
    expect(main).to_contain_text(EVIDENCE)
    desk.get_by_label("意见（可选）").fill("佐证齐全，同意销号。")
    desk.get_by_role("button", name="销号").click()
    expect(main).to_contain_text("已销号")
    expect(main).to_contain_text("绿灯")
    desk.screenshot(path=tmp_path / "office-closed.png", full_page=True)

    [closed] = events(site, "milestone.closed")
    assert (closed.actor_id, closed.reason) == (site.person(OFFICE).id, "佐证齐全，同意销号。")
    with Session(site.engine) as db:
        assert db.get(Milestone, item).state == "closed"  # type: ignore[union-attr]
    site.deliver()
    confirmation = site.mail(OWNER, "事项已销号")
    assert "开工建设" in confirmation["Subject"]
    assert item_link(confirmation, "开工建设").startswith(f"{site.url}/l/")


def test_the_office_opening_an_owners_link_is_asked_before_the_browser_switches(
        site: LiveSite, open_page: OpenPage, tmp_path: Path) -> None:
    run_sweep(engine=site.engine, rules=RULES, clock=system_clock, now=RULES.as_of(DAY))
    site.deliver()
    link = item_link(site.mail(OWNER, "督办"), "开工建设")
    desk = open_page(DESK)  # the owner forwarded her email to the office clerk
    desk.goto(f"{site.url}/login")
    desk.get_by_label("邮箱").fill(OFFICE)
    desk.get_by_label("密码").fill(PASSWORD)
    desk.get_by_role("button", name="登录").click()
    desk.goto(link)
    main = desk.get_by_role("main")
    expect(main).to_contain_text("您当前以周敏登录，此链接属于王芳")
    desk.screenshot(path=tmp_path / "link-switch.png", full_page=True)
    desk.get_by_role("link", name="留在周敏").click()
    expect(desk.get_by_role("heading", name="开工建设")).to_be_visible()
    expect(desk.get_by_role("banner")).to_contain_text("周敏")
    expect(main).to_contain_text("豁免")  # the office's own forms: still the office
    desk.goto(link)  # left unused for her: asked again, and this time switched
    desk.get_by_role("button", name="切换为王芳").click()
    expect(desk.get_by_role("banner")).to_contain_text("王芳")
    expect(main).to_contain_text("申报完成")


def test_duban_run_serves_the_web_app_and_stops_on_sigterm(open_page: OpenPage,
                                                          tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env |= {"DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_CONFIG": str(tmp_path / "no.toml"),
            "DUBAN_WEB_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        service = subprocess.Popen([sys.executable, "-m", "cli.main", "run"], cwd=REPO, env=env,
                                   stdout=stdout, stderr=stderr)
    try:
        assert _answers(f"http://127.0.0.1:{port}/login", service, within=90), err.read_text()
        page = open_page(PHONE)
        page.goto(f"http://127.0.0.1:{port}/login")
        expect(page.get_by_role("heading", name="登录")).to_be_visible()
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0, err.read_text()
    finally:
        service.kill()
        service.wait(timeout=10)
    printed = out.read_text()
    assert f"督办网页：http://127.0.0.1:{port}/" in printed and "调度器已停止" in printed


def _answers(url: str, process: subprocess.Popen[bytes], *, within: float) -> bool:
    """Whether `url` answers 200 before `within` seconds pass or the process ends."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except (URLError, ConnectionError):
            time.sleep(0.2)  # not listening yet: the service is still initialising
    return False
