"""What a page's route asks for, as `Annotated` dependencies: the app's `Web`, a session, the
signed-in person, and the checks that refuse a request.

A check that fails raises: `SignInFirst`, answered by a redirect to /login, or `Refused`,
answered by the error page with its status (`install` registers both answers on the app; a form
that cannot be read is answered by web.forms). A
route's checks run in this order, all before FastAPI reads the route's form model:
(1) someone is signed in, (2) the item exists and they may see it (else 404, as for a missing
one: `visible_milestone`), (3) they may take the action (403), (4) the form's CSRF token is the
session's. So someone who may not act learns nothing from a form error.

No ``from __future__ import annotations``: FastAPI reads these annotations when a route is
defined.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from models.rules.permissions import Action, lead_only_message
from models.store.actions import Recorded
from models.store.co_units import co_unit_ids
from models.tables.milestone import Milestone
from models.tables.person import Person
from web.context import NO_RIGHT, STALE_FORM, Web, csrf_ok


class SignInFirst(Exception):
    """Nobody (or a deactivated person) is signed in: sign in, then come back."""


class Refused(Exception):
    """The request is refused; the error page says why."""

    def __init__(self, status: int, title: str, message: str, me: Person | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.me = status, title, message, me


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


WebDep = Annotated[Web, Depends(web_of)]


def _reader(web: WebDep) -> Iterator[Session]:
    with web.reader() as db:
        yield db


def _writer(web: WebDep) -> Iterator[Session]:
    with web.writer() as db:
        yield db


SessionDep = Annotated[Session, Depends(_reader)]
WriterDep = Annotated[Session, Depends(_writer)]  # one write transaction for the request


async def _form_token(request: Request) -> str:
    """The CSRF token the form sent (FastAPI has parsed the form already when the route reads
    one; Starlette keeps it)."""
    token = (await request.form()).get("csrf")
    return token if isinstance(token, str) else ""


FormToken = Annotated[str, Depends(_form_token)]


def signed_in(web: Web, request: Request, db: Session) -> Person:
    me = web.current(request, db)
    if me is None:
        raise SignInFirst
    return me


def _current_user(request: Request, web: WebDep, db: SessionDep) -> Person:
    return signed_in(web, request, db)


CurrentUser = Annotated[Person, Depends(_current_user)]


def check_token(request: Request, token: str, me: Person | None,
                message: str = STALE_FORM) -> None:
    if not csrf_ok(request, token):
        raise Refused(403, "请求无效", message, me)


class FormChecked:
    """A form from one of our pages (its CSRF token), for forms sent before signing in."""

    def __init__(self, message: str = STALE_FORM) -> None:
        self.message = message

    def __call__(self, request: Request, token: FormToken) -> None:
        check_token(request, token, None, self.message)


class Permitted:
    """For pages about no one item: the signed-in person, if they may take `action` anywhere."""

    def __init__(self, action: Action) -> None:
        self.action = action

    def __call__(self, me: CurrentUser) -> Person:
        if not Web.may(me, self.action, None):
            raise Refused(403, "无权操作", NO_RIGHT[self.action], me)
        return me


class PermittedForm:
    """`Permitted`, for a form: its CSRF token must be the session's too."""

    def __init__(self, action: Action) -> None:
        self.permitted = Permitted(action)

    def __call__(self, request: Request, me: CurrentUser, token: FormToken) -> Person:
        self.permitted(me)
        check_token(request, token, me)
        return me


OfficeUser = Annotated[Person, Depends(Permitted(Action.manage_people))]
OfficeForm = Annotated[Person, Depends(PermittedForm(Action.manage_people))]


@dataclass(frozen=True)
class Acting:
    """A person cleared to take one action on one milestone, in the request's write
    transaction: calling it takes the action (``Web.act``)."""

    web: Web
    request: Request
    db: Session
    me: Person
    milestone_id: int

    def __call__(self, do: Callable[..., Recorded], version: int | None,
                 after: Callable[[Session, Person], None] | None = None, said: str = "已保存。",
                 **specific: Any) -> Response:
        return self.web.act(self.request, self.db, self.me, self.milestone_id, do, version,
                            after, said, **specific)


NO_SUCH_ITEM = "没有这个事项。"


def visible_milestone(web: Web, db: Session, me: Person, milestone_id: int) -> Milestone:
    """The milestone, if ``me`` may see it; else the page a missing one gets (404, the same
    words), so that who may not see an item cannot tell whether its id exists."""
    milestone = db.get(Milestone, milestone_id)
    if milestone is None or not web.may(me, Action.view_item, milestone.unit_id,
                                        co_unit_ids(db, milestone.id)):
        raise Refused(404, "未找到", NO_SUCH_ITEM, me)
    return milestone


class MayAct:
    """The signed-in person who may take `action` on the path's milestone, its form checked."""

    def __init__(self, action: Action) -> None:
        self.action = action

    def __call__(self, request: Request, milestone_id: int, web: WebDep, db: WriterDep,
                 token: FormToken) -> Acting:
        me = signed_in(web, request, db)
        milestone = visible_milestone(web, db, me, milestone_id)
        co = co_unit_ids(db, milestone.id)
        if not web.may(me, self.action, milestone.unit_id, co):
            if web.lead_only(me, self.action, milestone.unit_id, co):
                raise Refused(403, "无权操作", lead_only_message(self.action), me)
            raise Refused(403, "无权操作", "您无权对此事项进行该操作。", me)
        check_token(request, token, me)
        return Acting(web, request, db, me, milestone_id)


def May(action: Action) -> Any:  # noqa: N802 (read as a type: Annotated[Acting, May(…)])
    return Depends(MayAct(action))


# ── the answers ──────────────────────────────────────────────────────────────────────────────

def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInFirst, _to_login)
    app.add_exception_handler(Refused, _refused)


def _to_login(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)  # Starlette types a handler for any exception
    return web_of(request).error(request, exc.status, exc.title, exc.message, exc.me)
