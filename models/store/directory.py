"""Who receives what: recipients chosen by role and unit, never by hard-coded address."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from models.tables.person import Person, Role
from models.tables.unit import Unit

CO_UNIT_ROLES = ("owner", "unit_head")  # what a co-unit (协办单位) is told as


@dataclass(frozen=True)
class Recipient:
    person_id: int | None  # None: a unit's contact address, not a person
    name: str
    email: str


class Directory:
    """Who is who, as a sweep needs it: the office and the leaders once, and each unit's people
    and contact when a batch first names the unit (``load``), as plain rows: a steady sweep
    that touches ten items reads ten units' people, not the whole directory.

    owner: the unit's owners; unit_head: its heads (单位负责人); office: the supervising office;
    leader: the leaders in charge of the unit, else those in charge of everything. When a unit
    has no owner or head on record, its contact stands in, unless it is still a placeholder.
    """

    _EVERYWHERE = (Role.office, Role.leader)

    def __init__(self, *, session: Session) -> None:
        self._by_role_unit: dict[tuple[str, int | None], list[Recipient]] = defaultdict(list)
        self._contacts: dict[int, Recipient] = {}
        self._loaded: set[int] = set()
        self._add(session, col(Person.role).in_(self._EVERYWHERE))
        self._office = [r for (role, _), rs in self._by_role_unit.items()
                        if role == Role.office for r in rs]

    def load(self, session: Session, unit_ids: Iterable[int]) -> None:
        """Read the people and contacts of the units not read yet."""
        wanted = sorted(set(unit_ids) - self._loaded)
        for part in (wanted[i:i + 500] for i in range(0, len(wanted), 500)):
            self._add(session, col(Person.unit_id).in_(part),
                      col(Person.role).not_in(self._EVERYWHERE))
            for unit_id, name, email in session.execute(
                    sa.select(Unit.id, Unit.contact_name, Unit.contact_email)  # type: ignore[call-overload]
                    .where(col(Unit.id).in_(part), ~col(Unit.contact_placeholder))):
                self._contacts[unit_id] = Recipient(None, name, email)
            self._loaded.update(part)

    def _add(self, session: Session, *where: sa.ColumnElement[bool]) -> None:
        for person_id, name, email, role, unit_id, heads_unit in session.execute(
                sa.select(Person.id, Person.name, Person.email,  # type: ignore[call-overload]
                          Person.role, Person.unit_id, Person.heads_unit)
                .where(col(Person.active), *where)):
            recipient = Recipient(person_id, name, email)
            self._by_role_unit[(role, unit_id)].append(recipient)
            if heads_unit:
                self._by_role_unit[("unit_head", unit_id)].append(recipient)

    def recipients(self, roles: Sequence[str], unit_id: int) -> list[Recipient]:
        found: dict[str, Recipient] = {}
        for role in roles:
            for recipient in self._for_role(role, unit_id):
                found.setdefault(recipient.email, recipient)
        return list(found.values())

    def item_recipients(self, roles: Sequence[str], unit_id: int,
                        co_unit_ids: Iterable[int] = ()) -> list[Recipient]:
        """An item's recipients: the lead unit's for every role, and each co-unit's (协办) for
        the roles that are a unit's (owner, unit_head): office and leaders follow the lead.
        Each person once, whichever units they are reached through."""
        found = {r.email: r for r in self.recipients(roles, unit_id)}
        unit_roles = [r for r in roles if r in CO_UNIT_ROLES]
        for co in sorted(co_unit_ids):
            for recipient in self.recipients(unit_roles, co):
                found.setdefault(recipient.email, recipient)
        return list(found.values())

    def _for_role(self, role: str, unit_id: int) -> list[Recipient]:
        if role == "office":
            return self._office
        if role == "leader":
            return self._by_role_unit[(Role.leader, unit_id)] or \
                self._by_role_unit[(Role.leader, None)]
        if unit_id not in self._loaded:  # a sweep that forgot to load would tell no one
            raise LookupError(f"unit {unit_id} was not loaded into the directory")
        key = (Role.owner if role == "owner" else "unit_head", unit_id)
        people = self._by_role_unit[key]
        contact = self._contacts.get(unit_id)
        return people or ([contact] if contact else [])
