"""What people do to a milestone: each action is an event plus the status it leads to.

Every action: (1) loads the milestone and refuses if the action does not fit its current state,
(2) records its event, (3) recomputes the status from all facts and writes it under the row's
version, so that two people acting at once cannot overwrite each other: the second is refused
and told to reload. A caller that showed a person the milestone passes the version it showed
(``expected_version``), so a decision taken on a stale page is refused too.
Authorisation (who may do what) is checked by the callers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.rules.escalation import reached_level
from models.rules.rulebook import Rules
from models.rules.status import OPEN_STATES, milestone_status
from models.store.events import record
from models.store.milestone_facts import ladder_facts, milestone_facts
from models.store.status_writes import write_status
from models.tables.columns import saved_id
from models.tables.event import Event
from models.tables.event_kinds import EventKind, ExtensionRequested
from models.tables.milestone import Milestone, MilestoneState
from models.tables.plan import Plan, Project
from models.tables.unit import Unit

RACE_RETRIES = 3
CLAIMABLE = OPEN_STATES
WAIVABLE = OPEN_STATES | {MilestoneState.claimed}
REOPENABLE = frozenset({MilestoneState.closed, MilestoneState.waived})


class Recorded(NamedTuple):
    """What an action did: the milestone as it now is, and the event that records the action.
    The caller decides what follows from the event (services.milestone_actions queues the
    confirmation its person is owed)."""

    milestone: Milestone
    event: Event


# A refusal names the state's kind, not the stored pending/due-soon/overdue, which the next
# sweep brings up to date: "not yet claimed" is what decides whether it may be closed.
_OPEN = "办理中，尚未申报完成"
_STATE_WORDS = {MilestoneState.pending: _OPEN, MilestoneState.due_soon: _OPEN,
                MilestoneState.overdue: _OPEN, MilestoneState.claimed: "已申报完成，待销号",
                MilestoneState.closed: "已销号", MilestoneState.returned: "退回重办",
                MilestoneState.waived: "已豁免"}


class ActionRefused(ValueError):
    """Why an action was refused: a Chinese sentence for the person (``str``), and a stable
    ``code`` for a program (the API answers it)."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


class Changed(ActionRefused):
    """Someone else changed the milestone between this caller's read and its write.

    Nothing of the refused action is kept (its transaction is rolled back). A caller that
    showed a person a version must tell them to reload; a caller that showed none (a script)
    may simply run the action again on the fresh row.
    """

    def __init__(self, milestone_id: int) -> None:
        super().__init__(f"事项 {milestone_id} 已被他人修改：请重新读取后再试", "stale_version")


T = TypeVar("T")


def commit_retrying(session: Session, attempt: Callable[[], T], *, versioned: bool) -> T:
    """Run ``attempt`` (one or more actions) and commit; roll back on any refusal.

    A caller that showed a person a version (``versioned``) passes a refusal for a change in
    between on to them. A caller that showed none (a script, an API call without a version)
    lost a race to another writer and nothing more: the attempt runs again on the fresh row,
    a few times, since each retry follows someone else's commit.
    """
    for tries in range(1, RACE_RETRIES + 1):
        try:
            result = attempt()
            session.commit()
            return result
        except Changed:
            session.rollback()
            if versioned or tries == RACE_RETRIES:
                raise
        except ActionRefused:
            session.rollback()
            raise
    raise AssertionError("unreachable")


class _Act:
    """The shared steps of every action, around one milestone."""

    def __init__(self, session: Session, rules: Rules, milestone_id: int, actor: str,
                 actor_id: int | None, now: datetime, expected_version: int | None) -> None:
        row = session.exec(select(Milestone, Plan.code, col(Plan.id))
                           .join(Project, col(Project.id) == Milestone.project_id)
                           .join(Plan, col(Plan.id) == Project.plan_id)
                           .where(col(Milestone.id) == milestone_id)).first()
        if row is None:
            raise ActionRefused(f"没有编号为 {milestone_id} 的事项", "not_found")
        self.milestone, self.plan_code, self.plan_id = row
        if self.milestone.retired_at is not None:
            raise ActionRefused(f"事项 {milestone_id} 已从其计划中撤销", "retired")
        if expected_version is not None and expected_version != self.milestone.version:
            raise Changed(milestone_id)
        self.session, self.rules, self.actor, self.actor_id, self.now = (
            session, rules, actor, actor_id, now)
        self.today = rules.today(now)

    def require(self, states: frozenset[MilestoneState], action: str) -> None:
        if self.milestone.state not in states:
            word = _STATE_WORDS[self.milestone.state]
            raise ActionRefused(f"事项 {self.milestone.id} 当前状态为“{word}”，不能{action}",
                                "wrong_state")

    def record(self, kind: EventKind, reason: str | None = None, **data: Any) -> Event:
        event = record(self.session, kind, at=self.now, actor=self.actor,
                       actor_id=self.actor_id, reason=reason, milestone_id=self.milestone.id,
                       project_id=self.milestone.project_id, plan_id=self.plan_id,
                       unit_id=self.milestone.unit_id, data=data)
        self.session.flush()
        return event

    def bump(self) -> None:
        """Take the item's next version for an action that changes none of its columns, so
        that the same form sent twice (a double tap, a resent request with its version) is
        refused as changed rather than done twice."""
        milestone = self.milestone
        moved = self.session.execute(sa.update(Milestone).where(
            col(Milestone.id) == milestone.id, col(Milestone.version) == milestone.version)
            .values(version=milestone.version + 1, updated_at=self.now)
            .returning(col(Milestone.id)).execution_options(synchronize_session=False)).scalar()
        if moved is None:
            raise Changed(saved_id(milestone))
        self.session.refresh(milestone)

    def settle(self, why: str, **office_fields: Any) -> Milestone:
        """Recompute the status from every fact; write it with ``office_fields``."""
        milestone = self.milestone
        policy = self.rules.policy(self.plan_code)
        facts = milestone_facts(session=self.session, milestones=[milestone],
                                zone=self.rules.zone)[saved_id(milestone)]
        status = milestone_status(facts, self.today, self.rules.calendar,
                                  policy.due_soon_workdays)
        ladder = ladder_facts(session=self.session, milestones=[milestone],
                              due={saved_id(milestone): status.due_on})[saved_id(milestone)]
        level = reached_level(status, replace(ladder, **office_fields), policy)
        # An open item is looked at by the next sweep, which owns the ladder.
        next_check = self.today if status.is_open else None
        if not write_status(session=self.session, milestone=milestone, status=status,
                            level=level, next_check_on=next_check, now=self.now,
                            actor=self.actor, why=why, extra=office_fields):
            raise Changed(saved_id(milestone))
        return milestone


def claim_done(*, session: Session, rules: Rules, milestone_id: int, evidence: str, actor: str,
               now: datetime, actor_id: int | None = None,
               expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(CLAIMABLE, "申报完成")
    if not evidence.strip():
        raise ActionRefused("申报完成需要佐证：一段说明、一个文号或一个数字", "needs_evidence")
    event = act.record(EventKind.done_claimed, evidence=evidence.strip())
    return Recorded(act.settle("done claimed"), event)


def return_for_redo(*, session: Session, rules: Rules, milestone_id: int, reason: str,
                    actor: str, now: datetime, actor_id: int | None = None,
                    expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(frozenset({MilestoneState.claimed}), "退回重办")
    event = act.record(EventKind.returned, _required(reason, "退回重办"))
    return Recorded(act.settle("returned for redo"), event)


def close_out(*, session: Session, rules: Rules, milestone_id: int, actor: str, now: datetime,
              reason: str | None = None, actor_id: int | None = None,
              expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(frozenset({MilestoneState.claimed}), "销号")
    event = act.record(EventKind.closed, reason)
    return Recorded(act.settle("closed out"), event)


def reopen(*, session: Session, rules: Rules, milestone_id: int, reason: str, actor: str,
           now: datetime, actor_id: int | None = None,
           expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(REOPENABLE, "重新打开")
    event = act.record(EventKind.reopened, _required(reason, "重新打开"))
    return Recorded(act.settle("reopened"), event)


def waive(*, session: Session, rules: Rules, milestone_id: int, reason: str, actor: str,
          now: datetime, actor_id: int | None = None,
          expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(WAIVABLE, "豁免")
    event = act.record(EventKind.waived, _required(reason, "豁免"))
    return Recorded(act.settle("waived"), event)


def request_extension(*, session: Session, rules: Rules, milestone_id: int, proposed: date,
                      reason: str, actor: str, now: datetime,
                      actor_id: int | None = None,
                      expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(OPEN_STATES, "申请延期")
    if proposed <= act.milestone.due_on:
        raise ActionRefused(f"建议的截止日期 {proposed} 不晚于现行截止日期 "
                            f"{act.milestone.due_on}", "date_not_later")
    if pending_extension(session, milestone_id) is not None:
        raise ActionRefused("已有一项延期申请在等待督查室审批", "extension_pending")
    event = act.record(EventKind.extension_requested, _required(reason, "申请延期"),
               proposed_due_on=proposed.isoformat(), due_on=act.milestone.due_on.isoformat())
    return Recorded(act.milestone, event)


def decide_extension(*, session: Session, rules: Rules, milestone_id: int, approved: bool,
                     actor: str, now: datetime, new_due_on: date | None = None,
                     reason: str | None = None, actor_id: int | None = None,
                     expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    request = pending_extension(session, milestone_id)
    if not approved:
        reason = _required(reason, "不同意延期")
    if request is None:
        raise ActionRefused(f"事项 {milestone_id} 没有待审批的延期申请", "no_extension_request")
    due = new_due_on or request.read(ExtensionRequested).proposed_due_on
    if approved and due <= act.milestone.due_on:
        raise ActionRefused(f"新的截止日期 {due} 不晚于现行截止日期 {act.milestone.due_on}",
                            "date_not_later")
    requested_on = rules.today(request.at)
    event = act.record(EventKind.extension_decided, reason, approved=approved,
                       request_id=request.id, requested_on=requested_on.isoformat(),
                       new_due_on=due.isoformat(),
                       previous_due_on=act.milestone.due_on.isoformat())
    milestone = act.milestone
    if approved:  # a new due date starts a new ladder: acknowledgements belonged to the old one
        milestone = act.settle("extension approved", acknowledged_level=0)
    return Recorded(milestone, event)


def pending_extension(session: Session, milestone_id: int) -> Event | None:
    events = session.exec(select(Event).where(
        Event.milestone_id == milestone_id,
        col(Event.kind).in_([EventKind.extension_requested, EventKind.extension_decided]))
        .order_by(col(Event.id))).all()
    last = events[-1] if events else None
    return last if last is not None and last.kind == EventKind.extension_requested else None


def acknowledge(*, session: Session, rules: Rules, milestone_id: int, actor: str, now: datetime,
                reason: str | None = None, actor_id: int | None = None,
                expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(OPEN_STATES, "确认督办")
    level = act.milestone.level
    if level < 1:
        raise ActionRefused(f"事项 {milestone_id} 尚未升级督办：没有需要确认的", "not_escalated")
    event = act.record(EventKind.acknowledged, reason, level=level)
    return Recorded(act.settle("acknowledged", acknowledged_level=level), event)


def snooze(*, session: Session, rules: Rules, milestone_id: int, until: date, reason: str,
           actor: str, now: datetime, actor_id: int | None = None,
           expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(OPEN_STATES, "暂缓提醒")
    if until < act.today:
        raise ActionRefused(f"不能暂缓至 {until}：该日已过", "day_passed")
    event = act.record(EventKind.snoozed, _required(reason, "暂缓提醒"), until=until.isoformat())
    return Recorded(act.settle("snoozed", snoozed_until=until), event)


def mark_major(*, session: Session, rules: Rules, milestone_id: int, major: bool, reason: str,
               actor: str, now: datetime, actor_id: int | None = None,
               expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    kind = EventKind.marked_major if major else EventKind.unmarked_major
    event = act.record(kind, _required(reason, "列为或取消重大事项"))
    return Recorded(act.settle("major" if major else "not major", major=major), event)


def report_progress(*, session: Session, rules: Rules, milestone_id: int, actor: str,
                    now: datetime, percent: float | None = None, note: str | None = None,
                    actor_id: int | None = None,
                    expected_version: int | None = None) -> Recorded:
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(OPEN_STATES, "报告进度")
    if percent is not None and not 0 <= percent <= 100:
        raise ActionRefused(f"完成进度应在 0 到 100 之间，填写的是 {percent:g}", "invalid_percent")
    if percent is None and not (note or "").strip():
        raise ActionRefused("请给出完成进度、进度说明，或两者都给", "progress_empty")
    event = act.record(EventKind.progress_reported, note, percent=percent)
    return Recorded(act.milestone, event)


def _required(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise ActionRefused(f"{what}需要说明理由", "needs_reason")
    return reason.strip()


def instruct(*, session: Session, rules: Rules, milestone_id: int, text: str, actor: str,
             now: datetime, actor_id: int | None = None,
             expected_version: int | None = None) -> Recorded:
    """领导批示: a leader's instruction on an item, told to its unit and quoted in its next
    督办单. It changes no state."""
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(WAIVABLE, "批示")
    event = act.record(EventKind.instructed, _required(text, "批示"))
    act.bump()
    return Recorded(act.milestone, event)


def chase(*, session: Session, rules: Rules, milestone_id: int, actor: str, now: datetime,
          reason: str | None = None, actor_id: int | None = None,
          expected_version: int | None = None) -> Recorded:
    """催办 now: the office presses its unit, outside the ladder's rhythm. Each press is one
    event and one notice to each of the unit's owners and head; the ladder is unchanged. It
    takes the item's next version (``bump``): a press sent twice with its version is one."""
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(OPEN_STATES, "催办")
    event = act.record(EventKind.chased, reason)
    act.bump()
    return Recorded(act.milestone, event)


def transfer(*, session: Session, rules: Rules, milestone_id: int, to_unit: str, reason: str,
             actor: str, now: datetime, actor_id: int | None = None,
             expected_version: int | None = None) -> Recorded:
    """转办: hand an item to another unit (both are told). Its ladder and lateness stay: the
    new unit takes over the item as it stands."""
    act = _Act(session, rules, milestone_id, actor, actor_id, now, expected_version)
    act.require(WAIVABLE, "转办")
    unit = session.exec(select(Unit).where(Unit.code == to_unit.strip())).first()
    if unit is None:
        raise ActionRefused(f"没有代码为“{to_unit}”的单位（`duban units list` 列出全部）",
                            "unknown_unit")
    milestone = act.milestone
    if unit.id == milestone.unit_id:
        raise ActionRefused(f"事项 {milestone_id} 已由{unit.name}负责，无需转办", "same_unit")
    event = act.record(EventKind.transferred, _required(reason, "转办"),
                       from_unit_id=milestone.unit_id, to_unit_id=saved_id(unit))
    moved = session.execute(sa.update(Milestone).where(
        col(Milestone.id) == milestone.id, col(Milestone.version) == milestone.version)
        .values(unit_id=unit.id, version=milestone.version + 1, updated_at=now)
        .returning(col(Milestone.id)).execution_options(synchronize_session=False)).scalar()
    if moved is None:
        raise Changed(milestone_id)
    session.refresh(milestone)
    return Recorded(milestone, event)
