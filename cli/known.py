"""Codes a command is given, checked against the database: an unknown plan, unit or role ends the
command with exit code 2 and a message naming it, never an empty answer.

A filter that matches nothing is indistinguishable from a typo, so every command that takes a
plan or unit code checks it first.
"""

from __future__ import annotations

from sqlmodel import Session, select

from cli.output import fail
from models.tables.person import Role
from models.tables.plan import Plan
from models.tables.unit import Unit


def require_plan(db: Session, code: str | None, option: str = "--plan") -> None:
    if code is not None and db.exec(select(Plan.id).where(Plan.code == code)).first() is None:
        fail(f"{option}: 没有代码为 {code!r} 的规划（duban plans list 列出全部规划）", code=2)


def require_unit(db: Session, code: str | None, option: str = "--unit") -> None:
    if code is not None and db.exec(select(Unit.id).where(Unit.code == code)).first() is None:
        fail(f"{option}: 没有代码为 {code!r} 的单位（duban units list 列出全部单位）", code=2)


def require_role(role: str | None, option: str = "--role") -> None:
    if role is not None and role not in Role.__members__:
        fail(f"{option}: {role!r} 不是角色（可选 {'、'.join(Role.__members__)}）", code=2)
