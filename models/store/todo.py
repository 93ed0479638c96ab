"""待办: what each person has to do next, as tabs of the list whose counts empty as work is done.

Each tab is a list query (models.store.milestone_list) over the person's remit, so its count is
the number of items still waiting, and an item leaves the tab in the transaction of the action
that does it. The tabs:
- owner: 待签收 (open items whose 督办单 the unit has not signed for), 待办理 (open items due
  soon or overdue, red first, the earliest due first), 待反馈 (items sent a 催报 and not
  reported on since), 被退回 (sent back and not claimed
  again), 延期审批中 (an extension asked and not yet decided);
- office: 待核实 (claims waiting for 销号, the oldest claim first), 延期待批, 逾期未确认
  (overdue past a level nobody acknowledged), 逾期未签收 (orders not signed for in time),
  投递失败 (dead letters: a count and the outbox);
- leader: 领导督办 (open items at the ladder's level that reaches leaders), in their remit:
  the units they are in charge of, or every unit for a leader of none (as notices go,
  models.store.directory).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from config.policy import Policy
from models.rules.status import OPEN_STATES
from models.store.milestone_list import ListQuery, count_items
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.message import Message, MessageStatus
from models.tables.milestone import Milestone, MilestoneState
from models.tables.order import FeedbackChase, SupervisionOrder
from models.tables.person import Person, Role


@dataclass(frozen=True)
class Tab:
    key: str
    name: str
    query: ListQuery | None     # None: not a list of milestones (dead letters, coming later)
    count: int | None = None    # None: not counted (coming later)
    href: str | None = None     # where a tab without a query is worked on


def _open() -> ColumnElement[bool]:
    return col(Milestone.state).in_(sorted(OPEN_STATES))


def _pending_extension() -> ColumnElement[bool]:
    asked, decided = aliased(Event), aliased(Event)
    return exists(select(asked.id).where(
        asked.milestone_id == Milestone.id, asked.kind == EventKind.extension_requested,
        ~exists(select(decided.id).where(decided.milestone_id == Milestone.id,
                                         decided.kind == EventKind.extension_decided,
                                         col(decided.id) > col(asked.id)))))


def _sent_back() -> ColumnElement[bool]:
    returned, since = aliased(Event), aliased(Event)
    return and_(_open(), exists(select(returned.id).where(
        returned.milestone_id == Milestone.id, returned.kind == EventKind.returned,
        ~exists(select(since.id).where(
            since.milestone_id == Milestone.id,
            col(since.kind).in_([EventKind.done_claimed, EventKind.reopened]),
            col(since.id) > col(returned.id))))))


def _unsigned(*, overdue: bool) -> ColumnElement[bool]:
    """Open items with a 督办单 not yet signed for (only those past their receipt day)."""
    where: list[ColumnElement[bool]] = [col(SupervisionOrder.milestone_id) == Milestone.id,
                                        col(SupervisionOrder.received_at).is_(None)]
    if overdue:
        where.append(col(SupervisionOrder.receipt_overdue_at).is_not(None))
    return and_(_open(), exists(select(SupervisionOrder.id).where(*where)))


def _feedback_missed() -> ColumnElement[bool]:
    """Open items sent a 催报 (a progress report missed, models.store.orders.feedback_overdue)
    and not reported on since: the tab empties with the report."""
    since = aliased(Event)
    return and_(_open(), exists(select(FeedbackChase.milestone_id).where(
        col(FeedbackChase.milestone_id) == Milestone.id,
        ~exists(select(since.id).where(
            since.milestone_id == Milestone.id, since.kind == EventKind.progress_reported,
            col(since.at) >= col(FeedbackChase.raised_at))))))


def leader_level(policy: Policy) -> int:
    """The first level whose notices go to leaders (领导督办)."""
    return next((step.level for step in policy.ladder if "leader" in step.recipients),
                len(policy.ladder))


def tabs_for(me: Person, *, unit_ids: frozenset[int] | None, policy: Policy) -> list[Tab]:
    """The tabs this person works through, uncounted."""
    mine = ListQuery(unit_ids=unit_ids)
    if me.role == Role.owner:
        # Only the lead unit signs for a 督办单: a co-unit's items are not its to sign.
        lead = (col(Milestone.unit_id).in_(sorted(unit_ids)),) if unit_ids is not None else ()
        return [Tab("sign", "待签收", replace(mine, extra=(_unsigned(overdue=False), *lead))),
                Tab("do", "待办理", replace(mine, extra=(col(Milestone.state).in_(
                    [MilestoneState.due_soon, MilestoneState.overdue]),))),
                Tab("feedback", "待反馈", replace(mine, extra=(_feedback_missed(),))),
                Tab("returned", "被退回", replace(mine, extra=(_sent_back(),))),
                Tab("extension", "延期审批中", replace(mine, extra=(_open(),
                                                                    _pending_extension())))]
    if me.role == Role.office:
        return [Tab("verify", "待核实", replace(mine, state=MilestoneState.claimed,
                                                sort="claimed")),
                Tab("extension", "延期待批", replace(mine, extra=(_open(),
                                                                  _pending_extension()))),
                Tab("unacknowledged", "逾期未确认", replace(mine, state=MilestoneState.overdue,
                    extra=(col(Milestone.level) > col(Milestone.acknowledged_level),))),
                Tab("unsigned", "逾期未签收", replace(mine, extra=(_unsigned(overdue=True),))),
                Tab("dead", "投递失败", None, href="/outbox?failed=1")]
    if me.role == Role.leader:
        return [Tab("leader", "领导督办", replace(mine, min_level=leader_level(policy),
                                                  extra=(_open(),)))]
    return []


def counted(session: Session, tabs: Sequence[Tab]) -> list[Tab]:
    out = []
    for tab in tabs:
        if tab.query is not None:
            out.append(replace(tab, count=count_items(session=session, query=tab.query)))
        elif tab.key == "dead":
            out.append(replace(tab, count=session.exec(select(func.count()).select_from(
                Message).where(Message.status == MessageStatus.dead)).one()))
        else:
            out.append(tab)
    return out


def claim_details(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each claimed item's latest claim: its evidence and who made it."""
    if not ids:
        return {}
    latest = (select(func.max(col(Event.id))).where(col(Event.milestone_id).in_(ids),
                                                    Event.kind == EventKind.done_claimed)
              .group_by(col(Event.milestone_id)))
    rows = session.exec(select(Event).where(col(Event.id).in_(latest))).all()
    return {e.milestone_id: {"evidence": e.data.get("evidence"), "claimed_by": e.actor,
                             "claimed_at": e.at}
            for e in rows if e.milestone_id is not None}

