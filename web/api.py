"""The JSON API under /api, for scripts: the same people, rules and actions as the pages.

Decisions:
1. Only a personal API token authenticates (``Authorization: Bearer dbn_…``, from
   `duban people token`). The pages' session cookie is ignored here, so a web page cannot make
   a signed-in browser call the API: no CSRF token is needed. A missing, unknown or revoked
   token, or a deactivated person, gets 401 with ``WWW-Authenticate: Bearer``; so does an
   expired one, told when it expired. A read-only token gets 403 on every call but a GET.
   A call notes the token's use, at most once a minute (models.store.api_tokens).
2. Authorisation is models.rules.permissions.allowed, as on the pages: owners read and act on
   their own unit's milestones only; only the office decides extensions, snoozes, closes and
   reopens; leaders read.
3. Every change goes through `_act`: 404 unknown milestone, or one the caller may not see (the
   same answer, so ids cannot be probed), 403 seen but not allowed, then the action of
   models.store.actions with the caller as actor and the body's ``version`` as the expected version;
   409 with the action's reason when refused (stale version, wrong state). The answer is the
   milestone as GET /api/milestones/{id} shows it afterwards.
4. Errors are web.api_errors' ``{"detail": "中文…", "code": "…"}``; a 422 also lists
   ``errors`` and names the fields in ``detail``. A malformed body is refused before the item is
   looked at: nothing changes either way. A filter naming a plan or unit that does not exist
   answers 404 (``unknown_plan``, ``unknown_unit``), not an empty list: it is a typo.
It is a FastAPI app of its own mounted at /api, so its OpenAPI document (/api/openapi.json,
/api/docs) describes the API alone.

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at
definition time, and ``Caller`` is built inside `create_api` around its `Web`.
"""

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, select

from models.rules.permissions import Action, lead_only_message
from models.store.actions import ActionRefused, Recorded, commit_retrying, pending_extension
from models.store.api_tokens import TokenExpired, note_use, token_holder
from models.store.co_units import co_unit_ids, co_units_of
from models.store.light_changes import history_of
from models.store.milestone_list import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    BadCursor,
    ListQuery,
    list_page,
)
from models.store.status_view import milestone_lights
from models.tables.columns import saved_id
from models.tables.milestone import Light, Milestone, MilestoneState
from models.tables.person import Person
from models.tables.plan import Plan
from models.tables.unit import Unit
from services.bulk_actions import BulkRefused, take_all
from services.milestone_actions import take
from web import api_actions, api_docs, api_errors, api_orders
from web.api_errors import Refusal, refusals
from web.api_schemas import (
    BulkIn,
    BulkItemOut,
    BulkOut,
    BulkProblem,
    EventOut,
    ExtensionRequestOut,
    Me,
    MilestoneDetail,
    MilestoneId,
    MilestoneOut,
    MilestonePage,
    PlanOut,
    TodoOut,
    TodoTab,
    UnitOut,
    UnitRef,
)
from web.context import Web
from web.lists import remit
from web.office import ROLE_NAMES
from web.todo import person_tabs, tab_page

Sort = Literal["urgent", "due", "-due", "claimed"]

DESCRIPTION = """\
督办系统的接口，供脚本调用。每次调用都要带上个人令牌：
`Authorization: Bearer dbn_…`（由督查室用 `duban people token 邮箱` 签发，只显示一次）。

- **权限与页面相同**：责任单位的人员只能查看和办理本单位的事项，督查室可办理全部事项，领导只读。
  每一项改动都以令牌所属的人员记入事项记录。
- **版本号**：改动时请带上读取到的 `version`；若事项在此期间已被他人修改，返回 409，不做任何改动，
  请重新读取后再试。
- **错误**：返回 `{"detail": "中文说明", "code": "…"}`，请按 `code` 判断；输入有误（422）时另列出
  `errors`，逐项指明字段。
- **日期**：一律写作 `YYYY-MM-DD`，按北京时间；工作日按国务院办公厅公布的节假日安排计算。
"""
# Tags keep their English names (scripts and generated clients group by them); x-displayName
# is what ReDoc shows.
TAGS = [{"name": "people", "x-displayName": "人员", "description": "令牌所属的人员"},
        {"name": "directory", "x-displayName": "规划与单位",
         "description": "规划与责任单位（在督办系统内公开）"},
        {"name": "milestones", "x-displayName": "督办事项",
         "description": "督办事项（节点）：查看、申报完成、延期、销号等"},
        {"name": "orders", "x-displayName": "督办单",
         "description": "编号的督办单：查看、下载 PDF、签收"}]
# The refusals a route declares; 400, 401 and 422 follow from what it reads (web.api_errors).
ON_ITEM = refusals(403, 404)
CHANGES = refusals(403, 404, 409)
ACTION_NAMES = {Action.view_item: "查看该事项", Action.report_progress: "报告进度",
                Action.claim_done: "申报完成", Action.request_extension: "申请延期",
                Action.decide_extension: "审批延期申请", Action.acknowledge: "确认督办",
                Action.snooze: "暂缓提醒", Action.close: "销号", Action.return_for_redo: "退回重办",
                Action.reopen: "重新打开事项", Action.waive: "豁免事项",
                Action.mark_major: "列为或取消重大事项", Action.instruct: "批示",
                Action.chase: "催办", Action.transfer: "转办"}


def _code(what: str) -> Any:
    """A filter by a plan or unit code, as plan files write them (config.plan_file's Slug)."""
    return Query(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$",
                 description=f"{what} code")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY = "此令牌为只读令牌，只能读取，不能修改事项；如需修改，请向督查室申请可写令牌。"


def create_api(web: Web) -> FastAPI:
    api = FastAPI(title="督办 Duban API", version="1", description=DESCRIPTION, openapi_tags=TAGS,
                  docs_url=None, redoc_url=None)
    api_docs.install(api)  # Swagger UI and ReDoc from the app itself, in Chinese
    api_errors.install(api)
    bearer = HTTPBearer(auto_error=False, scheme_name="token",
                        description="个人令牌：`duban people token 邮箱`。")

    def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                        Depends(bearer)]) -> Person:
        if credentials is None:
            raise _unauthorised("token_missing", "请在请求头中带上个人 API 令牌："
                                "Authorization: Bearer <令牌>（由督查室用 duban people token "
                                "签发；网页登录的 Cookie 在此无效）。")
        now = web.now()
        try:
            with web.reader() as db:
                holder = token_holder(session=db, token=credentials.credentials, now=now)
        except TokenExpired as expired:
            raise _unauthorised("token_expired", _expired(web, expired)) from None
        if holder is None:
            raise _unauthorised("token_invalid", "令牌无效或已撤销，或其所属人员已停用。")
        if holder.use_is_due(now):
            with web.writer() as db:
                note_use(session=db, digest=holder.digest, now=now)
                db.commit()
        if holder.read_only and request.method not in SAFE_METHODS:
            raise Refusal(403, "read_only_token", READ_ONLY)
        return holder.person

    Caller = Annotated[Person, Depends(caller)]
    # Bulk first: /milestones/bulk would otherwise also match /milestones/{milestone_id}, and
    # a method neither allows would be answered with the item route's Allow header.
    api.include_router(_bulk(web, Caller))
    api.include_router(_reads(web, Caller))
    api.include_router(api_actions.router(partial(_act, web), Caller),
                       responses=CHANGES)
    api.include_router(api_orders.router(web, Caller))
    return api


def _bulk(web: Web, Caller: Any) -> APIRouter:  # noqa: N803 (a type alias)
    routes = APIRouter()

    @routes.post("/milestones/bulk", response_model=BulkOut, tags=["milestones"],
                 summary="批量办理", responses={
                     403: {"model": BulkProblem, "description": "其中有无权办理的事项"
                           "（code: `bulk_forbidden`），逐项列出"},
                     409: {"model": BulkProblem, "description": "其中有已被修改或状态不允许的事项"
                           "（code: `bulk_refused`），逐项列出"}})
    def bulk(body: BulkIn, me: Caller) -> Any:
        """对多个事项做同一项操作，全部成功或全部不做：每个事项按单独办理时的规则检查；
        只要有一个被拒绝，就不做任何改动，并逐项列出被拒绝的事项。"""
        with web.writer() as db:
            try:
                done = take_all(session=db, settings=web.settings, rules=web.rules, me=me,
                                action=body.action, ids=body.ids, now=web.now(),
                                reason=body.reason, until=body.until, versions=body.version_of())
            except ValueError as bad:
                raise RequestValidationError([{"loc": ("body", "ids"), "type": "bulk",
                                               "msg": str(bad)}]) from None
            except BulkRefused as refused:
                problem = BulkProblem(detail=str(refused), code="bulk_forbidden"
                                      if refused.forbidden else "bulk_refused", refused=[
                    BulkItemOut(milestone_id=r.milestone_id, title=r.title, why=r.why)
                    for r in refused.refusals])
                return JSONResponse(problem.model_dump(),
                                    status_code=403 if refused.forbidden else 409)
        return BulkOut(action=body.action, done=len(done), items=[
            BulkItemOut(milestone_id=d.milestone_id, title=d.title, state=d.state)
            for d in done])

    return routes


def _reads(web: Web, Caller: Any) -> APIRouter:  # noqa: N803 (a type alias)
    routes = APIRouter()

    @routes.get("/me", response_model=Me, tags=["people"], summary="我是谁")
    def me(me: Caller) -> Me:
        """令牌所属的人员：姓名、角色和所在单位。"""
        with web.reader() as db:
            unit = db.get(Unit, me.unit_id) if me.unit_id is not None else None
        return Me(id=me.id, name=me.name, email=me.email, role=me.role,
                  unit=UnitRef(code=unit.code, name=unit.name) if unit else None,
                  heads_unit=me.heads_unit)

    @routes.get("/plans", response_model=list[PlanOut], tags=["directory"], summary="规划")
    def plans(me: Caller) -> list[PlanOut]:
        """全部规划。规划和单位在督办系统内公开，事项则按权限查看。"""
        with web.reader() as db:
            rows = db.exec(select(Plan).order_by(Plan.code)).all()
            return [PlanOut.model_validate(p, from_attributes=True) for p in rows]

    @routes.get("/units", response_model=list[UnitOut], tags=["directory"], summary="责任单位")
    def units(me: Caller) -> list[UnitOut]:
        """全部责任单位。"""
        with web.reader() as db:
            rows = db.exec(select(Unit).order_by(Unit.code)).all()
            return [UnitOut.model_validate(u, from_attributes=True) for u in rows]

    @routes.get("/milestones", response_model=MilestonePage, tags=["milestones"],
                responses=refusals(403, 404), summary="事项列表")
    def milestones(me: Caller,
                   plan: Annotated[str | None, _code("plan")] = None,
                   unit: Annotated[str | None, _code("unit")] = None,
                   light: Light | None = None, state: MilestoneState | None = None,
                   level: Annotated[int | None, Query(ge=0, le=9, description=(
                       "exactly this escalation level"))] = None,
                   min_level: Annotated[int | None, Query(
                       ge=0, le=9, description="escalated to at least this level")] = None,
                   q: Annotated[str | None, Query(max_length=100, description=(
                       "words that must each appear in the milestone's or its project's "
                       "title"))] = None,
                   sort: Annotated[Sort, Query(description=(
                       "urgent: red, yellow, blue, green, earliest due first; due / -due: by "
                       "due date; claimed: by claim day"))] = "urgent",
                   limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
                   cursor: Annotated[str | None, Query(description=(
                       "`next` of the previous page"))] = None,
                   ) -> MilestonePage:
        """一页事项，筛选和排序与列表页相同；责任单位的人员只能看到本单位的事项。用 `next`
        取下一页；`total` 是筛选后的总数。灯色是上次巡查及其后每次办理时记下的。"""
        with web.reader() as db:
            units, own = remit(web, db, me)
            if units == frozenset():
                return MilestonePage(items=[], next=None, total=0)
            if own is not None and unit not in (None, own.code):
                raise Refusal(403, "other_unit", f"项目负责人只能查看本单位（{own.code}）"
                              "的事项。")
            _check_known(db, Plan, "plan", plan)
            _check_known(db, Unit, "unit", unit)
            query = ListQuery(plan=plan, unit=unit, light=light, state=state, level=level,
                              min_level=min_level, q=q, sort=sort, unit_ids=units)
            try:
                page = list_page(session=db, query=query, calendar=web.rules.calendar,
                                 today=web.rules.today(web.now()), limit=limit, cursor=cursor)
            except BadCursor as bad:
                raise _no_such_page(bad) from None
        return MilestonePage(items=[MilestoneOut.model_validate(i) for i in page.items],
                             next=page.next, total=page.total)

    @routes.get("/todo", response_model=TodoOut, tags=["people"],
                responses=refusals(404), summary="我的待办")
    def todo(me: Caller, tab: Annotated[str | None, Query(description="a tab's key")] = None,
             limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
             cursor: str | None = None) -> TodoOut:
        """调用者的待办栏目及各栏数量，与待办页相同；带上 `tab` 时，分页列出该栏的事项
        （用 `next` 取下一页）。"""
        with web.reader() as db:
            tabs = person_tabs(web, db, me)
            out = TodoOut(tabs=[TodoTab(key=t.key, name=t.name, count=t.count) for t in tabs])
            if tab is None:
                return out
            found = next((t for t in tabs if t.key == tab and t.query is not None), None)
            if found is None:
                raise Refusal(404, "unknown_tab", f"没有名为“{tab}”的待办栏目（可用："
                              f"{'、'.join(t.key for t in tabs)}）。")
            try:
                page = tab_page(web, db, found, limit, cursor)
            except BadCursor as bad:
                raise _no_such_page(bad) from None
        return out.model_copy(update={"tab": tab, "next": page.next, "items": [
            MilestoneOut.model_validate(i) for i in page.items]})

    # An int in the path, so that /milestones/bulk is not taken for an item (it is POST only).
    @routes.get("/milestones/{milestone_id:int}", response_model=MilestoneDetail,
                responses=ON_ITEM,
                tags=["milestones"], summary="一个事项")
    def milestone(milestone_id: MilestoneId, me: Caller) -> MilestoneDetail:
        """一个事项：今天的灯色、版本号、待审批的延期申请和全部记录。"""
        with web.reader() as db:
            return _detail(web, db, _milestone(web, db, me, milestone_id), web.now())

    return routes


def _act(web: Web, me: Person, milestone_id: int, action: Action, do: Callable[..., Recorded],
         version: int | None, **specific: Any) -> MilestoneDetail:
    """Check who may, run ``do`` (an action of models.store.actions) with the arguments every action
    takes plus ``specific``, commit, and answer the milestone as it now is."""
    now = web.now()
    with web.writer() as db:
        found = _milestone(web, db, me, milestone_id)
        co = co_unit_ids(db, found.id)
        if not web.may(me, action, found.unit_id, co):
            if web.lead_only(me, action, found.unit_id, co):
                raise Refusal(403, "lead_unit_only", lead_only_message(action))
            raise _refusal(web, me, action, milestone_id)
        try:
            commit_retrying(db, lambda: take(
                do, session=db, settings=web.settings, rules=web.rules,
                milestone_id=milestone_id, actor=me.email, actor_id=me.id, now=now,
                expected_version=version, **specific),
                versioned=version is not None)
        except ActionRefused as refused:  # its code: stale_version, wrong_state, …
            raise Refusal(409, refused.code, f"操作未完成：{refused}。") from None
    with web.reader() as db:
        return _detail(web, db, _milestone(web, db, me, milestone_id), now)


def _milestone(web: Web, db: Session, me: Person, milestone_id: int) -> Milestone:
    """The milestone, if ``me`` may see it; one they may not see answers as a missing one."""
    found = db.get(Milestone, milestone_id)
    if found is None or not web.may(me, Action.view_item, found.unit_id,
                                    co_unit_ids(db, found.id)):
        raise Refusal(404, "not_found", f"没有编号为 {milestone_id} 的事项。")
    return found


def _refusal(web: Web, me: Person, action: Action, milestone_id: int) -> Refusal:
    if web.may(me, action, me.unit_id):  # allowed on their own unit, so this is another's
        return Refusal(403, "other_unit", f"事项 {milestone_id} 属于其他单位：项目负责人只能"
                       "查看和办理本单位的事项。")
    return Refusal(403, "not_permitted", f"{ROLE_NAMES[me.role]}无权"
                   f"{ACTION_NAMES.get(action, action.value)}（事项 {milestone_id}）。")


def _detail(web: Web, db: Session, milestone: Milestone, now: datetime) -> MilestoneDetail:
    row = next(iter(milestone_lights(session=db, rules=web.rules, now=now,
                                     milestone_id=milestone.id)), None)
    if row is None:
        raise Refusal(404, "not_found", f"事项 {milestone.id} 已从其计划中撤销。")
    history = history_of(db, [milestone.id])
    request = pending_extension(db, saved_id(milestone))
    return MilestoneDetail(
        **row, version=milestone.version, major=milestone.major,
        claimed_on=milestone.claimed_on,
        snoozed_until=milestone.snoozed_until,
        co_units=[UnitRef(code=u.code, name=u.name) for u in co_units_of(db, milestone.id)],
        pending_extension=None if request is None else ExtensionRequestOut(
            requested_at=request.at, requested_by=request.actor, reason=request.reason,
            proposed_due_on=request.data["proposed_due_on"]),
        history=[EventOut.model_validate(e, from_attributes=True) for e in history])


def _check_known(db: Session, table: type[Plan] | type[Unit], field: str,
                 code: str | None) -> None:
    """A filter naming a plan or unit that does not exist is a typo, not an empty answer."""
    if code is not None and db.exec(select(table.id).where(table.code == code)).first() is None:
        what = {"plan": "计划", "unit": "单位"}[field]
        raise Refusal(404, f"unknown_{field}", f"没有代码为“{code}”的{what}（{field}）。")


def _no_such_page(bad: BadCursor) -> Refusal:
    """A cursor this list did not give (or one from before a change of its order) names no
    page: 404, as the document can only say what a cursor looks like, not which ones exist."""
    return Refusal(404, "bad_cursor", f"找不到这一页：{bad}。请不带 cursor 从第一页重新开始。")


def _expired(web: Web, expired: TokenExpired) -> str:
    day = expired.expires_at.astimezone(web.rules.zone).strftime("%Y-%m-%d %H:%M")
    return (f"令牌已过期（有效期至北京时间 {day}）：请向督查室申请新令牌"
            f"（duban people token EMAIL）。")


def _unauthorised(code: str, message: str) -> Refusal:
    challenge = 'Bearer realm="duban"' + (', error="invalid_token"'
                                          if code in ("token_invalid", "token_expired") else "")
    return Refusal(401, code, message, headers={"WWW-Authenticate": challenge})
