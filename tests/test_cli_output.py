"""What the command line's tables show a person: the id the next command takes, codes whole at
any width, a list cut short saying so, one name for the bulletins across every plan, and the
configured data directory wherever `duban` is run from (issue 11, the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from cli import output
from models.store.bulletin_history import ALL_PLANS_NAME
from tests.conftest import SEED_PLANS, Duban
from tests.world import PLAN, build_world

PLAN_CODE, PLAN_NAME = "demo-2025-2026", "示例区民政事业发展行动方案"


def body_cells(text: str, column: int) -> list[str]:
    """The cells of one column in the body rows of the tables in ``text`` (rich's box lines)."""
    return [line.split("│")[column + 1].strip() for line in text.splitlines()
            if line.startswith("│")]


def test_status_and_plans_show_list_the_id_every_action_takes(duban: Duban,
                                                             session: Session) -> None:
    build_world(session)
    lights = json.loads(duban("status", "--as-of", "2025-10-10", "--json").output)
    ids = {str(m["milestone_id"]) for m in lights["milestones"]}
    shown = duban("status", "--as-of", "2025-10-10")
    assert shown.exit_code == 0, shown.output
    assert "节点编号" in shown.output
    assert {cell for cell in body_cells(shown.output, 0) if cell} == ids
    plan = json.loads(duban("plans", "show", PLAN_CODE, "--json").output)
    listed = duban("plans", "show", PLAN_CODE)
    assert {cell for cell in body_cells(listed.output.split("主要指标")[0], 0) if cell} == {
        str(m["id"]) for p in plan["projects"] for m in p["milestones"]} == ids
    # The id as shown is the argument the action takes.
    first = body_cells(shown.output, 0)[0]
    claimed = duban("done", first, "--evidence", "竣工验收报告", "--as-of", "2025-10-10")
    assert claimed.exit_code == 0 and f"节点 {first}：已申报完成" in claimed.output


def test_codes_stay_whole_and_names_fold_in_a_narrow_terminal(
        duban: Duban, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    build_world(session)
    monkeypatch.setattr(output.console, "width", 40)
    plans = duban("plans", "list")
    assert plans.exit_code == 0, plans.output
    assert body_cells(plans.output, 0)[0] == PLAN_CODE  # whole, on its first line
    assert "".join(body_cells(plans.output, 1)) == PLAN_NAME  # folded, every character kept
    for command in (["units", "list"], ["status", "--as-of", "2025-10-10"],
                    ["plans", "show", PLAN_CODE]):
        shown = duban(*command)
        assert shown.exit_code == 0, shown.output
        assert "…" not in shown.output, shown.output
    assert {"demo-mzj", "demo-jd"} <= set(body_cells(duban("units", "list").output, 0))
    status = duban("status", "--as-of", "2025-10-10").output
    assert f"督办状态（2025-10-10）：{PLAN_CODE}\n" in status  # a table per plan, titled so
    assert set(body_cells(status, 1)) - {""} == {"1", "2"}  # the projects
    assert "2025-09-30" in body_cells(status, 4)


def test_a_list_cut_short_says_how_much_is_left_and_all_lists_it(duban: Duban,
                                                                 session: Session) -> None:
    build_world(session)
    preview = json.loads(duban("sweep", "--as-of", "2025-10-10", "--dry-run", "--json").output)
    assert preview["changed"] >= 2 and len(preview["changes"]) == preview["changed"]
    cut = duban("sweep", "--as-of", "2025-10-10", "--dry-run", "--detail", "1")
    changed = preview["changed"]
    assert f"仅列出 1 个状态变化，共 {changed} 个状态变化；加 --all 列出全部" in cut.output
    whole = duban("sweep", "--as-of", "2025-10-10", "--dry-run", "--detail", "1", "--all")
    assert "仅列出" not in whole.output

    assert duban("sweep", "--as-of", "2025-10-10").exit_code == 0
    assert duban("outbox", "deliver").exit_code == 0
    every = json.loads(duban("outbox", "list", "--all", "--json").output)
    assert len(every) >= 2
    one = duban("outbox", "list", "--limit", "1")
    assert [c for c in body_cells(one.output, 0) if c] == [str(every[0]["id"])]  # the newest
    assert f"仅列出 1 条，共 {len(every)} 条；加 --all 列出全部。" in one.output
    script = duban("outbox", "list", "--limit", "1", "--json")
    assert len(json.loads(script.stdout)) == 1 and "共 " in script.stderr  # said, not parsed
    listed = duban("outbox", "list", "--all")
    assert {c for c in body_cells(listed.output, 0) if c} == {str(m["id"]) for m in every}
    assert "仅列出" not in listed.output


def test_the_bulletins_across_every_plan_are_named_one_way(duban: Duban,
                                                          session: Session) -> None:
    build_world(session)
    made = duban("bulletin", "generate", "--period", "2025-10-06..2025-10-12",
                 "--edition", "public")
    assert made.exit_code == 0, made.output
    assert f"：{ALL_PLANS_NAME}，" in made.output and "*" not in made.output
    for plan in (ALL_PLANS_NAME, "*"):  # the name, or the key --json prints
        listed = json.loads(duban("bulletin", "list", "--plan", plan, "--json").output)
        assert [(b["scope"], b["scope_name"]) for b in listed] == [("*", ALL_PLANS_NAME)]
    assert json.loads(duban("bulletin", "list", "--plan", PLAN_CODE, "--json").output) == []
    table = duban("bulletin", "list").output
    assert body_cells(table, 1) == [ALL_PLANS_NAME]
    assert "--plan" in duban("bulletin", "list", "--plan", "全部").output  # no such plan


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_run_elsewhere_it_uses_the_configured_data_directory_and_makes_no_data_there(
        duban: Duban, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "etc" / "duban.toml"
    config.parent.mkdir()
    config.write_text('data_dir = "store"\n', encoding="utf-8")  # relative to the file
    store, elsewhere = config.parent / "store", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    monkeypatch.delenv("DUBAN_DATA_DIR")
    monkeypatch.delenv("DUBAN_DATABASE_URL")  # the embedded default: SQLite in the data dir

    refused = duban("status")
    assert refused.exit_code == 2
    assert f"数据目录 {store} 不存在" in refused.output and "duban init" in refused.output
    assert f"DUBAN_DATA_DIR / data_dir in {config}" in refused.output
    assert not store.exists()

    made = duban("init")
    assert made.exit_code == 0, made.output
    assert f"已创建数据目录：{store}" in made.output
    assert (store / "duban.db").is_file()
    listed = json.loads(duban("plans", "list", "--json").output)
    assert {p["code"] for p in listed} == {path.stem for path in SEED_PLANS}
    assert list(elsewhere.iterdir()) == []  # no ./data, nothing at all


def test_plan_files_need_no_data_directory(duban: Duban, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "none"))
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    checked = duban("plans", "validate", str(plan))
    assert checked.exit_code == 0 and "有效" in checked.output
    assert not (tmp_path / "none").exists()
