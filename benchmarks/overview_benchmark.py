"""Overview and project page benchmark: a synthetic plan swept on three days, figures printed.

    .venv/bin/python -m benchmarks.overview_benchmark --milestones 100000 [--backend postgres]

Loads units × 10 projects × 10 milestones due 2021–2025, sweeps on 2025-06-09, 2025-06-23 and
2025-06-30 (so the red trend has light changes to fold), then, signed in as the office in one
process, asks for /overview and one project's page 10 times each after a warm-up and prints
p50/p95 beside the sign-in page as yardstick. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import sqlalchemy as sa
from fastapi.testclient import TestClient

from benchmarks.sweep_benchmark import _database
from config.settings import Settings
from flows.sweep import run_sweep
from models.rules.passwords import hash_password
from models.tables.person import Person
from services.runtime import build, system_clock
from tests.world import RULES
from web.app import create_app

DAYS = (date(2025, 6, 9), date(2025, 6, 23), date(2025, 6, 30))
PASSWORD = "基准-测试-密码-2025"


def timed(client: TestClient, path: str, times: int = 10) -> tuple[float, float]:
    client.get(path)  # warm-up
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        assert client.get(path).status_code == 200, path
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return seconds[len(seconds) // 2] * 1000, seconds[int(len(seconds) * 0.95)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", type=int, default=20_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--profile", action="store_true", help="print where /overview spends")
    args = parser.parse_args()
    from benchmarks.synthetic import populate
    from models.store.database import make_engine, migrate

    with _database(args.backend) as url:
        engine = make_engine(url)
        migrate(engine)
        count = populate(engine, units=max(args.milestones // 100, 1), projects_per_unit=10,
                         milestones_per_project=10, first_due=date(2021, 1, 1),
                         last_due=date(2025, 12, 31))
        for day in DAYS:
            started = time.perf_counter()
            run_sweep(engine=engine, rules=RULES, clock=system_clock, now=RULES.as_of(day),
                      detail_limit=0)
            print(f"[{args.backend}] swept {count:,} milestones as of {day} in "
                  f"{time.perf_counter() - started:.1f} s")
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE person SET password_hash = :h"),
                               {"h": hash_password(PASSWORD)})
            office, project = connection.execute(sa.text(
                "SELECT (SELECT email FROM person WHERE role = 'office'), "
                "(SELECT min(id) FROM project)")).one()
            events = connection.execute(sa.text("SELECT count(*) FROM event")).scalar_one()
        settings = Settings(base_url="http://testserver", smtp_host="", as_of=DAYS[-1])
        app = create_app(build(settings, engine=engine, rules=RULES,
                               secret="duban-bench-secret-0123456789abcdef0123"))
        with TestClient(app) as client:
            page = client.get("/login").text
            csrf = page.split('name="csrf" value="')[1].split('"')[0]
            client.post("/login", data={"email": office, "password": PASSWORD, "csrf": csrf})
            print(f"[{args.backend}] {count:,} milestones, {events:,} events; ms p50 / p95:")
            for name, path in (("sign-in page (yardstick)", "/login"), ("overview", "/overview"),
                               ("project page", f"/projects/{project}")):
                p50, p95 = timed(client, path)
                print(f"  {name:26} {p50:8.1f} {p95:8.1f}")
            if args.profile:
                import cProfile
                import pstats

                from starlette.requests import Request

                from web.overview import overview
                web = app.state.web
                request = Request({"type": "http", "method": "GET", "path": "/overview",
                                   "headers": [], "session": {}, "query_string": b""})
                profile = cProfile.Profile()
                with web.reader() as db:
                    me = db.exec(sa.select(Person).where(Person.email == office)).scalar_one()
                    profile.runcall(overview, request, web, db, me)
                pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
