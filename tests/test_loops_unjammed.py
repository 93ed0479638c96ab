"""Loops that cannot be jammed: one bad row is set aside, or dead-lettered, and the rest goes on.

A poisoned event row makes the sweep set its milestone aside (pushed to the next working day,
an event with the error, listed for the office) while every other item is swept, today and
on the following days; a message whose composition or sending raises is a dead letter with
its reason while the others reach a real SMTP server; an outcome for a claim another loop has
taken over is not written. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from config.channels import Channels, load_channels
from config.settings import Settings
from flows.sweep import run_sweep
from models.store import actions
from models.store.database import writer
from models.store.event_chain import verify
from models.store.set_aside import EVALUATION_FAILED, set_aside_milestones
from models.tables.escalation import EscalationStep, Notice
from models.tables.event import Event
from models.tables.message import Message, MessageStatus
from models.tables.milestone import Milestone
from models.tables.person import Person
from notifications.compose import addresses_told
from notifications.outbox import NotRetriable, deliver_round, list_messages, retry
from services.runtime import system_clock
from tests.smtp_server import Mailbox, SmtpServer
from tests.world import RULES, build_world

DAY = date(2025, 10, 21)   # a Tuesday: every item of the world is overdue or due soon
NEXT_DAY = date(2025, 10, 22)


def sweep(engine: sa.Engine, day: date, **kwargs: object):
    return run_sweep(engine=engine, rules=RULES, clock=system_clock, now=RULES.as_of(day),
                     **kwargs)


def poison(engine: sa.Engine, milestone_id: int) -> None:
    """An approved extension whose payload lacks ``new_due_on``, written behind Duban's back
    (as a bug or a hand-made repair could leave one)."""
    with Session(writer(engine)) as session:
        session.add(Event(at=RULES.as_of(date(2025, 9, 1)), kind="milestone.extension_decided",
                          actor="zhou.min@duban.example", milestone_id=milestone_id,
                          data={"approved": True, "requested_on": "2025-08-29"}))
        session.commit()


def milestone(engine: sa.Engine, milestone_id: int) -> Milestone:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Milestone, milestone_id)


def steps_of(engine: sa.Engine, milestone_id: int) -> list[tuple[str, int, int]]:
    with Session(engine) as session:
        return [(s.as_of.isoformat(), s.level, s.repeat) for s in session.exec(
            select(EscalationStep).where(EscalationStep.milestone_id == milestone_id)
            .order_by(EscalationStep.id))]


def failures(engine: sa.Engine, milestone_id: int) -> list[dict]:
    with Session(engine) as session:
        return [e.data | {"reason": e.reason} for e in session.exec(
            select(Event).where(Event.kind == EVALUATION_FAILED,
                                Event.milestone_id == milestone_id).order_by(Event.id))]


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_poisoned_event_sets_its_item_aside_and_the_sweep_goes_on(
        engine: sa.Engine, session: Session, batch_size: int) -> None:
    world = build_world(session)
    poison(engine, world.fire_check)  # the middle item by id: items before and after it
    report = sweep(engine, DAY, batch_size=batch_size)

    assert report.set_aside_count == 1
    assert [(s["milestone_id"], s["stage"]) for s in report.set_aside] == [
        (world.fire_check, "facts")]
    assert "new_due_on" in report.set_aside[0]["error"]
    assert report.as_dict()["set_aside"] == report.set_aside
    # The others' work stands: lit, escalated, their notices queued.
    assert report.evaluated == 2
    assert [c["milestone_id"] for c in report.changes] == [world.construction]
    assert milestone(engine, world.construction).state == "overdue"
    assert steps_of(engine, world.construction)
    assert milestone(engine, world.neighbourhood).next_check_on > DAY  # looked at, not due
    with Session(engine) as fresh:
        noticed = set(fresh.exec(select(Notice.milestone_id)).all())
    assert noticed == {world.construction}
    # The poisoned one: untouched but for its next check, with the error recorded.
    poisoned = milestone(engine, world.fire_check)
    assert (poisoned.state, poisoned.next_check_on) == ("pending", NEXT_DAY)
    assert steps_of(engine, world.fire_check) == []
    [failure] = failures(engine, world.fire_check)
    assert (failure["stage"], failure["next_check_on"]) == ("facts", NEXT_DAY.isoformat())
    assert failure["error"] and "new_due_on" in failure["message"]  # the type, then the text
    assert len(failure["reason"]) <= 500
    with Session(engine) as fresh:
        listed = set_aside_milestones(session=fresh)
    assert [(s["milestone_id"], s["error"], s["next_check_on"]) for s in listed] == [
        (world.fire_check, failure["error"], NEXT_DAY)]


def test_later_sweeps_do_not_stop_at_the_poisoned_item(engine: sa.Engine,
                                                       session: Session) -> None:
    world = build_world(session)
    poison(engine, world.construction)  # the first item by id: every batch starts at it
    sweep(engine, DAY, batch_size=1)
    again = sweep(engine, DAY, batch_size=1)  # same day: it is not due for a look
    assert (again.set_aside_count, again.evaluated) == (0, 0)
    # Each following working day it is tried once more, and set aside once more, while the
    # others climb the ladder as they would have without it.
    days = [NEXT_DAY, date(2025, 10, 23), date(2025, 10, 24), date(2025, 10, 27),
            date(2025, 10, 28)]
    for day in days:
        report = sweep(engine, day, batch_size=1)
        assert [s["milestone_id"] for s in report.set_aside] == [world.construction]
    assert [f["as_of"] for f in failures(engine, world.construction)] == [
        d.isoformat() for d in [DAY, *days]]
    assert milestone(engine, world.construction).next_check_on == date(2025, 10, 29)
    assert steps_of(engine, world.fire_check)[-1] == ("2025-10-28", 3, 1)  # a repeat went out
    assert steps_of(engine, world.construction) == []


def test_an_item_whose_rows_the_database_refuses_is_set_aside_alone(
        engine: sa.Engine, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write the database itself refuses (here a NOT NULL violation, on both backends) is
    undone to its savepoint; the batch's other writes are kept."""
    import flows.sweep

    world = build_world(session)
    real = flows.sweep.bulk_insert

    def refusing(session: Session, table: sa.TableClause, rows: list[dict]) -> None:
        if table.name == "light_change":  # the item's light change, written with a hole
            rows = [r | {"state_to": None} if r["milestone_id"] == world.fire_check else r
                    for r in rows]
        real(session, table, rows)

    monkeypatch.setattr(flows.sweep, "bulk_insert", refusing)
    report = sweep(engine, DAY)
    assert [(s["milestone_id"], s["stage"]) for s in report.set_aside] == [
        (world.fire_check, "write")]
    assert "state_to" in report.set_aside[0]["error"]  # NOT NULL, as each backend says it
    assert milestone(engine, world.construction).state == "overdue"
    assert report.evaluated == 2
    assert milestone(engine, world.fire_check).state == "pending"  # its update undone too
    assert steps_of(engine, world.fire_check) == []
    assert [f["stage"] for f in failures(engine, world.fire_check)] == ["write"]
    with Session(engine) as db:  # the undone event was never sealed; the kept ones were
        assert verify(db)[2] == []


def test_an_item_that_works_again_leaves_the_list(engine: sa.Engine, session: Session,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.sweep

    world = build_world(session)
    real = flows.sweep.milestone_status

    def failing(facts, *args):  # type: ignore[no-untyped-def]
        if facts.planned_due_on == date(2025, 12, 31):
            raise ValueError("a rule that cannot cope")
        return real(facts, *args)

    monkeypatch.setattr(flows.sweep, "milestone_status", failing)
    # The fault is in the Python rules, which light every item only with SQL lights off.
    report = sweep(engine, DAY, sql_lights=False)
    assert [(s["milestone_id"], s["stage"]) for s in report.set_aside] == [
        (world.neighbourhood, "rules")]
    with Session(engine) as fresh:
        assert [s["milestone_id"] for s in set_aside_milestones(session=fresh)] == [
            world.neighbourhood]
    monkeypatch.setattr(flows.sweep, "milestone_status", real)
    healed = sweep(engine, NEXT_DAY)
    assert (healed.set_aside_count, healed.evaluated) == (0, 1)
    assert milestone(engine, world.neighbourhood).next_check_on > NEXT_DAY
    with Session(engine) as fresh:
        assert set_aside_milestones(session=fresh) == []


def test_duban_status_and_sweep_name_the_items_set_aside(engine: sa.Engine, session: Session,
                                                         database_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from typer.testing import CliRunner

    from cli import context
    from cli.main import app

    world = build_world(session)
    poison(engine, world.fire_check)
    monkeypatch.setenv("DUBAN_DATABASE_URL", database_url)
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DUBAN_CONFIG", str(tmp_path / "none.toml"))
    runner = CliRunner()
    context.runtime.cache_clear()
    swept = runner.invoke(app, ["sweep", "--as-of", DAY.isoformat()])
    assert swept.exit_code == 0, swept.output
    assert "搁置 1 个节点" in swept.output and f"#{world.fire_check}" in swept.output
    context.runtime.cache_clear()
    shown = runner.invoke(app, ["status", "--as-of", DAY.isoformat()])
    context.runtime.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert "搁置 1 个节点" in shown.output and f"#{world.fire_check}" in shown.output
    assert "new_due_on" in shown.output


# --- Messages ---------------------------------------------------------------------------

@pytest.fixture
def channels(tmp_path: Path) -> Channels:
    path = tmp_path / "channels.yaml"
    path.write_text("webhooks: []\n", "utf-8")
    return load_channels(path)


def settings_for(tmp_path: Path, smtp: SmtpServer) -> Settings:
    return Settings(data_dir=tmp_path / "data", base_url="https://duban.example.gov.cn",
                    smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                    smtp_timeout_seconds=5, delivery_retry_base_seconds=60)


def messages(engine: sa.Engine) -> dict[str, Message]:
    with Session(engine, expire_on_commit=False) as session:
        return {m.address: m for m in session.exec(select(Message))}


def dead_events(engine: sa.Engine) -> list[Event]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(Event).where(Event.kind == "message.dead")))


def set_email(engine: sa.Engine, old: str, new: str) -> None:
    with Session(writer(engine)) as session:
        session.execute(sa.update(Person).where(Person.email == old).values(email=new))
        session.commit()


def received(smtp: SmtpServer) -> list[str]:
    return sorted(m["To"].addresses[0].addr_spec for m in smtp.mailbox.received)


async def test_a_digest_that_cannot_be_composed_is_a_dead_letter_and_the_rest_go_out(
        engine, session, smtp, channels, tmp_path):
    """Issue 15's jam: a head of unit whose address cannot be put in a header; and a notice
    whose context lacks what the digest needs (every digest it is in cannot be made)."""
    build_world(session)
    set_email(engine, "chen.gang@duban.example", "chen@例子.公司")
    sweep(engine, DAY)
    with Session(writer(engine)) as writing:
        broken = writing.exec(select(Notice).order_by(col(Notice.id))).first()
        broken.context = {k: v for k, v in broken.context.items() if k != "level_name"}
        broken.roles = "leader"  # told to one reader, so that the others' digests can be made
        writing.add(broken)
        writing.commit()
        spoilt = addresses_told(writing, broken.sweep_id)[broken.key]
    assert spoilt == {"zhao@duban.example"}
    settings = settings_for(tmp_path, smtp)
    totals = await deliver_round(engine=engine, settings=settings, channels=channels,
                                 now=RULES.as_of(DAY))
    assert received(smtp) == ["wang.fang@duban.example", "zhou.min@duban.example"]
    assert totals["sent"] == 2
    found = messages(engine)
    assert found["chen@例子.公司"].status is MessageStatus.dead
    assert "to_address is not a plain ASCII e-mail address" in found["chen@例子.公司"].last_error
    for address in spoilt:
        assert found[address].status is MessageStatus.dead
        assert "level_name" in found[address].last_error
    dead = {found[a].id for a in (*spoilt, "chen@例子.公司")}
    assert {e.data["message_id"] for e in dead_events(engine)} == dead
    # The dead letters stand for their digests: the next round composes nothing again, and
    # jams on nothing.
    again = await deliver_round(engine=engine, settings=settings, channels=channels,
                                now=RULES.as_of(DAY) + timedelta(minutes=5))
    assert (again["emails_composed"], again["claimed"]) == (0, 0)
    # Sending it again would send nothing: the office is told so, not given an empty mail.
    with pytest.raises(NotRetriable, match="never composed"):
        retry(engine=engine, message_id=found["chen@例子.公司"].id, actor="zhou.min@duban.example",
              now=RULES.as_of(DAY))
    with Session(engine) as fresh:
        assert {m["id"] for m in list_messages(session=fresh, failed_only=True)} == dead


async def test_a_confirmation_that_cannot_be_composed_does_not_undo_the_action(
        engine, session, smtp, channels, tmp_path):
    from services.milestone_actions import take

    world = build_world(session)
    set_email(engine, "wang.fang@duban.example", "wang@例子.公司")
    settings = settings_for(tmp_path, smtp)
    with Session(engine) as reading:
        people = {p.name: p.id for p in reading.exec(select(Person))}

    def act(action, day: date, email: str, person: str, **kwargs: object) -> None:
        with Session(writer(engine)) as acting:
            take(action, session=acting, settings=settings, rules=RULES, actor=email,
                 actor_id=people[person], now=RULES.as_of(day), **kwargs)
            acting.commit()

    act(actions.claim_done, date(2025, 9, 25), "wang@例子.公司", "王芳",
        milestone_id=world.construction, evidence="开工令已签发")
    act(actions.claim_done, date(2025, 12, 1), "li.na@duban.example", "李娜",
        milestone_id=world.neighbourhood, evidence="已建成")
    assert milestone(engine, world.construction).state == "claimed"  # the action stands
    await deliver_round(engine=engine, settings=settings, channels=channels,
                        now=RULES.as_of(date(2025, 12, 2)))
    assert received(smtp) == ["li.na@duban.example"]
    dead = messages(engine)["wang@例子.公司"]
    assert dead.status is MessageStatus.dead and dead.template == "done_received"
    assert "not a plain ASCII e-mail address" in dead.last_error
    assert [e.data["message_id"] for e in dead_events(engine)] == [dead.id]


async def test_a_message_the_smtp_client_refuses_to_send_is_dead_and_the_rest_are_sent(
        engine, session, smtp, channels, tmp_path):
    """A queued row no composer of today would write (an address with a space, taken over
    from an older version): aiosmtplib raises ValueError before speaking to the server."""
    build_world(session)
    sweep(engine, DAY)
    settings = settings_for(tmp_path, smtp)
    from notifications.compose import compose_due

    compose_due(engine=engine, settings=settings, channels=channels, now=RULES.as_of(DAY))
    with Session(writer(engine)) as writing:
        writing.execute(sa.update(Message).where(Message.address == "zhou.min@duban.example")
                        .values(address="zhou min@duban.example"))
        writing.execute(sa.update(Message).where(Message.address == "zhao@duban.example")
                        .values(raw=b""))
        writing.commit()
    totals = await deliver_round(engine=engine, settings=settings, channels=channels,
                                 now=RULES.as_of(DAY))
    assert received(smtp) == ["chen.gang@duban.example", "wang.fang@duban.example"]
    assert (totals["sent"], totals["dead"]) == (2, 2)
    found = messages(engine)
    assert found["zhou min@duban.example"].status is MessageStatus.dead
    assert "ValueError" in found["zhou min@duban.example"].last_error
    assert found["zhao@duban.example"].status is MessageStatus.dead
    assert "never composed" in found["zhao@duban.example"].last_error


class StealingMailbox(Mailbox):
    """Accepts every message, and while it receives the one for ``victim``, another loop
    (played here) reclaims that message: the sender's claim is lost mid-send."""

    def __init__(self, engine: sa.Engine, victim: str) -> None:
        super().__init__()
        self.engine, self.victim = engine, victim

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.victim in envelope.rcpt_tos:
            with Session(writer(self.engine)) as other:
                other.execute(sa.update(Message).where(Message.address == self.victim).values(
                    claimed_by="other-host:1", attempts=Message.attempts + 1))
                other.commit()
        return await super().handle_DATA(server, session, envelope)


async def test_an_outcome_for_a_lost_claim_is_not_written(engine, session, channels, tmp_path,
                                                         caplog):
    build_world(session)
    sweep(engine, DAY)
    server = SmtpServer()
    server.mailbox = StealingMailbox(engine, "chen.gang@duban.example")
    server.start()
    try:
        totals = await deliver_round(engine=engine, settings=settings_for(tmp_path, server),
                                     channels=channels, now=RULES.as_of(DAY))
    finally:
        server.stop()
    assert len(server.mailbox.received) == 4
    assert totals["sent"] == 3  # the fourth is the other loop's to record
    stolen = messages(engine)["chen.gang@duban.example"]
    assert (stolen.status, stolen.claimed_by, stolen.sent_at) == (
        MessageStatus.sending, "other-host:1", None)
    assert "claim" in caplog.text and str(stolen.id) in caplog.text
    others = [m for a, m in messages(engine).items() if a != "chen.gang@duban.example"]
    assert {m.status for m in others} == {MessageStatus.sent}


async def test_a_dropped_connection_is_opened_again_for_the_rest(engine, session, channels,
                                                                 tmp_path):
    """The server hangs up after the first message; the loop connects again and sends the
    rest in the same round."""
    build_world(session)
    sweep(engine, DAY)

    class HangingUp(Mailbox):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            answer = await super().handle_DATA(server, session, envelope)
            if len(self.received) == 1:
                server.transport.close()
            return answer

    server = SmtpServer()
    server.mailbox = HangingUp()
    server.start()
    try:
        totals = await deliver_round(engine=engine, settings=settings_for(tmp_path, server),
                                     channels=channels, now=RULES.as_of(DAY))
    finally:
        server.stop()
    with Session(engine) as fresh:
        status = {m.address: m.status for m in fresh.exec(select(Message))}
    assert totals["claimed"] == 4
    sent = {a for a, s in status.items() if s is MessageStatus.sent}
    # The first message was received but its answer never came back: it is retried later
    # (the documented duplicate window); the others went out over the new connection.
    assert len(sent) == 3 and totals["failed"] == 1
    assert len(server.mailbox.received) == 4



async def test_a_notice_a_digest_cannot_rank_is_named_in_its_dead_letters(
        engine, session, smtp, channels, tmp_path):
    """A digest ranks its items by what their notices say (level, repeat, due date: a step's
    notice from its step, a 逾期未签收 or 催报 from itself), before it loads any names: a
    notice that says no level cannot be ranked, and its dead letters name it."""
    build_world(session)
    sweep(engine, DAY)
    with Session(writer(engine)) as writing:
        unranked = writing.exec(select(Notice).order_by(col(Notice.id))).first()
        unranked.escalation_id = None  # stepless, as a duty's, and saying no level itself
        writing.add(unranked)
        writing.commit()
        readers = addresses_told(writing, unranked.sweep_id)[unranked.key]
    settings = settings_for(tmp_path, smtp)
    await deliver_round(engine=engine, settings=settings, channels=channels,
                        now=RULES.as_of(DAY))
    found = messages(engine)
    assert readers and all(found[a].status is MessageStatus.dead
                           and f"notice {unranked.id} has no level" in found[a].last_error
                           for a in readers)
    again = await deliver_round(engine=engine, settings=settings, channels=channels,
                                now=RULES.as_of(DAY) + timedelta(minutes=5))
    assert again["emails_composed"] == 0
