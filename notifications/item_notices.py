"""Notices to a unit about one item, outside the ladder: 领导批示, 催办 and 转办.

Queued by services.milestone_actions in the transaction of the action's event, one per person
of the unit (its owners and its head; both units for a 转办), under the key
``notice:<event>:<person>``: an action pressed once is told once, and never twice.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from config.settings import Settings
from models.tables.columns import saved_id
from models.tables.event import Event
from models.tables.event_kinds import EventKind, Transferred
from models.tables.milestone import Milestone
from models.tables.person import Person, Role
from models.tables.plan import Project
from models.tables.unit import Unit
from notifications.compose import queue_email
from notifications.links import ItemLinks

WORDS = {EventKind.instructed: "instructed", EventKind.chased: "chased",
         EventKind.transferred: "transferred_in"}  # the template's ``kind``
KINDS = tuple(WORDS)


def queue_item_notices(*, session: Session, settings: Settings, event: Event) -> int:
    """Queue the notices an instruction, a 催办 or a 转办 owes; how many."""
    if event.kind not in KINDS or event.milestone_id is None:
        return 0
    milestone, project = session.exec(
        select(Milestone, Project.name).join(Project, col(Project.id) == Milestone.project_id)
        .where(Milestone.id == event.milestone_id)).one()
    holder = session.get(Unit, milestone.unit_id)
    actor = session.get(Person, event.actor_id) if event.actor_id is not None else None
    told = [(milestone.unit_id, WORDS[EventKind(event.kind)])]
    if event.kind == EventKind.transferred:
        told.append((event.read(Transferred).from_unit_id, "transferred_out"))
    links = ItemLinks.of(settings, event.at)
    queued = 0
    for unit_id, kind in told:
        for person in session.exec(select(Person).where(
                Person.unit_id == unit_id, col(Person.active).is_(True),
                Person.role == Role.owner).order_by(col(Person.id))).all():
            context = {"recipient": person.name, "kind": kind, "title": milestone.title,
                       "project": project, "unit": holder.name if holder else "",
                       "actor": actor.name if actor else "督办办公室",
                       "text": event.reason or "",
                       "link": links.to(person.id, saved_id(milestone))}
            if queue_email(session=session, settings=settings,
                           key=f"notice:{event.id}:{person.id}", address=person.email,
                           recipient=person.name, person_id=person.id, template="item_notice",
                           context=context, now=event.at,
                           meta={"event": event.id, "milestone": milestone.id}) is not None:
                queued += 1
    return queued
