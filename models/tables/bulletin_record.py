"""A stored bulletin: one per scope (a plan, or "*" for every plan), period and edition.

Generating a bulletin again replaces its row in place (same id, so the outbox keys of what was
sent for it stay the same and nothing is sent twice); ``sends`` counts the deliberate resends,
each of which gets keys of its own. The figures are kept as JSON, the outputs as they were
made: the HTML exactly as emailed (its chart as ``cid:bulletin-chart``), the chart, the workbook
and the PDF.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.periods import PeriodKind
from models.tables.columns import enum_column, json_column, utcnow


class BulletinRecord(SQLModel, table=True):
    __tablename__ = "bulletin"
    __table_args__ = (UniqueConstraint("scope", "period_first", "period_last", "edition",
                                       name="uq_bulletin_scope_period_edition"),
                      # 期号: one number per scope, year, edition (models/rules/bulletin/issues.py)
                      UniqueConstraint("scope", "edition", "issue_year", "issue_number",
                                       name="uq_bulletin_issue"))

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=32)  # a plan code, or "*"
    scope_name: str = Field(max_length=500)
    period_kind: PeriodKind = enum_column(PeriodKind)
    period_first: date
    period_last: date = Field(index=True)
    edition: Edition = enum_column(Edition)
    figures: dict[str, Any] = json_column()
    subject: str = Field(max_length=500)
    html: str
    text: str
    chart_png: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    xlsx: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    pdf: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    issue_year: int | None = None    # 期号 2017年第3期: year 2017, number 3; kept when
    issue_number: int | None = None  # regenerated (None only in a row being made)
    sends: int = 0  # deliberate resends so far (duban bulletin generate --send --resend)
    generated_at: datetime = Field(default_factory=utcnow)
    generated_by: str = Field(max_length=500)
