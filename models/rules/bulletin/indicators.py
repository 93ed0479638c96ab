"""The bulletin's indicator table: each indicator against this year's target and the straight
line from its baseline, with its latest reading and light."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.rules.bulletin.history import History
from models.rules.bulletin.periods import Period
from models.rules.indicator_light import Reading, Target, indicator_light, trajectory_value


@dataclass(frozen=True)
class IndicatorRow:
    plan: str
    code: str
    name: str
    unit_name: str | None  # of its project, if it has one
    measure: str | None
    binding: bool
    baseline_year: int | None
    baseline_value: float | None
    target_year: int | None       # this year's target (the year of the period's last day)
    target_value: float | None
    target_text: str | None       # the document's words where more than a number
    trajectory_value: float | None  # the straight line from the baseline, at the period's end
    latest_value: float | None    # the latest reading on or before the period's end
    latest_on: date | None
    light: str | None             # red / yellow / green, or None: nothing to judge by yet
    unmarked: bool = False        # the plan gives no 约束性/预期性 (未标注)


def indicator_rows(history: History, period: Period) -> list[IndicatorRow]:
    """Each indicator against "this year's" target: the first target year not over when the
    period began (a week across New Year still shows the year it closes), on the straight
    line at the period's end or that year's end, whichever is first. Binding ones first."""
    end = period.last
    rows = []
    for ind in history.indicators:
        readings = [Reading(on, value) for on, value in ind.readings if on <= end]
        targets = [Target(year, value, ind.target_qualifiers.get(year))
                   for year, (value, _) in ind.targets.items() if value is not None]
        latest = max(readings, key=lambda r: r.as_of, default=None)
        year = min((y for y in ind.targets if y >= period.first.year), default=None)
        this_year = ind.targets.get(year) if year == period.first.year or (
            year == end.year) else None
        light = indicator_light(baseline_year=ind.baseline_year,
                                baseline_value=ind.baseline_value, targets=targets,
                                readings=readings, direction=ind.direction, today=end)
        rows.append(IndicatorRow(
            plan=ind.plan, code=ind.code, name=ind.name, unit_name=ind.unit_name,
            measure=ind.measure, binding=ind.binding, baseline_year=ind.baseline_year,
            baseline_value=ind.baseline_value,
            target_year=year if this_year else None,
            target_value=this_year[0] if this_year else None,
            target_text=this_year[1] if this_year else None,
            trajectory_value=trajectory_value(
                baseline_year=ind.baseline_year, baseline_value=ind.baseline_value,
                targets=targets,
                day=min(end, date(year, 12, 31)) if this_year and year is not None else end),
            latest_value=latest.value if latest else None,
            latest_on=latest.as_of if latest else None,
            light=light.value if light else None, unmarked=ind.unmarked))
    seq = {(i.plan, i.code): i.seq for i in history.indicators}
    return sorted(rows, key=lambda r: (not r.binding, r.plan, seq[(r.plan, r.code)]))
