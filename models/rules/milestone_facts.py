"""A milestone's facts from its events: the one reading of the event log that the engine (the
sweep, the item pages) and the bulletin (the history as it stood at a period's end) share.

Events are given as ``(kind, local day, data)`` in the order they happened, with the kind
without its ``milestone.`` prefix; kinds that are no fact (requests, acknowledgements, imports)
are passed over, so a caller may hand in a milestone's whole history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from models.rules.status import Decision, Extension, MilestoneFacts

EXTENSION_DECIDED = "extension_decided"
DECISIONS = frozenset(d.value for d in Decision)
FACT_KINDS = DECISIONS | {EXTENSION_DECIDED}  # the kinds that change a milestone's facts


def facts_from_events(planned_due_on: date,
                      events: Iterable[tuple[str, date, Mapping[str, Any]]]) -> MilestoneFacts:
    decisions: list[tuple[Decision, date]] = []
    extensions: list[Extension] = []
    for kind, on, data in events:
        if kind == EXTENSION_DECIDED:
            # A refusal changes nothing: the due date and the lateness stay as they were.
            if data.get("approved"):
                extensions.append(Extension(
                    requested_on=date.fromisoformat(data["requested_on"]), decided_on=on,
                    new_due_on=date.fromisoformat(data["new_due_on"])))
        elif kind in DECISIONS:
            decisions.append((Decision(kind), on))
    return MilestoneFacts(planned_due_on, tuple(decisions), tuple(extensions))
