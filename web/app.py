"""The owners' and office's web app: server-rendered pages in Chinese, readable on a phone.

Every request: (1) finds the signed-in person from the session cookie (an inactive or deleted
person is signed out), (2) asks `allowed(...)` for the action on the item's unit, (3) on a POST
compares the form's CSRF token with the session's, (4) calls the action in `models.actions` in a
write transaction and redirects (303) to the item page, or shows why it was refused.
A GET never changes a milestone; following an email link only signs its person in once.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.middleware.sessions import SessionMiddleware

from config.settings import Settings
from models.actions import ActionRefused, claim_done, close_out, return_for_redo
from models.db import writer
from models.event import Event
from models.link_use import LinkUse
from models.milestone import Milestone
from models.person import Person
from models.rules import Rules
from models.status_view import milestone_lights
from models.unit import Unit
from web.links import LinkInvalid, read_link_token
from web.passwords import hash_password, verify_password
from web.permissions import Action, allowed

TEMPLATES = Path(__file__).parent / "templates"
LINK_MAX_AGE_SECONDS = 14 * 24 * 3600
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60
LINK_REFUSALS = {"expired": "链接已过期，请使用最新邮件中的链接，或用账号密码登录。",
                 "tampered": "链接无效（可能被改动或复制不完整）。"}
CHANGED_HINT = "该事项已被他人修改，请刷新页面后重试。"


class LoginLimiter:
    """Failed sign-ins per email within a sliding window, in memory (one process)."""

    def __init__(self, limit: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window_seconds, clock
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, email: str) -> bool:
        recent = self.failures[email]
        while recent and recent[0] <= self.clock() - self.window:
            recent.popleft()
        return len(recent) >= self.limit

    def failed(self, email: str) -> None:
        self.failures[email].append(self.clock())

    def succeeded(self, email: str) -> None:
        self.failures.pop(email, None)


@cache
def _decoy_hash() -> str:
    """Verified against when the email is unknown, so timing does not tell who has an account."""
    return hash_password(secrets.token_urlsafe(16))


def create_app(*, engine: Engine, rules: Rules, settings: Settings, secret: str,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The app; `clock` replaces the real time for actions (replay with settings.as_of)."""
    app = FastAPI(title="督办 Duban", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="lax",
                       https_only=str(settings.base_url).startswith("https"),
                       session_cookie="duban_session", max_age=12 * 3600)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    templates = Jinja2Templates(env=env)
    limiter = LoginLimiter(MAX_FAILED_LOGINS, FAILED_LOGIN_WINDOW_SECONDS)
    app.state.login_limiter = limiter

    def now() -> datetime:
        if clock is not None:
            return clock()
        return rules.as_of(settings.as_of) if settings.as_of else datetime.now(UTC)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context |= {"csrf": csrf_token(request), "me": context.get("me")}
        return templates.TemplateResponse(request, name, context, status_code=status)

    def error(request: Request, status: int, title: str, message: str,
              me: Person | None = None) -> HTMLResponse:
        return page(request, "error.html", status, title=title, message=message, me=me)

    def current(request: Request, db: Session) -> Person | None:
        person_id = request.session.get("person_id")
        person = db.get(Person, person_id) if isinstance(person_id, int) else None
        if person is None or not person.active:
            request.session.pop("person_id", None)
            return None
        return person

    def sign_in(request: Request, person: Person) -> None:
        request.session.clear()  # a new sign-in gets a new CSRF token
        request.session["person_id"] = person.id

    def may(person: Person, action: Action, item_unit_id: int | None) -> bool:
        return allowed(role=person.role, person_unit_id=person.unit_id, action=action,
                       item_unit_id=item_unit_id, active=person.active)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html", email="")

    @app.post("/login", response_class=HTMLResponse)
    def login(request: Request, email: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "",
              csrf: Annotated[str, Form()] = "") -> Response:
        if not csrf_ok(request, csrf):
            return error(request, 403, "请求无效", "表单已过期，请刷新页面后重新登录。")
        email = email.strip().lower()
        if limiter.blocked(email):
            return page(request, "login.html", 429, email=email,
                        message="登录失败次数过多，请 15 分钟后再试。")
        with Session(writer(engine)) as db:
            person = db.exec(select(Person).where(Person.email == email)).first()
            stored = person.password_hash if person and person.active else None
            ok, new_hash = verify_password(password, stored or _decoy_hash())
            if not (ok and person is not None and stored):
                limiter.failed(email)
                return page(request, "login.html", 401, email=email,
                            message="邮箱或密码不正确。")
            if new_hash:
                person.password_hash = new_hash
                db.add(person)
                db.commit()
            limiter.succeeded(email)
            sign_in(request, person)
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        if not csrf_ok(request, csrf):
            return error(request, 403, "请求无效", "表单已过期，请刷新页面后重试。")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        with Session(engine) as db:
            me = current(request, db)
            if me is None:
                return RedirectResponse("/login", status_code=303)
            rows: list[dict[str, Any]] = []
            if may(me, Action.view_item, None):  # office, leaders, admins: everything
                rows = milestone_lights(session=db, rules=rules, now=now())
            elif me.unit_id is not None and may(me, Action.view_item, me.unit_id):
                unit = db.get(Unit, me.unit_id)
                rows = milestone_lights(session=db, rules=rules, now=now(),
                                        unit=unit.code if unit else None)
            return page(request, "list.html", me=me, rows=rows)

    @app.get("/milestones/{milestone_id}", response_class=HTMLResponse)
    def item(request: Request, milestone_id: int) -> Response:
        with Session(engine) as db:
            me = current(request, db)
            if me is None:
                return RedirectResponse("/login", status_code=303)
            milestone = db.get(Milestone, milestone_id)
            if milestone is None:
                return error(request, 404, "未找到", "没有这个事项。", me)
            if not may(me, Action.view_item, milestone.unit_id):
                return error(request, 403, "无权查看", "您无权查看此事项。", me)
            unit = db.get(Unit, milestone.unit_id)
            light = next(r for r in milestone_lights(
                session=db, rules=rules, now=now(), unit=unit.code if unit else None)
                if r["milestone_id"] == milestone_id)
            history = db.exec(select(Event).where(Event.milestone_id == milestone_id)
                              .order_by(Event.id.desc())).all()  # type: ignore[union-attr]
            can = {a.value: may(me, a, milestone.unit_id)
                   for a in (Action.claim_done, Action.close, Action.return_for_redo)}
            return page(request, "item.html", me=me, item=light, version=milestone.version,
                        can=can, history=history, zone=rules.zone)

    def act(request: Request, milestone_id: int, action: Action, csrf: str,
            do: Callable[..., object], version: int | None, **specific: Any) -> Response:
        """Check who may, check the form, then run ``do`` (an action of models.actions) with
        the arguments every action takes plus ``specific``."""
        with Session(writer(engine)) as db:
            me = current(request, db)
            if me is None:
                return RedirectResponse("/login", status_code=303)
            milestone = db.get(Milestone, milestone_id)
            if milestone is None:
                return error(request, 404, "未找到", "没有这个事项。", me)
            if not may(me, action, milestone.unit_id):
                return error(request, 403, "无权操作", "您无权对此事项进行该操作。", me)
            if not csrf_ok(request, csrf):
                return error(request, 403, "请求无效", "表单已过期，请刷新页面后重试。", me)
            try:
                do(session=db, rules=rules, milestone_id=milestone_id, actor=me.email,
                   actor_id=me.id, now=now(), expected_version=version, **specific)
            except ActionRefused as refused:
                db.rollback()
                text = str(refused)
                hint = CHANGED_HINT if "changed by someone else" in text else "操作未完成。"
                return error(request, 409, "操作未完成", f"{hint}（{text}）", me)
            db.commit()
        return RedirectResponse(f"/milestones/{milestone_id}", status_code=303)

    @app.post("/milestones/{milestone_id}/done")
    def done(request: Request, milestone_id: int, evidence: Annotated[str, Form()] = "",
             version: Annotated[int | None, Form()] = None,
             csrf: Annotated[str, Form()] = "") -> Response:
        return act(request, milestone_id, Action.claim_done, csrf, claim_done, version,
                   evidence=evidence, settings=settings)

    @app.post("/milestones/{milestone_id}/close")
    def close(request: Request, milestone_id: int, reason: Annotated[str, Form()] = "",
              version: Annotated[int | None, Form()] = None,
              csrf: Annotated[str, Form()] = "") -> Response:
        return act(request, milestone_id, Action.close, csrf, close_out, version,
                   reason=reason.strip() or None, settings=settings)

    @app.post("/milestones/{milestone_id}/return")
    def send_back(request: Request, milestone_id: int, reason: Annotated[str, Form()] = "",
                  version: Annotated[int | None, Form()] = None,
                  csrf: Annotated[str, Form()] = "") -> Response:
        return act(request, milestone_id, Action.return_for_redo, csrf, return_for_redo,
                   version, reason=reason)

    @app.get("/l/{token}", response_class=HTMLResponse)
    def follow_link(request: Request, token: str) -> Response:
        try:
            claims = read_link_token(secret=secret, token=token,
                                     max_age_seconds=LINK_MAX_AGE_SECONDS,
                                     now=now().timestamp() if clock else None)
        except LinkInvalid as invalid:
            return error(request, 403, "链接无法打开", LINK_REFUSALS[invalid.reason])
        if len(claims.nonce) > 64:
            return error(request, 403, "链接无法打开", LINK_REFUSALS["tampered"])
        with Session(writer(engine)) as db:
            person = db.get(Person, claims.person_id)
            if person is None or not person.active:
                return error(request, 403, "链接无法打开", "此链接对应的账号已停用。")
            if db.get(LinkUse, claims.nonce) is not None:
                return error(request, 403, "链接已使用", "链接已使用。请用账号密码登录，"
                             "或使用最新邮件中的链接。")
            db.add(LinkUse(nonce=claims.nonce, person_id=person.id,
                           milestone_id=claims.milestone_id, used_at=now()))
            try:
                db.commit()
            except IntegrityError:  # the same link, followed twice at once
                db.rollback()
                return error(request, 403, "链接已使用", "链接已使用。")
            sign_in(request, person)
        return RedirectResponse(f"/milestones/{claims.milestone_id}", status_code=303)

    return app


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: str) -> bool:
    expected = request.session.get("csrf")
    return (isinstance(expected, str) and bool(expected) and bool(submitted)
            and secrets.compare_digest(expected.encode(), submitted.encode()))
