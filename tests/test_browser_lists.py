"""The daily workbench in a real browser (tests/browser.py): an owner goes from 待办 to done with
evidence on a phone and at a desk; the office goes from 待核实 through a bulk 销号 of three
items to the 台账 of the filtered list. Screenshots go to /tmp/duban-lists/ to be looked at."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from flows.sweep import run_sweep
from models.store import actions
from models.store.database import writer
from models.tables.milestone import Milestone
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

OWNER, OTHER_OWNER, OFFICE = ("wang.fang@duban.example", "li.na@duban.example",
                              "zhou.min@duban.example")
SHOTS = Path("/tmp/duban-lists")
OpenPage = Callable[[dict[str, int]], Page]


def sign_in(site: LiveSite, page: Page, email: str) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{site.url}/todo")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.mark.parametrize(("viewport", "device"), [(PHONE, "phone"), (DESK, "desk")])
def test_an_owner_goes_from_the_todo_tab_to_done_with_evidence(
        site: LiveSite, open_page: OpenPage, viewport: dict[str, int], device: str) -> None:
    run_sweep(engine=site.engine, rules=RULES, clock=system_clock, now=RULES.as_of(DAY))
    page = open_page(viewport)
    sign_in(site, page, OWNER)
    tabs = page.get_by_role("list", name="待办栏目")
    expect(tabs.get_by_role("link", name="待办理 2")).to_have_attribute("aria-current", "page")
    expect(tabs).to_contain_text("待签收0")  # no 督办单 waits for this unit's receipt
    main = page.get_by_role("main")
    expect(main).to_contain_text("逾期")
    expect(main).to_contain_text("个工作日")
    shot(page, f"owner-todo-{device}")
    row = page.get_by_role("row").filter(has_text="开工建设")
    row.get_by_role("link", name="办理").click()
    expect(page.get_by_role("heading", name="开工建设")).to_be_visible()
    page.get_by_label("完成情况说明（佐证）").fill("开工令已签发，施工单位已进场。")
    page.get_by_role("button", name="申报完成").click()
    expect(main).to_contain_text("已申报完成")
    page.goto(f"{site.url}/todo")
    expect(tabs.get_by_role("link", name="待办理 1")).to_be_visible()  # one fewer to do
    shot(page, f"owner-todo-after-{device}")


def test_the_office_verifies_three_claims_in_bulk_and_exports_the_ledger(
        site: LiveSite, open_page: OpenPage) -> None:
    run_sweep(engine=site.engine, rules=RULES, clock=system_clock, now=RULES.as_of(DAY))
    world = site.world
    with Session(writer(site.engine)) as acting:
        for item, owner in ((world.construction, OWNER), (world.fire_check, OWNER),
                            (world.neighbourhood, OTHER_OWNER)):
            take(actions.claim_done, session=acting, settings=site.settings, rules=RULES,
                 milestone_id=item, evidence=f"佐证材料 {item}", actor=owner,
                 actor_id=site.person(owner).id, now=RULES.as_of(DAY))
        acting.commit()

    phone = open_page(PHONE)
    sign_in(site, phone, OFFICE)
    expect(phone.get_by_role("main")).to_contain_text("佐证：佐证材料")
    shot(phone, "office-verify-phone")

    desk = open_page(DESK)
    sign_in(site, desk, OFFICE)
    tabs = desk.get_by_role("list", name="待办栏目")
    expect(tabs.get_by_role("link", name="待核实 3")).to_have_attribute("aria-current", "page")
    shot(desk, "office-verify-desk")
    for title in ("开工建设", "完成消防验收", "建成运营"):
        desk.get_by_label(f"选择：{title}").check()
    desk.get_by_label("批量操作（勾选的事项）").select_option("close")
    desk.get_by_label("理由（退回、暂缓、不同意延期必填）").fill("佐证齐全")
    desk.get_by_role("button", name="执行").click()
    expect(desk.get_by_role("heading", name="已批量销号 3 项")).to_be_visible()
    shot(desk, "office-bulk-done")
    desk.goto(f"{site.url}/todo?tab=verify")
    expect(tabs.get_by_role("link", name="待核实 0")).to_be_visible()
    expect(desk.get_by_role("main")).to_contain_text("「待核实」已全部办完")

    desk.goto(f"{site.url}/?state=closed")
    expect(desk.get_by_role("main")).to_contain_text("共 3 项")
    shot(desk, "office-closed-list")
    with desk.expect_download() as download:
        desk.get_by_role("link", name="导出台账（Excel）").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["台账"]
    rows = {sheet.cell(row=r, column=4).value: (sheet.cell(row=r, column=8).value,
                                                sheet.cell(row=r, column=9).fill.fgColor.rgb)
            for r in range(3, sheet.max_row + 1)}
    assert rows == {t: ("已销号", "FF388E3C") for t in ("开工建设", "完成消防验收", "建成运营")}
    assert "状态：closed" in str(sheet["A1"].value)
    with Session(site.engine) as db:
        assert {m.state for m in db.exec(select(Milestone))} == {"closed"}
