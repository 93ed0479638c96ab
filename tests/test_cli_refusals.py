"""What the command line refuses, and how it says so: every refusal exits 2 with a message that
names what was wrong, and changes nothing (issue 15, items 8 and 9)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from config.plan_loader import MAX_PLAN_FILE_BYTES
from config.yaml_source import MAX_NESTING_DEPTH
from tests.conftest import SEED_PLANS, Duban, snapshot


@pytest.fixture
def engine(duban: Duban, database_url: str) -> Iterator[sa.Engine]:
    """The initialised database of this test (seed plans imported), to compare before/after."""
    assert duban("init").exit_code == 0
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def _deep_plan(tmp_path: Path) -> Path:
    """A seed plan whose first project's facts hold a list nested 300 deep."""
    path = tmp_path / "deep.yaml"
    text = SEED_PLANS[0].read_text(encoding="utf-8")
    path.write_text(text.replace("projects:\n", "projects:\n  - facts: " + "[" * 300
                                 + "]" * 300 + "\n", 1), encoding="utf-8")
    return path


def _oversize_plan(tmp_path: Path) -> Path:
    path = tmp_path / "huge.yaml"
    text = SEED_PLANS[0].read_text(encoding="utf-8")
    path.write_text(text + "# 填充\n" * (MAX_PLAN_FILE_BYTES // 8), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["validate", "import"])
def test_a_plan_nested_300_deep_is_refused_naming_file_and_line(
        duban: Duban, engine: sa.Engine, tmp_path: Path, command: str) -> None:
    before = snapshot(engine)
    deep = _deep_plan(tmp_path)
    line = deep.read_text(encoding="utf-8").splitlines().index(
        "  - facts: " + "[" * 300 + "]" * 300) + 1
    result = duban("plans", command, str(deep))
    assert result.exit_code == 2
    assert (f"{deep}:{line}: YAML syntax: nested more than {MAX_NESTING_DEPTH} levels deep"
            in result.output)
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    assert "数据库未作任何改动" in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize("command", ["validate", "import"])
def test_a_plan_file_over_5_mb_is_refused_naming_it(
        duban: Duban, engine: sa.Engine, tmp_path: Path, command: str) -> None:
    before = snapshot(engine)
    huge = _oversize_plan(tmp_path)
    result = duban("plans", command, str(SEED_PLANS[1]), str(huge))
    assert result.exit_code == 2
    assert f"{huge}: is larger than 5 MB, the most a plan file may hold" in result.output
    assert "数据库未作任何改动" in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize(("args", "message"), [
    (["status", "--plan", "nowhere"], "--plan: 没有代码为 'nowhere' 的规划"),
    (["status", "--unit", "nowhere"], "--unit: 没有代码为 'nowhere' 的单位"),
    (["status", "--plan", "nowhere", "--json"], "--plan: 没有代码为 'nowhere' 的规划"),
    (["people", "list", "--unit", "nowhere"], "--unit: 没有代码为 'nowhere' 的单位"),
    (["people", "list", "--role", "boss"], "--role: 'boss' 不是角色"),
    (["bulletin", "list", "--plan", "nowhere"], "--plan: 没有代码为 'nowhere' 的规划"),
])
def test_an_unknown_plan_unit_or_role_is_an_error_not_an_empty_answer(
        duban: Duban, engine: sa.Engine, args: list[str], message: str) -> None:
    result = duban(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_known_codes_still_filter(duban: Duban, engine: sa.Engine) -> None:
    rows = json.loads(duban("status", "--plan", "xihu-2016-2020", "--as-of", "2017-01-05",
                            "--json").output)["milestones"]
    assert rows and {r["plan"] for r in rows} == {"xihu-2016-2020"}
    assert duban("bulletin", "list", "--plan", "*").exit_code == 0
    assert duban("people", "list", "--role", "office").exit_code == 0


@pytest.mark.parametrize("day", ["20190101", "2019-1-1", "2019-W01-2", "2019-01-01T00:00",
                                 "２０１９-０１-０１", "2019-02-30"])
def test_as_of_takes_only_yyyy_mm_dd(duban: Duban, engine: sa.Engine, day: str) -> None:
    for command in (["status"], ["sweep", "--dry-run"]):
        result = duban(*command, "--as-of", day)
        assert result.exit_code == 2, result.output
        assert f"--as-of: {day!r} is not a date: expected YYYY-MM-DD" in result.output
    assert duban("status", "--as-of", "2019-01-01").exit_code == 0


def test_a_heads_unit_that_is_not_yes_or_no_is_refused_with_its_line(
        duban: Duban, engine: sa.Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    people = tmp_path / "people.csv"
    people.write_text("name,email,role,unit,heads_unit\n"
                      "王芳,wang.fang@example.gov.cn,owner,xihu-mzj,YES\n"
                      "李强,li.qiang@example.gov.cn,owner,xihu-mzj,maybe\n", encoding="utf-8")
    bad = duban("people", "import", str(people))
    assert bad.exit_code == 2
    assert (f"{people}:3: heads_unit: expected yes/no, true/false, 1/0 or 是/否, got 'maybe'"
            in bad.output)
    assert snapshot(engine) == before

    people.write_text(people.read_text(encoding="utf-8").replace("maybe", "否"),
                      encoding="utf-8")
    assert duban("people", "import", str(people)).exit_code == 0
    listed = {p["email"]: p["heads_unit"] for p in json.loads(
        duban("people", "list", "--json").output)}
    assert listed["wang.fang@example.gov.cn"] is True
    assert listed["li.qiang@example.gov.cn"] is False


def test_a_database_behind_the_migrations_is_sent_to_init_and_left_alone(
        duban: Duban, engine: sa.Engine) -> None:
    from alembic import command

    from models.store.database import alembic_config

    command.downgrade(alembic_config(engine), "0007")

    def stored() -> list[tuple[object, ...]]:  # the old schema: not readable by the models
        with engine.connect() as connection:
            return [tuple(r) for r in connection.exec_driver_sql(
                "SELECT id, title, commitment FROM milestone ORDER BY id")]

    before = stored()
    listed = duban("plans", "list")
    assert listed.exit_code == 1
    assert "数据库结构是版本 0007" in listed.output and "请先运行 duban init" in listed.output
    assert stored() == before
    assert duban("init").exit_code == 0 and duban("plans", "list").exit_code == 0
