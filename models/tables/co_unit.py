"""Co-responsible units (协办单位): the units besides a milestone's lead (牵头单位).

``Milestone.unit_id`` stays the lead: it claims done, asks for more time, signs the 督办单 and
is what lists, bulletins and rankings count the item against. A co-unit sees the item, gets
its escalation notices and may report progress (models.rules.permissions). The pair is the
primary key, so a unit is a co-unit of an item once; the index by unit serves "the items my
unit co-handles" (the lists and 待办, models.store.co_units).
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class MilestoneCoUnit(SQLModel, table=True):
    __tablename__ = "milestone_co_unit"

    milestone_id: int = Field(foreign_key="milestone.id", ondelete="CASCADE", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True, index=True)
