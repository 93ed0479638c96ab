"""A milestone's facts from its events: the one reading of the event log that the engine (the
sweep, the item pages) and the bulletin (the history as it stood at a period's end) share.

Events are given as ``(kind, local day, data)`` in the order they happened; kinds that are no
fact (requests, acknowledgements, imports) are passed over, so a caller may hand in a
milestone's whole history. The data of a fact is read as its kind's typed payload, so a
malformed row raises EventInvalid naming the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from models.rules.status import Decision, Extension, MilestoneFacts
from models.tables.event_kinds import DECISION_KINDS, EventKind, ExtensionDecided, payload

DECISIONS = {kind: Decision(kind.value.removeprefix("milestone.")) for kind in DECISION_KINDS}


def facts_from_events(planned_due_on: date,
                      events: Iterable[tuple[str, date, Mapping[str, Any]]]) -> MilestoneFacts:
    decisions: list[tuple[Decision, date]] = []
    extensions: list[Extension] = []
    for kind, on, data in events:
        if kind == EventKind.extension_decided:
            decided = payload(kind, dict(data))
            assert isinstance(decided, ExtensionDecided)
            # A refusal changes nothing: the due date and the lateness stay as they were.
            if decided.approved:
                extensions.append(Extension(requested_on=decided.requested_on, decided_on=on,
                                            new_due_on=decided.new_due_on))
        elif kind in DECISIONS:
            decisions.append((DECISIONS[EventKind(kind)], on))
    return MilestoneFacts(planned_due_on, tuple(decisions), tuple(extensions))
