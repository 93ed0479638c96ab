"""The events a notice or a printed order tells as an item's history, and their words."""

from __future__ import annotations

from models.tables.event_kinds import EventKind

HISTORY_KINDS = (EventKind.status_changed, EventKind.done_claimed, EventKind.returned,
                 EventKind.acknowledged, EventKind.snoozed, EventKind.extension_requested,
                 EventKind.extension_decided, EventKind.progress_reported)
HISTORY_WORDS: dict[str, str] = {  # keyed by EventKind, looked up by an event's kind
    EventKind.status_changed: "状态变化", EventKind.done_claimed: "申报完成",
    EventKind.returned: "退回重办", EventKind.acknowledged: "督查室已知悉",
    EventKind.snoozed: "暂缓督办", EventKind.extension_requested: "申请延期",
    EventKind.extension_decided: "延期审批", EventKind.progress_reported: "报告进展"}
