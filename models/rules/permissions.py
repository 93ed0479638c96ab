"""Who may do what: the web app's authorisation rules as one pure function.

Every route asks `allowed(...)` with the person's role, unit and active flag and the item's
unit; the rules live here alone so they can be read and tested as a table. Deny by default:
an unknown role, an inactive person or an action not listed is refused.

==========  ==============================================================  ============
role        actions                                                          where
==========  ==============================================================  ============
owner       view_item, report_progress, claim_done, request_extension        own unit only
office      every action                                                     anywhere
leader      view_item                                                        anywhere
admin       manage_people, view_outbox, view_item                            anywhere
(other)     nothing
==========  ==============================================================  ============

"Own unit" needs both units known and equal: an owner without a unit, or an item without one,
opens nothing. ``manage_people`` covers people, their passwords and API tokens, and units'
contacts: the office does it (the issue asks for it), and so may an admin who supervises nothing.
"""

from __future__ import annotations

from enum import StrEnum

from models.tables.person import Role


class Action(StrEnum):
    view_item = "view_item"
    report_progress = "report_progress"
    claim_done = "claim_done"
    request_extension = "request_extension"
    decide_extension = "decide_extension"
    acknowledge = "acknowledge"
    snooze = "snooze"
    close = "close"
    return_for_redo = "return_for_redo"
    reopen = "reopen"
    waive = "waive"
    mark_major = "mark_major"
    manage_people = "manage_people"
    view_outbox = "view_outbox"


_ANYWHERE: dict[str, frozenset[Action]] = {
    Role.office: frozenset(Action),
    Role.leader: frozenset({Action.view_item}),
    Role.admin: frozenset({Action.manage_people, Action.view_outbox, Action.view_item}),
}

_OWN_UNIT: dict[str, frozenset[Action]] = {
    Role.owner: frozenset(
        {Action.view_item, Action.report_progress, Action.claim_done, Action.request_extension}
    ),
}


def allowed(
    *,
    role: str,
    person_unit_id: int | None,
    action: Action,
    item_unit_id: int | None,
    active: bool = True,
) -> bool:
    """Whether someone of `role` in `person_unit_id` may take `action` on an `item_unit_id` item.

    `item_unit_id` is None for actions on no item (people, the outbox).
    """
    if not active:
        return False
    if action in _ANYWHERE.get(role, frozenset()):
        return True
    if action in _OWN_UNIT.get(role, frozenset()):
        return person_unit_id is not None and person_unit_id == item_unit_id
    return False
