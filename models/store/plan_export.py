"""A plan in the database as a plan file, in its stored form (models/rules/plan_stored.py).

What is written: the plan's live projects, milestones and indicators (retired ones stay in the
database with their history and out of the file, so that importing the file leaves them as they
are); each milestone at its planned due date (an extension granted later is a decision, not a
change of plan); the units its projects and milestones name, with their contact unless it is the
placeholder the import gave; each milestone's co-units (协办单位), their units declared
too; the yearly
targets and the actual values the plan document printed (readings reported later are not part of
the plan).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from config.plan_file import PlanFile
from models.rules.plan_stored import stored_form
from models.rules.quantity import as_cell
from models.store.co_units import co_unit_ids_of
from models.tables.indicator import Indicator, IndicatorReading, IndicatorTarget, ReadingSource
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from models.tables.unit import Unit


def plan_file_of(*, session: Session, code: str) -> PlanFile | None:
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    if plan is None:
        return None
    projects = session.exec(select(Project).where(
        Project.plan_id == plan.id, col(Project.retired_at).is_(None))
        .order_by(col(Project.seq))).all()
    milestones = session.exec(select(Milestone).where(
        col(Milestone.project_id).in_([p.id for p in projects]),
        col(Milestone.retired_at).is_(None)).order_by(col(Milestone.seq))).all()
    indicators = session.exec(select(Indicator).where(
        Indicator.plan_id == plan.id, col(Indicator.retired_at).is_(None))
        .order_by(col(Indicator.seq))).all()
    co_units = co_unit_ids_of(session, [m.id for m in milestones])
    unit_ids = {p.unit_id for p in projects} | {m.unit_id for m in milestones} | {
        u for ids in co_units.values() for u in ids}
    units = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(unit_ids)))}
    by_project: dict[int | None, list[Milestone]] = {}
    for milestone in milestones:
        by_project.setdefault(milestone.project_id, []).append(milestone)
    project_codes = {p.id: p.code for p in projects}
    series = _series(session, [i.id for i in indicators])
    document = {
        "plan": {"code": plan.code, "name": plan.name, "issuer": plan.issuer,
                 "document_number": plan.document_number, "issued_on": plan.issued_on,
                 "period": f"{plan.start_year}-{plan.end_year}", "source": plan.source},
        "units": [_unit(u) for u in sorted(units.values(), key=lambda u: u.code)],
        "projects": [_project(p, by_project.get(p.id, []), units, co_units) for p in projects],
        "indicators": [_indicator(i, project_codes, series) for i in indicators],
    }
    return stored_form(PlanFile.model_validate(document))


def _unit(unit: Unit) -> dict[str, Any]:
    contact = None if unit.contact_placeholder else {
        "name": unit.contact_name, "email": unit.contact_email, "phone": unit.contact_phone}
    return {"code": unit.code, "name": unit.name, "kind": unit.kind.value, "contact": contact}


def _project(project: Project, milestones: list[Milestone], units: dict[int | None, Unit],
             co_units: dict[int, frozenset[int]]) -> dict[str, Any]:
    return {
        "code": project.code, "name": project.name, "description": project.description,
        "unit": units[project.unit_id].code, "category": project.category,
        "floor_area_m2": project.floor_area_m2,
        "investment_wan_yuan": project.investment_wan_yuan, "beds": project.beds,
        "facts": project.facts, "commitment": project.commitment,
        "milestones": [{"due": m.planned_due_on, "target": m.title, "commitment": m.commitment,
                        "unit": units[m.unit_id].code, "assumption": m.assumption,
                        "co_units": sorted(units[u].code for u in co_units.get(m.id or 0, ()))}
                       for m in milestones],
    }


Series = dict[int | None, dict[str, dict[int, int | float | str | None]]]


def _series(session: Session, indicator_ids: list[int | None]) -> Series:
    """Each indicator's targets and the plan's actual values, by year."""
    out: Series = {i: {"targets": {}, "actuals": {}} for i in indicator_ids}
    for target in session.exec(select(IndicatorTarget).where(
            col(IndicatorTarget.indicator_id).in_(indicator_ids))
            .order_by(col(IndicatorTarget.year))):
        out[target.indicator_id]["targets"][target.year] = as_cell(target.value, target.text)
    for reading in session.exec(select(IndicatorReading).where(
            col(IndicatorReading.indicator_id).in_(indicator_ids),
            IndicatorReading.source == ReadingSource.plan).order_by(col(IndicatorReading.as_of))):
        out[reading.indicator_id]["actuals"][reading.as_of.year] = as_cell(reading.value,
                                                                           reading.text)
    return out


def _indicator(indicator: Indicator, project_codes: dict[int | None, str],
               series: Series) -> dict[str, Any]:
    baseline = None if indicator.baseline_year is None else {
        "year": indicator.baseline_year,
        "value": as_cell(indicator.baseline_value, indicator.baseline_text)}
    return {
        "code": indicator.code, "table": indicator.source_table, "category": indicator.category,
        "name": indicator.name, "measure": indicator.measure, "baseline": baseline,
        **series[indicator.id], "commitment": indicator.commitment,
        "direction": indicator.direction.value, "facts": indicator.facts,
        "project": project_codes.get(indicator.project_id) if indicator.project_id else None,
    }
