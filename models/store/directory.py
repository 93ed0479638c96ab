"""Who receives what: recipients chosen by role and unit, never by hard-coded address."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from models.tables.person import Person, Role
from models.tables.unit import Unit

CO_UNIT_ROLES = ("owner", "unit_head")  # what a co-unit (协办单位) is told as


@dataclass(frozen=True)
class Recipient:
    person_id: int | None  # None: a unit's contact address, not a person
    name: str
    email: str


class Directory:
    """A snapshot of people and units, loaded once per sweep.

    owner: the unit's owners; unit_head: its heads (单位负责人); office: the supervising office;
    leader: the leaders in charge of the unit, else those in charge of everything. When a unit
    has no owner or head on record, its contact stands in, unless it is still a placeholder.
    """

    def __init__(self, *, session: Session) -> None:
        people = session.exec(select(Person).where(Person.active == True)).all()  # noqa: E712
        self._contacts = {u.id: Recipient(None, u.contact_name, u.contact_email)
                          for u in session.exec(select(Unit)).all() if not u.contact_placeholder}
        self._by_role_unit: dict[tuple[str, int | None], list[Recipient]] = defaultdict(list)
        for person in people:
            recipient = Recipient(person.id, person.name, person.email)
            self._by_role_unit[(person.role, person.unit_id)].append(recipient)
            if person.heads_unit:
                self._by_role_unit[("unit_head", person.unit_id)].append(recipient)
        self._office = [r for (role, _), rs in self._by_role_unit.items()
                        if role == Role.office for r in rs]

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
        key = (Role.owner if role == "owner" else "unit_head", unit_id)
        people = self._by_role_unit[key]
        contact = self._contacts.get(unit_id)
        return people or ([contact] if contact else [])
