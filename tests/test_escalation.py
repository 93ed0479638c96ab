"""The escalation ladder, stepped one working day at a time with no database.

The item falls due on Tuesday 30 September 2025, just before the National Day holiday (1–8
October) and the worked Saturday 11 October: the ladder counts working days across both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from config.plan_file import Commitment
from config.policy import Level, Policy
from models.rules.escalation import LadderFacts, Sent, next_step_on, reached_level, steps_due
from models.rules.status import MilestoneFacts, milestone_status
from models.rules.workdays import WorkCalendar

CALENDAR = WorkCalendar()
DUE = date(2025, 9, 30)
POLICY = Policy(due_soon_workdays=10, major_start_level=2, ladder=[
    Level(level=1, name="催办提醒", recipients=["owner"], repeat_workdays=5),
    Level(level=2, name="督办单", recipients=["unit_head", "office"], after_overdue_workdays=3,
          repeat_workdays=5),
    Level(level=3, name="领导督办", recipients=["leader"], after_overdue_workdays=10,
          repeat_workdays=5),
])
EXPECTED = LadderFacts(Commitment.expected, False, (), 0, None)


def walk(start: date, end: date, facts: LadderFacts = EXPECTED, acknowledge: dict | None = None,
         policy: Policy = POLICY) -> list[tuple[str, int, int, str]]:
    """Sweep every working day from start to end; return (day, level, repeat, reason) sent."""
    timeline, day = [], start
    while day <= end:
        if acknowledge and day in acknowledge:
            facts = replace(facts, acknowledged_level=acknowledge[day])
        if CALENDAR.is_workday(day):
            status = milestone_status(MilestoneFacts(DUE), day, CALENDAR, policy.due_soon_workdays)
            for step in steps_due(status, facts, policy, day, CALENDAR):
                timeline.append((day.isoformat(), step.level, step.repeat, step.reason.value))
                facts = replace(facts, sent=facts.sent + (Sent(step.level, step.repeat, day),))
        day += timedelta(days=1)
    return timeline


def test_an_expected_item_climbs_the_ladder_across_the_holiday() -> None:
    assert walk(date(2025, 9, 1), date(2025, 10, 31)) == [
        ("2025-09-17", 1, 0, "due_soon"),   # 10 working days before the due date
        ("2025-09-30", 1, 1, "due_today"),  # and again on the due date
        ("2025-10-11", 2, 0, "climbed"),    # 3rd overdue working day: the worked Saturday
        ("2025-10-17", 2, 1, "repeat"),     # 5 working days later
        ("2025-10-21", 3, 0, "climbed"),    # 10th overdue working day; level 2 repeats stop
        ("2025-10-28", 3, 1, "repeat"),
    ]


def test_level_one_repeats_until_the_item_climbs() -> None:
    slow = POLICY.model_copy(update={"ladder": [
        POLICY.ladder[0], POLICY.ladder[1].model_copy(update={"after_overdue_workdays": 12}),
        POLICY.ladder[2].model_copy(update={"after_overdue_workdays": 20})]})
    timeline = walk(date(2025, 9, 1), date(2025, 10, 24), policy=slow)
    assert timeline[:5] == [("2025-09-17", 1, 0, "due_soon"), ("2025-09-30", 1, 1, "due_today"),
                            ("2025-10-14", 1, 2, "repeat"), ("2025-10-21", 1, 3, "repeat"),
                            ("2025-10-23", 2, 0, "climbed")]


def test_a_binding_item_climbs_one_level_sooner() -> None:
    binding = replace(EXPECTED, commitment=Commitment.binding)
    assert walk(date(2025, 9, 1), date(2025, 10, 20), binding) == [
        ("2025-09-17", 1, 0, "due_soon"),
        ("2025-09-30", 1, 1, "due_today"),
        ("2025-10-09", 2, 0, "binding"),    # first overdue working day
        ("2025-10-11", 3, 0, "binding"),    # at level 2's threshold
        ("2025-10-17", 3, 1, "repeat"),
    ]


def test_a_major_item_starts_at_the_higher_level() -> None:
    major = replace(EXPECTED, major=True)
    assert walk(date(2025, 9, 1), date(2025, 10, 11), major)[:2] == [
        ("2025-09-17", 2, 0, "major"), ("2025-09-24", 2, 1, "repeat")]


def test_acknowledging_stops_repeats_at_that_level_not_the_climb() -> None:
    timeline = walk(date(2025, 10, 9), date(2025, 11, 15), acknowledge={date(2025, 10, 13): 2})
    assert timeline == [
        ("2025-10-09", 1, 0, "overdue"),    # first seen late: the ladder is recorded in order
        ("2025-10-11", 2, 0, "climbed"),
        ("2025-10-21", 3, 0, "climbed"),    # acknowledged level 2 on 13 Oct: no repeat on 18 Oct
        ("2025-10-28", 3, 1, "repeat"),
        ("2025-11-04", 3, 2, "repeat"),
        ("2025-11-11", 3, 3, "repeat"),
    ]


def test_an_item_first_seen_at_the_top_gets_one_catch_up_step_naming_what_it_skipped() -> None:
    assert walk(date(2025, 11, 3), date(2025, 11, 3)) == [("2025-11-03", 3, 0, "catch_up")]
    status = milestone_status(MilestoneFacts(DUE), date(2025, 11, 3), CALENDAR, 10)
    (step,) = steps_due(status, EXPECTED, POLICY, date(2025, 11, 3), CALENDAR)
    assert step.skipped == (1, 2)
    # The levels below are never owed on their own afterwards; the top one repeats.
    assert walk(date(2025, 11, 3), date(2025, 11, 12)) == [
        ("2025-11-03", 3, 0, "catch_up"), ("2025-11-10", 3, 1, "repeat")]


def test_snoozed_items_wait_and_then_continue_with_one_catch_up_step() -> None:
    snoozed = replace(EXPECTED, snoozed_until=date(2025, 10, 20))
    assert walk(date(2025, 10, 9), date(2025, 10, 22), snoozed) == [
        ("2025-10-21", 3, 0, "catch_up")]


def test_one_level_owed_is_an_ordinary_step_not_a_catch_up() -> None:
    assert walk(date(2025, 10, 13), date(2025, 10, 13))[0] == ("2025-10-13", 2, 0, "catch_up")
    assert walk(date(2025, 10, 9), date(2025, 10, 9)) == [("2025-10-09", 1, 0, "overdue")]


def test_the_next_step_day_is_exactly_when_the_next_step_falls() -> None:
    day, facts = date(2025, 9, 1), EXPECTED
    while day < date(2025, 11, 1):
        status = milestone_status(MilestoneFacts(DUE), day, CALENDAR, 10)
        steps = steps_due(status, facts, POLICY, day, CALENDAR)
        facts = replace(facts, sent=facts.sent + tuple(Sent(s.level, s.repeat, day)
                                                        for s in steps))
        following = next_step_on(status, facts, POLICY, day, CALENDAR)
        if following is not None and following < status.due_soon_from:
            following = status.due_soon_from
        # No step may fall between today and the announced next day.
        probe = day + timedelta(days=1)
        while following is not None and probe < following:
            probe_status = milestone_status(MilestoneFacts(DUE), probe, CALENDAR, 10)
            if CALENDAR.is_workday(probe) and probe >= status.due_soon_from:
                assert steps_due(probe_status, facts, POLICY, probe, CALENDAR) == [], probe
            probe += timedelta(days=1)
        day += timedelta(days=1)
    assert reached_level(status, facts, POLICY) == 3
