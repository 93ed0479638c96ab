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
    claim_done,
    close_out,
    decide_extension,
    mark_major,
    reopen,
    report_progress,
    request_extension,
    return_for_redo,
    snooze,
    waive,
)
from web.api_schemas import (
    AcknowledgeIn,
    CloseIn,
    DecisionIn,
    DoneIn,
    ExtensionIn,
    MajorIn,
    MilestoneDetail,
    MilestoneId,
    ProgressIn,
    ReasonIn,
    SnoozeIn,
)

Act = Callable[..., MilestoneDetail]


def router(act: Act, Caller: Any) -> APIRouter:  # noqa: N803 (a type alias)
    routes = APIRouter(prefix="/milestones/{milestone_id}", tags=["milestones"])

    @routes.post("/done", response_model=MilestoneDetail)
    def done(milestone_id: MilestoneId, body: DoneIn, me: Caller) -> MilestoneDetail:
        """Mark done with evidence (申报完成): the unit's owners and the office."""
        return act(me, milestone_id, Action.claim_done, claim_done, body.version,
                   evidence=body.evidence)

    @routes.post("/progress", response_model=MilestoneDetail)
    def progress(milestone_id: MilestoneId, body: ProgressIn, me: Caller) -> MilestoneDetail:
        """Report partial progress: a percent, a note, or both."""
        return act(me, milestone_id, Action.report_progress, report_progress, body.version,
                   percent=body.percent, note=body.note)

    @routes.post("/extension", response_model=MilestoneDetail)
    def extension(milestone_id: MilestoneId, body: ExtensionIn, me: Caller) -> MilestoneDetail:
        """Ask the office for a later due date, with a reason (申请延期)."""
        return act(me, milestone_id, Action.request_extension, request_extension, body.version,
                   proposed=body.proposed_due_on, reason=body.reason)

    @routes.post("/extension/decision", response_model=MilestoneDetail)
    def decision(milestone_id: MilestoneId, body: DecisionIn, me: Caller) -> MilestoneDetail:
        """Approve or reject the pending extension request: the office only."""
        return act(me, milestone_id, Action.decide_extension, decide_extension, body.version,
                   approved=body.approved, new_due_on=body.new_due_on, reason=body.reason)

    @routes.post("/acknowledge", response_model=MilestoneDetail)
    def acknowledged(milestone_id: MilestoneId, me: Caller,
                     body: AcknowledgeIn | None = None) -> MilestoneDetail:
        """Acknowledge the escalation reached (the body may be left out): the office only."""
        body = body or AcknowledgeIn()
        return act(me, milestone_id, Action.acknowledge, acknowledge, body.version,
                   reason=body.reason)

    @routes.post("/snooze", response_model=MilestoneDetail)
    def snoozed(milestone_id: MilestoneId, body: SnoozeIn, me: Caller) -> MilestoneDetail:
        """No reminders until a day, with a reason: the office only."""
        return act(me, milestone_id, Action.snooze, snooze, body.version, until=body.until,
                   reason=body.reason)

    @routes.post("/close", response_model=MilestoneDetail)
    def close(milestone_id: MilestoneId, me: Caller,
              body: CloseIn | None = None) -> MilestoneDetail:
        """Accept a done-claim (销号; the body may be left out): the office only."""
        body = body or CloseIn()
        return act(me, milestone_id, Action.close, close_out, body.version, reason=body.reason)

    @routes.post("/return", response_model=MilestoneDetail)
    def send_back(milestone_id: MilestoneId, body: ReasonIn, me: Caller) -> MilestoneDetail:
        """Send a done-claim back to be redone, with a reason (退回重办): the office only."""
        return act(me, milestone_id, Action.return_for_redo, return_for_redo, body.version,
                   reason=body.reason)

    @routes.post("/reopen", response_model=MilestoneDetail)
    def reopened(milestone_id: MilestoneId, body: ReasonIn, me: Caller) -> MilestoneDetail:
        """Reopen a closed or waived milestone, with a reason: the office only."""
        return act(me, milestone_id, Action.reopen, reopen, body.version, reason=body.reason)

    @routes.post("/waive", response_model=MilestoneDetail)
    def waived(milestone_id: MilestoneId, body: ReasonIn, me: Caller) -> MilestoneDetail:
        """Waive an open or claimed milestone (豁免), with a reason: the office only."""
        return act(me, milestone_id, Action.waive, waive, body.version, reason=body.reason)

    @routes.post("/major", response_model=MilestoneDetail)
    def major(milestone_id: MilestoneId, body: MajorIn, me: Caller) -> MilestoneDetail:
        """Mark a milestone major (its escalation starts higher), or unmark it: the office
        only."""
        return act(me, milestone_id, Action.mark_major, mark_major, body.version,
                   major=body.major, reason=body.reason)

    return routes
