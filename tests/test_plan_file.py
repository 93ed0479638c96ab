"""A clerk's plan file: what is accepted, and how mistakes are reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.plan_loader import (
    MAX_PLAN_FILE_BYTES,
    PlanFileInvalid,
    load_plan_file,
    parse_plan_text,
)
from config.yaml_source import MAX_NESTING_DEPTH
from models.rules.plan_stored import entry_cells
from models.rules.quantity import Qualifier, Quantity, indicator_unit, parse_cell
from tests.conftest import SEED_PLANS

GOOD = """\
plan:
  code: demo-2021-2025
  name: 示例区民政事业发展“十四五”规划
  issuer: 示例区民政局
  period: 2021-2025
units:
  - code: demo-mzj
    name: 示例区民政局
    kind: bureau
projects:
  - code: "1"
    name: 区社会福利中心二期工程
    unit: demo-mzj
    milestones:
      - year: 2021
        target: 完成立项
      - due: 2022-06-30
        target: 开工建设
        commitment: 约束性
indicators:
  - code: "1"
    name: 每百名老人机构养老床位数
    measure: 张
    baseline: {year: 2020, value: 4.22}
    targets: {2021: 4.25, 2025: "25 以上"}
    commitment: 预期
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(PlanFileInvalid) as caught:
        parse_plan_text(text, "demo.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_well_formed_file_reads_with_dates_and_chinese_attributes() -> None:
    plan = parse_plan_text(GOOD)
    milestones = plan.projects[0].milestones
    assert [m.due_on.isoformat() for m in milestones] == ["2021-12-31", "2022-06-30"]
    assert milestones[1].commitment == "binding"
    assert plan.indicators[0].commitment == "expected"
    assert plan.indicators[0].targets == {2021: 4.25, 2025: "25 以上"}


@pytest.mark.parametrize(("edit", "expected"), [
    (("    name: 区社会福利中心二期工程\n", "    nmae: 区社会福利中心二期工程\n"),
     "demo.yaml:12: projects[0].nmae: unknown field (a typo?)"),
    (("    unit: demo-mzj\n", "    unit: nowhere\n"),
     "demo.yaml:13: projects[0].unit: unit 'nowhere' is not declared under `units:`"),
    (("      - due: 2022-06-30\n", "      - due: 2022/06/30\n"),
     "demo.yaml:17: projects[0].milestones[1].due: Input should be a valid date"),
    (("      - year: 2021\n", "      - year: 2031\n"),
     "demo.yaml:15: projects[0].milestones[0].year: due 2031-12-31 lies outside the plan "
     "period 2021-2025"),
    (("        commitment: 约束性\n", "        commitment: 必须\n"),
     "demo.yaml:19: projects[0].milestones[1].commitment: expected binding (约束性) or expected"),
    (("  period: 2021-2025\n", "  period: 2025-2021\n"),
     "demo.yaml:1: plan: period 2025-2021: the first year comes after the last"),
    (("    targets: {2021: 4.25", "    targets: {2021: [4.25]"),
     "demo.yaml:25: indicators[0].targets[2021]: expected a number or a text, got a list"),
])
def test_each_mistake_is_named_with_its_line_and_field(edit: tuple[str, str],
                                                        expected: str) -> None:
    text = GOOD.replace(*edit)
    assert text != GOOD
    assert any(p.startswith(expected) for p in problems_of(text)), problems_of(text)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = GOOD.replace("  issuer: 示例区民政局\n", "").replace("kind: bureau", "kind: ministry")
    problems = problems_of(text)
    assert problems[0] == "demo.yaml:1: plan.issuer: required field is missing"
    assert problems[1].startswith("demo.yaml:8: units[0].kind: Input should be 'bureau'")


def test_duplicate_indicator_code_is_refused_with_the_second_line() -> None:
    text = GOOD + GOOD[GOOD.index("  - code: \"1\"\n    name: 每百"):]
    assert problems_of(text) == [
        "demo.yaml:27: indicators[1].code: indicator code '1' is used twice"]


def test_yaml_syntax_errors_name_the_line() -> None:
    text = GOOD.replace("    measure: 张\n", "    measure: [张\n")
    (problem,) = problems_of(text)
    assert problem.startswith("demo.yaml:24: YAML syntax:")


def test_an_impossible_date_is_named_with_its_line() -> None:
    (problem,) = problems_of(GOOD.replace("due: 2022-06-30", "due: 2022-02-30"))
    assert problem.startswith("demo.yaml:17: YAML syntax: impossible date:")


def test_yaml_1_1_booleans_stay_text() -> None:
    plan = parse_plan_text(GOOD.replace("target: 完成立项", "target: yes"))
    assert plan.projects[0].milestones[0].target == "yes"


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(GOOD.encode("gb18030"))
    with pytest.raises(PlanFileInvalid) as caught:
        load_plan_file(path)
    assert str(caught.value).startswith(f"{path}:3: is not UTF-8 text")


@pytest.mark.parametrize(("cell", "quantity"), [
    (4.22, Quantity(4.22)),
    (13224, Quantity(13224.0)),
    ("25 以上", Quantity(25.0, Qualifier.at_least, "25 以上")),
    (">11000", Quantity(11000.0, Qualifier.more_than, ">11000")),
    ("≥60%", Quantity(60.0, Qualifier.at_least, "≥60%", "%")),
    ("36%", Quantity(36.0, None, "36%", "%")),
    ("36％", Quantity(36.0, None, "36％", "%")),
    ("0.46‰", Quantity(0.46, None, "0.46‰", "‰")),
    ("28人", Quantity(28.0, None, "28人", "人")),
    ("1.92万个", Quantity(1.92, None, "1.92万个", "万个")),
    ("65%以上", Quantity(65.0, Qualifier.at_least, "65%以上", "%")),
    ("服务半径 全覆盖", Quantity(None, None, "服务半径 全覆盖")),
    ("不少于 2.3", Quantity(2.3, Qualifier.at_least, "不少于 2.3")),
])
def test_a_cells_number_is_read_and_its_words_kept(cell: int | float | str,
                                                    quantity: Quantity) -> None:
    assert parse_cell(cell) == quantity


@pytest.mark.parametrize(("cell", "measure", "quantity"), [
    (4.22, "张", Quantity(4.22, unit="张")),
    (">11000", "元/人、年", Quantity(11000.0, Qualifier.more_than, ">11000", "元/人、年")),
    ("2.3万个", "万个", Quantity(2.3, None, "2.3万个", "万个")),
    ("50%", "个", Quantity(50.0, None, "50%", "%")),  # the importer refuses this mismatch
    ("28", "人", Quantity(28.0, None, "28", "人")),
])
def test_a_number_without_a_printed_unit_is_in_the_measure(
        cell: int | float | str, measure: str, quantity: Quantity) -> None:
    assert parse_cell(cell, measure) == quantity


# Fuzzing: replace any one line of a valid file with arbitrary text, or cut the file anywhere.
# Whatever comes out, it is either a valid plan or a PlanFileInvalid whose every problem names
# the file; never another exception.
_LINES = GOOD.splitlines(keepends=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(_LINES) - 1),
       replacement=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
       cut=st.integers(0, len(GOOD)))
def test_malformed_files_get_a_clear_error_and_never_crash(index: int, replacement: str,
                                                           cut: int) -> None:
    for text in ("".join(_LINES[:index] + [replacement + "\n"] + _LINES[index + 1:]),
                 GOOD[:cut]):
        try:
            parse_plan_text(text, "fuzz.yaml")
        except PlanFileInvalid as exc:
            assert exc.problems
            assert all(str(p).startswith("fuzz.yaml") and p.message for p in exc.problems)


@pytest.mark.parametrize(("nesting", "line"), [
    ("facts: " + "[" * 300 + "]" * 300, 14),  # a flow list inside a list, 300 deep, on one line
    ("facts:\n" + "".join(" " * (4 + 2 * depth) + f"k{depth}:\n" for depth in range(300))
     + " " * 604 + "v: 1", 14 + MAX_NESTING_DEPTH - 1),  # block mappings: the 21st level's line
])
def test_nesting_past_the_limit_is_refused_naming_the_line(nesting: str, line: int) -> None:
    text = GOOD.replace("    milestones:", f"    {nesting}\n    milestones:", 1)
    (problem,) = problems_of(text)
    assert problem == (f"demo.yaml:{line}: YAML syntax: nested more than {MAX_NESTING_DEPTH} "
                       "levels deep")


def test_a_plan_file_as_deep_as_the_limit_still_reads() -> None:
    """The limit counts every level: under the root, projects, a project and its facts, a
    fact's value nested to the limit is a schema error (not a number or text), not a refusal."""
    nesting = "facts: {k: " + "[" * (MAX_NESTING_DEPTH - 4) + "]" * (MAX_NESTING_DEPTH - 4) + "}"
    problems = problems_of(GOOD.replace("    milestones:", f"    {nesting}\n    milestones:", 1))
    assert problems and all("nested more than" not in p for p in problems)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD + "# padding\n" * (MAX_PLAN_FILE_BYTES // 10), encoding="utf-8")
    with pytest.raises(PlanFileInvalid) as caught:
        load_plan_file(path)
    assert str(caught.value) == (f"{path}: is larger than 5 MB, the most a plan file may hold: "
                                 "split it into one file per plan")


def test_a_complex_key_is_named_with_its_line() -> None:
    text = "".join(_LINES[:9] + ["?\n"] + _LINES[10:])  # found by the fuzz test above
    assert problems_of(text) == [
        "demo.yaml:10: YAML syntax: a key must be plain text, not a list or a map"]


@pytest.mark.parametrize("path", SEED_PLANS, ids=lambda p: p.stem)
def test_every_number_in_a_seed_plan_has_its_unit(path: Path) -> None:
    """Every cell with a number that is not a sentence is read as that number, in the unit of
    its indicator ("0.46‰" is 0.46 ‰); only words ("服务半径 全覆盖") and sentences are not."""
    for indicator in load_plan_file(path).content.indicators:
        cells = entry_cells(indicator)
        unit = indicator_unit(indicator.measure, cells)
        for value in cells:
            quantity = parse_cell(value, unit)
            if quantity.value is None:
                sentence = len(re.findall(r"[\u4e00-\u9fff]", str(value))) >= 12
                assert sentence or not re.search(r"\d", str(value)), (indicator.code, value)
            else:
                assert quantity.unit == unit, (indicator.code, value)
