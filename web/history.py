"""A history in people's words: each event as who did what, when, in Chinese.

Every event kind has its sentence (`FIXED` or `SAYS`; a test holds them to `EventKind`), so
nothing reaches a page as ``milestone.updated``, ``cli:root`` or a server's file path. Who:
1. a person (by id, else by the email an older row names): their name and unit;
2. the daily sweep: 系统（巡查）; the other system jobs: 系统（发送）, 系统（通报）, …;
3. the command line (``cli:<login>``, the operator acting as the office): 命令行（管理员）;
4. a plan import (``import:<file>`` and the CLI's plan command): 规划导入 — the file's path on
   the server is nobody's business on a page.
What the person wrote (evidence, a reason, a progress note) follows the sentence as their words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlmodel import Session, col, select

from models.tables.event import Event
from models.tables.event_kinds import IMPORT_KINDS, EventKind
from models.tables.person import Person
from models.tables.unit import Unit
from web.labels import STATES, level_word, light_word

SYSTEM = {"system:sweep": "系统（巡查）", "system:delivery": "系统（发送）",
          "system:compose": "系统（发送）", "system:bulletin": "系统（通报）",
          "system:init": "系统（初始化）"}
CLI = "命令行（管理员）"
IMPORT = "规划导入"
# The fields a plan import changes, as the plan file's readers know them.
FIELDS = {"title": "节点内容", "name": "名称", "planned_due_on": "计划完成日期",
          "due_on": "截止日期", "commitment": "约束性", "unit_id": "责任单位", "seq": "顺序",
          "description": "说明", "category": "类别", "floor_area_m2": "建筑面积",
          "investment_wan_yuan": "投资额", "beds": "床位数", "facts": "其他信息",
          "measure": "计量单位", "targets": "目标值", "actuals": "实际值",
          "baseline_value": "基期值", "direction": "方向", "project_id": "所属项目"}


@dataclass(frozen=True)
class Line:
    event_id: int
    at: str    # local time, to the minute
    who: str
    what: str  # the sentence, without its subject
    words: str | None  # what the person wrote


def _n(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _changed(event: Event) -> str:
    changes = event.data.get("changes") or {}
    named = sorted({FIELDS.get(k, "其他内容") for k in changes})
    return "：" + "、".join(named) if named else ""


def _status(event: Event) -> str:
    data = event.data
    state = data.get("state") or [None, None]
    light = data.get("light") or [None, None]
    if state[0] != state[1]:
        said = f"事项转为「{STATES.get(state[1], '未知状态')}」"
    else:
        said = f"灯色由{light_word(light[0])}转为{light_word(light[1])}"
    late = data.get("overdue_workdays")
    return said + (f"，已逾期 {late} 个工作日" if late else "")


def _extension(event: Event) -> str:
    data = event.data
    if not data.get("approved"):
        return "不同意延期"
    return f"同意延期，截止日期由 {data.get('previous_due_on')} 改为 {data.get('new_due_on')}"


def _progress(event: Event) -> str:
    percent = event.data.get("percent")
    return "报告进度" + (f"：完成 {_n(percent)}%" if percent is not None else "")


def _indicator(event: Event) -> str:
    data = event.data
    return (f"报告指标「{data.get('code', '')} {data.get('name', '')}」截至 {data.get('as_of')} "
            f"为 {_n(data.get('value'))}{data.get('measure') or ''}")


def _co_units(event: Event) -> str:
    old, new = event.data.get("co_units") or [[], []]
    names = event.data.get("names") or {}

    def said(codes: list[str]) -> str:
        return "、".join(names.get(c, "其他单位") for c in codes) or "无"
    return f"规划调整了协办单位：{said(new)}（原为{said(old)}）"


SUBJECTS = {"plan": "规划", "unit": "责任单位", "project": "项目", "milestone": "节点",
            "indicator": "指标"}


def _imported(event: Event) -> str:
    subject, happened = event.kind.split(".", 1)
    noun = SUBJECTS[subject]
    return {"created": f"{noun}列入规划", "updated": f"规划调整了{noun}" + _changed(event),
            "removed": f"{noun}移出规划", "retired": f"{noun}停止督办（已移出规划）",
            "restored": f"{noun}恢复督办（重新列入规划）"}[happened]


# The kinds whose sentence is always the same.
FIXED: dict[EventKind, str] = {
    EventKind.done_claimed: "申报完成，等待督查室核实销号", EventKind.returned: "退回重办",
    EventKind.closed: "核实通过，予以销号", EventKind.reopened: "重新打开事项",
    EventKind.waived: "予以豁免", EventKind.marked_major: "列为重大事项",
    EventKind.unmarked_major: "取消重大事项",
    EventKind.evaluation_failed: "计算灯色时出错，暂按上次结果显示",
    EventKind.person_created: "新增人员", EventKind.person_updated: "修改人员信息",
    EventKind.person_deactivated: "停用账号", EventKind.person_reactivated: "恢复账号",
    EventKind.person_password_set: "设置登录密码",
    EventKind.person_api_token_issued: "签发接口令牌",
    EventKind.person_api_tokens_revoked: "吊销接口令牌",
    EventKind.unit_contact_set: "设置单位联系人", EventKind.message_retried: "重新投递消息",
    EventKind.bulletin_generated: "生成晾晒通报",
    EventKind.bulletin_regenerated: "重新生成晾晒通报",
    EventKind.bulletin_sent: "发送晾晒通报",
    EventKind.instructed: "领导批示", EventKind.chased: "督查室催办",
    EventKind.transferred: "转办至其他单位",
    EventKind.feedback_missed: "未按期反馈进展，发出催报",
}
# The kinds whose sentence tells their facts.
SAYS: dict[EventKind, Callable[[Event], str]] = {
    EventKind.extension_requested: lambda e: (
        f"申请延期：截止日期由 {e.data.get('due_on')} 延至 {e.data.get('proposed_due_on')}"),
    EventKind.extension_decided: _extension,
    EventKind.acknowledged: lambda e: f"确认督办（{level_word(e.data.get('level', 0))}）",
    EventKind.snoozed: lambda e: f"暂缓提醒至 {e.data.get('until')}",
    EventKind.progress_reported: _progress,
    EventKind.status_changed: _status,
    EventKind.lights_changed: lambda e: (
        f"巡查：{e.data.get('changed', '若干')} 个事项的状态随时间变化"),
    EventKind.indicator_reported: _indicator,
    EventKind.indicator_light_changed: lambda e: (
        f"指标灯色转为{light_word((e.data.get('light') or [None, None])[1])}"),
    EventKind.order_issued: lambda e: f"签发督办单 {e.data.get('number')}",
    EventKind.order_received: lambda e: f"签收督办单 {e.data.get('number')}",
    EventKind.order_receipt_overdue: lambda e: f"督办单 {e.data.get('number')} 逾期未签收",
    EventKind.message_dead: lambda e: (
        f"消息投递失败（已尝试 {e.data.get('attempts', '若干')} 次），转入发件箱待处理"),
    **dict.fromkeys(IMPORT_KINDS, _imported),
    EventKind.co_units_changed: _co_units,
}
# Kinds whose reason column is a person's words worth showing (an import's is not, nor a
# receipt's, which restates the sentence).
SILENT = IMPORT_KINDS | {EventKind.status_changed, EventKind.lights_changed,
                         EventKind.evaluation_failed,
                         EventKind.indicator_light_changed, EventKind.order_received,
                         EventKind.order_receipt_overdue}


def what(event: Event) -> str:
    try:
        kind = EventKind(event.kind)
    except ValueError:  # a kind this version does not know: say nothing wrong
        return "其他记录"
    say = SAYS.get(kind)
    return say(event) if say is not None else FIXED.get(kind, "其他记录")


def words(event: Event) -> str | None:
    if event.kind in SILENT:
        return None
    return event.data.get("evidence") or event.reason or None


def who(event: Event, people: dict[int | str, tuple[str, str | None]]) -> str:
    found = people.get(event.actor_id) if event.actor_id is not None else None
    found = found or people.get(event.actor)
    if found is not None:
        name, unit = found
        return f"{name}（{unit}）" if unit else name
    actor = event.actor
    if actor in SYSTEM or actor.startswith("system:"):
        return SYSTEM.get(actor, "系统")
    if actor.startswith("cli:"):
        return CLI
    if actor.startswith("import:") or event.kind in IMPORT_KINDS:
        return IMPORT
    return "系统"


def people_of(db: Session, events: Sequence[Event]) -> dict[int | str, tuple[str, str | None]]:
    """(name, unit name or the office's role word) for every person the events name."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    emails = {e.actor for e in events if e.actor_id is None and "@" in e.actor}
    if not ids and not emails:
        return {}
    rows = db.exec(select(Person, Unit.name).join(Unit, col(Unit.id) == Person.unit_id,
                                                  isouter=True)
                   .where(col(Person.id).in_(ids) | col(Person.email).in_(emails))).all()
    roles = {"office": "督查室", "leader": "领导", "admin": "管理员"}
    out: dict[int | str, tuple[str, str | None]] = {}
    for person, unit in rows:
        said = (person.name, unit or roles.get(person.role.value))
        out[saved(person)] = said
        out[person.email] = said
    return out


def saved(person: Person) -> int:
    assert person.id is not None
    return person.id


def said_already(event: Event) -> bool:
    """A status change a person's action brought about: their action's own line says it (a
    claim is 申报完成, a waiver 予以豁免); only the sweep's changes are news."""
    return event.kind == EventKind.status_changed and not event.actor.startswith("system:")


def lines(db: Session, events: Iterable[Event], zone: tzinfo) -> list[Line]:
    """The events as `Line`s, in the order given, less those `said_already`."""
    events = [e for e in events if not said_already(e)]
    people = people_of(db, events)
    return [Line(event_id=e.id or 0, at=e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                 who=who(e, people), what=what(e), words=words(e)) for e in events]
