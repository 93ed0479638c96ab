"""Personal API tokens: issuing one, revoking a person's, finding whose a presented token is,
listing them, and noting their use.

Decisions:
- A token is ``dbn_`` + 256 random bits (url-safe base64). The prefix lets people and secret
  scanners recognise a leaked Duban token; only its SHA-256 digest is stored
  (models.tables.api_token), so the database cannot give a token away.
- A token acts as its person with the person's role and unit as they are at each call: a
  changed role changes what the token may do, and a deactivated person's tokens stop at once.
- Every token expires: 90 days after it is issued unless the office asks for another span
  (1 to 3,650 days; `duban people token --expires-in`). A script outlives its author's
  memory, and a leaked token that never expires is a door left open. An expired token is told
  so (401), with the date, so that its script's owner knows to ask for a new one. Tokens issued
  before expiry existed were given 90 days from the upgrade (migration 0008), not cut off.
- A read-only token may call only GET: a reporting script cannot change an item even if it, or
  its token, falls into the wrong hands. The refusal (403) is the web's (web.api).
- `last_used_at` shows the office which tokens are still in use. It is written at most once a
  minute per token, by a conditional UPDATE (two calls at once write it once), so a script
  polling the API does not turn every read into a write.
- `duban people revoke-tokens` stops all of a person's tokens, for a retired script or a leak.
  Issuing and revoking are events.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select, update

from models.store.events import record
from models.tables.api_token import ApiToken
from models.tables.columns import saved_id
from models.tables.event_kinds import EventKind
from models.tables.person import Person

PREFIX = "dbn_"
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=3650)
USE_RECORDED_EVERY = timedelta(minutes=1)


class TokenExpired(Exception):
    """A live token of an active person whose time is up."""

    def __init__(self, expires_at: datetime) -> None:
        super().__init__(f"expired at {expires_at.isoformat()}")
        self.expires_at = expires_at


@dataclass(frozen=True)
class Holder:
    """Who a presented token acts as, and what the token allows."""

    person: Person
    digest: str
    read_only: bool
    last_used_at: datetime | None

    def use_is_due(self, now: datetime) -> bool:
        """Whether this call should record the token's use (at most once a minute)."""
        return self.last_used_at is None or now - self.last_used_at >= USE_RECORDED_EVERY


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, person: Person, label: str, actor: str, now: datetime,
                expires_in: timedelta = DEFAULT_LIFETIME, read_only: bool = False) -> str:
    """A new token for ``person``: the only time it exists in clear is this return value."""
    if not timedelta(0) < expires_in <= MAX_LIFETIME:
        raise ValueError(f"有效期须在 1 至 {MAX_LIFETIME.days} 天之间")
    token = PREFIX + secrets.token_urlsafe(32)
    expires_at = now + expires_in
    session.add(ApiToken(digest=token_digest(token), person_id=saved_id(person),
                         label=label, created_at=now, expires_at=expires_at,
                         read_only=read_only))
    record(session, EventKind.person_api_token_issued, at=now, actor=actor, person_id=person.id,
           data={"label": label, "expires_at": expires_at.isoformat(), "read_only": read_only})
    return token


def revoke_tokens(*, session: Session, person: Person, actor: str, now: datetime) -> int:
    """Revoke every live token of ``person``; how many there were."""
    live = session.exec(select(ApiToken).where(ApiToken.person_id == person.id,
                                               col(ApiToken.revoked_at).is_(None))).all()
    for token in live:
        token.revoked_at = now
        session.add(token)
    if live:
        record(session, EventKind.person_api_tokens_revoked, at=now, actor=actor,
               person_id=person.id, data={"labels": [token.label for token in live]})
    return len(live)


def token_holder(*, session: Session, token: str, now: datetime) -> Holder | None:
    """Whom a live token acts as, or None (unknown, revoked, its person deactivated);
    `TokenExpired` when it is theirs but its time is up.

    The lookup is by digest (the primary key): an attacker cannot steer the digest, so the
    lookup's timing says nothing useful about stored tokens.
    """
    if not token.startswith(PREFIX):
        return None
    stored = session.get(ApiToken, token_digest(token))
    if stored is None or stored.revoked_at is not None:
        return None
    person = session.get(Person, stored.person_id)
    if person is None or not person.active:
        return None
    if now >= stored.expires_at:
        raise TokenExpired(stored.expires_at)
    return Holder(person, stored.digest, stored.read_only, stored.last_used_at)


def note_use(*, session: Session, digest: str, now: datetime) -> None:
    """Record that the token was used at ``now``, unless that was done less than a minute ago
    (the condition is in the UPDATE, so racing calls write it once)."""
    session.exec(update(ApiToken).where(
        col(ApiToken.digest) == digest,
        or_(col(ApiToken.last_used_at).is_(None),
            col(ApiToken.last_used_at) <= now - USE_RECORDED_EVERY))
        .values(last_used_at=now))


def tokens_of(*, session: Session, email: str | None) -> list[tuple[ApiToken, Person]]:
    """Every token (live, expired or revoked), of one person or of all, newest first."""
    query = select(ApiToken, Person).join(Person).order_by(
        col(ApiToken.created_at).desc(), col(ApiToken.digest))
    if email is not None:
        query = query.where(Person.email == email)
    return list(session.exec(query).all())
