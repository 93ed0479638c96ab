"""The status rules at any date, without a database: state, light, lateness, extensions."""

from __future__ import annotations

from datetime import date

import pytest

from models.rules.status import Decision, Extension, MilestoneFacts, milestone_status
from models.rules.workdays import WorkCalendar
from models.tables.milestone import Light, MilestoneState

CALENDAR = WorkCalendar()
DUE = date(2025, 9, 30)  # a Tuesday; National Day holiday runs 1–8 October, Sat 11 Oct is worked


def status_on(day: date, facts: MilestoneFacts | None = None, window: int = 10):
    return milestone_status(facts or MilestoneFacts(DUE), day, CALENDAR, window)


@pytest.mark.parametrize(("day", "state", "light", "overdue"), [
    (date(2025, 9, 16), MilestoneState.pending, Light.green, 0),
    (date(2025, 9, 17), MilestoneState.due_soon, Light.yellow, 0),  # 10 working days before,
    (date(2025, 9, 30), MilestoneState.due_soon, Light.yellow, 0),  # counting worked Sun 28 Sep
    (date(2025, 10, 1), MilestoneState.overdue, Light.red, 0),      # late, but a holiday
    (date(2025, 10, 8), MilestoneState.overdue, Light.red, 0),
    (date(2025, 10, 9), MilestoneState.overdue, Light.red, 1),
    (date(2025, 10, 11), MilestoneState.overdue, Light.red, 3),     # the worked Saturday counts
    (date(2025, 10, 12), MilestoneState.overdue, Light.red, 3),     # Sunday does not
])
def test_an_open_item_lights_by_working_days(day: date, state: MilestoneState, light: Light,
                                             overdue: int) -> None:
    status = status_on(day)
    assert (status.state, status.light, status.overdue_workdays) == (state, light, overdue)
    assert status.due_soon_from == date(2025, 9, 17)


def test_done_on_time_is_green_and_stays_on_time() -> None:
    facts = MilestoneFacts(DUE, ((Decision.claimed, date(2025, 9, 29)),
                                 (Decision.closed, date(2025, 10, 10))))
    assert status_on(date(2025, 9, 29), facts).state is MilestoneState.claimed
    closed = status_on(date(2026, 1, 1), facts)
    assert (closed.state, closed.light, closed.late) == (MilestoneState.closed, Light.green, False)


def test_lateness_is_measured_at_the_claim_and_kept() -> None:
    facts = MilestoneFacts(DUE, ((Decision.claimed, date(2025, 10, 13)),
                                 (Decision.closed, date(2025, 10, 14))))
    assert status_on(date(2025, 12, 1), facts).late is True
    assert status_on(date(2025, 10, 13), facts).claimed_on == date(2025, 10, 13)


def test_a_returned_item_is_open_again_and_measured_at_the_new_claim() -> None:
    facts = MilestoneFacts(DUE, ((Decision.claimed, date(2025, 9, 1)),
                                 (Decision.returned, date(2025, 9, 3))))
    assert status_on(date(2025, 9, 4), facts).state is MilestoneState.returned
    assert status_on(date(2025, 9, 20), facts).state is MilestoneState.due_soon
    redone = MilestoneFacts(DUE, facts.decisions + ((Decision.claimed, date(2025, 10, 9)),))
    assert status_on(date(2025, 10, 20), redone).late is True


def test_an_extension_asked_in_time_moves_the_due_date_and_is_not_late() -> None:
    facts = MilestoneFacts(DUE, (), (Extension(date(2025, 9, 20), date(2025, 9, 22),
                                               date(2025, 11, 28)),))
    before = status_on(date(2025, 9, 21), facts)
    assert (before.due_on, before.state) == (DUE, MilestoneState.due_soon)  # not yet approved
    after = status_on(date(2025, 10, 20), facts)
    assert (after.due_on, after.state, after.late) == (date(2025, 11, 28),
                                                       MilestoneState.pending, False)


def test_an_extension_asked_after_the_due_date_still_counts_the_item_late() -> None:
    facts = MilestoneFacts(DUE, ((Decision.claimed, date(2025, 11, 3)),),
                           (Extension(date(2025, 10, 9), date(2025, 10, 10), date(2025, 11, 28)),))
    overdue_then = status_on(date(2025, 10, 9), facts)
    assert overdue_then.state is MilestoneState.overdue
    moved = status_on(date(2025, 10, 20), facts)
    assert (moved.state, moved.due_on, moved.late) == (MilestoneState.pending,
                                                        date(2025, 11, 28), True)
    done = status_on(date(2025, 11, 3), facts)
    assert (done.state, done.late) == (MilestoneState.claimed, True)  # 超时 for good


def test_waived_and_reopened_items() -> None:
    facts = MilestoneFacts(DUE, ((Decision.waived, date(2025, 10, 9)),))
    waived = status_on(date(2025, 11, 1), facts)
    assert (waived.state, waived.light, waived.late) == (MilestoneState.waived, Light.green, False)
    reopened = MilestoneFacts(DUE, facts.decisions + ((Decision.reopened, date(2025, 10, 20)),))
    assert status_on(date(2025, 11, 1), reopened).state is MilestoneState.overdue


def test_a_year_without_an_official_calendar_is_marked_provisional() -> None:
    status = milestone_status(MilestoneFacts(date(2027, 3, 31)), date(2027, 3, 1), CALENDAR, 10)
    assert status.provisional is True
    assert status_on(date(2025, 9, 1)).provisional is False


def test_a_claim_is_blue_until_the_office_judges_it_and_keeps_its_lateness() -> None:
    late_claim = MilestoneFacts(DUE, ((Decision.claimed, date(2025, 10, 13)),))
    waiting = status_on(date(2025, 10, 20), late_claim)
    assert (waiting.state, waiting.light, waiting.late) == (MilestoneState.claimed, Light.blue,
                                                            True)
    closed = MilestoneFacts(DUE, late_claim.decisions + ((Decision.closed, date(2025, 10, 21)),))
    assert (status_on(date(2025, 10, 22), closed).light, status_on(date(2025, 10, 22),
                                                                   closed).late) == (
        Light.green, True)
    sent_back = MilestoneFacts(DUE, late_claim.decisions
                               + ((Decision.returned, date(2025, 10, 21)),))
    assert status_on(date(2025, 10, 22), sent_back).light is Light.red
