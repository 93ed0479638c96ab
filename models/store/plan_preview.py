"""What importing plan files would change, read before it is applied (`--dry-run`).

The preview runs the real import (models/store/plan_import.py) inside the caller's transaction
and rolls it back, so that it shows exactly what the import would record, by the same rules,
and changes nothing: a mid-term review (中期评估) that moves targets is read as "指标 3 目标值
2020：4.5 → 4.8" before anyone applies it. A refused import is previewed as its refusals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel

from config.plan_loader import LoadedPlan
from models.store.plan_import import Change, ImportRefused, import_plan
from models.tables.event_kinds import EventKind
from models.tables.indicator import Indicator
from models.tables.milestone import Milestone
from models.tables.plan import Project
from models.tables.unit import Unit

_WHAT = {"created": "新增", "updated": "更改", "removed": "删除", "retired": "停用（有历史，保留）",
         "restored": "恢复"}
_FIELDS = {"name": "名称", "issuer": "发文单位", "document_number": "文号", "issued_on": "印发日期",
           "start_year": "起始年", "end_year": "结束年", "source": "来源文件", "kind": "单位类型",
           "contact_name": "联系人", "contact_email": "联系人邮箱", "contact_phone": "联系电话",
           "contact_placeholder": "联系人待补充", "description": "建设内容",
           "unit_id": "责任单位", "category": "类别", "floor_area_m2": "建筑面积（平方米）",
           "investment_wan_yuan": "总投资（万元）", "beds": "床位（张）", "facts": "其他数据",
           "commitment": "约束性/预期性", "title": "节点目标", "source_table": "来源表",
           "measure": "计量单位", "baseline_year": "基期年份", "baseline_value": "基期值",
           "baseline_qualifier": "基期值限定", "baseline_text": "基期值原文",
           "direction": "指标方向", "project_id": "对应项目", "targets": "目标值",
           "actuals": "完成值"}
_WORDS = {"binding": "约束性", "expected": "预期性", "up": "越高越好", "down": "越低越好"}


@dataclass
class Preview:
    source: str
    plan_code: str
    lines: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def preview_imports(*, session: Session, loaded: list[LoadedPlan], actor: str, now: datetime,
                    retire: bool = False) -> list[Preview]:
    """Each file's changes, in file order, as if imported one after the other; the session is
    rolled back at the end whatever happens."""
    previews: list[Preview] = []
    try:
        for item in loaded:
            preview = Preview(item.source, item.content.plan.code)
            try:
                with session.begin_nested():
                    outcome = import_plan(session=session, loaded=item, actor=actor, now=now,
                                          retire=retire)
                    preview.lines = list(_Describer(session).lines(outcome.changes))
            except ImportRefused as exc:
                preview.refusals = exc.problems
            previews.append(preview)
    finally:
        session.rollback()
    return previews


class _Describer:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lines(self, changes: list[Change]) -> Iterator[str]:
        for change in changes:
            subject, what = change.kind.split(".", 1)
            name = self._subject(subject, change)
            words = _WHAT.get(what, what)
            if change.kind == EventKind.co_units_changed:
                old, new = change.data["co_units"]
                yield f"更改 {name}，协办单位：{_codes(old)} → {_codes(new)}"
            elif what == "updated":
                for field_name, pair in change.data.get("changes", {}).items():
                    yield f"{words} {name}，{self._field(field_name, pair)}"
            else:
                yield f"{words} {name}"

    def _subject(self, subject: str, change: Change) -> str:
        values = change.data.get("values", {})
        ids = change.ids
        if subject == "plan":
            return f"规划 {values.get('code', '')} {values.get('name', '')}".strip()
        if subject == "unit":
            unit = self._row(Unit, ids.get("unit_id"))
            return f"单位 {unit.code}（{unit.name}）" if unit else f"单位 {values.get('code')}"
        if subject == "project":
            project = self._row(Project, ids.get("project_id"))
            code, title = (project.code, project.name) if project else (values.get("code"),
                                                                        values.get("name"))
            return f"项目 {code}（{title}）"
        if subject == "milestone":
            milestone = self._row(Milestone, ids.get("milestone_id"))
            project = self._row(Project, ids.get("project_id"))
            key, title = (milestone.key, milestone.title) if milestone else (
                values.get("key"), values.get("title"))
            return f"项目 {project.code if project else ''} 节点 {key}（{_short(title)}）"
        indicator = self._row(Indicator, ids.get("indicator_id"))
        code, title = (indicator.code, indicator.name) if indicator else (values.get("code"),
                                                                          values.get("name"))
        return f"指标 {code}（{title}）"

    def _field(self, name: str, pair: Any) -> str:
        label = _FIELDS.get(name, name)
        if name in ("targets", "actuals"):
            return "；".join(f"{label} {year}：{_shown(old)} → {_shown(new)}"
                            for year, (old, new) in pair.items())
        old, new = pair
        if name == "unit_id":
            old, new = (self._unit_code(old), self._unit_code(new))
        if name == "project_id":
            old, new = (self._project_code(old), self._project_code(new))
        return f"{label}：{_shown(old)} → {_shown(new)}"

    def _unit_code(self, unit_id: int | None) -> str | None:
        unit = self._row(Unit, unit_id)
        return unit.code if unit else None

    def _project_code(self, project_id: int | None) -> str | None:
        project = self._row(Project, project_id)
        return project.code if project else None

    def _row(self, table: type[Any], row_id: int | None) -> Any:
        if row_id is None:
            return None
        row: SQLModel | None = self.session.get(table, row_id)
        return row


def _codes(codes: list[str]) -> str:
    return "、".join(codes) if codes else "（无）"


def _shown(value: Any) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _short(_WORDS.get(value, value) if isinstance(value, str) else str(value))


def _short(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
