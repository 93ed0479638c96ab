"""Milestones (年度目标 / 节点): what must be true by a date."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from config.plan_file import Commitment
from models.tables.columns import enum_column, utcnow


class MilestoneState(StrEnum):
    pending = "pending"
    due_soon = "due_soon"    # 临期
    overdue = "overdue"      # 逾期
    claimed = "claimed"      # 申报完成: the owner says done, with evidence
    closed = "closed"        # 销号: the office accepted the evidence
    returned = "returned"    # 退回重办: sent back to be redone
    waived = "waived"


class Light(StrEnum):
    """红黄绿灯, and 蓝灯 for a claim waiting for 销号 (models.rules.status says why)."""

    green = "green"
    yellow = "yellow"
    red = "red"
    blue = "blue"       # 待核实: the owner claims it done; the office has not judged it yet


LIST_INDEXES = {
    "ix_milestone_light_due": ("light", "due_on", "id"),
    "ix_milestone_unit_light_due": ("unit_id", "light", "due_on", "id"),
    "ix_milestone_level_light_due": ("level", "light", "due_on", "id"),
    "ix_milestone_state_claimed": ("state", "claimed_on", "id"),
    "ix_milestone_state_level": ("state", "level", "acknowledged_level"),  # 逾期未确认
}
LISTED = "retired_at IS NULL"
# Besides LISTED: the claim-day order lists claimed items alone (milestone_list's sort
# "claimed" asks for a claim day), so an item never claimed has no entry to rewrite when a
# sweep changes its row (migration 0019).
LIST_INDEX_WHERE = {"ix_milestone_state_claimed": "claimed_on IS NOT NULL"}


def _where(index: str) -> str:
    return " AND ".join(filter(None, (LISTED, LIST_INDEX_WHERE.get(index))))


class Milestone(SQLModel, table=True):
    """``key`` identifies a milestone across re-imports: its planned due date, plus ``/n`` for the
    n-th milestone of a project due that same day. ``planned_due_on`` is what the plan says;
    ``due_on`` is the date in force, moved only by an approved extension.
    """

    # The list indexes (models.store.milestone_list): each list page is an index range read in
    # (light, due_on, id) order, narrowed first by unit or by level when the list is. Partial
    # (listed items only), so that counting a light is an index-only scan. The trigram indexes
    # for text search are PostgreSQL's alone (migration 0014, not declared here).
    # Every index costs the sweep an entry per row it rewrites (each of its UPDATEs changes an
    # indexed column, so none is HOT): none is kept that another answers as well. project_id is
    # the unique key's first column; a state is looked up only among listed items, which
    # ix_milestone_state_level (state first) holds (migration 0019).
    __table_args__ = (UniqueConstraint("project_id", "key", name="uq_milestone_project_key"),
                      *(Index(name, *columns, postgresql_where=text(_where(name)),
                              sqlite_where=text(_where(name)))
                        for name, columns in LIST_INDEXES.items()))

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE")
    key: str = Field(max_length=20)
    seq: int
    title: str = Field(max_length=5000)
    planned_due_on: date
    due_on: date = Field(index=True)
    commitment: Commitment | None = enum_column(Commitment, nullable=True)  # None: 未标注
    # Why the date or the text is assumed, when the plan does not give it (shown as 推定).
    assumption: str | None = Field(default=None, max_length=500)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    state: MilestoneState = enum_column(MilestoneState, default=MilestoneState.pending)
    retired_at: datetime | None = None
    # Kept by the sweep from the facts (models.rules.status); ``next_check_on`` indexes the next day
    # anything could change, so a sweep reads only what is due for a look.
    light: Light = enum_column(Light, default=Light.green)
    level: int = 0                          # highest escalation level reached
    late: bool = False                      # 超时: done late, or still open past the due date
    claimed_on: date | None = None          # the (latest) claim's day while claimed or closed
    provisional: bool = False               # dates computed on an assumed Mon–Fri week
    next_check_on: date | None = Field(default=None, index=True)
    # Set by the office (models.store.actions), each with its event.
    major: bool = False
    acknowledged_level: int = 0
    snoozed_until: date | None = None
    # Optimistic concurrency: every write is "UPDATE … WHERE version = :seen".
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def milestone_keys(due_dates: list[date]) -> list[str]:
    """Keys for a project's milestones in file order: the date, then ``/2``, ``/3`` for repeats."""
    seen: dict[date, int] = {}
    keys = []
    for due in due_dates:
        seen[due] = seen.get(due, 0) + 1
        keys.append(due.isoformat() if seen[due] == 1 else f"{due.isoformat()}/{seen[due]}")
    return keys
