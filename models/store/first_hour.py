"""The first hour on a fresh database: the first office account, and demo people.

`first_office` makes the office account a newcomer signs in with, once, when there is no
active office person at all; its sign-in link (made by the caller, notifications.links) opens
the start page, where the office gives people passwords (人员). Demo people (`add_demo_people`)
are clearly marked, with example.org addresses that can never reach anyone: an owner and a
unit head in every unit, a leader, so that a sweep's digests land in the outbox folder and a
newcomer can sign in as an owner.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from models.store.people import PersonIn, save_person
from models.tables.milestone import Milestone
from models.tables.person import Person, Role
from models.tables.unit import Unit

FIRST_OFFICE_EMAIL = "office@example.org"
FIRST_OFFICE_NAME = "督办办公室（首个账号）"
DEMO_DOMAIN = "example.org"
DEMO_MARK = "【演示】"


def first_office(*, session: Session, actor: str, now: datetime) -> Person | None:
    """The first office account, made when no active office person exists; it stays "first"
    (its link is offered again) until it has a password. None once it has one, or once another
    office person is on record."""
    office = session.exec(select(Person).where(Person.role == Role.office,
                                               col(Person.active).is_(True))
                          .order_by(col(Person.id))).all()
    if not office:
        return save_person(session=session, actor=actor, now=now, person_in=PersonIn(
            name=FIRST_OFFICE_NAME, email=FIRST_OFFICE_EMAIL, role=Role.office))
    first = office[0]
    return first if first.email == FIRST_OFFICE_EMAIL and first.password_hash is None else None


def busiest_owner(session: Session, people: list[Person]) -> Person:
    """The demo owner whose unit has the most milestones: the one to show a newcomer first."""
    counts: dict[int | None, int] = dict(session.exec(
        select(Milestone.unit_id, func.count()).group_by(col(Milestone.unit_id))).all())
    owners = [p for p in people if p.role is Role.owner and not p.heads_unit]
    return max(owners, key=lambda p: (counts.get(p.unit_id, 0), -(p.id or 0)))


def add_demo_people(*, session: Session, actor: str, now: datetime) -> list[Person]:
    """An owner and a head for every unit, and one leader; idempotent (same addresses)."""
    wanted = [PersonIn(name=f"{DEMO_MARK}分管领导", email=f"demo.leader@{DEMO_DOMAIN}",
                       role=Role.leader)]
    for unit in session.exec(select(Unit).order_by(col(Unit.code))).all():
        slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in unit.code.lower())
        wanted += [
            PersonIn(name=f"{DEMO_MARK}{unit.name}负责人", email=f"demo.{slug}@{DEMO_DOMAIN}",
                     role=Role.owner, unit=unit.code),
            PersonIn(name=f"{DEMO_MARK}{unit.name}主要领导",
                     email=f"demo.{slug}.head@{DEMO_DOMAIN}", role=Role.owner, unit=unit.code,
                     heads_unit=True)]
    return [save_person(session=session, person_in=p, actor=actor, now=now) for p in wanted]
