"""An indicator's light: a pure function of its baseline, targets, readings and a day.

- red: the latest target year that has ended was missed (the last reading on or before that
  year's end falls short of the target);
- yellow: the latest reading lies behind the straight line from the baseline (at the end of
  its year) to the next target (at the end of its year);
- green: on or ahead of that line;
- None: nothing to judge by (no reading yet, or no numeric target or baseline).
Targets that are words only ("服务半径全覆盖") cannot be judged and are passed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.rules.quantity import Qualifier
from models.tables.milestone import Light


@dataclass(frozen=True)
class Target:
    year: int
    value: float
    qualifier: Qualifier | None = None


@dataclass(frozen=True)
class Reading:
    as_of: date
    value: float


def indicator_light(*, baseline_year: int | None, baseline_value: float | None,
                    targets: list[Target], readings: list[Reading], direction: str,
                    today: date) -> Light | None:
    known = sorted((r for r in readings if r.as_of <= today), key=lambda r: r.as_of)
    if not known:
        return None
    ended = [t for t in targets if date(t.year, 12, 31) < today]
    if ended:
        last = max(ended, key=lambda t: t.year)
        at_year_end = [r for r in known if r.as_of <= date(last.year, 12, 31)]
        if not at_year_end or not _meets(at_year_end[-1].value, last, direction):
            return Light.red
    upcoming = [t for t in targets if date(t.year, 12, 31) >= today]
    if not upcoming or baseline_year is None or baseline_value is None:
        return Light.green
    latest = known[-1]
    expected = _on_the_line(baseline_year, baseline_value, min(upcoming, key=lambda t: t.year),
                            latest.as_of)
    ahead = latest.value >= expected if direction == "up" else latest.value <= expected
    return Light.green if ahead else Light.yellow


def trajectory_value(*, baseline_year: int | None, baseline_value: float | None,
                     targets: list[Target], day: date) -> float | None:
    """Where the straight line from the baseline (at the end of its year) to the next target
    (at the end of its year) stands on ``day``; None without a baseline or a target ahead."""
    upcoming = [t for t in targets if date(t.year, 12, 31) >= day]
    if not upcoming or baseline_year is None or baseline_value is None:
        return None
    return _on_the_line(baseline_year, baseline_value, min(upcoming, key=lambda t: t.year), day)


def _on_the_line(baseline_year: int, baseline_value: float, target: Target, day: date) -> float:
    start, end = date(baseline_year, 12, 31), date(target.year, 12, 31)
    share = min(max((day - start).days / max((end - start).days, 1), 0.0), 1.0)
    return baseline_value + (target.value - baseline_value) * share


def _meets(value: float, target: Target, direction: str) -> bool:
    if target.qualifier is Qualifier.more_than:
        return value > target.value
    if target.qualifier is Qualifier.less_than:
        return value < target.value
    if target.qualifier is Qualifier.at_most or direction == "down":
        return value <= target.value
    return value >= target.value
