"""Two real delivery loops (`duban outbox deliver` processes) over one queue: each message goes
out once. Run on both databases; PostgreSQL shares the work with SKIP LOCKED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from benchmarks.delivery_benchmark import rows
from models.store.database import make_engine
from models.tables.message import Message
from tests.smtp_server import SmtpServer

QUEUED = 1000


def queue(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(Message.__table__), rows(QUEUED))  # type: ignore[attr-defined]
    engine.dispose()


def test_two_delivery_loops_send_a_thousand_messages_once_each(database_url: str,
                                                                tmp_path: Path) -> None:
    queue(database_url)
    server = SmtpServer()
    server.start()
    try:
        env = {**os.environ, "DUBAN_DATABASE_URL": database_url, "DUBAN_DATA_DIR": str(tmp_path),
               "DUBAN_CONFIG": str(tmp_path / "none.toml"), "DUBAN_SMTP_HOST": "127.0.0.1",
               "DUBAN_SMTP_PORT": str(server.port), "DUBAN_SMTP_SECURITY": "none",
               "DUBAN_DELIVERY_BATCH": "50"}
        loops = [subprocess.Popen([sys.executable, "-m", "cli.main", "outbox", "deliver",
                                   "--json"], env=env, cwd=Path(__file__).parent.parent,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outputs = [loop.communicate(timeout=240) for loop in loops]
        assert [loop.returncode for loop in loops] == [0, 0], [err for _, err in outputs]
        sent = [json.loads(out)["sent"] for out, _ in outputs]
        assert sum(sent) == QUEUED and min(sent) > 0  # both loops took a share
    finally:
        server.stop()
    counts = Counter(server.mailbox.ids())
    assert len(counts) == QUEUED and set(counts.values()) == {1}
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text(
            "SELECT status, count(*) FROM message GROUP BY status")).all() == [("sent", QUEUED)]
    engine.dispose()
