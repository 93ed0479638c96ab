"""Signed, expiring links that open one milestone for one person.

A token carries (person id, milestone id, nonce) and the time it was issued, signed with the
app's secret through itsdangerous (salt ``duban-item-link``, so a token made for another purpose
with the same secret never reads as a link). Reading a token checks the signature first, then the
age: a token that is both forged and old is "tampered", never "expired".

What this module does not do, on purpose: it keeps no state. Single use and "following a link
changes nothing" are enforced by the app: opening a link only shows the item (GET is safe; mail
scanners follow links), the change is a POST from that page, and the nonce is stored when the
link is first used, so a second use is refused by a unique key rather than by this code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALT = "duban-item-link"
# A 签收 link (an order's e-mail, a DingTalk or WeCom card's button) is the same shape with
# the order's id for the milestone's, under its own salt: an item link never signs an order.
RECEIPT_SALT = "duban-order-receipt"
START_PAGE = 0  # the "milestone" of a link that signs its person in to the start page

Reason = Literal["expired", "tampered"]


class LinkInvalid(Exception):
    """A link that must not open anything; `reason` says what to tell the person."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(frozen=True)
class LinkClaims:
    person_id: int
    milestone_id: int
    nonce: str
    issued_at: datetime  # UTC, whole seconds


def make_link_token(*, secret: str, person_id: int, milestone_id: int, nonce: str,
                    now: float | None = None, salt: str = SALT) -> str:
    """A URL-safe token for `person_id` to open `milestone_id` (under RECEIPT_SALT: to sign
    for the order of that id), stamped with `now` (a Unix time; the clock when not given)."""
    return _serializer(secret, now=now, salt=salt).dumps([person_id, milestone_id, nonce])


def read_link_token(
    *, secret: str, token: str, max_age_seconds: int, now: float | None = None,
    salt: str = SALT,
) -> LinkClaims:
    """The claims of a valid token, or `LinkInvalid("expired" | "tampered")`.

    `now` (a Unix time) replaces the clock for the age check, so one operation uses one `now`.
    """
    try:
        payload, issued_at = _serializer(secret, now=now, salt=salt).loads(
            token, max_age=max_age_seconds, return_timestamp=True
        )
    except SignatureExpired as error:
        raise LinkInvalid("expired") from error
    except BadData as error:  # bad signature, bad timestamp, undecodable payload
        raise LinkInvalid("tampered") from error
    return _claims(payload, issued_at)


def _claims(payload: Any, issued_at: datetime) -> LinkClaims:
    """Validate the payload's shape: a correctly signed token we did not write is still refused."""
    if not (isinstance(payload, list) and len(payload) == 3):
        raise LinkInvalid("tampered")
    person_id, milestone_id, nonce = payload
    if not (_is_id(person_id) and _is_id(milestone_id) and isinstance(nonce, str) and nonce):
        raise LinkInvalid("tampered")
    return LinkClaims(person_id, milestone_id, nonce, issued_at)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _serializer(secret: str, *, now: float | None, salt: str) -> URLSafeTimedSerializer:
    """itsdangerous' timed serializer, its signer reading `now` instead of the clock if given."""
    if now is None:
        return URLSafeTimedSerializer(secret, salt=salt)
    frozen = int(now)

    class _FrozenClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return frozen

    return URLSafeTimedSerializer(secret, salt=salt, signer=_FrozenClockSigner)
