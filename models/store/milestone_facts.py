"""Reading a milestone's facts back from the event log, for many milestones in one query."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.rules.escalation import LadderFacts, Sent
from models.rules.status import Decision, Extension, MilestoneFacts
from models.tables.escalation import EscalationStep
from models.tables.event import Event
from models.tables.milestone import Milestone

FACT_KINDS = [f"milestone.{d.value}" for d in Decision] + ["milestone.extension_decided"]


def milestone_facts(*, session: Session, milestones: list[Milestone], zone: ZoneInfo
                    ) -> dict[int, MilestoneFacts]:
    ids = [m.id for m in milestones]
    events = session.exec(select(Event).where(col(Event.milestone_id).in_(ids),
                                              col(Event.kind).in_(FACT_KINDS))
                          .order_by(Event.at, Event.id)).all() if ids else []
    decisions: dict[int, list[tuple[Decision, date]]] = defaultdict(list)
    extensions: dict[int, list[Extension]] = defaultdict(list)
    for event in events:
        assert event.milestone_id is not None
        on = event.at.astimezone(zone).date()
        what = event.kind.removeprefix("milestone.")
        if what == "extension_decided":
            if event.data.get("approved"):
                extensions[event.milestone_id].append(Extension(
                    requested_on=date.fromisoformat(event.data["requested_on"]), decided_on=on,
                    new_due_on=date.fromisoformat(event.data["new_due_on"])))
        else:
            decisions[event.milestone_id].append((Decision(what), on))
    return {m.id: MilestoneFacts(m.planned_due_on, tuple(decisions[m.id]),  # type: ignore[index]
                                 tuple(extensions[m.id]))  # type: ignore[index]
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
    return {m.id: LadderFacts(m.commitment, m.major, tuple(sent[m.id]),  # type: ignore[index]
                              m.acknowledged_level, m.snoozed_until)
            for m in milestones}
