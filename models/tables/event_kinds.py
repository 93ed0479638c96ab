"""What an event says: its kind, and the shape of its data for each kind.

Every event is written through ``models.store.events.record``, which refuses an unknown kind
and validates the data against the kind's payload model; code that reads an event's data
reads it through `payload`, which validates it again, so a malformed row fails where it is
read, naming the event, rather than as a KeyError three calls away. The stored JSON keeps the
shape it always had: a payload is dumped with exactly the keys it was given, dates as ISO text.

Kinds are a StrEnum, so a member equals its stored text (``EventKind.done_claimed ==
"milestone.done_claimed"``) and queries compare them directly with the column.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class EventKind(StrEnum):
    # What people do to a milestone (models.store.actions)
    done_claimed = "milestone.done_claimed"
    returned = "milestone.returned"
    closed = "milestone.closed"
    reopened = "milestone.reopened"
    waived = "milestone.waived"
    extension_requested = "milestone.extension_requested"
    extension_decided = "milestone.extension_decided"
    acknowledged = "milestone.acknowledged"
    snoozed = "milestone.snoozed"
    marked_major = "milestone.marked_major"
    unmarked_major = "milestone.unmarked_major"
    progress_reported = "milestone.progress_reported"
    instructed = "milestone.instructed"   # 领导批示: the text is the event's reason
    chased = "milestone.chased"           # 催办 by the office, now
    transferred = "milestone.transferred"  # 转办 to another unit
    # The numbered 督办单 (models.store.orders)
    order_issued = "order.issued"
    order_received = "order.received"                 # 签收 by the unit
    order_receipt_overdue = "order.receipt_overdue"   # 逾期未签收, raised once
    feedback_missed = "milestone.feedback_missed"     # 催报: a progress report is overdue
    # What the engine decides
    status_changed = "milestone.status_changed"
    # One per sweep: how many items' lights time alone changed (each is a light_change row)
    lights_changed = "sweep.lights_changed"
    evaluation_failed = "milestone.evaluation_failed"
    indicator_reported = "indicator.reported"
    indicator_light_changed = "indicator.light_changed"
    # What a plan import writes (models.store.plan_import)
    plan_created = "plan.created"
    plan_updated = "plan.updated"
    unit_created = "unit.created"
    unit_updated = "unit.updated"
    project_created = "project.created"
    project_updated = "project.updated"
    project_removed = "project.removed"
    project_retired = "project.retired"
    project_restored = "project.restored"
    milestone_created = "milestone.created"
    milestone_updated = "milestone.updated"
    milestone_removed = "milestone.removed"
    milestone_retired = "milestone.retired"
    milestone_restored = "milestone.restored"
    co_units_changed = "milestone.co_units_changed"  # 协办单位变更
    indicator_created = "indicator.created"
    indicator_updated = "indicator.updated"
    indicator_removed = "indicator.removed"
    indicator_retired = "indicator.retired"
    indicator_restored = "indicator.restored"
    # People, units and access
    person_created = "person.created"
    person_updated = "person.updated"
    person_deactivated = "person.deactivated"
    person_reactivated = "person.reactivated"
    person_password_set = "person.password_set"
    person_api_token_issued = "person.api_token_issued"
    person_api_tokens_revoked = "person.api_tokens_revoked"
    unit_contact_set = "unit.contact_set"
    # The outbox and the bulletins
    message_dead = "message.dead"
    message_retried = "message.retried"
    bulletin_generated = "bulletin.generated"
    bulletin_regenerated = "bulletin.regenerated"
    bulletin_sent = "bulletin.sent"


# The kinds that are decisions on a milestone's state (models.rules.status.Decision).
DECISION_KINDS = (EventKind.done_claimed, EventKind.returned, EventKind.closed,
                  EventKind.reopened, EventKind.waived)
# The kinds a milestone's facts are read from (its decisions and its approved extensions).
FACT_KINDS = (*DECISION_KINDS, EventKind.extension_decided)
# What a plan import writes. Any other event on an item is history a re-import must not erase.
IMPORT_KINDS = frozenset(k for k in EventKind
                         if k.value.rsplit(".", 1)[-1] in
                         ("created", "updated", "removed", "retired", "restored")
                         and not k.value.startswith("person.")) | {EventKind.co_units_changed}


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Nothing(Payload):
    """Kinds whose reason (the event's own column) says all."""


class DoneClaimed(Payload):
    evidence: str


class ExtensionRequested(Payload):
    proposed_due_on: date
    due_on: date


class ExtensionDecided(Payload):
    approved: bool
    request_id: int | None = None  # the request decided; absent in hand-made histories
    requested_on: date
    new_due_on: date
    previous_due_on: date


class Acknowledged(Payload):
    level: int


class Snoozed(Payload):
    until: date


class ProgressReported(Payload):
    percent: float | None = None


class StatusChanged(Payload):
    state: tuple[str, str]
    light: tuple[str, str]
    due_on: date
    overdue_workdays: int


class LightsChanged(Payload):
    sweep_id: str
    as_of: date
    changed: int


class EvaluationFailed(Payload):
    model_config = ConfigDict(extra="allow", frozen=True)
    error: str


class IndicatorReported(Payload):
    value: float
    code: str
    name: str
    measure: str | None
    as_of: date
    previous: float | None


class IndicatorLightChanged(Payload):
    light: tuple[str | None, str]
    as_of: date


class Imported(Payload):
    """A plan import's record: the row as it was made or removed, or its ``changes`` as
    ``{field: [old, new]}``, and the ``file`` it came from."""

    model_config = ConfigDict(extra="allow", frozen=True)
    file: str | None = None
    changes: dict[str, Any] | None = None


class CoUnitsChanged(Payload):
    """A plan import's change of a milestone's co-units: the codes before and after (each in
    code order), and every code's unit name, so the history says it without a lookup."""

    file: str | None = None
    co_units: tuple[list[str], list[str]]
    names: dict[str, str]


class Changes(Payload):
    changes: dict[str, Any]


class PersonCreated(Payload):
    values: dict[str, Any]


class TokenIssued(Payload):
    label: str
    expires_at: str | None = None  # ISO 8601; None in events from before tokens expired
    read_only: bool = False


class TokensRevoked(Payload):
    labels: list[str]


class Transferred(Payload):
    from_unit_id: int
    to_unit_id: int


class OrderNoted(Payload):
    order_id: int
    number: str


class OrderIssued(OrderNoted):
    # The feedback rhythm the order states (orders.feedback_workdays then): kept with its
    # issue so that the order prints the same after the policy changes. Absent before.
    feedback_workdays: int | None = None


class MessageDead(Payload):
    message_id: int | None
    address: str
    attempts: int


class MessageRetried(Payload):
    message_id: int
    previous_status: str
    last_error: str | None


class BulletinGenerated(Payload):
    bulletin: int | None
    scope: str
    period: tuple[date, date]
    edition: str
    same_figures: bool


class BulletinSent(Payload):
    bulletin: int | None
    send: int
    queued: int
    resend: bool


PAYLOADS: dict[EventKind, type[Payload]] = {
    EventKind.done_claimed: DoneClaimed,
    EventKind.extension_requested: ExtensionRequested,
    EventKind.extension_decided: ExtensionDecided,
    EventKind.acknowledged: Acknowledged,
    EventKind.snoozed: Snoozed,
    EventKind.progress_reported: ProgressReported,
    EventKind.status_changed: StatusChanged,
    EventKind.lights_changed: LightsChanged,
    EventKind.evaluation_failed: EvaluationFailed,
    EventKind.indicator_reported: IndicatorReported,
    EventKind.indicator_light_changed: IndicatorLightChanged,
    EventKind.person_created: PersonCreated,
    EventKind.person_updated: Changes,
    EventKind.unit_contact_set: Changes,
    EventKind.person_api_token_issued: TokenIssued,
    EventKind.person_api_tokens_revoked: TokensRevoked,
    EventKind.message_dead: MessageDead,
    EventKind.transferred: Transferred,
    EventKind.order_issued: OrderIssued,
    EventKind.order_received: OrderNoted,
    EventKind.order_receipt_overdue: OrderNoted,
    EventKind.message_retried: MessageRetried,
    EventKind.bulletin_generated: BulletinGenerated,
    EventKind.bulletin_regenerated: BulletinGenerated,
    EventKind.bulletin_sent: BulletinSent,
    **dict.fromkeys(IMPORT_KINDS, Imported),
    EventKind.co_units_changed: CoUnitsChanged,
}


class EventInvalid(ValueError):
    """An event whose kind is unknown or whose data does not have its kind's shape."""


def kind_of(kind: str) -> EventKind:
    try:
        return EventKind(kind)
    except ValueError:
        raise EventInvalid(f"unknown event kind {kind!r}") from None


def validated(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as stored for ``kind``: checked against its payload, the keys it was given,
    dates as ISO text. Raises EventInvalid naming the kind and the problem."""
    model = PAYLOADS.get(kind_of(kind), Nothing)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise EventInvalid(f"{kind}: {_problems(exc)}") from None
    return parsed.model_dump(mode="json", exclude_unset=True)


def payload(kind: str, data: dict[str, Any], *, event_id: int | None = None) -> Any:
    """The typed payload of a stored event; EventInvalid names the event when it is malformed."""
    model = PAYLOADS.get(kind_of(kind), Nothing)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise EventInvalid(f"event {event_id} ({kind}): {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'data'}: {e['msg']}"
                     for e in exc.errors())
