"""The API's changes to a milestone: one route per action of models.store.actions.

Each route only maps its body onto the action's arguments; who may, the version, the event
and the answer are `act`'s (web.api), the same for all of them. Every route answers the
milestone after the change, as GET /api/milestones/{id} does.

No ``from __future__ import annotations``: ``Caller`` is passed in and read at definition time.
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from models.rules.permissions import Action
from models.store.actions import (
    acknowledge,
    chase,
    claim_done,
    close_out,
    decide_extension,
    instruct,
    mark_major,
    reopen,
    report_progress,
    request_extension,
    return_for_redo,
    snooze,
    transfer,
    waive,
)
from web.api_schemas import (
    AcknowledgeIn,
    ChaseIn,
    CloseIn,
    DecisionIn,
    DoneIn,
    ExtensionIn,
    InstructionIn,
    MajorIn,
    MilestoneDetail,
    MilestoneId,
    ProgressIn,
    ReasonIn,
    SnoozeIn,
    TransferIn,
)

Act = Callable[..., MilestoneDetail]


def router(act: Act, Caller: Any) -> APIRouter:  # noqa: N803 (a type alias)
    routes = APIRouter(prefix="/milestones/{milestone_id}", tags=["milestones"])

    @routes.post("/done", response_model=MilestoneDetail, summary="申报完成")
    def done(milestone_id: MilestoneId, body: DoneIn, me: Caller) -> MilestoneDetail:
        """申报完成，附完成情况说明（佐证）：本单位人员和督查室。"""
        return act(me, milestone_id, Action.claim_done, claim_done, body.version,
                   evidence=body.evidence)

    @routes.post("/progress", response_model=MilestoneDetail, summary="报告进度")
    def progress(milestone_id: MilestoneId, body: ProgressIn, me: Caller) -> MilestoneDetail:
        """报告阶段进度：完成百分比、进度说明，或两者。"""
        return act(me, milestone_id, Action.report_progress, report_progress, body.version,
                   percent=body.percent, note=body.note)

    @routes.post("/extension", response_model=MilestoneDetail, summary="申请延期")
    def extension(milestone_id: MilestoneId, body: ExtensionIn, me: Caller) -> MilestoneDetail:
        """向督查室申请推迟截止日期，须说明理由。"""
        return act(me, milestone_id, Action.request_extension, request_extension, body.version,
                   proposed=body.proposed_due_on, reason=body.reason)

    @routes.post("/extension/decision", response_model=MilestoneDetail, summary="审批延期")
    def decision(milestone_id: MilestoneId, body: DecisionIn, me: Caller) -> MilestoneDetail:
        """同意或不同意待审批的延期申请：仅督查室。"""
        return act(me, milestone_id, Action.decide_extension, decide_extension, body.version,
                   approved=body.approved, new_due_on=body.new_due_on, reason=body.reason)

    @routes.post("/acknowledge", response_model=MilestoneDetail, summary="确认督办")
    def acknowledged(milestone_id: MilestoneId, me: Caller,
                     body: AcknowledgeIn | None = None) -> MilestoneDetail:
        """确认事项已达到的督办级别（可不带请求体）：仅督查室。"""
        body = body or AcknowledgeIn()
        return act(me, milestone_id, Action.acknowledge, acknowledge, body.version,
                   reason=body.reason)

    @routes.post("/snooze", response_model=MilestoneDetail, summary="暂缓提醒")
    def snoozed(milestone_id: MilestoneId, body: SnoozeIn, me: Caller) -> MilestoneDetail:
        """在某日之前不再提醒，须说明理由：仅督查室。"""
        return act(me, milestone_id, Action.snooze, snooze, body.version, until=body.until,
                   reason=body.reason)

    @routes.post("/close", response_model=MilestoneDetail, summary="销号")
    def close(milestone_id: MilestoneId, me: Caller,
              body: CloseIn | None = None) -> MilestoneDetail:
        """认可申报完成，予以销号（可不带请求体）：仅督查室。"""
        body = body or CloseIn()
        return act(me, milestone_id, Action.close, close_out, body.version, reason=body.reason)

    @routes.post("/return", response_model=MilestoneDetail, summary="退回重办")
    def send_back(milestone_id: MilestoneId, body: ReasonIn, me: Caller) -> MilestoneDetail:
        """将申报完成退回重办，须说明原因：仅督查室。"""
        return act(me, milestone_id, Action.return_for_redo, return_for_redo, body.version,
                   reason=body.reason)

    @routes.post("/reopen", response_model=MilestoneDetail, summary="重新打开")
    def reopened(milestone_id: MilestoneId, body: ReasonIn, me: Caller) -> MilestoneDetail:
        """重新打开已销号或已豁免的事项，须说明理由：仅督查室。"""
        return act(me, milestone_id, Action.reopen, reopen, body.version, reason=body.reason)

    @routes.post("/waive", response_model=MilestoneDetail, summary="豁免")
    def waived(milestone_id: MilestoneId, body: ReasonIn, me: Caller) -> MilestoneDetail:
        """豁免未完成或已申报的事项，须说明理由：仅督查室。"""
        return act(me, milestone_id, Action.waive, waive, body.version, reason=body.reason)

    @routes.post("/major", response_model=MilestoneDetail, summary="列为或取消重大事项")
    def major(milestone_id: MilestoneId, body: MajorIn, me: Caller) -> MilestoneDetail:
        """列为重大事项（督办从更高级别起步），或取消：仅督查室。"""
        return act(me, milestone_id, Action.mark_major, mark_major, body.version,
                   major=body.major, reason=body.reason)

    @routes.post("/instruction", response_model=MilestoneDetail, summary="领导批示")
    def instruction(milestone_id: MilestoneId, body: InstructionIn,
                    me: Caller) -> MilestoneDetail:
        """领导对分管范围内的事项作出批示：记入事项记录，通知责任单位，并载入其下一份督办单。"""
        return act(me, milestone_id, Action.instruct, instruct, body.version, text=body.text)

    @routes.post("/chase", response_model=MilestoneDetail, summary="催办")
    def chased(milestone_id: MilestoneId, me: Caller,
               body: ChaseIn | None = None) -> MilestoneDetail:
        """立即催办：通知责任单位的负责人和项目负责人，每次调用一次（带上 `version`，重复提交
        同一次催办会因版本已变而被拒绝，不会重复催办）：仅督查室。"""
        body = body or ChaseIn()
        return act(me, milestone_id, Action.chase, chase, body.version, reason=body.reason)

    @routes.post("/transfer", response_model=MilestoneDetail, summary="转办")
    def transferred(milestone_id: MilestoneId, body: TransferIn,
                    me: Caller) -> MilestoneDetail:
        """将事项转交另一单位办理，须说明理由；原单位和接办单位都会收到通知：仅督查室。"""
        return act(me, milestone_id, Action.transfer, transfer, body.version,
                   to_unit=body.to_unit, reason=body.reason)

    return routes
