"""Notices reach people through the outbox: whole, once, retried, or listed as dead letters.

A real SMTP server (aiosmtpd) on loopback; time is moved by passing `now`, nothing sleeps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from config.channels import Channels, load_channels
from config.settings import Settings
from flows.sweep import run_sweep
from models.event import Event
from models.outbox import Message
from notifications.outbox import deliver_round, list_messages, retry
from tests.smtp_server import SmtpServer
from tests.world import RULES, build_world

DAY = date(2025, 10, 21)
NOW = RULES.as_of(DAY)
EVERYONE = {"wang.fang@duban.example", "chen.gang@duban.example", "zhou.min@duban.example",
            "zhao@duban.example"}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


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
    run_sweep(engine=engine, rules=RULES, now=NOW)


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
    assert "https://duban.example.gov.cn/milestones/" in text
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
