"""Delivery benchmark: the outbox against a bare aiosmtplib loop, to a local aiosmtpd.

    .venv/bin/python -m benchmarks.delivery_benchmark [--messages 2000] [--backend sqlite]

The lower bound is the bare loop: the same messages, prebuilt, sent over one connection with
nothing recorded. The outbox does what production does: claim in batches, build each email
from its stored row, send over one reused connection, and commit each outcome. The figure that
matters is the ratio of throughputs (target ≥ 0.8), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import sqlalchemy as sa

from benchmarks.sweep_benchmark import POSTGRES
from config.channels import Channels
from config.settings import Settings
from models.db import make_engine, migrate
from models.outbox import Message
from notifications.email_message import build_email
from notifications.outbox import deliver_round
from notifications.render import Rendered
from tests.smtp_server import SmtpServer


def rows(count: int) -> list[dict]:
    now = datetime.now(UTC)
    body = "您有3项督办事项需要处理，请登录督办系统查看。\n" * 20
    return [{"key": f"bench:{i}", "channel": "email", "address": f"owner{i % 100}@duban.example",
             "recipient": f"负责人{i % 100}", "template": "bench",
             "subject": f"【督办】3项事项需要您处理（第{i}号）", "body_text": body,
             "body_html": f"<p>{body}</p>", "message_id": f"<duban.bench.{i}@duban.example>",
             "status": "queued", "attempts": 0, "next_attempt_at": now, "meta": {},
             "created_at": now} for i in range(count)]


async def bare(port: int, messages: list[dict]) -> float:
    emails = [build_email(rendered=Rendered(m["subject"], m["body_text"], m["body_html"]),
                          sender_name="项目督办办公室", sender_address="duban@duban.example",
                          to_name=m["recipient"], to_address=m["address"],
                          message_id=m["message_id"], date=m["created_at"]) for m in messages]
    started = time.perf_counter()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as smtp:
        for email in emails:
            await smtp.send_message(email)
    return time.perf_counter() - started


async def outbox(url: str, port: int, messages: list[dict], data: Path) -> float:
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
    args = parser.parse_args()
    server = SmtpServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.db"
            else:
                name = f"duban_bench_{secrets.token_hex(4)}"
                admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
                url = sa.make_url(POSTGRES).set(database=name).render_as_string(
                    hide_password=False)
            messages = rows(args.messages)
            floor = await bare(server.port, messages)
            ours = await outbox(url, server.port, messages, Path(tmp))
            if args.backend == "postgres":
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        server.stop()
    n = args.messages
    print(f"Delivery benchmark ({args.backend}, {n} messages to a local aiosmtpd)")
    print(f"  bare aiosmtplib loop  {floor:7.2f} s  {n / floor:7.0f} msg/s")
    print(f"  Duban outbox          {ours:7.2f} s  {n / ours:7.0f} msg/s")
    print(f"  ratio                 {floor / ours:7.2f}  (target ≥ 0.80)")


if __name__ == "__main__":
    asyncio.run(main())
