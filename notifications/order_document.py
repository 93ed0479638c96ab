"""The 督办单 as an A4 PDF: what it orders, of whom, by when, and the item's history.

The page is templates/zh-CN/order_print.html.j2, rendered by WeasyPrint with the CJK font
embedded. It shows the order as issued: history up to its issue, its issue time as the PDF's
creation date and a hash of the page as its identifier, so regenerating it gives the same
bytes (the copy a unit printed and the one the office re-prints are the same document).
"""

from __future__ import annotations

import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select
from weasyprint import HTML

from config.settings import Settings
from models.store.light_changes import history_of
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.milestone import Milestone
from models.tables.order import SupervisionOrder
from models.tables.person import Person
from models.tables.plan import Plan, Project
from models.tables.unit import Unit
from notifications.history_words import HISTORY_KINDS, HISTORY_WORDS
from notifications.render import render_part

TEMPLATE = "order_print"
REASONS = {"climbed": "逾期升级", "overdue": "已逾期", "binding": "约束性事项提前升级",
           "major": "重大事项", "repeat": "再次催办", "due_soon": "临期", "due_today": "今日到期",
           "catch_up": "首次发现即已越级"}
HISTORY_ROWS = 30


def order_context(session: Session, order: SupervisionOrder,
                  settings: Settings) -> dict[str, Any]:
    """What the printed order says: its row, its item, the history and the latest 批示 up
    to its issue, and the feedback rhythm its issue recorded: the same document every time."""
    zone = ZoneInfo(settings.timezone)
    # What select() builds for more than the four entities it is typed for.
    row: Any = session.exec(
        Select(Milestone, col(Project.name), col(Plan.name), col(Plan.code), col(Unit.name))
        .join(Project, col(Project.id) == Milestone.project_id)
        .join(Plan, col(Plan.id) == Project.plan_id)
        .join(Unit, col(Unit.id) == order.unit_id)
        .where(Milestone.id == order.milestone_id)).one()
    milestone, project, plan, _, unit = row
    events = history_of(session, [order.milestone_id], kinds=HISTORY_KINDS,
                        until=order.issued_at)
    history = [{"at": e.at.astimezone(zone).strftime("%Y-%m-%d"),
                "text": HISTORY_WORDS.get(e.kind, e.kind)
                + (f"：{e.reason}" if e.reason and e.reason != "sweep" else "")}
               for e in events][-HISTORY_ROWS:]
    instruction = session.exec(select(Event).where(
        Event.milestone_id == order.milestone_id, Event.kind == EventKind.instructed,
        col(Event.at) <= order.issued_at).order_by(col(Event.id).desc())).first()
    leader = session.get(Person, instruction.actor_id) if instruction and instruction.actor_id \
        else None
    issued = session.exec(select(Event).where(
        Event.milestone_id == order.milestone_id, Event.kind == EventKind.order_issued)).all()
    rhythm = next((e.data.get("feedback_workdays") for e in issued
                   if e.data.get("order_id") == order.id), None)
    return {"number": order.number, "office_name": settings.office_name,
            "issued_on": order.issued_on.isoformat(),
            "created": order.issued_at.astimezone(zone).isoformat(timespec="seconds"),
            "plan": plan, "project": project, "title": milestone.title, "unit": unit,
            "due_on": order.due_on.isoformat(), "overdue_workdays": order.overdue_workdays,
            "level_name": order.level_name, "reason": REASONS.get(order.reason, order.reason),
            "receipt_due_on": order.receipt_due_on.isoformat(),
            "feedback_due_on": f"签发后每 {rhythm} 个工作日在督办系统中反馈一次进展" if rhythm
                               else "按督查室要求定期在督办系统中反馈进展",
            "instruction": None if instruction is None else
            f"{leader.name if leader else instruction.actor}"
            f"（{instruction.at.astimezone(zone):%Y-%m-%d}）：{instruction.reason}",
            "history": history}


def order_pdf(context: dict[str, Any]) -> bytes:
    page = render_part(TEMPLATE, "html", context)
    identifier = hashlib.sha256(page.encode()).hexdigest()[:32].encode()
    pdf: bytes | None = HTML(string=page).write_pdf(pdf_identifier=identifier)
    assert pdf is not None
    return pdf
