"""One milestone's page: what it is, its history, and the forms for the actions taken on it.

Every action is a form that POSTs to ``/milestones/{id}/<action>``: ``MayAct`` (web.dependencies)
checks who may and the CSRF token, then FastAPI reads the form with the API's body for that
action (web.forms; a field that cannot be read is refused in Chinese, naming it, 422, nothing
stored), and the route takes the action through ``Web.act``, which checks the version the page
showed. The page offers a person only the forms their role allows (``web.may``) and the item's
state fits (``offers``), so a form shown is a form that can succeed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from models.rules.permissions import Action
from models.rules.status import OPEN_STATES
from models.store.actions import (
    REOPENABLE,
    WAIVABLE,
    acknowledge,
    chase,
    claim_done,
    close_out,
    decide_extension,
    instruct,
    mark_major,
    pending_extension,
    reopen,
    report_progress,
    request_extension,
    return_for_redo,
    snooze,
    transfer,
    waive,
)
from models.store.co_units import co_units_of
from models.store.light_changes import history_of
from models.store.orders import may_sign, order_rows
from models.store.readings import report_indicator_value
from models.store.status_view import milestone_lights
from models.tables.attachment import Attachment
from models.tables.columns import saved_id
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.indicator import Indicator
from models.tables.milestone import Milestone, MilestoneState
from models.tables.person import Person
from models.tables.unit import Unit
from web import attachments
from web.dependencies import (
    Acting,
    CurrentUser,
    May,
    Refused,
    SessionDep,
    WebDep,
    visible_milestone,
)
from web.forms import (
    AcknowledgeForm,
    ApproveForm,
    ChaseForm,
    CloseForm,
    DoneForm,
    ExtensionForm,
    IndicatorForm,
    InstructForm,
    MajorForm,
    ProgressForm,
    RejectForm,
    ReopenForm,
    ReturnForm,
    SnoozeForm,
    TransferForm,
    WaiveForm,
)
from web.history import lines

ITEM_ACTIONS = tuple(a for a in Action
                     if a not in (Action.view_item, Action.manage_people, Action.view_outbox))
router = APIRouter()


# ── what the page offers ────────────────────────────────────────────────────────────────────

def offers(can: dict[str, bool], milestone: Milestone, pending: bool,
           has_indicators: bool) -> dict[str, bool]:
    """Which forms to show: allowed for this person, and fitting the item's state now (the
    same conditions the actions check)."""
    state = milestone.state
    is_open = state in OPEN_STATES
    unacknowledged = milestone.level >= 1 and milestone.acknowledged_level < milestone.level
    return {
        "progress": can["report_progress"] and is_open,
        "indicator": can["report_progress"] and has_indicators,
        "done": can["claim_done"] and is_open,
        "extension": can["request_extension"] and is_open and not pending,
        "decide": can["decide_extension"] and pending,
        "acknowledge": can["acknowledge"] and is_open and unacknowledged,
        "snooze": can["snooze"] and is_open,
        "close": can["close"] and state == MilestoneState.claimed,
        "return": can["return_for_redo"] and state == MilestoneState.claimed,
        "waive": can["waive"] and state in WAIVABLE,
        "reopen": can["reopen"] and state in REOPENABLE,
        "major": can["mark_major"],
        "instruct": can["instruct"] and state in WAIVABLE,
        # A claim is the office's to judge first: no pressing or handing on while it waits.
        "chase": can["chase"] and is_open and state != MilestoneState.claimed,
        "transfer": can["transfer"] and is_open and state != MilestoneState.claimed,
    }


def page_facts(db: Session, milestone: Milestone, zone: tzinfo) -> dict[str, Any]:
    """The history in people's words (newest first, web.history), the claims' files, the
    claim being judged and the latest progress, the pending extension request and the
    project's indicators."""
    history = history_of(db, [milestone.id], newest_first=True)
    pending = pending_extension(db, saved_id(milestone))
    said = {line.event_id: line for line in lines(db, history, zone)}
    files: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in db.exec(select(Attachment).where(Attachment.milestone_id == milestone.id)
                              .order_by(col(Attachment.id))):
        files[attachment.event_id].append(attachment)
    indicators = db.exec(select(Indicator).where(
        Indicator.project_id == milestone.project_id, col(Indicator.retired_at).is_(None))
        .order_by(col(Indicator.seq))).all()
    claim = next((e for e in history if e.kind == EventKind.done_claimed), None)
    instructions = [said[saved_id(e)] for e in history if e.kind == EventKind.instructed]
    progress = next((e for e in history if e.kind == EventKind.progress_reported
                     and e.data.get("percent") is not None), None)
    return {"history": list(said.values()), "files": files,
            "pending": pending,
            "pending_line": said.get(saved_id(pending)) if pending else None,
            "indicators": indicators, "instructions": instructions,
            "orders": order_rows(db, zone, milestone_id=milestone.id),
            "claim": said[saved_id(claim)] if claim is not None else None,
            "progress": None if progress is None else {
                "percent": progress.data["percent"], "line": said[saved_id(progress)]}}


@router.get("/milestones/{milestone_id}", response_class=HTMLResponse)
def item(request: Request, milestone_id: int, web: WebDep, db: SessionDep,
         me: CurrentUser) -> Response:
    milestone = visible_milestone(web, db, me, milestone_id)
    now = web.now()
    light = next(iter(milestone_lights(session=db, rules=web.rules, now=now,
                                       milestone_id=milestone_id)), None)
    if light is None:  # lights are computed for current items only
        raise Refused(404, "已移出规划", "此事项已从规划中移出，不再督办。", me)
    facts = page_facts(db, milestone, web.rules.zone)
    co_units = co_units_of(db, milestone.id)
    co = frozenset(saved_id(u) for u in co_units)
    can = {a.value: web.may(me, a, milestone.unit_id, co) for a in ITEM_ACTIONS}
    shown = offers(can, milestone, facts["pending"] is not None, bool(facts["indicators"]))
    signable = {o["id"] for o in facts["orders"]
                if o["received_at"] is None and may_sign(me, o["unit_id"])}
    units = db.exec(select(Unit).where(Unit.id != milestone.unit_id)
                    .order_by(col(Unit.code))).all() if shown["transfer"] else []
    return web.page(request, "item.html", me=me, item=light, milestone=milestone,
                    signable=signable, units=units,
                    version=milestone.version, offers=shown, today=web.rules.today(now),
                    co_units=co_units,
                    after_due=milestone.due_on + timedelta(days=1),
                    accept=attachments.ACCEPT, max_files=attachments.MAX_FILES,
                    max_size=attachments.megabytes(web.settings.attachment_max_bytes),
                    **facts)


@router.post("/milestones/{milestone_id}/done")
def done(act: Annotated[Acting, May(Action.claim_done)],
         form: Annotated[DoneForm, Form()]) -> Response:
    """The claim and its files, all or nothing: the files are written before the claim's
    transaction commits, and removed if it does not."""
    uploads = [(DoneForm.name_of(f), f.file) for f in form.files]
    folder = act.web.settings.data_dir / "attachments"
    stored: list[attachments.Stored] = []

    def attach(db: Session, me: Person) -> None:
        if not uploads:
            return
        event = db.exec(select(Event).where(Event.milestone_id == act.milestone_id,
                                            Event.kind == EventKind.done_claimed)
                        .order_by(col(Event.id).desc())).first()
        assert event is not None  # claim_done has just recorded it in this transaction
        stored.extend(attachments.store_uploads(uploads, folder,
                                                act.web.settings.attachment_max_bytes))
        db.add_all(Attachment(milestone_id=act.milestone_id, event_id=event.id, name=s.name,
                              content_type=s.kind.content_type, size=s.size, sha256=s.sha256,
                              stored_as=s.stored_as, uploaded_by_id=me.id,
                              uploaded_at=event.at) for s in stored)

    response = None
    try:
        said = "已申报完成，等待督查室核实销号。" + (f"已附 {len(uploads)} 个佐证材料。"
                                                   if uploads else "")
        response = act(claim_done, form.version, attach, said, evidence=form.evidence)
    except attachments.UploadRefused as refused:
        response = act.web.error(act.request, refused.status, "输入有误", str(refused), act.me)
    finally:  # the rows were not committed: their files must not stay behind
        if response is None or response.status_code != 303:
            attachments.discard(folder, [s.stored_as for s in stored])
    return response


@router.post("/milestones/{milestone_id}/progress")
def progress(act: Annotated[Acting, May(Action.report_progress)],
             form: Annotated[ProgressForm, Form()]) -> Response:
    return act(report_progress, form.version, said="进度已报告。", percent=form.percent,
               note=form.note)


@router.post("/milestones/{milestone_id}/indicator")
def indicator(act: Annotated[Acting, May(Action.report_progress)],
              form: Annotated[IndicatorForm, Form()]) -> Response:
    return act(report_indicator_value, form.version, said="指标完成值已报告。",
               indicator_id=form.indicator_id, value=form.value)


@router.post("/milestones/{milestone_id}/extension")
def extension(act: Annotated[Acting, May(Action.request_extension)],
              form: Annotated[ExtensionForm, Form()]) -> Response:
    return act(request_extension, form.version, said="延期申请已提交，等待督查室审批。",
               proposed=form.proposed_due_on, reason=form.reason)


@router.post("/milestones/{milestone_id}/extension/approve")
def approve(act: Annotated[Acting, May(Action.decide_extension)],
            form: Annotated[ApproveForm, Form()]) -> Response:
    return act(decide_extension, form.version, said="已同意延期，截止日期已更改。",
               approved=True, reason=form.reason, new_due_on=form.new_due_on)


@router.post("/milestones/{milestone_id}/extension/reject")
def reject(act: Annotated[Acting, May(Action.decide_extension)],
           form: Annotated[RejectForm, Form()]) -> Response:
    return act(decide_extension, form.version, said="已不同意延期，截止日期不变。",
               approved=False, reason=form.reason)


@router.post("/milestones/{milestone_id}/acknowledge")
def acknowledged(act: Annotated[Acting, May(Action.acknowledge)],
                 form: Annotated[AcknowledgeForm, Form()]) -> Response:
    return act(acknowledge, form.version, said="已确认督办。", reason=form.reason)


@router.post("/milestones/{milestone_id}/snooze")
def snoozed(act: Annotated[Acting, May(Action.snooze)],
            form: Annotated[SnoozeForm, Form()]) -> Response:
    return act(snooze, form.version, said=f"已暂缓提醒至 {form.until}。", until=form.until,
               reason=form.reason)


@router.post("/milestones/{milestone_id}/reopen")
def reopened(act: Annotated[Acting, May(Action.reopen)],
             form: Annotated[ReopenForm, Form()]) -> Response:
    return act(reopen, form.version, said="事项已重新打开。", reason=form.reason)


@router.post("/milestones/{milestone_id}/waive")
def waived(act: Annotated[Acting, May(Action.waive)],
           form: Annotated[WaiveForm, Form()]) -> Response:
    return act(waive, form.version, said="事项已豁免。", reason=form.reason)


@router.post("/milestones/{milestone_id}/major")
def major(act: Annotated[Acting, May(Action.mark_major)],
          form: Annotated[MajorForm, Form()]) -> Response:
    return act(mark_major, form.version,
               said="已列为重大事项。" if form.major else "已取消重大事项。",
               major=form.major, reason=form.reason)


@router.post("/milestones/{milestone_id}/close")
def close(act: Annotated[Acting, May(Action.close)],
          form: Annotated[CloseForm, Form()]) -> Response:
    return act(close_out, form.version, said="已销号。", reason=form.reason)


@router.post("/milestones/{milestone_id}/return")
def send_back(act: Annotated[Acting, May(Action.return_for_redo)],
              form: Annotated[ReturnForm, Form()]) -> Response:
    return act(return_for_redo, form.version, said="已退回重办。",
               reason=form.reason)


@router.post("/milestones/{milestone_id}/instruction")
def instruction(act: Annotated[Acting, May(Action.instruct)],
                form: Annotated[InstructForm, Form()]) -> Response:
    return act(instruct, form.version, said="批示已记录，并已通知责任单位。", text=form.text)


@router.post("/milestones/{milestone_id}/chase")
def chased(act: Annotated[Acting, May(Action.chase)],
           form: Annotated[ChaseForm, Form()]) -> Response:
    """One press, one 催办: the form's version refuses the same form sent twice."""
    return act(chase, form.version, said="已催办，责任单位负责人和项目负责人将收到通知。",
               reason=form.reason)


@router.post("/milestones/{milestone_id}/transfer")
def transferred(act: Annotated[Acting, May(Action.transfer)],
                form: Annotated[TransferForm, Form()]) -> Response:
    return act(transfer, form.version, said="已转办，原单位和接办单位都将收到通知。",
               to_unit=form.to_unit, reason=form.reason)
