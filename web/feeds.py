"""A calendar feed (.ics) per unit of what is still due, for owners' calendar apps.

Calendar apps cannot sign in, so a feed URL carries a key: (person id, unit id) signed with the
app's secret through itsdangerous (salt ``duban.feed``, so no other token signed with the same
secret reads as a feed key). A key has no expiry, because a subscription is set up once and
polled for years; it is checked on every fetch instead: refused when its person is deactivated
or may no longer see the unit (an owner moved to another unit), and it opens its one unit only.
Rotating the secret revokes every key. A signed-in browser may fetch a feed without a key.

The feed shows what is still due: open and done-claimed milestones (claimed ones wait for the
office), not closed or waived ones, each an all-day event on its due date in force with its light
in the title; open ones remind three days before. GET only: the feed never changes anything.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from icalendar import Alarm, Calendar, Event
from itsdangerous import BadData, URLSafeSerializer
from sqlmodel import Session, select

from models.rules.permissions import Action
from models.rules.rulebook import Rules
from models.rules.status import OPEN_STATES
from models.store.status_view import milestone_lights
from models.tables.columns import saved_id
from models.tables.milestone import MilestoneState
from models.tables.person import Person
from models.tables.unit import Unit
from web.context import Web
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep

SALT = "duban.feed"
SHOWN_STATES = frozenset(s.value for s in OPEN_STATES | {MilestoneState.claimed})
OPEN = frozenset(s.value for s in OPEN_STATES)
# 09:00 three days before: an all-day event starts at midnight, and a reminder at 00:00 is missed.
REMINDER = timedelta(days=-3, hours=9)
STATE_WORDS = {"pending": "未到期", "due_soon": "临期", "overdue": "逾期",
               "claimed": "已申报完成，待督查室销号", "returned": "退回重办"}
LIGHT_WORDS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "blue": "蓝灯 待核实"}
NO_KEY = "缺少订阅密钥：请登录后在“日历订阅”页面复制本单位的订阅地址。"
BAD_KEY = "订阅地址无效（可能被改动或复制不完整）：请在“日历订阅”页面重新复制。"
REVOKED = "此订阅地址已失效（账号已停用，或已无权查看该单位）。"


def make_feed_key(*, secret: str, person_id: int, unit_id: int) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps({"person_id": person_id,
                                                      "unit_id": unit_id})


def read_feed_key(*, secret: str, key: str) -> tuple[int, int] | None:
    """(person id, unit id) of a key this app signed, else None."""
    try:
        claims = URLSafeSerializer(secret, salt=SALT).loads(key)
    except BadData:
        return None
    if not isinstance(claims, dict) or set(claims) != {"person_id", "unit_id"}:
        return None
    ids = claims["person_id"], claims["unit_id"]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return None
    return ids


def unit_calendar(*, unit_name: str, unit_code: str, rows: list[dict[str, Any]],
                  rules: Rules, base_url: str, stamp: datetime) -> bytes:
    """The iCalendar text for a unit's milestones (rows of ``milestone_lights``) still due:
    those it leads, and those it co-handles (协办), marked so."""
    calendar = Calendar()
    calendar.add("prodid", "-//Duban//督办//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"督办 · {unit_name}")
    calendar.add("x-wr-timezone", str(rules.zone))
    host = urlsplit(base_url).hostname or "duban"
    for row in rows:
        if row["state"] in SHOWN_STATES:
            calendar.add_component(_event(row, rules, base_url, host, stamp,
                                          co_handled=row["unit_code"] != unit_code))
    ical: bytes = calendar.to_ical()
    return ical


def _event(row: dict[str, Any], rules: Rules, base_url: str, host: str,
           stamp: datetime, co_handled: bool) -> Event:
    due = date.fromisoformat(row["due_on"])
    link = f"{base_url}/milestones/{row['milestone_id']}"
    state = STATE_WORDS[row["state"]]
    if row["overdue_workdays"]:
        state += f"（逾期 {row['overdue_workdays']} 个工作日）"
    event = Event()
    event.add("uid", f"milestone-{row['milestone_id']}@{host}")
    event.add("dtstamp", stamp)
    event.add("dtstart", due)
    event.add("dtend", due + timedelta(days=1))
    event.add("summary", f"【{'协办' if co_handled else '督办'}】{row['project_name']}："
                         f"{row['title']}（{LIGHT_WORDS[row['light']]}）")
    units = f"牵头单位：{row['unit']}" + ("（本单位协办）" if co_handled else "")
    event.add("description", f"状态：{state}\n督办级别：{_level(row, rules)}\n"
                             f"{units}\n查看与办理：{link}")
    event.add("url", link)
    if row["state"] in OPEN:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"督办事项 3 天后到期：{row['title']}")
        alarm.add("trigger", REMINDER)
        event.add_component(alarm)
    return event


def _level(row: dict[str, Any], rules: Rules) -> str:
    if not row["level"]:
        return "未升级"
    names = {lvl.level: lvl.name for lvl in rules.policy(row["plan"]).ladder}
    return f"第 {row['level']} 级 {names.get(row['level'], '')}".rstrip()


router = APIRouter()


def base_url(web: Web) -> str:
    return str(web.settings.base_url).rstrip("/")


def feed_url(web: Web, person: Person, unit: Unit) -> str:
    key = make_feed_key(secret=web.secret, person_id=saved_id(person), unit_id=saved_id(unit))
    return f"{base_url(web)}/units/{unit.code}/calendar.ics?key={key}"


def feed_reader(web: Web, request: Request, db: Session, unit: Unit,
                key: str | None) -> Person | str:
    """Who reads ``unit``'s feed: the key's person, else the signed-in one; or why nobody."""
    if key is None:
        person = web.current(request, db)
        if person is None:
            return NO_KEY
        return person if web.may(person, Action.view_item, unit.id) else "您无权查看该单位。"
    claims = read_feed_key(secret=web.secret, key=key)
    if claims is None or claims[1] != unit.id:  # a key opens its own unit only
        return BAD_KEY
    person = db.get(Person, claims[0])
    if person is None or not web.may(person, Action.view_item, unit.id):
        return REVOKED
    return person


@router.get("/units/{unit_code}/calendar.ics")
def calendar_feed(request: Request, unit_code: str, web: WebDep, db: SessionDep,
                  key: str | None = None) -> Response:
    unit = db.exec(select(Unit).where(Unit.code == unit_code)).first()
    if unit is None:
        raise Refused(404, "未找到", "没有这个单位。")
    reader = feed_reader(web, request, db, unit, key)
    if isinstance(reader, str):
        raise Refused(403, "无法订阅", reader)
    now = web.now()
    rows = milestone_lights(session=db, rules=web.rules, now=now, unit=unit.code,
                            with_co_units=True)
    body = unit_calendar(unit_name=unit.name, unit_code=unit.code, rows=rows, rules=web.rules,
                         base_url=base_url(web), stamp=now)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'inline; filename="duban-{unit.code}.ics"'})


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, web: WebDep, db: SessionDep, me: CurrentUser) -> Response:
    urls = [(u.name, feed_url(web, me, u)) for u in db.exec(select(Unit).order_by(Unit.code))
            if web.may(me, Action.view_item, u.id)]
    feeds = [{"unit": name, "url": url, "webcal": "webcal://" + url.split("://", 1)[1]}
             for name, url in urls]
    return web.page(request, "calendar.html", me=me, feeds=feeds)
