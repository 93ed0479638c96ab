"""A small named world for engine tests: one plan, two units, an office clerk, owners, a unit
head and a leader. Built through the real import and people functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from config.plan_loader import LoadedPlan, parse_plan_text
from config.policy import Level, Policy, PolicyFile
from models.rules.rulebook import Rules
from models.rules.workdays import WorkCalendar
from models.store.people import PersonIn, save_person
from models.store.plan_import import import_plan
from models.tables.milestone import Milestone
from models.tables.person import Person
from tests.conftest import NOW

PLAN = """\
plan:
  code: demo-2025-2026
  name: 示例区民政事业发展行动方案
  issuer: 示例区民政局
  period: 2025-2026
units:
  - {code: demo-mzj, name: 示例区民政局, kind: bureau}
  - {code: demo-jd, name: 示例区示例街道, kind: subdistrict}
projects:
  - code: "1"
    name: 区社会福利中心二期工程
    unit: demo-mzj
    milestones:
      - {due: 2025-09-30, target: 开工建设}
      - {due: 2025-09-30, target: 完成消防验收, commitment: binding}
  - code: "2"
    name: 邻里中心
    unit: demo-jd
    milestones:
      - {due: 2025-12-31, target: 建成运营}
"""

POLICY = Policy(due_soon_workdays=10, major_start_level=2, ladder=[
    Level(level=1, name="催办提醒", recipients=["owner"], repeat_workdays=5),
    Level(level=2, name="督办单", recipients=["unit_head", "office"], after_overdue_workdays=3,
          repeat_workdays=5),
    Level(level=3, name="领导督办", recipients=["leader", "office"], after_overdue_workdays=10,
          repeat_workdays=5),
])
RULES = Rules(WorkCalendar(), PolicyFile(default=POLICY, plans={}), ZoneInfo("Asia/Shanghai"))

PEOPLE = [
    PersonIn(name="周敏", email="zhou.min@duban.example", role="office"),
    PersonIn(name="王芳", email="wang.fang@duban.example", role="owner", unit="demo-mzj"),
    PersonIn(name="陈刚", email="chen.gang@duban.example", role="owner", unit="demo-mzj",
             heads_unit=True),
    PersonIn(name="李娜", email="li.na@duban.example", role="owner", unit="demo-jd"),
    PersonIn(name="赵书记", email="zhao@duban.example", role="leader"),
]


@dataclass
class World:
    construction: int   # 开工建设, expected, due 2025-09-30
    fire_check: int     # 完成消防验收, binding, due 2025-09-30
    neighbourhood: int  # 建成运营, demo-jd, due 2025-12-31


def build_world(session: Session) -> World:
    import_plan(session=session, loaded=LoadedPlan("world.yaml", parse_plan_text(PLAN), ""),
                actor="test", now=NOW)
    for person in PEOPLE:
        save_person(session=session, person_in=person, actor="test", now=NOW)
    session.commit()
    ids = {m.title: m.id for m in session.exec(select(Milestone))}
    return World(ids["开工建设"], ids["完成消防验收"], ids["建成运营"])


def sweep_world(engine: Engine, now: datetime = NOW) -> None:
    """Run the day's sweep, which stores every item's light: the lists read what it stored."""
    from flows.sweep import run_sweep

    run_sweep(engine=engine, rules=RULES, now=now, clock=lambda: now)


def give_passwords(session: Session, password_hash: str) -> None:
    """Everyone in the session's database signs in with that hash's password (uncommitted)."""
    for person in session.exec(select(Person)):
        person.password_hash = password_hash
        session.add(person)


def told(engine: Engine, milestone_id: int) -> dict[str, set[str]]:
    """Whom each of the item's notices tells, by the notice's key (``escalation:<step id>``,
    ``receipt-overdue:<order id>``, ``feedback:…``), as its sweep's digests are composed."""
    from models.tables.escalation import Notice
    from notifications.compose import addresses_told

    with Session(engine) as session:
        notices = session.exec(select(Notice.key, Notice.sweep_id).where(
            Notice.milestone_id == milestone_id)).all()
        return {key: addresses_told(session, sweep).get(key, set()) for key, sweep in notices}
