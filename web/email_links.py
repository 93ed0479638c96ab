"""Following a signed link from an email (notifications/links.py): it signs its person in, once,
and shows the item; it never acts on the item.

Decisions:
1. Opening the link (GET) signs no one in and uses nothing up: mail scanners and link
   previews fetch every link in a message, and a GET that consumed the link would leave the
   owner a used link. The GET shows a page with one button; its POST (with the page's CSRF
   token) uses the link up (a `link_use` row, whose key refuses a second use) and signs in.
2. A link for the person already signed in in this browser goes straight to the item, and
   is used up on the way: nobody else may sign in with it afterwards, and it changes nothing
   for the browser. So tapping the same email twice just shows the item again.
3. A link for someone else, opened in a browser where A is signed in, does not silently make
   the browser B's: the page asks "switch to B, or stay A?". Staying changes nothing and
   leaves the link unused for B.
4. A refused link (forged, expired, used, its person deactivated) is a 403 page saying which,
   on GET and on POST alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.rules.item_links import SALT, START_PAGE, LinkClaims, LinkInvalid, read_link_token
from models.rules.permissions import Action
from models.store.co_units import co_unit_ids
from models.tables.columns import saved_id
from models.tables.link_use import LinkUse
from models.tables.milestone import Milestone
from models.tables.person import Person
from web.context import Web
from web.dependencies import FormChecked, Refused, WebDep, WriterDep

LINK_MAX_AGE_SECONDS = 14 * 24 * 3600
LINK_REFUSALS = {"expired": "链接已过期，请使用最新邮件中的链接，或用账号密码登录。",
                 "tampered": "链接无效（可能被改动或复制不完整）。"}
LINK_USED = "链接已使用。请用账号密码登录，或使用最新邮件中的链接。"
STALE_LINK_PAGE = "页面已过期，请重新打开邮件中的链接。"

router = APIRouter()


@dataclass(frozen=True)
class Followed:
    """A valid link's person and where it leads."""

    claims: LinkClaims
    person: Person

    @property
    def target(self) -> str:
        milestone = self.claims.milestone_id
        return "/todo" if milestone == START_PAGE else f"/milestones/{milestone}"


def followed_link(web: Web, db: Session, token: str, salt: str = SALT) -> Followed:
    """The link's claims and active person, or the page saying why it opens nothing (an item
    link's, or under ``salt`` another kind's: a 签收 link, web.orders)."""
    try:
        claims = read_link_token(secret=web.secret, token=token, salt=salt,
                                 max_age_seconds=LINK_MAX_AGE_SECONDS, now=web.now().timestamp())
    except LinkInvalid as invalid:
        raise Refused(403, "链接无法打开", LINK_REFUSALS[invalid.reason]) from None
    if len(claims.nonce) > 64:  # LinkUse.nonce
        raise Refused(403, "链接无法打开", LINK_REFUSALS["tampered"])
    person = db.get(Person, claims.person_id)
    if person is None or not person.active:
        raise Refused(403, "链接无法打开", "此链接对应的账号已停用。")
    return Followed(claims, person)


def use_up(web: Web, db: Session, followed: Followed, milestone_id: int | None = None) -> bool:
    """Record the link as used (for ``milestone_id``, if its claims name something else);
    False if it was already (now, or by a click at the same time: the nonce is the key)."""
    if db.get(LinkUse, followed.claims.nonce) is not None:
        return False
    db.add(LinkUse(nonce=followed.claims.nonce, person_id=saved_id(followed.person),
                   milestone_id=milestone_id or followed.claims.milestone_id,
                   used_at=web.now()))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    return True


@router.get("/l/{token}", response_class=HTMLResponse)
def open_link(request: Request, token: str, web: WebDep, db: WriterDep) -> Response:
    """Show what the link would do (decisions 1–3); only its own person's browser goes on."""
    followed = followed_link(web, db, token)
    me = web.current(request, db)
    if me is not None and me.id == followed.person.id:
        use_up(web, db, followed)
        return RedirectResponse(followed.target, status_code=303)
    if db.get(LinkUse, followed.claims.nonce) is not None:
        raise Refused(403, "链接已使用", LINK_USED, me)
    milestone = db.get(Milestone, followed.claims.milestone_id)
    stay = "/"
    if me is not None and milestone is not None and web.may(
            me, Action.view_item, milestone.unit_id, co_unit_ids(db, milestone.id)):
        stay = f"/milestones/{milestone.id}"
    return web.page(request, "link.html", me=me, owner=followed.person, stay=stay,
                    item=milestone.title if milestone is not None else None)


@router.post("/l/{token}", dependencies=[Depends(FormChecked(STALE_LINK_PAGE))])
def use_link(request: Request, token: str, web: WebDep, db: WriterDep) -> Response:
    """Use the link up and sign its person in (a new session), then show the item."""
    followed = followed_link(web, db, token)
    me = web.current(request, db)
    if not use_up(web, db, followed) and (me is None or me.id != followed.person.id):
        raise Refused(403, "链接已使用", LINK_USED, me)
    web.sign_in(request, followed.person)
    return RedirectResponse(followed.target, status_code=303)
