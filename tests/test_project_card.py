"""A project's page in Prefect: one table row per milestone whatever its title holds."""

from __future__ import annotations

from datetime import date

from models.store.project_cards import MilestoneLine, ProjectCard
from notifications.project_card import artifact_key, project_markdown

LEVELS = {1: "催办提醒", 2: "督办单", 3: "领导督办"}


def card(*lines: MilestoneLine) -> ProjectCard:
    return ProjectCard(7, "demo-2025-2026", "示例规划", "A-1", "区社会福利中心二期工程",
                       list(lines))


def line(title: str, **changes: object) -> MilestoneLine:
    values: dict[str, object] = {
        "seq": 1, "title": title, "unit": "示例区民政局", "due_on": date(2025, 9, 30),
        "state": "overdue", "light": "red", "level": 3, "late": True,
        "next_check_on": date(2025, 10, 28)} | changes
    return MilestoneLine(**values)  # type: ignore[arg-type]


def test_the_key_is_one_prefect_accepts_and_names_the_project_not_its_code() -> None:
    from prefect.client.schemas.actions import ArtifactCreate

    assert artifact_key(7) == "project-7"
    ArtifactCreate(key=artifact_key(7), type="markdown", data="")  # Prefect's own check


def test_each_milestone_is_one_row_with_its_light_level_and_next_check() -> None:
    page = project_markdown(
        card(line("开工建设 | 一期\n主体结构"),
             line("建成运营", seq=2, state="pending", light="green", level=0, late=False,
                  next_check_on=None)),
        as_of=date(2025, 10, 21), counts={"evaluated": 2, "changed": 1, "escalations": 1},
        level_names=LEVELS)
    rows = [r for r in page.splitlines() if r.startswith("| ") and r[2].isdigit()]
    assert len(rows) == 2
    first, second = rows
    assert first.count(" | ") == 7  # eight cells: the pipe and line break in the title kept in
    assert "开工建设 ｜ 一期 主体结构" in first
    for words in ("逾期·超时", "🔴 红灯", "三级 领导督办", "2025-10-28"):
        assert words in first
    for words in ("未到期", "🟢 绿灯", "未督办", "| — |"):
        assert words in second
    assert "检查 2 个节点，状态变化 1 个，升级督办 1 次。现有 红灯 1，绿灯 1。" in page
