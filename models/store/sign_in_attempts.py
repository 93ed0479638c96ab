"""The sign-in limiter's reservations, atomic across processes.

A slot is reserved before the password is checked and in its own short transaction, so that
the slow check (argon2) holds no lock and the reservation is visible to every other process
while it runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, text
from sqlmodel import Session, col, select

from models.rules.sign_in_limits import SignInLimits, SignInRefused, refusal
from models.tables.sign_in_attempt import SignInAttempt

# The two classes of advisory lock (PostgreSQL), taken in this order: email, then address.
_EMAIL_LOCK, _ADDRESS_LOCK = 1, 2


def reserve_attempt(*, session: Session, email: str, address: str, now: datetime,
                    limits: SignInLimits) -> SignInRefused | None:
    """Reserve one attempt for `email` from `address`, or say why not; commits.

    1. Serialise reservations for the same email and the same address: on PostgreSQL with two
       transaction-scoped advisory locks (always email first, so two of them cannot deadlock);
       on SQLite the session must come from a writer engine, whose BEGIN IMMEDIATE already
       serialises every writer.
    2. Prune the attempts that have left the window (an index range on attempted_at).
    3. Count the email's and the address's attempts in the window, the ones still being
       checked included; over either limit, refuse and record nothing.
    4. Otherwise insert the attempt: it stands as a failure until `clear_attempts`.
    """
    since = now - limits.window
    if session.connection().dialect.name == "postgresql":
        for lock_class, key in ((_EMAIL_LOCK, email), (_ADDRESS_LOCK, address)):
            session.execute(text("SELECT pg_advisory_xact_lock(:c, hashtext(:k))"),
                            {"c": lock_class, "k": key})
    session.execute(delete(SignInAttempt).where(col(SignInAttempt.attempted_at) <= since))
    refused = refusal(email_attempts=_count(session, col(SignInAttempt.email) == email, since),
                      address_attempts=_count(session, col(SignInAttempt.address) == address,
                                              since),
                      limits=limits)
    if refused is None:
        session.add(SignInAttempt(email=email, address=address, attempted_at=now))
    session.commit()
    return refused


def clear_attempts(*, session: Session, email: str) -> None:
    """A success: the email's attempts, from every address, no longer count. Does not commit."""
    session.execute(delete(SignInAttempt).where(col(SignInAttempt.email) == email))


def _count(session: Session, where: ColumnElement[bool], since: datetime) -> int:
    query = (select(func.count()).select_from(SignInAttempt)
             .where(where, col(SignInAttempt.attempted_at) > since))
    return session.exec(query).one()
