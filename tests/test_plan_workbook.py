"""Plan workbooks without a database: the layout, the round trip, and every refusal located."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from config.plan_file import PlanFile
from config.plan_loader import PlanFileInvalid, load_plan_file, parse_plan_text
from config.plan_workbook.problems import WorkbookProblem
from config.plan_workbook.read import MAX_WORKBOOK_BYTES, load_plan_workbook, parse_plan_workbook
from config.plan_workbook.rows import sheet_rows
from config.plan_workbook.sheets import NOTE_HEADING, SHEETS, build_sheets
from config.plan_workbook.write import plan_workbook, template_workbook
from tests.conftest import SEED_PLANS
from tests.test_plan_import import DEMO, demo

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def problems_of(data: bytes, name: str = "plan.xlsx") -> list[WorkbookProblem]:
    with pytest.raises(PlanFileInvalid) as refused:
        parse_plan_workbook(data, name)
    problems = refused.value.problems
    assert all(isinstance(p, WorkbookProblem) for p in problems)
    return problems  # type: ignore[return-value]


def edited(data: bytes, **cells: Any) -> bytes:
    """The workbook with cells set: edited(data, 节点__C2="2018-02-30")."""
    book = load_workbook(io.BytesIO(data))
    for where, value in cells.items():
        title, cell = where.split("__")
        book[title][cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_every_field_of_the_plan_file_has_a_sheet_and_a_chinese_heading() -> None:
    for sheet in SHEETS:
        assert CHINESE.search(sheet.title)
        for column in sheet.columns:
            assert CHINESE.search(column.heading), f"{column.key} has no Chinese heading"
        headings = [c.heading for c in sheet.columns]
        assert len(set(headings)) == len(headings) and NOTE_HEADING not in headings


def test_a_field_added_to_the_plan_file_becomes_a_column_by_itself(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Fields others add (an assumed flag; co-units were one) need no code here, only a
    heading."""
    from config import plan_file

    class Milestone(plan_file.MilestoneEntry):
        assumed: bool = False

    class Project(plan_file.ProjectEntry):
        milestones: list[Milestone] = []  # type: ignore[assignment]

    class Plan(plan_file.PlanFile):
        projects: list[Project] = []  # type: ignore[assignment]

    monkeypatch.setattr("config.plan_workbook.sheets.PlanFile", Plan)
    milestones = next(s for s in build_sheets() if s.key == "projects.milestones")
    assert [(c.key, c.kind) for c in milestones.columns[-2:]] == [
        ("projects.milestones.co_units", "words"), ("projects.milestones.assumed", "flag")]


@pytest.mark.parametrize("path", SEED_PLANS, ids=lambda p: p.stem)
def test_each_seed_plan_comes_back_from_its_workbook_unchanged(path: Path) -> None:
    plan_file = load_plan_file(path).content
    assert parse_plan_workbook(plan_workbook(plan_file), path.name) == plan_file


def test_a_wrong_date_an_unknown_unit_and_a_missing_target_are_named_at_their_cells() -> None:
    data = edited(plan_workbook(demo().content),
                  节点__B3=None, 节点__C3="2022-02-30", 项目__D3="nowhere", 节点__D4=None)
    assert [str(p) for p in problems_of(data)] == [
        "plan.xlsx 工作表「项目」 第 3 行 D 列（责任单位代码）：代码 nowhere 不在「单位」表中：先在"
        "「单位」表中列出",
        "plan.xlsx 工作表「节点」 第 3 行 C 列（到期日）：应为日期，如 2018-06-30"
        "（填的是 “2022-02-30”）",
        "plan.xlsx 工作表「节点」 第 4 行 D 列（节点目标）：必填：请填写“节点目标”",
    ]


@pytest.mark.parametrize("typed", ["2022年6月30日", "2022/6/30", " 2022-06-30 ",
                                   datetime(2022, 6, 30)])
def test_a_date_is_read_as_people_type_it_and_coded_values_in_their_words(typed: object) -> None:
    data = edited(plan_workbook(demo().content), 节点__B3=None, 节点__C3=typed,
                  节点__E3="约束性", 单位__C3="street")
    with pytest.raises(PlanFileInvalid) as refused:
        parse_plan_workbook(data, "plan.xlsx")
    (problem,) = refused.value.problems  # the kind 'street' is neither a code nor a word
    assert str(problem).endswith(
        "单位类型）：应为 局、部门、街道、镇、办公室、其他 之一（填的是 “street”）")
    plan_file = parse_plan_workbook(edited(data, 单位__C3="街道"))
    milestone = plan_file.projects[0].milestones[1]
    assert (milestone.due, milestone.year, milestone.commitment) == (date(2022, 6, 30), None,
                                                                     "binding")


def test_a_year_typed_twice_for_one_indicator_is_refused_even_once_as_text() -> None:
    data = edited(plan_workbook(demo().content), 指标年度值__B3="2021")  # 2021 is on row 2
    (problem,) = problems_of(data)
    assert (problem.sheet, problem.row, problem.column, problem.message) == (
        "指标年度值", 3, "B", "年份 2021 已在第 2 行填过")


def test_columns_are_found_by_their_headings_and_an_unknown_heading_is_refused() -> None:
    book = load_workbook(io.BytesIO(plan_workbook(demo().content)))
    book["项目"].move_range("A1:A3", cols=20)  # 项目序号 moved to the far right
    book["指标"]["Z1"] = "指标名"
    out = io.BytesIO()
    book.save(out)
    (problem,) = problems_of(out.getvalue())
    assert (problem.sheet, problem.row, problem.column) == ("指标", 1, "Z")
    assert problem.message.startswith("不认识的列")


def test_a_value_typed_beside_the_table_is_not_silently_dropped() -> None:
    data = edited(plan_workbook(demo().content), 项目__M3="320 张")  # past 备注 (L), no heading
    (problem,) = problems_of(data)
    assert (problem.sheet, problem.row, problem.column) == ("项目", 3, "M")
    assert problem.message.startswith("这一列没有标题")


def test_a_deleted_sheet_or_required_column_is_refused_by_name() -> None:
    book = load_workbook(io.BytesIO(plan_workbook(demo().content)))
    del book["节点"]
    book["项目"].delete_cols(2)  # 项目名称
    out = io.BytesIO()
    book.save(out)
    assert sorted((p.sheet, p.message) for p in problems_of(out.getvalue())) == [
        ("节点", "缺少这张工作表：模板中的每张表都要保留，没有内容的表只留标题行"),
        ("项目", "缺少必填的列“项目名称”")]


def test_the_template_has_one_example_row_per_sheet_checks_and_notes() -> None:
    book = load_workbook(io.BytesIO(template_workbook()))
    assert book.sheetnames == [s.title for s in SHEETS]
    for sheet in SHEETS:
        ws = book[sheet.title]
        assert ws.max_row == 2 and str(ws.cell(2, len(sheet.columns) + 1).value).startswith("示例")
    checks = {str(c.sqref).split(":")[0]: c for c in book["节点"].data_validations.dataValidation}
    assert checks["E2"].formula1 == '"约束性,预期性"'  # 约束性/预期性
    assert checks["C2"].type == "date"                # 到期日
    assert checks["F2"].formula1 == "'单位'!$A$2:$A$10000"  # 责任单位代码, from the 单位 sheet
    assert "12 月 31 日" in book["节点"]["B1"].comment.text


def test_an_untouched_example_is_skipped_and_an_edited_one_refused(tmp_path: Path) -> None:
    book = load_workbook(io.BytesIO(template_workbook()))
    for sheet in SHEETS:
        for row in sheet_rows(sheet, demo().content):
            book[sheet.title].append(row)
    path = tmp_path / "filled.xlsx"
    book.save(path)
    assert load_plan_workbook(path).content == demo().content  # the example rows left out
    book["节点"]["D2"] = "完成立项"  # typed over the example, 示例 left in 备注
    book.save(path)
    with pytest.raises(PlanFileInvalid) as refused:
        load_plan_workbook(path)
    (problem,) = refused.value.problems
    assert isinstance(problem, WorkbookProblem)
    assert (problem.sheet, problem.row, problem.heading) == ("节点", 2, "备注")


def test_the_blank_template_asks_for_the_plan_and_a_unit() -> None:
    assert [str(p) for p in problems_of(template_workbook(), "t.xlsx")] == [
        "t.xlsx 工作表「规划」 第 2 行：本表应在第 2 行填写本规划的代码、名称等",
        "t.xlsx 工作表「单位」：本表至少要填一行"]


def test_text_that_looks_like_a_formula_is_written_and_read_as_text() -> None:
    content = PlanFile.model_validate(
        demo(DEMO.replace("name: 邻里中心", 'name: "=HYPERLINK(\\"http://x\\")"')).content
        .model_dump())
    data = plan_workbook(content)
    cells = [c for row in load_workbook(io.BytesIO(data))["项目"] for c in row
             if str(c.value).startswith("=")]
    assert [c.data_type for c in cells] == ["s"]
    assert parse_plan_workbook(data) == content


def _with_cached_value(data: bytes, sheet_number: int, value: str) -> bytes:
    """Give the workbook's formulas the value Excel would have saved with them."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            body = source.read(entry)
            if entry.filename == f"xl/worksheets/sheet{sheet_number}.xml":
                body = re.sub(rb"<v\s*/>|<v></v>", f"<v>{value}</v>".encode(), body)
            target.writestr(entry, body)
    return out.getvalue()


def test_formulas_are_read_as_their_values_and_one_without_a_value_is_refused() -> None:
    data = edited(plan_workbook(demo().content), 节点__B2="=2020+1")
    (problem,) = problems_of(data)
    assert (problem.sheet, problem.row, problem.column) == ("节点", 2, "B")
    assert "公式没有计算结果" in problem.message
    milestones = 1 + [s.title for s in SHEETS].index("节点")
    assert parse_plan_workbook(_with_cached_value(data, milestones, "2021")) == demo().content


def test_what_is_not_a_workbook_or_too_big_is_refused_before_it_is_read(tmp_path: Path) -> None:
    assert "不是 Excel 工作簿" in problems_of(b"plan:\n  code: x\n")[0].message
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("xl/worksheets/sheet1.xml", b"\0" * (51 * 2**20))
    assert "解压后大于 50 MB" in problems_of(packed.getvalue())[0].message
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plan_workbook(demo().content))) as source, \
            zipfile.ZipFile(bomb, "w") as target:
        for entry in source.infolist():
            body = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                body = (f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">{laughs}]>'
                        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                        'main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t>'
                        "</is></c></row></sheetData></worksheet>").encode()
            target.writestr(entry, body)
    assert "无法作为 Excel 工作簿读取" in problems_of(bomb.getvalue())[0].message
    huge = tmp_path / "huge.xlsx"
    huge.write_bytes(b"\0" * (MAX_WORKBOOK_BYTES + 1))
    with pytest.raises(PlanFileInvalid, match="大于 5 MB"):
        load_plan_workbook(huge)


# -- malformed workbooks ------------------------------------------------------------------------

BASE = {sheet.title: [[c.heading for c in sheet.columns] + [NOTE_HEADING],
                      *(row + [None] for row in sheet_rows(sheet, demo().content))]
        for sheet in SHEETS}
TITLES = list(BASE)
values = st.one_of(
    st.none(), st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=8),
    st.sampled_from(["=1+1", "#N/A", "示例", "约束性", "2021",
                                                     "demo-mzj", "1", "2020-13-01", " "]),
    st.integers(-10, 3000), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.dates(date(1900, 1, 1), date(2200, 1, 1)),
    st.datetimes(datetime(1950, 1, 1), datetime(2150, 1, 1)))
edit = st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(TITLES), st.integers(0, 6), st.integers(0, 12),
              values),
    st.tuples(st.just("drop sheet"), st.sampled_from(TITLES)),
    st.tuples(st.just("drop column"), st.sampled_from(TITLES), st.integers(0, 12)),
    st.tuples(st.just("drop row"), st.sampled_from(TITLES), st.integers(0, 6)))


def _malformed(edits: list[tuple[Any, ...]]) -> bytes:
    tables = {title: [list(row) for row in rows] for title, rows in BASE.items()}
    for kind, title, *where in edits:
        rows = tables.get(title)
        if rows is None:
            continue
        if kind == "drop sheet":
            del tables[title]
        elif kind == "drop column":
            for row in rows:
                del row[where[0]:where[0] + 1]
        elif kind == "drop row":
            del rows[where[0]:where[0] + 1]
        else:
            row, column, value = where
            while len(rows) <= row:
                rows.append([])
            rows[row] += [None] * (column + 1 - len(rows[row]))
            rows[row][column] = value
    book = Workbook(write_only=True)
    for title, rows in tables.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_list_where_a_commitment_belongs_is_refused_not_a_crash() -> None:
    """Found by the test below: the commitment check looked a list up in a dict."""
    with pytest.raises(PlanFileInvalid, match=r"indicators\[0\]\.commitment"):
        parse_plan_text(DEMO.replace("commitment: binding", "commitment: [binding]"))


@settings(max_examples=40, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edit, min_size=1, max_size=5))
def test_a_malformed_workbook_is_read_or_refused_at_its_places(edits: list[tuple[Any, ...]],
                                                               ) -> None:
    data = _malformed(edits)
    try:
        parse_plan_workbook(data, "plan.xlsx")
    except PlanFileInvalid as refused:
        for problem in refused.problems:
            assert isinstance(problem, WorkbookProblem) and problem.sheet, str(problem)
            assert CHINESE.search(problem.message), str(problem)
