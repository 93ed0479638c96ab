"""Indicators (主要指标), their yearly targets, and the readings reported against them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from config.plan_file import Commitment
from models.rules.quantity import Qualifier
from models.tables.columns import enum_column, json_column, utcnow
from models.tables.milestone import Light


class Direction(StrEnum):
    up = "up"      # higher is better
    down = "down"


class Indicator(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "code", name="uq_indicator_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", ondelete="CASCADE", index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", ondelete="SET NULL",
                                   index=True)
    code: str = Field(max_length=32)
    seq: int
    source_table: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=500)
    name: str = Field(max_length=500)
    measure: str | None = Field(default=None, max_length=100)
    baseline_year: int | None = None
    baseline_value: float | None = None
    baseline_qualifier: Qualifier | None = enum_column(Qualifier, nullable=True)
    baseline_text: str | None = Field(default=None, max_length=500)
    commitment: Commitment | None = enum_column(Commitment, nullable=True)
    direction: Direction = enum_column(Direction, default=Direction.up)
    facts: dict[str, Any] = json_column()
    light: Light | None = enum_column(Light, nullable=True)  # None: nothing to judge by yet
    retired_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class IndicatorTarget(SQLModel, table=True):
    """``value`` is the number where the document gives one; ``text`` keeps the document's words
    whenever they are more than a plain number ("25 以上", "服务半径 全覆盖")."""

    __table_args__ = (UniqueConstraint("indicator_id", "year", name="uq_target_indicator_year"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", ondelete="CASCADE", index=True)
    year: int
    value: float | None = None
    qualifier: Qualifier | None = enum_column(Qualifier, nullable=True)
    text: str | None = Field(default=None, max_length=500)


class ReadingSource(StrEnum):
    plan = "plan"      # an actual value printed in the plan document, kept in step with the file
    report = "report"  # reported by a person


class IndicatorReading(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", ondelete="CASCADE", index=True)
    as_of: date
    value: float | None = None
    qualifier: Qualifier | None = enum_column(Qualifier, nullable=True)
    text: str | None = Field(default=None, max_length=500)
    source: ReadingSource = enum_column(ReadingSource)
    reported_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow)
