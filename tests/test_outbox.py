"""Notices reach people through the outbox: whole, once, retried, or listed as dead letters.

A real SMTP server (aiosmtpd) on loopback; time is moved by passing `now`, nothing sleeps.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from config.channels import Channels, load_channels
from config.settings import Settings
from flows.sweep import run_sweep
from models.tables.event import Event
from models.tables.message import Message
from notifications.outbox import deliver_round, list_messages, retry
from services.runtime import system_clock
from tests.smtp_server import SmtpServer
from tests.test_webhooks import SECRET, robot  # noqa: F401 (a fixture)
from tests.world import RULES, build_world

DAY = date(2025, 10, 21)
NOW = RULES.as_of(DAY)
EVERYONE = {"wang.fang@duban.example", "chen.gang@duban.example", "zhou.min@duban.example",
            "zhao@duban.example"}


@pytest.fixture
def channels(tmp_path: Path) -> Channels:
    path = tmp_path / "channels.yaml"
    path.write_text("webhooks: []\n", "utf-8")
    return load_channels(path)


def settings_for(tmp_path: Path, smtp: SmtpServer | None, **extra: object) -> Settings:
    mail = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"} \
        if smtp else {"smtp_host": ""}
    return Settings(data_dir=tmp_path / "data", base_url="https://duban.example.gov.cn",
                    smtp_timeout_seconds=5, delivery_retry_base_seconds=60, **mail, **extra)


def swept(engine: sa.Engine, session: Session) -> None:
    build_world(session)
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=NOW)


async def deliver(engine: sa.Engine, settings: Settings, channels: Channels,
                  minutes: int = 0) -> dict[str, int]:
    return await deliver_round(engine=engine, settings=settings, channels=channels,
                               now=NOW + timedelta(minutes=minutes))


def statuses(engine: sa.Engine) -> Counter[str]:
    with Session(engine) as session:
        return Counter(m.status.value for m in session.exec(select(Message)))


async def test_each_person_gets_one_whole_digest(engine, session, smtp, channels, tmp_path):
    swept(engine, session)
    totals = await deliver(engine, settings_for(tmp_path, smtp), channels)
    assert totals["sent"] == len(EVERYONE) == totals["emails_composed"]
    received = {m["To"].addresses[0].addr_spec: m for m in smtp.mailbox.received}
    assert set(received) == EVERYONE
    head = received["chen.gang@duban.example"]  # owner and unit head: levels 1, 2 of both items
    assert "督办" in head["Subject"]
    text = head.get_body(("plain",)).get_content()
    html = head.get_body(("html",)).get_content()
    for title in ("开工建设", "完成消防验收"):
        assert title in text and title in html
    assert "https://duban.example.gov.cn/l/" in text  # a signed link: he is a person
    with Session(engine) as fresh:
        ids = {m.address: m.message_id for m in fresh.exec(select(Message))}
    assert head["Message-ID"] == ids["chen.gang@duban.example"]
    # Nothing more to send, nothing sent twice.
    assert (await deliver(engine, settings_for(tmp_path, smtp), channels, 5))["sent"] == 0
    assert len(smtp.mailbox.received) == len(EVERYONE)


async def test_a_server_down_then_back_gets_every_message_exactly_once(
        engine, session, smtp, channels, tmp_path):
    swept(engine, session)
    smtp.stop()
    down = await deliver(engine, settings_for(tmp_path, smtp), channels)
    assert (down["sent"], down["failed"]) == (0, len(EVERYONE))
    assert statuses(engine) == {"failed": len(EVERYONE)}
    smtp.start()
    early = await deliver(engine, settings_for(tmp_path, smtp), channels, minutes=0)
    assert early["claimed"] == 0  # backing off: not due yet
    back = await deliver(engine, settings_for(tmp_path, smtp), channels, minutes=5)
    assert back["sent"] == len(EVERYONE)
    assert sorted(Counter(smtp.mailbox.ids()).values()) == [1] * len(EVERYONE)


async def test_temporary_refusals_are_retried_until_accepted(engine, session, smtp, channels,
                                                            tmp_path):
    swept(engine, session)
    smtp.mailbox.scripted["zhao@duban.example"] = ["451 4.3.0 Mailbox busy", "451 4.3.0 Busy",
                                                   "250 OK"]
    for minutes in (0, 10, 30, 90):
        await deliver(engine, settings_for(tmp_path, smtp), channels, minutes)
    assert statuses(engine) == {"sent": len(EVERYONE)}
    assert Counter(m["To"].addresses[0].addr_spec for m in smtp.mailbox.received) == \
        Counter(EVERYONE)
    assert smtp.mailbox.rcpt_seen["zhao@duban.example"] == 3


async def test_a_permanent_refusal_is_a_dead_letter_listed_and_retriable(
        engine, session, smtp, channels, tmp_path):
    swept(engine, session)
    smtp.mailbox.scripted["zhao@duban.example"] = ["550 5.1.1 No such user", "250 OK"]
    totals = await deliver(engine, settings_for(tmp_path, smtp), channels)
    assert (totals["sent"], totals["dead"]) == (len(EVERYONE) - 1, 1)
    with Session(engine) as fresh:
        (dead,) = list_messages(session=fresh, failed_only=True)
        assert (dead["address"], dead["status"]) == ("zhao@duban.example", "dead")
        assert "550" in dead["last_error"]
        assert fresh.exec(select(Event).where(Event.kind == "message.dead")).one()
    later = await deliver(engine, settings_for(tmp_path, smtp), channels, 120)
    assert later["claimed"] == 0  # dead letters wait for a person
    retry(engine=engine, message_id=dead["id"], actor="zhou.min@duban.example",
          now=NOW + timedelta(minutes=121))
    again = await deliver(engine, settings_for(tmp_path, smtp), channels, 121)
    assert again["sent"] == 1
    assert "zhao@duban.example" in {m["To"].addresses[0].addr_spec
                                    for m in smtp.mailbox.received}


async def test_giving_up_after_the_attempt_limit(engine, session, smtp, channels, tmp_path):
    swept(engine, session)
    smtp.stop()
    settings = settings_for(tmp_path, smtp, delivery_max_attempts=3)
    for minutes in (0, 60, 180, 400):
        await deliver(engine, settings, channels, minutes)
    assert statuses(engine) == {"dead": len(EVERYONE)}


async def test_without_an_smtp_server_mail_is_kept_as_eml_files(engine, session, channels,
                                                               tmp_path):
    swept(engine, session)
    totals = await deliver(engine, settings_for(tmp_path, None), channels)
    assert totals["sent"] == len(EVERYONE)
    files = sorted((tmp_path / "data" / "outbox").rglob("*.eml"))
    assert len(files) == len(EVERYONE)
    parsed = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {m["To"].addresses[0].addr_spec for m in parsed} == EVERYONE
    assert all("开工建设" in m.get_body(("plain",)).get_content() for m in parsed)


async def test_group_chat_posts_are_signed_and_wait_out_the_quiet_hours(
        engine, session, smtp, tmp_path, robot):  # noqa: F811 (the fixture)
    robot.secret = SECRET  # the local robot checks DingTalk's 加签 on every request
    path = tmp_path / "channels.yaml"
    path.write_text(f"""\
quiet_hours: {{start: "22:00", end: "07:30"}}
webhooks:
  - name: 示例区民政局工作群
    kind: dingtalk
    url: {robot.url("access_token=t0ken")}
    secret: "{SECRET}"
    units: [demo-mzj]
""", "utf-8")
    chat = load_channels(path)
    swept(engine, session)
    totals = await deliver(engine, settings_for(tmp_path, smtp), chat)
    assert totals["posts_composed"] == 1 and len(robot.received) == 1
    body = robot.received[0].body
    assert body["msgtype"] == "markdown" and "开工建设" in body["markdown"]["text"]

    # A sweep a week later, delivered at 23:00 local time: the post waits for 07:30.
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=RULES.as_of(date(2025, 10, 28)))
    night = RULES.as_of(date(2025, 10, 28)) + timedelta(hours=14)  # 23:00 in Shanghai
    late = await deliver_round(engine=engine, settings=settings_for(tmp_path, smtp),
                               channels=chat, now=night)
    assert late["posts_composed"] == 1 and len(robot.received) == 1
    morning = await deliver_round(engine=engine, settings=settings_for(tmp_path, smtp),
                                  channels=chat, now=night + timedelta(hours=8, minutes=31))
    assert morning["sent"] == 1 and len(robot.received) == 2


async def test_the_people_who_act_get_confirmations(engine, session, smtp, channels, tmp_path):
    from models.store import actions
    from models.store.database import writer
    from models.tables.person import Person
    from services.milestone_actions import take

    world = build_world(session)
    settings = settings_for(tmp_path, smtp)
    people = {p.email: p.id for p in session.exec(select(Person))}

    def act(action, day: date, email: str, **kwargs: object) -> None:
        with Session(writer(engine)) as acting:
            take(action, session=acting, settings=settings, rules=RULES, actor=email,
                 actor_id=people[email], now=RULES.as_of(day), **kwargs)
            acting.commit()

    act(actions.claim_done, date(2025, 9, 25), "wang.fang@duban.example",
        milestone_id=world.construction, evidence="开工令已签发 <附件>")
    act(actions.close_out, date(2025, 9, 26), "zhou.min@duban.example",
        milestone_id=world.construction)
    act(actions.request_extension, date(2025, 12, 1), "li.na@duban.example",
        milestone_id=world.neighbourhood, proposed=date(2026, 3, 31), reason="施工许可延后")
    act(actions.decide_extension, date(2025, 12, 2), "zhou.min@duban.example",
        milestone_id=world.neighbourhood, approved=True)
    await deliver_round(engine=engine, settings=settings, channels=channels,
                        now=RULES.as_of(date(2025, 12, 3)))
    got = sorted((m["To"].addresses[0].addr_spec, m["Subject"]) for m in smtp.mailbox.received)
    assert [address for address, _ in got] == ["li.na@duban.example", "wang.fang@duban.example",
                                               "wang.fang@duban.example"]
    bodies = {m.get_body(("plain",)).get_content() for m in smtp.mailbox.received}
    assert any("开工令已签发 <附件>" in body for body in bodies)  # evidence, verbatim in text
    assert any("2026年03月31日" in body or "2026年3月31日" in body for body in bodies)
