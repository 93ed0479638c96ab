"""The seed plans hold every row of the documents' machine-readable tables, cell for cell.

The tables of seeds 000 and 001 survive in the text as tab-separated rows; this test reads
them straight from ../shared/seeds and compares each with the plan files, so a transcription
slip (a missed row, a changed number, a lost attribute) fails here. The flattened tables of
002–004 are checked by the spot checks in test_plan_import and test_cli.
"""

from __future__ import annotations

import re

import pytest

from config.plan_file import PlanFile
from config.plan_loader import load_plan_file
from tests.conftest import REPO, SEED_DOCUMENTS

pytestmark = pytest.mark.usefixtures("seed_documents")

DASHES = {"", "—", "--", "-"}
ATTRIBUTES = {"约束": "binding", "约束性": "binding", "预期": "expected", "预期性": "expected"}


def seed_rows(prefix: str, start: str, end: str | None) -> list[list[str]]:
    """Tab-separated rows that start with a row number, between two headings of a seed."""
    (path,) = SEED_DOCUMENTS.glob(f"{prefix}_*.txt")
    text = path.read_text(encoding="utf-8")
    body = text[text.rindex(start):]
    body = body[: body.index(end)] if end else body
    return [line.split("\t") for line in body.splitlines() if re.match(r"^\d+\t", line)]


def plan(code: str) -> PlanFile:
    return load_plan_file(REPO / "config" / "plans" / f"{code}.yaml").content


def name_and_measure(label: str) -> tuple[str, str | None]:
    match = re.match(r"^(.*?)\s*[（(]([^（()）]+)[)）]$", label.strip())
    return (match[1], match[2]) if match else (label.strip(), None)


def cell(text: str) -> float | str | None:
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


def test_every_seed_document_has_a_plan_file() -> None:
    sources = {load_plan_file(path).content.plan.source for path in
               (REPO / "config" / "plans").glob("*.yaml")}
    assert sources == {path.name for path in SEED_DOCUMENTS.glob("*.txt")}
