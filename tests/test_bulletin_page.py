"""The bulletin as a reader gets it: subject, HTML, plain text and the chart of progress by unit.

Figures are built by hand (a plan for 示例区 with streets ranked by their on-time rate), and
once from the small test world; the page and the chart only render what the figures say.
"""

from __future__ import annotations

import re
import struct
from dataclasses import replace
from datetime import date
from html import unescape

import pytest
from sqlmodel import Session

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures
from models.rules.bulletin.headline import Headline
from models.rules.bulletin.indicators import IndicatorRow
from models.rules.bulletin.items import CompletedItem, ExtensionGranted, RedItem
from models.rules.bulletin.periods import Period, PeriodKind
from models.rules.bulletin.ranking import UnitRow
from notifications.bulletin import chart
from notifications.bulletin.chart import MissingFont, progress_chart
from notifications.bulletin.page import (
    EMAIL_ROWS,
    Gap,
    bulletin_email,
    bulletin_html,
    bulletin_subject,
    bulletin_text,
    excerpt,
)

CID = "cid:bulletin-chart"
LINK = "https://duban.example/bulletins/7"
PLAN_NAME = "示例区“十四五”养老服务规划"
WEEK = Period(PeriodKind.week, date(2026, 11, 16), date(2026, 11, 22))
WEEK_BEFORE = Period(PeriodKind.week, date(2026, 11, 9), date(2026, 11, 15))
HEADLINE = Headline(due=120, done=100, on_time=90, on_time_rate=0.75, overdue=20,
                    newly_overdue=3, completed=7,
                    change={"due": 2, "done": -1, "on_time": 0, "on_time_rate": 0.035,
                            "overdue": 3, "newly_overdue": None, "completed": 1})


def unit(code: str, name: str, place: int | None, on_time: int, *, due: int = 10,
         previous: int | None = None, overdue: int = 1) -> UnitRow:
    return UnitRow(unit_code=code, unit_name=name, due=due, done=on_time, on_time=on_time,
                   on_time_rate=on_time / due if due else None, overdue=overdue,
                   newly_overdue=0, completed=1, place=place, previous_place=previous,
                   movement=None if place is None or previous is None else previous - place)


def streets() -> list[UnitRow]:
    """Five ranked streets (two tied at 80%, in the order the figures give) and two with
    nothing due."""
    return [
        unit("js", "金沙街道", 1, 10, previous=3),
        unit("hs", "湖山街道", 2, 8, previous=1, overdue=2),
        unit("bs", "北山街道", 3, 8, previous=3, overdue=2),
        unit("ls", "留下街道", 4, 5),
        unit("zj", "转塘街道", 5, 2, previous=2, overdue=8),
        unit("cq", "翠苑社区", None, 0, due=0),
        unit("yq", "云栖社区", None, 0, due=0),
    ]


def red(index: int, unit_code: str = "zj", unit_name: str = "转塘街道", **changes: object
        ) -> RedItem:
    values = {"milestone_id": index, "plan": "xh", "project": "区社会福利中心二期工程",
              "title": f"开工建设{index}", "unit_code": unit_code, "unit_name": unit_name,
              "due_on": date(2026, 9, 30), "overdue_workdays": 30 - index % 30, "level": 2,
              "acknowledged": False, "binding": False}
    return RedItem(**(values | changes))  # type: ignore[arg-type]


def completed(index: int, edition: Edition) -> CompletedItem:
    internal = edition is Edition.internal
    return CompletedItem(
        milestone_id=100 + index, plan="xh", project="邻里中心", title=f"建成运营{index}",
        unit_code="js", unit_name="金沙街道", due_on=date(2026, 11, 20),
        claimed_on=date(2026, 11, 18), on_time=True,
        evidence="已通过竣工验收，附验收意见书。" if internal else None,
        claimed_by="王芳" if internal else None)


def figures(edition: Edition = Edition.internal, **changes: object) -> Figures:
    internal = edition is Edition.internal
    values = {
        "scope": "xh", "scope_name": PLAN_NAME, "period": WEEK, "previous": WEEK_BEFORE,
        "edition": edition, "headline": HEADLINE, "units": streets(),
        "red_items": [red(1, level=1, acknowledged=True, binding=True), red(2, level=2),
                      red(3, level=3, unit_code="ls", unit_name="留下街道"), red(4, level=0)],
        "indicators": [
            IndicatorRow(plan="xh", code="2.1", name="每万老年人拥有持证养老护理员数",
                         unit_name="示例区民政局", measure="人", binding=True,
                         baseline_year=2021, baseline_value=21, target_year=2026,
                         target_value=28, target_text=None, trajectory_value=25.5,
                         latest_value=24, latest_on=date(2026, 6, 30), light="yellow"),
            IndicatorRow(plan="xh", code="1.1", name="最低生活保障标准", unit_name=None,
                         measure="元/人、年", binding=False, baseline_year=2021,
                         baseline_value=13224, target_year=2026, target_value=14000,
                         target_text=">14000", trajectory_value=None, latest_value=None,
                         latest_on=None, light=None)],
        "completed": [completed(1, edition)],
        "extensions": [ExtensionGranted(
            milestone_id=200, plan="xh", project="邻里中心", title="完成装修",
            unit_code="zj", unit_name="转塘街道", previous_due_on=date(2026, 10, 31),
            new_due_on=date(2026, 12, 31), decided_on=date(2026, 11, 17),
            reason="用地手续调整，需重新报批" if internal else None)],
        "honour": ["js", "hs"], "shame": ["ls", "zj"],
    }
    return Figures(**(values | changes))  # type: ignore[arg-type]


def many_units(count: int) -> list[UnitRow]:
    ranked = [unit(f"u{i:04d}", f"第{i}街道", i, 1000 - i * 1000 // (count + 1), due=1000,
                   previous=i + 1) for i in range(1, count + 1)]
    return ranked + [unit("idle", "无事社区", None, 0, due=0)]


def html(f: Figures, **options: object) -> str:
    return bulletin_html(f, chart_src=CID, link=LINK, **options)  # type: ignore[arg-type]


def text(f: Figures, **options: object) -> str:
    return bulletin_text(f, link=LINK, **options)  # type: ignore[arg-type]


def visible(page: str) -> str:
    """The HTML's words as a reader sees them, tags taken out."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def ranking_rows(page: str) -> list[str]:
    """The ranking table's rows as text: the rows between its header and the table's end."""
    table = page.split(">名次</th>", 1)[1].split("</table>", 1)[0]
    return [visible("<tr" + row).strip() for row in table.split("<tr")[1:]]


# ── the headline and the title ───────────────────────────────────────────────────────────────

def test_the_title_names_the_plan_the_iso_week_and_its_days() -> None:
    f = figures()

    assert bulletin_subject(f) == (f"【督办】{PLAN_NAME} 督办晾晒通报"
                                   "（2026年第47周，11月16日—11月22日）")
    assert f"{PLAN_NAME} 督办晾晒通报（2026年第47周，11月16日—11月22日）" in text(f)


@pytest.mark.parametrize("period, words", [
    (Period(PeriodKind.month, date(2026, 10, 1), date(2026, 10, 31)), "（2026年10月）"),
    (Period(PeriodKind.week, date(2025, 12, 29), date(2026, 1, 4)),
     "（2026年第1周，2025年12月29日—2026年1月4日）"),
    (Period(PeriodKind.custom, date(2026, 11, 1), date(2026, 11, 30)),
     "（2026年11月1日—11月30日）"),
])
def test_months_weeks_across_a_new_year_and_custom_periods_are_titled_plainly(
        period: Period, words: str) -> None:
    assert bulletin_subject(figures(period=period)).endswith(words)


def test_the_week_number_and_the_days_never_break_inside_on_a_phone() -> None:
    week = Period(PeriodKind.week, date(2026, 12, 14), date(2026, 12, 20))
    page = html(figures(period=week))
    for run in ("第51周", "12月14日", "12月20日"):
        assert f'<span style="white-space:nowrap">{run}</span>' in page, run
    assert "word-break:break-all;\">" + PLAN_NAME not in page


def test_headline_figures_show_with_their_signed_changes_since_the_period_before() -> None:
    f = figures()
    for part in (visible(html(f)), text(f)):
        for words in ("应完成", "120", "较上期 +2", "100", "较上期 −1", "按期完成", "较上期持平",
                      "75.0%", "较上期 +3.5 个百分点", "逾期", "较上期 +3", "本期新增逾期",
                      "本期完成", "较上期 +1"):
            assert words in part, words
        assert "与2026年11月9日—11月15日相比" in part
    newly = visible(html(f)).split("本期新增逾期", 1)[1][:20]
    assert "较上期 —" in newly  # unknown, not shown as zero


def test_a_rate_that_fell_reads_with_a_minus_sign_in_points() -> None:
    f = figures(headline=replace(HEADLINE, change=HEADLINE.change | {"on_time_rate": -0.0125}))
    assert "较上期 −1.2 个百分点" in visible(html(f))
    assert "按期完成率：75.0%（较上期 −1.2 个百分点）" in text(f)


# ── the ranking ──────────────────────────────────────────────────────────────────────────────

def test_the_ranking_lists_units_by_place_with_their_movement() -> None:
    rows = ranking_rows(html(figures()))

    assert rows == [
        "1 ↑2 金沙街道 10 10 100.0% 1 1",
        "2 ↓1 湖山街道 10 8 80.0% 2 1",
        "3 — 北山街道 10 8 80.0% 2 1",
        "4 新 留下街道 10 5 50.0% 1 1",
        "5 ↓3 转塘街道 10 2 20.0% 8 1",
    ]


def test_tied_units_keep_the_order_the_figures_give() -> None:
    units = streets()
    units[1], units[2] = replace(units[2], place=2), replace(units[1], place=3)

    rows = ranking_rows(html(figures(units=units)))

    assert rows[1].startswith("2 ") and "北山街道" in rows[1]
    assert rows[2].startswith("3 ") and "湖山街道" in rows[2]
    ranking = text(figures(units=units)).split("三、各单位排名", 1)[1]
    assert ranking.index("北山街道") < ranking.index("湖山街道")


def test_units_with_nothing_due_are_listed_apart_and_not_ranked() -> None:
    page = html(figures())

    assert not any("翠苑社区" in row or "云栖社区" in row for row in ranking_rows(page))
    assert "本期无应完成事项的单位 （不参加排名）：翠苑社区、云栖社区" in visible(page)
    assert "本期无应完成事项的单位（不参加排名）：翠苑社区、云栖社区" in text(figures())
    assert "三、各单位排名（共5个单位）" in visible(page)


def test_the_honour_roll_and_the_bottom_of_the_list_are_called_out() -> None:
    board = visible(html(figures())).split("二、红榜与黑榜", 1)[1].split("三、", 1)[0]
    honour, shame = board.split("黑榜", 1)

    assert "第1名 金沙街道 100.0%" in honour and "第2名 湖山街道 80.0%" in honour
    assert "第4名 留下街道 50.0%" in shame and "第5名 转塘街道 20.0%" in shame
    assert "红榜：第1名 金沙街道 100.0%；第2名 湖山街道 80.0%" in text(figures())


def test_a_ranking_of_3000_units_shows_both_ends_and_the_units_own_neighbourhood() -> None:
    f = figures(units=many_units(3000), honour=["u0001"], shame=["u3000"]).for_unit("u1500")

    page, plain = html(f), text(f)
    rows = ranking_rows(page)

    shown = [row for row in rows if "略" not in row]
    assert len(shown) == 10 + 5 + 10  # both ends, and the unit with two places either side
    assert rows[0].startswith("1 ") and rows[-1].startswith("3000 ")
    assert "…… 第11—1497名（1487个单位）略，见附件工作簿或网页版 ……" in rows
    assert "…… 第1503—2990名（1488个单位）略，见附件工作簿或网页版 ……" in rows
    assert any(row.startswith("1500 ") and "（本单位）" in row for row in rows)
    assert "第1000街道" not in page and "第1000街道" not in plain
    assert len(page.encode()) < 60_000  # well under the size at which mail clients clip


def test_the_whole_ranking_is_shown_when_asked_for_every_row() -> None:
    f = figures(units=many_units(300), honour=["u0001"], shame=["u0300"])

    assert len(ranking_rows(html(f, rows=None))) == 300
    assert len(ranking_rows(html(f))) == 101


# ── the unit's own bulletin ──────────────────────────────────────────────────────────────────

def test_a_units_own_bulletin_introduces_it_and_marks_its_row() -> None:
    f = figures().for_unit("js")
    page = html(f)

    assert "本单位：金沙街道，第1名（↑2），按期完成率100.0%" in visible(page)
    row = next(r for r in page.split("<tr")[1:] if "金沙街道（本单位）" in r)
    assert 'bgcolor="#ffe7ba"' in row
    assert sum("（本单位）" in r for r in ranking_rows(page)) == 1
    assert bulletin_subject(f).endswith("：本单位第1名（↑2）")
    assert "四、本单位红灯事项（0项）" in visible(page) and "本期无红灯事项。" in page
    assert "转塘街道" in page  # the whole ranking still


def test_a_unit_with_nothing_due_is_told_so_in_its_own_bulletin() -> None:
    f = figures().for_unit("cq")

    assert "本单位：翠苑社区，本期无应完成事项，不参加排名" in visible(html(f))
    assert bulletin_subject(f).endswith("：本单位本期无应完成事项")


def test_a_unit_bulletin_lists_only_its_own_items() -> None:
    page = visible(html(figures().for_unit("ls")))

    assert "四、本单位红灯事项（1项）" in page and "开工建设3" in page
    assert "开工建设1" not in page and "建成运营1" not in page


# ── items, indicators and the editions ───────────────────────────────────────────────────────

def test_red_items_show_lateness_level_acknowledgement_and_binding() -> None:
    page = html(figures())
    red_rows = page.split("四、红灯事项（4项）", 1)[1].split("五、主要指标", 1)[0]
    first, second, third, fourth = (visible("<tr" + r) for r in red_rows.split("<tr")[2:])

    assert "开工建设1" in first and "约束性" in first and "一级" in first and "已确认" in first
    assert "二级" in second and "未确认" in second and "约束性" not in second
    assert "三级" in third and "留下街道" in third and " 27 " in third
    assert "— —" in fourth  # not escalated yet: no level, nothing to acknowledge
    assert "督办级别：二级，未确认" in text(figures())


def test_an_assumed_item_is_marked_with_its_reason_in_every_part() -> None:
    reason = "清单未给出完成日期，按规划期末推定"
    shown = figures(red_items=[red(1, assumption=reason), red(2)])
    red_rows = html(shown).split("四、红灯事项（2项）", 1)[1].split("五、主要指标", 1)[0]
    first, second = red_rows.split("<tr")[2:]
    assert f'title="推定：{reason}"' in first and "（推定）" in visible("<tr" + first)
    assert "推定" not in second
    assert f"开工建设1（推定：{reason}）" in text(shown) and "开工建设2（推定" not in text(shown)


def test_indicators_show_target_trajectory_latest_value_and_light() -> None:
    part = visible(html(figures())).split("五、主要指标", 1)[1].split("六、", 1)[0]

    assert part.index("每万老年人拥有持证养老护理员数") < part.index("最低生活保障标准")
    assert "28人 26人 24人 2026年6月30日 ● 黄灯" in part  # the line's 25.5 people: whole
    assert ">14000 — 暂无 暂无数据" in part
    assert ("本年目标：>14000；进度线：—；最新值：暂无；暂无数据" in text(figures()))


def test_the_internal_edition_shows_evidence_claimer_and_reason() -> None:
    for part in (visible(html(figures())), text(figures())):
        assert "已通过竣工验收，附验收意见书。" in part and "王芳" in part
        assert "用地手续调整，需重新报批" in part
        assert "2026年10月31日 → 2026年12月31日" in part
        assert "公开版" not in part


def test_the_public_edition_says_so_and_prints_no_names_evidence_or_reasons() -> None:
    f = figures(Edition.public)
    # Even were a public figure to carry them, the public edition does not print them.
    leaky = figures(Edition.public, completed=[completed(1, Edition.internal)],
                    extensions=figures().extensions)

    for g in (f, leaky):
        for part in (html(g), text(g)):
            assert "督办晾晒通报·公开版（2026年第47周" in part
            for words in ("王芳", "申报人", "已通过竣工验收", "完成情况", "用地手续", "延期理由"):
                assert words not in part, words
            assert "建成运营1" in part and "2026年12月31日" in part
    assert "公开版" in bulletin_subject(f)


def test_empty_sections_say_so_in_one_line() -> None:
    f = figures(units=[unit("cq", "翠苑社区", None, 0, due=0)], red_items=[], indicators=[],
                completed=[], extensions=[], honour=[], shame=[])
    page = html(f)

    for words in ("参加排名的单位不足2个，本期不设红黑榜。", "本期各单位均无应完成事项，不排名。",
                  "本期无红灯事项。", "本范围无指标。", "本期无完成事项。", "本期无批准延期。"):
        assert words in page and words in text(f), words
    assert "<img" not in page  # no chart without a ranking
    assert "<table" not in page.split("二、红榜与黑榜", 1)[1]  # no empty tables


def test_long_lists_are_cut_and_say_how_many_more_there_are() -> None:
    many = [red(i) for i in range(EMAIL_ROWS + 37)]
    f = figures(red_items=many)

    page = html(f)

    assert f"四、红灯事项（{EMAIL_ROWS + 37}项）" in visible(page)
    assert f"开工建设{EMAIL_ROWS - 1}<" in page and f"开工建设{EMAIL_ROWS}<" not in page
    assert "另有37项未列出，见附件工作簿或网页版。" in page
    assert "另有37项未列出" in text(f)
    assert f"开工建设{EMAIL_ROWS + 36}<" in html(f, rows=None)


# ── safety and sameness ──────────────────────────────────────────────────────────────────────

def test_the_same_figures_give_the_same_bytes_also_after_a_round_trip_through_json() -> None:
    f = figures()
    again = Figures.from_json(f.to_json())

    assert html(f) == html(figures()) == html(again)
    assert text(f) == text(again)
    assert bulletin_subject(f) == bulletin_subject(again)


def test_names_are_escaped_in_html_and_literal_in_text() -> None:
    name = "示范<b>街道</b>&社区"
    units = [replace(streets()[0], unit_name=name)] + streets()[1:]
    f = figures(units=units, scope_name="<i>规划</i>&")

    page = html(f)

    assert "示范&lt;b&gt;街道&lt;/b&gt;&amp;社区" in page and "<b>街道" not in page
    assert "&lt;i&gt;规划&lt;/i&gt;&amp;" in page and "<i>" not in page
    assert "&amp;amp;" not in page  # escaped once
    assert name in text(f) and "<i>规划</i>&" in bulletin_subject(f)


def test_the_html_has_no_scripts_and_only_the_chart_and_the_link_as_addresses() -> None:
    page = html(figures())

    assert "<script" not in page.lower() and "javascript:" not in page
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [CID, LINK]
    assert "max-width:720px" in page and page.startswith("<!DOCTYPE html>")


def test_a_chart_or_link_address_that_is_not_an_image_or_web_address_is_refused() -> None:
    with pytest.raises(ValueError, match="chart_src"):
        bulletin_html(figures(), chart_src="javascript:alert(1)", link=None)
    with pytest.raises(ValueError, match="link"):
        bulletin_html(figures(), chart_src=CID, link="javascript:alert(1)")


def test_the_subject_is_one_short_line_even_for_a_long_plan_name() -> None:
    f = figures(scope_name="很长的规划名称\n" * 40)

    subject = bulletin_subject(f)

    assert "\n" not in subject and len(subject) < 140


def test_the_english_bulletin_renders_the_same_figures() -> None:
    f = figures().for_unit("zj")

    page, plain = visible(bulletin_html(f, chart_src=CID, link=LINK, locale="en")), bulletin_text(
        f, link=LINK, locale="en")

    assert bulletin_subject(f, locale="en") == (
        f"[Duban] {PLAN_NAME}: progress bulletin (week 47 of 2026, 2026-11-16 to 2026-11-22): "
        "your unit is number 5 (↓3)")
    for part in (page, plain):
        for words in ("Your unit: 转塘街道, number 5 (↓3)", "+3.5 pts", "no change",
                      "Units with nothing due", "Your unit's red items (3)",
                      "2026-10-31 → 2026-12-31"):
            assert words in part, words
    assert not re.search(r"\d年|\d月|\d日", page)  # dates the ISO way
    assert "7. Your unit's extensions granted this period (1)" in plain


# ── excerpts ─────────────────────────────────────────────────────────────────────────────────

def test_an_excerpt_keeps_both_ends_and_the_kept_position_with_its_neighbours() -> None:
    assert excerpt(6, 3) == [0, 1, 2, 3, 4, 5]
    assert excerpt(20, 2, keep=10, around=1) == [0, 1, Gap(2, 8), 9, 10, 11, Gap(12, 17),
                                                 18, 19]
    assert excerpt(20, 2, keep=2, around=1) == [0, 1, 2, 3, Gap(4, 17), 18, 19]


# ── the chart ────────────────────────────────────────────────────────────────────────────────

def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_chart_is_a_png_the_width_of_the_email_and_the_same_every_time() -> None:
    png = progress_chart(figures())

    width, height = png_size(png)
    assert width == 720 and 300 < height < 900
    assert png == progress_chart(Figures.from_json(figures().to_json()))
    assert b"tEXt" not in png and b"tIME" not in png  # no software name, no date


def test_the_chart_of_3000_units_stays_small_and_the_same_size_as_one_of_31() -> None:
    big = progress_chart(figures(units=many_units(3000), honour=["u0001"], shame=["u3000"]))
    small = progress_chart(figures(units=many_units(31), honour=["u0001"], shame=["u0031"]))

    assert png_size(big) == png_size(small)
    assert len(big) < 150_000


def test_the_chart_draws_the_bars_and_a_unit_chart_marks_its_own() -> None:
    from io import BytesIO

    from matplotlib.image import imread

    def colours(png: bytes) -> set[tuple[int, int, int]]:
        pixels = (imread(BytesIO(png))[..., :3] * 255).round().astype(int)
        return {tuple(p) for p in pixels.reshape(-1, 3).tolist()}

    scope = colours(progress_chart(figures()))
    own = colours(progress_chart(figures().for_unit("ls")))

    assert (0x00, 0xA8, 0x70) in scope and (0xCF, 0x13, 0x22) in scope  # 红榜, 黑榜
    assert (0x16, 0x5D, 0xFF) not in scope and (0x16, 0x5D, 0xFF) in own


def test_a_chart_with_no_ranked_unit_still_renders() -> None:
    f = figures(units=[unit("cq", "翠苑社区", None, 0, due=0)], honour=[], shame=[])
    assert png_size(progress_chart(f))[0] == 720


def test_without_a_chinese_font_the_chart_names_the_package_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart, "_fc", lambda *command: "/usr/share/fonts/dejavu/DejaVuSans.ttf"
                        if command[0] == "fc-match" else "")
    chart.cjk_font_file.cache_clear()
    try:
        with pytest.raises(MissingFont, match="fonts-wqy-microhei"):
            chart.cjk_font_file()
    finally:
        chart.cjk_font_file.cache_clear()


def test_a_latin_fallback_from_fontconfig_is_not_taken_for_a_chinese_font(
        monkeypatch: pytest.MonkeyPatch) -> None:
    listing = "/fonts/wqy-microhei.ttc\n/fonts/noto-cjk.ttc\n/fonts/wqy-microhei.ttc\n"
    monkeypatch.setattr(chart, "_fc", lambda *command: "/fonts/DejaVuSans.ttf"
                        if command[0] == "fc-match" else listing)
    chart.cjk_font_file.cache_clear()
    try:
        assert chart.cjk_font_file() == "/fonts/noto-cjk.ttc"
    finally:
        chart.cjk_font_file.cache_clear()


# ── from the test world ──────────────────────────────────────────────────────────────────────

def test_the_test_worlds_weekly_bulletin_reads_correctly() -> None:
    from models.rules.bulletin.figures import compute
    from models.rules.bulletin.periods import period_end, period_ending_before
    from models.store.bulletin_history import load_history
    from models.store.database import make_engine, migrate
    from tests.world import RULES, build_world

    engine = make_engine("sqlite://")
    migrate(engine)
    with Session(engine) as session:
        build_world(session)
        period = period_ending_before(PeriodKind.week, date(2025, 10, 20))
        f = compute(load_history(session=session, rules=RULES, plan=None,
                                 until=period_end(period, RULES)), period, RULES,
                    Edition.internal)

    page, plain = visible(html(f)), text(f)

    assert "督办晾晒通报（2025年第42周，10月13日—10月19日）" in bulletin_subject(f)
    for part in (page, plain):
        assert "开工建设" in part and "完成消防验收" in part and "约束性" in part
        assert "逾期8个工作日" in plain
        assert "本期无应完成事项的单位" in part and "示例区示例街道" in part
    assert ranking_rows(html(f)) == ["1 — 示例区民政局 2 0 0.0% 2 0"]
    assert png_size(progress_chart(f))[0] == 720


def test_the_email_in_one_go_is_the_three_parts_made_one_by_one() -> None:
    f = figures().for_unit("zj")

    email = bulletin_email(f, chart_src=CID, link=LINK, locale="en")

    assert email.subject == bulletin_subject(f, locale="en")
    assert email.text == bulletin_text(f, link=LINK, locale="en")
    assert email.html == bulletin_html(f, chart_src=CID, link=LINK, locale="en")


def test_the_previous_week_across_new_year_names_both_years() -> None:
    f = figures(period=Period(PeriodKind.week, date(2026, 1, 5), date(2026, 1, 11)),
                previous=Period(PeriodKind.week, date(2025, 12, 29), date(2026, 1, 4)))
    assert "与2025年12月29日—2026年1月4日相比" in visible(html(f))
    assert "与2025年12月29日—2026年1月4日相比" in text(f)
