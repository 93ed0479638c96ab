"""One milestone's page: what it is, its history, and the forms for the actions taken on it.

Every action is a form that POSTs to ``/milestones/{id}/<action>`` and goes through
``web.act``, which checks who may, the CSRF token and the version the page showed. The form's
fields are read inside that step, after those checks: a field that cannot be read (a malformed
date or number, a missing reason) is refused with a Chinese message naming the field (422),
nothing is stored, and someone who may not act learns nothing from a form error.
The page offers a person only the forms their role allows (``web.may``) and the item's state
fits (``offers``), so a form shown is a form that can succeed.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any, Literal, overload

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from models.rules.permissions import Action
from models.rules.status import OPEN_STATES, Decision
from models.store.actions import (
    REOPENABLE,
    WAIVABLE,
    Recorded,
    acknowledge,
    claim_done,
    close_out,
    decide_extension,
    mark_major,
    pending_extension,
    reopen,
    report_progress,
    request_extension,
    return_for_redo,
    snooze,
    waive,
)
from models.store.readings import report_indicator_value
from models.store.status_view import milestone_lights
from models.tables.attachment import Attachment
from models.tables.columns import saved_id
from models.tables.event import Event
from models.tables.indicator import Indicator
from models.tables.milestone import Milestone, MilestoneState
from models.tables.person import Person
from web import attachments
from web.context import Web

ITEM_ACTIONS = tuple(a for a in Action
                     if a not in (Action.view_item, Action.manage_people, Action.view_outbox))
CLAIM_KIND = f"milestone.{Decision.claimed.value}"
Text = Annotated[str, Form()]
Version = Annotated[int | None, Form()]


class FormInvalid(ValueError):
    """A field that cannot be read; the message (Chinese) names it."""

    status = 422


# ── reading the forms ───────────────────────────────────────────────────────────────────────

@overload
def form_date(text: str, field: str, *, required: Literal[True] = True) -> date: ...
@overload
def form_date(text: str, field: str, *, required: bool) -> date | None: ...
def form_date(text: str, field: str, *, required: bool = True) -> date | None:
    text = text.strip()
    if not text:
        if required:
            raise FormInvalid(f"请填写“{field}”。")
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise FormInvalid(f"“{field}”不是有效的日期：{text[:40]}"
                          "（应为 年-月-日，例如 2026-12-31）。") from None


def form_number(text: str, field: str, *, low: float | None = None,
                high: float | None = None) -> float | None:
    """A number, or None for an empty field; thousands separators and a trailing % are
    allowed, since people copy figures from documents."""
    cleaned = text.strip().replace(",", "").removesuffix("%").removesuffix("％").strip()
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise FormInvalid(f"“{field}”不是有效的数字：{text.strip()[:40]}。")
    if (low is not None and value < low) or (high is not None and value > high):
        raise FormInvalid(f"“{field}”应在 {low:g} 到 {high:g} 之间，填写的是 {value:g}。")
    return value


def form_reason(text: str, field: str) -> str:
    if not text.strip():
        raise FormInvalid(f"请填写“{field}”。")
    return text.strip()


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
    }


def page_facts(db: Session, milestone: Milestone) -> dict[str, Any]:
    """The history (newest first), who did each thing (by name: an action's status change
    names its person only by email), the claims' files, the pending extension request and
    the project's indicators."""
    history = db.exec(select(Event).where(Event.milestone_id == milestone.id)
                      .order_by(col(Event.at).desc(), col(Event.id).desc())).all()
    pending = pending_extension(db, saved_id(milestone))
    people = db.exec(select(Person).where(
        col(Person.id).in_([e.actor_id for e in history if e.actor_id is not None])
        | col(Person.email).in_([e.actor for e in history if e.actor_id is None]))).all()
    names = {p.id: p.name for p in people} | {p.email: p.name for p in people}
    who = {e.id: names.get(e.actor_id) or names.get(e.actor) for e in history}
    files: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in db.exec(select(Attachment).where(Attachment.milestone_id == milestone.id)
                              .order_by(col(Attachment.id))):
        files[attachment.event_id].append(attachment)
    indicators = db.exec(select(Indicator).where(
        Indicator.project_id == milestone.project_id, col(Indicator.retired_at).is_(None))
        .order_by(col(Indicator.seq))).all()
    return {"history": history, "who": who, "files": files, "pending": pending,
            "indicators": indicators}


def router(web: Web) -> APIRouter:
    routes = APIRouter()

    @routes.get("/milestones/{milestone_id}", response_class=HTMLResponse)
    def item(request: Request, milestone_id: int) -> Response:
        with web.reader() as db:
            me = web.current(request, db)
            if me is None:
                return RedirectResponse("/login", status_code=303)
            milestone = db.get(Milestone, milestone_id)
            if milestone is None:
                return web.error(request, 404, "未找到", "没有这个事项。", me)
            if not web.may(me, Action.view_item, milestone.unit_id):
                return web.error(request, 403, "无权查看", "您无权查看此事项。", me)
            now = web.now()
            light = next(iter(milestone_lights(session=db, rules=web.rules, now=now,
                                               milestone_id=milestone_id)), None)
            if light is None:  # lights are computed for current items only
                return web.error(request, 404, "已移出规划", "此事项已从规划中移出，不再督办。", me)
            facts = page_facts(db, milestone)
            can = {a.value: web.may(me, a, milestone.unit_id) for a in ITEM_ACTIONS}
            shown = offers(can, milestone, facts["pending"] is not None,
                           bool(facts["indicators"]))
            today = web.rules.today(now)
            return web.page(request, "item.html", me=me, item=light, milestone=milestone,
                            version=milestone.version, offers=shown, today=today,
                            after_due=milestone.due_on + timedelta(days=1),
                            accept=attachments.ACCEPT, max_files=attachments.MAX_FILES,
                            max_size=attachments.megabytes(web.settings.attachment_max_bytes),
                            **facts)

    def act(request: Request, milestone_id: int, action: Action, csrf: str,
            version: int | None, do: Callable[..., Recorded],
            after: Callable[[Session, Person], None] | None = None) -> Response:
        """``web.act``, with an unreadable field or file shown as what it is."""
        try:
            return web.act(request, milestone_id, action, csrf, do, version, after)
        except (FormInvalid, attachments.UploadRefused) as problem:
            with web.reader() as db:
                me = web.current(request, db)
            return web.error(request, problem.status, "输入有误", str(problem), me)

    @routes.post("/milestones/{milestone_id}/done")
    def done(request: Request, milestone_id: int, evidence: Text = "",
             files: Annotated[list[UploadFile] | None, File()] = None,
             version: Version = None, csrf: Text = "") -> Response:
        uploads = [(attachments.clean_name(f.filename) or "附件", f.file) for f in files or []]
        note = evidence.strip() or (
            "见附件：" + "、".join(name for name, _ in uploads) if uploads else "")
        folder = web.settings.data_dir / "attachments"
        stored: list[attachments.Stored] = []

        def claim(**common: Any) -> Recorded:
            if not note:
                raise FormInvalid("请填写“完成情况说明”，或上传佐证材料。")
            return claim_done(evidence=note, **common)

        def attach(db: Session, me: Person) -> None:
            if not uploads:
                return
            event = db.exec(select(Event).where(Event.milestone_id == milestone_id,
                                                Event.kind == CLAIM_KIND)
                            .order_by(col(Event.id).desc())).first()
            assert event is not None  # claim_done has just recorded it in this transaction
            stored.extend(attachments.store_uploads(uploads, folder,
                                                    web.settings.attachment_max_bytes))
            db.add_all(Attachment(milestone_id=milestone_id, event_id=event.id, name=s.name,
                                  content_type=s.kind.content_type, size=s.size,
                                  sha256=s.sha256, stored_as=s.stored_as,
                                  uploaded_by_id=me.id, uploaded_at=event.at) for s in stored)

        response = None
        try:
            response = act(request, milestone_id, Action.claim_done, csrf, version, claim, attach)
        finally:  # the rows were not committed: their files must not stay behind
            if response is None or response.status_code != 303:
                attachments.discard(folder, [s.stored_as for s in stored])
        return response

    @routes.post("/milestones/{milestone_id}/progress")
    def progress(request: Request, milestone_id: int, percent: Text = "", note: Text = "",
                 version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            share = form_number(percent, "完成进度（%）", low=0, high=100)
            if share is None and not note.strip():
                raise FormInvalid("请填写“完成进度（%）”或“进度说明”。")
            return report_progress(percent=share, note=note.strip() or None, **common)
        return act(request, milestone_id, Action.report_progress, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/indicator")
    def indicator(request: Request, milestone_id: int, indicator_id: Text = "",
                  value: Text = "", version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            if not indicator_id.strip().isdigit():
                raise FormInvalid("请选择“指标”。")
            reached = form_number(value, "指标值")
            if reached is None:
                raise FormInvalid("请填写“指标值”。")
            return report_indicator_value(indicator_id=int(indicator_id), value=reached,
                                          **common)
        return act(request, milestone_id, Action.report_progress, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/extension")
    def extension(request: Request, milestone_id: int, proposed: Text = "", reason: Text = "",
                  version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return request_extension(proposed=form_date(proposed, "建议截止日期"),
                                     reason=form_reason(reason, "延期理由"), **common)
        return act(request, milestone_id, Action.request_extension, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/extension/approve")
    def approve(request: Request, milestone_id: int, new_due_on: Text = "", reason: Text = "",
                version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return decide_extension(approved=True, reason=reason.strip() or None,
                                    new_due_on=form_date(new_due_on, "新截止日期",
                                                         required=False), **common)
        return act(request, milestone_id, Action.decide_extension, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/extension/reject")
    def reject(request: Request, milestone_id: int, reason: Text = "",
               version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return decide_extension(approved=False, reason=form_reason(reason, "不同意的理由"),
                                    **common)
        return act(request, milestone_id, Action.decide_extension, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/acknowledge")
    def acknowledged(request: Request, milestone_id: int, reason: Text = "",
                     version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return acknowledge(reason=reason.strip() or None, **common)
        return act(request, milestone_id, Action.acknowledge, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/snooze")
    def snoozed(request: Request, milestone_id: int, until: Text = "", reason: Text = "",
                version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return snooze(until=form_date(until, "暂缓至"), reason=form_reason(reason, "暂缓理由"),
                          **common)
        return act(request, milestone_id, Action.snooze, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/reopen")
    def reopened(request: Request, milestone_id: int, reason: Text = "",
                 version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return reopen(reason=form_reason(reason, "重新打开的理由"), **common)
        return act(request, milestone_id, Action.reopen, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/waive")
    def waived(request: Request, milestone_id: int, reason: Text = "",
               version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return waive(reason=form_reason(reason, "豁免理由"), **common)
        return act(request, milestone_id, Action.waive, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/major")
    def major(request: Request, milestone_id: int, major: Text = "", reason: Text = "",
              version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            if major not in ("1", "0"):
                raise FormInvalid("请选择列为或取消“重大事项”。")
            return mark_major(major=major == "1", reason=form_reason(reason, "理由"), **common)
        return act(request, milestone_id, Action.mark_major, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/close")
    def close(request: Request, milestone_id: int, reason: Text = "",
              version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return close_out(reason=reason.strip() or None, **common)
        return act(request, milestone_id, Action.close, csrf, version, do)

    @routes.post("/milestones/{milestone_id}/return")
    def send_back(request: Request, milestone_id: int, reason: Text = "",
                  version: Version = None, csrf: Text = "") -> Response:
        def do(**common: Any) -> Recorded:
            return return_for_redo(reason=form_reason(reason, "退回原因"), **common)
        return act(request, milestone_id, Action.return_for_redo, csrf, version, do)

    return routes
