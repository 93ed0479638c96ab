"""Synthetic plans at province and nation scale, written straight into the database.

Bulk inserts through SQLAlchemy Core, in chunks, so a million milestones load in minutes rather
than the hours a plan file import would take. Due dates spread over the plan's years; a share
of milestones is binding. Used by the benchmarks and by the concurrency tests.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import SQLModel

from models import Milestone, Person, Plan, Project, Unit
from models.tables.unit import placeholder_contact

CHUNK = 5000


def populate(engine: sa.Engine, *, units: int, projects_per_unit: int,
             milestones_per_project: int, first_due: date, last_due: date,
             binding_share: float = 0.2, seed: int = 1, code: str = "synthetic") -> int:
    """Create one plan with the given shape; return the number of milestones."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    span = (last_due - first_due).days
    with engine.begin() as connection:
        plan_id = connection.execute(sa.insert(Plan).values(
            code=code, name=f"合成规划 {code}", issuer="基准测试", start_year=first_due.year,
            end_year=last_due.year, created_at=now, updated_at=now).returning(Plan.id)).scalar_one()
        unit_ids = _insert(connection, Unit, [
            {"code": f"{code}-u{u}", "name": f"{code} 单位{u}", "kind": "subdistrict",
             **placeholder_contact(f"{code}-u{u}", f"单位{u}"), "created_at": now,
             "updated_at": now} for u in range(units)])
        _insert(connection, Person, [
            {"name": f"负责人{u}", "email": f"owner{u}@{code}.example", "role": "owner",
             "unit_id": unit_id, "heads_unit": True, "active": True, "created_at": now}
            for u, unit_id in enumerate(unit_ids)] + [
            {"name": "督查室", "email": f"office@{code}.example", "role": "office", "unit_id": None,
             "heads_unit": False, "active": True, "created_at": now}])
        project_ids = _insert(connection, Project, [
            {"plan_id": plan_id, "code": f"{u}-{p}", "seq": u * projects_per_unit + p,
             "name": f"项目 {u}-{p}", "unit_id": unit_id, "facts": {}, "created_at": now,
             "updated_at": now}
            for u, unit_id in enumerate(unit_ids) for p in range(projects_per_unit)])
        rows = []
        count = 0
        for index, project_id in enumerate(project_ids):
            unit_id = unit_ids[index // projects_per_unit]
            for m in range(milestones_per_project):
                due = first_due + timedelta(days=rng.randint(0, span))
                rows.append({"project_id": project_id, "key": f"{due.isoformat()}/{m}",
                             "seq": m, "title": f"节点 {m}", "planned_due_on": due,
                             "due_on": due, "unit_id": unit_id, "state": "pending",
                             "light": "green",
                             "commitment": "binding" if rng.random() < binding_share
                             else "expected", "created_at": now, "updated_at": now})
                if len(rows) == CHUNK:
                    count += _bulk(connection, rows)
        count += _bulk(connection, rows)
    return count


def _insert(connection: sa.Connection, table: type[SQLModel], rows: list[dict]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        result = connection.execute(sa.insert(table).returning(table.id),  # type: ignore[attr-defined]
                                    rows[start:start + CHUNK])
        ids += [row[0] for row in result]
    return ids


def _bulk(connection: sa.Connection, rows: list[dict]) -> int:
    if rows:
        connection.execute(sa.insert(Milestone), rows)
    count = len(rows)
    rows.clear()
    return count
