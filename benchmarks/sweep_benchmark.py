"""Sweep benchmark: synthetic plans at scale, on SQLite and PostgreSQL, figures printed.

    .venv/bin/python -m benchmarks.sweep_benchmark --milestones 100000 [--backend both] [--flow]
        [--lights sql|python|both]

For each backend and each way of lighting (SQL lights for items with no facts, the default, and
the Python rules for every item, the oracle: ``run_sweep(sql_lights=False)``) it loads a
synthetic plan into a fresh database (units × 10 projects × 10 milestones, due dates spread
over 2021–2025, 20 % binding), runs ANALYZE, then measures at 2025-06-30:
- the yardstick: a raw SQL query selecting the overdue, not-done milestones (median of 3);
- the first full sweep (everything evaluated, every escalation level recorded);
- a steady-state sweep where 0.1 % of the items have changed (as an owner's or office's action
  leaves them, ``next_check_on`` cleared), which must touch only those;
- each sweep's ratio to the yardstick, peak memory (max RSS of a child process per sweep) and
  the database's size after the first sweep;
- with --flow: inside one process, the time a Prefect flow run adds over calling the sweep
  function directly, on the same steady-state workload.
Timings are wall-clock on a shared machine: compare the ratios, not the seconds.

The last lines printed are one JSON object per backend, for the default way (SQL lights, or the
only way asked for): backend, milestones, raw_s, first_s, first_ratio, steady_s, steady_ratio,
flow_overhead (null without --flow), peak_rss_mb, db_mb_after_first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.runtime import system_clock

AS_OF = date(2025, 6, 30)
POSTGRES = os.environ.get("DUBAN_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RAW_QUERY = sa.text("SELECT id, due_on FROM milestone WHERE due_on < :today "
                    "AND state NOT IN ('claimed', 'closed', 'waived') AND retired_at IS NULL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--flow", action="store_true", help="also measure Prefect's overhead")
    parser.add_argument("--lights", choices=["sql", "python", "both"], default="both",
                        help="light fact-free items in SQL, or every item in Python, or both")
    parser.add_argument("--child", nargs=2, metavar=("URL", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(*args.child)
    print(f"Duban sweep benchmark: {args.milestones:,} milestones, as of {AS_OF}, "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    figures = []
    for backend in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
        runs = {}
        for lights in (["sql", "python"] if args.lights == "both" else [args.lights]):
            with _database(backend) as url:
                runs[lights] = _run(url, backend, args.milestones, args.flow, lights)
        if len(runs) == 2:
            print(f"  [{backend}] SQL lights / Python rules: first sweep "
                  f"{runs['sql']['first_s'] / runs['python']['first_s']:.2f}, steady sweep "
                  f"{runs['sql']['steady_s'] / runs['python']['steady_s']:.2f}")
        figures.append(next(iter(runs.values())))
    print()
    for figure in figures:
        print(json.dumps(figure))


def _run(url: str, backend: str, milestones: int, flow: bool, lights: str) -> dict[str, Any]:
    from benchmarks.synthetic import populate
    from models.store.database import make_engine, migrate, refresh_statistics

    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    count = populate(engine, units=max(milestones // 100, 1), projects_per_unit=10,
                     milestones_per_project=10, first_due=date(2021, 1, 1),
                     last_due=date(2025, 12, 31))
    with engine.begin() as connection:
        refresh_statistics(connection)
    print(f"\n[{backend}, {lights} lights] loaded {count:,} milestones in "
          f"{time.perf_counter() - started:.1f} s")
    raw = _yardstick(engine)
    before = _database_mb(engine, url)
    first = _sweep_in_child(url, f"sweep:{lights}")
    after_first = _database_mb(engine, url)
    _touch(engine, count // 1000)
    steady = _sweep_in_child(url, f"sweep:{lights}")
    raw_after = _yardstick(engine)
    print(f"  raw overdue query      {raw:8.3f} s   ({raw_after:.3f} s after the sweeps)")
    for name, result in (("first full sweep", first), ("steady-state sweep", steady)):
        print(f"  {name:<22} {result['seconds']:8.3f} s   {result['seconds'] / raw:7.2f}× raw"
              f"   evaluated {result['evaluated']:,}, escalations {result['escalated']:,} "
              f"(a notice each), telling {result['notifications']:,} people, "
              f"peak RSS {result['max_rss_mb']:.0f} MB")
    print(f"  database               {after_first:8.0f} MB after the first sweep "
          f"(+{after_first - before:.0f} MB)")
    flow_overhead = None
    if flow:
        _touch(engine, count // 1000)
        overhead = _sweep_in_child(url, f"flow:{lights}")
        flow_overhead = (overhead["flow"] - overhead["direct"]) / overhead["direct"]
        print(f"  flow run               {overhead['flow']:8.3f} s vs direct "
              f"{overhead['direct']:.3f} s on the same work: +{flow_overhead * 100:.0f} %")
        print(f"  project artifacts      {overhead['pages_s']:8.3f} s for {overhead['pages']:,.0f}"
              f" changed projects ({overhead['pages_s'] / overhead['pages'] * 1000:.1f} ms each);"
              f" an empty flow run {overhead['empty_s']:.3f} s")
    engine.dispose()
    return {"backend": backend, "milestones": count, "raw_s": round(raw, 4),
            "first_s": round(first["seconds"], 3),
            "first_ratio": round(first["seconds"] / raw, 2),
            "steady_s": round(steady["seconds"], 3),
            "steady_ratio": round(steady["seconds"] / raw, 2),
            "flow_overhead": None if flow_overhead is None else round(flow_overhead, 3),
            "peak_rss_mb": round(max(first["max_rss_mb"], steady["max_rss_mb"]), 1),
            "db_mb_after_first": round(after_first, 1)}


def _database_mb(engine: sa.Engine, url: str) -> float:
    """The database's size on disk: PostgreSQL's own count, or the SQLite file with its WAL."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return float(connection.execute(sa.text(
                "SELECT pg_database_size(current_database())")).scalar_one()) / 2**20
    path = Path(sa.make_url(url).database or "")
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 2**20


def _yardstick(engine: sa.Engine) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(RAW_QUERY, {"today": AS_OF}).all()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _touch(engine: sa.Engine, how_many: int) -> None:
    """Mark a random 0.1 % as changed, the way an action leaves a milestone."""
    with engine.begin() as connection:
        ids = [row[0] for row in connection.execute(sa.text(
            "SELECT id FROM milestone WHERE state NOT IN ('claimed', 'closed', 'waived')"))]
        chosen = secrets.SystemRandom().sample(ids, min(how_many, len(ids)))
        connection.execute(sa.text("UPDATE milestone SET next_check_on = NULL WHERE id = :id"),
                           [{"id": i} for i in chosen])


def _sweep_in_child(url: str, mode: str) -> dict[str, float]:
    """Each measurement in a fresh process, so its peak RSS is its own."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.sweep_benchmark", "--child", url,
                          mode], check=True, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    return json.loads(out.strip().splitlines()[-1])


def _child(url: str, mode_and_lights: str) -> None:
    from flows.sweep import run_sweep as sweep
    from models.store.database import make_engine
    from tests.world import RULES

    mode, lights = mode_and_lights.split(":")
    run_sweep = partial(sweep, sql_lights=lights == "sql")
    engine = make_engine(url)
    now = RULES.as_of(AS_OF)
    if mode == "sweep":
        started = time.perf_counter()
        report = run_sweep(engine=engine, rules=RULES, clock=system_clock, now=now, detail_limit=0)
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "evaluated": report.evaluated,
                          "escalated": report.escalated, "notifications": report.notifications,
                          "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    # Flow overhead: the same workload twice, once direct, once as a flow run, in one process
    # whose Prefect server is already up (a trivial flow run first starts it).
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="duban-bench-prefect-"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    import anyio
    from prefect import flow

    @flow
    async def warm_up() -> None:
        return None

    from benchmarks.flow_costs import flow_costs
    from flows.supervise import PROJECT_PAGES, publish_outcomes

    @flow  # shaped like flows.supervise: async, the sweep in a worker thread, its artifacts
    async def sweep_flow() -> int:
        report = await anyio.to_thread.run_sync(partial(run_sweep, engine=engine, rules=RULES,
                                                        clock=system_clock, now=now,
                                                        detail_limit=0))
        await publish_outcomes(report, engine, RULES)
        return report.evaluated

    asyncio.run(warm_up())
    with engine.begin() as connection:
        ids = [r[0] for r in connection.execute(sa.text(
            "SELECT id FROM milestone WHERE next_check_on IS NULL"))]

    def reset() -> None:  # the same 0.1 % due again
        with engine.begin() as connection:
            connection.execute(sa.text(
                "UPDATE milestone SET next_check_on = NULL WHERE id = :id"),
                [{"id": i} for i in ids])

    # warm caches, same work
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=now, detail_limit=0)
    direct, flowed = [], []
    for _ in range(3):  # alternate, and take medians: the machine is shared and noisy
        reset()
        started = time.perf_counter()
        run_sweep(engine=engine, rules=RULES, clock=system_clock, now=now, detail_limit=0)
        direct.append(time.perf_counter() - started)
        reset()
        started = time.perf_counter()
        asyncio.run(sweep_flow())
        flowed.append(time.perf_counter() - started)
    print(json.dumps({"direct": statistics.median(direct), "flow": statistics.median(flowed),
                      **flow_costs(engine, PROJECT_PAGES, AS_OF)}))


class _database:
    """A throwaway database: a SQLite file, or a PostgreSQL database of its own."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            self.tmp = tempfile.TemporaryDirectory(prefix="duban-bench-")
            return f"sqlite:///{self.tmp.name}/bench.db"
        self.name = f"duban_bench_{secrets.token_hex(4)}"
        self.admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        return sa.make_url(POSTGRES).set(database=self.name).render_as_string(
            hide_password=False)

    def __exit__(self, *_: object) -> None:
        if self.backend == "sqlite":
            self.tmp.cleanup()
            return
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{self.name}" WITH (FORCE)')
        self.admin.dispose()


if __name__ == "__main__":
    main()
