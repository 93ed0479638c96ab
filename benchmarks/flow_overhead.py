"""What a Prefect flow run adds to a steady-state sweep, at sizes where the first sweep is too
slow to run first (a million milestones).

    .venv/bin/python -m benchmarks.flow_overhead --milestones 1000000

It loads the synthetic plan of benchmarks.sweep_benchmark on PostgreSQL, then stands in for the
first full sweep: every item's next check goes past the day and a finished sweep under the
current rules is recorded (so the next sweep reads only what is due), and 0.1 % of the items
are marked changed. Then, in one process whose Prefect server is already up, it times the same
steady sweep called directly and as a flow run (median of three each, alternated), as
``sweep_benchmark --flow`` does, and 200 project pages; last, an empty flow run. The lights
of the untouched items stay as loaded: the steady sweep reads only the 0.1 %, so this does not
change what it does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

from benchmarks.sweep_benchmark import _database, _sweep_in_child, _touch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", type=int, default=1_000_000)
    args = parser.parse_args()
    from benchmarks.synthetic import populate
    from models.store.database import make_engine, migrate, refresh_statistics
    from models.tables.sweep_run import SweepRun
    from tests.world import RULES

    print(f"Duban flow overhead: {args.milestones:,} milestones, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}, PostgreSQL")
    with _database("postgres") as url:
        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        count = populate(engine, units=max(args.milestones // 100, 1), projects_per_unit=10,
                         milestones_per_project=10, first_due=date(2021, 1, 1),
                         last_due=date(2025, 12, 31))
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE milestone SET next_check_on = '2030-01-01'"))
            connection.execute(sa.insert(SweepRun).values(
                id="stand-in", as_of=date(2025, 6, 29), started_at=now, finished_at=now,
                rules=RULES.fingerprint))
            refresh_statistics(connection)
        print(f"loaded {count:,} milestones in {time.perf_counter() - started:.1f} s")
        _touch(engine, count // 1000)
        engine.dispose()
        result = _sweep_in_child(url, "flow")
    added = result["flow"] - result["direct"]
    print(f"steady sweep direct {result['direct']:.3f} s, as a flow run {result['flow']:.3f} s: "
          f"+{added:.3f} s = +{added / result['direct'] * 100:.0f} %")
    print(f"project artifacts {result['pages_s']:.3f} s for {result['pages']:,.0f} projects "
          f"({result['pages_s'] / result['pages'] * 1000:.1f} ms each)")
    print(f"an empty flow run {result['empty_s']:.3f} s (the fixed part; median of five, warm)")


if __name__ == "__main__":
    main()
