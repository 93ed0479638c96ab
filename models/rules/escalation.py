"""The escalation ladder: which notices an item is owed today. Pure: facts and a day in, steps out.

A step is (level, repeat) within one due date in force; ``repeat`` counts the notices already
recorded at that level (0 is the first), so steps form a dense sequence and a missed sweep
delays a step rather than skipping it. The database keeps each step under a unique key
(milestone, due date, level, repeat), which is what makes a step happen once.

Rules, for an open item not snoozed (see config/policy.yaml for the numbers):
1. Level 1 starts when the item turns due soon (reason ``due_soon``) and comes again on its due
   date (``due_today``, or ``overdue`` when the sweep first sees it after that).
2. Level L > 1 starts when the item has been overdue ``after_overdue_workdays`` working days. A
   binding item climbs one level sooner: it reaches level L at level L-1's threshold, and level
   2 on its first overdue working day. A major item starts at ``major_start_level``.
3. An item first seen past several levels at once (first seen late, after downtime, or after
   a snooze) gets ONE catch-up step at the level it has reached (reason ``catch_up``), naming
   the levels it skipped; its notice goes to the people of every level it covers, each once.
   That is what a person wants — one notice, not three the same morning — and a level below
   one recorded is never owed again.
4. Only the highest level repeats, every ``repeat_workdays`` after its previous notice, until
   the office acknowledges that level; the climb goes on regardless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from config.plan_file import Commitment
from config.policy import Policy
from models.rules.status import Status
from models.rules.workdays import WorkCalendar
from models.tables.milestone import MilestoneState


class Reason(StrEnum):
    due_soon = "due_soon"      # 临期提醒
    due_today = "due_today"    # 今日到期
    overdue = "overdue"        # 已逾期
    climbed = "climbed"        # 逾期升级
    binding = "binding"        # 约束性事项提前升级
    major = "major"            # 重大事项起始级别较高
    repeat = "repeat"          # 未办结再次提醒
    catch_up = "catch_up"      # 首次发现即已越过数级：一次告知


@dataclass(frozen=True)
class Sent:
    level: int
    repeat: int
    on: date


@dataclass(frozen=True)
class Step:
    level: int
    repeat: int
    reason: Reason
    skipped: tuple[int, ...] = ()  # a catch-up step's levels below it, never sent on their own


@dataclass(frozen=True)
class LadderFacts:
    commitment: Commitment | None    # None: the plan gives no 约束性/预期性
    major: bool
    sent: tuple[Sent, ...]           # steps recorded for the due date in force
    acknowledged_level: int          # repeats stop at this level and below
    snoozed_until: date | None


def reached_level(status: Status, facts: LadderFacts, policy: Policy) -> int:
    """The ladder level the item has reached today (0: none)."""
    if status.state is MilestoneState.due_soon:
        level = 1
    elif status.state is MilestoneState.overdue:
        level = 1
        for rung in policy.ladder[1:]:
            if status.overdue_workdays >= _threshold(rung.level, facts, policy):
                level = rung.level
    else:
        return 0
    return max(level, policy.major_start_level) if facts.major else level


def _threshold(level: int, facts: LadderFacts, policy: Policy) -> int:
    if facts.commitment is Commitment.binding and policy.binding_climbs_sooner:
        return 1 if level == 2 else policy.level(level - 1).after_overdue_workdays
    return policy.level(level).after_overdue_workdays


def steps_due(status: Status, facts: LadderFacts, policy: Policy, today: date,
              calendar: WorkCalendar) -> list[Step]:
    if not status.is_open or (facts.snoozed_until is not None and today <= facts.snoozed_until):
        return []
    top = reached_level(status, facts, policy)
    if top == 0:
        return []
    first = policy.major_start_level if facts.major else 1
    latest = {s.level: s for s in sorted(facts.sent, key=lambda s: (s.level, s.repeat))}
    covered = max(latest, default=0)
    owed = [level for level in range(first, top + 1) if level > covered]
    steps = []
    if len(owed) == 1:
        steps.append(Step(top, 0, _first_reason(top, status, facts, policy)))
    elif owed:
        steps.append(Step(top, 0, Reason.catch_up, skipped=tuple(owed[:-1])))
    previous = latest.get(top)
    if previous is not None and top > facts.acknowledged_level:
        if _repeat_is_due(previous, top, status, policy, today, calendar):
            steps.append(Step(top, previous.repeat + 1, _repeat_reason(previous, top, status)))
    return steps


def _first_reason(level: int, status: Status, facts: LadderFacts, policy: Policy) -> Reason:
    if level == 1:
        return Reason.due_soon if status.state is MilestoneState.due_soon else Reason.overdue
    if facts.major and level == policy.major_start_level:
        return Reason.major
    if facts.commitment is Commitment.binding and policy.binding_climbs_sooner and \
            status.overdue_workdays < policy.level(level).after_overdue_workdays:
        return Reason.binding
    return Reason.climbed


def _repeat_is_due(previous: Sent, level: int, status: Status, policy: Policy, today: date,
                   calendar: WorkCalendar) -> bool:
    if level == 1 and previous.repeat == 0 and previous.on < status.due_on:
        return today >= status.due_on  # the second reminder falls on the due date itself
    return today >= calendar.add_workdays(previous.on, policy.level(level).repeat_workdays)


def _repeat_reason(previous: Sent, level: int, status: Status) -> Reason:
    if level == 1 and previous.repeat == 0 and previous.on < status.due_on:
        return Reason.due_today if status.state is not MilestoneState.overdue else Reason.overdue
    return Reason.repeat


def next_step_on(status: Status, facts: LadderFacts, policy: Policy, today: date,
                 calendar: WorkCalendar) -> date | None:
    """The first day after today on which ``steps_due`` could return a step (None: never)."""
    if not status.is_open:
        return None
    if facts.snoozed_until is not None and today <= facts.snoozed_until:
        return calendar.add_workdays(facts.snoozed_until, 1)
    candidates: list[date] = []
    if status.state is MilestoneState.overdue or today >= status.due_soon_from:
        for rung in policy.ladder[1:]:
            day = calendar.add_workdays(status.due_on, _threshold(rung.level, facts, policy))
            if day > today:
                candidates.append(day)
    top = reached_level(status, facts, policy)
    previous = max((s for s in facts.sent if s.level == top), key=lambda s: s.repeat,
                   default=None)
    if previous is not None and top > facts.acknowledged_level:
        if top == 1 and previous.repeat == 0 and previous.on < status.due_on:
            candidates.append(status.due_on)
        else:
            candidates.append(calendar.add_workdays(previous.on, policy.level(top).repeat_workdays))
    return min((d for d in candidates if d > today), default=None)
