"""The numbered 督办单: issued when an item reaches an order level, numbered per office and year
without gaps or repeats, signed for by the unit (签收), raised once when not signed in time
(逾期未签收), and printed as an A4 PDF that is the same document every time."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pypdfium2 as pdfium
import sqlalchemy as sa
from sqlmodel import Session, col, select

from config.channels import Channels
from config.policy import PolicyFile
from config.settings import Settings
from flows.sweep import run_sweep
from models.rules.rulebook import Rules
from models.store.actions import report_progress
from models.store.milestone_list import list_page
from models.store.orders import ReceiptRefused, find_order, sign_receipt
from models.store.todo import counted, tabs_for
from models.tables.escalation import Notice
from models.tables.event import Event
from models.tables.message import Message
from models.tables.order import SupervisionOrder
from models.tables.person import Person
from notifications.compose import compose_due
from notifications.order_document import order_context, order_pdf
from services.runtime import system_clock
from tests.conftest import Duban
from tests.world import POLICY, RULES, build_world, told

LADDER = [level.model_copy(update={"issues_order": level.level >= 2}) for level in POLICY.ladder]
ORDER_RULES = Rules(RULES.calendar, PolicyFile(default=POLICY.model_copy(
    update={"ladder": LADDER}), plans={}), RULES.zone)
FIRST_LATE_DAY = date(2025, 10, 9)  # after the National Day holiday; both items due 09-30


def sweep(engine: sa.Engine, day: date, **kwargs: object) -> None:
    run_sweep(engine=engine, rules=ORDER_RULES, clock=system_clock, now=ORDER_RULES.as_of(day),
              **kwargs)


def working_days(start: date, count: int) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if RULES.calendar.is_workday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def orders(engine: sa.Engine) -> list[SupervisionOrder]:
    with Session(engine) as session:
        return list(session.exec(select(SupervisionOrder).order_by(col(SupervisionOrder.seq))))


def person(session: Session, email: str) -> Person:
    return session.exec(select(Person).where(Person.email == email)).one()


def test_an_item_reaching_the_order_level_gets_the_next_number_and_is_signed_for(
        engine, session):
    world = build_world(session)
    day = FIRST_LATE_DAY
    while not orders(engine):
        sweep(engine, day)
        day += timedelta(days=1)
    first = orders(engine)[0]
    issued_on = first.issued_on
    assert first.number == "督办〔2025〕1号" and first.level == 2
    assert first.milestone_id in (world.construction, world.fire_check)
    assert first.receipt_due_on == RULES.calendar.add_workdays(issued_on, 1)
    with Session(engine) as fresh:
        notices = fresh.exec(select(Notice).where(
            Notice.escalation_id == first.escalation_id)).all()
        assert notices and {n.context["order"] for n in notices} == {first.number}
        assert fresh.exec(select(Event).where(Event.kind == "order.issued")).first()
    with Session(engine) as writer_session:
        order = writer_session.get(SupervisionOrder, first.id)
        assert order is not None
        stranger = person(writer_session, "li.na@duban.example")  # another unit's owner
        try:
            sign_receipt(session=writer_session, order=order, person=stranger,
                         now=ORDER_RULES.as_of(issued_on))
        except ReceiptRefused as refused:
            assert "其他单位" in str(refused)
        else:
            raise AssertionError("an owner of another unit signed for the order")
        wang = person(writer_session, "wang.fang@duban.example")
        assert sign_receipt(session=writer_session, order=order, person=wang,
                            now=ORDER_RULES.as_of(issued_on)) is True
        assert sign_receipt(session=writer_session, order=order, person=wang,
                            now=ORDER_RULES.as_of(issued_on)) is False  # once
        writer_session.commit()
    for later in working_days(issued_on + timedelta(days=1), 6):
        sweep(engine, later)
    with Session(engine) as fresh:
        signed = fresh.get(SupervisionOrder, first.id)
        assert signed is not None and signed.received_at is not None
        assert signed.receipt_overdue_at is None
        overdue = fresh.exec(select(Event).where(Event.kind == "order.receipt_overdue")).all()
        assert first.id not in {e.data["order_id"] for e in overdue}


def test_an_order_not_signed_in_time_is_raised_once_to_the_head_and_the_office(
        engine, session):
    build_world(session)
    for day in working_days(FIRST_LATE_DAY, 12):
        sweep(engine, day)
    issued = orders(engine)
    assert issued and all(o.received_at is None for o in issued)
    with Session(engine) as fresh:
        raised = fresh.exec(select(Event).where(Event.kind == "order.receipt_overdue")).all()
        notices = fresh.exec(select(Notice).where(
            col(Notice.key).startswith("receipt-overdue:"))).all()
    late = [o for o in issued if o.receipt_due_on < working_days(FIRST_LATE_DAY, 12)[-1]]
    assert sorted(e.data["order_id"] for e in raised) == sorted(o.id for o in late)
    first = late[0]
    assert told(engine, first.milestone_id)[f"receipt-overdue:{first.id}"] == {
        "chen.gang@duban.example", "zhou.min@duban.example"}
    assert all(n.context["level_name"] == "逾期未签收" for n in notices)
    for day in working_days(date(2025, 10, 27), 3):  # more sweeps: nothing raised again
        sweep(engine, day)
    with Session(engine) as fresh:
        again = fresh.exec(select(Event).where(Event.kind == "order.receipt_overdue")).all()
    last_day = date(2025, 10, 29)
    assert len(again) == len({o.id for o in orders(engine) if o.receipt_due_on < last_day})


def test_two_sweeps_at_once_issue_each_order_once_with_consecutive_numbers(engine, session):
    build_world(session)
    failures: list[BaseException] = []

    def one() -> None:
        try:
            sweep(engine, date(2025, 10, 21), batch_size=1)
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            failures.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and not any(t.is_alive() for t in threads)
    issued = orders(engine)
    assert len(issued) == 2  # two late items, each first seen at 领导督办: one order each
    assert [o.seq for o in issued] == [1, 2]
    assert len({o.escalation_id for o in issued}) == 2


def test_the_order_pdf_names_its_number_in_chinese_and_is_the_same_document_each_time(
        engine, session, tmp_path):
    build_world(session)
    sweep(engine, date(2025, 10, 21))
    settings = Settings(data_dir=tmp_path, smtp_host="")
    with Session(engine) as fresh:
        order = find_order(fresh, "督办〔2025〕1号")
        assert order is not None
        context = order_context(fresh, order, settings)
        pdf = order_pdf(context)
        assert order_pdf(order_context(fresh, order, settings)) == pdf
    # its history holds what the sweep found before it, a light change without an event
    assert "状态变化" in [line["text"] for line in context["history"]]
    document = pdfium.PdfDocument(pdf)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    for words in ("督 办 单", "督办〔2025〕1号", "区社会福利中心二期工程", "示例区民政局",
                  "签收"):
        assert words in text, words
    image = document[0].render(scale=0.5).to_pil().convert("L")
    assert image.getextrema()[0] < 100  # ink on the page: the text was drawn
    image.save(tmp_path / "order.png")


def test_orders_from_the_command_line(duban: Duban, engine, session, tmp_path):
    build_world(session)
    sweep(engine, date(2025, 10, 21))
    listed = duban("orders", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert "督办〔2025〕1号" in listed.output
    issued = len(orders(engine))
    assert issued > 1
    cut = duban("orders", "list", "--limit", "1")  # says what it left out
    assert cut.exit_code == 0 and f"仅列出 1 份，共 {issued} 份" in cut.output, cut.output
    newest = duban("orders", "list", "--limit", "1", "--json").stdout
    assert orders(engine)[-1].number in newest and "督办〔2025〕1号" not in newest
    refused = duban("receipt", "督办〔2025〕1号", "--by", "nobody@duban.example")
    assert refused.exit_code == 2 and "nobody@duban.example" in refused.output
    first = orders(engine)[0]
    unit_owner = "li.na@duban.example" if first.milestone_id == 3 else "wang.fang@duban.example"
    signed = duban("receipt", first.number, "--by", unit_owner)
    assert signed.exit_code == 0 and "已签收" in signed.output, signed.output
    again = duban("receipt", str(first.id), "--by", unit_owner)
    assert "此前已签收" in again.output
    shown = duban("orders", "show", str(first.id), "--pdf", str(tmp_path / "order.pdf"))
    signer = "李娜" if unit_owner.startswith("li.na") else "王芳"
    assert shown.exit_code == 0 and f"签收：{signer}" in shown.output, shown.output
    assert (tmp_path / "order.pdf").read_bytes().startswith(b"%PDF")


def test_an_item_under_an_order_that_misses_its_progress_report_is_chased_once(
        engine, session):
    world = build_world(session)
    days = working_days(FIRST_LATE_DAY, 34)  # orders at 督办单 (~10-14) and 领导督办 (~10-23)
    for day in days[:25]:
        sweep(engine, day)
    with Session(engine) as fresh:
        chased = fresh.exec(select(Event).where(Event.kind == "milestone.feedback_missed",
                                                Event.milestone_id == world.construction)).all()
        notices = fresh.exec(select(Notice).where(
            col(Notice.key).startswith(f"feedback:{world.construction}:"))).all()
    assert len(chased) == 1  # once for the missed date, however many sweeps saw it
    (notice,) = notices
    assert told(engine, world.construction)[notice.key] == {
        "wang.fang@duban.example", "chen.gang@duban.example"}
    assert all(n.context["reason"] == "feedback_missed" for n in notices)
    assert world.construction in feedback_waiting(engine, "wang.fang@duban.example")
    with Session(engine) as writer_session:
        report_progress(session=writer_session, rules=ORDER_RULES,
                        milestone_id=world.construction, percent=40.0, note="主体结构施工中",
                        actor="wang.fang@duban.example", now=ORDER_RULES.as_of(days[25]))
        writer_session.commit()
    for day in days[25:]:
        sweep(engine, day)
    with Session(engine) as fresh:
        again = fresh.exec(select(Event).where(Event.kind == "milestone.feedback_missed",
                                               Event.milestone_id == world.construction)).all()
    assert len(again) == 1  # the report started a new cycle, not yet missed
    assert world.construction not in feedback_waiting(engine, "wang.fang@duban.example")


def feedback_waiting(engine: sa.Engine, email: str) -> list[int]:
    """The items in this owner's 待反馈 (催报 sent, no report since)."""
    with Session(engine) as fresh:
        me = person(fresh, email)
        tab = next(t for t in tabs_for(me, unit_ids=frozenset({me.unit_id or 0}),
                                       policy=ORDER_RULES.policy("")) if t.key == "feedback")
        assert tab.query is not None
        page = list_page(session=fresh, query=tab.query, calendar=RULES.calendar,
                         today=date(2025, 12, 1), limit=50)
        return [i["milestone_id"] for i in page.items]


def test_the_digest_names_the_order_and_the_levels_a_catch_up_step_passed(engine, session,
                                                                        tmp_path):
    build_world(session)
    sweep(engine, date(2025, 10, 21))  # both items first seen at 领导督办
    settings = Settings(data_dir=tmp_path, smtp_host="", base_url="https://duban.example")
    compose_due(engine=engine, settings=settings, channels=Channels(),
                now=ORDER_RULES.as_of(date(2025, 10, 21)) + timedelta(hours=2))
    with Session(engine) as fresh:
        head = fresh.exec(select(Message).where(
            Message.address == "chen.gang@duban.example")).one()
    assert "首次发现即已越过：催办提醒、督办单" in head.body_text
    assert re.search(r"督办单：督办〔2025〕[12]号", head.body_text)
    assert "督办〔2025〕" in head.body_html



def test_unsigned_orders_are_the_owners_to_sign_and_the_offices_when_late(engine, session):
    build_world(session)
    for day in working_days(date(2025, 10, 21), 3):  # orders issued, then left unsigned
        sweep(engine, day)

    def count(email: str, key: str, own_unit: bool) -> int | None:
        with Session(engine) as fresh:
            me = person(fresh, email)
            units = frozenset({me.unit_id}) if own_unit and me.unit_id else None
            tabs = counted(fresh, tabs_for(me, unit_ids=units, policy=ORDER_RULES.policy("")))
            return next(t.count for t in tabs if t.key == key)

    wang = "wang.fang@duban.example"
    assert count(wang, "sign", True) == 2
    assert count("zhou.min@duban.example", "unsigned", False) == 2
    with Session(engine) as writable:
        order = writable.get(SupervisionOrder, orders(engine)[0].id)
        assert order is not None
        sign_receipt(session=writable, order=order, person=person(writable, wang),
                     now=ORDER_RULES.as_of(date(2025, 10, 24)))
        writable.commit()
    assert count(wang, "sign", True) == 1
    assert count("zhou.min@duban.example", "unsigned", False) == 1
