"""Reading co-units (协办单位, models/tables/co_unit.py): of one item, of many, of a unit.

The lead unit (``Milestone.unit_id``) is read with the milestone; these are the extra units,
asked for only where they matter: who may see or act (models.rules.permissions), who is told
(flows/sweep.py), what a page or the API shows, and which items a unit's list holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import ColumnElement, Select
from sqlmodel import Session, col, select

from models.tables.co_unit import MilestoneCoUnit
from models.tables.milestone import Milestone
from models.tables.unit import Unit

_IN_CHUNK = 5000  # bound the bound parameters of one statement


def co_unit_ids(session: Session, milestone_id: int | None) -> frozenset[int]:
    """The ids of the milestone's co-units (empty for none, or for no milestone)."""
    if milestone_id is None:
        return frozenset()
    return frozenset(session.exec(select(MilestoneCoUnit.unit_id).where(
        MilestoneCoUnit.milestone_id == milestone_id)).all())


def co_unit_ids_of(session: Session, milestone_ids: Iterable[int | None]
                   ) -> dict[int, frozenset[int]]:
    """Each milestone's co-unit ids; a milestone without any is left out."""
    ids = sorted({i for i in milestone_ids if i is not None})
    found: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(ids), _IN_CHUNK):
        for milestone_id, unit_id in session.exec(select(
                MilestoneCoUnit.milestone_id, MilestoneCoUnit.unit_id).where(
                col(MilestoneCoUnit.milestone_id).in_(ids[start:start + _IN_CHUNK]))).all():
            found[milestone_id].add(unit_id)
    return {m: frozenset(units) for m, units in found.items()}


def co_units_of(session: Session, milestone_id: int | None) -> list[Unit]:
    """The milestone's co-units, in code order (as pages, the API and plan files list them)."""
    if milestone_id is None:
        return []
    return list(session.exec(select(Unit).join(
        MilestoneCoUnit, col(MilestoneCoUnit.unit_id) == Unit.id)
        .where(MilestoneCoUnit.milestone_id == milestone_id).order_by(col(Unit.code))).all())


def co_handled_by(unit_ids: Collection[int]) -> Select[tuple[int]]:
    """The ids of the milestones the units co-handle, as a subquery (along the unit index)."""
    return select(MilestoneCoUnit.milestone_id).where(
        col(MilestoneCoUnit.unit_id).in_(sorted(unit_ids)))


def co_handled_by_code(code: str) -> Select[tuple[int]]:
    """``co_handled_by`` for the unit of ``code``."""
    return select(MilestoneCoUnit.milestone_id).join(
        Unit, col(Unit.id) == MilestoneCoUnit.unit_id).where(Unit.code == code)


def lead_or_co(unit_ids: Collection[int]) -> ColumnElement[bool]:
    """Items the units lead or co-handle: a unit's own list."""
    return col(Milestone.unit_id).in_(sorted(unit_ids)) | col(Milestone.id).in_(
        co_handled_by(unit_ids))
