"""A person who reads DingTalk or WeCom gets their notices there, once, with e-mail as the
fallback: against a local fake of both APIs (tests/fake_im.py) and a real SMTP server, both on
loopback. Time moves by passing `now` to the delivery rounds; nothing sleeps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from config.channels import Channels, load_channels
from flows.sweep import run_sweep
from models.rules.item_links import LinkInvalid, read_link_token
from models.store.people import PeopleCsvInvalid, parse_people_csv, save_person
from models.tables.event import Event
from models.tables.message import Channel, Message
from models.tables.person import NotifyVia, Person
from notifications.work_notices import member_wait
from services.runtime import system_clock
from tests.fake_im import AGENT_ID, APP_KEY, APP_SECRET, CORP_ID, CORP_SECRET, FakeIM, serve
from tests.smtp_server import SmtpServer
from tests.test_outbox import NOW, deliver, settings_for
from tests.world import RULES, build_world

WANG = "wang.fang@duban.example"


@pytest.fixture
def fake() -> Iterator[FakeIM]:
    with serve() as fake:
        yield fake


def apps(tmp_path: Path, fake: FakeIM, extra: str = "") -> Channels:
    path = tmp_path / "channels.yaml"
    path.write_text(f"""webhooks: []
{extra}
apps:
  dingtalk: {{app_key: {APP_KEY}, app_secret: {APP_SECRET}, agent_id: {AGENT_ID},
             base_url: "{fake.base}"}}
  wecom: {{corp_id: {CORP_ID}, corp_secret: {CORP_SECRET}, agent_id: {AGENT_ID},
          base_url: "{fake.base}"}}
""", "utf-8")
    return load_channels(path)


def swept(engine: sa.Engine, session: Session, email: str, via: NotifyVia, userid: str
          ) -> None:
    """The small world, where `email` reads `via` as `userid`, swept at NOW."""
    build_world(session)
    person = session.exec(select(Person).where(Person.email == email)).one()
    person.notify_via = via
    setattr(person, f"{via.value}_userid", userid)
    session.add(person)
    session.commit()
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=NOW)


def mailed(smtp: SmtpServer) -> Counter[str]:
    return Counter(m["To"].addresses[0].addr_spec for m in smtp.mailbox.received)


def rows(engine: sa.Engine, channel: Channel) -> list[Message]:
    with Session(engine) as session:
        return list(session.exec(select(Message).where(Message.channel == channel)))


async def test_a_dingtalk_reader_gets_one_card_through_an_outage_and_its_result_is_recorded(
        engine, session, smtp, tmp_path, fake):
    fake.dingtalk_users.add("wangfang")
    swept(engine, session, WANG, NotifyVia.dingtalk, "wangfang")
    settings, channels = settings_for(tmp_path, smtp), apps(tmp_path, fake)
    fake.down = True
    await deliver(engine, settings, channels)  # composes, and DingTalk answers 503
    assert fake.cards == [] and WANG not in mailed(smtp)
    (notice,) = rows(engine, Channel.dingtalk)
    assert (notice.status.value, notice.address) == ("failed", "wangfang")
    fake.down = False
    await deliver(engine, settings, channels, minutes=10)
    await deliver(engine, settings, channels, minutes=20)
    (card,) = fake.cards
    assert card.userid == "wangfang" and "督办" in card.title
    assert card.url.startswith("https://duban.example.gov.cn/")
    assert WANG not in mailed(smtp)  # her notice went to DingTalk only; the others by mail
    assert len(mailed(smtp)) == 3
    (notice,) = rows(engine, Channel.dingtalk)
    assert notice.status.value == "sent" and notice.remote_id
    assert notice.remote_result == "已送达，未读"  # asked in the round after it was accepted
    await deliver(engine, settings, channels, minutes=30)
    assert fake.results_asked == 1 and len(fake.cards) == 1


async def test_the_card_button_opens_the_persons_own_signed_link_and_a_forged_one_is_refused(
        engine, session, smtp, tmp_path, fake):
    fake.dingtalk_users.add("wangfang")
    swept(engine, session, WANG, NotifyVia.dingtalk, "wangfang")
    settings = settings_for(tmp_path, smtp, secret_key="k" * 32)
    await deliver(engine, settings, apps(tmp_path, fake))
    (card,) = fake.cards
    with Session(engine) as fresh:
        wang = fresh.exec(select(Person).where(Person.email == WANG)).one()
    assert card.url.startswith("https://duban.example.gov.cn/l/")
    token = card.url.rsplit("/l/", 1)[1]
    secret = settings.secret_key.get_secret_value()
    claims = read_link_token(secret=secret, token=token, max_age_seconds=3600,
                             now=NOW.timestamp())
    assert claims.person_id == wang.id
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(LinkInvalid):
        read_link_token(secret=secret, token=forged, max_age_seconds=3600,
                        now=NOW.timestamp())


async def test_an_expired_token_is_renewed_once_and_a_rate_limit_is_tried_later(
        engine, session, smtp, tmp_path, fake):
    fake.wecom_users.add("WangFang")
    swept(engine, session, WANG, NotifyVia.wecom, "WangFang")
    settings, channels = settings_for(tmp_path, smtp), apps(tmp_path, fake)
    fake.busy = 1
    await deliver(engine, settings, channels)
    assert fake.cards == [] and fake.tokens_issued == 1
    (notice,) = rows(engine, Channel.wecom)
    assert notice.status.value == "failed" and "45009" in (notice.last_error or "")
    fake.expire_tokens()  # the process still holds the old token
    await deliver(engine, settings, channels, minutes=10)
    assert [c.userid for c in fake.cards] == ["WangFang"] and fake.tokens_issued == 2
    await deliver(engine, settings, channels, minutes=30)
    assert len(fake.cards) == 1 and WANG not in mailed(smtp)


async def test_a_user_id_wecom_does_not_know_is_mailed_instead_exactly_once(
        engine, session, smtp, tmp_path, fake):
    swept(engine, session, WANG, NotifyVia.wecom, "NoSuchUser")
    settings, channels = settings_for(tmp_path, smtp), apps(tmp_path, fake)
    for minutes in (0, 10, 20):
        await deliver(engine, settings, channels, minutes)
    assert fake.cards == [] and mailed(smtp)[WANG] == 1
    (notice,) = rows(engine, Channel.wecom)
    assert notice.status.value == "dead" and "81013" in (notice.last_error or "")
    assert "改发电子邮件" in (notice.last_error or "")
    with Session(engine) as fresh:
        assert fresh.exec(select(Event).where(Event.kind == "message.dead")).one()


async def test_a_dingtalk_notice_reported_undelivered_is_mailed_instead(
        engine, session, smtp, tmp_path, fake):
    fake.dingtalk_users.add("wangfang")
    fake.undelivered.add("wangfang")
    swept(engine, session, WANG, NotifyVia.dingtalk, "wangfang")
    settings, channels = settings_for(tmp_path, smtp), apps(tmp_path, fake)
    await deliver(engine, settings, channels)
    assert WANG not in mailed(smtp)
    await deliver(engine, settings, channels, minutes=10)  # the result: failed; mail queued
    await deliver(engine, settings, channels, minutes=20)
    assert mailed(smtp)[WANG] == 1
    (notice,) = rows(engine, Channel.dingtalk)
    assert notice.remote_result == "钉钉发送失败"


async def test_without_a_configured_app_the_person_is_mailed(engine, session, smtp, tmp_path):
    swept(engine, session, WANG, NotifyVia.dingtalk, "wangfang")
    path = tmp_path / "channels.yaml"
    path.write_text("webhooks: []\n", "utf-8")
    settings, channels = settings_for(tmp_path, smtp), load_channels(path)
    await deliver(engine, settings, channels)
    await deliver(engine, settings, channels, minutes=10)
    assert mailed(smtp)[WANG] == 1
    (notice,) = rows(engine, Channel.dingtalk)
    assert "未配置钉钉应用" in (notice.last_error or "")


async def test_cards_wait_out_the_quiet_hours_without_counting_an_attempt(
        engine, session, smtp, tmp_path, fake):
    fake.wecom_users.add("WangFang")
    swept(engine, session, WANG, NotifyVia.wecom, "WangFang")
    hour = NOW.astimezone(UTC).hour + 8  # NOW's local hour in Shanghai
    quiet = f'quiet_hours: {{start: "{(hour - 1) % 24:02d}:00", end: "{(hour + 2) % 24:02d}:00"}}'
    settings, channels = settings_for(tmp_path, smtp), apps(tmp_path, fake, quiet)
    await deliver(engine, settings, channels)
    (notice,) = rows(engine, Channel.wecom)
    assert (notice.status.value, notice.attempts, notice.detail) == ("queued", 0, "防打扰时段")
    assert fake.cards == []
    await deliver(engine, settings, channels, minutes=150)
    assert len(fake.cards) == 1


def test_the_per_person_limit_holds_each_window() -> None:
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    thirty = [now - timedelta(seconds=s) for s in range(1, 31)]
    assert member_wait("wecom", thirty[:29], now) is None
    assert member_wait("wecom", thirty, now) == thirty[-1] + timedelta(minutes=1)
    spread = [now - timedelta(minutes=1, seconds=s) for s in range(1000)]
    assert member_wait("wecom", spread, now) == spread[-1] + timedelta(hours=1)
    day = [now - timedelta(minutes=2 * s + 1) for s in range(500)]
    assert member_wait("dingtalk", day, now) == day[-1] + timedelta(days=1)
    assert member_wait("dingtalk", day[:499], now) is None


def test_people_csv_sets_each_persons_app_and_a_file_without_those_columns_keeps_it(
        session: Session) -> None:
    build_world(session)
    chosen = parse_people_csv("姓名,邮箱,角色,单位,通知方式,钉钉用户ID\n"
                              f"王芳,{WANG},项目负责人,demo-mzj,钉钉,wangfang\n", "people.csv")
    for person_in in chosen + parse_people_csv(f"name,email,role,unit\n王芳,{WANG},owner,"
                                               "demo-mzj\n", "again.csv"):
        save_person(session=session, person_in=person_in, actor="test", now=NOW)
    wang = session.exec(select(Person).where(Person.email == WANG)).one()
    assert (wang.notify_via, wang.dingtalk_userid) == (NotifyVia.dingtalk, "wangfang")
    with pytest.raises(PeopleCsvInvalid) as refused:
        parse_people_csv(f"name,email,role,unit,notify_via\n王芳,{WANG},owner,demo-mzj,wecom\n",
                         "people.csv")
    (problem,) = refused.value.problems
    assert problem.startswith("people.csv:2:") and "企业微信用户ID" in problem
