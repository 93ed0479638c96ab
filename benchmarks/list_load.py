"""The office's lists at scale: `python -m benchmarks.web_load --lists [--milestones 100000]`.

A synthetic plan of --milestones over 3,000 units on PostgreSQL, with the stored columns a
sweep would have written (overdue items red and escalated, items due within three weeks yellow,
exactly 10,000 claimed and blue with their claim events, a third of the past ones closed), then
VACUUM ANALYZE, which autovacuum would have done on a live database (this server may run
without it: TECH_NOTES §8). One uvicorn process serves it.
The office, signed in by its link, asks each page in turn, one request at a time, several
rounds: the list's first page, a filtered page (red, one unit), a search, the 10th page by
cursor, the 待办 counts (GET /api/todo), and the sign-in page as the yardstick of the web
stack itself; then the 台账 export of the 10,000 claimed rows. Printed: p50/p95 per page, the
export's time and the server's peak RSS (VmHWM). Targets: p95 < 150 ms, export < 5 s with
RSS < 300 MB.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import Session, select

from benchmarks.sweep_benchmark import _database
from benchmarks.synthetic import populate
from benchmarks.web_load import SECRET, wait_until_up
from models.rules.item_links import START_PAGE, make_link_token
from models.store.api_tokens import issue_token
from models.store.database import make_engine, migrate
from models.tables.person import Person
from tests.smtp_server import free_port

UNITS = 3000
CLAIMED = 10_000
TODAY = date(2026, 11, 23)
ROUNDS = 30


def prepare(url: str, milestones: int) -> None:
    """The plan, and the columns the sweep and the owners' claims would have written."""
    engine = make_engine(url)
    migrate(engine)
    per_unit = max(1, -(-milestones // UNITS))  # at least --milestones
    projects = max(1, per_unit // 40)
    started = time.perf_counter()
    count = populate(engine, units=UNITS, projects_per_unit=projects,
                     milestones_per_project=max(1, per_unit // projects),
                     first_due=date(2021, 1, 4), last_due=date(2027, 12, 31), code="lists")
    every = max(1, count // CLAIMED)
    claimed = f"mod(id, {every}) = 0 AND id <= {every * CLAIMED}"  # exactly CLAIMED items
    soon = TODAY + timedelta(days=21)
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(f"""UPDATE milestone SET
              state = CASE WHEN {claimed} THEN 'claimed'
                           WHEN due_on < '{TODAY}' AND mod(id, 3) = 0 THEN 'closed'
                           WHEN due_on < '{TODAY}' THEN 'overdue'
                           WHEN due_on <= '{soon}' THEN 'due_soon' ELSE 'pending' END,
              claimed_on = CASE WHEN {claimed} OR (due_on < '{TODAY}' AND mod(id, 3) = 0)
                                THEN LEAST(due_on, DATE '{TODAY}') END""")
        run("""UPDATE milestone SET
              light = CASE state WHEN 'overdue' THEN 'red' WHEN 'due_soon' THEN 'yellow'
                                 WHEN 'claimed' THEN 'blue' ELSE 'green' END,
              late = state = 'overdue',
              level = CASE WHEN state = 'overdue' THEN (CASE WHEN due_on < DATE '2026-10-01'
                           THEN 3 ELSE 2 END) WHEN state = 'due_soon' THEN 1 ELSE 0 END""")
        run(f"""INSERT INTO event (at, kind, actor, milestone_id, project_id, unit_id, data)
              SELECT TIMESTAMPTZ '{TODAY} 02:00+00', 'milestone.done_claimed',
                     'owner@lists.example', id, project_id, unit_id,
                     '{{"evidence": "验收材料已上传"}}'::json
              FROM milestone WHERE state IN ('claimed', 'closed')""")
        run("""INSERT INTO event (at, kind, actor, milestone_id, project_id, unit_id, data,
                                  reason)
              SELECT TIMESTAMPTZ '2026-11-20 02:00+00', 'milestone.progress_reported',
                     'owner@lists.example', id, project_id, unit_id, '{"percent": 60}'::json,
                     '主体完工，正在内部装修'
              FROM milestone WHERE mod(id, 7) = 0""")
    with engine.connect() as connection:  # what autovacuum would have done by now
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM ANALYZE")
    print(f"  {count:,} milestones over {UNITS:,} units loaded and set in "
          f"{time.perf_counter() - started:.0f} s")
    engine.dispose()


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(url: str, milestones: int) -> None:
    prepare(url, milestones)
    engine = make_engine(url)
    with Session(engine) as db:
        office = db.exec(select(Person).where(Person.role == "office")).one()
        token = issue_token(session=db, person=office, label="bench", actor="bench",
                            now=datetime.now(UTC))
        db.commit()
        unit = db.exec(sa.text("SELECT u.code FROM unit u JOIN milestone m ON m.unit_id = u.id "
                               "WHERE m.light = 'red' GROUP BY u.code ORDER BY count(*) DESC "
                               "LIMIT 1")).one()[0]
        assert office.id is not None
        link = "/l/" + make_link_token(secret=SECRET, person_id=office.id,
                                       milestone_id=START_PAGE, nonce="bench")
    engine.dispose()
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.web_load", "--serve", url,
                                   str(port), data_dir])
        try:
            _run(f"http://127.0.0.1:{port}", server, link, token, unit, milestones)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _run(base: str, server: subprocess.Popen[bytes], link: str, token: str, unit: str,
         milestones: int) -> None:
    wait_until_up(base, server)
    client = httpx.Client(base_url=base, timeout=120)
    assert client.get(link).status_code in (200, 303)
    page = client.get("/")
    for _ in range(9):  # the cursor of the 10th page, as a clerk paging on would hold it
        found = re.search(r'href="(/\?cursor=[^"]+)"', page.text)
        assert found, "no next page"
        page = client.get(found.group(1).replace("&amp;", "&"))
    tenth = found.group(1).replace("&amp;", "&")
    pages = {"sign-in page": ("/login", {}), "list, first page": ("/", {}),
             "red, one unit": (f"/?light=red&unit={unit}", {}),
             "search": ("/?q=1234-", {}),
             "10th page (cursor)": (tenth, {}),
             "待办 counts (API)": ("/api/todo", {"Authorization": f"Bearer {token}"}),
             "待办 page": ("/todo", {})}
    seconds: dict[str, list[float]] = {name: [] for name in pages}
    for path, headers in pages.values():  # warm: templates compiled, pool filled
        client.get(path, headers=headers)
    for _ in range(ROUNDS):
        for name, (path, headers) in pages.items():
            started = time.perf_counter()
            answer = client.get(path, headers=headers)
            seconds[name].append(time.perf_counter() - started)
            assert answer.status_code == 200, (name, answer.status_code, answer.text[:300])
    started = time.perf_counter()
    export = client.get("/milestones.xlsx?light=blue")
    export_s = time.perf_counter() - started
    assert export.status_code == 200
    rss = peak_rss_mb(server.pid)
    print(f"Lists benchmark (PostgreSQL, {milestones:,} milestones, {UNITS:,} units, one uvicorn "
          f"process, {ROUNDS} rounds, one request at a time)")
    print(f"  {'page':<22}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in seconds.items():
        p50, p95 = percentiles(values)
        print(f"  {name:<22}{p50:>9.1f}{p95:>9.1f}")
    worst = max(percentiles(v)[1] for n, v in seconds.items() if n != "sign-in page")
    print(f"  export of {CLAIMED:,} rows (light=blue): {export_s:.2f} s, "
          f"{len(export.content) / 1e6:.1f} MB")
    print(f"  server peak RSS: {rss:.0f} MB")
    print(f"  targets: p95 < 150 ms → {'met' if worst < 150 else 'MISSED'} (worst {worst:.0f});"
          f" export < 5 s → {'met' if export_s < 5 else 'MISSED'};"
          f" RSS < 300 MB → {'met' if rss < 300 else 'MISSED'}")


def main(milestones: int) -> None:
    with _database("postgres") as url:
        measure(url, milestones)
