"""Signing in and out: passwords with a per-email rate limit, and signed email links.

Following a link signs its person in once and shows the item; it never acts on the item.
A link is single-use (a `link_use` row); following it again from the browser it was first
opened in, while still signed in as its person, just shows the item again, since people tap
the same email twice.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from models.rules.item_links import START_PAGE, LinkInvalid, read_link_token
from models.rules.passwords import hash_password, verify_password
from models.tables.columns import saved_id
from models.tables.link_use import LinkUse
from models.tables.person import Person
from web.dependencies import FormChecked, Refused, WebDep, WriterDep

LINK_MAX_AGE_SECONDS = 14 * 24 * 3600
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60
LINK_REFUSALS = {"expired": "链接已过期，请使用最新邮件中的链接，或用账号密码登录。",
                 "tampered": "链接无效（可能被改动或复制不完整）。"}
LINK_USED = "链接已使用。请用账号密码登录，或使用最新邮件中的链接。"


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


def _limiter(request: Request) -> LoginLimiter:
    limiter: LoginLimiter = request.app.state.login_limiter
    return limiter


Limiter = Annotated[LoginLimiter, Depends(_limiter)]
router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, web: WebDep) -> HTMLResponse:
    return web.page(request, "login.html", email="")


@router.post("/login", response_class=HTMLResponse,
             dependencies=[Depends(FormChecked("表单已过期，请刷新页面后重新登录。"))])
def login(request: Request, web: WebDep, db: WriterDep, limiter: Limiter,
          email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "") -> Response:
    email = email.strip().lower()
    if limiter.blocked(email):
        return web.page(request, "login.html", 429, email=email,
                        message="登录失败次数过多，请 15 分钟后再试。")
    person = db.exec(select(Person).where(Person.email == email)).first()
    stored = person.password_hash if person and person.active else None
    ok, new_hash = verify_password(password, stored or _decoy_hash())
    if not (ok and person is not None and stored):
        limiter.failed(email)
        return web.page(request, "login.html", 401, email=email, message="邮箱或密码不正确。")
    if new_hash:
        person.password_hash = new_hash
        db.add(person)
        db.commit()
    limiter.succeeded(email)
    web.sign_in(request, person)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[Depends(FormChecked())])
def logout(request: Request, web: WebDep, db: WriterDep) -> Response:
    """Sign out here and in every other browser of this person: a copy of the cookie, saved
    before, no longer signs anyone in (the login page says so)."""
    me = web.current(request, db)
    if me is not None:
        me.end_sessions()
        db.add(me)
        db.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/l/{token}", response_class=HTMLResponse)
def follow_link(request: Request, token: str, web: WebDep, db: WriterDep) -> Response:
    try:
        claims = read_link_token(secret=web.secret, token=token,
                                 max_age_seconds=LINK_MAX_AGE_SECONDS, now=web.now().timestamp())
    except LinkInvalid as invalid:
        raise Refused(403, "链接无法打开", LINK_REFUSALS[invalid.reason]) from None
    if len(claims.nonce) > 64:
        raise Refused(403, "链接无法打开", LINK_REFUSALS["tampered"])
    item = RedirectResponse("/" if claims.milestone_id == START_PAGE
                            else f"/milestones/{claims.milestone_id}", status_code=303)
    person = db.get(Person, claims.person_id)
    if person is None or not person.active:
        raise Refused(403, "链接无法打开", "此链接对应的账号已停用。")
    signed_in = web.current(request, db)
    if db.get(LinkUse, claims.nonce) is not None:
        if signed_in is not None and signed_in.id == person.id:
            return item
        raise Refused(403, "链接已使用", LINK_USED)
    db.add(LinkUse(nonce=claims.nonce, person_id=saved_id(person),
                   milestone_id=claims.milestone_id, used_at=web.now()))
    try:
        db.commit()
    except IntegrityError:  # the same link, followed twice at once
        db.rollback()
        raise Refused(403, "链接已使用", LINK_USED) from None
    web.sign_in(request, person)
    return item
