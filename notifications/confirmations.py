"""Confirmations to the people who acted: done received, extension decided, item closed.

Queued by services.milestone_actions right after the action, in the transaction that records
its event, under the key ``confirm:<event id>``: one confirmation per decision, never two. Its
link signs its person in (notifications/links.py).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from config.settings import Settings
from models.tables.event import Event
from models.tables.milestone import Milestone
from models.tables.person import Person
from models.tables.plan import Project
from models.tables.unit import Unit
from notifications.compose import queue_email
from notifications.links import ItemLinks

TEMPLATES = {"milestone.done_claimed": "done_received",
             "milestone.extension_decided": "extension_decided",
             "milestone.closed": "item_closed"}


def queue_confirmation(*, session: Session, settings: Settings, event: Event) -> int | None:
    template = TEMPLATES.get(event.kind)
    recipient_id = _recipient_id(session, event) if template else None
    person = session.get(Person, recipient_id) if recipient_id is not None else None
    if template is None or person is None or not person.active:
        return None
    milestone, project, unit = session.exec(
        select(Milestone, Project.name, Unit.name)
        .join(Project, col(Project.id) == Milestone.project_id)
        .join(Unit, col(Unit.id) == Milestone.unit_id)
        .where(Milestone.id == event.milestone_id)).one()
    on = event.at.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    context = {"recipient": person.name, "title": milestone.title, "project": project,
               "link": ItemLinks.of(settings, event.at).to(person.id, milestone.id)}  # type: ignore[arg-type]
    if template == "done_received":
        context |= {"unit": unit, "claimed_on": on, "evidence": event.data.get("evidence", "")}
    elif template == "extension_decided":
        approved = bool(event.data.get("approved"))
        context |= {"approved": approved, "previous_due_on": event.data["previous_due_on"],
                    "new_due_on": event.data["new_due_on"] if approved else None,
                    "reason": event.reason}
    else:
        context |= {"closed_on": on, "late": milestone.late}
    return queue_email(session=session, settings=settings, key=f"confirm:{event.id}",
                       address=person.email, recipient=person.name, person_id=person.id,
                       template=template, context=context, now=event.at,
                       meta={"event": event.id, "milestone": milestone.id})


def _recipient_id(session: Session, event: Event) -> int | None:
    """Who is told: the owner who claimed, the owner who asked for the extension, or the
    owner whose claim the office closed."""
    if event.kind == "milestone.done_claimed":
        return event.actor_id
    if event.kind == "milestone.extension_decided":
        request = session.get(Event, event.data.get("request_id"))
        return request.actor_id if request else None
    claim = session.exec(select(Event).where(
        Event.milestone_id == event.milestone_id, Event.kind == "milestone.done_claimed")
        .order_by(col(Event.id).desc())).first()
    return claim.actor_id if claim else None
