"""The working-day calendar: official 2026 holidays and 调休, guessed years, counting, the file."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.rules.workdays import CalendarFileInvalid, WorkCalendar, YearSchedule

REPO = Path(__file__).resolve().parent.parent
CALENDAR = WorkCalendar()  # shared on purpose: the property tests widen it in random order
DATES = st.dates(date(2016, 1, 1), date(2030, 12, 31))
PROPERTIES = settings(deadline=None, max_examples=200)


def official(day: date) -> bool:
    """The reference the calendar must agree with, asked one day at a time."""
    if day.year <= 2026:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


# --- 2026 as published (checked against chinese_calendar 1.11.0) ---------------------------------

@pytest.mark.parametrize(("day", "open_"), [
    (date(2026, 10, 1), False),   # National Day, a Thursday
    (date(2026, 10, 7), False),   # last day of the National Day break, a Wednesday
    (date(2026, 10, 10), True),   # Saturday worked for National Day (调休)
    (date(2026, 10, 11), False),  # an ordinary Sunday
    (date(2026, 9, 20), True),    # Sunday worked for National Day
    (date(2026, 2, 14), True),    # Saturday worked for Spring Festival
    (date(2026, 2, 17), False),   # Spring Festival, a Tuesday
    (date(2026, 2, 28), True),    # Saturday worked for Spring Festival
    (date(2026, 11, 23), True),   # an ordinary Monday
])
def test_2026_follows_the_state_council_schedule(day: date, open_: bool) -> None:
    assert chinese_calendar.is_workday(day) is open_  # the package says so too
    assert WorkCalendar().is_workday(day) is open_
    assert not WorkCalendar().is_provisional(day)


@pytest.mark.parametrize(("day", "n", "expected"), [
    (date(2026, 9, 30), 1, date(2026, 10, 8)),    # 1–7 October off
    (date(2026, 9, 30), 3, date(2026, 10, 10)),   # Thu 8, Fri 9, then the worked Saturday
    (date(2026, 9, 30), 4, date(2026, 10, 12)),   # Sunday 11 is off again
    (date(2026, 10, 8), -1, date(2026, 9, 30)),
    (date(2026, 10, 12), -4, date(2026, 9, 30)),
    (date(2026, 10, 1), 0, date(2026, 10, 8)),    # a holiday moves to the next workday
    (date(2026, 10, 10), 0, date(2026, 10, 10)),  # a worked Saturday stays
    (date(2026, 9, 18), 1, date(2026, 9, 20)),    # Friday → the worked Sunday, not Monday
    (date(2026, 9, 24), 1, date(2026, 9, 28)),    # Mid-Autumn Friday 25 and the weekend off
    (date(2026, 2, 13), 1, date(2026, 2, 14)),    # Friday → the worked Saturday
    (date(2026, 2, 14), 1, date(2026, 2, 24)),    # then Spring Festival, 15–23 February
    (date(2026, 2, 24), -1, date(2026, 2, 14)),
])
def test_add_workdays_across_the_2026_holidays(day: date, n: int, expected: date) -> None:
    assert WorkCalendar().add_workdays(day, n) == expected


def test_workdays_between_counts_the_national_day_break_as_nothing() -> None:
    calendar = WorkCalendar()
    assert calendar.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert calendar.workdays_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert calendar.workdays_between(date(2026, 10, 12), date(2026, 9, 30)) == 0
    assert calendar.workdays_between(date(2026, 10, 8), date(2026, 10, 8)) == 0


# --- years no source knows ---------------------------------------------------------------------

@pytest.mark.parametrize("year", [2027, 2030])
def test_a_year_beyond_the_package_is_monday_to_friday_and_provisional(year: int) -> None:
    calendar = WorkCalendar()
    week = [date(year, 3, 1) + timedelta(days=i) for i in range(7)]
    assert [calendar.is_workday(d) for d in week] == [d.weekday() < 5 for d in week]
    assert calendar.is_workday(date(year, 10, 1)) is (date(year, 10, 1).weekday() < 5)
    assert calendar.is_provisional(date(year, 6, 1))
    assert year in calendar.provisional_years(date(2025, 6, 1), date(year, 1, 1))


def test_provisional_years_lists_only_the_unknown_years() -> None:
    calendar = WorkCalendar()
    assert calendar.provisional_years(date(2016, 1, 1), date(2026, 12, 31)) == []
    assert calendar.provisional_years(date(2025, 6, 1), date(2030, 2, 1)) == [2027, 2028, 2029,
                                                                              2030]
    assert calendar.provisional_years(date(2030, 1, 1), date(2027, 1, 1)) == []


def test_an_override_decides_its_year_and_is_not_provisional() -> None:
    spring = YearSchedule(holidays=frozenset({date(2027, 2, 10)}),   # a Wednesday
                          workdays=frozenset({date(2027, 2, 13)}))   # a Saturday
    calendar = WorkCalendar({2027: spring})
    assert not calendar.is_workday(date(2027, 2, 10))
    assert calendar.is_workday(date(2027, 2, 13))
    assert calendar.is_workday(date(2027, 2, 11))
    assert not calendar.is_workday(date(2027, 2, 14))
    assert not calendar.is_provisional(date(2027, 2, 10))
    assert calendar.provisional_years(date(2026, 1, 1), date(2028, 12, 31)) == [2028]
    assert calendar.add_workdays(date(2027, 2, 9), 1) == date(2027, 2, 11)
    assert calendar.add_workdays(date(2027, 2, 12), 1) == date(2027, 2, 13)


def test_an_override_corrects_the_package() -> None:
    calendar = WorkCalendar({2026: YearSchedule(holidays=frozenset(), workdays=frozenset())})
    assert calendar.is_workday(date(2026, 10, 1))
    assert not calendar.is_workday(date(2026, 10, 10))


def test_counting_crosses_from_known_into_guessed_years() -> None:
    calendar = WorkCalendar()
    assert calendar.workdays_between(date(2026, 12, 31), date(2027, 1, 4)) == 2  # Fri 1, Mon 4
    assert calendar.add_workdays(date(2027, 1, 4), -2) == date(2026, 12, 31)


# --- properties ----------------------------------------------------------------------------------

@PROPERTIES
@given(DATES, st.integers(-400, 400))
def test_add_workdays_lands_on_a_workday(day: date, n: int) -> None:
    result = CALENDAR.add_workdays(day, n)
    assert CALENDAR.is_workday(result) and official(result)
    if n == 0:
        assert result >= day and CALENDAR.workdays_between(day, result) == (result != day)


@PROPERTIES
@given(DATES, st.integers(-400, 400))
def test_workdays_between_undoes_add_workdays(day: date, n: int) -> None:
    result = CALENDAR.add_workdays(day, n)
    if n > 0:
        assert CALENDAR.workdays_between(day, result) == n
    elif n < 0 and CALENDAR.is_workday(day):
        assert CALENDAR.workdays_between(result, day) == -n


@PROPERTIES
@given(st.lists(DATES, min_size=3, max_size=3))
def test_workdays_between_is_additive(days: list[date]) -> None:
    a, b, c = sorted(days)
    between = CALENDAR.workdays_between
    assert between(a, b) + between(b, c) == between(a, c)


@PROPERTIES
@given(DATES, st.integers(0, 800))
def test_workdays_between_matches_counting_day_by_day(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    by_hand = sum(official(start + timedelta(days=i)) for i in range(1, span + 1))
    assert WorkCalendar().workdays_between(start, end) == by_hand
    assert CALENDAR.workdays_between(start, end) == by_hand


def test_long_spans_cross_many_years() -> None:
    days = [date(2016, 1, 1) + timedelta(days=i) for i in range(1, 365 * 12)]
    open_days = [d for d in days if official(d)]
    calendar = WorkCalendar()
    assert calendar.workdays_between(date(2016, 1, 1), days[-1]) == len(open_days)
    assert calendar.add_workdays(date(2016, 1, 1), len(open_days)) == open_days[-1]
    assert calendar.add_workdays(days[-1] + timedelta(days=1), -len(open_days)) == open_days[0]


def test_the_package_is_asked_once_per_day(monkeypatch: pytest.MonkeyPatch) -> None:
    for year in (2026, 2027):  # which years the package knows is asked once per process
        WorkCalendar().is_provisional(date(year, 1, 1))
    asked: list[date] = []
    real = chinese_calendar.is_workday
    monkeypatch.setattr(chinese_calendar, "is_workday", lambda d: asked.append(d) or real(d))
    calendar = WorkCalendar()
    for day in (date(2026, 6, 1) + timedelta(days=i) for i in range(0, 200, 3)):
        calendar.is_workday(day)
        calendar.add_workdays(day, 30)
        calendar.workdays_between(day, day + timedelta(days=90))
    assert len(asked) == len(set(asked)) == 365  # 2026 once; 2027 is guessed, not asked


def test_threads_share_one_calendar() -> None:
    calendar, failures = WorkCalendar(), []
    rng = random.Random(7)
    days = [date(2016, 1, 1) + timedelta(days=rng.randrange(365 * 12)) for _ in range(4000)]

    def check(chunk: list[date]) -> None:
        failures.extend(d for d in chunk if calendar.is_workday(d) != official(d))

    threads = [threading.Thread(target=check, args=(days[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- the calendar file ---------------------------------------------------------------------------

def test_the_checked_in_calendar_file_loads() -> None:
    calendar = WorkCalendar.from_file(REPO / "config" / "calendar.yaml")
    assert not calendar.is_workday(date(2026, 10, 1))
    assert calendar.provisional_years(date(2026, 1, 1), date(2027, 12, 31)) == [2027]


def test_a_missing_file_means_no_overrides(tmp_path: Path) -> None:
    calendar = WorkCalendar.from_file(tmp_path / "calendar.yaml")
    assert calendar.is_provisional(date(2027, 1, 1))


def test_a_file_schedule_with_ranges_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("2027:\n  holidays: [2027-01-01, 2027-02-06..2027-02-13]\n"
                    "  workdays: [2027-02-14]\n", encoding="utf-8")
    calendar = WorkCalendar.from_file(path)
    assert not calendar.is_provisional(date(2027, 2, 8))
    assert [calendar.is_workday(date(2027, 2, d)) for d in range(5, 16)] == [
        True, False, False, False, False, False, False, False, False, True, True]
    assert not calendar.is_workday(date(2027, 1, 1))


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("2027:\n  holidays: [2027-01-01]\n  workdays: [2027-02-30]\n", 3, "impossible date"),
    ("2027:\n  holidays:\n    - 2027-01-01\n    - 2027/02/08\n", 4, "expected a date"),
    ("2027:\n  holidays: [2027-02-06..2027-02-13x]\n", 2, "range FROM..TO"),
    ("2027:\n  holidays: [2027-02-13..2027-02-06]\n", 2, "ends before it starts"),
    ("2027:\n  holidays: [2027-01-01]\n  workdays: [2026-12-27]\n", 3, "2026-12-27 is not in 2027"),
    ("2027:\n  holidays: [2027-02-06..2027-02-13]\n  workdays: [2027-02-07]\n", 3,
     "2027-02-07 is also listed under holidays"),
    ("2027:\n  holidays: []\n  weekends: []\n", 3, "weekends: unknown key"),
    ("2027:\n  holidays: []\n27:\n  holidays: []\n", 3, "expected a 4-digit year, got 27"),
    ("2027:\n  holidays: [2027-01-01\n", 3, "YAML syntax"),
])
def test_a_bad_calendar_file_is_refused_naming_file_and_line(
        tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileInvalid) as refused:
        WorkCalendar.from_file(path)
    assert f"{path}:{line}: " in str(refused.value)
    assert problem in str(refused.value)


def test_far_jumps_widen_in_one_step() -> None:
    calendar = WorkCalendar()
    later = calendar.add_workdays(date(2020, 1, 1), 26_000)  # about a century of weekdays
    assert later.year > 2110 and calendar.workdays_between(date(2020, 1, 1), later) == 26_000
    assert calendar.add_workdays(later, -26_000) == date(2019, 12, 31)  # 1 January is off


@pytest.mark.parametrize("text", ["- 2027\n", "just words\n", "[]\n"])
def test_a_file_that_is_not_a_mapping_of_years_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileInvalid, match="expected a mapping"):
        WorkCalendar.from_file(path)
