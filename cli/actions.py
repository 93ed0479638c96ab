"""The actions on milestones for scripts and bulk work: `done`, `progress`, `extend`,
`extension`, `close`, `return`, `reopen`, `ack`, `snooze`, `major`, each with --json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cli import context
from cli.output import console, emit_json, fail
from cli.supervision import LIGHT_WORDS, STATE_WORDS, AsOf, Json, _clock, parse_day

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.rules.permissions import Action
    from models.tables.person import Person

Milestone = Annotated[int, typer.Argument(
    help="milestone id (节点编号 in `duban status` and `duban plans show`)")]
Milestones = Annotated[list[int], typer.Argument(
    help="one or more milestone ids: all are changed, or none")]
Reason = Annotated[str | None, typer.Option(help="why")]
By = Annotated[str | None, typer.Option(
    "--by", envvar="DUBAN_ACTOR", metavar="EMAIL",
    help="act as this person, held to their role and unit (an owner may not close). "
         "Without it you act as the office, as cli:<your login>: whoever can run duban on "
         "the database is trusted as the office.")]


def _act(do: Any, permission: Action, milestones: list[int], by: str | None, as_of: str | None,
         json: bool, **specific: Any) -> None:
    """Take one action on each milestone in one transaction: every one changes, or none.

    1. Who acts: ``--by`` names a person, who must exist, be active and be allowed the action
       on each item's unit (models.rules.permissions, the web's own table). Without it the
       operator acts as the office under "cli:<login>": the CLI runs with the database's
       credentials, so whoever can run it could change the rows directly anyway.
    2. Each id in turn: refused when unknown or not allowed, then the action of models.store.actions
       (which refuses what does not fit the item's state).
    3. One commit at the end; the first refusal rolls everything back and names its milestone.
    """
    from models.store.actions import ActionRefused
    from services.milestone_actions import take

    now = _clock(as_of)
    ids = list(dict.fromkeys(milestones))  # naming an item twice is not a second action
    with context.session() as db:
        person = _person(db, by)
        actor = person.email if person else context.actor()
        rows = []
        for milestone_id in ids:
            try:
                _check_allowed(db, person, permission, milestone_id)
                rows.append(take(do, session=db, settings=context.settings(),
                                 rules=context.rules(), milestone_id=milestone_id, actor=actor,
                                 actor_id=person.id if person else None, now=now, **specific))
            except ActionRefused as exc:
                batch = f" (all {len(ids)} milestones or none)" if len(ids) > 1 else ""
                fail(escape(f"milestone {milestone_id}: {exc}; nothing was changed{batch}"),
                     code=2)
        db.commit()
        results: list[dict[str, Any]] = [
                   {"milestone_id": row.id, "state": row.state, "light": row.light,
                    "due_on": row.due_on, "level": row.level,
                    "acknowledged_level": row.acknowledged_level,
                    "snoozed_until": row.snoozed_until, "major": row.major} for row in rows]
    if json:
        emit_json(results if len(results) > 1 else results[0])
        return
    for result in results:
        console.print(f"节点 {result['milestone_id']}：{STATE_WORDS[result['state']]}，"
                      f"{LIGHT_WORDS[result['light']]}，截止 {result['due_on']}",
                      highlight=False)


def _person(db: Session, by: str | None) -> Person | None:
    """The active person ``--by`` names, or None for the operator acting as the office."""
    from sqlmodel import select

    from models.tables.person import Person

    if by is None:
        return None
    person = db.exec(select(Person).where(Person.email == by.strip().lower())).first()
    if person is None:
        fail(escape(f"--by: no person with the email {by!r} (see `duban people list`); "
                    "nothing was changed"), code=2)
    if not person.active:
        fail(escape(f"--by: {person.email} is deactivated; nothing was changed"), code=2)
    return person


def _check_allowed(db: Session, person: Person | None, permission: Action,
                   milestone_id: int) -> None:
    from models.rules.permissions import allowed, lead_only, lead_only_message
    from models.store.actions import ActionRefused
    from models.store.co_units import co_unit_ids
    from models.tables.milestone import Milestone as Item
    from models.tables.unit import Unit

    milestone = db.get(Item, milestone_id)
    if milestone is None:
        raise ActionRefused(f"no milestone with id {milestone_id}")
    co = co_unit_ids(db, milestone.id)
    if person is None or allowed(role=person.role, person_unit_id=person.unit_id,
                                 action=permission, item_unit_id=milestone.unit_id,
                                 item_co_unit_ids=co, active=person.active):
        return
    if lead_only(role=person.role, person_unit_id=person.unit_id, action=permission,
                 item_unit_id=milestone.unit_id, item_co_unit_ids=co, active=person.active):
        raise ActionRefused(lead_only_message(permission))
    item_unit = db.get(Unit, milestone.unit_id)
    own = db.get(Unit, person.unit_id) if person.unit_id else None
    raise ActionRefused(f"{person.email} ({person.role}"
                        f"{' of ' + own.code if own else ''}) may not {permission.value} "
                        f"items of {item_unit.code if item_unit else 'no unit'}")


def done(milestones: Milestones,
         evidence: Annotated[str, typer.Option(help="what shows it is done")],
         by: By = None, as_of: AsOf = None, json: Json = False) -> None:
    """Mark milestones done (申报完成) with evidence; the office then closes or returns them."""
    from models.rules.permissions import Action
    from models.store.actions import claim_done

    _act(claim_done, Action.claim_done, milestones, by, as_of, json, evidence=evidence)


def progress(milestone: Milestone,
             percent: Annotated[float | None, typer.Option(help="share done, 0–100")] = None,
             note: Annotated[str | None, typer.Option(help="what was reached")] = None,
             by: By = None, as_of: AsOf = None, json: Json = False) -> None:
    """Report partial progress: a percent, a note, or both."""
    from models.rules.permissions import Action
    from models.store.actions import report_progress

    _act(report_progress, Action.report_progress, [milestone], by, as_of, json,
         percent=percent, note=note)


def extend(milestone: Milestone,
           to: Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD",
                                           help="the proposed new due date")],
           reason: Annotated[str, typer.Option(help="why more time is needed")],
           by: By = None, as_of: AsOf = None, json: Json = False) -> None:
    """Ask the office for an extension (the owner's request)."""
    from models.rules.permissions import Action
    from models.store.actions import request_extension

    _act(request_extension, Action.request_extension, [milestone], by, as_of, json,
         proposed=parse_day(to, "--to"), reason=reason)


def extension(milestone: Milestone,
              approve: Annotated[bool, typer.Option("--approve")] = False,
              reject: Annotated[bool, typer.Option("--reject")] = False,
              to: Annotated[str | None, typer.Option(
                  "--to", metavar="YYYY-MM-DD",
                  help="with --approve: a due date other than the one asked for")] = None,
              reason: Reason = None, by: By = None, as_of: AsOf = None,
              json: Json = False) -> None:
    """Decide a waiting extension request (the office): approve it, or reject it."""
    from models.rules.permissions import Action
    from models.store.actions import decide_extension

    if approve == reject:
        fail("give exactly one of --approve or --reject", code=2)
    if reject and to is not None:
        fail("--to goes with --approve: a rejection keeps the due date", code=2)
    _act(decide_extension, Action.decide_extension, [milestone], by, as_of, json,
         approved=approve, new_due_on=parse_day(to, "--to"), reason=reason)


def close(milestones: Milestones, reason: Reason = None, by: By = None, as_of: AsOf = None,
          json: Json = False) -> None:
    """Close out done-claimed milestones (销号): the office accepts the evidence."""
    from models.rules.permissions import Action
    from models.store.actions import close_out

    _act(close_out, Action.close, milestones, by, as_of, json, reason=reason)


def return_(milestone: Milestone,
            reason: Annotated[str, typer.Option(help="what is missing")],
            by: By = None, as_of: AsOf = None, json: Json = False) -> None:
    """Send a done claim back to be redone (退回重办)."""
    from models.rules.permissions import Action
    from models.store.actions import return_for_redo

    _act(return_for_redo, Action.return_for_redo, [milestone], by, as_of, json, reason=reason)


def reopen(milestone: Milestone, reason: Annotated[str, typer.Option(help="why")],
           by: By = None, as_of: AsOf = None, json: Json = False) -> None:
    """Reopen a closed or waived milestone."""
    from models.rules.permissions import Action
    from models.store.actions import reopen as reopen_item

    _act(reopen_item, Action.reopen, [milestone], by, as_of, json, reason=reason)


def ack(milestones: Milestones, reason: Reason = None, by: By = None, as_of: AsOf = None,
        json: Json = False) -> None:
    """Acknowledge escalations: stops the repeats at their level, not the climb."""
    from models.rules.permissions import Action
    from models.store.actions import acknowledge

    _act(acknowledge, Action.acknowledge, milestones, by, as_of, json, reason=reason)


def snooze(milestone: Milestone, until: Annotated[str, typer.Option(metavar="YYYY-MM-DD")],
           reason: Annotated[str, typer.Option(help="why")], by: By = None,
           as_of: AsOf = None, json: Json = False) -> None:
    """Hold an item's notices until a date."""
    from models.rules.permissions import Action
    from models.store.actions import snooze as snooze_item

    _act(snooze_item, Action.snooze, [milestone], by, as_of, json,
         until=parse_day(until, "--until"), reason=reason)


def major(milestone: Milestone, reason: Annotated[str, typer.Option(help="why")],
          off: Annotated[bool, typer.Option("--off", help="no longer major")] = False,
          by: By = None, as_of: AsOf = None, json: Json = False) -> None:
    """Mark an item as major: its escalation starts at a higher level."""
    from models.rules.permissions import Action
    from models.store.actions import mark_major

    _act(mark_major, Action.mark_major, [milestone], by, as_of, json, major=not off,
         reason=reason)


def instruct(milestone: Milestone, text: Annotated[str, typer.Option(help="the instruction")],
             by: By = None, as_of: AsOf = None, json: Json = False) -> None:
    """领导批示: a leader's instruction, told to the unit and quoted in its next 督办单."""
    from models.rules.permissions import Action
    from models.store.actions import instruct as write_instruction

    _act(write_instruction, Action.instruct, [milestone], by, as_of, json, text=text)


def chase(milestones: Milestones, reason: Reason = None, by: By = None, as_of: AsOf = None,
          json: Json = False) -> None:
    """催办 now: each unit's owners are told at once; the ladder goes on as it was."""
    from models.rules.permissions import Action
    from models.store.actions import chase as chase_item

    _act(chase_item, Action.chase, milestones, by, as_of, json, reason=reason)


def transfer(milestone: Milestone, to: Annotated[str, typer.Option(help="the new unit's code")],
             reason: Annotated[str, typer.Option(help="why")], by: By = None,
             as_of: AsOf = None, json: Json = False) -> None:
    """转办: hand an item to another unit; both units are told."""
    from models.rules.permissions import Action
    from models.store.actions import transfer as hand_over

    _act(hand_over, Action.transfer, [milestone], by, as_of, json, to_unit=to, reason=reason)
