"""Field types that more than one input schema shares (plan files, API bodies, page forms).

config imports nothing else of ours, so the web's schemas take these from here.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, EmailStr, StringConstraints

# What a person wrote: trimmed, not empty, and of a length that fits a page.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]

# A plain ASCII addr-spec: dot-atom local part, dotted host name. The one rule for an address
# at entry (people, unit contacts, plan files) and at send (notifications/email_message.py):
# Duban's mail goes without SMTPUTF8, so an address it could not send is refused where it is
# typed, not discovered in the outbox.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDR_SPEC = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def _sendable(address: str) -> str:
    if not ADDR_SPEC.fullmatch(address):
        raise ValueError(f"{address!r} cannot be sent to: Duban sends mail to plain ASCII "
                         "addresses only (write a non-ASCII domain in its xn-- form)")
    return address.lower()


# An e-mail address as people type it, and as Duban can send to it; stored lower-case.
MailAddress = Annotated[EmailStr, AfterValidator(_sendable)]
