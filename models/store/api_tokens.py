"""Personal API tokens: issuing one, revoking a person's, finding whose a presented token is.

Decisions:
- A token is ``dbn_`` + 256 random bits (url-safe base64). The prefix lets people and secret
  scanners recognise a leaked Duban token; only its SHA-256 digest is stored
  (models.tables.api_token), so the database cannot give a token away.
- A token acts as its person with the person's role and unit as they are at each call: a
  changed role changes what the token may do, and a deactivated person's tokens stop at once.
- Tokens do not expire: they serve scripts the office runs. `duban people revoke-tokens` stops
  all of a person's tokens, for a retired script or a leak. Issuing and revoking are events.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from models.store.events import record
from models.tables.api_token import ApiToken
from models.tables.columns import saved_id
from models.tables.event_kinds import EventKind
from models.tables.person import Person

PREFIX = "dbn_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, person: Person, label: str, actor: str,
                now: datetime) -> str:
    """A new token for ``person``: the only time it exists in clear is this return value."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(digest=token_digest(token), person_id=saved_id(person),
                         label=label, created_at=now))
    record(session, EventKind.person_api_token_issued, at=now, actor=actor, person_id=person.id,
           data={"label": label})
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


def token_person(*, session: Session, token: str) -> Person | None:
    """The active person a live token belongs to, or None.

    The lookup is by digest (the primary key): an attacker cannot steer the digest, so the
    lookup's timing says nothing useful about stored tokens.
    """
    if not token.startswith(PREFIX):
        return None
    stored = session.get(ApiToken, token_digest(token))
    if stored is None or stored.revoked_at is not None:
        return None
    person = session.get(Person, stored.person_id)
    return person if person is not None and person.active else None
