"""Field types that more than one input schema shares (plan files, API bodies, page forms).

config imports nothing else of ours, so the web's schemas take these from here.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints
from pydantic_core import PydanticCustomError

TEXT_MAX = 5000
# Blank: what Python's str.strip removes, and what JavaScript's and Rust's \s match besides
# (U+FEFF). Written out, because those three disagree on \s; a text must hold one character
# outside it, which the OpenAPI document can say as a pattern every regex engine reads alike.
BLANK = "".join(sorted({chr(c) for c in range(0x3001) if chr(c).isspace()} | {"\ufeff"}))
NOT_BLANK = "[^" + "".join(f"\\u{ord(c):04x}" for c in BLANK) + "]"


def _trimmed(text: str) -> str:
    trimmed = text.strip(BLANK)
    if not trimmed:
        raise PydanticCustomError("blank", "must not be blank")
    return trimmed


# What a person wrote: at most TEXT_MAX characters as sent, not blank, kept trimmed; the API's
# OpenAPI document states exactly that.
Text = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX),
                 Field(json_schema_extra={"pattern": NOT_BLANK}), AfterValidator(_trimmed)]

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
