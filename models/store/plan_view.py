"""A plan with everything under it, as plain data: the shape of `duban plans show --json`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from models.tables.indicator import Indicator, IndicatorReading, IndicatorTarget
from models.tables.milestone import Milestone
from models.tables.plan import Plan, Project
from models.tables.unit import Unit


def plan_summaries(*, session: Session) -> list[dict[str, Any]]:
    plans = session.exec(select(Plan).order_by(col(Plan.start_year), col(Plan.code))).all()
    out = []
    for plan in plans:
        projects = session.exec(select(Project.id).where(Project.plan_id == plan.id)).all()
        milestones = session.exec(select(Milestone.id).where(
            col(Milestone.project_id).in_(projects))).all()
        indicators = session.exec(select(Indicator.id).where(Indicator.plan_id == plan.id)).all()
        out.append({"code": plan.code, "name": plan.name, "period": _period(plan),
                    "projects": len(projects), "milestones": len(milestones),
                    "indicators": len(indicators)})
    return out


def plan_detail(*, session: Session, code: str) -> dict[str, Any] | None:
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    if plan is None:
        return None
    units = {u.id: u for u in session.exec(select(Unit)).all()}
    projects = session.exec(select(Project).where(Project.plan_id == plan.id)
                            .order_by(col(Project.seq))).all()
    milestones = session.exec(select(Milestone).where(
        col(Milestone.project_id).in_([p.id for p in projects]))
        .order_by(col(Milestone.project_id), col(Milestone.seq))).all()
    indicators = session.exec(select(Indicator).where(Indicator.plan_id == plan.id)
                              .order_by(col(Indicator.seq))).all()
    indicator_ids = [i.id for i in indicators]
    targets = session.exec(select(IndicatorTarget).where(
        col(IndicatorTarget.indicator_id).in_(indicator_ids)).order_by(col(IndicatorTarget.year))).all()
    readings = session.exec(select(IndicatorReading).where(
        col(IndicatorReading.indicator_id).in_(indicator_ids))
        .order_by(col(IndicatorReading.as_of), col(IndicatorReading.id))).all()
    project_codes = {p.id: p.code for p in projects}

    def unit(unit_id: int) -> dict[str, str]:
        return {"code": units[unit_id].code, "name": units[unit_id].name}

    return {
        "code": plan.code, "name": plan.name, "issuer": plan.issuer,
        "document_number": plan.document_number, "issued_on": plan.issued_on,
        "period": _period(plan), "source": plan.source,
        "projects": [{
            "code": p.code, "name": p.name, "description": p.description, "unit": unit(p.unit_id),
            "category": p.category, "floor_area_m2": p.floor_area_m2,
            "investment_wan_yuan": p.investment_wan_yuan, "beds": p.beds, "facts": p.facts,
            "commitment": p.commitment, "retired": p.retired_at is not None,
            "milestones": [{
                "id": m.id, "key": m.key, "title": m.title, "planned_due_on": m.planned_due_on,
                "due_on": m.due_on, "commitment": m.commitment, "assumption": m.assumption,
                "unit": unit(m.unit_id),
                "state": m.state, "retired": m.retired_at is not None,
            } for m in milestones if m.project_id == p.id],
        } for p in projects],
        "indicators": [{
            "code": i.code, "name": i.name, "measure": i.measure, "table": i.source_table,
            "category": i.category, "commitment": i.commitment, "direction": i.direction,
            "project": project_codes.get(i.project_id) if i.project_id else None,
            "baseline": None if i.baseline_year is None else {
                "year": i.baseline_year, "value": i.baseline_value,
                "qualifier": i.baseline_qualifier, "text": i.baseline_text},
            "facts": i.facts, "retired": i.retired_at is not None,
            "targets": [{"year": t.year, "value": t.value, "qualifier": t.qualifier,
                         "text": t.text} for t in targets if t.indicator_id == i.id],
            "readings": [{"as_of": r.as_of, "value": r.value, "qualifier": r.qualifier,
                          "text": r.text, "source": r.source}
                         for r in readings if r.indicator_id == i.id],
        } for i in indicators],
    }


def _period(plan: Plan) -> str:
    return f"{plan.start_year}-{plan.end_year}"
