"""The JSON API under /api, for scripts: the same people, rules and actions as the pages.

Decisions:
1. Only a personal API token authenticates (``Authorization: Bearer dbn_…``, from
   `duban people token`). The pages' session cookie is ignored here, so a web page cannot make
   a signed-in browser call the API: no CSRF token is needed. A missing, unknown or revoked
   token, or a deactivated person, gets 401 with ``WWW-Authenticate: Bearer``.
2. Authorisation is models.rules.permissions.allowed, as on the pages: owners read and act on
   their own unit's milestones only; only the office decides extensions, snoozes, closes and
   reopens; leaders read.
3. Every change goes through `_act`: 404 unknown milestone, 403 not allowed, then the action of
   models.store.actions with the caller as actor and the body's ``version`` as the expected version;
   409 with the action's reason when refused (stale version, wrong state). The answer is the
   milestone as GET /api/milestones/{id} shows it afterwards.
4. Errors are ``{"detail": "…"}``; a 422 also lists ``errors`` and names the fields in
   ``detail``. A malformed body is refused before the item is looked at: nothing changes
   either way.
It is a FastAPI app of its own mounted at /api, so its OpenAPI document (/api/openapi.json,
/api/docs) describes the API alone.

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at
definition time, and ``Caller`` is built inside `create_api` around its `Web`.
"""

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, col, select

from models.rules.permissions import Action
from models.store.actions import ActionRefused, Recorded, commit_retrying, pending_extension
from models.store.api_tokens import token_person
from models.store.status_view import milestone_lights
from models.tables.columns import saved_id
from models.tables.event import Event
from models.tables.milestone import Light, Milestone, MilestoneState
from models.tables.person import Person
from models.tables.plan import Plan
from models.tables.unit import Unit
from services.milestone_actions import take
from web import api_actions, api_docs
from web.api_schemas import (
    EventOut,
    ExtensionRequestOut,
    FieldError,
    Me,
    MilestoneDetail,
    MilestoneOut,
    PlanOut,
    Problem,
    UnitOut,
    UnitRef,
)
from web.context import Web

DESCRIPTION = """\
督办系统的接口，供脚本调用。每次调用都要带上个人令牌：
`Authorization: Bearer dbn_…`（由督查室用 `duban people token 邮箱` 签发，只显示一次）。

- **权限与页面相同**：责任单位的人员只能查看和办理本单位的事项，督查室可办理全部事项，领导只读。
  每一项改动都以令牌所属的人员记入事项记录。
- **版本号**：改动时请带上读取到的 `version`；若事项在此期间已被他人修改，返回 409，不做任何改动，
  请重新读取后再试。
- **错误**：返回 `{"detail": "…"}`；输入有误（422）时另列出 `errors`，逐项指明字段。
- **日期**：一律写作 `YYYY-MM-DD`，按北京时间；工作日按国务院办公厅公布的节假日安排计算。
"""
# Tags keep their English names (scripts and generated clients group by them); x-displayName
# is what ReDoc shows.
TAGS = [{"name": "people", "x-displayName": "人员", "description": "令牌所属的人员"},
        {"name": "directory", "x-displayName": "规划与单位",
         "description": "规划与责任单位（在督办系统内公开）"},
        {"name": "milestones", "x-displayName": "督办事项",
         "description": "督办事项（节点）：查看、申报完成、延期、销号等"}]
# Documented error answers; 422 replaces FastAPI's default schema, which is not our body.
NEEDS_TOKEN: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "没有有效的令牌"}}
MALFORMED: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "输入有误：逐项指明字段"}}
ON_ITEM = NEEDS_TOKEN | MALFORMED | {
    403: {"model": Problem, "description": "无权查看或办理"},
    404: {"model": Problem, "description": "没有这个事项"}}
CHANGES = ON_ITEM | {409: {"model": Problem, "description": "版本已过期，或事项的状态不允许此操作"}}


def create_api(web: Web) -> FastAPI:
    api = FastAPI(title="督办 Duban API", version="1", description=DESCRIPTION, openapi_tags=TAGS,
                  docs_url=None, redoc_url=None)
    api_docs.install(api)  # Swagger UI and ReDoc from the app itself, in Chinese
    api.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]  # Starlette types handlers for any Exception
    bearer = HTTPBearer(auto_error=False, scheme_name="token",
                        description="个人令牌：`duban people token 邮箱`。")

    def caller(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                      Depends(bearer)]) -> Person:
        if credentials is None:
            raise _unauthorised("send a personal API token as 'Authorization: Bearer <token>' "
                                "(the pages' cookie is not accepted here)", None)
        with web.reader() as db:
            person = token_person(session=db, token=credentials.credentials)
        if person is None:
            raise _unauthorised("the token is unknown or revoked, or its person is deactivated",
                                "invalid_token")
        return person

    Caller = Annotated[Person, Depends(caller)]
    api.include_router(_reads(web, Caller))
    api.include_router(api_actions.router(partial(_act, web), Caller),
                       responses=CHANGES)
    return api


def _reads(web: Web, Caller: Any) -> APIRouter:  # noqa: N803 (a type alias)
    routes = APIRouter()

    @routes.get("/me", response_model=Me, responses=NEEDS_TOKEN, tags=["people"],
                summary="我是谁")
    def me(me: Caller) -> Me:
        """令牌所属的人员：姓名、角色和所在单位。"""
        with web.reader() as db:
            unit = db.get(Unit, me.unit_id) if me.unit_id is not None else None
        return Me(id=me.id, name=me.name, email=me.email, role=me.role,
                  unit=UnitRef(code=unit.code, name=unit.name) if unit else None,
                  heads_unit=me.heads_unit)

    @routes.get("/plans", response_model=list[PlanOut], responses=NEEDS_TOKEN,
                tags=["directory"], summary="规划")
    def plans(me: Caller) -> list[PlanOut]:
        """全部规划。规划和单位在督办系统内公开，事项则按权限查看。"""
        with web.reader() as db:
            rows = db.exec(select(Plan).order_by(Plan.code)).all()
            return [PlanOut.model_validate(p, from_attributes=True) for p in rows]

    @routes.get("/units", response_model=list[UnitOut], responses=NEEDS_TOKEN,
                tags=["directory"], summary="责任单位")
    def units(me: Caller) -> list[UnitOut]:
        """全部责任单位。"""
        with web.reader() as db:
            rows = db.exec(select(Unit).order_by(Unit.code)).all()
            return [UnitOut.model_validate(u, from_attributes=True) for u in rows]

    @routes.get("/milestones", response_model=list[MilestoneOut], tags=["milestones"],
                responses=NEEDS_TOKEN | MALFORMED | {
                    403: {"model": Problem, "description": "Another unit (owners)"}})
    def milestones(me: Caller, plan: Annotated[str | None, Query(description="plan code")] = None,
                   unit: Annotated[str | None, Query(description="unit code")] = None,
                   light: Light | None = None, state: MilestoneState | None = None,
                   min_level: Annotated[int | None, Query(
                       ge=0, description="escalated to at least this level")] = None,
                   ) -> list[MilestoneOut]:
        """Milestones with today's lights, in plan order; owners see their own unit's only."""
        with web.reader() as db:
            if not web.may(me, Action.view_item, None):
                own = db.get(Unit, me.unit_id) if me.unit_id is not None else None
                if own is None or not web.may(me, Action.view_item, own.id):
                    return []
                if unit not in (None, own.code):
                    raise HTTPException(403, f"owners see only their own unit's milestones "
                                             f"(unit {own.code})")
                unit = own.code
            _check_known(db, Plan, "plan", plan)
            _check_known(db, Unit, "unit", unit)
            rows = [r for r in milestone_lights(session=db, rules=web.rules, now=web.now(),
                                                plan=plan, unit=unit)
                    if (light is None or r["light"] == light)
                    and (state is None or r["state"] == state)
                    and (min_level is None or r["level"] >= min_level)]
            versions = dict(db.exec(select(Milestone.id, Milestone.version)).all())
        return [MilestoneOut(**r, version=versions[r["milestone_id"]]) for r in rows]

    @routes.get("/milestones/{milestone_id}", response_model=MilestoneDetail, responses=ON_ITEM,
                tags=["milestones"], summary="一个事项")
    def milestone(milestone_id: int, me: Caller) -> MilestoneDetail:
        """一个事项：今天的灯色、版本号、待审批的延期申请和全部记录。"""
        with web.reader() as db:
            found = _milestone(db, milestone_id)
            if not web.may(me, Action.view_item, found.unit_id):
                raise HTTPException(403, _refusal(web, me, Action.view_item, milestone_id))
            return _detail(web, db, found, web.now())

    return routes


def _act(web: Web, me: Person, milestone_id: int, action: Action, do: Callable[..., Recorded],
         version: int | None, **specific: Any) -> MilestoneDetail:
    """Check who may, run ``do`` (an action of models.store.actions) with the arguments every action
    takes plus ``specific``, commit, and answer the milestone as it now is."""
    now = web.now()
    with web.writer() as db:
        if not web.may(me, action, _milestone(db, milestone_id).unit_id):
            raise HTTPException(403, _refusal(web, me, action, milestone_id))
        try:
            commit_retrying(db, lambda: take(
                do, session=db, settings=web.settings, rules=web.rules,
                milestone_id=milestone_id, actor=me.email, actor_id=me.id, now=now,
                expected_version=version, **specific),
                versioned=version is not None)
        except ActionRefused as refused:
            raise HTTPException(409, str(refused)) from None
    with web.reader() as db:
        return _detail(web, db, _milestone(db, milestone_id), now)


def _milestone(db: Session, milestone_id: int) -> Milestone:
    found = db.get(Milestone, milestone_id)
    if found is None:
        raise HTTPException(404, f"no milestone with id {milestone_id}")
    return found


def _refusal(web: Web, me: Person, action: Action, milestone_id: int) -> str:
    if web.may(me, action, me.unit_id):  # allowed on their own unit, so this is another's
        return (f"milestone {milestone_id} belongs to another unit: owners see and act on "
                "their own unit's milestones only")
    return (f"a person with the role {me.role.value} may not {action.value} "
            f"(milestone {milestone_id})")


def _detail(web: Web, db: Session, milestone: Milestone, now: datetime) -> MilestoneDetail:
    row = next(iter(milestone_lights(session=db, rules=web.rules, now=now,
                                     milestone_id=milestone.id)), None)
    if row is None:
        raise HTTPException(404, f"milestone {milestone.id} is retired from its plan")
    history = db.exec(select(Event).where(Event.milestone_id == milestone.id)
                      .order_by(col(Event.id))).all()
    request = pending_extension(db, saved_id(milestone))
    return MilestoneDetail(
        **row, version=milestone.version, major=milestone.major,
        snoozed_until=milestone.snoozed_until,
        pending_extension=None if request is None else ExtensionRequestOut(
            requested_at=request.at, requested_by=request.actor, reason=request.reason,
            proposed_due_on=request.data["proposed_due_on"]),
        history=[EventOut.model_validate(e, from_attributes=True) for e in history])


def _check_known(db: Session, table: type[Plan] | type[Unit], field: str,
                 code: str | None) -> None:
    """A filter naming a plan or unit that does not exist is a typo, not an empty answer."""
    if code is not None and db.exec(select(table.id).where(table.code == code)).first() is None:
        raise RequestValidationError([{"loc": ("query", field), "type": "unknown_code",
                                       "msg": f"no {field} with code {code!r}"}])


def _unauthorised(message: str, error: str | None) -> HTTPException:
    challenge = 'Bearer realm="duban"' + (f', error="{error}"' if error else "")
    return HTTPException(401, message, headers={"WWW-Authenticate": challenge})


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_field_error(e) for e in exc.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return JSONResponse(Problem(detail=detail, errors=errors).model_dump(), status_code=422)


def _field_error(error: dict[str, Any]) -> FieldError:
    location, *path = error["loc"]
    if error["type"] == "json_invalid":
        return FieldError(field="body", location="body",
                          message=f"not valid JSON ({error.get('ctx', {}).get('error', '')})")
    if location == "body" and not path and error["type"] == "model_attributes_type":
        return FieldError(field="body", location="body",
                          message="send a JSON object, with Content-Type: application/json")
    return FieldError(field=".".join(str(p) for p in path) or str(location),
                      location=str(location), message=error["msg"])
