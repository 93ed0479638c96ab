"""The seed plans hold every row of the documents' machine-readable tables, cell for cell.

Each test reads a table straight from the documents (docs/seeds) and compares it with the plan
file, so a transcription slip (a missed row, a changed number, a lost unit or attribute) fails
here. The tables of seeds 000 and 001 survive in the text as tab-separated rows; 003's as one
tab-indented cell a line; 002's and 004's as one cell a line, without the empty cells (the
parsers below say how each is read back).
"""

from __future__ import annotations

import re

import pytest

from config.plan_file import IndicatorEntry, PlanFile
from config.plan_loader import load_plan_file
from models.rules.quantity import UNITS
from tests.conftest import HANDED_OVER, REPO, SEED_DOCUMENTS

pytestmark = pytest.mark.usefixtures("seed_documents")

DASHES = {"", "—", "--", "-", "_"}
ATTRIBUTES = {"约束": "binding", "约束性": "binding", "预期": "expected", "预期性": "expected"}


def seed_text(prefix: str, start: str, end: str | None) -> str:
    """The text of a seed from the last ``start`` to the ``end`` after it."""
    (path,) = SEED_DOCUMENTS.glob(f"{prefix}_*.txt")
    text = path.read_text(encoding="utf-8")
    body = text[text.rindex(start):]
    return body[: body.index(end)] if end else body


def seed_rows(prefix: str, start: str, end: str | None, sub_rows: bool = False
              ) -> list[list[str]]:
    """Tab-separated rows that start with a row number (or a tab: a sub-row), between two
    headings of a seed."""
    row = r"^(\d+)?\t" if sub_rows else r"^\d+\t"
    return [line.split("\t") for line in seed_text(prefix, start, end).splitlines()
            if re.match(row, line)]


def seed_lines(prefix: str, start: str, end: str | None) -> list[str]:
    """The non-empty lines between two headings, stripped: 002's and 004's flattened tables."""
    return [line.strip() for line in seed_text(prefix, start, end).splitlines() if line.strip()]


def plan(code: str) -> PlanFile:
    return load_plan_file(REPO / "config" / "plans" / f"{code}.yaml").content


def name_and_measure(label: str) -> tuple[str, str | None]:
    match = re.match(r"^(.*?)\s*[（(]([^（()）]+)[)）]$", label.strip())
    return (match[1], match[2]) if match else (label.strip(), None)


def cell(text: str | int | float | None) -> float | str | None:
    """A cell as the document prints it, or as the plan file writes it, in one form."""
    if text is None or isinstance(text, int | float):
        return None if text is None else float(text)
    text = text.strip()
    if text in DASHES:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def test_xihu_indicators_match_attachment_1() -> None:
    rows = seed_rows("000", "附件 1\n", "附件 2\n")
    indicators = {i.code: i for i in plan("xihu-2016-2020").indicators}
    assert sorted(indicators, key=int) == [row[0] for row in rows] == [str(n) for n in range(1, 21)]
    for number, label, base, *yearly, attribute in rows:
        indicator = indicators[number]
        assert (indicator.name, indicator.measure) == name_and_measure(label)
        assert indicator.baseline and indicator.baseline.year == 2015
        assert indicator.baseline.value == cell(base)
        expected = {year: cell(v) for year, v in zip((2016, 2017, 2018, 2020), yearly, strict=True)
                    if cell(v) is not None}
        assert indicator.targets == expected, number
        assert indicator.commitment == ATTRIBUTES[attribute.strip()]


def test_xihu_key_projects_match_attachment_2() -> None:
    rows = seed_rows("000", "附件 2\n", "报：")
    projects = {p.code: p for p in plan("xihu-2016-2020").projects}
    assert list(projects) == [row[0] for row in rows] == [str(n) for n in range(1, 21)]
    for number, name, content, *yearly in rows:
        project = projects[number]
        assert (project.name, project.description) == (name.strip(), content.strip())
        expected = [(year, target.strip()) for year, target in
                    zip((2016, 2017, 2018, 2020), yearly, strict=True)
                    if target.strip() not in DASHES]
        assert [(m.due_on.year, m.target) for m in project.milestones] == expected, number
        assert all(m.due_on.month == 12 and m.due_on.day == 31 for m in project.milestones)


def test_shangcheng_14th_plan_indicators_match_table_2() -> None:
    rows = seed_rows("001", "表 2：", "（四）")
    indicators = {i.code: i for i in plan("shangcheng-2021-2025").indicators}
    assert len(rows) == 10
    for number, label, done_2020, target_2025, growth, *attribute in rows:
        indicator = indicators[f"T2-{number}"]
        assert (indicator.name, indicator.measure) == name_and_measure(label)
        assert indicator.baseline and indicator.baseline.value == cell(done_2020)
        assert indicator.targets == {2025: cell(target_2025)}
        if cell(growth) is not None:
            assert cell(str(indicator.facts["年均增速(%)"])) == cell(growth)
        assert indicator.commitment == ATTRIBUTES.get("".join(attribute).strip())


def test_shangcheng_major_projects_match_attachment_1() -> None:
    rows = seed_rows("001", "上城民政系统“十四五”期间重大项目清单", "附件 2")
    content = plan("shangcheng-2021-2025")
    units = {u.code: u.name for u in content.units}
    projects = {p.code: p for p in content.projects}
    assert list(projects) == [row[0] for row in rows] == [str(n) for n in range(1, 13)]
    for number, unit, name, area, investment in rows:
        project = projects[number]
        assert project.name == name.strip()
        assert units[project.unit].endswith(unit.strip().removeprefix("区"))
        assert (project.floor_area_m2, project.investment_wan_yuan) == (cell(area),
                                                                         cell(investment))
        assert [m.due_on.isoformat() for m in project.milestones] == ["2025-12-31"]


def test_the_documents_kept_here_are_the_ones_handed_over() -> None:
    if not HANDED_OVER.is_dir():
        pytest.skip(f"no {HANDED_OVER} beside this clone to compare docs/seeds with")
    kept = {p.name: p.read_bytes() for p in SEED_DOCUMENTS.glob("*.txt")}
    assert kept == {p.name: p.read_bytes() for p in HANDED_OVER.glob("*.txt")}


def test_every_seed_document_has_a_plan_file() -> None:
    sources = {load_plan_file(path).content.plan.source for path in
               (REPO / "config" / "plans").glob("*.yaml")}
    assert sources == {path.name for path in SEED_DOCUMENTS.glob("*.txt")}


def test_shangcheng_13th_plan_results_match_table_1() -> None:
    """表1 is carried as baselines (2015 完成值) and actual values (2020 实际值), no targets; a row
    whose label prints no unit takes the unit 表2 prints for the same indicator."""
    rows = seed_rows("001", "表 1：", "(二) 发展环境", sub_rows=True)
    table_2 = dict(name_and_measure(row[1]) for row in seed_rows("001", "表 2：", "（四）"))
    indicators = {i.code: i for i in plan("shangcheng-2021-2025").indicators
                  if i.code.startswith("T1-")}
    codes: list[str] = []
    for number, label, done_2015, actual_2020, growth in rows:
        codes.append(f"T1-{number}" if number else f"{codes[-1]}b")
        indicator = indicators[codes[-1]]
        name, measure = name_and_measure(label)
        assert (indicator.name, indicator.measure) == (name, measure or table_2[name])
        assert indicator.baseline and indicator.baseline.year == 2015
        assert cell(indicator.baseline.value) == cell(done_2015)
        assert {y: cell(v) for y, v in indicator.actuals.items()} == {2020: cell(actual_2020)}
        assert indicator.targets == {} and indicator.commitment is None
        assert cell(indicator.facts.get("年均增速(%)")) == cell(growth)
    assert sorted(codes) == sorted(indicators)


def xicheng_table(start: str, end: str) -> list[tuple[str, str, str, str]]:
    """003's tables: one tab-indented cell a line, a blank line between rows; a cell printed
    wrapped over two lines goes on without the tab. Rows of (类别, 指标, first, second year)."""
    cells: list[str] = []
    for line in seed_text("003", start, end).splitlines()[1:]:
        if line.startswith("\t"):
            cells.append(line.strip())
        elif line.strip():
            cells[-1] += line.strip()  # 基层政权 / 和社区建设
    body = cells[4:]  # the header: 类别, 指标, and the two years
    assert len(body) % 4 == 0
    rows = []
    category = ""
    for i in range(0, len(body), 4):
        name, label, first, second = body[i:i + 4]
        category = name or category
        rows.append((category, label, first, second))
    return rows


@pytest.mark.parametrize(("start", "end", "prefix", "years", "series"), [
    ("“十三五”期间西城区民政事业发展主要指标\n", "第三部分", "", (2015, 2020), "targets"),
    ("“十二五”期间西城区民政事业发展主要数据一览表\n", "二、面临的挑战", "十二五-", (2010, 2015),
     "actuals"),
], ids=["十三五", "十二五"])
def test_xicheng_tables_match_the_document(start: str, end: str, prefix: str,
                                           years: tuple[int, int], series: str) -> None:
    """The 十三五 table gives baselines and targets; the 十二五 results, baselines and actual
    values. Neither has a 指标属性 column: no commitment."""
    rows = xicheng_table(start, end)
    indicators = {i.code: i for i in plan("xicheng-2016-2020").indicators
                  if i.code.startswith(prefix) and (prefix or i.code.isdigit())}
    assert sorted(indicators) == sorted(f"{prefix}{n}" for n in range(1, len(rows) + 1))
    for number, (category, label, first, second) in enumerate(rows, start=1):
        indicator = indicators[f"{prefix}{number}"]
        assert indicator.table == start.strip()
        assert (indicator.category, indicator.name, indicator.measure) == \
            (category, *name_and_measure(label))
        assert indicator.baseline and indicator.baseline.year == years[0]
        assert cell(indicator.baseline.value) == cell(first)
        values = getattr(indicator, series)
        assert {y: cell(v) for y, v in values.items()} == {years[1]: cell(second)}
        assert indicator.commitment is None
    assert "指标属性" not in seed_text("003", "", None)


def xiaoshan_label(indicator: IndicatorEntry) -> str:
    """The 主要指标 cell as printed: kept in facts where it is a sentence, else name(unit)."""
    printed = indicator.facts.get("主要指标")
    if printed is not None:
        return str(printed)
    return f"{indicator.name}({indicator.measure})" if indicator.measure else indicator.name


def xiaoshan_cells(indicator: IndicatorEntry) -> dict[int, float | str | None]:
    """The five cells after the indicator's label in the work list: 2021 to 2025."""
    lines = seed_lines("002", "萧山区民政系统打造共同富裕示范区民政样板工作清单", None)
    at = lines.index(xiaoshan_label(indicator))
    return {year: cell(text) for year, text in zip(range(2021, 2026), lines[at + 1:at + 6],
                                                    strict=True)}


def test_xiaoshan_indicators_match_the_work_list() -> None:
    """The 2021 column is the baseline, 2022–2025 the targets; no 指标属性 is given."""
    content = plan("xiaoshan-2022-2025")
    assert "指标属性" not in seed_text("002", "", None)
    for indicator in content.indicators:
        cells = xiaoshan_cells(indicator)
        assert indicator.baseline and indicator.baseline.year == 2021
        assert cell(indicator.baseline.value) == cells.pop(2021), indicator.code
        assert {y: cell(v) for y, v in indicator.targets.items()} == \
            {y: v for y, v in cells.items() if v is not None}, indicator.code
        assert indicator.commitment is None
    for project in content.projects:
        assert all(m.commitment is None for m in project.milestones)


def test_xiaoshan_milestones_state_each_yearly_target_once() -> None:
    """A milestone states one thing: a 主要指标 row's target for its year, with its unit, or a
    dated goal, phase or yearly text printed in the document. Every yearly target of the work
    list is one milestone, in the year it is due."""
    content = plan("xiaoshan-2022-2025")
    text = seed_text("002", "萧山区民政系统打造共同富裕示范区民政样板工作清单", None)
    stated: list[tuple[str, int, str]] = []
    for indicator in content.indicators:
        for year, value in xiaoshan_cells(indicator).items():
            if year > 2021 and value is not None and indicator.project != "6":
                shown = str(int(value) if isinstance(value, float) and value.is_integer()
                            else value)
                unit = indicator.measure or ""
                stated.append((str(indicator.project), year, f"{indicator.name}：{shown}"
                               f"{'' if shown.endswith(unit) else unit}"))
    targets = []
    for project in content.projects:
        for milestone in project.milestones:
            assert "；" not in milestone.target and milestone.assumption is None
            if milestone.target in text:  # printed as one statement: a goal, phase or text cell
                assert str(milestone.due_on.year) in milestone.target or project.code == "6"
            else:
                targets.append((project.code, milestone.due_on.year, milestone.target))
    assert sorted(targets) == sorted(stated)
    sixth = next(i for i in content.indicators if i.project == "6")
    assert [m.target for m in content.projects[5].milestones] == \
        [v for y, v in xiaoshan_cells(sixth).items() if y > 2021]


def zhejiang_rows() -> list[tuple[str, str, str | None, list[str], str | None]]:
    """004's table, one cell a line and the empty cells left out: a row starts at its 序号 and
    reads name, unit (if printed), values, attribute. Rows 8 and 12 split into sub-rows at their
    qualified 单位 cells ("城市(%)"), numbered 8-1, 8-2; a sub-row without an attribute shares
    the one printed above it (a merged cell). Rows of (code, name, 单位, values, attribute)."""
    lines = seed_lines("004", "浙江省社会福利事业“十三五”发展指标\n", "三、提升特定对象")
    lines = lines[lines.index("指标属性") + 1:]
    rows: list[tuple[str, str, str | None, list[str], str | None]] = []
    number = 0
    for line in lines:
        if line == str(number + 1):
            number += 1
            rows.append((line, "", None, [], None))
            continue
        code, name, unit, values, attribute = rows[-1]
        if not name:
            rows[-1] = (code, line, None, [], None)
        elif re.fullmatch(r"\S+\((\S+)\)", line):  # a sub-row
            if unit is not None and "(" in unit:
                rows.append((code, name, line, [], None))
            else:
                rows[-1] = (code, name, line, [], None)
        elif line in ATTRIBUTES:
            rows[-1] = (code, name, unit, values, line)
        elif line in UNITS:
            rows[-1] = (code, name, line, values, attribute)
        else:
            rows[-1] = (code, name, unit, [*values, line], attribute)
    numbered: list[tuple[str, str, str | None, list[str], str | None]] = []
    for code, name, unit, values, attribute in rows:
        subs = sum(1 for r in rows if r[0] == code)
        if subs > 1:
            qualifier = unit.split("(")[0] if unit else ""
            code, name = f"{code}-{sum(1 for r in numbered if r[0].startswith(code + '-')) + 1}",\
                f"{name}({qualifier})"
            attribute = attribute or (numbered[-1][4] if numbered[-1][0].startswith(
                code.split("-")[0] + "-") else None)
        numbered.append((code, name, unit, values, attribute))
    return numbered


def test_zhejiang_indicators_match_the_development_table() -> None:
    """Two values are 2015 and 2020; a single value is the 2020 target (the text gives each
    one as a target for 2020). An empty 单位 cell is filled with a unit the document uses."""
    rows = zhejiang_rows()
    indicators = {i.code: i for i in plan("zhejiang-welfare-2016-2020").indicators}
    assert sorted(indicators) == sorted(code for code, *_ in rows)
    assert len({code.split("-")[0] for code, *_ in rows}) == 16
    for code, name, unit, values, attribute in rows:
        indicator = indicators[code]
        assert indicator.name == name
        if unit is not None and "(" in unit:
            assert indicator.facts["单位"] == unit
            unit = unit.split("(")[1].rstrip(")")
        assert indicator.measure == unit if unit else indicator.measure in UNITS, code
        assert indicator.commitment == ATTRIBUTES[attribute or ""], code
        *baseline, target = values
        assert indicator.baseline and indicator.baseline.year == 2015
        assert [cell(indicator.baseline.value)] == [cell(v) for v in baseline] or \
            (baseline == [] and indicator.baseline.value is None)
        assert {y: cell(v) for y, v in indicator.targets.items()} == {2020: cell(target)}


def test_milestones_without_a_date_in_the_document_are_marked_assumed() -> None:
    """Seeds 001, 003 and 004 list projects without a date column: each milestone is assumed
    due at the end of the plan period, with the reason. The yearly columns of 000 and 002 date
    every milestone: none of theirs is assumed."""
    assert "年" not in seed_rows("001", "上城民政系统“十四五”期间重大项目清单", "附件 2")[0][0]
    for code in ("shangcheng-2021-2025", "xicheng-2016-2020", "zhejiang-welfare-2016-2020"):
        content = plan(code)
        for project in content.projects:
            for milestone in project.milestones:
                assert milestone.assumption and "规划期末" in milestone.assumption
                assert milestone.due_on.year == content.plan.end_year
    for code in ("xihu-2016-2020", "xiaoshan-2022-2025"):
        assert all(m.assumption is None for p in plan(code).projects for m in p.milestones)
