"""The history says who did what and when in Chinese: every event kind has its sentence, and
the page shows no login names, server paths or English."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from models.store import actions
from models.store.database import writer
from models.tables.event import Event
from models.tables.event_kinds import IMPORT_KINDS, PAYLOADS, EventKind, validated
from tests.conftest import NOW
from tests.test_web_app import OFFICE, OWNER
from tests.test_web_items import (
    Site,
    served_site,  # noqa: F401 (the fixture "site")
)
from tests.world import RULES
from web.history import what, who

# A realistic payload for each kind that has one (checked against its model below).
SAMPLES: dict[EventKind, dict[str, Any]] = {
    EventKind.done_claimed: {"evidence": "已竣工验收"},
    EventKind.extension_requested: {"proposed_due_on": "2026-03-31", "due_on": "2025-12-31"},
    EventKind.extension_decided: {"approved": True, "request_id": 7,
                                  "requested_on": "2025-12-01", "new_due_on": "2026-03-31",
                                  "previous_due_on": "2025-12-31"},
    EventKind.acknowledged: {"level": 2},
    EventKind.snoozed: {"until": "2025-12-20"},
    EventKind.progress_reported: {"percent": 62.5},
    EventKind.lights_changed: {"sweep_id": "5f0c", "as_of": "2025-12-01", "changed": 12},
    EventKind.status_changed: {"state": ["due_soon", "overdue"], "light": ["yellow", "red"],
                               "due_on": "2025-12-31", "overdue_workdays": 3},
    EventKind.evaluation_failed: {"error": "ValueError: bad date"},
    EventKind.indicator_reported: {"value": 220.0, "code": "A1", "name": "养老机构床位数",
                                   "measure": "张", "as_of": "2025-12-01", "previous": 150.0},
    EventKind.indicator_light_changed: {"light": [None, "yellow"], "as_of": "2025-12-01"},
    EventKind.person_created: {"values": {"name": "王芳"}},
    EventKind.person_updated: {"changes": {"role": ["owner", "office"]}},
    EventKind.unit_contact_set: {"changes": {"contact_email": ["a@x.cn", "b@x.cn"]}},
    EventKind.person_api_token_issued: {"label": "weekly"},
    EventKind.person_api_tokens_revoked: {"labels": ["weekly"]},
    EventKind.message_dead: {"message_id": 3, "address": "a@x.cn", "attempts": 5},
    EventKind.message_retried: {"message_id": 3, "previous_status": "dead", "last_error": "550"},
    EventKind.bulletin_generated: {"bulletin": 1, "scope": "all",
                                   "period": ["2025-12-01", "2025-12-07"], "edition": "office",
                                   "same_figures": False},
    EventKind.bulletin_regenerated: {"bulletin": 1, "scope": "all",
                                     "period": ["2025-12-01", "2025-12-07"],
                                     "edition": "office", "same_figures": True},
    EventKind.bulletin_sent: {"bulletin": 1, "send": 1, "queued": 12, "resend": False},
    EventKind.transferred: {"from_unit_id": 1, "to_unit_id": 2},
    **{kind: {"order_id": 1, "number": "督办〔2025〕3号"}
       for kind in (EventKind.order_issued, EventKind.order_received,
                    EventKind.order_receipt_overdue)},
    **{kind: {"file": "/srv/duban/plans/demo.yaml", "changes": {"title": ["旧", "新"]}}
       for kind in IMPORT_KINDS if kind.endswith("updated")},
    EventKind.co_units_changed: {"file": "/srv/duban/plans/demo.yaml",
                                 "co_units": [["demo-jd"], ["demo-jd", "demo-sq"]],
                                 "names": {"demo-jd": "示例街道", "demo-sq": "示例社区"}},
}
LATIN = re.compile(r"[A-Za-z]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def event(kind: EventKind, actor: str = "system:sweep", actor_id: int | None = None) -> Event:
    data = validated(kind, SAMPLES.get(kind, {"file": "/srv/duban/plans/demo.yaml"}
                                       if kind in IMPORT_KINDS else {}))
    return Event(id=1, at=datetime(2025, 12, 1, 1, 30, tzinfo=UTC), kind=kind,
                 actor=actor, actor_id=actor_id, data=data)


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_kind_is_a_chinese_sentence(kind: EventKind) -> None:
    said = what(event(kind))
    assert HAN.search(said) and said != "其他记录", kind
    assert not LATIN.search(said.replace("A1", "")), f"{kind}: {said}"  # A1: the plan's code
    assert "/srv" not in said


def test_the_samples_are_the_payloads_the_kinds_carry() -> None:
    assert set(SAMPLES) - set(PAYLOADS) == set()


@pytest.mark.parametrize(("kind", "sentence"), [
    (EventKind.extension_decided, "同意延期，截止日期由 2025-12-31 改为 2026-03-31"),
    (EventKind.status_changed, "事项转为「逾期」，已逾期 3 个工作日"),
    (EventKind.acknowledged, "确认督办（二级 督办单）"),
    (EventKind.progress_reported, "报告进度：完成 62.5%"),
    (EventKind.milestone_updated, "规划调整了节点：节点内容"),
    (EventKind.indicator_light_changed, "指标灯色转为黄灯"),
])
def test_a_sentence_says_the_facts_of_its_event(kind: EventKind, sentence: str) -> None:
    assert what(event(kind)) == sentence


@pytest.mark.parametrize(("actor", "shown"), [
    ("system:sweep", "系统（巡查）"), ("system:delivery", "系统（发送）"),
    ("system:something-new", "系统"), ("cli:root", "命令行（管理员）"),
    ("cli:zhangsan", "命令行（管理员）"), ("import:/srv/duban/plans/demo.yaml", "规划导入"),
])
def test_who_is_a_person_or_a_part_of_the_system_in_words(actor: str, shown: str) -> None:
    assert who(event(EventKind.closed, actor), {}) == shown
    people: dict[int | str, tuple[str, str | None]] = {5: ("王芳", "示例区民政局")}
    assert who(event(EventKind.closed, "wang@x.cn", actor_id=5), people) == "王芳（示例区民政局）"


def test_the_item_page_history_has_no_login_names_paths_or_english(site: Site) -> None:
    item = site.world.construction
    with Session(writer(site.engine)) as db:  # the operator, from the command line
        actions.report_progress(session=db, rules=RULES, milestone_id=item, actor="cli:root",
                                now=NOW, percent=30.0, note="基础施工")
        db.commit()
    claimed = site.desk(OWNER).post(f"/milestones/{item}/done", evidence="主体完工，见验收报告",
                                    version=site.milestone(item).version)
    assert claimed.status_code == 303
    page = site.desk(OFFICE).get(f"/milestones/{item}").text
    history = page.split('<h2 id="history-heading">记录</h2>')[1].split("</section>")[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", history))
    assert "命令行（管理员） 报告进度：完成 30%" in text
    assert "王芳（示例区民政局） 申报完成，等待督查室核实销号" in text
    assert "规划导入 节点列入规划" in text  # the world's import, its file not named
    assert not LATIN.search(text), LATIN.findall(text)
