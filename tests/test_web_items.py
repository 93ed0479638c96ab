"""A milestone's page as owners and the office use it: progress, extensions, evidence files,
the office's decisions, and the history that records them all."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select

from config.plan_loader import LoadedPlan, parse_plan_text
from config.settings import Settings
from flows.sweep import run_sweep
from models.store.database import writer
from models.store.plan_import import import_plan
from models.tables.attachment import Attachment
from models.tables.event import Event
from models.tables.indicator import Indicator, IndicatorReading, ReadingSource
from models.tables.milestone import Milestone
from models.tables.person import Person
from services.runtime import build, system_clock
from tests.conftest import NOW, snapshot
from tests.test_web_app import OFFICE, OTHER_OWNER, OWNER, PASSWORD, SECRET
from tests.world import PLAN, RULES, World, build_world, give_passwords
from web import attachments
from web.app import create_app
from web.forms import ExtensionForm, IndicatorForm

MAX_BYTES = 64 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(500)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
WITH_INDICATOR = PLAN + """\
indicators:
  - code: "A1"
    name: 养老机构床位数
    measure: 张
    project: "1"
    baseline: {year: 2024, value: 100}
    targets: {2026: 300}
    actuals: {2025: 150}
"""


@dataclass
class Desk:
    """One person's browser on the site."""

    client: TestClient

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, follow_redirects=False)

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get("/").text)
        assert found, "no CSRF field on the list page"
        return found.group(1)

    def post(self, path: str, files: list[Any] | None = None, **data: object) -> httpx.Response:
        return self.client.post(path, data={"csrf": self.csrf()} | data, files=files,
                                follow_redirects=False)


@dataclass
class Site:
    app: Any
    engine: sa.Engine
    world: World
    data_dir: Path

    def desk(self, email: str | None = None) -> Desk:
        client = TestClient(self.app)
        if email is not None:
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
            assert csrf
            signed_in = client.post("/login", data={"email": email, "password": PASSWORD,
                                                    "csrf": csrf.group(1)},
                                    follow_redirects=False)
            assert signed_in.status_code == 303, signed_in.text
        return Desk(client)

    def milestone(self, milestone_id: int) -> Milestone:
        with Session(self.engine) as db:
            return db.exec(select(Milestone).where(Milestone.id == milestone_id)).one()

    def person(self, email: str) -> Person:
        with Session(self.engine) as db:
            return db.exec(select(Person).where(Person.email == email)).one()

    def events(self, kind: str) -> list[Event]:
        with Session(self.engine) as db:
            return list(db.exec(select(Event).where(Event.kind == kind).order_by(Event.id)))

    def attachment_rows(self) -> list[Attachment]:
        with Session(self.engine) as db:
            return list(db.exec(select(Attachment).order_by(Attachment.id)))

    def stored_files(self) -> list[Path]:
        folder = self.data_dir / "attachments"
        return sorted(folder.iterdir()) if folder.exists() else []


def forms(page: str) -> set[str]:
    """The actions a page offers, by where its forms post."""
    return set(re.findall(r'action="/milestones/\d+/([a-z/]+)"', page))



@pytest.fixture(name="site")
def served_site(engine: sa.Engine, session: Session, password_hash: str,
                tmp_path: Path) -> Iterator[Site]:
    world = build_world(session)
    give_passwords(session, password_hash)
    session.commit()
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="",
                        attachment_max_bytes=MAX_BYTES)
    app = create_app(build(settings, engine=engine, rules=RULES, secret=SECRET, clock=lambda: NOW))
    yield Site(app, engine, world, settings.data_dir)


# ── progress and indicator values ───────────────────────────────────────────────────────────

def test_an_owner_reports_progress_and_it_shows_in_history_with_their_name(site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    reported = owner.post(f"/milestones/{item}/progress", percent="40", note="主体结构已完成",
                          version=site.milestone(item).version)
    assert reported.status_code == 303
    [event] = site.events("milestone.progress_reported")
    assert (event.data["percent"], event.reason) == (40.0, "主体结构已完成")
    assert event.actor_id == site.person(OWNER).id
    page = owner.get(f"/milestones/{item}").text
    assert '<p class="flash" role="status">进度已报告。</p>' in page
    assert "<strong>王芳（示例区民政局）</strong> 报告进度：完成 40%" in page
    assert "主体结构已完成" in page and "2026-11-23 09:00" in page  # Asia/Shanghai
    assert 'aria-valuenow="40"' in page  # the bar of the latest progress
    assert "进度已报告" not in owner.get(f"/milestones/{item}").text  # said once

    before = snapshot(site.engine)
    refused = owner.post(f"/milestones/{item}/progress", percent="四十", note="")
    assert refused.status_code == 422 and "完成进度" in refused.text
    too_much = owner.post(f"/milestones/{item}/progress", percent="140")
    assert too_much.status_code == 422 and "0 到 100" in too_much.text
    assert snapshot(site.engine) == before


def test_a_reported_indicator_value_is_kept_when_the_plan_is_imported_again(
        site: Site) -> None:
    def load(text: str) -> None:
        loaded = LoadedPlan("world.yaml", parse_plan_text(text), "")
        with Session(writer(site.engine)) as db:
            import_plan(session=db, loaded=loaded, actor="test", now=NOW)
            db.commit()

    def readings() -> dict[str, IndicatorReading]:
        with Session(site.engine) as db:
            return {r.source: r for r in db.exec(select(IndicatorReading))}

    load(WITH_INDICATOR)
    with Session(site.engine) as db:
        indicator = db.exec(select(Indicator)).one()
    owner, item = site.desk(OWNER), site.world.construction
    page = owner.get(f"/milestones/{item}").text
    assert "报告指标完成值" in page and "养老机构床位数" in page

    before = snapshot(site.engine)
    malformed = owner.post(f"/milestones/{item}/indicator", indicator_id=str(indicator.id),
                           value="2OO")
    assert malformed.status_code == 422 and "指标值" in malformed.text
    assert snapshot(site.engine) == before

    assert owner.post(f"/milestones/{item}/indicator", indicator_id=str(indicator.id),
                      value="220").status_code == 303
    [event] = site.events("indicator.reported")
    assert event.data["value"] == 220 and event.data["code"] == "A1"
    assert (event.milestone_id, event.indicator_id) == (item, indicator.id)
    assert event.actor_id == site.person(OWNER).id

    load(WITH_INDICATOR.replace("{2025: 150}", "{2025: 160}"))  # the document is corrected
    assert readings()[ReadingSource.plan].value == 160
    reported = readings()[ReadingSource.report]
    assert (reported.value, reported.as_of) == (220, date(2026, 11, 23))
    assert reported.reported_by_id == site.person(OWNER).id
    assert "报告指标「A1 养老机构床位数」截至 2026-11-23 为 220张" in owner.get(
        f"/milestones/{item}").text


# ── extensions ──────────────────────────────────────────────────────────────────────────────

def test_the_office_approves_an_extension_with_another_date_and_the_due_date_moves(
        site: Site) -> None:
    owner, office, item = site.desk(OWNER), site.desk(OFFICE), site.world.construction
    asked = owner.post(f"/milestones/{item}/extension", proposed="2026-12-31",
                       reason="施工许可证审批延后", version=site.milestone(item).version)
    assert asked.status_code == 303
    owner_page = owner.get(f"/milestones/{item}").text
    assert "延期申请（待督查室审批）" in owner_page and "2026-12-31" in owner_page
    assert forms(owner_page) == {"done", "progress"}  # no second request, no decision

    office_page = office.get(f"/milestones/{item}").text
    assert "同意延期" in office_page and "施工许可证审批延后" in office_page
    approved = office.post(f"/milestones/{item}/extension/approve", new_due_on="2027-01-15",
                           reason="同意，但须在春节前完成", version=site.milestone(item).version)
    assert approved.status_code == 303
    assert site.milestone(item).due_on == date(2027, 1, 15)
    [decision] = site.events("milestone.extension_decided")
    assert decision.data["approved"] is True and decision.actor_id == site.person(OFFICE).id
    page = owner.get(f"/milestones/{item}").text
    assert "<dt>截止日期</dt><dd>2027-01-15" in page and "原定 2025-09-30" in page
    assert "<strong>周敏（督查室）</strong> 同意延期，截止日期由 2025-09-30 改为 2027-01-15" in page
    assert "延期申请（待督查室审批）" not in page


def test_the_office_rejects_an_extension_only_with_a_reason(site: Site) -> None:
    owner, office, item = site.desk(OWNER), site.desk(OFFICE), site.world.construction
    owner.post(f"/milestones/{item}/extension", proposed="2026-12-31", reason="资金未到位")
    before = snapshot(site.engine)
    bare = office.post(f"/milestones/{item}/extension/reject", reason=" ")
    assert bare.status_code == 422 and "不同意的理由" in bare.text
    assert snapshot(site.engine) == before

    rejected = office.post(f"/milestones/{item}/extension/reject", reason="资金已于十月下达")
    assert rejected.status_code == 303
    [decision] = site.events("milestone.extension_decided")
    assert decision.data["approved"] is False and decision.reason == "资金已于十月下达"
    assert site.milestone(item).due_on == date(2025, 9, 30)
    page = owner.get(f"/milestones/{item}").text
    assert "<strong>周敏（督查室）</strong> 不同意延期" in page and "资金已于十月下达" in page
    assert "extension" in forms(page)  # the owner may ask again


@pytest.mark.parametrize("proposed", ["2026/13/01", "", "2026-02-30"])
def test_a_malformed_date_is_refused_naming_the_field(site: Site, proposed: str) -> None:
    owner, office, item = site.desk(OWNER), site.desk(OFFICE), site.world.construction
    before = snapshot(site.engine)
    refused = owner.post(f"/milestones/{item}/extension", proposed=proposed, reason="资金未到位")
    assert refused.status_code == 422 and "“建议截止日期”" in refused.text
    snoozed = office.post(f"/milestones/{item}/snooze", until=proposed, reason="等待审批")
    assert snoozed.status_code == 422 and "“暂缓至”" in snoozed.text
    assert snapshot(site.engine) == before


# ── evidence files ──────────────────────────────────────────────────────────────────────────

def test_an_owner_attaches_a_pdf_and_a_png_and_the_office_downloads_them(site: Site) -> None:
    owner, office, item = site.desk(OWNER), site.desk(OFFICE), site.world.construction
    claimed = owner.post(f"/milestones/{item}/done", evidence="已取得施工许可证并开工",
                         version=site.milestone(item).version,
                         files=[("files", ("施工许可证.pdf", PDF, "application/octet-stream")),
                                ("files", ("../../现场照片.png", PNG, "text/plain"))])
    assert claimed.status_code == 303, claimed.text
    [claim] = site.events("milestone.done_claimed")
    rows = site.attachment_rows()
    assert [(r.name, r.content_type, r.size) for r in rows] == [
        ("施工许可证.pdf", "application/pdf", len(PDF)), ("现场照片.png", "image/png", len(PNG))]
    assert all(r.event_id == claim.id and r.uploaded_by_id == claim.actor_id for r in rows)
    assert len(site.stored_files()) == 2

    page = office.get(f"/milestones/{item}").text
    # what a claimed item awaits (and a 批示, which the office may record for a leader)
    assert forms(page) == {"close", "return", "waive", "major", "instruction"}
    assert forms(owner.get(f"/milestones/{item}").text) == set()
    assert f'href="/attachments/{rows[0].stored_as}"' in page and "现场照片.png" in page
    pdf, png = (office.get(f"/attachments/{r.stored_as}") for r in rows)
    assert pdf.status_code == 200 and pdf.content == PDF and png.content == PNG
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        "attachment; filename=\"_____.pdf\"; "
        "filename*=UTF-8''%E6%96%BD%E5%B7%A5%E8%AE%B8%E5%8F%AF%E8%AF%81.pdf")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["cache-control"] == "private"
    assert owner.get(f"/attachments/{rows[1].stored_as}").content == PNG


def test_a_program_renamed_pdf_refuses_the_whole_claim_and_stores_nothing(site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    before = snapshot(site.engine)
    refused = owner.post(f"/milestones/{item}/done", evidence="已开工",
                         files=[("files", ("许可证.pdf", PDF, "application/pdf")),
                                ("files", ("验收报告.pdf", EXE, "application/pdf"))])
    assert refused.status_code == 422
    assert "验收报告.pdf" in refused.text and "类型不被接受" in refused.text
    assert snapshot(site.engine) == before and site.stored_files() == []


def test_too_big_or_too_many_files_are_refused_and_nothing_is_stored(site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    before = snapshot(site.engine)
    big = PDF + bytes(MAX_BYTES)
    too_big = owner.post(f"/milestones/{item}/done", evidence="已开工",
                         files=[("files", ("a.pdf", PDF, "application/pdf")),
                                ("files", ("扫描件.pdf", big, "application/pdf"))])
    assert too_big.status_code == 413
    assert "扫描件.pdf" in too_big.text and "0.0625 MB" in too_big.text
    six = [("files", (f"照片{n}.png", PNG, "image/png")) for n in range(6)]
    too_many = owner.post(f"/milestones/{item}/done", evidence="已开工", files=six)
    assert too_many.status_code == 422 and "最多上传 5 个" in too_many.text
    assert snapshot(site.engine) == before and site.stored_files() == []


def test_a_request_larger_than_five_full_files_is_refused_before_it_is_read(
        site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    before = snapshot(site.engine)
    huge = [("files", (f"扫描件{n}.pdf", PDF + bytes(MAX_BYTES), "application/pdf"))
            for n in range(5)] + [("files", ("附件.pdf", PDF + bytes(1024 * 1024), "x/y"))]
    refused = owner.post(f"/milestones/{item}/done", evidence="已开工", files=huge)
    assert refused.status_code == 413 and "提交的内容过大" in refused.text
    assert snapshot(site.engine) == before and site.stored_files() == []


def test_a_claim_with_only_files_needs_no_note(site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    only_files = owner.post(f"/milestones/{item}/done", evidence="",
                            files=[("files", ("许可证.pdf", PDF, "application/pdf"))])
    assert only_files.status_code == 303
    [claim] = site.events("milestone.done_claimed")
    assert claim.data["evidence"] == "见附件：许可证.pdf"
    assert len(site.attachment_rows()) == 1


def test_a_claim_from_a_browser_with_no_file_chosen_stores_no_file(site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    body = "".join(  # what a browser sends: an empty file input is a part with no name
        f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("csrf", owner.csrf()), ("evidence", "已开工")))
    body += ('--b\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
             "Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n")
    claimed = owner.client.post(f"/milestones/{item}/done", content=body.encode(),
                                headers={"content-type": "multipart/form-data; boundary=b"},
                                follow_redirects=False)
    assert claimed.status_code == 303
    assert site.milestone(item).state == "claimed" and site.attachment_rows() == []


def test_downloads_need_sign_in_and_a_right_to_the_item(site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    owner.post(f"/milestones/{item}/done", evidence="已开工",
               files=[("files", ("许可证.pdf", PDF, "application/pdf"))])
    [row] = site.attachment_rows()
    stranger = site.desk(OTHER_OWNER)  # told, as for a key nobody has, that there is none
    refused, absent = (stranger.get(f"/attachments/{key}") for key in (row.stored_as, "n0ne"))
    assert (refused.status_code, absent.status_code) == (404, 404)
    assert refused.text == absent.text and PDF not in refused.content
    nobody = site.desk().get(f"/attachments/{row.stored_as}")
    assert nobody.status_code == 303 and nobody.headers["location"] == "/login"
    assert owner.get(f"/attachments/{row.id}").status_code == 404  # never by the numeric id


# ── the office ──────────────────────────────────────────────────────────────────────────────

def test_office_decisions_are_recorded_with_who_and_why(site: Site) -> None:
    # the overdue item climbs the ladder
    run_sweep(engine=site.engine, rules=RULES, clock=system_clock, now=NOW)
    office, item = site.desk(OFFICE), site.world.construction
    assert site.milestone(item).level >= 1
    assert forms(office.get(f"/milestones/{item}").text) == {
        "done", "progress", "extension", "acknowledge", "snooze", "waive", "major", "chase",
        "transfer", "instruction"}
    steps = [("acknowledge", {"reason": "已电话督促"}, "milestone.acknowledged",
              "确认督办（三级 领导督办）"),
             ("snooze", {"until": "2026-12-01", "reason": "等待资金下达"}, "milestone.snoozed",
              "暂缓提醒至 2026-12-01"),
             ("major", {"major": "1", "reason": "区领导关注"}, "milestone.marked_major",
              "列为重大事项"),
             ("waive", {"reason": "项目已调整"}, "milestone.waived", "予以豁免"),
             ("reopen", {"reason": "调整方案未获批准"}, "milestone.reopened", "重新打开事项")]
    for action, form, kind, _ in steps:
        done = office.post(f"/milestones/{item}/{action}", version=site.milestone(item).version,
                           **form)
        assert done.status_code == 303, (action, done.text)
        [event] = site.events(kind)
        assert event.actor == OFFICE and event.actor_id == site.person(OFFICE).id
        assert event.reason == form["reason"]
    milestone = site.milestone(item)
    assert milestone.major and milestone.state == "overdue"
    assert milestone.snoozed_until == date(2026, 12, 1)
    page = office.get(f"/milestones/{item}").text
    history = page.split('<h2 id="history-heading">记录</h2>')[1]
    for *_, label in steps:
        assert f"<strong>周敏（督查室）</strong> {label}" in history
    assert "已电话督促" in history and "事项转为「已豁免」" not in history  # said by 予以豁免
    assert "<strong>系统（巡查）</strong> 事项转为「逾期」" in history
    assert "取消重大事项" in page


def test_an_owner_cannot_take_the_offices_decisions(site: Site) -> None:
    owner, item = site.desk(OWNER), site.world.construction
    owner.post(f"/milestones/{item}/extension", proposed="2026-12-31", reason="资金未到位")
    assert forms(owner.get(f"/milestones/{item}").text) == {"done", "progress"}
    before = snapshot(site.engine)
    for action, form in [("acknowledge", {}), ("snooze", {"until": "2026-12-01"}),
                         ("waive", {}), ("reopen", {}), ("major", {"major": "1"}),
                         ("extension/approve", {}), ("extension/reject", {}), ("close", {}),
                         ("return", {})]:
        refused = owner.post(f"/milestones/{item}/{action}", reason="自行处理", **form)
        assert refused.status_code == 403, action
        assert "无权操作" in refused.text
    assert snapshot(site.engine) == before


def test_a_milestone_retired_from_its_plan_says_so(site: Site) -> None:
    item = site.world.construction
    with Session(writer(site.engine)) as db:
        db.exec(sa.update(Milestone).where(Milestone.id == item).values(retired_at=NOW))
        db.commit()
    page = site.desk(OWNER).get(f"/milestones/{item}")
    assert page.status_code == 404 and "已从规划中移出" in page.text


def test_an_assumed_milestone_is_marked_with_its_reason_and_an_unmarked_one_says_so(
        site: Site) -> None:
    reason = "清单未给出完成日期，按规划期末推定"
    item = site.world.construction
    with Session(writer(site.engine)) as db:
        db.exec(sa.update(Milestone).where(Milestone.id == item).values(assumption=reason))
        db.commit()
    desk = site.desk(OWNER)
    mark = f'<span class="muted assumed" title="{reason}">（推定）</span>'
    page = desk.get(f"/milestones/{item}").text
    assert mark in page and f"推定：{reason}" in page
    assert "<dt>性质</dt><dd>未标注</dd>" in page  # the plan gives 开工建设 no 约束性/预期性
    assert "<dt>性质</dt><dd>约束性</dd>" in desk.get(f"/milestones/{site.world.fire_check}").text
    rows = re.findall(r"<tr>.*?</tr>", desk.get("/").text, re.S)
    assert [mark in row for row in rows if "开工建设" in row or "完成消防验收" in row] == \
        [True, False]


# ── the checks, without HTTP ────────────────────────────────────────────────────────────────

def office_file(main: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types><Override '
                         f'PartName="/main.xml" ContentType="{main}"/></Types>')
        archive.writestr("main.xml", "<document/>")
    return buffer.getvalue()


WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
WORD_MACROS = "application/vnd.ms-word.document.macroEnabled.main+xml"


@pytest.mark.parametrize(("content", "name", "kind"), [
    (PDF, "x.bin", attachments.PDF), (PNG, "x", attachments.PNG),
    (b"\xff\xd8\xff\xe0" + bytes(20), "photo.pdf", attachments.JPEG),
    (office_file(WORD), "a.zip", attachments.DOCX), (office_file(EXCEL), "b", attachments.XLSX),
    (office_file(WORD_MACROS), "c.docx", None), (b"PK\x03\x04" + bytes(40), "d.docx", None),
    (OLE, "报表.XLS", attachments.XLS), (OLE, "通知.doc", attachments.DOC),
    (OLE, "setup.msi", None), (EXE, "a.pdf", None), (b"", "empty.pdf", None),
    (b"<html><script>", "page.png", None),
])
def test_the_kind_of_a_file_is_decided_by_its_content(content: bytes, name: str,
                                                      kind: attachments.Kind | None) -> None:
    assert attachments.detect_kind(io.BytesIO(content), name) is kind


@pytest.mark.parametrize(("raw", "clean"), [
    ("C:\\Users\\王芳\\报告.pdf", "报告.pdf"), ("../../etc/passwd", "passwd"),
    ("合同\u202efdp.exe", "合同fdp.exe"), ("a\x00b\r\n.pdf", "ab.pdf"), (".hidden", "hidden"),
    ("长" * 300 + ".pdf", "长" * 196 + ".pdf"), (None, ""),
])
def test_uploaded_file_names_are_cleaned(raw: str | None, clean: str) -> None:
    assert attachments.clean_name(raw) == clean


def test_a_stored_name_ends_with_its_kinds_extension() -> None:
    assert attachments.named_for("扫描件", attachments.PDF) == "扫描件.pdf"
    assert attachments.named_for("照片.JPEG", attachments.JPEG) == "照片.JPEG"
    assert attachments.named_for("a.exe", attachments.PNG) == "a.exe.png"


def test_the_download_header_carries_a_chinese_name_and_a_safe_fallback() -> None:
    assert attachments.content_disposition('季度"报告";.pdf') == (
        "attachment; filename=\"_______.pdf\"; "
        "filename*=UTF-8''%E5%AD%A3%E5%BA%A6%22%E6%8A%A5%E5%91%8A%22%3B.pdf")
    assert attachments.content_disposition("plan v2.pdf") == (
        "attachment; filename=\"plan_v2.pdf\"; filename*=UTF-8''plan%20v2.pdf")


def test_storing_is_all_or_nothing(tmp_path: Path) -> None:
    good = ("a.pdf", io.BytesIO(PDF))
    with pytest.raises(attachments.UploadRefused, match="b.png"):
        attachments.store_uploads([good, ("b.png", io.BytesIO(EXE))], tmp_path, MAX_BYTES)
    assert list(tmp_path.iterdir()) == []
    [stored] = attachments.store_uploads([good], tmp_path, MAX_BYTES)
    assert (tmp_path / stored.stored_as).read_bytes() == PDF and len(stored.stored_as) == 32


@pytest.mark.parametrize(("text", "message"), [
    ("2026/13/01", "“建议截止日期”不是有效的日期：2026/13/01"), ("", "请填写“建议截止日期”"),
    ("20261201", "不是有效的日期"), ("2026-02-30", "不是有效的日期"),
])
def test_malformed_dates_name_the_field(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ExtensionForm.model_validate({"proposed": text, "reason": "供货延迟"})


def test_numbers_are_read_as_people_write_them() -> None:
    asked = ExtensionForm.model_validate({"proposed": " 2026-12-01 ", "reason": "供货延迟"})
    assert asked.proposed_due_on == date(2026, 12, 1)
    for typed, value in (("1,250", 1250), ("36%", 36)):
        assert IndicatorForm.model_validate({"indicator_id": "1", "value": typed}).value == value
    with pytest.raises(ValidationError, match="请填写“指标值”"):
        IndicatorForm.model_validate({"indicator_id": "1", "value": "  "})
    for bad in ("nan", "inf", "1e400", "三十"):
        with pytest.raises(ValidationError, match="“指标值”不是有效的数字"):
            IndicatorForm.model_validate({"indicator_id": "1", "value": bad})
