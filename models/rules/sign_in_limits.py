"""How many sign-in attempts an email and a client address may have in a window.

An attempt counts from the moment it is reserved (before the password is checked) until it
succeeds, which clears that email's attempts, or until it leaves the window. So attempts being
checked at this very moment count as failures: 30 racing wrong passwords get `per_email` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class SignInRefused(StrEnum):
    """Why a sign-in is refused before its password is checked."""

    email = "email"  # too many failures for this email, from anywhere
    address = "address"  # too many failures from this client address, for any email


@dataclass(frozen=True)
class SignInLimits:
    per_email: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


def refusal(*, email_attempts: int, address_attempts: int,
            limits: SignInLimits) -> SignInRefused | None:
    """Whether one more attempt may be reserved, given the attempts already in the window."""
    if email_attempts >= limits.per_email:
        return SignInRefused.email
    if address_attempts >= limits.per_address:
        return SignInRefused.address
    return None
