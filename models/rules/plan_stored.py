"""A plan file in the one form the database gives back, whatever way it was written.

A plan file can say one thing in several ways: a milestone due on 31 December as ``year: 2018`` or
``due: 2018-12-31``; a milestone's commitment or unit written out or inherited from its project;
co-units in any order; a unit declared that no project names. The database keeps the meaning, not
the wording, so an exported plan is written in this form: a milestone due on 31 December by its
year; a milestone's commitment and unit only where they differ from what it inherits; its co-units
(a set) in code order; the units its projects and milestones name (co-units too), in the order they
are first named; an indicator's unit as the importer reads it
(models.rules.quantity.indicator_unit). ``stored_form`` of any plan file equals the export of that
file after import (tests/test_plan_workbook.py checks it for each seed plan), and importing either
changes nothing.

Pure: no database.
"""

from __future__ import annotations

from config.plan_file import Commitment, IndicatorEntry, MilestoneEntry, PlanFile, ProjectEntry
from models.rules.quantity import indicator_unit


def stored_form(plan_file: PlanFile) -> PlanFile:
    projects = [_project(p) for p in plan_file.projects]
    named: dict[str, None] = {}
    for project in projects:
        named[project.unit] = None
        for milestone in project.milestones:
            if milestone.unit is not None:
                named[milestone.unit] = None
            named.update(dict.fromkeys(milestone.co_units))
    declared = {u.code: u for u in plan_file.units}
    units = [declared[code] for code in named if code in declared]
    indicators = [i.model_copy(update={"measure": indicator_unit(i.measure, entry_cells(i))})
                  for i in plan_file.indicators]
    return plan_file.model_copy(update={"projects": projects, "units": units or plan_file.units,
                                        "indicators": indicators})


def entry_cells(entry: IndicatorEntry) -> list[int | float | str]:
    """Every cell of an indicator's row: its baseline, targets and actual values."""
    baseline = [entry.baseline.value] if entry.baseline and entry.baseline.value is not None \
        else []
    return [*baseline, *entry.targets.values(), *entry.actuals.values()]


def _project(project: ProjectEntry) -> ProjectEntry:
    inherited = project.commitment  # None: unmarked (未标注), inherited as such
    return project.model_copy(update={"milestones": [
        _milestone(m, inherited, project.unit) for m in project.milestones]})


def _milestone(milestone: MilestoneEntry, commitment: Commitment | None, unit: str
               ) -> MilestoneEntry:
    due = milestone.due_on
    by_year = (due.month, due.day) == (12, 31)
    return milestone.model_copy(update={
        "year": due.year if by_year else None,
        "due": None if by_year else due,
        "commitment": (milestone.commitment
                       if milestone.commitment not in (None, commitment) else None),
        "unit": milestone.unit if milestone.unit not in (None, unit) else None,
        "co_units": sorted(milestone.co_units),
    })

