"""What the JSON API reads and answers: pydantic models, which also make its OpenAPI document.

Request bodies forbid unknown fields, so a misspelt field is refused by name instead of being
ignored. Dates are ISO days only (``2026-12-31``): pydantic would otherwise read a number as
seconds since 1970 and turn a typo into a date. A text is config.fields' ``Text``, as in plan
files. The pages read their forms with these same bodies (web/forms.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from config.fields import Text
from config.plan_file import Commitment
from models.tables.milestone import Light, MilestoneState
from models.tables.person import Role
from models.tables.unit import UnitKind

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return value
    raise PydanticCustomError("iso_date", "must be a date in the form YYYY-MM-DD, got {value}",
                              {"value": repr(value)})


Day = Annotated[date, BeforeValidator(_iso_day)]
Version = Annotated[int | None, Field(
    ge=1, description="读取事项时得到的 `version`。若事项在此之后已被修改，不做任何改动，"
    "返回 409：请重新读取事项。")]


class FieldError(BaseModel):
    field: str = Field(description="出错的字段，例如 `proposed_due_on`。")
    location: str = Field(description="`body`（请求体）、`query`（查询参数）或 `path`（路径）。")
    message: str


class Problem(BaseModel):
    detail: str = Field(description="拒绝了什么、为什么；字段有误时指明字段。")
    errors: list[FieldError] | None = Field(None, description="仅 422：逐项列出有误的字段。")


# ── answers ──────────────────────────────────────────────────────────────────────────────


class UnitRef(BaseModel):
    code: str
    name: str


class Me(BaseModel):
    id: int
    name: str
    email: str
    role: Role = Field(description="office 督查室，owner 项目负责人，leader 分管领导，admin 管理员")
    unit: UnitRef | None = Field(description="项目负责人只能办理本单位的事项。")
    heads_unit: bool


class PlanOut(BaseModel):
    code: str
    name: str
    issuer: str
    document_number: str | None
    start_year: int
    end_year: int


class UnitOut(BaseModel):
    code: str
    name: str
    kind: UnitKind


class MilestoneOut(BaseModel):
    """A milestone with its light computed for today, as the pages and `duban status` show."""

    milestone_id: int
    plan: str = Field(description="Plan code.")
    project: str = Field(description="Project code within the plan.")
    project_name: str
    title: str
    unit: str = Field(description="Responsible unit's name.")
    unit_code: str
    due_on: date = Field(description="Due date in force: the plan's, or an approved extension.")
    planned_due_on: date
    state: MilestoneState
    light: Light = Field(description="red overdue, yellow due soon, green on track or done.")
    overdue_workdays: int
    late: bool
    level: int = Field(description="Escalation level reached; 0: none.")
    acknowledged_level: int
    commitment: Commitment
    provisional: bool = Field(description="Dates computed on an assumed Monday–Friday week.")
    version: int = Field(description="Send it back as `version` to act on what you read.")


class EventOut(BaseModel):
    id: int
    at: datetime
    kind: str = Field(description="记录的类型，例如 milestone.done_claimed（申报完成）、"
                      "milestone.closed（销号）")
    actor: str = Field(description="谁做的：人员的邮箱，或系统（规划导入、每日巡查）。")
    reason: str | None
    data: dict[str, Any]


class ExtensionRequestOut(BaseModel):
    requested_at: datetime
    requested_by: str
    proposed_due_on: date
    reason: str | None


class MilestoneDetail(MilestoneOut):
    major: bool
    snoozed_until: date | None
    pending_extension: ExtensionRequestOut | None = Field(
        description="待督查室审批的延期申请（如有）。")
    history: list[EventOut] = Field(description="事项的全部记录，按时间先后。")


# ── requests ─────────────────────────────────────────────────────────────────────────────


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = None


class DoneIn(Body):
    evidence: Text = Field(description="完成情况说明（佐证）：文字说明、文号或数据。")


class ProgressIn(Body):
    percent: float | None = Field(None, ge=0, le=100)
    note: Text | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.percent is None and self.note is None:
            raise PydanticCustomError("progress_empty", "give a percent, a note, or both")
        return self


class ExtensionIn(Body):
    proposed_due_on: Day = Field(description="建议的新截止日期，须晚于现行截止日期。")
    reason: Text


class DecisionIn(Body):
    approved: bool
    new_due_on: Day | None = Field(None, description="新截止日期；不填则为申请人建议的日期。")
    reason: Text | None = None


class AcknowledgeIn(Body):
    reason: Text | None = None


class SnoozeIn(Body):
    until: Day = Field(description="暂缓提醒至此日（含当日），不能早于今天。")
    reason: Text


class CloseIn(Body):
    reason: Text | None = None


class ReasonIn(Body):
    reason: Text


class MajorIn(ReasonIn):
    major: bool = Field(description="true：列为重大事项；false：取消重大事项。")
