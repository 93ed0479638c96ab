"""A real SMTP server on loopback (aiosmtpd) whose answers a test can script."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """What arrived, and how to answer: per address, a list of RCPT replies to use first."""

    received: list[EmailMessage] = field(default_factory=list)
    scripted: dict[str, list[str]] = field(default_factory=dict)
    rcpt_seen: Counter[str] = field(default_factory=Counter)
    peers: set[tuple[str, int]] = field(default_factory=set)  # a client's connections
    arrival: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.rcpt_seen[address] += 1
        self.peers.add(session.peer)
        replies = self.scripted.get(address)
        if replies:
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            if not reply.startswith("250"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.arrival:
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))
            self.arrival.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether ``count`` messages have arrived within ``timeout`` seconds."""
        with self.arrival:
            return self.arrival.wait_for(lambda: len(self.received) >= count, timeout)

    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class FewConnections(Mailbox):
    """A server that greets at most ``limit`` connections at once and answers the EHLO (and
    HELO) of any more with a 421, as a submission server with a per-client connection limit
    does."""

    limit: int = 2
    greeted: int = 0  # connections greeted and not yet gone (QUIT)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        if self.greeted >= self.limit:
            return ["421 4.7.0 Too many connections from your host"]
        self.greeted += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):  # noqa: N802
        return "421 4.7.0 Too many connections from your host"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        if session.host_name:
            self.greeted -= 1
        return "221 Bye"


class SmtpServer:
    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
