"""`duban people …`: who is in the office, who owns what, who leads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli import context
from cli.output import Code, console, emit_json, errors, fail, table
from models.tables.event_kinds import EventKind

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.tables.person import Person

app = typer.Typer(no_args_is_help=True)

_ROLE_WORDS = {"office": "督查室", "owner": "项目负责人", "leader": "分管领导", "admin": "管理员"}


@app.command()
def add(name: Annotated[str, typer.Option(help="full name")],
        email: Annotated[str, typer.Option(help="email address")],
        role: Annotated[str, typer.Option(help="office | owner | leader | admin")],
        unit: Annotated[str | None, typer.Option(help="unit code (owners must have one)")] = None,
        phone: Annotated[str | None, typer.Option()] = None,
        heads_unit: Annotated[bool, typer.Option(help="receives the unit's notices")] = False,
        notify_via: Annotated[str | None, typer.Option(
            help="email | dingtalk | wecom: where their own notices go (e-mail is the "
                 "fallback)")] = None,
        dingtalk_userid: Annotated[str | None, typer.Option(help="DingTalk userid")] = None,
        wecom_userid: Annotated[str | None, typer.Option(help="WeCom UserID")] = None,
        ) -> None:
    """Add a person, or update the person with this email."""
    from pydantic import ValidationError

    from models.store.people import PersonIn, UnknownUnit, save_person

    try:
        channel = {k: v for k, v in {"notify_via": notify_via, "dingtalk_userid": dingtalk_userid,
                                     "wecom_userid": wecom_userid}.items() if v is not None}
        person_in = PersonIn.model_validate({"name": name, "email": email, "role": role,
                                             "unit": unit, "phone": phone,
                                             "heads_unit": heads_unit} | channel)
    except ValidationError as exc:
        fail("；".join(f"--{e['loc'][0] if e['loc'] else 'notify-via'}: {e['msg']}"
                      for e in exc.errors()), code=2)
    with context.session() as db:
        try:
            save_person(session=db, person_in=person_in, actor=context.actor(), now=context.now())
        except UnknownUnit as exc:
            fail(f"--unit: {exc}", code=2)
        db.commit()
    console.print(f"已保存 {person_in.name} <{person_in.email}>", highlight=False)


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="CSV: name,email,role,unit,phone,heads_unit")]
            ) -> None:
    """Add or update people from a CSV file (UTF-8); all rows or none."""
    from models.store.people import PeopleCsvInvalid, UnknownUnit, parse_people_csv, save_person

    try:
        people = parse_people_csv(file.read_text(encoding="utf-8-sig"), str(file))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: 无法读取（{exc}）", code=2)
    except PeopleCsvInvalid as exc:
        for problem in exc.problems:
            errors.print(problem, highlight=False, markup=False, soft_wrap=True)
        fail("人员文件有错误，见上；数据库未作任何改动。", code=2)
    with context.session() as db:
        for line, person_in in enumerate(people, start=2):
            try:
                save_person(session=db, person_in=person_in, actor=context.actor(),
                            now=context.now())
            except UnknownUnit as exc:
                db.rollback()
                fail(f"{file}:{line}: unit: {exc}；数据库未作任何改动。", code=2)
        db.commit()
    console.print(f"已导入 {len(people)} 人", highlight=False)


@app.command("list")
def list_(role: Annotated[str | None, typer.Option()] = None,
          unit: Annotated[str | None, typer.Option(help="unit code")] = None,
          json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """People, optionally of one role or unit."""
    from sqlmodel import select

    from cli.known import require_role, require_unit
    from models.tables.person import Person
    from models.tables.unit import Unit

    require_role(role)
    with context.session() as db:
        require_unit(db, unit)
        query = select(Person, Unit).join(Unit, isouter=True).order_by(Person.name)
        if role:
            query = query.where(Person.role == role)
        if unit:
            query = query.where(Unit.code == unit)
        rows: list[dict[str, Any]] = [
                {"name": p.name, "email": p.email, "role": p.role,
                 "unit": u.code if u else None,
                 "phone": p.phone, "heads_unit": p.heads_unit, "active": p.active}
                for p, u in db.exec(query).all()]
    if json:
        emit_json(rows)
        return
    table("人员", ["姓名", Code("邮箱"), "角色", Code("单位"), "电话", "单位负责人"], (
        (r["name"], r["email"], _ROLE_WORDS[r["role"]], r["unit"], r["phone"],
         "是" if r["heads_unit"] else "") for r in rows))


@app.command()
def password(email: Annotated[str, typer.Argument(help="the person's email")],
             new: Annotated[str, typer.Option("--password", prompt=True, hide_input=True,
                                              confirmation_prompt=True,
                                              help="the new password (asked if not given)")],
             ) -> None:
    """Set a person's web sign-in password (at least 10 characters, not only digits)."""
    from models.rules.passwords import check_password_policy, hash_password
    from models.store.events import record

    try:
        check_password_policy(new)
    except ValueError as exc:
        fail(f"--password: {exc}", code=2)
    with context.session() as db:
        person = _person(db, email)
        person.password_hash = hash_password(new)
        person.end_sessions()  # every web session of this person ends
        db.add(person)
        record(db, EventKind.person_password_set, at=context.now(), actor=context.actor(),
               person_id=person.id)
        db.commit()
    console.print(f"{email} 的登录密码已设置", highlight=False)


@app.command()
def token(email: Annotated[str, typer.Argument(help="the person's email")],
          label: Annotated[str, typer.Option(help="what the token is for, e.g. the script")] = "",
          expires_in: Annotated[int, typer.Option(
              "--expires-in", metavar="DAYS", help="days until it expires (1–3650)")] = 90,
          read_only: Annotated[bool, typer.Option(
              "--read-only", help="it may only read (GET); every change is refused")] = False,
          ) -> None:
    """Issue a personal API token for /api and print it; it is shown this once only."""
    from datetime import timedelta

    from models.store.api_tokens import MAX_LIFETIME, issue_token

    if len(label) > 100:
        fail("--label: at most 100 characters", code=2)
    if not 1 <= expires_in <= MAX_LIFETIME.days:
        fail(f"--expires-in: 有效期须在 1 至 {MAX_LIFETIME.days} 天之间，收到 {expires_in}",
             code=2)
    with context.session() as db:
        person = _person(db, email)
        if not person.active:
            fail(f"{email} 已停用：停用人员不能取得令牌", code=2)
        now = context.now()
        issued = issue_token(session=db, person=person, label=label.strip(),
                             actor=context.actor(), now=now,
                             expires_in=timedelta(days=expires_in), read_only=read_only)
        db.commit()
    # The token alone on stdout, so that a script can capture it; the advice goes to stderr.
    typer.echo(issued)
    until = _beijing(now + timedelta(days=expires_in))
    errors.print(f"{email} 的{'只读' if read_only else ''} API 令牌，{until} 前有效"
                 f"（只显示这一次，请妥善保存；停用：duban people revoke-tokens {email}）",
                 highlight=False, markup=False)


@app.command()
def tokens(email: Annotated[str | None, typer.Argument(help="only this person's")] = None,
           json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """API tokens (never the tokens themselves): whose, what for, until when, last used."""
    from models.store.api_tokens import tokens_of

    with context.session() as db:
        if email is not None:
            _person(db, email)
        now = context.now()
        rows: list[dict[str, Any]] = [
            {"id": t.digest[:8], "email": p.email, "label": t.label, "created_at": t.created_at,
             "expires_at": t.expires_at, "read_only": t.read_only,
             "last_used_at": t.last_used_at, "state": _token_state(t, p, now)}
            for t, p in tokens_of(session=db, email=email.lower() if email else None)]
    if json:
        emit_json(rows)
        return
    # One person's tokens leave out whose they are, to fit a narrow terminal.
    whose = [] if email is not None else ["人员"]
    table("API 令牌", [*whose, "用途", "权限", "到期", "最近使用", "状态"], (
        ([] if email is not None else [r["email"]])
        + [r["label"] or "（未注明）", "只读" if r["read_only"] else "读写",
           _beijing(r["expires_at"])[:10],
           _beijing(r["last_used_at"]) if r["last_used_at"] else "从未使用", r["state"]]
        for r in rows))


def _token_state(token: Any, person: Person, now: Any) -> str:
    if token.revoked_at is not None:
        return "已吊销"
    if not person.active:
        return "人员已停用"
    return "已过期" if now >= token.expires_at else "有效"


def _beijing(moment: Any) -> str:
    """A stored UTC time as people read it: Beijing time, to the minute."""
    return str(moment.astimezone(context.rules().zone).strftime("%Y-%m-%d %H:%M"))


@app.command("revoke-tokens")
def revoke_tokens(email: Annotated[str, typer.Argument(help="the person's email")]) -> None:
    """Revoke every API token of a person: scripts using them get 401 from then on."""
    from models.store.api_tokens import revoke_tokens as revoke

    with context.session() as db:
        person = _person(db, email)
        count = revoke(session=db, person=person, actor=context.actor(), now=context.now())
        db.commit()
    console.print(f"已吊销 {email} 的 {count} 个 API 令牌", highlight=False)


def _person(db: Session, email: str) -> Person:
    from sqlmodel import select

    from models.tables.person import Person

    person = db.exec(select(Person).where(Person.email == email.lower())).first()
    if person is None:
        fail(f"没有邮箱为 {email} 的人员（duban people list 列出全部人员）", code=2)
    return person
