"""Bulletins generated, stored, sent once (and again only when asked), and received whole.

The small world of tests/world.py: the office (周敏) and a leader (赵) get the internal edition
with the PDF and the workbook; 陈刚, who heads 示例区民政局, gets the public edition as his unit's
own bulletin. Mail goes through the real outbox to a real SMTP server on loopback.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from config.channels import load_channels
from config.plan_loader import LoadedPlan, parse_plan_text
from config.settings import Settings
from flows.bulletins import issue
from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import compute
from models.rules.bulletin.periods import PeriodKind, period_end, period_ending_before
from models.store.actions import claim_done
from models.store.bulletin_history import load_history
from models.store.plan_import import import_plan
from models.tables.bulletin_record import BulletinRecord
from models.tables.message import Message
from notifications.outbox import deliver_round
from tests.conftest import NOW, snapshot
from tests.smtp_server import SmtpServer
from tests.test_bulletin_files import pdf_pages
from tests.world import PLAN, RULES, World, build_world

WEEK = period_ending_before(PeriodKind.week, date(2025, 10, 13))  # 6–12 October 2025
ISSUED = datetime(2025, 10, 13, 1, 0, tzinfo=RULES.zone)
THIS_WEEK = period_ending_before(PeriodKind.week, date(2026, 12, 7))  # after the re-import
BOTH = [Edition.internal, Edition.public]
PLAN_CODE = "demo-2025-2026"  # the plan of tests/world.py


def settings_for(tmp_path: Path, smtp: SmtpServer | None = None) -> Settings:
    mail = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"} \
        if smtp else {"smtp_host": ""}
    return Settings(data_dir=tmp_path / "data", base_url="https://duban.example.gov.cn",
                    smtp_timeout_seconds=5, **mail)


def issue_week(engine: sa.Engine, settings: Settings, *, resend: bool = False,
               now: datetime = ISSUED) -> list:
    return issue(engine=engine, rules=RULES, settings=settings, plan=None, period=WEEK,
                 editions=BOTH, send_it=True, resend=resend, actor="test", now=now)


def messages(engine: sa.Engine) -> list[Message]:
    with Session(engine) as db:
        return list(db.exec(select(Message).where(col(Message.key).startswith("bulletin:"))
                            .order_by(Message.id)))


def test_each_edition_goes_to_its_readers_once(engine: sa.Engine, session: Session,
                                               tmp_path: Path) -> None:
    build_world(session)
    internal, public = issue_week(engine, settings_for(tmp_path))
    assert (internal.queued, public.queued) == (2, 1)
    sent = {m.address: m for m in messages(engine)}
    assert set(sent) == {"zhou.min@duban.example", "zhao@duban.example",
                         "chen.gang@duban.example"}
    office = message_from_bytes(sent["zhou.min@duban.example"].raw, policy=policy.default)
    names = sorted(part.get_filename() for part in office.iter_attachments())
    assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "xlsx"]
    unit = message_from_bytes(sent["chen.gang@duban.example"].raw, policy=policy.default)
    assert not list(unit.iter_attachments())  # the public edition carries no files
    html = unit.get_body(("html",)).get_content()
    assert "公开版" in html and "示例区民政局" in html and 'src="cid:bulletin-chart"' in html
    [chart] = [p for p in unit.walk() if p.get_content_type() == "image/png"]
    assert chart["Content-ID"] == "<bulletin-chart>"
    # Generating and sending again queues nothing: everyone has it already.
    again = issue_week(engine, settings_for(tmp_path))
    assert [i.queued for i in again] == [0, 0] and all(i.replaced for i in again)
    assert len(messages(engine)) == 3


def test_a_resend_reaches_everyone_once_more(engine: sa.Engine, session: Session,
                                             tmp_path: Path) -> None:
    build_world(session)
    issue_week(engine, settings_for(tmp_path))
    resent = issue_week(engine, settings_for(tmp_path), resend=True)
    assert [i.queued for i in resent] == [2, 1]
    keys = [m.key for m in messages(engine)]
    assert len(keys) == len(set(keys)) == 6


def a_week_issued(engine: sa.Engine, session: Session, tmp_path: Path) -> tuple[World, Settings]:
    """The small world with one claim on 9 October 2025, and that week's bulletins issued."""
    world = build_world(session)
    claim_done(session=session, rules=RULES, milestone_id=world.construction,
               evidence="已开工", actor="wang.fang@duban.example",
               now=datetime(2025, 10, 9, 10, 0, tzinfo=RULES.zone))
    session.commit()
    settings = settings_for(tmp_path)
    issue_week(engine, settings)
    return world, settings


def test_a_regenerated_past_bulletin_is_the_same_after_later_changes(
        engine: sa.Engine, session: Session, tmp_path: Path) -> None:
    world, settings = a_week_issued(engine, session, tmp_path)
    with Session(engine) as db:
        first = {b.edition: (b.figures, b.html, b.text, b.chart_png, b.xlsx)
                 for b in db.exec(select(BulletinRecord))}
    claim_done(session=session, rules=RULES, milestone_id=world.fire_check, evidence="已验收",
               actor="wang.fang@duban.example", now=NOW)  # after the week
    session.commit()
    issue_week(engine, settings, now=NOW + timedelta(days=30))
    with Session(engine) as db:
        second = {b.edition: (b.figures, b.html, b.text, b.chart_png, b.xlsx)
                  for b in db.exec(select(BulletinRecord))}
    assert second == first
    assert first[Edition.internal][0]["headline"]["completed"] == 1


async def test_the_bulletin_arrives_whole_over_smtp(engine: sa.Engine, session: Session,
                                                   tmp_path: Path, smtp: SmtpServer) -> None:
    build_world(session)
    settings = settings_for(tmp_path, smtp)
    issue_week(engine, settings)
    channels_file = tmp_path / "channels.yaml"
    channels_file.write_text("webhooks: []\n", "utf-8")
    totals = await deliver_round(engine=engine, settings=settings,
                                 channels=load_channels(channels_file), now=ISSUED)
    assert totals["sent"] == 3
    received = {m["To"].addresses[0].addr_spec: m for m in smtp.mailbox.received}
    leader = received["zhao@duban.example"]
    assert "督办晾晒通报" in str(leader["Subject"])
    pdf = next(p for p in leader.iter_attachments() if p.get_content_type() == "application/pdf")
    assert pdf.get_content().startswith(b"%PDF")


# ── the command line ────────────────────────────────────────────────────────────────────────

def test_generate_list_and_show_from_the_command_line(duban, engine: sa.Engine,
                                                      session: Session, tmp_path: Path) -> None:
    build_world(session)
    made = duban("bulletin", "generate", "--period", "2025-10-06..2025-10-12", "--send",
                 "--json")
    assert made.exit_code == 0, made.output
    issued = json.loads(made.output)
    assert [(i["edition"], i["queued"], i["replaced"]) for i in issued] == [
        ("internal", 2, False), ("public", 1, False)]
    listed = json.loads(duban("bulletin", "list", "--json").output)
    assert [b["edition"] for b in listed] == ["internal", "public"]
    shown = json.loads(duban("bulletin", "show", str(issued[0]["id"]), "--json").output)
    assert shown["figures"]["period"] == {"kind": "custom", "first": "2025-10-06",
                                          "last": "2025-10-12"}
    out = tmp_path / "b.pdf"
    assert duban("bulletin", "show", str(issued[0]["id"]), "--pdf", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(("args", "named"), [
    (["--period", "2025/10/06..2025/10/12"], "--period"),
    (["--period", "fortnight"], "--period"),
    (["--plan", "no-such-plan"], "--plan"),
    (["--as-of", "13/10/2025"], "--as-of"),
    (["--edition", "secret"], "--edition"),
    (["--resend"], "--resend"),
])
def test_bad_input_is_refused_naming_it_and_nothing_is_stored(
        duban, engine: sa.Engine, session: Session, args: list[str], named: str) -> None:
    build_world(session)
    before = snapshot(engine)
    refused = duban("bulletin", "generate", *args)
    assert refused.exit_code == 2 and named in refused.output
    assert snapshot(engine) == before


def test_a_past_bulletin_is_the_same_after_a_rename_and_a_move_to_another_unit(
        engine: sa.Engine, session: Session, tmp_path: Path) -> None:
    world, settings = a_week_issued(engine, session, tmp_path)
    first = stored_outputs(engine)
    # Later, a re-import renames the plan, the project, a unit and the overdue binding item,
    # moves that item to the other unit and makes it expected.
    edited = (PLAN.replace("name: 示例区民政事业发展行动方案", "name: 示例区民政行动方案（修订）")
              .replace("name: 区社会福利中心二期工程", "name: 区社会福利中心二期")
              .replace("name: 示例区民政局,", "name: 示例区民政局（新）,")
              .replace("{due: 2025-09-30, target: 完成消防验收, commitment: binding}",
                       "{due: 2025-09-30, target: 通过消防验收, unit: demo-jd}"))
    import_plan(session=session, loaded=LoadedPlan("world.yaml", parse_plan_text(edited), ""),
                actor="test", now=NOW + timedelta(days=1))
    session.commit()
    issue_week(engine, settings, now=NOW + timedelta(days=30))
    assert stored_outputs(engine) == first
    figures = first[Edition.internal][0]
    [red] = figures["red_items"]
    assert (red["title"], red["unit_code"], red["binding"]) == ("完成消防验收", "demo-mzj", True)
    # The present reads the plan as it is now.
    with Session(engine) as db:
        now = compute(load_history(session=db, rules=RULES, plan=None,
                                   until=period_end(THIS_WEEK, RULES)),
                      THIS_WEEK, RULES, Edition.internal)
    [red_now] = [r for r in now.red_items if r.milestone_id == world.fire_check]
    assert (red_now.title, red_now.unit_code, red_now.binding) == ("通过消防验收", "demo-jd",
                                                                   False)
    assert {u.unit_name for u in now.units} == {"示例区民政局（新）", "示例区示例街道"}


def stored_outputs(engine: sa.Engine) -> dict[Edition, tuple]:
    with Session(engine) as db:
        return {b.edition: (b.figures, b.scope_name, b.subject, b.html, b.text, b.chart_png,
                            b.xlsx, b.pdf) for b in db.exec(select(BulletinRecord))}


def test_each_week_gets_the_next_issue_number_of_its_year_and_keeps_it_when_regenerated(
        engine: sa.Engine, session: Session, tmp_path: Path) -> None:
    """期号 per scope and year, both editions one issue; a late-generated older week takes the
    next number; regenerating prints the same number; a new year starts again at 第1期."""
    build_world(session)
    settings = Settings(data_dir=tmp_path / "data", base_url="https://duban.example.gov.cn",
                        smtp_host="", bulletin_issuer="示例区民政局督办办公室")
    weeks = [period_ending_before(PeriodKind.week, date(2025, 12, day)) for day in (15, 22)]
    weeks.append(period_ending_before(PeriodKind.week, date(2026, 1, 12)))  # a 2026 week
    late = period_ending_before(PeriodKind.week, date(2025, 12, 8))  # older, generated last
    for period in [*weeks, late, weeks[1]]:  # and week 2 again
        issue(engine=engine, rules=RULES, settings=settings, plan=PLAN_CODE, period=period,
              editions=BOTH, send_it=False, resend=False, actor="test", now=ISSUED)
    with Session(engine) as db:
        rows = db.exec(select(BulletinRecord).order_by(BulletinRecord.period_last)).all()
    numbers = {(r.period_last.isoformat(), r.edition.value): (r.issue_year, r.issue_number)
               for r in rows}
    assert numbers == {
        ("2025-12-07", "internal"): (2025, 3), ("2025-12-07", "public"): (2025, 3),
        ("2025-12-14", "internal"): (2025, 1), ("2025-12-14", "public"): (2025, 1),
        ("2025-12-21", "internal"): (2025, 2), ("2025-12-21", "public"): (2025, 2),
        ("2026-01-11", "internal"): (2026, 1), ("2026-01-11", "public"): (2026, 1)}
    second = next(r for r in rows if r.period_last == date(2025, 12, 21)
                  and r.edition is Edition.internal)
    for part in (second.text, second.html):
        assert "2025年第2期" in part and "示例区民政局督办办公室" in part
    assert "2025年第2期　发文单位：示例区民政局督办办公室" in str(
        load_workbook(io.BytesIO(second.xlsx))["概览"]["A2"].value)
    assert "2025年第2期" in "".join(pdf_pages(second.pdf))


def test_the_issuer_is_the_office_name_unless_the_settings_name_one(
        engine: sa.Engine, session: Session, tmp_path: Path) -> None:
    build_world(session)
    settings = Settings(data_dir=tmp_path / "data", smtp_host="",
                        office_name="西湖区民政局督办办公室")
    [made, _] = issue(engine=engine, rules=RULES, settings=settings, plan=PLAN_CODE,
                      period=WEEK, editions=BOTH, send_it=False, resend=False, actor="test",
                      now=ISSUED)
    with Session(engine) as db:
        row = db.get(BulletinRecord, made.id)
        assert row is not None and row.figures["issuer"] == "西湖区民政局督办办公室"
        assert "2025年第1期　西湖区民政局督办办公室" in row.text
