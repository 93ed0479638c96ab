"""Confirmations to the people who acted: done received, extension decided, item closed.

Queued by services.milestone_actions right after the action, in the transaction that records
its event, under the key ``confirm:<event id>``: one confirmation per decision, never two. Its
link signs its person in (notifications/links.py). One that cannot be composed is a dead letter
with the reason, and the decision it tells of stands.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from config.settings import Settings
from models.tables.columns import saved_id
from models.tables.event import Event
from models.tables.event_kinds import DoneClaimed, EventKind, ExtensionDecided
from models.tables.milestone import Milestone
from models.tables.person import Person
from models.tables.plan import Project
from models.tables.unit import Unit
from notifications.compose import queue_email, queue_failed
from notifications.links import ItemLinks

TEMPLATES: dict[str, str] = {EventKind.done_claimed: "done_received",
                              EventKind.extension_decided: "extension_decided",
                              EventKind.closed: "item_closed"}


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
    key, meta = f"confirm:{event.id}", {"event": event.id, "milestone": milestone.id}
    try:
        context = _context(settings, event, template, person, milestone, project, unit)
    except (KeyError, TypeError, ValueError) as exc:  # the event's data, not the database
        return queue_failed(session=session, settings=settings, key=key, address=person.email,
                            recipient=person.name, person_id=person.id, template=template,
                            error=exc, now=event.at, meta=meta)
    return queue_email(session=session, settings=settings, key=key, address=person.email,
                       recipient=person.name, person_id=person.id, template=template,
                       context=context, now=event.at, meta=meta)


def _context(settings: Settings, event: Event, template: str, person: Person,
             milestone: Milestone, project: str, unit: str) -> dict[str, Any]:
    on = event.at.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    link = ItemLinks.of(settings, event.at).to(person.id, saved_id(milestone))
    context: dict[str, Any] = {"recipient": person.name, "title": milestone.title,
                               "project": project, "link": link}
    if template == "done_received":
        context |= {"unit": unit, "claimed_on": on,
                    "evidence": event.read(DoneClaimed).evidence}
    elif template == "extension_decided":
        decided = event.read(ExtensionDecided)
        context |= {"approved": decided.approved,
                    "previous_due_on": decided.previous_due_on.isoformat(),
                    "new_due_on": decided.new_due_on.isoformat() if decided.approved else None,
                    "reason": event.reason}
    else:
        context |= {"closed_on": on, "late": milestone.late}
    return context


def _recipient_id(session: Session, event: Event) -> int | None:
    """Who is told: the owner who claimed, the owner who asked for the extension, or the
    owner whose claim the office closed."""
    if event.kind == EventKind.done_claimed:
        return event.actor_id
    if event.kind == EventKind.extension_decided:
        request_id = event.read(ExtensionDecided).request_id
        request = session.get(Event, request_id) if request_id is not None else None
        return request.actor_id if request else None
    claim = session.exec(select(Event).where(
        Event.milestone_id == event.milestone_id, Event.kind == EventKind.done_claimed)
        .order_by(col(Event.id).desc())).first()
    return claim.actor_id if claim else None
