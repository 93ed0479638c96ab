"""One office decision over many milestones at once: 销号, 退回, 确认督办, 暂缓, 延期审批.

All or nothing:
1. Every item is held to the permission table (models.rules.permissions) as if acted on
   alone, before anything is done: one item the person may not touch refuses the whole.
2. Each item's action runs through services.milestone_actions.take, in one transaction, with
   the version the person saw when one is given; the first refusal (wrong state, a stale
   version, a missing reason) is collected, the others are still tried so that the answer
   names every item at fault, and then the transaction is rolled back: nothing changes.
3. Otherwise everything is committed together, each item with its own event and
   confirmation, and the summary says what was done to which item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from config.settings import Settings
from models.rules.permissions import Action, allowed
from models.rules.rulebook import Rules
from models.store.actions import (
    ActionRefused,
    Changed,
    Recorded,
    acknowledge,
    close_out,
    decide_extension,
    return_for_redo,
    snooze,
)
from models.tables.milestone import Milestone, MilestoneState
from models.tables.person import Person
from services.milestone_actions import take

MAX_ITEMS = 200


class BulkAction(StrEnum):
    close = "close"
    return_ = "return"
    acknowledge = "acknowledge"
    snooze = "snooze"
    approve_extension = "approve_extension"
    reject_extension = "reject_extension"


WORDS = {BulkAction.close: "销号", BulkAction.return_: "退回重办",
         BulkAction.acknowledge: "确认督办", BulkAction.snooze: "暂缓提醒",
         BulkAction.approve_extension: "同意延期", BulkAction.reject_extension: "不同意延期"}
STATE_WORDS = {"pending": "未到期", "due_soon": "临期", "overdue": "已逾期",
               "claimed": "已申报完成", "closed": "已销号", "returned": "退回重办",
               "waived": "已豁免"}
_PERMISSION = {BulkAction.close: Action.close, BulkAction.return_: Action.return_for_redo,
               BulkAction.acknowledge: Action.acknowledge, BulkAction.snooze: Action.snooze,
               BulkAction.approve_extension: Action.decide_extension,
               BulkAction.reject_extension: Action.decide_extension}


@dataclass(frozen=True)
class Done:
    milestone_id: int
    title: str
    state: str


@dataclass(frozen=True)
class Refusal:
    milestone_id: int
    title: str | None
    why: str


class BulkRefused(Exception):
    """Nothing was done; ``refusals`` names each item at fault and why."""

    def __init__(self, action: BulkAction, refusals: list[Refusal], forbidden: bool) -> None:
        self.action, self.refusals, self.forbidden = action, refusals, forbidden
        names = "；".join(f"{r.title or '事项'}（{r.milestone_id}）：{r.why}" for r in refusals)
        super().__init__(f"批量{WORDS[action]}未执行，没有任何事项被改动。{names}")


def _step(action: BulkAction, reason: str | None, until: date | None
          ) -> tuple[Callable[..., Recorded], dict[str, Any]]:
    if action is BulkAction.close:
        return close_out, {"reason": reason}
    if action is BulkAction.return_:
        return return_for_redo, {"reason": reason or ""}
    if action is BulkAction.acknowledge:
        return acknowledge, {"reason": reason}
    if action is BulkAction.snooze:
        if until is None:
            raise ValueError("暂缓提醒需要给出暂缓至哪一天")
        return snooze, {"until": until, "reason": reason or ""}
    return decide_extension, {"approved": action is BulkAction.approve_extension,
                              "reason": reason}


def take_all(*, session: Session, settings: Settings, rules: Rules, me: Person,
             action: BulkAction, ids: list[int], now: datetime, reason: str | None = None,
             until: date | None = None, versions: dict[int, int] | None = None) -> list[Done]:
    """Do ``action`` to every milestone of ``ids`` in ``session``'s transaction and commit, or
    raise BulkRefused having changed nothing (see the module's steps)."""
    if not ids:
        raise ValueError("请至少选择一项")
    if len(ids) > MAX_ITEMS or len(set(ids)) != len(ids):
        raise ValueError(f"一次最多 {MAX_ITEMS} 项，且每项只能出现一次")
    do, specific = _step(action, reason, until)
    found = {i: session.get(Milestone, i) for i in ids}
    forbidden = [Refusal(i, m.title if m else None, "没有这个事项" if m is None else
                         "您无权对该事项执行此操作")
                 for i, m in found.items()
                 if m is None or not allowed(role=me.role, person_unit_id=me.unit_id,
                                             action=_PERMISSION[action],
                                             item_unit_id=m.unit_id, active=me.active)]
    if forbidden:
        raise BulkRefused(action, forbidden, forbidden=True)
    titles = {i: m.title for i, m in found.items() if m is not None}
    done: list[Done] = []
    refusals: list[Refusal] = [
        Refusal(i, m.title, f"该事项{STATE_WORDS.get(m.state, m.state)}，只有已申报完成（待核实）"
                            f"的事项可以{WORDS[action]}")
        for i, m in found.items()
        if m is not None and action in (BulkAction.close, BulkAction.return_)
        and m.state is not MilestoneState.claimed]
    for milestone_id in ids:
        if any(r.milestone_id == milestone_id for r in refusals):
            continue
        try:
            with session.begin_nested():  # a refused item leaves nothing behind to flush
                after = take(do, session=session, settings=settings, rules=rules,
                             milestone_id=milestone_id, actor=me.email, actor_id=me.id,
                             now=now, expected_version=(versions or {}).get(milestone_id),
                             **specific)
            done.append(Done(milestone_id, titles[milestone_id], after.state.value))
        except Changed:
            refusals.append(Refusal(milestone_id, titles[milestone_id],
                                    "该事项已被他人修改，请刷新列表后重试"))
        except ActionRefused as refused:
            refusals.append(Refusal(milestone_id, titles[milestone_id],
                                    f"操作不适用于该事项（{refused}）"))
    if refusals:
        session.rollback()
        raise BulkRefused(action, refusals, forbidden=False)
    session.commit()
    return done
