"""The office's management pages: people, units' contacts, and the outbox.

Every POST is refused unless (1) someone is signed in (else to /login), (2) they may take the
action (403), (3) the form's CSRF token is the session's (403), all checked by web.dependencies
(`OfficeForm`); then it writes in one transaction and commits once. Input is checked by the
same schemas and data functions as the CLI (``models.store.people``), so the web cannot accept
what `duban people add` refuses. Decisions:
- Adding refuses an email already in use: `save_person` would update that person instead,
  and a clerk adding someone must not silently change someone else.
- No one grants a power they do not hold: adding, changing, (de)activating or setting the
  password of someone of a role is refused (403) unless `may_manage` allows it for that role
  (and, on a change of role, for the new one too), so an admin cannot make an office account.
- People are deactivated, never deleted; no one may deactivate themselves or change their own
  role, so the last office clerk cannot lock the office out by mistake.
- A password is set by the office (people here sign in rarely, mostly from email links); the
  event says it was set and by whom, never the password or its hash. A new password and a
  deactivation end every session of that person (`Person.end_sessions`).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session, select

from models.rules.passwords import check_password_policy, hash_password
from models.rules.permissions import Action, may_manage
from models.store.events import record
from models.store.people import ContactIn, PersonIn, UnknownUnit, save_person, set_unit_contact
from models.tables.event_kinds import EventKind
from models.tables.message import Message
from models.tables.person import Person, Role
from models.tables.unit import Unit
from notifications.outbox import NotRetriable, list_messages, retry
from web.context import Web
from web.dependencies import (
    OfficeForm,
    OfficeUser,
    Permitted,
    PermittedForm,
    Refused,
    SessionDep,
    WebDep,
    WriterDep,
)

ROLE_NAMES = {"office": "督查室", "owner": "项目负责人", "leader": "分管领导", "admin": "管理员"}
FIELD_NAMES = {"name": "姓名", "email": "邮箱", "role": "角色", "unit": "单位", "phone": "电话",
               "notify_via": "通知方式", "dingtalk_userid": "钉钉用户ID",
               "wecom_userid": "企业微信用户ID",
               "heads_unit": "单位负责人"}
NO_PERSON = "没有这个人员。"
ROLES = frozenset(role.value for role in Role)
CONTACT_FIELDS = {"name": "联系人", "email": "邮箱", "phone": "电话"}
Text = Annotated[str, Form()]
OutboxUser = Annotated[Person, Depends(Permitted(Action.view_outbox))]
OutboxForm = Annotated[Person, Depends(PermittedForm(Action.view_outbox))]
router = APIRouter()
T = TypeVar("T")


def field_problems(exc: ValidationError, names: dict[str, str]) -> list[str]:
    def one(error: ErrorDetails) -> str:
        if not error["loc"]:  # a rule across fields says which fields itself
            return f"{error['msg'].removeprefix('Value error, ')}。"
        field = str(error["loc"][0])
        return f"{names.get(field, field)}格式不正确（{error['msg']}）。"
    return [one(e) for e in exc.errors(include_url=False)]


def people_page(web: Web, request: Request, db: Session, me: Person, status: int = 200,
                problems: list[str] | None = None,
                form: dict[str, Any] | None = None) -> Response:
    people = db.exec(select(Person, Unit).join(Unit, isouter=True).order_by(Person.name)).all()
    return web.page(request, "people.html", status, me=me, people=people, units=_units(db),
                    roles=ROLE_NAMES, problems=problems or [], form=form or {"role": "owner"})


def person_page(web: Web, request: Request, db: Session, me: Person, person: Person,
                status: int = 200, problems: list[str] | None = None,
                form: dict[str, Any] | None = None) -> Response:
    unit = db.get(Unit, person.unit_id) if person.unit_id is not None else None
    values = form or {"name": person.name, "role": person.role, "phone": person.phone or "",
                      "unit": unit.code if unit else "", "heads_unit": person.heads_unit,
                      "notify_via": person.notify_via.value,
                      "dingtalk_userid": person.dingtalk_userid or "",
                      "wecom_userid": person.wecom_userid or ""}
    return web.page(request, "person_form.html", status, me=me, person=person, unit=unit,
                    units=_units(db), roles=ROLE_NAMES, problems=problems or [], form=values)


def unit_page(web: Web, request: Request, me: Person, unit: Unit, status: int = 200,
              problems: list[str] | None = None,
              form: dict[str, str] | None = None) -> Response:
    values = form or ({} if unit.contact_placeholder else {
        "name": unit.contact_name, "email": unit.contact_email,
        "phone": unit.contact_phone or ""})
    return web.page(request, "unit_form.html", status, me=me, unit=unit,
                    problems=problems or [], form=values)


def saved(web: Web, db: Session, me: Person, values: dict[str, Any]) -> Person | list[str]:
    """Check and save through the CLI's rules; the problems, named, if any."""
    try:
        person_in = PersonIn.model_validate(values)
    except ValidationError as exc:
        return field_problems(exc, FIELD_NAMES)
    try:
        return save_person(session=db, person_in=person_in, actor=me.email, actor_id=me.id,
                           now=web.now())
    except UnknownUnit:
        if person_in.unit is None:
            return ["项目负责人必须属于一个单位，请选择单位。"]
        return [f"没有代码为“{person_in.unit}”的单位。"]


def check_may_manage(me: Person, *roles: str) -> None:
    """Refuse (403) unless `me` may manage people of each of `roles`; text that is no role is
    left for the form's check to name."""
    for role in roles:
        if role in ROLES and not may_manage(actor_role=me.role, target_role=role,
                                            active=me.active):
            raise Refused(403, "无权操作", f"您无权管理{ROLE_NAMES[role]}的账号：不能授予自己"
                          "没有的权限。", me)


def found(row: T | None, missing: str, me: Person) -> T:
    """The row the address names, or the page saying there is none (404)."""
    if row is None:
        raise Refused(404, "未找到", missing, me)
    return row


@router.get("/people", response_class=HTMLResponse)
def people(request: Request, web: WebDep, db: SessionDep, me: OfficeUser) -> Response:
    return people_page(web, request, db, me)


@router.post("/people")
def add_person(request: Request, web: WebDep, db: WriterDep, me: OfficeForm,
               name: Text = "", email: Text = "", role: Text = "", unit: Text = "",
               phone: Text = "", heads_unit: Annotated[bool, Form()] = False,
               notify_via: Text = "email", dingtalk_userid: Text = "",
               wecom_userid: Text = "") -> Response:
    form = {"name": name, "email": email, "role": role, "unit": unit, "phone": phone,
            "heads_unit": heads_unit, "notify_via": notify_via,
            "dingtalk_userid": dingtalk_userid, "wecom_userid": wecom_userid}
    check_may_manage(me, role)
    holder = db.exec(select(Person).where(Person.email == email.strip().lower())).first()
    if holder is not None:
        taken = f"邮箱 {holder.email} 已被 {holder.name} 使用；要修改此人，请在列表中打开。"
        return people_page(web, request, db, me, 400, [taken], form)
    person = saved(web, db, me, form)
    if isinstance(person, list):
        return people_page(web, request, db, me, 400, person, form)
    db.commit()
    web.flash(request, f"已添加人员 {person.name}。")
    return RedirectResponse(f"/people/{person.id}", status_code=303)


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person(request: Request, person_id: int, web: WebDep, db: SessionDep,
           me: OfficeUser) -> Response:
    return person_page(web, request, db, me, found(db.get(Person, person_id), NO_PERSON, me))


@router.post("/people/{person_id}")
def change_person(request: Request, person_id: int, web: WebDep, db: WriterDep,
                  me: OfficeForm, name: Text = "", role: Text = "", unit: Text = "",
                  phone: Text = "", heads_unit: Annotated[bool, Form()] = False,
                  notify_via: Text = "email", dingtalk_userid: Text = "",
                  wecom_userid: Text = "") -> Response:
    form = {"name": name, "role": role, "unit": unit, "phone": phone, "heads_unit": heads_unit,
            "notify_via": notify_via, "dingtalk_userid": dingtalk_userid,
            "wecom_userid": wecom_userid}
    target = found(db.get(Person, person_id), NO_PERSON, me)
    check_may_manage(me, target.role, role)
    if target.id == me.id and role != me.role:
        return person_page(web, request, db, me, target, 400, ["不能更改自己的角色。"], form)
    changed = saved(web, db, me, form | {"email": target.email})
    if isinstance(changed, list):
        return person_page(web, request, db, me, target, 400, changed, form)
    db.commit()
    web.flash(request, f"{target.name} 的信息已保存。")
    return RedirectResponse(f"/people/{person_id}", status_code=303)


def set_active(web: Web, request: Request, db: Session, me: Person, person_id: int,
               active: bool, reason: str) -> Response:
    target = found(db.get(Person, person_id), NO_PERSON, me)
    check_may_manage(me, target.role)
    if target.id == me.id and not active:
        return person_page(web, request, db, me, target, 400, ["不能停用自己的账号。"])
    if target.active != active:
        target.active = active
        target.end_sessions()  # so reactivating does not revive a cookie saved before
        db.add(target)
        kind = EventKind.person_reactivated if active else EventKind.person_deactivated
        record(db, kind, at=web.now(), actor=me.email, actor_id=me.id,
               reason=reason.strip() or None, person_id=target.id, unit_id=target.unit_id)
        db.commit()
    web.flash(request, f"已{'恢复' if active else '停用'} {target.name} 的账号。")
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/deactivate")
def deactivate(request: Request, person_id: int, web: WebDep, db: WriterDep, me: OfficeForm,
               reason: Text = "") -> Response:
    return set_active(web, request, db, me, person_id, False, reason)


@router.post("/people/{person_id}/reactivate")
def reactivate(request: Request, person_id: int, web: WebDep, db: WriterDep, me: OfficeForm,
               reason: Text = "") -> Response:
    return set_active(web, request, db, me, person_id, True, reason)


@router.post("/people/{person_id}/password")
def set_password(request: Request, person_id: int, web: WebDep, db: WriterDep,
                 me: OfficeForm, password: Text = "", confirm: Text = "") -> Response:
    target = found(db.get(Person, person_id), NO_PERSON, me)
    check_may_manage(me, target.role)
    try:
        check_password_policy(password)
    except ValueError as weak:
        return person_page(web, request, db, me, target, 400, [str(weak)])
    if password != confirm:
        return person_page(web, request, db, me, target, 400, ["两次输入的密码不一致。"])
    target.password_hash = hash_password(password)
    target.end_sessions()  # the sessions the old password opened end with it
    db.add(target)
    record(db, EventKind.person_password_set, at=web.now(), actor=me.email, actor_id=me.id,
           person_id=target.id, unit_id=target.unit_id)
    db.commit()
    if target.id == me.id:  # a clerk who changed their own password stays signed in here
        web.sign_in(request, target)
    web.flash(request, f"已为 {target.name} 设置新密码，其原有登录已全部退出。"
              if target.id != me.id else "您的新密码已设置，其他设备上的登录已退出。")
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.get("/units", response_class=HTMLResponse)
def units(request: Request, web: WebDep, db: SessionDep, me: OfficeUser) -> Response:
    return web.page(request, "units.html", me=me, units=_units(db))


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit(request: Request, unit_id: int, web: WebDep, db: SessionDep,
         me: OfficeUser) -> Response:
    return unit_page(web, request, me, found(db.get(Unit, unit_id), "没有这个单位。", me))


@router.post("/units/{unit_id}")
def set_contact(request: Request, unit_id: int, web: WebDep, db: WriterDep, me: OfficeForm,
                name: Text = "", email: Text = "", phone: Text = "") -> Response:
    target = found(db.get(Unit, unit_id), "没有这个单位。", me)
    try:
        contact = ContactIn(name=name, email=email, phone=phone.strip() or None)
    except ValidationError as exc:
        return unit_page(web, request, me, target, 400, field_problems(exc, CONTACT_FIELDS),
                         {"name": name, "email": email, "phone": phone})
    set_unit_contact(session=db, unit=target, contact=contact, actor=me.email, actor_id=me.id,
                     now=web.now())
    db.commit()
    web.flash(request, f"{target.name} 的联系人已保存。")
    return RedirectResponse("/units", status_code=303)


@router.get("/outbox", response_class=HTMLResponse)
def outbox(request: Request, web: WebDep, db: SessionDep, me: OutboxUser,
           failed: Annotated[str, Query()] = "") -> Response:
    messages = list_messages(session=db, failed_only=failed == "1")
    return web.page(request, "outbox.html", me=me, messages=messages,
                    failed_only=failed == "1")


@router.post("/outbox/{message_id}/retry")
def retry_message(request: Request, message_id: int, web: WebDep, db: SessionDep,
                  me: OutboxForm) -> Response:
    found(db.get(Message, message_id), "没有这条消息。", me)
    try:  # in its own write transaction, beside this request's read-only one
        retry(engine=web.engine, message_id=message_id, actor=me.email, actor_id=me.id,
              now=web.now())
    except NotRetriable as refused:
        return web.error(request, 409, "未能重试",
                         f"只有发送失败或已放弃的消息可以重试。（{refused}）", me)
    web.flash(request, "已重新排入发送队列。")
    return RedirectResponse("/outbox?failed=1", status_code=303)


def _units(db: Session) -> list[Unit]:
    return list(db.exec(select(Unit).order_by(Unit.code)).all())
