"""One delivery round sends over ``delivery_connections`` SMTP connections at once: every message
arrives exactly once, and a server that takes fewer connections still gets all of them.

A real SMTP server (aiosmtpd) on loopback; run on both databases.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from benchmarks.delivery_benchmark import rows
from config.channels import Channels
from config.settings import Settings
from models.tables.message import Message, MessageStatus
from notifications.outbox import deliver_round
from tests.smtp_server import FewConnections, SmtpServer

QUEUED = 200


def queue(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.insert(Message.__table__), rows(QUEUED))  # type: ignore[attr-defined]


async def deliver(engine: sa.Engine, server: SmtpServer, tmp_path: Path, connections: int,
                  batch: int = 50, now: datetime | None = None) -> dict[str, int]:
    settings = Settings(data_dir=tmp_path / "data", smtp_host="127.0.0.1",
                        smtp_port=server.port, smtp_security="none", smtp_timeout_seconds=5,
                        delivery_connections=connections, delivery_batch=batch)
    return await deliver_round(engine=engine, settings=settings, channels=Channels(),
                               now=now or datetime.now(UTC))


def statuses(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.text(  # type: ignore[arg-type]
            "SELECT status, count(*) FROM message GROUP BY status")).all())


async def test_four_connections_deliver_every_message_exactly_once(engine, smtp, tmp_path):
    queue(engine)
    now = datetime.now(UTC)
    totals = await deliver(engine, smtp, tmp_path, connections=4, now=now)
    assert (totals["sent"], totals["failed"], totals["dead"]) == (QUEUED, 0, 0)
    counts = Counter(smtp.mailbox.ids())
    assert len(counts) == QUEUED and set(counts.values()) == {1}
    assert statuses(engine) == {"sent": QUEUED}
    # Four rounds of 50, each over four connections of its own.
    assert len(smtp.mailbox.peers) == 4 * QUEUED // 50
    # Recorded as the rest of Duban reads it: the time of sending, comparable in a query.
    with Session(engine) as session:
        assert session.exec(select(sa.func.count()).select_from(Message).where(
            Message.status == MessageStatus.sent, Message.sent_at == now)).one() == QUEUED


async def deliver_to_few(engine: sa.Engine, tmp_path: Path, limit: int,
                         batch: int) -> tuple[dict[str, int], SmtpServer]:
    """Queue and deliver over four connections to a server that greets ``limit`` at once."""
    server = SmtpServer(FewConnections(limit=limit))
    server.start()
    try:
        queue(engine)
        return await deliver(engine, server, tmp_path, connections=4, batch=batch), server
    finally:
        server.stop()


async def test_a_server_that_greets_two_connections_gets_everything_over_those(engine,
                                                                              tmp_path):
    totals, server = await deliver_to_few(engine, tmp_path, limit=2, batch=50)
    # In each of the four rounds, the two refused connections leave the queue to the two
    # greeted: nothing waits for a retry, nothing is sent twice.
    assert (totals["sent"], totals["failed"], totals["dead"]) == (QUEUED, 0, 0)
    counts = Counter(server.mailbox.ids())
    assert len(counts) == QUEUED and set(counts.values()) == {1}
    assert len(server.mailbox.peers) == 2 * QUEUED // 50


async def test_a_server_that_greets_no_connection_leaves_every_message_to_retry(engine,
                                                                               tmp_path):
    totals, server = await deliver_to_few(engine, tmp_path, limit=0, batch=QUEUED)
    # The last connection to give up fails what is left, as a temporary failure.
    assert (totals["sent"], totals["failed"], totals["dead"]) == (0, QUEUED, 0)
    assert server.mailbox.received == []
    assert statuses(engine) == {"failed": QUEUED}
