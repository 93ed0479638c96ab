"""The link to an item in an email: one that signs its person in, or the plain item page.

Every email goes to one address. When a person in the database receives it, each item link is
``{base_url}/l/{token}``: signed with the app's key (config.secret, the key the web app checks
with), it opens once within 14 days, signs that person in and shows the item (web/auth.py,
``follow_link``), so an owner on a phone acts without a password. An address no person answers
for (a unit's contact mailbox) gets ``{base_url}/milestones/{id}``, which asks for a password:
a link that signs someone in must reach only that someone's mailbox.

Each link has a fresh random nonce, so every item of every email opens once, independently of
the others, and no two emails share a link. The token is stamped with the time of the
operation that composes the email, from the runtime's clock (services.runtime), the clock the
web app checks its age against: in a replay both stand at the replayed day.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from config.secret import secret_key
from config.settings import Settings
from models.rules.item_links import (  # itsdangerous only: no web framework in the sender
    RECEIPT_SALT,
    make_link_token,
)


@dataclass(frozen=True)
class ItemLinks:
    base_url: str  # without a trailing slash
    secret: str
    now: datetime  # the composing operation's time, which stamps every token

    @classmethod
    def of(cls, settings: Settings, now: datetime) -> ItemLinks:
        return cls(str(settings.base_url).rstrip("/"), secret_key(settings), now)

    def to(self, person_id: int | None, milestone_id: int) -> str:
        """The link to `milestone_id` in an email to `person_id` (None: not a person)."""
        if person_id is None:
            return f"{self.base_url}/milestones/{milestone_id}"
        token = make_link_token(secret=self.secret, person_id=person_id,
                                milestone_id=milestone_id, nonce=secrets.token_urlsafe(16),
                                now=self.now.timestamp())
        return f"{self.base_url}/l/{token}"

    def receipt(self, person_id: int, order_id: int) -> str:
        """The link with which `person_id` signs for the order `order_id` (签收): it opens a
        page with one button (web/orders.py), for the same reasons an item link does."""
        token = make_link_token(secret=self.secret, person_id=person_id, milestone_id=order_id,
                                nonce=secrets.token_urlsafe(16), now=self.now.timestamp(),
                                salt=RECEIPT_SALT)
        return f"{self.base_url}/r/{token}"

    def list_of(self, filters: Mapping[str, str]) -> str:
        """The web app's list of items narrowed by ``filters`` (web/lists.py reads them); it
        asks whoever opens it to sign in, and shows an owner only their unit's items."""
        return f"{self.base_url}/?{urlencode(filters)}" if filters else f"{self.base_url}/"
