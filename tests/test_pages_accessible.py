"""The main pages pass axe-core (bundled in axe-playwright-python, run in Debian's Chromium) with
no serious or critical violation, on a phone and at a desk, and the office reaches its
decisions by keyboard. Each page is also saved as a screenshot under /tmp to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Route, expect
from sqlmodel import Session

from flows.sweep import run_sweep
from models.store import actions
from models.store.database import writer
from services.milestone_actions import take
from services.runtime import system_clock
from tests.browser import (  # noqa: F401 (chromium … page_opener: fixtures)
    DAY,
    DESK,
    PHONE,
    LiveSite,
    chromium,
    live_site,
    page_opener,
)
from tests.conftest import PASSWORD
from tests.world import RULES

OWNER, OFFICE, LEADER = ("wang.fang@duban.example", "zhou.min@duban.example",
                         "zhao@duban.example")
OpenPage = Callable[[dict[str, int]], Page]
BLOCKING = ("serious", "critical")
AXE = Axe()


def prepare(site: LiveSite) -> None:
    """A day's work on the small world: swept, one item claimed with evidence, one put off."""
    now = RULES.as_of(DAY)
    for day in (date(2025, 9, 22), date(2025, 10, 8), DAY):  # a history for the overview
        run_sweep(engine=site.engine, rules=RULES, clock=system_clock, now=RULES.as_of(day))
    owner = site.person(OWNER)
    with Session(writer(site.engine)) as db:
        common = {"session": db, "settings": site.settings, "rules": RULES, "now": now}
        take(actions.claim_done, milestone_id=site.world.construction, actor=OWNER,
             actor_id=owner.id, evidence="开工令已签发，施工单位已进场。", **common)
        take(actions.report_progress, milestone_id=site.world.fire_check, actor=OWNER,
             actor_id=owner.id, percent=40.0, note="消防设施安装中", **common)
        take(actions.request_extension, milestone_id=site.world.fire_check, actor=OWNER,
             actor_id=owner.id, proposed=date(2025, 12, 31), reason="设备到货延迟", **common)
        take(actions.decide_extension, milestone_id=site.world.fire_check, actor=OFFICE,
             actor_id=site.person(OFFICE).id, approved=True, reason=None, new_due_on=None,
             **common)
        db.commit()


def guarded(site: LiveSite, open_page: OpenPage, viewport: dict[str, int],
            outside: list[str]) -> Page:
    """A page whose every request to another host is refused and noted in ``outside``."""
    page = open_page(viewport)
    ours = urlsplit(site.url).netloc

    def refuse_outside(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", refuse_outside)
    return page


def signed_in(site: LiveSite, open_page: OpenPage, viewport: dict[str, int],
              email: str, outside: list[str]) -> Page:
    page = guarded(site, open_page, viewport, outside)
    page.goto(f"{site.url}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{site.url}/todo")  # where everyone lands: 待办
    return page


def blocking(page: Page) -> list[str]:
    """The serious and critical axe violations on the page, each with where it is."""
    found = AXE.run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in found if v["impact"] in BLOCKING]


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_the_main_pages_have_no_serious_accessibility_violations(
        site: LiveSite, open_page: OpenPage, viewport: dict[str, int]) -> None:
    prepare(site)
    project = f"/projects/{project_id(site)}"
    visits = [(None, "/login", "sign-in"), (OFFICE, "/todo", "todo"), (OFFICE, "/", "list"),
              (OFFICE, f"/milestones/{site.world.construction}", "item-claimed"),
              (OFFICE, f"/milestones/{site.world.fire_check}", "item-extended"),
              (OFFICE, project, "project"), (LEADER, "/overview", "overview"),
              (OFFICE, "/bulletins", "bulletins"), (OFFICE, "/people", "people")]
    pages: dict[str | None, Page] = {}
    problems, outside = {}, []
    for who, path, name in visits:
        if who not in pages:
            pages[who] = (guarded(site, open_page, viewport, outside) if who is None
                          else signed_in(site, open_page, viewport, who, outside))
        page = pages[who]
        page.goto(f"{site.url}{path}")
        expect(page.get_by_role("main")).to_be_visible()
        page.screenshot(path=f"/tmp/duban-{name}-{viewport['width']}.png", full_page=True)
        if found := blocking(page):
            problems[path] = found
    assert problems == {}
    assert outside == []


def test_the_office_reaches_the_evidence_and_the_decision_by_keyboard(
        site: LiveSite, open_page: OpenPage) -> None:
    prepare(site)
    page = signed_in(site, open_page, DESK, OFFICE, [])
    page.goto(f"{site.url}/milestones/{site.world.construction}")
    for _ in range(40):  # every link and field before it, in reading order
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "销号":
            break
    else:
        raise AssertionError("the 销号 button is not reachable by Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("已销号。")


def project_id(site: LiveSite) -> int:
    from models.tables.milestone import Milestone
    with Session(site.engine) as db:
        milestone = db.get(Milestone, site.world.construction)
        assert milestone is not None
        return milestone.project_id
