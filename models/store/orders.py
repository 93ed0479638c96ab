"""Issuing numbered 督办单, signing for them (签收), and raising 逾期未签收 once.

1. ``issue_orders`` runs in the sweep's batch transaction, for the steps that batch inserted
   at a level with ``issues_order`` (each level once: a repeat is a reminder, not a new order).
   Per (office, year) it makes sure the sequence row exists, then takes ``k`` numbers with one
   ``UPDATE … SET last = last + k RETURNING last``: the row stays locked until the batch
   commits, so a concurrent sweep waits and continues the count; a rolled-back batch gives its
   numbers back. Numbers are never reused or skipped.
2. ``sign_receipt`` records who signed and when, once; signing again answers the first receipt.
3. ``receipts_overdue`` claims, with a conditional UPDATE, the orders past their receipt day and
   not signed: each is raised once however many sweeps run.
4. ``feedback_overdue`` finds the open items under an order whose last progress report (or,
   before any, the latest order) is more than ``orders.feedback_workdays`` working days old,
   and claims each missed date once (``feedback_chase``'s key) for a 催报.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.rules.rulebook import Rules
from models.rules.status import OPEN_STATES
from models.store.co_units import co_unit_ids
from models.store.events import record
from models.tables.columns import table_of
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.milestone import Milestone
from models.tables.order import FeedbackChase, OrderSequence, SupervisionOrder
from models.tables.person import Person, Role
from models.tables.plan import Plan, Project
from models.tables.unit import Unit

ORDERS, SEQUENCES = table_of(SupervisionOrder), table_of(OrderSequence)
CHASES = table_of(FeedbackChase)
ACTOR = "system:sweep"


@dataclass(frozen=True)
class OrderWanted:
    """An order a new escalation step calls for, before it has a number."""

    milestone_id: int
    escalation_id: int
    unit_id: int
    level: int
    level_name: str
    reason: str
    due_on: date
    overdue_workdays: int
    issued_on: date
    receipt_due_on: date
    office: str
    number_format: str  # config.policy.Orders.number
    feedback_workdays: int  # the feedback rhythm the order states, as the policy set it then


def issue_orders(session: Session, wanted: list[OrderWanted], now: datetime
                 ) -> dict[int, SupervisionOrder]:
    """Number and store the orders, in the caller's transaction; by escalation id."""
    groups: dict[tuple[str, int], list[OrderWanted]] = defaultdict(list)
    for want in wanted:
        groups[(want.office, want.issued_on.year)].append(want)
    issued: dict[int, SupervisionOrder] = {}
    rhythm: dict[int, int] = {}
    for (office, year), mine in sorted(groups.items()):
        last = _take_numbers(session, office, year, len(mine))
        for seq, want in enumerate(mine, start=last - len(mine) + 1):
            order = SupervisionOrder(
                number=want.number_format.format(office=office, year=year, n=seq),
                office=office, year=year, seq=seq, milestone_id=want.milestone_id,
                escalation_id=want.escalation_id, unit_id=want.unit_id, level=want.level,
                level_name=want.level_name, reason=want.reason, due_on=want.due_on,
                overdue_workdays=want.overdue_workdays, issued_on=want.issued_on,
                issued_at=now, receipt_due_on=want.receipt_due_on)
            session.add(order)
            issued[want.escalation_id] = order
            rhythm[want.escalation_id] = want.feedback_workdays
    session.flush()
    # The event keeps what the order says beyond its row, so that it prints the same for ever.
    for escalation_id, order in issued.items():
        record(session, EventKind.order_issued, at=now, actor=ACTOR,
               milestone_id=order.milestone_id, unit_id=order.unit_id,
               reason=f"{order.level_name}：{order.number}",
               data={"order_id": order.id, "number": order.number,
                     "feedback_workdays": rhythm[escalation_id]})
    return issued


def _take_numbers(session: Session, office: str, year: int, count: int) -> int:
    """Reserve ``count`` numbers of (office, year); the last of them."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(SEQUENCES).values(office=office, year=year, last=0)
                    .on_conflict_do_nothing(index_elements=["office", "year"]))
    return int(session.execute(
        sa.update(SEQUENCES).where(SEQUENCES.c.office == office, SEQUENCES.c.year == year)
        .values(last=SEQUENCES.c.last + count).returning(SEQUENCES.c.last)).scalar_one())


class ReceiptRefused(ValueError):
    """Who may not sign for this order, said in Chinese."""


def receipt_refusal(person: Person, unit_id: int, number: str) -> str | None:
    """Why ``person`` may not sign for the order ``number`` to ``unit_id``, or None: 签收 is by
    a person of the order's unit (its owners and head) or the office on its behalf."""
    if not person.active:
        return "此账号已停用。"
    if person.role is not Role.office and person.unit_id != unit_id:
        return f"督办单 {number} 下达给其他单位，只能由该单位签收。"
    return None


def may_sign(person: Person, unit_id: int) -> bool:
    return receipt_refusal(person, unit_id, "") is None


def sign_receipt(*, session: Session, order: SupervisionOrder, person: Person,
                 now: datetime) -> bool:
    """签收 (see ``receipt_refusal``). True if this call signed it; False if it was signed
    before (nothing changes)."""
    refusal = receipt_refusal(person, order.unit_id, order.number)
    if refusal is not None and person.unit_id in co_unit_ids(session, order.milestone_id):
        refusal = (f"督办单 {order.number} 只能由牵头单位签收：您所在单位是该事项的协办单位。")
    if refusal is not None:
        raise ReceiptRefused(refusal)
    signed = session.execute(
        sa.update(ORDERS).where(ORDERS.c.id == order.id, ORDERS.c.received_at.is_(None))
        .values(received_at=now, received_by=person.id).returning(ORDERS.c.id)).scalar()
    if signed is None:
        return False
    record(session, EventKind.order_received, at=now, actor=person.email, actor_id=person.id,
           milestone_id=order.milestone_id, unit_id=order.unit_id,
           reason=f"签收督办单 {order.number}",
           data={"order_id": order.id, "number": order.number})
    session.expire(order)
    return True


def receipts_overdue(session: Session, today: date, now: datetime,
                     project_id: int | None = None) -> list[SupervisionOrder]:
    """The orders whose receipt day has passed unsigned, each claimed for 逾期未签收 once
    (and recorded as an event) in the caller's transaction; only one project's if given."""
    due = [ORDERS.c.received_at.is_(None), ORDERS.c.receipt_overdue_at.is_(None),
           ORDERS.c.receipt_due_on < today]
    if project_id is not None:
        milestones = table_of(Milestone)
        due.append(ORDERS.c.milestone_id.in_(sa.select(milestones.c.id).where(
            milestones.c.project_id == project_id)))
    claimed = session.execute(sa.update(ORDERS).where(*due).values(receipt_overdue_at=now)
                              .returning(ORDERS.c.id)).scalars().all()
    if not claimed:
        return []
    orders = list(session.exec(select(SupervisionOrder).where(
        col(SupervisionOrder.id).in_(claimed)).order_by(col(SupervisionOrder.id))).all())
    for order in orders:
        record(session, EventKind.order_receipt_overdue, at=now, actor=ACTOR,
               milestone_id=order.milestone_id, unit_id=order.unit_id,
               reason=f"督办单 {order.number} 逾期未签收（应于 {order.receipt_due_on} 前签收）",
               data={"order_id": order.id, "number": order.number})
    return orders


def feedback_overdue(session: Session, rules: Rules, today: date, now: datetime,
                     project_id: int | None = None) -> list[tuple[Milestone, date]]:
    """The items that missed a progress report, each with the date it was due, claimed for a
    催报 once per date (and recorded as an event) in the caller's transaction."""
    query = (select(Milestone, Plan.code, sa.func.max(SupervisionOrder.issued_on))
             .join(SupervisionOrder, col(SupervisionOrder.milestone_id) == Milestone.id)
             .join(Project, col(Project.id) == Milestone.project_id)
             .join(Plan, col(Plan.id) == Project.plan_id)
             .where(col(Milestone.state).in_(list(OPEN_STATES)),
                    col(Milestone.retired_at).is_(None))
             .group_by(col(Milestone.id), col(Plan.code)))
    if project_id is not None:
        query = query.where(col(Milestone.project_id) == project_id)
    candidates = session.exec(query).all()
    if not candidates:
        return []
    reported = dict(session.exec(select(Event.milestone_id, sa.func.max(Event.at)).where(
        Event.kind == EventKind.progress_reported,
        col(Event.milestone_id).in_([m.id for m, _, _ in candidates]))
        .group_by(col(Event.milestone_id))).all())
    missed: list[tuple[Milestone, date]] = []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for milestone, plan_code, ordered_on in candidates:
        last = reported.get(milestone.id)
        since = max(ordered_on, rules.today(last)) if last is not None else ordered_on
        due = rules.calendar.add_workdays(since, rules.policy(plan_code).orders.feedback_workdays)
        if due >= today:
            continue
        claimed = session.execute(dialect.insert(CHASES).values(
            milestone_id=milestone.id, due_on=due, raised_at=now)
            .on_conflict_do_nothing(index_elements=["milestone_id", "due_on"])
            .returning(CHASES.c.milestone_id)).scalar()
        if claimed is None:
            continue
        record(session, EventKind.feedback_missed, at=now, actor=ACTOR,
               milestone_id=milestone.id, unit_id=milestone.unit_id,
               reason=f"应于 {due} 前反馈进展，未反馈")
        missed.append((milestone, due))
    return missed


def find_order(session: Session, reference: str) -> SupervisionOrder | None:
    """An order by its id or its 文号."""
    query = select(SupervisionOrder).where(SupervisionOrder.number == reference.strip())
    if reference.strip().isdigit():
        query = select(SupervisionOrder).where(SupervisionOrder.id == int(reference))
    return session.exec(query).first()


def order_rows(session: Session, zone: tzinfo, *, unsigned: bool = False,
               order_id: int | None = None, milestone_id: int | None = None,
               unit_ids: frozenset[int] | None = None,
               limit: int | None = None) -> list[dict[str, Any]]:
    """Orders as the CLI, the pages and the API list them, newest first: the order's facts
    with its item's title, its unit's name and who signed (local time); only those of
    ``unit_ids`` when given (a person's remit)."""
    query = (select(SupervisionOrder, Milestone.title, Unit.name, Person.name)
             .join(Milestone, col(Milestone.id) == SupervisionOrder.milestone_id)
             .join(Unit, col(Unit.id) == SupervisionOrder.unit_id)
             .join(Person, col(Person.id) == SupervisionOrder.received_by, isouter=True)
             .order_by(col(SupervisionOrder.issued_at).desc(), col(SupervisionOrder.id).desc()))
    if unsigned:
        query = query.where(col(SupervisionOrder.received_at).is_(None))
    if order_id is not None:
        query = query.where(SupervisionOrder.id == order_id)
    if milestone_id is not None:
        query = query.where(SupervisionOrder.milestone_id == milestone_id)
    if unit_ids is not None:
        query = query.where(col(SupervisionOrder.unit_id).in_(sorted(unit_ids)))
    if limit is not None:
        query = query.limit(limit)
    return [{"id": o.id, "number": o.number, "milestone_id": o.milestone_id, "title": title,
             "unit_id": o.unit_id, "unit": unit, "level": o.level, "level_name": o.level_name,
             "due_on": o.due_on,
             "issued_on": o.issued_on, "receipt_due_on": o.receipt_due_on,
             "received_at": o.received_at.astimezone(zone) if o.received_at else None,
             "received_by": signer, "receipt_overdue": o.receipt_overdue_at is not None}
            for o, title, unit, signer in session.exec(query).all()]


def count_orders(session: Session, *, unsigned: bool = False) -> int:
    query = select(sa.func.count()).select_from(SupervisionOrder)
    if unsigned:
        query = query.where(col(SupervisionOrder.received_at).is_(None))
    return int(session.exec(query).one())


def receipt_words(row: dict[str, Any]) -> str:
    """签收 in words: who and when, 逾期未签收, or 待签收."""
    if row["received_at"] is not None:
        return f"{row['received_by']} {row['received_at']:%Y-%m-%d %H:%M} 签收"
    return "逾期未签收" if row["receipt_overdue"] else "待签收"
