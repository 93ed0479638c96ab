"""Lights in SQL say what the Python rules say: for items with no facts beyond their due date,
the statement of models.store.sql_lights gives the status of ``milestone_status``, the level of
``reached_level`` and the next check a sweep stores, over random items, sweep days, policies and
calendars (the office's own years with moved holidays and worked weekends, and years no source
knows), on both databases; and a sweep reports the same with it as without it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import populate
from config.plan_file import Commitment
from config.policy import Level, Policy, PolicyFile
from flows.sweep import run_sweep
from models.rules.escalation import LadderFacts, Sent, next_step_on, reached_level, steps_due
from models.rules.rulebook import Rules
from models.rules.status import MilestoneFacts, milestone_status, next_change_on
from models.rules.workdays import WorkCalendar, YearSchedule
from models.store.sql_lights import prepare_lighting
from models.tables.columns import table_of
from models.tables.escalation import EscalationStep
from models.tables.milestone import Milestone
from models.tables.plan import Project
from tests.world import RULES

ZONE = ZoneInfo("Asia/Shanghai")
MILESTONES, STEPS = table_of(Milestone), table_of(EscalationStep)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """The package's calendar, with some years the office's own: holidays moved onto working
    days, weekend days worked. 2027 is known to no source unless drawn here (provisional)."""
    overrides = {}
    for year in draw(st.sets(st.sampled_from([2025, 2026, 2027]), max_size=2)):
        days = st.dates(date(year, 1, 1), date(year, 12, 31))
        holidays = draw(st.frozensets(days.filter(lambda d: d.weekday() < 5), max_size=15))
        workdays = draw(st.frozensets(days.filter(lambda d: d.weekday() >= 5), max_size=4))
        overrides[year] = YearSchedule(holidays, workdays)
    return WorkCalendar(overrides)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    second = draw(st.integers(1, 6))
    third = second + draw(st.integers(0, 8))
    ladder = [Level(level=1, name="催办提醒", recipients=["owner"],
                    repeat_workdays=draw(st.integers(1, 6))),
              Level(level=2, name="督办单", recipients=["unit_head"],
                    after_overdue_workdays=second, repeat_workdays=draw(st.integers(1, 6))),
              Level(level=3, name="领导督办", recipients=["leader"],
                    after_overdue_workdays=third, repeat_workdays=draw(st.integers(1, 6)))]
    ladder = ladder[:draw(st.integers(1, 3))]
    return Policy(due_soon_workdays=draw(st.integers(0, 15)),
                  major_start_level=draw(st.integers(1, len(ladder))),
                  binding_climbs_sooner=draw(st.booleans()), ladder=ladder)


ITEMS = st.lists(st.fixed_dictionaries({
    "due": st.integers(-45, 45),  # days from the sweep day
    "commitment": st.sampled_from([None, Commitment.binding, Commitment.expected]),
    "major": st.booleans(),
    "acknowledged_level": st.integers(0, 3),
    "snoozed": st.sampled_from([None, -3, 0, 4]),  # days from the sweep day
    "stepped": st.booleans(),  # a ladder step is recorded: a fact, so Python's to light
}), min_size=1, max_size=12)


def test_sql_lights_agree_with_the_python_rules(engine: sa.Engine) -> None:
    populate(engine, units=1, projects_per_unit=1, milestones_per_project=0,
             first_due=date(2025, 1, 1), last_due=date(2025, 12, 31))
    with engine.connect() as connection:
        project_id, unit_id = connection.execute(sa.select(
            table_of(Project).c.id, table_of(Project).c.unit_id)).one()

    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(today=st.dates(date(2025, 1, 1), date(2027, 12, 31)), calendar=calendars(),
           policy=policies(), items=ITEMS)
    def agree(today: date, calendar: WorkCalendar, policy: Policy,
              items: list[dict[str, Any]]) -> None:
        rules = Rules(calendar, PolicyFile(default=policy, plans={}), ZONE)
        with engine.begin() as connection:
            connection.execute(STEPS.delete())
            connection.execute(MILESTONES.delete())
            ids = _insert(connection, project_id, unit_id, today, items)
            lighting = prepare_lighting(connection, rules, today, every_item=True)
        assert lighting is not None
        with engine.begin() as connection:
            lit = {item.id: item for item in lighting.batch(connection, after_id=0,
                                                            up_to_id=max(ids))}
        expected = {i: _python(item, today, calendar, policy) for i, item in zip(
            ids, items, strict=True) if not item["stepped"]
            and (item["snoozed"] is None or item["snoozed"] < 0)}
        assert set(lit) == set(expected)
        for i, (status, level, next_check) in expected.items():
            assert (lit[i].status, lit[i].reached, lit[i].next_check) == (
                status, level, next_check), (i, today)

    agree()


def _python(item: dict[str, Any], today: date, calendar: WorkCalendar, policy: Policy
            ) -> tuple[Any, int, date | None]:
    """The oracle: what the sweep's Python path computes and stores for the item today."""
    due = today + timedelta(days=item["due"])
    snoozed = None if item["snoozed"] is None else today + timedelta(days=item["snoozed"])
    status = milestone_status(MilestoneFacts(due), today, calendar, policy.due_soon_workdays)
    ladder = LadderFacts(item["commitment"], item["major"], (), item["acknowledged_level"],
                         snoozed)
    steps = steps_due(status, ladder, policy, today, calendar)
    after = replace(ladder, sent=tuple(Sent(s.level, s.repeat, today) for s in steps))
    next_check = min((d for d in (next_change_on(status, today),
                                  next_step_on(status, after, policy, today, calendar))
                      if d is not None), default=None)
    return status, reached_level(status, ladder, policy), next_check


def _insert(connection: sa.Connection, project_id: int, unit_id: int, today: date,
            items: list[dict[str, Any]]) -> list[int]:
    now = datetime.now(UTC)
    ids = []
    for n, item in enumerate(items):
        due = today + timedelta(days=item["due"])
        ids.append(connection.execute(MILESTONES.insert().values(
            project_id=project_id, key=f"{due}/{n}", seq=n, title=f"节点 {n}",
            planned_due_on=due, due_on=due, unit_id=unit_id, state="pending", light="green",
            commitment=item["commitment"], major=item["major"],
            acknowledged_level=item["acknowledged_level"],
            snoozed_until=None if item["snoozed"] is None
            else today + timedelta(days=item["snoozed"]),
            created_at=now, updated_at=now).returning(MILESTONES.c.id)).scalar_one())
        if item["stepped"]:
            connection.execute(STEPS.insert().values(
                milestone_id=ids[-1], due_on=due - timedelta(days=400), level=1, repeat=0,
                reason="due_soon", as_of=today, recipients=1, created_at=now))
    return ids


def test_a_sweep_reports_the_same_with_sql_lights_as_without(engine: sa.Engine) -> None:
    """A dry run each way over a synthetic plan (some items late by every level, some due
    soon, some far off): the same changes, steps and notices, item by item."""
    populate(engine, units=3, projects_per_unit=2, milestones_per_project=10,
             first_due=date(2025, 3, 1), last_due=date(2025, 12, 31))
    now = RULES.as_of(date(2025, 10, 21))
    with engine.begin() as connection:  # a dry run lights in SQL only from a current table
        lighting = prepare_lighting(connection, RULES, RULES.today(now), every_item=True)
    assert lighting is not None
    with engine.begin() as connection:
        assert len(lighting.batch(connection, after_id=0, up_to_id=10**6)) == 60
    reports = [run_sweep(engine=engine, rules=RULES, now=now, clock=lambda: now, dry_run=True,
                         detail_limit=None, sql_lights=lit).as_dict() for lit in (True, False)]
    for report in reports:
        del report["sweep_id"]
    assert reports[0]["evaluated"] == 60 and reports[0]["escalated"] > 0
    assert reports[0] == reports[1]
