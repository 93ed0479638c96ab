"""Projects and their milestones as the last sweep stored them: what a project's page in
Prefect shows, read in a few set-based queries however many projects changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.tables.columns import saved_id
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from models.tables.unit import Unit

CHUNK = 500  # ids in one IN list: a first sweep may change every project of a plan


@dataclass(frozen=True)
class MilestoneLine:
    seq: int
    title: str
    unit: str
    due_on: date
    state: str
    light: str
    level: int
    late: bool
    next_check_on: date | None


@dataclass(frozen=True)
class ProjectCard:
    id: int
    plan_code: str
    plan_name: str
    code: str
    name: str
    milestones: list[MilestoneLine]


def project_cards(*, session: Session, codes: Iterable[str] = (),
                  ids: Iterable[int] = ()) -> list[ProjectCard]:
    """The projects named "plan/project" (as ``SweepReport.projects`` names them) or by id,
    each with its current milestones in plan order; names and ids that match no project are
    left out."""
    wanted, chosen = set(codes), set(ids)
    plans = sorted({code.split("/", 1)[0] for code in wanted})
    query = select(Project, Plan).join(Plan, col(Plan.id) == Project.plan_id)
    found = [] if not plans else [
        (project, plan) for project, plan in session.exec(query.where(col(Plan.code).in_(plans)))
        if f"{plan.code}/{project.code}" in wanted]
    if chosen:
        found += session.exec(query.where(col(Project.id).in_(sorted(chosen)))).all()
    projects = {saved_id(project): (plan, project) for project, plan in found}
    lines: dict[int, list[MilestoneLine]] = {i: [] for i in projects}
    in_order = sorted(projects)
    for start in range(0, len(in_order), CHUNK):
        for project_id, line in _lines(session, in_order[start:start + CHUNK]):
            lines[project_id].append(line)
    return [ProjectCard(saved_id(project), plan.code, plan.name, project.code, project.name,
                        lines[saved_id(project)])
            for plan, project in sorted(projects.values(),
                                        key=lambda pair: (pair[0].code, pair[1].seq))]


def _lines(session: Session, project_ids: list[int]) -> Iterable[tuple[int, MilestoneLine]]:
    rows = session.execute(
        sa.select(*(col(c) for c in (
            Milestone.project_id, Milestone.seq, Milestone.title, Unit.name, Milestone.due_on,
            Milestone.state, Milestone.light, Milestone.level, Milestone.late,
            Milestone.next_check_on)))
        .join(Unit, col(Unit.id) == Milestone.unit_id)
        .where(col(Milestone.project_id).in_(project_ids), col(Milestone.retired_at).is_(None))
        .order_by(col(Milestone.project_id), col(Milestone.seq))).tuples()
    for project_id, seq, title, unit, due_on, state, light, level, late, next_check in rows:
        yield project_id, MilestoneLine(seq, title, unit, due_on, str(state), str(light), level,
                                        late, next_check)
