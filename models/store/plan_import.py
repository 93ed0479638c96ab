"""Applying a validated plan file to the database, recording every change in the event log.

The caller owns the transaction: ``import_plan`` only adds, changes and flushes, and raises
``ImportRefused`` before committing anything the file would destroy. So an import either
happens whole or not at all.

Algorithm for one file:
1. Units: create each declared unit (with a placeholder contact unless the file gives one), or
   update its name and kind. Units are never deleted: other plans may use them.
2. The plan row: create or update.
3. Projects by ``code``, then each project's milestones by ``key`` (planned due date, plus
   ``/n`` for repeats): create, update changed fields, restore a retired one that is back;
   then each milestone's co-units (协办单位), compared as a set with those stored, a change
   recorded as one ``milestone.co_units_changed`` event with the codes before and after.
4. Indicators by ``code``, with their yearly targets and the actual values the document prints.
5. What the file no longer contains: delete it when it has no history; otherwise refuse the
   import naming it, or, with ``retire=True``, keep it marked as retired.
Every create, update, removal, retirement and restoration is one event with the changed
fields as ``[old, new]`` pairs. An unchanged file produces no event and no write.

Cost is linear in the size of the file: each step reads what it compares with in one query
(all milestones of the plan, all yearly series of its indicators) and flushes the rows it
creates together, once, to learn their ids for the events; nothing is queried per item.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, SQLModel, col, select

from config.plan_file import IndicatorEntry, ProjectEntry
from config.plan_loader import LoadedPlan
from models.rules.plan_stored import entry_cells
from models.rules.quantity import as_cell, indicator_unit, parse_cell
from models.store.events import ids_with_history, record
from models.tables.co_unit import MilestoneCoUnit
from models.tables.columns import saved_id
from models.tables.escalation import EscalationStep
from models.tables.event_kinds import EventKind
from models.tables.indicator import (
    Direction,
    Indicator,
    IndicatorReading,
    IndicatorTarget,
    ReadingSource,
)
from models.tables.light_change import LightChange
from models.tables.milestone import Milestone, milestone_keys
from models.tables.plan import Plan, Project
from models.tables.unit import Unit, UnitKind, placeholder_contact


class ImportRefused(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Change:
    """One recorded change, as its event has it: what a dry run shows."""

    kind: str                    # EventKind: "milestone.updated"
    ids: dict[str, int | None]   # plan_id, project_id, milestone_id, indicator_id, unit_id
    data: dict[str, Any]         # {"changes": {field: [old, new]}} or {"values": {...}}


@dataclass
class ImportOutcome:
    plan_code: str
    source: str
    counts: Counter[str] = field(default_factory=Counter)  # EventKind.project_created → 3
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def import_plan(*, session: Session, loaded: LoadedPlan, actor: str, now: datetime,
                retire: bool = False) -> ImportOutcome:
    importer = _Importer(session, loaded, actor, now, retire)
    importer.run()
    if importer.refusals:
        raise ImportRefused(importer.refusals)
    session.flush()
    return importer.outcome


class _Importer:
    def __init__(self, session: Session, loaded: LoadedPlan, actor: str, now: datetime,
                 retire: bool) -> None:
        self.session, self.file, self.actor, self.now = session, loaded.content, actor, now
        self.retire = retire
        self.reason = f"导入规划文件 {loaded.source}"
        self.outcome = ImportOutcome(self.file.plan.code, loaded.source)
        self.refusals: list[str] = []
        self.units: dict[str, Unit] = {}
        # Each milestone of the file with the co-unit codes it names (set once ids are known).
        self.co_wanted: list[tuple[Milestone, list[str]]] = []

    # -- steps -------------------------------------------------------------------------------

    def run(self) -> None:
        with self.session.no_autoflush:  # each step flushes once, when it needs the new ids
            self._sync_units()
            plan = self._sync_plan()
            projects = self._sync_projects(plan)
            self._sync_milestones(plan, projects)
            self._sync_indicators(plan, projects)

    def _sync_units(self) -> None:
        codes = [u.code for u in self.file.units]
        existing = {u.code: u for u in self._all(Unit, col(Unit.code).in_(codes))}
        holders = {u.name: u.code for u in self._all(
            Unit, col(Unit.name).in_([u.name for u in self.file.units]))}
        created: list[Unit] = []
        for entry in self.file.units:
            values: dict[str, Any] = {"name": entry.name, "kind": UnitKind(entry.kind)}
            if entry.contact is not None:
                values |= {"contact_name": entry.contact.name,
                           "contact_email": str(entry.contact.email).lower(),
                           "contact_phone": entry.contact.phone, "contact_placeholder": False}
            holder = holders.get(entry.name)
            if holder is not None and holder != entry.code:
                self.refusals.append(f"unit {entry.code}: the name {entry.name} already belongs "
                                     f"to unit {holder}")
                continue
            unit = existing.get(entry.code)
            if unit is None:
                contact = {} if entry.contact else placeholder_contact(entry.code, entry.name)
                unit = Unit(code=entry.code, **contact, **values)
                created.append(unit)
            else:
                if holders.get(unit.name) == unit.code:
                    del holders[unit.name]  # a renamed unit frees its old name
                self._update(unit, values, "unit", unit_id=unit.id)
            holders[entry.name] = entry.code
            self.units[entry.code] = unit
        self._created(created, EventKind.unit_created, lambda u: {"unit_id": u.id})

    def _sync_plan(self) -> Plan:
        header = self.file.plan
        values: dict[str, Any] = {"name": header.name, "issuer": header.issuer,
                  "document_number": header.document_number, "issued_on": header.issued_on,
                  "start_year": header.start_year, "end_year": header.end_year,
                  "source": header.source}
        plan = self.session.exec(select(Plan).where(Plan.code == header.code)).first()
        if plan is None:
            plan = self._create(Plan(code=header.code, **values))
            self._event(EventKind.plan_created, plan_id=plan.id, data=_snapshot(plan))
        else:
            self._update(plan, values, "plan", plan_id=plan.id)
        return plan

    def _sync_projects(self, plan: Plan) -> dict[str, Project]:
        existing = {p.code: p for p in self._all(Project, Project.plan_id == plan.id)}
        kept: dict[str, Project] = {}
        created: list[Project] = []
        for seq, entry in enumerate(self.file.projects, start=1):
            if entry.unit not in self.units:
                continue  # refused in _sync_units already
            values: dict[str, Any] = {"seq": seq, "name": entry.name,
                                      "description": entry.description,
                      "unit_id": self.units[entry.unit].id, "category": entry.category,
                      "floor_area_m2": entry.floor_area_m2,
                      "investment_wan_yuan": entry.investment_wan_yuan, "beds": entry.beds,
                      "facts": dict(entry.facts), "commitment": entry.commitment}
            project = existing.pop(entry.code, None)
            if project is None:
                project = Project(plan_id=saved_id(plan), code=entry.code, **values)
                created.append(project)
            else:
                self._update(project, values, "project", project_id=project.id, plan_id=plan.id)
            kept[entry.code] = project
        self._created(created, EventKind.project_created,
                      lambda p: {"plan_id": plan.id, "project_id": p.id})
        self._drop_projects(plan, list(existing.values()))
        return kept

    def _sync_milestones(self, plan: Plan, projects: dict[str, Project]) -> None:
        """Every project's milestones, compared with the plan's milestones read in one query."""
        by_project: dict[int, dict[str, Milestone]] = defaultdict(dict)
        of_plan = select(Project.id).where(Project.plan_id == plan.id)
        for milestone in self._all(Milestone, col(Milestone.project_id).in_(of_plan)):
            by_project[milestone.project_id][milestone.key] = milestone
        created: list[Milestone] = []
        gone: list[Milestone] = []
        for entry in self.file.projects:
            project = projects.get(entry.code)
            if project is not None:
                existing = by_project.get(saved_id(project), {})
                created += self._sync_project_milestones(plan, project, entry, existing)
                gone += existing.values()
        self._created(created, EventKind.milestone_created, lambda m: {
            "plan_id": plan.id, "project_id": m.project_id, "milestone_id": m.id})
        self._sync_co_units(plan)
        codes = {p.id: p.code for p in projects.values()}
        self._drop(gone, "milestone", "milestone_id",
                   lambda m: f"{plan.code} project {codes[m.project_id]} milestone {m.key} "
                             f"({m.title})",
                   ids_of=lambda m: {"plan_id": plan.id, "project_id": m.project_id})

    def _sync_project_milestones(self, plan: Plan, project: Project, entry: ProjectEntry,
                                 existing: dict[str, Milestone]) -> list[Milestone]:
        """Update the project's milestones in place, popping each found from ``existing``;
        return the new ones, not yet flushed."""
        keys = milestone_keys([m.due_on for m in entry.milestones])
        ids = {"plan_id": plan.id, "project_id": project.id}
        created: list[Milestone] = []
        for seq, (key, item) in enumerate(zip(keys, entry.milestones, strict=True), start=1):
            unit = self.units.get(item.unit or entry.unit)
            if unit is None:
                continue
            values: dict[str, Any] = {"seq": seq, "title": item.target, "unit_id": unit.id,
                      "commitment": item.commitment or entry.commitment,
                      "assumption": item.assumption}
            milestone = existing.pop(key, None)
            if milestone is None:
                milestone = Milestone(project_id=saved_id(project), key=key,
                                      planned_due_on=item.due_on, due_on=item.due_on, **values)
                created.append(milestone)
                self.co_wanted.append((milestone, item.co_units))
            else:
                self.co_wanted.append((milestone, item.co_units))
                was_retired = milestone.retired_at is not None
                if self._update(milestone, values, "milestone", milestone_id=milestone.id,
                                **ids) or was_retired:
                    milestone.next_check_on = None  # its unit or commitment may change its ladder
        return created

    def _sync_co_units(self, plan: Plan) -> None:
        """The file's milestones' co-units against those stored for the plan (one query)."""
        of_plan = select(Milestone.id).where(col(Milestone.project_id).in_(
            select(Project.id).where(Project.plan_id == plan.id)))
        stored: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
        for milestone_id, unit_id, code, name in self.session.exec(
                select(MilestoneCoUnit.milestone_id, MilestoneCoUnit.unit_id, Unit.code,
                       Unit.name).join(Unit, col(Unit.id) == MilestoneCoUnit.unit_id)
                .where(col(MilestoneCoUnit.milestone_id).in_(of_plan))).all():
            stored[milestone_id][unit_id] = (code, name)
        for milestone, codes in self.co_wanted:
            milestone_id = saved_id(milestone)
            old = stored.get(milestone_id, {})
            new = {saved_id(self.units[c]): (c, self.units[c].name) for c in codes
                   if c in self.units}
            if set(old) == set(new):
                continue
            gone = sorted(set(old) - set(new))
            if gone:
                self.session.execute(delete(MilestoneCoUnit).where(
                    col(MilestoneCoUnit.milestone_id) == milestone_id,
                    col(MilestoneCoUnit.unit_id).in_(gone)))
            self.session.add_all(MilestoneCoUnit(milestone_id=milestone_id, unit_id=u)
                                 for u in sorted(set(new) - set(old)))
            names = {code: name for code, name in (*old.values(), *new.values())}
            self._event(EventKind.co_units_changed, plan_id=plan.id,
                        project_id=milestone.project_id, milestone_id=milestone_id,
                        data={"co_units": [sorted(c for c, _ in old.values()),
                                           sorted(c for c, _ in new.values())],
                              "names": names})

    def _drop_projects(self, plan: Plan, gone: list[Project]) -> None:
        """A project goes with its milestones, so the history of any of them keeps it."""
        milestones = self._all(Milestone, col(Milestone.project_id).in_([p.id for p in gone]))
        busy = _with_history(self.session, "milestone_id", [m.id for m in milestones])
        busy_projects = {m.project_id for m in milestones if m.id in busy}
        by_project: dict[int, list[Milestone]] = defaultdict(list)
        for milestone in milestones:
            by_project[milestone.project_id].append(milestone)
        for project in gone:
            if project.id not in busy_projects:
                for milestone in by_project[saved_id(project)]:
                    self._event(EventKind.milestone_removed, plan_id=plan.id, project_id=project.id,
                                milestone_id=milestone.id, data=_snapshot(milestone))
                    self.session.delete(milestone)
        self._drop(gone, "project", "project_id",
                   lambda p: f"{plan.code} project {p.code} ({p.name})",
                   ids_of=lambda _: {"plan_id": plan.id}, extra_busy=busy_projects)

    def _sync_indicators(self, plan: Plan, projects: dict[str, Project]) -> None:
        existing = {i.code: i for i in self._all(Indicator, Indicator.plan_id == plan.id)}
        of_plan = select(Indicator.id).where(Indicator.plan_id == plan.id)
        targets: dict[int, dict[int, IndicatorTarget]] = defaultdict(dict)
        for target in self._all(IndicatorTarget, col(IndicatorTarget.indicator_id).in_(of_plan)):
            targets[target.indicator_id][target.year] = target
        readings: dict[int, dict[int, IndicatorReading]] = defaultdict(dict)
        for reading in self._all(IndicatorReading, col(IndicatorReading.indicator_id).in_(of_plan),
                                 IndicatorReading.source == ReadingSource.plan):
            readings[reading.indicator_id][reading.as_of.year] = reading
        created: list[tuple[Indicator, IndicatorEntry]] = []
        for seq, entry in enumerate(self.file.indicators, start=1):
            project = projects.get(entry.project) if entry.project else None
            values = _indicator_values(entry) | {"seq": seq,
                                                 "project_id": project.id if project else None}
            if entry.baseline and entry.baseline.value is not None:
                self._check_unit(entry, f"基期值 {entry.baseline.year}", entry.baseline.value,
                                 values["measure"])
            indicator = existing.pop(entry.code, None)
            if indicator is None:
                indicator = Indicator(plan_id=saved_id(plan), code=entry.code, **values)
                self.session.add(indicator)
                created.append((indicator, entry))
            else:
                changes = _assign(indicator, values)
                changes |= self._sync_series(indicator, entry, targets[saved_id(indicator)],
                                             readings[saved_id(indicator)])
                self._changed(indicator, changes, "indicator", plan_id=plan.id,
                              indicator_id=indicator.id)
        self.session.flush()
        for indicator, entry in created:
            changes = self._sync_series(indicator, entry, {}, {})
            self._event(EventKind.indicator_created, plan_id=plan.id, indicator_id=indicator.id,
                        data=_snapshot(indicator) | changes)
        gone = list(existing.values())
        reported = set(self.session.exec(select(IndicatorReading.indicator_id).where(
            col(IndicatorReading.indicator_id).in_([i.id for i in gone]),
            IndicatorReading.source == ReadingSource.report)).all())
        self._drop(gone, "indicator", "indicator_id", lambda i: f"{plan.code} indicator "
                   f"{i.code} ({i.name})", ids_of=lambda _: {"plan_id": plan.id},
                   extra_busy=reported)

    def _sync_series(self, indicator: Indicator, entry: IndicatorEntry,
                     targets: dict[int, IndicatorTarget],
                     readings: dict[int, IndicatorReading]) -> dict[str, Any]:
        """Sync targets by year and the document's actual values with the stored ones, by year.

        Returns the changes as {"targets": {year: [old, new]}, "actuals": {...}}.
        """
        changes: dict[str, Any] = {}
        for name, rows, cells, make in (
            ("targets", targets, entry.targets,
             lambda year: IndicatorTarget(indicator_id=saved_id(indicator), year=year)),
            ("actuals", readings, entry.actuals,
             lambda year: IndicatorReading(indicator_id=saved_id(indicator),
                                           as_of=date(year, 12, 31), source=ReadingSource.plan)),
        ):
            diff: dict[str, list[Any]] = {}
            for year, cell in cells.items():
                quantity = parse_cell(cell, indicator.measure)
                self._check_unit(entry, f"{_SERIES[name]} {year}", cell, indicator.measure)
                values = {"value": quantity.value, "qualifier": quantity.qualifier,
                          "text": quantity.text}
                row = rows.pop(year, None)
                old = _cell_of(row) if row is not None else None
                if row is None:
                    row = make(year)
                    self.session.add(row)
                _assign(row, values)
                if old != cell:
                    diff[str(year)] = [old, cell]
            for year, row in rows.items():
                diff[str(year)] = [_cell_of(row), None]
                self.session.delete(row)
            if diff:
                changes[name] = diff
        return changes

    def _check_unit(self, entry: IndicatorEntry, where: str, cell: int | float | str,
                    measure: str | None) -> None:
        """Refuse a number printed in another unit than its indicator's ("50%" of 个)."""
        quantity = parse_cell(cell, measure)
        if quantity.value is not None and quantity.unit != measure:
            self.refusals.append(
                f"{self.file.plan.code} 指标 {entry.code} 的{where}：{cell!r} 的单位是"
                f"{quantity.unit or '（无）'}，与指标的计量单位{measure or '（无）'}不符")

    # -- shared mechanics --------------------------------------------------------------------

    def _drop(self, rows: list[Any], subject: str, id_column: str, describe: Any,
              ids_of: Callable[[Any], dict[str, int | None]],
              extra_busy: set[int] | None = None) -> None:
        live = [row for row in rows if row.retired_at is None]
        busy = _with_history(self.session, id_column, [row.id for row in live])
        busy |= extra_busy or set()
        for row in live:
            subject_ids = ids_of(row) | {id_column: row.id}
            if row.id not in busy:
                self._event(f"{subject}.removed", data=_snapshot(row), **subject_ids)
                self.session.delete(row)
            elif self.retire:
                row.retired_at = self.now
                self.session.add(row)
                self._event(f"{subject}.retired", **subject_ids)
            else:
                self.refusals.append(
                    f"{describe(row)} is no longer in the file but has history (progress, "
                    "decisions or readings); keep it in the file, or import with --retire to "
                    "keep it as retired")

    def _create(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def _created(self, rows: Iterable[Any], kind: EventKind,
                 ids_of: Callable[[Any], dict[str, int | None]]) -> None:
        """Insert the new ``rows`` in one flush, then record each one's creation."""
        rows = list(rows)
        self.session.add_all(rows)
        self.session.flush()
        for row in rows:
            self._event(kind, data=_snapshot(row), **ids_of(row))

    def _update(self, row: Any, values: dict[str, Any], subject: str,
                **ids: int | None) -> dict[str, Any]:
        changes = _assign(row, values)
        self._changed(row, changes, subject, **ids)
        return changes

    def _changed(self, row: Any, changes: dict[str, Any], subject: str, **ids: int | None) -> None:
        if getattr(row, "retired_at", None) is not None:
            row.retired_at = None
            self._event(f"{subject}.restored", data=None, **ids)
        if changes:
            row.updated_at = self.now
            self._event(f"{subject}.updated", data={"changes": changes}, **ids)
        self.session.add(row)

    def _event(self, kind: str, data: dict[str, Any] | None = None, **ids: int | None) -> None:
        record(self.session, kind, at=self.now, actor=self.actor, reason=self.reason,
               data=(data or {}) | {"file": self.outcome.source}, **ids)
        self.outcome.counts[kind] += 1
        self.outcome.changes.append(Change(str(kind), dict(ids), data or {}))

    def _all(self, table: type[SQLModel], *where: Any) -> list[Any]:
        return list(self.session.exec(select(table).where(*where)).all())


_SERIES = {"targets": "目标值", "actuals": "实际值"}


def _indicator_values(entry: IndicatorEntry) -> dict[str, Any]:
    """The indicator's columns from its entry; its measure is the unit of all its numbers."""
    measure = indicator_unit(entry.measure, entry_cells(entry))
    baseline = parse_cell(entry.baseline.value, measure) if entry.baseline and \
        entry.baseline.value is not None else None
    return {"source_table": entry.table, "category": entry.category, "name": entry.name,
            "measure": measure,
            "baseline_year": entry.baseline.year if entry.baseline else None,
            "baseline_value": baseline.value if baseline else None,
            "baseline_qualifier": baseline.qualifier if baseline else None,
            "baseline_text": baseline.text if baseline else None,
            "commitment": entry.commitment, "direction": Direction(entry.direction),
            "facts": dict(entry.facts)}


def _cell_of(row: IndicatorTarget | IndicatorReading) -> int | float | str | None:
    return as_cell(row.value, row.text)


def _assign(row: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``row``; return the changes worth an event.

    ``seq`` is only the position in the file: it follows along without being logged, so that
    removing the first milestone does not log every later one as changed.
    """
    changes = {}
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            setattr(row, name, new)
            if name != "seq":
                changes[name] = [_plain(old), _plain(new)]
    return changes


def _snapshot(row: Any) -> dict[str, Any]:
    skip = {"id", "created_at", "updated_at", "retired_at"}
    return {"values": {k: _plain(v) for k, v in row.model_dump().items() if k not in skip}}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _with_history(session: Session, id_column: str, ids: list[int]) -> set[int]:
    """Which of ``ids`` have history an import must keep: events other than its own, and for
    milestones also what the sweep recorded without an event (light changes, ladder steps)."""
    busy = ids_with_history(session, id_column, ids)
    if id_column == "milestone_id":
        for table in (LightChange, EscalationStep):
            for start in range(0, len(ids), 5000):
                busy |= set(session.exec(select(table.milestone_id).where(
                    col(table.milestone_id).in_(ids[start:start + 5000])).distinct()))
    return busy
