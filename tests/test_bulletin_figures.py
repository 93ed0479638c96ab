"""The bulletin's figures for hand-built histories, checked against figures worked out by hand.

The week is Monday 16 to Sunday 22 November 2026; the previous week 9–15 November. Six units:
- A: one item done on time last week, one done late this week, one extended before it fell due;
- B: one falls overdue this week, one closed last week and reopened this week, one sent back;
- C: one done on time this week, one waived (left out);
- D: nothing due (an item due next year, whose extension was granted this week);
- E: one done on time, one overdue this week;
- F: the same figures as A (a tie, broken by the unit code), one done late.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import compute
from models.rules.bulletin.history import (
    Happened,
    History,
    IndicatorRecord,
    MilestoneRecord,
    Revision,
    UnitNames,
)
from models.rules.bulletin.periods import (
    Period,
    PeriodKind,
    parse_period,
    period_end,
    period_ending_before,
    previous_period,
)
from models.rules.bulletin.ranking import HonourRule, rank
from models.store.actions import claim_done, close_out
from models.store.bulletin_history import load_history
from models.tables.event_kinds import EventKind
from models.tables.milestone import Milestone
from tests.conftest import NOW
from tests.world import RULES, build_world

WEEK = Period(PeriodKind.week, date(2026, 11, 16), date(2026, 11, 22))
NAMES = {"A": "甲街道", "B": "乙街道", "C": "丙街道", "D": "丁街道", "E": "戊街道", "F": "己街道"}


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), RULES.zone)


def happened(kind: str, day: str, **data: Any) -> Happened:
    return Happened(kind=EventKind(f"milestone.{kind}"), at=at(day), on=date.fromisoformat(day),
                    actor_id=7,
                    reason=data.pop("reason", None), data=data)


def claim(day: str) -> Happened:
    return happened("done_claimed", day, evidence=f"{day} 完成")


def extended(requested: str, decided: str, old: str, new: str) -> list[Happened]:
    return [happened("extension_requested", requested, reason="征地延后", proposed_due_on=new),
            happened("extension_decided", decided, approved=True, requested_on=requested,
                     previous_due_on=old, new_due_on=new, reason="同意")]


MILESTONES = {  # id: (unit, planned due, binding, events)
    1: ("A", "2026-11-10", False, [claim("2026-11-09")]),
    2: ("A", "2026-11-18", False, [claim("2026-11-20")]),
    3: ("A", "2026-11-12", False, extended("2026-11-11", "2026-11-13", "2026-11-12",
                                           "2026-11-30")),
    4: ("B", "2026-11-17", True, [happened("acknowledged", "2026-11-19", level=1)]),
    5: ("B", "2026-11-05", False, [claim("2026-11-04"), happened("closed", "2026-11-06"),
                                   happened("reopened", "2026-11-19", reason="复查不合格")]),
    6: ("B", "2026-11-12", False, [claim("2026-11-11"), happened("returned", "2026-11-14"),
                                   happened("acknowledged", "2026-11-16", level=1)]),
    7: ("C", "2026-11-20", False, [claim("2026-11-18")]),
    8: ("C", "2026-11-03", False, [happened("waived", "2026-11-05")]),
    9: ("D", "2027-01-10", False, extended("2026-11-16", "2026-11-17", "2027-01-10",
                                           "2027-02-10")),
    10: ("E", "2026-11-19", False, [claim("2026-11-19")]),
    11: ("E", "2026-11-18", False, []),
    12: ("F", "2026-11-17", False, [claim("2026-11-17")]),
    13: ("F", "2026-11-21", False, [claim("2026-11-22")]),
}
STEPS = {4: [(1, date(2026, 11, 18), date(2026, 11, 17))],
         6: [(1, date(2026, 11, 13), date(2026, 11, 12)),
             (2, date(2026, 11, 20), date(2026, 11, 12))]}


def history(**changes: Any) -> History:
    records = [MilestoneRecord(
        id=i, plan="p", project=f"项目{unit}", title=f"节点{i}", unit_code=unit,
        unit_name=NAMES[unit], planned_due_on=date.fromisoformat(due), binding=binding,
        known_since=None, retired_at=None)
        for i, (unit, due, binding, _) in MILESTONES.items()]
    indicators = [
        IndicatorRecord(id=1, plan="p", code="I2", seq=2, name="养老机构护理型床位占比",
                        unit_name=None, measure="%", binding=False, direction="up",
                        baseline_year=2020, baseline_value=40.0,
                        targets={2026: (55.0, None)}, target_qualifiers={}, readings=[]),
        IndicatorRecord(id=2, plan="p", code="I1", seq=1, name="每千名老年人养老床位数",
                        unit_name="甲街道", measure="张", binding=True, direction="up",
                        baseline_year=2020, baseline_value=30.0,
                        targets={2026: (42.0, None)}, target_qualifiers={},
                        readings=[(date(2026, 6, 30), 33.0), (date(2026, 12, 31), 50.0)]),
    ]
    return History(scope="p", scope_name="示例规划", until=period_end(WEEK, RULES),
                   milestones=records,
                   events={i: events for i, (_, _, _, events) in MILESTONES.items()},
                   steps=STEPS, indicators=indicators, names={7: "王芳"}) if not changes \
        else History(**{**history().__dict__, **changes})


@pytest.fixture(scope="module")
def figures() -> Any:
    return compute(history(), WEEK, RULES, Edition.internal)


def test_the_headline_counts_and_their_change_since_last_week(figures: Any) -> None:
    h = figures.headline
    assert (h.due, h.done, h.on_time, h.overdue, h.newly_overdue, h.completed) == (
        10, 6, 4, 4, 3, 5)
    assert h.on_time_rate == pytest.approx(0.4)
    # Last week: due 1, 5, 6; done on time 1 and 5; overdue 6 (sent back), newly so;
    # completed 1 (claimed on the 9th).
    assert h.change == {"due": 7, "done": 4, "on_time": 2,
                        "on_time_rate": pytest.approx(0.4 - 2 / 3), "overdue": 3,
                        "newly_overdue": 2, "completed": 4}


def test_the_ranking_with_its_tie_break_and_the_units_with_nothing_due(figures: Any) -> None:
    ranked = [(u.unit_code, u.place) for u in figures.units if u.place is not None]
    # C 100 %; A and F 50 % with one on time and nothing overdue: the code decides; E 50 % with
    # one overdue; B 0 %.
    assert ranked == [("C", 1), ("A", 2), ("F", 3), ("E", 4), ("B", 5)]
    [d] = [u for u in figures.units if u.place is None]
    assert (d.unit_code, d.due, d.on_time_rate) == ("D", 0, None)
    assert figures.units[-1].unit_code == "D"  # listed apart, after the ranked ones


def test_places_move_against_last_week(figures: Any) -> None:
    rows = {u.unit_code: u for u in figures.units}
    # Last week only A (1 of 1 on time) and B (1 of 2) had anything due.
    assert (rows["A"].previous_place, rows["A"].movement) == (1, -1)
    assert (rows["B"].previous_place, rows["B"].movement) == (2, -3)
    assert (rows["C"].previous_place, rows["C"].movement) == (None, None)


def test_the_honour_and_shame_lists(figures: Any) -> None:
    # Only C did well (100 %, nothing overdue): A and F at 50 % are not praised for it.
    assert figures.honour == ["C"]
    assert figures.shame == ["E", "B"]  # at most half of the five ranked units
    assert figures.honour_rule == HonourRule(0.9, 3)  # the shipped policy's, stated with them


def test_each_units_row(figures: Any) -> None:
    rows = {u.unit_code: u for u in figures.units}
    a, b = rows["A"], rows["B"]
    assert (a.due, a.done, a.on_time, a.overdue, a.completed) == (2, 2, 1, 0, 1)
    # B: 4 falls overdue, 5 is reopened (was done last week), 6 was already overdue.
    assert (b.due, b.done, b.on_time, b.overdue, b.newly_overdue) == (3, 0, 0, 3, 2)


def test_the_red_items_with_level_and_acknowledgement(figures: Any) -> None:
    red = {r.milestone_id: r for r in figures.red_items}
    assert set(red) == {4, 5, 6, 11}
    days = [r.overdue_workdays for r in figures.red_items]
    assert days == sorted(days, reverse=True)  # most overdue first
    assert red[5].overdue_workdays == RULES.calendar.workdays_between(date(2026, 11, 5),
                                                                      WEEK.last)
    assert (red[4].level, red[4].acknowledged, red[4].binding) == (1, True, True)
    assert (red[6].level, red[6].acknowledged) == (2, False)  # acknowledged at level 1 only
    assert (red[11].level, red[11].acknowledged) == (0, False)


def test_completed_items_keep_late_ones_and_evidence_only_internally(figures: Any) -> None:
    done = {c.milestone_id: c for c in figures.completed}
    assert set(done) == {2, 7, 10, 12, 13}
    assert (done[2].on_time, done[13].on_time, done[7].on_time) == (False, False, True)
    assert (done[2].evidence, done[2].claimed_by) == ("2026-11-20 完成", "王芳")
    public = compute(history(), WEEK, RULES, Edition.public)
    assert all(c.evidence is None and c.claimed_by is None for c in public.completed)
    assert all(e.reason is None for e in public.extensions)
    assert public.headline == figures.headline and public.units == figures.units


def test_extensions_granted_this_week_only(figures: Any) -> None:
    [granted] = figures.extensions  # 3's extension was granted last week
    assert (granted.milestone_id, granted.previous_due_on, granted.new_due_on,
            granted.reason) == (9, date(2027, 1, 10), date(2027, 2, 10), "征地延后")  # the ask


def test_indicators_binding_first_and_no_reading_yet(figures: Any) -> None:
    first, second = figures.indicators
    assert (first.code, first.binding, first.target_value) == ("I1", True, 42.0)
    # The reading dated after the period is not seen.
    assert (first.latest_value, first.latest_on) == (33.0, date(2026, 6, 30))
    # 30 at the end of 2020 to 42 at the end of 2026, seen on 22 November 2026.
    share = (WEEK.last - date(2020, 12, 31)).days / (date(2026, 12, 31)
                                                     - date(2020, 12, 31)).days
    assert first.trajectory_value == pytest.approx(30 + 12 * share)
    assert first.light == "yellow"  # 33 lies behind the line at the end of June
    assert (second.code, second.latest_value, second.light) == ("I2", None, None)


def test_a_milestone_added_after_the_period_does_not_count() -> None:
    later = history().milestones + [MilestoneRecord(
        id=99, plan="p", project="项目A", title="后加节点", unit_code="A", unit_name="甲街道",
        planned_due_on=date(2026, 11, 2), binding=False, known_since=at("2026-11-25"),
        retired_at=None)]
    again = compute(history(milestones=later), WEEK, RULES, Edition.internal)
    assert again == compute(history(), WEEK, RULES, Edition.internal)


def test_ranking_is_by_rate_then_on_time_then_overdue_then_code() -> None:
    def c(due: int, on_time: int, overdue: int) -> dict[str, Any]:
        return {"due": due, "on_time": on_time, "overdue": overdue,
                "on_time_rate": on_time / due if due else None}

    assert rank({"z": c(4, 2, 0), "y": c(2, 1, 0), "x": c(2, 1, 1), "w": c(0, 0, 0),
                 "v": c(2, 1, 0)}) == {"z": 1, "v": 2, "y": 3, "x": 4}


@pytest.mark.parametrize(("issued", "kind", "first", "last"), [
    ("2026-11-23", "week", "2026-11-16", "2026-11-22"),   # Monday: the week before
    ("2026-11-25", "week", "2026-11-16", "2026-11-22"),   # any day of the next week too
    ("2026-12-01", "month", "2026-11-01", "2026-11-30"),
    ("2026-03-15", "month", "2026-02-01", "2026-02-28"),
])
def test_the_period_a_bulletin_covers(issued: str, kind: str, first: str, last: str) -> None:
    period = period_ending_before(PeriodKind(kind), date.fromisoformat(issued))
    assert (period.first, period.last) == (date.fromisoformat(first), date.fromisoformat(last))
    assert parse_period(kind, date.fromisoformat(issued)) == period


def test_previous_periods_and_custom_ones() -> None:
    month = period_ending_before(PeriodKind.month, date(2026, 3, 10))
    assert previous_period(month) == Period(PeriodKind.month, date(2026, 1, 1),
                                            date(2026, 1, 31))
    custom = parse_period("2026-11-01..2026-11-10", date(2026, 11, 23))
    assert previous_period(custom) == Period(PeriodKind.custom, date(2026, 10, 22),
                                             date(2026, 10, 31))


@pytest.mark.parametrize("text", ["2026/11/01..2026/11/30", "last week", "2026-11-30..2026-11-01",
                                  "2026-11-01"])
def test_a_malformed_period_names_itself(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        parse_period(text, date(2026, 11, 23))


# ── from the database ───────────────────────────────────────────────────────────────────────

def figures_from_db(session: Session, period: Period) -> dict[str, Any]:
    loaded = load_history(session=session, rules=RULES, plan="demo-2025-2026",
                          until=period_end(period, RULES))
    return compute(loaded, period, RULES, Edition.internal).to_json()


def test_a_past_weeks_figures_do_not_change_with_what_happens_after(
        session: Session, engine: sa.Engine) -> None:
    world = build_world(session)
    week = period_ending_before(PeriodKind.week, date(2025, 10, 13))  # 6–12 October 2025
    claimed_at = datetime(2025, 10, 9, 2, 0, tzinfo=RULES.zone)  # inside the week
    claim_done(session=session, rules=RULES, milestone_id=world.construction,
               evidence="已开工", actor="wang.fang@duban.example", now=claimed_at)
    session.commit()
    before = figures_from_db(session, week)
    assert before["headline"]["done"] == 1 and before["headline"]["completed"] == 1
    # Later: the office closes it, the other item is claimed, a milestone is retired.
    close_out(session=session, rules=RULES, milestone_id=world.construction,
              actor="zhou.min@duban.example", now=NOW)
    claim_done(session=session, rules=RULES, milestone_id=world.fire_check,
               evidence="已验收", actor="wang.fang@duban.example", now=NOW)
    session.execute(sa.update(Milestone).where(Milestone.id == world.neighbourhood)
                    .values(retired_at=NOW))
    session.commit()
    assert figures_from_db(session, week) == before
    this_week = period_ending_before(PeriodKind.week, date(2026, 11, 30))  # holds NOW
    after = figures_from_db(session, this_week)
    assert after["headline"]["done"] == 2  # the present sees the later changes


def test_red_items_carry_the_assumption_and_the_missing_attribute_from_the_plan(
        session: Session) -> None:
    world = build_world(session)
    session.execute(sa.update(Milestone).where(Milestone.id == world.construction)
                    .values(assumption="清单未给出完成日期，按规划期末推定"))
    session.commit()
    week = period_ending_before(PeriodKind.week, date(2025, 10, 20))  # both items overdue
    red = {r["milestone_id"]: (r["assumption"], r["unmarked"], r["binding"])
           for r in figures_from_db(session, week)["red_items"]}
    assert red[world.construction] == ("清单未给出完成日期，按规划期末推定", True, False)
    assert red[world.fire_check] == (None, False, True)


def test_figures_come_back_whole_from_their_json(figures: Any) -> None:
    from models.rules.bulletin.figures import Figures

    assert Figures.from_json(figures.to_json()) == figures
    focused = figures.for_unit("B")
    assert Figures.from_json(focused.to_json()) == focused
    assert {r.unit_code for r in focused.red_items} == {"B"} and focused.units == figures.units


def test_a_week_across_new_year_shows_the_target_of_the_year_it_closes() -> None:
    new_year = Period(PeriodKind.week, date(2025, 12, 29), date(2026, 1, 4))
    indicator = IndicatorRecord(
        id=3, plan="p", code="I3", seq=3, name="社区助餐点", unit_name=None, measure="个",
        binding=False, direction="up", baseline_year=2020, baseline_value=10.0,
        targets={2025: (40.0, None)}, target_qualifiers={}, readings=[(date(2025, 12, 31), 40)])
    [row] = compute(history(indicators=[indicator]), new_year, RULES, Edition.internal).indicators
    assert (row.target_year, row.target_value, row.trajectory_value) == (2025, 40.0, 40.0)
    assert (row.latest_value, row.light) == (40, "green")


def test_items_and_units_are_named_as_they_stood_at_the_periods_end() -> None:
    # Item 11 (E, overdue this week) was titled 旧节点 in unit F until a re-import on the 20th;
    # F was called 旧己街道 until the 25th, after the week.
    moved = (Revision(at("2026-11-20"), "title", "旧节点"),
             Revision(at("2026-11-20"), "unit_code", "F"))
    records = [replace(m, revisions=moved) if m.id == 11 else m for m in history().milestones]
    units = {"E": UnitNames(NAMES["E"]),
             "F": UnitNames(NAMES["F"], (Revision(at("2026-11-25"), "name", "旧己街道"),))}
    week = compute(history(milestones=records, units=units), WEEK, RULES, Edition.internal)
    red = {r.milestone_id: r for r in week.red_items}
    assert (red[11].title, red[11].unit_code, red[11].unit_name) == ("节点11", "E", "戊街道")
    assert {u.unit_code: u.unit_name for u in week.units}["F"] == "旧己街道"
    last_week = compute(history(milestones=records, units=units), previous_period(WEEK), RULES,
                        Edition.internal)
    assert {u.unit_code: u.unit_name for u in last_week.units}["F"] == "旧己街道"


def test_an_item_completed_before_it_is_due_counts_as_completed_this_period(
        figures: Any) -> None:
    early = MilestoneRecord(
        id=14, plan="p", project="项目D", title="提前完成的节点", unit_code="D",
        unit_name=NAMES["D"], planned_due_on=date(2026, 12, 31), binding=False,
        known_since=None, retired_at=None)
    again = compute(history(milestones=history().milestones + [early],
                            events=history().events | {14: [claim("2026-11-19")]}),
                    WEEK, RULES, Edition.internal)
    assert again.headline.completed == figures.headline.completed + 1
    assert (again.headline.due, again.headline.done) == (figures.headline.due,
                                                         figures.headline.done)
    [d] = [u for u in again.units if u.unit_code == "D"]
    assert (d.completed, d.due, d.place) == (1, 0, None)  # counted, still not ranked
    [item] = [c for c in again.completed if c.milestone_id == 14]
    assert (item.claimed_on, item.on_time) == (date(2026, 11, 19), True)
