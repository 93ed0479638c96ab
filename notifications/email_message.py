"""Building the email for one outbox message: headers checked, two parts, a stable Message-ID.

The Message-ID is derived from the outbox key, so every attempt at the same message (a retry,
or a resend after a crash between the server's acceptance and our record of it) carries the
same id, and mail systems can drop the copy. Everything that goes into a header is checked
here, at the last edge before the wire: names, addresses and subjects come from the database,
and a CR or LF in any of them would let a value write headers of its own.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import cast

from config.fields import ADDR_SPEC, DOMAIN
from notifications.render import Rendered

_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID for an outbox key: the same key gives the same id on every attempt."""
    if not DOMAIN.fullmatch(domain):
        raise ValueError(f"Message-ID domain must be a plain ASCII host name, got {domain!r}")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<duban.{digest}@{domain}>"


def build_email(*, rendered: Rendered, sender_name: str, sender_address: str, to_name: str,
                to_address: str, message_id: str, date: datetime,
                images: dict[str, bytes] | None = None,
                attachments: list[tuple[str, str, bytes]] | None = None) -> EmailMessage:
    """A multipart/alternative email (text, then HTML) ready for SMTP.

    ``images``: PNG images the HTML shows as ``cid:<key>``, carried inline with it
    (multipart/related, which mail clients show without asking to load remote images).
    ``attachments``: (file name, MIME type, bytes), e.g. a bulletin's PDF and workbook.

    Raises ValueError naming the field for a name, address or subject with CR, LF or another
    control character, an address that is not a plain ASCII addr-spec, or a malformed
    Message-ID. A naive ``date`` is taken as UTC, which is how Duban stores times (SQLite
    hands them back without a zone).
    """
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(_header_text("sender_name", sender_name),
                          addr_spec=_addr_spec("sender_address", sender_address))
    msg["To"] = Address(_header_text("to_name", to_name),
                        addr_spec=_addr_spec("to_address", to_address))
    msg["Subject"] = _header_text("subject", rendered.subject)
    msg["Date"] = format_datetime(date if date.tzinfo else date.replace(tzinfo=UTC))
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"message_id is not a valid Message-ID: {message_id!r}")
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    # base64 named outright: left to choose, the email package encodes each part both ways
    # to pick the shorter, which doubles the cost of building a Chinese email.
    msg.set_content(rendered.text, cte="base64")
    msg.add_alternative(rendered.html, subtype="html", cte="base64")
    if images:
        # The email package types parts as Message; under an EmailPolicy they are EmailMessage.
        html = cast(EmailMessage, msg.get_payload(1))
        for cid, png in images.items():
            html.add_related(png, "image", "png", cid=f"<{cid}>")
    for name, mime, content in attachments or ():
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype,
                           filename=_header_text("attachment name", name))
    return msg


def _header_text(field: str, value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError(f"{field} contains CR, LF or another control character: {value!r}")
    return value


def _addr_spec(field: str, value: str) -> str:
    _header_text(field, value)
    if len(value) > 254 or not ADDR_SPEC.fullmatch(value):
        raise ValueError(f"{field} is not a plain ASCII e-mail address: {value!r}")
    return value
