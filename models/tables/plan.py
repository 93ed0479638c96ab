"""Plans (规划 / 行动方案) and their key projects (重点项目)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from config.plan_file import Commitment
from models.tables.columns import enum_column, json_column, utcnow


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=500)
    issuer: str = Field(max_length=500)
    document_number: str | None = Field(default=None, max_length=500)
    issued_on: date | None = None
    start_year: int
    end_year: int
    source: str | None = Field(default=None, max_length=500)  # the source document
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Project(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "code", name="uq_project_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", ondelete="CASCADE", index=True)
    code: str = Field(max_length=32)
    seq: int  # position in the plan's list
    name: str = Field(max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    category: str | None = Field(default=None, max_length=500)
    floor_area_m2: float | None = None
    investment_wan_yuan: float | None = None
    beds: int | None = None
    facts: dict[str, Any] = json_column()  # other columns the document gives, verbatim
    commitment: Commitment | None = enum_column(Commitment, nullable=True)
    retired_at: datetime | None = None  # dropped from the plan file but kept for its history
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
