"""Adding and updating people and unit contacts: input schemas and the data functions.

Input is checked by pydantic at the edge (``PersonIn``); a batch (a CSV file) is applied in the
caller's transaction only when every row is valid, so a bad row changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlmodel import Session, select

from config.fields import MailAddress
from models.store.events import record
from models.tables.event_kinds import EventKind
from models.tables.person import NotifyVia, Person, Role
from models.tables.unit import Unit

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                        pattern=r"^[^\r\n<>\"]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50,
                                         pattern=r"^[0-9+\-() ]*$")]
# A DingTalk userid or a WeCom UserID: letters, digits and _ - . @ as both apps allow.
UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                          pattern=r"^[A-Za-z0-9_.@-]+$")]
# Kept as they are when a row does not give them: a CSV without these columns leaves each
# person's choice of app alone.
CHANNEL_FIELDS = ("notify_via", "dingtalk_userid", "wecom_userid")


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: MailAddress
    role: Role
    unit: str | None = Field(None, description="unit code; required for owners")
    phone: Phone | None = None
    heads_unit: bool = False
    notify_via: NotifyVia = NotifyVia.email
    dingtalk_userid: UserId | None = None
    wecom_userid: UserId | None = None

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("unit", "phone", "dingtalk_userid", "wecom_userid", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("notify_via", mode="before")
    @classmethod
    def _channel_word(cls, value: Any) -> Any:
        if isinstance(value, str):
            return NOTIFY_WORDS.get(value.strip(), value.strip() or NotifyVia.email)
        return value

    @model_validator(mode="after")
    def _reachable(self) -> PersonIn:
        if self.notify_via is NotifyVia.dingtalk and not self.dingtalk_userid:
            raise ValueError("通知方式为钉钉时须填写钉钉用户ID (dingtalk_userid)")
        if self.notify_via is NotifyVia.wecom and not self.wecom_userid:
            raise ValueError("通知方式为企业微信时须填写企业微信用户ID (wecom_userid)")
        return self


class UnknownUnit(ValueError):
    pass


def save_person(*, session: Session, person_in: PersonIn, actor: str, now: datetime,
                actor_id: int | None = None) -> Person:
    """Create the person, or update the one with that email; record what changed."""
    unit_id = None
    if person_in.unit is not None:
        unit = session.exec(select(Unit).where(Unit.code == person_in.unit)).first()
        if unit is None:
            raise UnknownUnit(f"unknown unit {person_in.unit!r} (see `duban units list`)")
        unit_id = unit.id
    if person_in.role is Role.owner and unit_id is None:
        raise UnknownUnit("an owner must belong to a unit: give its unit code")
    values: dict[str, Any] = {"name": person_in.name, "role": person_in.role, "unit_id": unit_id,
              "phone": person_in.phone, "heads_unit": person_in.heads_unit}
    values |= {name: getattr(person_in, name) for name in CHANNEL_FIELDS
               if name in person_in.model_fields_set}
    person = session.exec(select(Person).where(Person.email == person_in.email)).first()
    if person is None:
        person = Person(email=person_in.email, **values)
        session.add(person)
        session.flush()
        record(session, EventKind.person_created, at=now, actor=actor, actor_id=actor_id,
               person_id=person.id, unit_id=unit_id,
               data={"values": person_in.model_dump(mode="json")})
        return person
    changes = {k: [getattr(person, k), v] for k, v in values.items() if getattr(person, k) != v}
    if changes:
        for name, (_, new) in changes.items():
            setattr(person, name, new)
        session.add(person)
        record(session, EventKind.person_updated, at=now, actor=actor, actor_id=actor_id,
               person_id=person.id,
               unit_id=unit_id, data={"changes": changes})
    return person


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: MailAddress
    phone: Phone | None = None


def set_unit_contact(*, session: Session, unit: Unit, contact: ContactIn, actor: str,
                     now: datetime, actor_id: int | None = None) -> None:
    values = {"contact_name": contact.name, "contact_email": str(contact.email).lower(),
              "contact_phone": contact.phone, "contact_placeholder": False}
    changes = {k: [getattr(unit, k), v] for k, v in values.items() if getattr(unit, k) != v}
    if not changes:
        return
    for name, (_, new) in changes.items():
        setattr(unit, name, new)
    unit.updated_at = now
    session.add(unit)
    record(session, EventKind.unit_contact_set, at=now, actor=actor, actor_id=actor_id,
           unit_id=unit.id, data={"changes": changes})


# A clerk's spreadsheet may use the Chinese headings and role names.
CSV_HEADINGS = {"姓名": "name", "邮箱": "email", "角色": "role", "单位": "unit", "电话": "phone",
                "单位负责人": "heads_unit", "通知方式": "notify_via",
                "钉钉用户ID": "dingtalk_userid", "企业微信用户ID": "wecom_userid"}
NOTIFY_WORDS = {"邮件": "email", "电子邮件": "email", "钉钉": "dingtalk", "企业微信": "wecom"}
ROLE_WORDS = {"督查室": "office", "督办": "office", "项目负责人": "owner", "负责人": "owner",
              "分管领导": "leader", "领导": "leader", "管理员": "admin"}
# A yes/no cell: anything else is refused, so that a "maybe" never quietly reads as no.
_BOOLEAN_WORDS = {"yes": True, "true": True, "1": True, "是": True,
                  "no": False, "false": False, "0": False, "否": False}
BOOLEAN_CHOICES = "yes/no, true/false, 1/0 or 是/否"


def parse_yes_no(text: str) -> bool | None:
    """The boolean a cell spells (case-insensitive; an empty cell is no), or None if it spells
    none."""
    return False if not text.strip() else _BOOLEAN_WORDS.get(text.strip().lower())


class PeopleCsvInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_people_csv(text: str, source: str) -> list[PersonIn]:
    """Columns name,email,role,unit,phone,heads_unit,notify_via,dingtalk_userid,wecom_userid
    (or 姓名,邮箱,角色,单位,电话,单位负责人,通知方式,钉钉用户ID,企业微信用户ID); a missing
    column keeps what each person has."""
    import csv

    from pydantic import ValidationError

    reader = csv.DictReader(text.splitlines())
    headings = [CSV_HEADINGS.get((h or "").strip(), (h or "").strip())
                for h in reader.fieldnames or []]
    unknown = [h for h in headings if h not in PersonIn.model_fields]
    if unknown or not {"name", "email", "role"} <= set(headings):
        raise PeopleCsvInvalid([f"{source}:1: expected the columns name,email,role[,unit,phone,"
                                f"heads_unit,notify_via,dingtalk_userid,wecom_userid]; got "
                                f"{','.join(reader.fieldnames or [])}"])
    people: list[PersonIn] = []
    problems: list[str] = []
    seen: dict[str, int] = {}  # email → the line it was first on
    for line, raw in enumerate(reader, start=2):
        row: dict[str, Any] = {heading: (value or "").strip() for heading, value
                               in zip(headings, raw.values(), strict=False)}
        row["role"] = ROLE_WORDS.get(row["role"], row["role"])
        if "heads_unit" in row:
            heads_unit = parse_yes_no(row["heads_unit"])
            if heads_unit is None:
                problems.append(f"{source}:{line}: heads_unit: expected {BOOLEAN_CHOICES}, "
                                f"got {row['heads_unit']!r}")
            row["heads_unit"] = bool(heads_unit)  # the row's other fields are still checked
        try:
            person = PersonIn.model_validate(row)
        except ValidationError as exc:
            problems += [f"{source}:{line}: {e['loc'][0] if e['loc'] else ''}: {e['msg']}"
                         for e in exc.errors(include_url=False)]
            continue
        if person.email in seen:
            problems.append(f"{source}:{line}: email: {person.email} is also on line "
                            f"{seen[person.email]}")
        seen[person.email] = line
        people.append(person)
    if problems:
        raise PeopleCsvInvalid(problems)
    return people
