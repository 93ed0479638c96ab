"""Each milestone as it stood at the end of a period: the one look every figure is read from.

A milestone's state then is models.rules.status.milestone_status over the facts recorded
before the period's end, the same function the engine uses every day; its title, project and
unit are those of that instant (history.MilestoneRecord.as_of).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.rules.bulletin.history import History, MilestoneRecord
from models.rules.bulletin.periods import Period, period_end
from models.rules.milestone_facts import facts_from_events
from models.rules.rulebook import Rules
from models.rules.status import Status, milestone_status
from models.tables.milestone import MilestoneState

DONE = frozenset({MilestoneState.claimed, MilestoneState.closed})


@dataclass(frozen=True)
class Standing:
    """One milestone at the end of one period."""

    record: MilestoneRecord
    status: Status
    due: bool
    done: bool     # due, and claimed (not sent back since) or closed
    on_time: bool
    overdue: bool

    @property
    def claim_stands(self) -> bool:
        """Claimed (not sent back since) or closed at the period's end, due or not."""
        return self.status.state in DONE


def look(history: History, period: Period, rules: Rules) -> dict[int, Standing]:
    """Every milestone that existed at the end of ``period`` and was not waived, by id."""
    end = period_end(period, rules)
    seen: dict[int, Standing] = {}
    for record in history.milestones:
        if (record.known_since is not None and record.known_since >= end) or (
                record.retired_at is not None and record.retired_at < end):
            continue
        facts = facts_from_events(record.planned_due_on, (
            (h.kind, h.on, h.data) for h in history.events.get(record.id, ()) if h.at < end))
        status = milestone_status(facts, period.last, rules.calendar,
                                  rules.policy(record.plan).due_soon_workdays)
        if status.state is MilestoneState.waived:
            continue
        due = status.due_on <= period.last
        done = due and status.state in DONE
        seen[record.id] = Standing(record.as_of(end, history.units), status, due, done,
                                   done and not status.late,
                                   status.state is MilestoneState.overdue)
    return seen
