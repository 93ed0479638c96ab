"""A milestone's state and light: one pure function of its stored facts and a given day.

Nothing here reads the clock or the database, so every rule can be tested at any date.

Facts come from the event log (see ``models.store.actions``): the owner's claims, the office's
decisions and approved extensions. The rules:
- Lateness is measured at the owner's (latest) claim and kept for good. An extension moves the
  due date for lateness only if it was asked for before the due date in force then; one asked
  for after the item fell late moves the working due date, but the item stays late (超时).
- State: closed (销号) and waived stay so until reopened; a claimed item (申报完成) waits for the
  office; an open item is overdue after its due date, due soon inside the policy's window,
  returned (退回重办) when sent back and not yet late or due soon, else pending.
- Light: red when overdue, yellow when due soon, blue (待核实) when claimed and waiting for the
  office, green otherwise (closed, waived, or open and on track).

Why a claim is blue, not green: green tells a leader "done or on track, nothing to do", but a
claim is only the owner's word until the office accepts the evidence (销号) or sends it back
(退回). Showing it green would report work as done that may be returned, and hide the office's
own queue. Blue is the colour no other light uses, carries no alarm (red/yellow mean "late" and
"soon"), and reads as "information, waiting for someone": the office's 待核实 list is the blue
items. Lateness is not changed by it: a claim is measured at the claim day (a claim made after
the due date is 超时 whether it is blue, green after 销号, or sent back), so the bulletin's
on-time figures, which count claims by their claim day, are the same as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from models.rules.workdays import WorkCalendar
from models.tables.milestone import Light, MilestoneState


class Decision(StrEnum):
    """What happened to a milestone, in the order it happened."""

    claimed = "done_claimed"  # the owner marks it done, with evidence
    returned = "returned"     # the office sends it back to be redone
    closed = "closed"         # the office accepts it (销号)
    reopened = "reopened"
    waived = "waived"


@dataclass(frozen=True)
class Extension:
    requested_on: date
    decided_on: date
    new_due_on: date


@dataclass(frozen=True)
class MilestoneFacts:
    planned_due_on: date
    decisions: tuple[tuple[Decision, date], ...] = ()   # in order
    extensions: tuple[Extension, ...] = ()              # approved ones, in order of decision


@dataclass(frozen=True)
class Status:
    state: MilestoneState
    light: Light
    due_on: date              # in force: the planned date moved by approved extensions
    due_soon_from: date
    overdue_workdays: int     # working days past due_on; 0 unless overdue
    late: bool                # done after, or still open after, the due date that counts
    claimed_on: date | None
    provisional: bool         # a date above was computed on an assumed Monday–Friday week

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


OPEN_STATES = frozenset({MilestoneState.pending, MilestoneState.due_soon, MilestoneState.overdue,
                         MilestoneState.returned})


def milestone_status(facts: MilestoneFacts, today: date, calendar: WorkCalendar,
                     due_soon_workdays: int) -> Status:
    due_on = _due_in_force(facts, today)
    lateness_due = _due_for_lateness(facts, today)
    due_soon_from = calendar.add_workdays(due_on, -due_soon_workdays) if due_soon_workdays \
        else due_on
    settled, claimed_on, returned = _settled_state(facts, today)
    if settled is not None:
        state = settled
    elif today > due_on:
        state = MilestoneState.overdue
    elif today >= due_soon_from:
        state = MilestoneState.due_soon
    else:
        state = MilestoneState.returned if returned else MilestoneState.pending
    overdue = calendar.workdays_between(due_on, today) if state is MilestoneState.overdue else 0
    light = {MilestoneState.overdue: Light.red, MilestoneState.due_soon: Light.yellow,
             MilestoneState.claimed: Light.blue}.get(state, Light.green)
    measured_on = claimed_on if claimed_on is not None else today
    late = state is not MilestoneState.waived and measured_on > lateness_due
    provisional = any(calendar.is_provisional(d) for d in (due_on, due_soon_from, today))
    return Status(state, light, due_on, due_soon_from, overdue, late, claimed_on, provisional)


def _due_in_force(facts: MilestoneFacts, today: date) -> date:
    due = facts.planned_due_on
    for extension in facts.extensions:
        if extension.decided_on <= today:
            due = extension.new_due_on
    return due


def _due_for_lateness(facts: MilestoneFacts, today: date) -> date:
    due = facts.planned_due_on
    for extension in facts.extensions:
        if extension.decided_on <= today and extension.requested_on <= due:
            due = extension.new_due_on
    return due


def _settled_state(facts: MilestoneFacts, today: date
                   ) -> tuple[MilestoneState | None, date | None, bool]:
    """Fold the decisions up to today: (terminal or claimed state, claim day, sent back?)."""
    state: MilestoneState | None = None
    claimed_on: date | None = None
    returned = False
    for decision, on in facts.decisions:
        if on > today:
            break
        if decision is Decision.claimed:
            state, claimed_on = MilestoneState.claimed, on
        elif decision is Decision.returned:
            state, claimed_on, returned = None, None, True
        elif decision is Decision.closed:
            state = MilestoneState.closed
        elif decision is Decision.waived:
            state = MilestoneState.waived
        elif decision is Decision.reopened:
            state, claimed_on, returned = None, None, False
    return state, claimed_on, returned


def next_change_on(status: Status, today: date) -> date | None:
    """The next day on which the status could change with no new facts (None: never)."""
    if not status.is_open:
        return None
    if today < status.due_soon_from:
        return status.due_soon_from
    if today <= status.due_on:
        return status.due_on + timedelta(days=1)
    return None  # overdue stays overdue; the ladder has its own next date
