"""Sweeps over a small world, day by day through the end of 2025, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from config.policy import PolicyFile
from flows.sweep import run_sweep
from models.rules.rulebook import Rules
from models.rules.workdays import WorkCalendar, YearSchedule
from models.store import actions
from models.store.database import writer
from models.tables.escalation import EscalationStep, Notice
from models.tables.event import Event
from models.tables.light_change import LightChange
from models.tables.milestone import Milestone
from services.runtime import system_clock
from tests.conftest import snapshot
from tests.world import RULES, build_world, told


def sweep(engine: sa.Engine, day: date, **kwargs: object):
    return run_sweep(engine=engine, rules=RULES, clock=system_clock, now=RULES.as_of(day), **kwargs)


def sweep_every_day(engine: sa.Engine, first: date, last: date) -> None:
    day = first
    while day <= last:
        if RULES.calendar.is_workday(day):
            sweep(engine, day)
        day += timedelta(days=1)


def steps(engine: sa.Engine, milestone_id: int) -> list[tuple[str, int, int, str, int]]:
    with Session(engine) as session:
        rows = session.exec(select(EscalationStep).where(
            EscalationStep.milestone_id == milestone_id).order_by(EscalationStep.id)).all()
        return [(r.as_of.isoformat(), r.level, r.repeat, r.reason, r.recipients) for r in rows]


def recipients(engine: sa.Engine, milestone_id: int, level: int) -> set[str]:
    """Whom the item's first step at ``level`` tells."""
    notices = told(engine, milestone_id)
    with Session(engine) as session:
        step = session.exec(select(EscalationStep.id).where(
            EscalationStep.milestone_id == milestone_id, EscalationStep.level == level)
            .order_by(col(EscalationStep.id))).first()
    assert step is not None
    return notices[f"escalation:{step}"]


def milestone(engine: sa.Engine, milestone_id: int) -> Milestone:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Milestone, milestone_id)


def act(engine: sa.Engine, action, day: date, actor: str = "zhou.min@duban.example",
        **kwargs: object) -> Milestone:
    """One action in its own short transaction, as the CLI and the web app do."""
    with Session(writer(engine), expire_on_commit=False) as session:
        done = action(session=session, rules=RULES, actor=actor, now=RULES.as_of(day), **kwargs)
        session.commit()
        return done.milestone


def test_a_year_of_sweeps_lights_and_escalates_as_the_policy_says(engine: sa.Engine,
                                                                  session: Session) -> None:
    world = build_world(session)
    sweep_every_day(engine, date(2025, 9, 1), date(2025, 10, 31))
    assert steps(engine, world.construction) == [
        ("2025-09-17", 1, 0, "due_soon", 2), ("2025-09-30", 1, 1, "due_today", 2),
        ("2025-10-11", 2, 0, "climbed", 2), ("2025-10-17", 2, 1, "repeat", 2),
        ("2025-10-21", 3, 0, "climbed", 2), ("2025-10-28", 3, 1, "repeat", 2)]
    assert steps(engine, world.fire_check)[2:4] == [("2025-10-09", 2, 0, "binding", 2),
                                                     ("2025-10-11", 3, 0, "binding", 2)]
    assert recipients(engine, world.construction, 1) == {"wang.fang@duban.example",
                                                          "chen.gang@duban.example"}
    assert recipients(engine, world.construction, 2) == {"chen.gang@duban.example",
                                                          "zhou.min@duban.example"}
    assert recipients(engine, world.construction, 3) == {"zhao@duban.example",
                                                          "zhou.min@duban.example"}
    construction = milestone(engine, world.construction)
    assert (construction.state, construction.light, construction.level) == ("overdue", "red", 3)
    with Session(engine) as fresh:  # what time changed: narrow rows, one event per sweep
        changes = fresh.exec(select(LightChange).where(
            LightChange.milestone_id == world.construction).order_by(LightChange.id)).all()
        told = fresh.exec(select(Event).where(Event.kind == "sweep.lights_changed")).all()
        sealed = fresh.exec(select(Event).where(Event.kind == "milestone.status_changed")).all()
        every_change = fresh.exec(select(LightChange)).all()
    assert [(c.state_from, c.state_to) for c in changes] == [("pending", "due_soon"),
                                                            ("due_soon", "overdue")]
    assert [c.at.astimezone(RULES.zone).date() for c in changes] == [
        date(2025, 9, 17), date(2025, 10, 9)]  # the first sweep after the National Day days
    assert sealed == [] and told  # no event per item for what time alone did
    assert sum(e.data["changed"] for e in told) == len(every_change)
    assert milestone(engine, world.neighbourhood).light == "green"


def test_sweeping_again_the_same_day_sends_nothing_twice(engine: sa.Engine,
                                                         session: Session) -> None:
    build_world(session)
    first = sweep(engine, date(2025, 10, 21))
    # Both items first seen at their top level: one catch-up step each, not three.
    assert [e["reason"] for e in first.escalations] == ["catch_up", "catch_up"]
    before = snapshot(engine)
    again = sweep(engine, date(2025, 10, 21))
    assert (again.evaluated, again.escalations, again.notifications) == (0, [], 0)
    after = snapshot(engine)
    assert len(after.pop("sweep")) == len(before.pop("sweep")) + 1  # the run itself is recorded
    assert after == before


def test_a_dry_run_reports_and_keeps_nothing(engine: sa.Engine, session: Session) -> None:
    build_world(session)
    before = snapshot(engine)
    preview = sweep(engine, date(2025, 10, 21), dry_run=True)
    assert {c["to"] for c in preview.changes} == {"overdue"}
    assert len(preview.escalations) == 2 and preview.notifications > 0
    assert snapshot(engine) == before


def test_office_actions_steer_the_ladder(engine: sa.Engine, session: Session) -> None:
    world = build_world(session)
    sweep_every_day(engine, date(2025, 9, 1), date(2025, 10, 11))
    # The office acknowledges level 2 on 13 Oct: no level-2 repeat, the climb to 3 goes on.
    act(engine, actions.acknowledge, date(2025, 10, 13), milestone_id=world.construction)
    # The binding item is snoozed until 24 Oct.
    act(engine, actions.snooze, date(2025, 10, 13), milestone_id=world.fire_check,
        until=date(2025, 10, 24), reason="等待消防部门排期")
    sweep_every_day(engine, date(2025, 10, 13), date(2025, 10, 31))
    assert [s[1:3] for s in steps(engine, world.construction)][2:] == [(2, 0), (3, 0), (3, 1)]
    fire = steps(engine, world.fire_check)
    assert all(s[0] not in {"2025-10-17", "2025-10-21"} for s in fire)
    assert fire[-1][0] == "2025-10-27"  # the first working day after the snooze

    # The owner claims done late, the office sends it back, then closes the redone item.
    owner = "wang.fang@duban.example"
    act(engine, actions.claim_done, date(2025, 11, 3), owner, milestone_id=world.construction,
        evidence="开工令已签发")
    act(engine, actions.return_for_redo, date(2025, 11, 4), milestone_id=world.construction,
        reason="缺少开工令扫描件")
    act(engine, actions.claim_done, date(2025, 11, 5), owner, milestone_id=world.construction,
        evidence="已上传开工令扫描件")
    closed = act(engine, actions.close_out, date(2025, 11, 6), milestone_id=world.construction)
    assert (closed.state, closed.light, closed.late) == ("closed", "green", True)
    before = len(steps(engine, world.construction))
    sweep_every_day(engine, date(2025, 11, 6), date(2025, 11, 30))
    assert len(steps(engine, world.construction)) == before  # done: the ladder stops


def test_extensions_move_the_ladder_only_when_approved(engine: sa.Engine,
                                                       session: Session) -> None:
    world = build_world(session)
    owner = "li.na@duban.example"
    act(engine, actions.request_extension, date(2025, 12, 1), owner,
        milestone_id=world.neighbourhood, proposed=date(2026, 3, 31), reason="施工许可延后")
    act(engine, actions.decide_extension, date(2025, 12, 2), milestone_id=world.neighbourhood,
        approved=False, reason="理由不充分")
    sweep_every_day(engine, date(2025, 12, 1), date(2026, 1, 9))
    assert milestone(engine, world.neighbourhood).state == "overdue"
    act(engine, actions.request_extension, date(2026, 1, 9), owner,
        milestone_id=world.neighbourhood, proposed=date(2026, 3, 31), reason="施工许可延后")
    approved = act(engine, actions.decide_extension, date(2026, 1, 12),
                   milestone_id=world.neighbourhood, approved=True)
    # Asked for after the due date: the new date holds, but the item counts as late (超时).
    assert (approved.due_on, approved.state, approved.late) == (date(2026, 3, 31), "pending",
                                                                 True)
    sweep_every_day(engine, date(2026, 1, 12), date(2026, 3, 20))
    with Session(engine) as fresh:
        new_cycle = fresh.exec(select(EscalationStep).where(
            EscalationStep.milestone_id == world.neighbourhood,
            EscalationStep.due_on == date(2026, 3, 31))).all()
        assert [(s.level, s.repeat, s.reason) for s in new_cycle] == [(1, 0, "due_soon")]


def test_two_people_acting_at_once_cannot_overwrite_each_other(engine: sa.Engine,
                                                               session: Session) -> None:
    world = build_world(session)
    seen = milestone(engine, world.neighbourhood).version  # both people open the same page
    act(engine, actions.snooze, date(2025, 9, 20), "a", milestone_id=world.neighbourhood,
        until=date(2025, 12, 1), reason="A", expected_version=seen)
    try:
        act(engine, actions.mark_major, date(2025, 9, 20), "b", milestone_id=world.neighbourhood,
            major=True, reason="B", expected_version=seen)
    except actions.ActionRefused as refused:
        assert refused.code == "stale_version" and "已被他人修改" in str(refused)
    else:
        raise AssertionError("the second writer must be refused")
    kept = milestone(engine, world.neighbourhood)
    assert (kept.snoozed_until, kept.major, kept.version) == (date(2025, 12, 1), False, seen + 1)


def test_a_policy_or_calendar_change_reaches_every_open_item_at_the_next_sweep(engine,
                                                                              session):
    """An item's stored next check was computed under the old rules: after a change of
    due_soon_workdays, or of the calendar, the next sweep looks at it anyway (issue 13)."""
    world = build_world(session)
    sweep(engine, date(2025, 12, 10))

    def state(rules: Rules, day: date) -> str:
        run_sweep(engine=engine, rules=rules, clock=system_clock, now=rules.as_of(day))
        with Session(engine) as fresh:
            item = fresh.get(Milestone, world.neighbourhood)
            assert item is not None
            return item.state.value

    assert state(RULES, date(2025, 12, 11)) == "pending"  # 14 working days to go; next look 12-17
    wider = RULES.policies.default.model_copy(update={"due_soon_workdays": 20})
    assert state(Rules(RULES.calendar, PolicyFile(default=wider, plans={}), RULES.zone),
                 date(2025, 12, 11)) == "due_soon"
    assert state(RULES, date(2025, 12, 11)) == "pending"  # and back under the old policy
    closed = frozenset(date(2025, 12, d) for d in (12, 15, 16, 17, 18, 19))
    holidays = Rules(WorkCalendar({2025: YearSchedule(holidays=closed, workdays=frozenset())}),
                     RULES.policies, RULES.zone)
    assert state(holidays, date(2025, 12, 11)) == "due_soon"  # 8 working days left


def test_a_catch_up_step_tells_every_level_s_people_once_and_names_the_levels_it_skipped(
        engine: sa.Engine, session: Session) -> None:
    world = build_world(session)
    sweep(engine, date(2025, 10, 21))  # 开工建设 first seen 10 working days late: level 3
    with Session(engine) as fresh:
        (step,) = fresh.exec(select(EscalationStep).where(
            EscalationStep.milestone_id == world.construction)).all()
        (notice,) = fresh.exec(select(Notice).where(Notice.escalation_id == step.id)).all()
    assert (step.level, step.reason) == (3, "catch_up")
    assert notice.context["skipped"] == ["催办提醒", "督办单"]
    assert told(engine, world.construction) == {f"escalation:{step.id}": {
        "wang.fang@duban.example", "chen.gang@duban.example",  # 催办提醒: the owners
        "zhou.min@duban.example", "zhao@duban.example"}}       # 督办单 and 领导督办


def test_a_sweep_that_rewrote_many_items_leaves_the_planner_fresh_statistics(
        engine: sa.Engine, session: Session, monkeypatch) -> None:
    """Without them, PostgreSQL plans the next sweeps for the table as it was before: every
    next check unset, so a steady sweep's few items due are looked for in the whole table."""
    build_world(session)
    session.commit()
    postgres = engine.dialect.name == "postgresql"

    def next_check_statistics() -> object:
        with engine.connect() as connection:
            if postgres:
                return connection.execute(sa.text(
                    "SELECT null_frac FROM pg_stats WHERE tablename = 'milestone' "
                    "AND attname = 'next_check_on'")).scalar_one_or_none()
            return connection.execute(sa.text(
                "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_milestone_next_check_on'")
            ).scalar_one_or_none()

    with engine.begin() as connection:  # the planner's picture: no item has a next check
        if postgres:
            connection.exec_driver_sql("ANALYZE milestone")
        else:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("DELETE FROM sqlite_stat1")
    assert next_check_statistics() == (1.0 if postgres else None)
    monkeypatch.setattr("flows.sweep.STATISTICS_AFTER", 3)  # a big sweep, for three items
    sweep(engine, date(2025, 9, 1))
    found = next_check_statistics()  # every item has its next check now; SQLite counts 3
    assert found == 0.0 if postgres else str(found).startswith("3 ")
