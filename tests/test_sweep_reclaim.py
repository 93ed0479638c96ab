"""A first sweep in many batches: the same findings as in one, and on PostgreSQL the space of
the rows it rewrote reused as it goes (models.store.reclaim), so the table does not double."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from benchmarks.synthetic import populate
from flows.sweep import run_sweep
from services.runtime import system_clock
from tests.world import RULES

AS_OF = date(2025, 6, 30)
# What a sweep finds and records of a plan's 400 items, by the item's place in its plan (:first
# is the plan's first milestone id), without the instants it records them at.
WITHIN = "BETWEEN :first AND :first + 399"
FOUND = {
    "milestone": "SELECT id - :first, state, light, level, late, provisional, next_check_on, "
                 f"version FROM milestone WHERE id {WITHIN} ORDER BY id",
    "escalation": 'SELECT milestone_id - :first, due_on, level, "repeat", reason, as_of '
                  f"FROM escalation WHERE milestone_id {WITHIN} "
                  'ORDER BY milestone_id, level, "repeat"',
    "light_change": "SELECT milestone_id - :first, state_from, state_to, light_from, light_to, "
                    f"due_on, overdue_workdays FROM light_change WHERE milestone_id {WITHIN} "
                    "ORDER BY milestone_id",
    "notice": "SELECT milestone_id - :first, kind, roles, context "
              f"FROM notice WHERE milestone_id {WITHIN} ORDER BY 1, 2",
}


def plan(engine: sa.Engine, code: str, units: int = 4) -> int:
    """A plan of 100 items per unit due 2021–2025, none swept yet; its first milestone id."""
    populate(engine, units=units, projects_per_unit=10, milestones_per_project=10,
             first_due=date(2021, 1, 1), last_due=date(2025, 12, 31), code=code)
    with engine.connect() as connection:
        return int(connection.execute(sa.text(
            "SELECT min(m.id) FROM milestone m JOIN project p ON p.id = m.project_id "
            "JOIN plan ON plan.id = p.plan_id WHERE plan.code = :code"),
            {"code": code}).scalar_one())


def sweep(engine: sa.Engine, batch_size: int) -> int:
    return run_sweep(engine=engine, rules=RULES, clock=system_clock, now=RULES.as_of(AS_OF),
                     batch_size=batch_size).evaluated


def found(engine: sa.Engine, first: int) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(sa.text(q), {"first": first})]
                for name, q in FOUND.items()}


def heap_pages(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(
            "SELECT pg_relation_size('milestone') / current_setting('block_size')::int"))
            .scalar_one())


def test_a_first_sweep_in_many_batches_finds_what_one_batch_finds(engine: sa.Engine) -> None:
    at_once = plan(engine, "a")
    assert sweep(engine, batch_size=1000) == 400
    in_batches = plan(engine, "b")  # the same plan again: only its items are due
    assert sweep(engine, batch_size=10) == 400
    assert found(engine, in_batches) == found(engine, at_once)
    assert len(found(engine, at_once)["light_change"]) > 300  # most turned overdue


# PostgreSQL's alone: SQLite rewrites a row in place, leaving nothing to reclaim.
@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_first_sweep_reuses_the_space_of_the_rows_it_rewrote(engine: sa.Engine) -> None:
    plan(engine, "a", units=20)
    before = heap_pages(engine)
    assert sweep(engine, batch_size=50) == 2000
    # Without vacuuming as it goes, the rows' new versions fill new pages (37 became 65 here);
    # vacuuming each tenth of the table rewritten, the later batches reuse the space (46).
    assert heap_pages(engine) < 1.5 * before
