"""What a channel says about one delivery attempt. Errors are values with a permanence flag.

Retrying lives in one place (the outbox): a channel only says whether it is worth trying again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Delivered:
    detail: str = ""        # what the far end answered, for the record (e.g. "250 OK queued")


@dataclass(frozen=True)
class Failed:
    permanent: bool         # True: never retry (a refused recipient, a bad signature, a 4xx)
    reason: str             # names the problem for the office's dead-letter list


Outcome = Delivered | Failed
