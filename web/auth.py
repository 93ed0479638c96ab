"""Signing in and out: passwords with a rate limit per email and per client address (signed
email links are web/email_links.py).

The limit is kept in the database (models.store.sign_in_attempts), so it holds across worker
processes and restarts; a slot is reserved before the password is checked, so racing attempts
cannot all be checked.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from models.rules.passwords import hash_password, verify_password
from models.rules.sign_in_limits import SignInLimits
from models.store.sign_in_attempts import clear_attempts, reserve_attempt
from models.tables.person import Person
from web.dependencies import FormChecked, WebDep, WriterDep

MAX_FAILED_LOGINS = 5  # per email, from any address
MAX_FAILED_LOGINS_PER_ADDRESS = 20  # per client address, for any emails
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60
SIGN_IN_LIMITS = SignInLimits(per_email=MAX_FAILED_LOGINS,
                              per_address=MAX_FAILED_LOGINS_PER_ADDRESS,
                              window=timedelta(seconds=FAILED_LOGIN_WINDOW_SECONDS))
TOO_MANY = "登录失败次数过多，请 15 分钟后再试。"


@cache
def _decoy_hash() -> str:
    """Verified against when the email is unknown, so timing does not tell who has an account."""
    return hash_password(secrets.token_urlsafe(16))


router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, web: WebDep) -> HTMLResponse:
    return web.page(request, "login.html", email="")


@router.post("/login", response_class=HTMLResponse,
             dependencies=[Depends(FormChecked("表单已过期，请刷新页面后重新登录。"))])
def login(request: Request, web: WebDep, email: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "") -> Response:
    """1. Reserve an attempt for the email and the client address, in its own transaction;
    refuse without checking the password when either is over its limit.
    2. Check the password (slow on purpose) holding no transaction's lock.
    3. On success clear the email's attempts (and store an upgraded hash); on failure the
    reserved attempt stays, as a failure."""
    email = email.strip().lower()[:320]  # longer is nobody's (the column's length)
    with web.writer() as db:
        refused = reserve_attempt(session=db, email=email, address=client_address(request),
                                  now=web.now(), limits=SIGN_IN_LIMITS)
    if refused is not None:
        return web.page(request, "login.html", 429, email=email, message=TOO_MANY)
    with web.reader() as db:
        person = db.exec(select(Person).where(Person.email == email)).first()
    stored = person.password_hash if person and person.active else None
    ok, new_hash = verify_password(password, stored or _decoy_hash())
    if not (ok and person is not None and stored):
        return web.page(request, "login.html", 401, email=email, message="邮箱或密码不正确。")
    with web.writer() as db:
        clear_attempts(session=db, email=email)
        if new_hash:
            upgraded = db.get(Person, person.id)
            if upgraded is not None and upgraded.password_hash == stored:
                upgraded.password_hash = new_hash
                db.add(upgraded)
        db.commit()
    web.sign_in(request, person)
    return RedirectResponse("/todo", status_code=303)  # 待办: the home page


def client_address(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For when the proxy is one it
    trusts, by default one on this machine)."""
    return request.client.host[:64] if request.client else "unknown"


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
    web.flash(request, "您已退出登录（所有设备）。")
    return RedirectResponse("/login", status_code=303)
