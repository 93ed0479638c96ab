"""Who may do what: the web app's authorisation rules as one pure function.

Every route asks `allowed(...)` with the person's role, unit and active flag and the item's
unit; the rules live here alone so they can be read and tested as a table. Deny by default:
an unknown role, an inactive person or an action not listed is refused.

==========  ==============================================================  ============
role        actions                                                          where
==========  ==============================================================  ============
owner       view_item, report_progress, claim_done, request_extension        own unit only
owner       view_item, report_progress                                       a co-unit (协办)
office      every action                                                     anywhere
leader      view_item                                                        anywhere
leader      instruct (领导批示)                                              their remit
admin       manage_people, view_outbox, view_item                            anywhere
(other)     nothing
==========  ==============================================================  ============

A leader's remit is the unit they are in charge of (their unit), or every unit for a leader
with none, as the ladder's leader level reaches them (models.store.directory).
"Own unit" is the item's lead unit (牵头单位, ``item_unit_id``); a co-unit (协办单位,
``item_co_unit_ids``) sees the item and reports progress, and only the lead claims it done or
asks for more time (`lead_only` says when a refusal is for that reason, `LEAD_ONLY` in words).
"Own unit" needs both units known and equal: an owner without a unit, or an item without one,
opens nothing. ``manage_people`` covers people, their passwords and API tokens, and units'
contacts: the office does it (the issue asks for it), and so may an admin who supervises nothing.

Managing people grants no power one does not hold (`may_manage`): someone who may manage people
may create, change the role of, set the password of, deactivate or reactivate, or issue tokens
for only people of a role whose actions anywhere are a subset of their own:

==========  =======================================  ==========================================
actor       may manage people of role                because
==========  =======================================  ==========================================
office      office, admin, leader, owner             the office holds every action
admin       admin, leader, owner                     not office: closing, deciding extensions…
                                                     are not the admin's
leader      no one                                   no manage_people
owner       no one                                   no manage_people
==========  =======================================  ==========================================

An owner's actions count as none here: they reach only their own unit's items, and enrolling
owners is what an admin is for; every action that reaches all units must be the actor's own.
"""

from __future__ import annotations

from collections.abc import Collection
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
    instruct = "instruct"      # 领导批示
    chase = "chase"            # 催办, now
    transfer = "transfer"      # 转办, to another unit
    manage_people = "manage_people"
    view_outbox = "view_outbox"


_ANYWHERE: dict[str, frozenset[Action]] = {
    Role.office: frozenset(Action),
    Role.leader: frozenset({Action.view_item}),
    Role.admin: frozenset({Action.manage_people, Action.view_outbox, Action.view_item}),
}

_REMIT: dict[str, frozenset[Action]] = {
    Role.leader: frozenset({Action.instruct}),
}

_OWN_UNIT: dict[str, frozenset[Action]] = {
    Role.owner: frozenset(
        {Action.view_item, Action.report_progress, Action.claim_done, Action.request_extension}
    ),
}


_CO_UNIT: dict[str, frozenset[Action]] = {
    Role.owner: frozenset({Action.view_item, Action.report_progress}),
}
_LEAD_WORDS = {Action.claim_done: "申报完成", Action.request_extension: "申请延期"}
LEAD_ONLY = "只有牵头单位可以{what}：您所在单位是该事项的协办单位，可以查看事项、报告进度。"


def lead_only(*, role: str, person_unit_id: int | None, action: Action,
              item_unit_id: int | None, item_co_unit_ids: Collection[int] = (),
              active: bool = True) -> bool:
    """Whether `action` is refused only because the person's unit co-handles the item (协办)
    and the action is the lead unit's (牵头单位)."""
    return (active and person_unit_id is not None and person_unit_id != item_unit_id
            and person_unit_id in item_co_unit_ids
            and action in _OWN_UNIT.get(role, frozenset())
            and action not in _CO_UNIT.get(role, frozenset()))


def lead_only_message(action: Action) -> str:
    return LEAD_ONLY.format(what=_LEAD_WORDS.get(action, "办理此项"))


def may_manage(*, actor_role: str, target_role: str, active: bool = True) -> bool:
    """Whether an (active) person of `actor_role` may manage a person of `target_role`: give
    someone that role, take it from them, or set their password, activity or tokens.

    Changing a role asks it for both the old role and the new one. An unknown role is refused.
    """
    if not active or Action.manage_people not in _ANYWHERE.get(actor_role, frozenset()):
        return False
    if target_role not in _ANYWHERE and target_role not in _OWN_UNIT:
        return False
    return _ANYWHERE.get(target_role, frozenset()) <= _ANYWHERE[actor_role]


def allowed(
    *,
    role: str,
    person_unit_id: int | None,
    action: Action,
    item_unit_id: int | None,
    item_co_unit_ids: Collection[int] = (),
    active: bool = True,
) -> bool:
    """Whether someone of `role` in `person_unit_id` may take `action` on an `item_unit_id` item
    that the units `item_co_unit_ids` co-handle.

    `item_unit_id` is None for actions on no item (people, the outbox).
    """
    if not active:
        return False
    if action in _ANYWHERE.get(role, frozenset()):
        return True
    if action in _REMIT.get(role, frozenset()):
        return item_unit_id is not None and person_unit_id in (None, item_unit_id)
    if action in _OWN_UNIT.get(role, frozenset()) and person_unit_id is not None \
            and person_unit_id == item_unit_id:
        return True
    return (action in _CO_UNIT.get(role, frozenset()) and person_unit_id is not None
            and person_unit_id in item_co_unit_ids)
