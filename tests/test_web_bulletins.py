"""The bulletins in the web app as people use them: the office reads both editions, an owner
only the public one and, by default, their own unit's; the files download as stored.

The world's week is 5–11 January 2026: 完成消防验收 (示例区民政局) was claimed on time in
September, 开工建设 (示例区民政局) is claimed late within the week by 王芳, and 建成运营
(示例区示例街道, due 31 December 2025) is overdue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.settings import Settings
from models.rules.bulletin.editions import Edition
from models.rules.bulletin.periods import Period, PeriodKind, period_ending_before
from models.store.actions import claim_done
from models.tables.bulletin_record import BulletinRecord
from models.tables.person import Person
from notifications.bulletin.publish import PDF_TYPE, XLSX_TYPE, generate
from services.runtime import build
from tests.conftest import NOW, snapshot
from tests.test_web_app import LEADER, OFFICE, OTHER_OWNER, OWNER, SECRET, Site
from tests.world import RULES, build_world, give_passwords
from web.app import create_app

WEEK = period_ending_before(PeriodKind.week, date(2026, 1, 12))  # 5–11 January 2026
PLAN_CODE = "demo-2025-2026"
PLAN_NAME = "示例区民政事业发展行动方案"
MZJ, JD = "示例区民政局", "示例区示例街道"
EVIDENCE = "施工许可证已取得，已开工。"


@dataclass
class BulletinSite(Site):
    internal: int = 0
    public: int = 0

    def stored(self, bulletin_id: int) -> BulletinRecord:
        with Session(self.engine) as db:
            row = db.get(BulletinRecord, bulletin_id)
            assert row is not None
            return row


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), RULES.zone)


def issue(session: Session, edition: Edition, plan: str | None = PLAN_CODE,
          period: Period = WEEK) -> int:
    settings = Settings(base_url="http://testserver", smtp_host="")
    row, _ = generate(session=session, rules=RULES, settings=settings, plan=plan,
                      period=period, edition=edition, actor="zhou.min@duban.example", now=NOW)
    session.commit()
    assert row.id is not None
    return row.id



@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[BulletinSite]:
    world = build_world(session)
    give_passwords(session, password_hash)
    owner = session.exec(select(Person).where(Person.email == OWNER)).one()
    claim_done(session=session, rules=RULES, milestone_id=world.fire_check, evidence="已验收",
               actor=OWNER, actor_id=owner.id, now=at(date(2025, 9, 26)))
    claim_done(session=session, rules=RULES, milestone_id=world.construction,
               evidence=EVIDENCE, actor=OWNER, actor_id=owner.id, now=at(date(2026, 1, 7)))
    session.commit()
    internal, public = issue(session, Edition.internal), issue(session, Edition.public)
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES, secret=SECRET, clock=lambda: NOW))
    with TestClient(app) as client:
        yield BulletinSite(client, engine, world, internal, public)


def bulletin_links(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/bulletins/(\d+)">', page)]


def plain(page: str) -> str:
    """The page's text as a person reads it: tags dropped (inline spans run on without a
    space), white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"</?span\b[^>]*>", "", page)).split())


def download_name(answer: object) -> str:
    disposition = answer.headers["content-disposition"]  # type: ignore[attr-defined]
    assert disposition.startswith("attachment;")
    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


# ── the list ────────────────────────────────────────────────────────────────────────────────

def test_the_office_lists_both_editions_newest_period_first_and_filters_by_plan(
        site: BulletinSite, session: Session) -> None:
    week_before = period_ending_before(PeriodKind.week, date(2026, 1, 5))
    older = issue(session, Edition.internal, plan=None, period=week_before)
    site.login(OFFICE)
    page = site.client.get("/bulletins")
    assert page.status_code == 200
    assert bulletin_links(page.text) == [site.internal, site.public, older]
    text = plain(page.text)
    assert f"{PLAN_NAME} 内部版 2026-01-05 至 2026-01-11 周报 2026-11-23 09:00" in text
    assert f"{PLAN_NAME} 公开版 2026-01-05 至 2026-01-11 周报" in text
    assert "全部规划 内部版 2025-12-29 至 2026-01-04 周报" in text
    by_plan = site.client.get(f"/bulletins?plan={PLAN_CODE}")
    assert bulletin_links(by_plan.text) == [site.internal, site.public]
    assert bulletin_links(site.client.get("/bulletins?plan=*").text) == [older]


def test_an_unknown_plan_is_named_and_lists_nothing(site: BulletinSite) -> None:
    site.login(OFFICE)
    page = site.client.get("/bulletins?plan=nowhere")
    assert page.status_code == 400 and "没有代码为“nowhere”的规划" in page.text
    assert bulletin_links(page.text) == []


def test_nobody_signed_in_is_sent_to_sign_in(site: BulletinSite) -> None:
    for path in ("/bulletins", f"/bulletins/{site.public}", f"/bulletins/{site.public}/chart.png",
                 f"/bulletins/{site.public}/workbook.xlsx",
                 f"/bulletins/{site.public}/bulletin.pdf"):
        answer = site.client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path


# ── who reads which edition ─────────────────────────────────────────────────────────────────

def test_the_office_and_leaders_open_both_editions_and_only_the_internal_names_people(
        site: BulletinSite) -> None:
    for reader in (OFFICE, LEADER):
        site.login(reader)
        internal = site.client.get(f"/bulletins/{site.internal}")
        assert internal.status_code == 200
        assert "申报人：王芳" in internal.text and EVIDENCE in internal.text
        public = site.client.get(f"/bulletins/{site.public}")
        assert public.status_code == 200 and "督办晾晒通报·公开版" in public.text
        assert "王芳" not in public.text and EVIDENCE not in public.text
        assert "本单位：" not in public.text  # the whole bulletin, not a unit's


def test_an_owner_sees_only_the_public_edition_and_is_refused_the_internal_one_and_its_files(
        site: BulletinSite) -> None:
    site.login(OWNER)
    assert bulletin_links(site.client.get("/bulletins").text) == [site.public]
    before = snapshot(site.engine)
    for file in ("", "/chart.png", "/workbook.xlsx", "/bulletin.pdf"):
        refused = site.client.get(f"/bulletins/{site.internal}{file}")
        assert refused.status_code == 403 and "内部版通报仅供督查室" in refused.text, file
        assert EVIDENCE not in refused.text
    assert snapshot(site.engine) == before
    stored = site.stored(site.public)
    assert site.client.get(f"/bulletins/{site.public}/workbook.xlsx").content == stored.xlsx
    assert site.client.get(f"/bulletins/{site.public}/bulletin.pdf").content == stored.pdf


def test_an_owner_sees_their_own_units_bulletin_with_a_link_to_the_whole(
        site: BulletinSite) -> None:
    site.login(OWNER)
    own = site.client.get(f"/bulletins/{site.public}")
    assert own.status_code == 200
    assert f"本单位：{MZJ}，第1名" in own.text
    assert "开工建设" in own.text and "建成运营" not in own.text  # its items, not 街道's
    assert f"{JD}" in plain(own.text).split("三、各单位排名")[1]  # the whole ranking
    assert f'href="/bulletins/{site.public}?unit=*"' in own.text
    whole = site.client.get(f"/bulletins/{site.public}?unit=*")
    assert "本单位：" not in whole.text
    assert "开工建设" in whole.text and "建成运营" in whole.text
    site.login(OTHER_OWNER)
    theirs = site.client.get(f"/bulletins/{site.public}")
    assert f"本单位：{JD}，第2名" in theirs.text
    assert "建成运营" in theirs.text and "开工建设" not in theirs.text


def test_the_office_opens_a_units_own_bulletin_and_an_unknown_unit_is_named(
        site: BulletinSite) -> None:
    site.login(OFFICE)
    unit = site.client.get(f"/bulletins/{site.internal}?unit=demo-jd")
    assert unit.status_code == 200 and f"本单位：{JD}，第2名" in unit.text
    assert "开工建设" not in unit.text
    unknown = site.client.get(f"/bulletins/{site.internal}?unit=nowhere")
    assert unknown.status_code == 404 and "本通报中没有代码为“nowhere”的单位" in unknown.text


def test_an_unknown_bulletin_is_not_found(site: BulletinSite) -> None:
    site.login(OFFICE)
    for file in ("", "/chart.png", "/workbook.xlsx", "/bulletin.pdf"):
        missing = site.client.get(f"/bulletins/999999{file}")
        assert missing.status_code == 404 and "没有编号为 999999 的通报" in missing.text, file


# ── what the page shows ─────────────────────────────────────────────────────────────────────

def test_the_page_shows_the_headline_figures_and_the_ranking(site: BulletinSite) -> None:
    site.login(OFFICE)
    page = site.client.get(f"/bulletins/{site.internal}").text
    text = plain(page)
    assert f"{PLAN_NAME} 督办晾晒通报（2026年第2周，1月5日—1月11日）" in text
    for figure in ("应完成 3 项 较上期持平", "已完成 2 项 较上期 +1", "按期完成 1 项 较上期持平",
                   "按期完成率 33.3%", "逾期 1 项 较上期 −1", "本期完成 1 项 较上期 +1"):
        assert figure in text, figure
    ranking = text.split("三、各单位排名（共2个单位）")[1].split("排名规则")[0]
    assert ranking.index(f"1 — {MZJ} 2 1 50.0% 0 1") < ranking.index(f"2 — {JD} 1 0 0.0% 1 0")
    # 50.0% is not doing well: nobody on the 红榜, and the page says what it takes.
    assert ("红榜 入榜条件：按期完成率不低于90.0%且无逾期事项，至多3个单位"
            f"（不超过参加排名单位的一半）。 本期无 黑榜 第2名 {JD} 0.0%") in text
    assert f'src="/bulletins/{site.internal}/chart.png"' in page
    assert "cid:" not in page
    assert f'href="/bulletins/{site.internal}/workbook.xlsx">工作簿（XLSX）' in page
    assert f'href="/bulletins/{site.internal}/bulletin.pdf">PDF' in page


# ── the files ───────────────────────────────────────────────────────────────────────────────

def test_the_workbook_and_the_pdf_download_as_stored_under_the_bulletins_title(
        site: BulletinSite) -> None:
    site.login(OFFICE)
    stored = site.stored(site.internal)
    for file, content_type, data, suffix in (("workbook.xlsx", XLSX_TYPE, stored.xlsx, ".xlsx"),
                                             ("bulletin.pdf", PDF_TYPE, stored.pdf, ".pdf")):
        got = site.client.get(f"/bulletins/{site.internal}/{file}")
        assert got.status_code == 200 and got.content == data and data
        assert got.headers["content-type"] == content_type
        assert got.headers["x-content-type-options"] == "nosniff"
        assert download_name(got) == stored.subject + suffix
        assert "督办晾晒通报" in download_name(got)


def test_the_chart_is_the_stored_png(site: BulletinSite) -> None:
    site.login(OWNER)
    got = site.client.get(f"/bulletins/{site.public}/chart.png")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert got.content == site.stored(site.public).chart_png
