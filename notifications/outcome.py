"""What a channel says about one delivery attempt. Errors are values with a permanence flag.

Retrying lives in one place (the outbox): a channel only says whether it is worth trying again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from models.tables.message import Channel, Message


@dataclass(frozen=True)
class Delivered:
    detail: str = ""        # what the far end answered, for the record (e.g. "250 OK queued")
    remote_id: str | None = None  # the far end's id for it, where it gives one (a task_id)


@dataclass(frozen=True)
class Failed:
    permanent: bool         # True: never retry (a refused recipient, a bad signature, a 4xx)
    reason: str             # names the problem for the office's dead-letter list


@dataclass(frozen=True)
class Postponed:
    """Not tried: it may not go before ``until`` (quiet hours, a per-person rate limit).
    Not an attempt, so it never counts towards giving up."""

    until: datetime
    reason: str


Outcome = Delivered | Failed | Postponed
Done = Callable[[Message, Outcome], Awaitable[None]]  # records an outcome before the next send


def never_composed(message: Message) -> bool:
    """A dead letter from composition (notifications.compose): stored with nothing to send."""
    return not (message.body_text if message.channel is Channel.webhook else message.raw)
