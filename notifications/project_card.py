"""A project's milestones as one markdown page: what Prefect keeps, version by version, under the
project's artifact key, so that its UI shows one project's history sweep by sweep."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from models.store.project_cards import MilestoneLine, ProjectCard
from notifications.ledger import LIGHTS, NUMERALS, STATES

LIGHT_MARKS = {"red": "🔴", "yellow": "🟡", "blue": "🔵", "green": "🟢"}


def artifact_key(project_id: int) -> str:
    """Prefect keys take lowercase letters, digits and dashes only: project codes ("1",
    "民生-03") do not fit, and the same code recurs across plans; the id does."""
    return f"project-{project_id}"


def project_markdown(card: ProjectCard, *, as_of: date, counts: Mapping[str, int],
                     level_names: Mapping[int, str]) -> str:
    """The project's heading, what this sweep changed in it, a count of lights, then every
    milestone with its state, light, level and next check."""
    lights = "，".join(f"{LIGHTS[light]} {n}" for light in LIGHTS
                      if (n := sum(m.light == light for m in card.milestones)))
    lines = [f"## {card.name}", "",
             f"{card.plan_name}（{card.plan_code}）· 项目 {card.code} · "
             f"{as_of.isoformat()} 巡检", "",
             f"本次巡检：检查 {counts.get('evaluated', 0)} 个节点，状态变化 "
             f"{counts.get('changed', 0)} 个，升级督办 {counts.get('escalations', 0)} 次。"
             f"{'现有 ' + lights + '。' if lights else ''}", "",
             "| 序号 | 节点 | 责任单位 | 截止日期 | 状态 | 灯 | 督办级别 | 下次检查 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [_row(m, level_names) for m in card.milestones]
    return "\n".join(lines) + "\n"


def _row(m: MilestoneLine, level_names: Mapping[int, str]) -> str:
    state = STATES.get(m.state, m.state) + ("·超时" if m.late else "")
    light = f"{LIGHT_MARKS.get(m.light, '')} {LIGHTS.get(m.light, m.light)}".strip()
    cells = [str(m.seq), _cell(m.title), _cell(m.unit), m.due_on.isoformat(), state, light,
             level_words(m.level, level_names),
             m.next_check_on.isoformat() if m.next_check_on else "—"]
    return "| " + " | ".join(cells) + " |"


def level_words(level: int, names: Mapping[int, str]) -> str:
    if level <= 0:
        return "未督办"
    numeral = NUMERALS[level] if level < len(NUMERALS) else str(level)
    return f"{numeral}级 {names[level]}" if level in names else f"{numeral}级"


def _cell(text: str, limit: int = 60) -> str:
    """One table cell: a pipe or a line break would end it early."""
    flat = " ".join(text.split()).replace("|", "｜")
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
