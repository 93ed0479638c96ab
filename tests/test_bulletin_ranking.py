"""Who goes on the 红榜 and whom a unit is ranked beside (models/rules/bulletin/ranking.py),
as pure functions, and a bulletin across two plans as the office reads it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from config.policy import BulletinPolicy, PolicyFile
from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import compute
from models.rules.bulletin.history import History, MilestoneRecord
from models.rules.bulletin.periods import Period, PeriodKind
from models.rules.bulletin.ranking import (
    HonourRule,
    UnitRow,
    did_well,
    honour_and_shame,
    peer_of,
    rank_among_peers,
)
from models.rules.rulebook import Rules
from notifications.bulletin.page import bulletin_html, bulletin_text
from notifications.bulletin.pdf import bulletin_pdf
from notifications.bulletin.workbook import bulletin_workbook
from tests.test_bulletin_figures import at, happened
from tests.test_bulletin_files import pdf_pages, sheet_rows
from tests.world import POLICY, RULES

WEEK = Period(PeriodKind.week, date(2026, 11, 16), date(2026, 11, 22))


def row(code: str, place: int, due: int, on_time: int, overdue: int = 0,
        peers: str = "p") -> UnitRow:
    return UnitRow(unit_code=code, unit_name=code, due=due, done=on_time, on_time=on_time,
                   on_time_rate=on_time / due, overdue=overdue, newly_overdue=0, completed=0,
                   place=place, previous_place=None, movement=None, peers=peers)


@pytest.mark.parametrize(("unit", "well"), [
    (row("a", 1, 10, 10), True),
    (row("a", 1, 10, 9), True),             # 90 %: the threshold itself
    (row("a", 1, 10, 8), False),            # 80 %
    (row("a", 1, 10, 9, overdue=1), False),  # a red item keeps a unit off, whatever its rate
    (row("a", 1, 1, 0, overdue=1), False),   # 0.0 % is never praised
])
def test_only_a_unit_that_did_well_may_go_on_the_honour_roll(unit: UnitRow, well: bool) -> None:
    assert did_well(unit, HonourRule(0.9, 3)) is well


def test_a_period_where_nobody_did_well_has_an_empty_honour_roll() -> None:
    ranked = [row("a", 1, 2, 1), row("b", 2, 2, 1, overdue=1), row("c", 3, 1, 0, overdue=1),
              row("d", 4, 3, 0, overdue=3)]
    honour, shame = honour_and_shame(ranked, HonourRule(0.9, 3))
    assert honour == []
    assert shame == ["c", "d"]  # at most half of the four


def test_the_honour_roll_takes_the_best_placed_of_those_who_did_well_up_to_its_places() -> None:
    ranked = [row(c, i, 10, 10) for i, c in enumerate("abcdefg", start=1)]
    assert honour_and_shame(ranked, HonourRule(0.9, 2))[0] == ["a", "b"]
    assert honour_and_shame(ranked, HonourRule(0.9, 5))[0] == ["a", "b", "c"]  # half of 7
    # All on time: nobody on the 黑榜.
    assert honour_and_shame(ranked, HonourRule(0.9, 5))[1] == []


def test_each_peer_group_has_its_own_places_and_boards() -> None:
    counts = {code: {"due": due, "on_time": on_time, "overdue": due - on_time,
                     "on_time_rate": on_time / due}
              for code, due, on_time in [("bj-dc", 4, 4), ("bj-xc", 4, 2), ("zj-mzt", 4, 3),
                                         ("zj-hz", 4, 1)]}
    peers = {"bj-dc": "beijing", "bj-xc": "beijing", "zj-mzt": "zhejiang", "zj-hz": "zhejiang"}
    assert rank_among_peers(counts, peers) == {"bj-dc": 1, "bj-xc": 2, "zj-mzt": 1, "zj-hz": 2}
    ranked = [row("bj-dc", 1, 4, 4, peers="beijing"), row("bj-xc", 2, 4, 2, 2, "beijing"),
              row("zj-mzt", 1, 4, 3, 1, "zhejiang"), row("zj-hz", 2, 4, 1, 3, "zhejiang")]
    assert honour_and_shame(ranked, HonourRule(0.9, 3)) == (["bj-dc"], ["bj-xc", "zj-hz"])


def test_a_unit_is_ranked_in_the_office_group_that_lists_it_else_with_its_plan() -> None:
    groups = {"区级民政部门": ["xihu-mzj", "xicheng-mzj"]}
    assert peer_of("xicheng-mzj", ["xicheng-2016-2020"], groups) == "区级民政部门"
    assert peer_of("zj-mzt", ["zhejiang-welfare-2016-2020"], groups) == \
        "zhejiang-welfare-2016-2020"
    assert peer_of("u", ["b-plan", "a-plan"], {}) == "a-plan"  # in two plans: the first by code


def test_a_unit_in_two_peer_groups_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match="'u' is in two peer groups: 'g1' and 'g2'"):
        BulletinPolicy(peer_groups={"g1": ["u"], "g2": ["u", "v"]})


# ── a bulletin across two plans ────────────────────────────────────────────────────────────

UNITS = {"bj-dc": ("北京市东城区民政局", "beijing"), "bj-xc": ("北京市西城区民政局", "beijing"),
         "zj-mzt": ("浙江省民政厅", "zhejiang"), "zj-jx": ("嘉兴市民政局", "zhejiang")}
# bj-dc: 2 of 2 on time; bj-xc: 1 of 2, one overdue; zj-mzt: 2 of 2; zj-jx: 0 of 1 (0.0 %).
DONE = {"bj-dc": [True, True], "bj-xc": [True, False], "zj-mzt": [True, True], "zj-jx": [False]}


def across_plans() -> History:
    milestones, events, n = [], {}, 0
    for code, outcomes in DONE.items():
        name, plan = UNITS[code]
        for on_time in outcomes:
            n += 1
            milestones.append(MilestoneRecord(
                id=n, plan=plan, project="项目", title=f"节点{n}", unit_code=code,
                unit_name=name, planned_due_on=date(2026, 11, 18), binding=False,
                known_since=None, retired_at=None))
            if on_time:
                events[n] = [happened("done_claimed", "2026-11-17", evidence="完成")]
    return History(scope="*", scope_name="全部规划", until=at("2026-11-23", 0),
                   milestones=milestones, events=events,
                   plan_names={"beijing": "北京市规划", "zhejiang": "浙江省规划"})


def bulletin(rules: Rules = RULES) -> Any:
    return compute(across_plans(), WEEK, rules, Edition.internal)


def test_a_bulletin_across_plans_ranks_each_unit_among_its_own_plans_units() -> None:
    figures = bulletin()
    assert [(u.unit_code, u.peers, u.place) for u in figures.units] == [
        ("bj-dc", "beijing", 1), ("bj-xc", "beijing", 2),
        ("zj-mzt", "zhejiang", 1), ("zj-jx", "zhejiang", 2)]
    assert figures.honour == ["bj-dc", "zj-mzt"]
    assert figures.shame == ["bj-xc", "zj-jx"]  # the 0.0 % unit is never on the 红榜
    assert figures.peer_names == {"beijing": "北京市规划", "zhejiang": "浙江省规划"}


def test_the_office_can_rank_units_of_several_plans_together() -> None:
    policy = POLICY.model_copy(update={"bulletin": BulletinPolicy(
        honour_places=1, peer_groups={"全部单位": list(UNITS)})})
    figures = bulletin(replace(RULES, policies=PolicyFile(default=policy, plans={})))
    assert [(u.unit_code, u.place) for u in figures.units] == [
        ("bj-dc", 1), ("zj-mzt", 2), ("bj-xc", 3), ("zj-jx", 4)]
    assert (figures.honour, figures.shame) == (["bj-dc"], ["zj-jx"])


def test_the_bulletin_states_the_rule_and_names_each_peer_group() -> None:
    figures = bulletin()
    text = bulletin_text(figures, link=None)
    html = bulletin_html(figures, chart_src="cid:bulletin-chart", link=None)
    for part in (text, html):
        assert "入榜条件：按期完成率不低于90.0%且无逾期事项，每组至多3个单位" in part
        assert "北京市规划" in part and "浙江省规划" in part
    honour = text.split("红榜：", 1)[1].split("\n", 1)[0]
    assert "北京市东城区民政局" in honour and "浙江省民政厅" in honour
    assert "嘉兴市民政局" not in honour


def test_the_workbook_and_the_pdf_name_each_units_peer_group() -> None:
    figures = bulletin()
    [heading, *rows] = sheet_rows(bulletin_workbook(figures), "单位排名")
    assert heading[0] == "同类组"
    assert [(r[0], r[1], r[heading.index("单位代码")]) for r in rows] == [
        ("北京市规划", 1, "bj-dc"), ("北京市规划", 2, "bj-xc"),
        ("浙江省规划", 1, "zj-mzt"), ("浙江省规划", 2, "zj-jx")]
    text = "".join(pdf_pages(bulletin_pdf(figures, chart_png=None)))
    for words in ("入榜条件：按期完成率不低于90.0%且无逾期事项", "北京市规划", "浙江省规划"):
        assert words in text, words
