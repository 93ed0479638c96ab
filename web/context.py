"""What every route shares: the database, the rules, the clock, the signed-in person, the
permission check, page rendering and the one way an action on a milestone is taken.

The app keeps one `Web` (``app.state.web``); the router modules (web/auth.py, web/items.py, …)
get it, the session and the checked person through web.dependencies, and every action on a
milestone goes through `act`, after those checks, in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlmodel import Session

from models.rules.permissions import Action, allowed, lead_only
from models.store.actions import ActionRefused, Changed, Recorded, commit_retrying
from models.store.database import writer
from models.tables.person import Person
from services.milestone_actions import take
from services.runtime import Runtime
from web.labels import light as light_shade

TEMPLATES = Path(__file__).parent / "templates"
# The nav bar: (label, link, the action that makes it useful; None: everyone signed in)
NAV = (("待办", "/todo", None), ("事项", "/", None), ("逾期事项", "/?light=red", Action.view_item),
       ("总览", "/overview", Action.view_item), ("通报", "/bulletins", None),
       ("日历订阅", "/calendar", None),
       ("人员", "/people", Action.manage_people), ("单位", "/units", Action.manage_people),
       ("发件箱", "/outbox", Action.view_outbox))
CHANGED_HINT = "该事项已被他人修改，请刷新页面后重试。"
STALE_FORM = "表单已过期，请刷新页面后重试。"
NO_RIGHT = {Action.manage_people: "您无权管理人员和单位。",
            Action.view_outbox: "您无权查看发件箱。",
            Action.view_item: "您无权查看全部单位的事项总览。"}


class Web:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.engine, self.rules, self.settings = runtime.engine, runtime.rules, runtime.settings
        self.secret = runtime.secret
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
        env.globals["nav_links"] = nav_links  # base.html asks it on every page
        env.globals["light_shade"] = light_shade  # a light's words and colours (web.labels)
        self.templates = Jinja2Templates(env=env)

    def now(self) -> datetime:
        """The runtime's clock, read once per request's operation."""
        return self.runtime.now()

    def reader(self) -> Session:
        return Session(self.engine)

    def writer(self) -> Session:
        """A session whose transaction takes the write lock at BEGIN (SQLite: no upgrade
        deadlock between two writers; PostgreSQL: a plain transaction)."""
        return Session(writer(self.engine))

    # ── pages ────────────────────────────────────────────────────────────────────────────

    def page(self, request: Request, name: str, status: int = 200,
             **context: Any) -> HTMLResponse:
        context |= {"csrf": csrf_token(request), "me": context.get("me"),
                    "zone": self.rules.zone, "flash": request.session.pop("flash", None)}
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    @staticmethod
    def flash(request: Request, message: str) -> None:
        """Say ``message`` on the next page this browser opens: the page a form's redirect
        leads to (post, redirect, get), so a reload does not send the form again."""
        request.session["flash"] = message

    def error(self, request: Request, status: int, title: str, message: str,
              me: Person | None = None) -> HTMLResponse:
        return self.page(request, "error.html", status, title=title, message=message, me=me)

    # ── who ──────────────────────────────────────────────────────────────────────────────

    def current(self, request: Request, db: Session) -> Person | None:
        """The signed-in person; an inactive or deleted one, or a session their logout,
        new password or deactivation ended (`Person.end_sessions`), is signed out."""
        person_id = request.session.get("person_id")
        person = db.get(Person, person_id) if isinstance(person_id, int) else None
        if (person is None or not person.active
                or request.session.get("session_version") != person.session_version):
            request.session.pop("person_id", None)
            request.session.pop("session_version", None)
            return None
        return person

    @staticmethod
    def sign_in(request: Request, person: Person) -> None:
        request.session.clear()  # a new sign-in gets a new CSRF token
        request.session["person_id"] = person.id
        request.session["session_version"] = person.session_version

    @staticmethod
    def may(person: Person, action: Action, item_unit_id: int | None,
            co_unit_ids: Collection[int] = ()) -> bool:
        return allowed(role=person.role, person_unit_id=person.unit_id, action=action,
                       item_unit_id=item_unit_id, item_co_unit_ids=co_unit_ids,
                       active=person.active)

    @staticmethod
    def lead_only(person: Person, action: Action, item_unit_id: int | None,
                  co_unit_ids: Collection[int]) -> bool:
        """Refused because the person's unit co-handles the item and only the lead may."""
        return lead_only(role=person.role, person_unit_id=person.unit_id, action=action,
                         item_unit_id=item_unit_id, item_co_unit_ids=co_unit_ids,
                         active=person.active)

    # ── acting on a milestone ────────────────────────────────────────────────────────────

    def act(self, request: Request, db: Session, me: Person, milestone_id: int,
            do: Callable[..., Recorded], version: int | None,
            after: Callable[[Session, Person], None] | None = None, said: str = "已保存。",
            **specific: Any) -> Response:
        """Run ``do`` (an action of models.store.actions) with the arguments every action takes
        plus ``specific``, and ``after``, in ``db``'s transaction, where who may and the form's
        CSRF token have been checked (web.dependencies.MayAct); redirect to the item, which
        then says ``said``, or show why nothing was done.

        A form carries the version it showed: if the item changed since, the person is told
        (models.store.actions.commit_retrying).
        """
        def attempt() -> None:
            take(do, session=db, settings=self.settings, rules=self.rules,
                 milestone_id=milestone_id, actor=me.email, actor_id=me.id, now=self.now(),
                 expected_version=version, **specific)
            if after is not None:
                after(db, me)

        try:
            commit_retrying(db, attempt, versioned=version is not None)
        except ActionRefused as refused:
            return self.refused(request, refused, me)
        self.flash(request, said)
        return RedirectResponse(f"/milestones/{milestone_id}", status_code=303)

    def refused(self, request: Request, refused: ActionRefused,
                me: Person | None) -> HTMLResponse:
        message = CHANGED_HINT if isinstance(refused, Changed) else f"操作未完成：{refused}。"
        return self.error(request, 409, "操作未完成", message, me)


def nav_links(me: Person | None) -> list[tuple[str, str]]:
    """The nav bar's links this person may use; the all-units ones only for who sees all."""
    if me is None:
        return []
    return [(label, href) for label, href, action in NAV
            if action is None or Web.may(me, action, None)]


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
