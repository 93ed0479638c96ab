"""Sending a round's emails over SMTP: several connections at once, one message at a time each.

Algorithm, for the emails one delivery round claimed:
1. Open up to ``delivery_connections`` connections (STARTTLS/TLS per settings), no more than
   there are messages. They share one queue of the claimed messages.
2. Each connection takes the next message, sends it, and waits until ``done`` has committed
   its outcome before it takes another. While one connection waits for the database, the
   others are on the wire: that, not batching outcomes, is what keeps the loop at the wire's
   pace. A kill leaves at most one accepted but unrecorded message per connection.
3. A connection the server drops (aiosmtplib's SMTPServerDisconnected, a timeout, a 421) is
   opened again, a few times a round. One that cannot be opened or greeted (a server's limit
   of connections per client), or is dropped too often,
   leaves the queue to the others; the last connection to give up fails what is left, with
   its reason. A bad certificate or login fails everything at once: no connection can help.
4. A message whose sending raises anything else is its own fault (an address the client
   refuses, a row never composed): it is dead, with the reason, and the others go on.
"""

from __future__ import annotations

import logging
import ssl
from collections import deque
from dataclasses import dataclass

import aiosmtplib
import anyio

from config.settings import Settings
from models.tables.message import Message
from notifications.outcome import Delivered, Done, Failed, Outcome, never_composed

log = logging.getLogger(__name__)
SMTP_RECONNECTS = 3  # times a connection is opened in one round when the server keeps hanging up


@dataclass
class _Connections:
    """What the connections of one round share: the queue, and how many still carry it."""

    pending: deque[Message]
    open: int


async def send_smtp(messages: list[Message], settings: Settings, done: Done) -> None:
    """Send ``messages``, calling ``done`` with each one's outcome (see the module's steps)."""
    shared = _Connections(deque(messages), min(settings.delivery_connections, len(messages)))
    try:
        async with anyio.create_task_group() as group:
            for _ in range(shared.open):
                group.start_soon(_connection, shared, settings, done)
    except ExceptionGroup as failed:
        # One connection's failure that is no message's (the database gone while recording)
        # ends the round, as it did when a round had one connection: raised as itself.
        raise failed.exceptions[0] from None


async def _connection(shared: _Connections, settings: Settings, done: Done) -> None:
    failure = Failed(False, f"SMTP connection lost {SMTP_RECONNECTS} times in one round")
    try:
        for _ in range(SMTP_RECONNECTS):
            if not shared.pending:
                return
            try:
                async with _smtp(settings) as smtp:
                    await _greet(smtp)
                    await _send_over(smtp, shared.pending, settings, done)
            except (ssl.SSLCertVerificationError, aiosmtplib.SMTPAuthenticationError) as exc:
                # Retrying cannot help, on this connection or another.
                await _all(shared.pending, Failed(True, f"SMTP configuration: {exc}"), done)
                return
            except (aiosmtplib.SMTPException, OSError) as exc:
                failure = Failed(False, f"SMTP server unreachable: {exc}")
                break
    finally:
        shared.open -= 1
    if shared.open == 0:  # the last connection: nobody is left to send the rest this round
        await _all(shared.pending, failure, done)


async def _greet(smtp: aiosmtplib.SMTP) -> None:
    """EHLO, or HELO for a server without it, before the first message (aiosmtplib would send
    it with the first message): a server that refuses one more connection from this client
    says so here, where it is no message's failure."""
    if smtp.is_ehlo_or_helo_needed:
        try:
            await smtp.ehlo()
        except aiosmtplib.SMTPHeloError:
            if not smtp.is_connected:
                raise
            await smtp.helo()


async def _all(pending: deque[Message], failure: Failed, done: Done) -> None:
    while pending:
        await done(pending.popleft(), failure)


async def _send_over(smtp: aiosmtplib.SMTP, pending: deque[Message], settings: Settings,
                     done: Done) -> None:
    """Send over one connection until none is left or the connection cannot carry more. Each
    outcome is committed before this connection sends the next message: the server never
    holds two accepted messages from it whose outcomes a kill could lose."""
    while pending:
        message = pending.popleft()
        outcome, usable = await _send_one(smtp, message, settings)
        await done(message, outcome)
        if not usable or not smtp.is_connected:
            return


def _smtp(settings: Settings) -> aiosmtplib.SMTP:
    password = settings.smtp_password.get_secret_value() or None
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port,
        use_tls=settings.smtp_security == "tls",
        start_tls=True if settings.smtp_security == "starttls" else False,
        username=settings.smtp_username or None, password=password,
        timeout=settings.smtp_timeout_seconds)


async def _send_one(smtp: aiosmtplib.SMTP, message: Message, settings: Settings
                    ) -> tuple[Outcome, bool]:
    """The outcome, and whether the connection can carry the next message. The bytes were
    built when the message was composed (``Message.raw``): nothing is built here."""
    if never_composed(message):
        return Failed(True, "nothing to send: the message was never composed"), True
    try:
        errors, response = await smtp.sendmail(settings.mail_from.email, [message.address],
                                               message.raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        return Failed(not all(400 <= c < 500 for c in codes),
                      "recipient refused: " + "; ".join(f"{r.code} {r.message}"
                                                        for r in exc.recipients)), True
    except aiosmtplib.SMTPResponseException as exc:
        # 421: the server is closing the connection (RFC 5321 3.8).
        return Failed(not 400 <= exc.code < 500, f"SMTP {exc.code} {exc.message}"), \
            exc.code != 421
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
        # Dropped, reset or silent mid-transaction: what the server kept is unknown, so this
        # one is tried again later, and the rest go over a new connection.
        return Failed(False, f"SMTP connection lost: {type(exc).__name__}: {exc}"), False
    except Exception as exc:
        # Not the server's doing (aiosmtplib refuses an address it cannot send, …): retrying
        # cannot help. The connection may be mid-transaction: the rest take a new one.
        log.exception("message %s could not be sent", message.id)
        return Failed(True, f"cannot send: {type(exc).__name__}: {exc}"), False
    if errors:  # one recipient per message: a refusal in `errors` is this message's
        code, text = next(iter(errors.values()))
        return Failed(not 400 <= code < 500, f"recipient refused: {code} {text}"), True
    return Delivered(response), True
