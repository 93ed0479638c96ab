"""Reading milestones' facts back from the event log, for many milestones in one query (the
reading itself: models/rules/milestone_facts.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.rules.escalation import LadderFacts, Sent
from models.rules.milestone_facts import facts_from_events
from models.rules.status import MilestoneFacts
from models.tables.columns import saved_id
from models.tables.escalation import EscalationStep
from models.tables.event import Event
from models.tables.event_kinds import FACT_KINDS
from models.tables.milestone import Milestone


def milestone_facts(*, session: Session, milestones: list[Milestone], zone: ZoneInfo
                    ) -> dict[int, MilestoneFacts]:
    ids = [m.id for m in milestones]
    events = session.exec(select(Event).where(col(Event.milestone_id).in_(ids),
                                              col(Event.kind).in_(FACT_KINDS))
                          .order_by(col(Event.at), col(Event.id))).all() if ids else []
    by_milestone: dict[int, list[tuple[str, date, dict[str, Any]]]] = defaultdict(list)
    for event in events:
        assert event.milestone_id is not None
        by_milestone[event.milestone_id].append((event.kind, event.at.astimezone(zone).date(),
                                                 event.data))
    return {saved_id(m): facts_from_events(m.planned_due_on, by_milestone.get(saved_id(m), []))
            for m in milestones}


def ladder_facts(*, session: Session, milestones: list[Milestone], due: dict[int, date]
                 ) -> dict[int, LadderFacts]:
    """The steps already recorded for each milestone's due date in force (``due``)."""
    ids = [m.id for m in milestones]
    rows = session.exec(select(EscalationStep).where(
        col(EscalationStep.milestone_id).in_(ids))).all() if ids else []
    sent: dict[int, list[Sent]] = defaultdict(list)
    for row in rows:
        if row.due_on == due.get(row.milestone_id):
            sent[row.milestone_id].append(Sent(row.level, row.repeat, row.as_of))
    return {saved_id(m): LadderFacts(m.commitment, m.major, tuple(sent[saved_id(m)]),
                                     m.acknowledged_level, m.snoozed_until)
            for m in milestones}
