"""Web load benchmark: owners marking items done at once, latency percentiles printed.

    .venv/bin/python -m benchmarks.web_load [--users 50] [--items 20] [--think 5.0]
                                            [--backend postgres]
    .venv/bin/python -m benchmarks.web_load --lists [--milestones 1000000]

``--lists`` measures the office's lists, 待办 and the 台账 export at scale instead
(benchmarks/list_load.py).

The app runs under uvicorn in a process of its own, on a fresh database holding a synthetic plan
(one unit and one owner per user). Each simulated owner signs in by following a signed email
link, as owners do, then for each of its items: opens the item page (GET, which carries the
form's CSRF token and version), reads it for a moment (the think time, drawn uniformly between
half and one and a half times --think seconds), and marks it done with evidence (POST, which
writes the claim event, the new status, and queues the confirmation email in one transaction).
"50 concurrent users" means 50 people working at once, each pausing as people do: 5 s on
average is already quick for reading an item and typing a sentence of evidence. A small
--think (0 makes a closed loop hammering the server) measures capacity instead: the
throughput line.

People do not all click at the same millisecond: each owner starts at a random moment within
the first think time. The yardstick, measured in the same run under the same load: each owner
also loads the sign-in page once per item, which touches no database, so the ratio of the two
p95s says what the database work costs over the web stack itself.
Target: p95 of marking done under 100 ms at 50 concurrent users on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import sqlalchemy as sa

from benchmarks.sweep_benchmark import _database
from benchmarks.synthetic import populate
from models.rules.item_links import make_link_token
from models.store.database import make_engine, migrate
from models.tables.milestone import Milestone
from models.tables.person import Person
from services.runtime import build
from tests.smtp_server import free_port

SECRET = "duban-web-load-benchmark-secret-0123456789"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def serve(url: str, port: int, data_dir: str) -> None:
    """The server process: the app as `duban web` serves it."""
    import uvicorn

    from config.settings import Settings
    from models.rules.rulebook import load_rules
    from web.app import create_app

    settings = Settings(database_url=url, data_dir=Path(data_dir), smtp_host="",
                        base_url=f"http://127.0.0.1:{port}")
    rules = load_rules(settings.zone)
    app = create_app(build(settings, engine=make_engine(url, pool_size=20, max_overflow=20),
                           rules=rules, secret=SECRET))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Timings:
    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.failures: dict[str, int] = {}

    async def request(self, name: str, call: object, ok: tuple[int, ...]) -> httpx.Response:
        started = time.perf_counter()
        response: httpx.Response = await call  # type: ignore[misc]
        self.seconds.setdefault(name, []).append(time.perf_counter() - started)
        if response.status_code not in ok:
            self.failures[name] = self.failures.get(name, 0) + 1
        return response


async def owner(base: str, link: str, items: list[int], think: float,
                timings: Timings) -> None:
    rng = random.Random(link)
    await asyncio.sleep(think * rng.random())
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await timings.request("follow link", client.get(link), (303,))
        for milestone_id in items:
            page = await timings.request("open item", client.get(f"/milestones/{milestone_id}"),
                                         (200,))
            csrf, version = CSRF.search(page.text), VERSION.search(page.text)
            if not (csrf and version):
                timings.failures["no form"] = timings.failures.get("no form", 0) + 1
                continue
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            await timings.request("sign-in page", client.get("/login"), (200,))
            await timings.request("mark done", client.post(
                f"/milestones/{milestone_id}/done",
                data={"csrf": csrf.group(1), "version": version.group(1),
                      "evidence": f"已完成，验收材料见附件（节点 {milestone_id}）"}), (303,))


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0] * 1000,) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--items", type=int, default=20, help="items each user marks done")
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds a person spends on the page before submitting")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--lists", action="store_true",
                        help="the lists benchmark (PostgreSQL): benchmarks/list_load.py")
    parser.add_argument("--milestones", type=int, default=100_000,
                        help="--lists: milestones over 3,000 units")
    args = parser.parse_args()
    if args.lists:
        from benchmarks.list_load import main as lists_main

        await asyncio.to_thread(lists_main, args.milestones)  # it runs its own loops
        return
    with _database(args.backend) as url, tempfile.TemporaryDirectory() as data_dir:
        engine = make_engine(url)
        migrate(engine)
        populate(engine, units=args.users, projects_per_unit=1,
                 milestones_per_project=args.items, first_due=date(2026, 1, 5),
                 last_due=date(2026, 12, 31), code="load")
        with engine.connect() as connection:
            owners = connection.execute(sa.select(Person.id, Person.unit_id).where(
                Person.role == "owner").order_by(Person.id)).all()
            items: dict[int, list[int]] = {}
            for milestone_id, unit_id in connection.execute(
                    sa.select(Milestone.id, Milestone.unit_id).order_by(Milestone.id)):
                items.setdefault(unit_id, []).append(milestone_id)
        engine.dispose()
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.web_load", "--serve", url,
                                   str(port), data_dir])
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_for(base, server)
            await _warm_up(base)
            timings = Timings()
            links = ["/l/" + make_link_token(secret=SECRET, person_id=person_id,
                                             milestone_id=items[unit_id][0], nonce=f"n{person_id}")
                     for person_id, unit_id in owners]
            started = time.perf_counter()
            await asyncio.gather(*(owner(base, link, items[unit_id], args.think, timings)
                                   for link, (_, unit_id) in zip(links, owners, strict=True)))
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    done = timings.seconds["mark done"]
    print(f"Web load benchmark ({args.backend}, {args.users} concurrent owners, "
          f"{args.items} items each, think time {args.think:g} s, uvicorn, one process)")
    print(f"  {'request':<14}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name in ("sign-in page", "follow link", "open item", "mark done"):
        p50, p95, p99 = percentiles(timings.seconds[name])
        print(f"  {name:<14}{len(timings.seconds[name]):>6}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
    floor = percentiles(timings.seconds["sign-in page"])[1]
    print(f"  mark done: {len(done) / elapsed:.0f} per second; p95 / sign-in page p95 = "
          f"{percentiles(done)[1] / floor:.2f}")
    print(f"  failures: {timings.failures or 'none'}")
    print(f"  target: mark done p95 < 100 ms → {'met' if percentiles(done)[1] < 100 else 'MISSED'}")


async def _warm_up(base: str) -> None:
    """Templates compiled, connections in the pool: what a server running for a while has."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(client.get("/login") for _ in range(20)))


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    asyncio.run(_wait_for(base, server))


async def _wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError("the web server exited at start-up")
            try:
                if (await client.get("/login")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the web server did not answer on {base}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(*sys.argv[2:])
    else:
        asyncio.run(main())
