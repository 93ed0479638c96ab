"""A delivery loop (`duban outbox deliver`) SIGKILLed while it sends, again and again, and
restarted each time: every message arrives, and each kill sends a second time at most the
messages in flight, one on each of its ``delivery_connections`` connections. Run on both
databases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from benchmarks.delivery_benchmark import rows
from models.store.database import make_engine
from models.tables.message import Message, MessageStatus
from notifications.delivery import CLAIM_TIMEOUT
from tests.smtp_server import SmtpServer

QUEUED = 400
KILLS = 4
CONNECTIONS = 4
DEADLINE = 120.0  # seconds any one wait may take
REPO = Path(__file__).parent.parent


def queue(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(Message.__table__), rows(QUEUED))  # type: ignore[attr-defined]
    engine.dispose()


def start_loop(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", "outbox", "deliver", "--json"],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def ten_minutes_pass(url: str) -> None:
    """What a killed loop left ``sending`` is reclaimed once CLAIM_TIMEOUT has passed: move
    those claims that far into the past rather than wait."""
    engine = make_engine(url)
    with Session(engine) as session:
        for message in session.exec(select(Message).where(
                Message.status == MessageStatus.sending)).all():
            assert message.claimed_at is not None
            message.claimed_at -= CLAIM_TIMEOUT * 2
        session.commit()
    engine.dispose()


def test_each_kill_of_a_sending_loop_doubles_at_most_one_message_per_connection(
        database_url: str, tmp_path: Path) -> None:
    queue(database_url)
    server = SmtpServer()
    server.start()
    env = {**os.environ, "DUBAN_DATABASE_URL": database_url, "DUBAN_DATA_DIR": str(tmp_path),
           "DUBAN_CONFIG": str(tmp_path / "none.toml"), "DUBAN_SMTP_HOST": "127.0.0.1",
           "DUBAN_SMTP_PORT": str(server.port), "DUBAN_SMTP_SECURITY": "none",
           "DUBAN_DELIVERY_BATCH": "100", "DUBAN_DELIVERY_CONNECTIONS": str(CONNECTIONS)}
    try:
        for kill in range(1, KILLS + 1):
            loop = start_loop(env)
            try:  # let it get well into sending, then kill it mid-stream
                assert server.mailbox.wait_for(len(server.mailbox.received) + 60, DEADLINE), \
                    f"kill {kill}: the loop sent nothing within {DEADLINE} s"
            finally:
                loop.send_signal(signal.SIGKILL)
                loop.communicate(timeout=DEADLINE)
            assert loop.returncode == -signal.SIGKILL, "the loop ended before it was killed"
            ten_minutes_pass(database_url)
        last = start_loop(env)
        out, err = last.communicate(timeout=DEADLINE * 2)
        assert last.returncode == 0, err
        assert json.loads(out)["claimed"] > 0
    finally:
        server.stop()
    counts = Counter(server.mailbox.ids())
    assert len(counts) == QUEUED  # nothing lost
    doubled = {message_id: n for message_id, n in counts.items() if n > 1}
    # Each connection commits an outcome before it sends again: at most one message in flight
    # on each connection at each kill.
    assert sum(n - 1 for n in doubled.values()) <= KILLS * CONNECTIONS, doubled
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text(
            "SELECT status, count(*) FROM message GROUP BY status")).all() == [("sent", QUEUED)]
    engine.dispose()
