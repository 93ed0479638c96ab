"""Reclaiming the row versions a bulk rewrite leaves behind, while it runs (PostgreSQL).

PostgreSQL writes an UPDATE as a new row version and leaves the old one until VACUUM. A first
sweep (or one after the rules changed) rewrites every open milestone within minutes, faster
than autovacuum's schedule (and a server may run without autovacuum), so each batch's new
versions went to fresh pages at the end of the table: the heap doubled (+15 MB per 100,000
milestones, issue 13). Vacuuming each time the sweep has rewritten a tenth of the table (about
what ``autovacuum_vacuum_scale_factor = 0.1`` would ask) lets the later batches reuse the
space the earlier ones freed; at 100,000 milestones one such VACUUM takes about 80 ms.

Decisions:
- ``SKIP_LOCKED``: two sweeps share the work (flows.sweep); when one is vacuuming, the other
  goes on rather than wait for it.
- Outside any transaction (VACUUM cannot run in one), between batches, on a connection of its
  own. A database user that does not own the table gets PostgreSQL's warning, not an error.
- SQLite rewrites a row in place: nothing to do there.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine, Table

SHARE = 10  # vacuum after each tenth of the table rewritten


class Reclaimer:
    """Counts the rows a bulk rewrite of ``table`` has written and vacuums the table each
    time they reach a tenth of it (at least ``floor`` rows)."""

    def __init__(self, engine: Engine, table: Table, *, floor: int) -> None:
        self.engine, self.table, self.written = engine, table, 0
        self.every = 0
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:  # the planner's estimate: -1 if never counted
                rows = connection.execute(sa.text(
                    "SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
                    {"name": table.name}).scalar_one()
            self.every = max(int(rows) // SHARE, floor)

    def wrote(self, rows: int) -> None:
        if not self.every:
            return
        self.written += rows
        if self.written >= self.every:
            self.written = 0
            with self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql(f'VACUUM (SKIP_LOCKED) "{self.table.name}"')
