"""Indicator values reported by people (source ``report``), next to the plan's own figures.

A reported reading is a row of its own: a plan re-import syncs only ``source=plan`` rows
(models/store/plan_import.py), so it never overwrites what a person reported, and an indicator with
reported readings counts as having history. One reported reading per indicator and day: a
second report the same day corrects the first (the event keeps the old value), so the light,
which takes the latest reading of a day, never has two of one day to choose from.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlmodel import Session, col, select

from models.rules.rulebook import Rules
from models.store.actions import ActionRefused, Changed, Recorded
from models.store.events import record
from models.tables.event_kinds import EventKind
from models.tables.indicator import Indicator, IndicatorReading, ReadingSource
from models.tables.milestone import Milestone
from models.tables.plan import Project


def report_indicator_value(*, session: Session, rules: Rules, milestone_id: int,
                           indicator_id: int, value: float, actor: str, now: datetime,
                           actor_id: int | None = None,
                           expected_version: int | None = None) -> Recorded:
    """Record ``value`` as reached today (in the app's zone) for an indicator of the
    milestone's project, with an ``indicator.reported`` event on the milestone's history."""
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.retired_at is not None:
        raise ActionRefused(f"没有编号为 {milestone_id} 的现行事项", "not_found")
    if expected_version is not None and expected_version != milestone.version:
        raise Changed(milestone_id)
    indicator = session.get(Indicator, indicator_id)
    if (indicator is None or indicator.retired_at is not None
            or indicator.project_id != milestone.project_id):
        raise ActionRefused(f"指标 {indicator_id} 不是该项目的指标", "unknown_indicator")
    if not math.isfinite(value):
        raise ActionRefused(f"指标值应为有限的数字，填写的是 {value}", "invalid_value")
    today = rules.today(now)
    reading = session.exec(select(IndicatorReading).where(
        IndicatorReading.indicator_id == indicator_id, IndicatorReading.as_of == today,
        IndicatorReading.source == ReadingSource.report)).first()
    previous = reading.value if reading is not None else None
    if reading is None:
        reading = IndicatorReading(indicator_id=indicator_id, as_of=today,
                                   source=ReadingSource.report)
    reading.value, reading.qualifier, reading.text = value, None, None
    reading.reported_by_id = actor_id
    session.add(reading)
    plan_id = session.exec(select(Project.plan_id)
                           .where(col(Project.id) == milestone.project_id)).one()
    event = record(session, EventKind.indicator_reported, at=now, actor=actor, actor_id=actor_id,
                   indicator_id=indicator_id, milestone_id=milestone.id,
                   project_id=milestone.project_id, plan_id=plan_id, unit_id=milestone.unit_id,
                   data={"value": value, "code": indicator.code, "name": indicator.name,
                         "measure": indicator.measure, "as_of": today.isoformat(),
                         "previous": previous})
    session.flush()
    return Recorded(milestone, event)
