"""Indicator lights, re-judged on every sweep: there are few indicators, so all are read."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.rules.indicator_light import Reading, Target, indicator_light
from models.rules.rulebook import Rules
from models.store.events import record
from models.tables.columns import saved_id
from models.tables.event_kinds import EventKind
from models.tables.indicator import Indicator, IndicatorReading, IndicatorTarget


def sweep_indicators(*, session: Session, rules: Rules, now: datetime,
                     project_id: int | None = None) -> list[dict[str, Any]]:
    today = rules.today(now)
    query = select(Indicator).where(col(Indicator.retired_at).is_(None))
    if project_id is not None:
        query = query.where(Indicator.project_id == project_id)
    indicators = session.exec(query).all()
    ids = [i.id for i in indicators]
    targets: dict[int, list[Target]] = defaultdict(list)
    for t in session.exec(select(IndicatorTarget).where(col(IndicatorTarget.indicator_id).in_(ids),
                                                        col(IndicatorTarget.value).is_not(None))):
        if t.value is not None:  # always, by the query; the column is nullable
            targets[t.indicator_id].append(Target(t.year, t.value, t.qualifier))
    readings: dict[int, list[Reading]] = defaultdict(list)
    for r in session.exec(select(IndicatorReading).where(
            col(IndicatorReading.indicator_id).in_(ids), col(IndicatorReading.value).is_not(None))):
        if r.value is not None:  # always, by the query
            readings[r.indicator_id].append(Reading(r.as_of, r.value))
    changes = []
    for indicator in indicators:
        light = indicator_light(baseline_year=indicator.baseline_year,
                                baseline_value=indicator.baseline_value,
                                targets=targets[saved_id(indicator)],
                                readings=readings[saved_id(indicator)],
                                direction=indicator.direction, today=today)
        if light == indicator.light:
            continue
        session.execute(update(Indicator).where(col(Indicator.id) == indicator.id)
                        .values(light=light))
        record(session, EventKind.indicator_light_changed, at=now, actor="system:sweep",
               indicator_id=indicator.id, plan_id=indicator.plan_id, reason="sweep",
               data={"light": [indicator.light, light], "as_of": today.isoformat()})
        changes.append({"indicator_id": indicator.id, "name": indicator.name,
                        "from": indicator.light, "to": light})
    return changes

