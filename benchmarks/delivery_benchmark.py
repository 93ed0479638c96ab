"""Delivery benchmark: the outbox against a bare aiosmtplib loop, to a local aiosmtpd.

    .venv/bin/python -m benchmarks.delivery_benchmark [--messages 2000] [--backend sqlite]
        [--repeat 3]

The server is aiosmtpd's Sink in a process of its own. The yardstick is the bare loop: the
same messages, prebuilt, sent over one connection with nothing recorded. The outbox does what
production does, with the default settings: claim in batches, send the bytes stored when the
message was composed over ``delivery_connections`` connections, and commit each outcome before
that connection sends another. The figure that matters is the ratio of throughputs (target ≥
0.9), measured in the same run: the two alternate ``--repeat`` times, a fresh database for each
outbox run, and the fastest run of each counts (on a shared machine, the run least slowed by
others). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import sqlalchemy as sa

from benchmarks.sweep_benchmark import POSTGRES
from config.channels import Channels
from config.settings import Settings
from models.store.database import make_engine, migrate
from models.tables.message import Message
from notifications.email_message import build_email
from notifications.outbox import deliver_round
from notifications.render import Rendered
from tests.smtp_server import free_port


def rows(count: int) -> list[dict]:
    """Queued rows as composing leaves them: rendered, and built into the bytes to send."""
    now = datetime.now(UTC)
    body = "您有3项督办事项需要处理，请登录督办系统查看。\n" * 20
    out = []
    for i in range(count):
        row = {"key": f"bench:{i}", "channel": "email", "address": f"owner{i % 100}@duban.example",
               "recipient": f"负责人{i % 100}", "template": "bench",
               "subject": f"【督办】3项事项需要您处理（第{i}号）", "body_text": body,
               "body_html": f"<p>{body}</p>", "message_id": f"<duban.bench.{i}@duban.example>",
               "status": "queued", "attempts": 0, "next_attempt_at": now, "meta": {},
               "created_at": now}
        row["raw"] = _email(row).as_bytes()
        out.append(row)
    return out


def _email(row: dict):  # type: ignore[no-untyped-def]
    return build_email(rendered=Rendered(row["subject"], row["body_text"], row["body_html"]),
                       sender_name="项目督办办公室", sender_address="duban@localhost",
                       to_name=row["recipient"], to_address=row["address"],
                       message_id=row["message_id"], date=row["created_at"])


async def bare(port: int, messages: list[dict]) -> float:
    """The same prebuilt bytes, one connection, nothing recorded: the floor."""
    started = time.perf_counter()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as smtp:
        for message in messages:
            await smtp.sendmail("duban@localhost", [message["address"]], message["raw"])
    return time.perf_counter() - started


async def outbox(url: str, port: int, messages: list[dict], data: Path) -> float:
    """The outbox's delivery of ``messages`` into a fresh database at ``url``."""
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(Message.__table__), messages)  # type: ignore[attr-defined]
    settings = Settings(database_url=url, data_dir=data, smtp_host="127.0.0.1", smtp_port=port,
                        smtp_security="none")
    started = time.perf_counter()
    totals = await deliver_round(engine=engine, settings=settings, channels=Channels(),
                                 now=datetime.now(UTC))
    elapsed = time.perf_counter() - started
    assert totals["sent"] == len(messages), totals
    engine.dispose()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # The server runs in a process of its own, as a real one would: in this process it would
    # compete with the client for the interpreter and slow both loops unevenly.
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l",
                               f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"])
    _wait_for(port)
    messages = rows(args.messages)
    floors, ours = [], []
    try:
        for _ in range(args.repeat):
            floors.append(await bare(port, messages))
            with tempfile.TemporaryDirectory() as tmp, _database(args.backend, tmp) as url:
                ours.append(await outbox(url, port, messages, Path(tmp)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    n = args.messages
    floor, best = min(floors), min(ours)
    connections = Settings.model_fields["delivery_connections"].default
    print(f"Delivery benchmark ({args.backend}, {n} messages to a local aiosmtpd, "
          f"fastest of {args.repeat})")
    lines = [("bare aiosmtplib loop, 1 connection", floor, floors),
             (f"Duban outbox, {connections} connections", best, ours)]
    for label, seconds, runs in lines:
        print(f"  {label:<36} {seconds:6.2f} s {n / seconds:7.0f} msg/s  (runs: {_runs(runs)})")
    print(f"  {'ratio':<36} {floor / best:6.2f}    (target ≥ 0.90)")
    print(json.dumps({"backend": args.backend, "messages": n, "bare_msg_s": round(n / floor),
                      "outbox_msg_s": round(n / best), "ratio": round(floor / best, 2)}))


def _runs(seconds: list[float]) -> str:
    return ", ".join(f"{s:.2f} s" for s in seconds)


@contextmanager
def _database(backend: str, tmp: str) -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"duban_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the SMTP server did not start on port {port}")


if __name__ == "__main__":
    asyncio.run(main())
