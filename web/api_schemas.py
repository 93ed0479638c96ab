"""What the JSON API reads and answers: pydantic models, which also make its OpenAPI document.

Request bodies forbid unknown fields, so a misspelt field is refused by name instead of being
ignored. Dates are ISO days only (``2026-12-31``): pydantic would otherwise read a number as
seconds since 1970 and turn a typo into a date. A text is config.fields' ``Text``, as in plan
files. The pages read their forms with these same bodies (web/forms.py).

The OpenAPI document made from these models says all that validation requires (lengths, a
non-blank text, ISO days, a progress report's percent or note), so that whatever the document
allows is accepted as input and whatever the API refuses with 422 the document refuses too;
tests/test_web_api_contract.py holds the API to it with schemathesis.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from fastapi import Path
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
from services.bulk_actions import MAX_ITEMS, BulkAction

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise PydanticCustomError("iso_date", "must be a date in the form YYYY-MM-DD, got {value}",
                              {"value": repr(value)})


Day = Annotated[date, BeforeValidator(_iso_day)]
# Ids are PostgreSQL integers: a larger number names no milestone and is refused as input.
MilestoneId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The milestone's `id`.")]
Location = Literal["body", "query", "path", "header"]
Version = Annotated[int | None, Field(
    ge=1, description="The milestone's `version` as you last read it. If it changed "
    "since, nothing is done and the answer is 409: read the milestone again.")]


class FieldError(BaseModel):
    field: str = Field(description="The field at fault, e.g. `proposed_due_on`.")
    location: Location = Field(description="Where the field was sent.")
    message: str = Field(description="What is wrong with it, in Chinese.")
    code: str = Field(description="What is wrong, for a program: pydantic's error type, e.g. "
                      "`missing`, `string_too_long`, `iso_date`, `extra_forbidden`.")


class Problem(BaseModel):
    """Every refusal of the API: a sentence for a person, a code for a program."""

    detail: str = Field(description="What was refused and why, in Chinese, naming the field "
                        "when one is at fault.")
    code: str = Field(description="Stable, for a program to branch on; see each answer's "
                      "description for the codes it gives.")
    errors: list[FieldError] | None = Field(None, description="422 only: each bad field.")


# ── answers ──────────────────────────────────────────────────────────────────────────────


class UnitRef(BaseModel):
    code: str
    name: str


class Me(BaseModel):
    id: int
    name: str
    email: str
    role: Role = Field(description="office 督查室, owner 项目负责人, leader 分管领导, admin")
    unit: UnitRef | None = Field(description="Owners act on this unit's milestones only.")
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
    light: Light = Field(description="red overdue, yellow due soon, blue claimed and waiting "
                         "for the office (待核实), green on track or done.")
    overdue_workdays: int
    late: bool
    level: int = Field(description="Escalation level reached; 0: none.")
    acknowledged_level: int
    commitment: Commitment | None = Field(description="binding (约束性), expected (预期性), or "
                                          "null where the plan gives neither (未标注).")
    assumption: str | None = Field(description="Why the date or text is assumed (推定), where "
                                   "the plan does not give it; null when the plan gives both.")
    provisional: bool = Field(description="Dates computed on an assumed Monday–Friday week.")
    version: int = Field(description="Send it back as `version` to act on what you read.")
    claimed_on: date | None = Field(None, description="Day of the latest claim, while claimed "
                                    "or closed.")


class MilestonePage(BaseModel):
    items: list[MilestoneOut]
    next: str | None = Field(description="Cursor of the next page (pass it as `cursor`); "
                             "null on the last page.")
    total: int = Field(description="How many milestones the filters select, on every page.")


class EventOut(BaseModel):
    id: int
    at: datetime
    kind: str = Field(description="e.g. milestone.done_claimed, milestone.closed")
    actor: str = Field(description="Who: a person's email, or what (an import, the sweep).")
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
        description="The extension request waiting for the office's decision, if any.")
    history: list[EventOut] = Field(description="Every event on the milestone, oldest first.")


# ── requests ─────────────────────────────────────────────────────────────────────────────


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = None


class DoneIn(Body):
    evidence: Text = Field(description="What shows it is done: a note, a document number, "
                           "a figure.")


PROGRESS_EMPTY = "请给出完成进度（percent）或进度说明（note），或两者都给。"


class ProgressIn(Body):
    # What `_something` requires, in the document: a percent or a note that is not null.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["percent"], "properties": {"percent": {"type": "number"}}},
        {"required": ["note"], "properties": {"note": {"type": "string"}}}]})

    percent: float | None = Field(None, ge=0, le=100)
    note: Text | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.percent is None and self.note is None:
            raise PydanticCustomError("progress_empty", "{message}",
                                      {"message": PROGRESS_EMPTY})
        return self


class ExtensionIn(Body):
    proposed_due_on: Day = Field(description="Must be after the due date in force.")
    reason: Text


class DecisionIn(Body):
    approved: bool
    new_due_on: Day | None = Field(None, description="Default: the date the owner proposed.")
    reason: Text | None = None


class AcknowledgeIn(Body):
    reason: Text | None = None


class SnoozeIn(Body):
    until: Day = Field(description="No reminders until this day (inclusive); not in the past.")
    reason: Text


class CloseIn(Body):
    reason: Text | None = None


class ReasonIn(Body):
    reason: Text


class TodoTab(BaseModel):
    key: str = Field(description="Pass as `tab` to read its items.")
    name: str
    count: int | None = Field(description="Items still waiting; null: not yet in use.")


class TodoOut(BaseModel):
    tabs: list[TodoTab]
    tab: str | None = Field(None, description="The tab whose items follow, if one was asked.")
    items: list[MilestoneOut] = []
    next: str | None = None


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: BulkAction = Field(description="close 销号, return 退回重办, acknowledge 确认督办, "
                               "snooze 暂缓提醒, approve_extension / reject_extension 延期审批")
    ids: list[int] = Field(min_length=1, max_length=MAX_ITEMS,
                           description="The milestones, each once.")
    reason: Text | None = Field(None, description="Needed to return, snooze or refuse.")
    until: Day | None = Field(None, description="snooze: no reminders until this day.")
    versions: dict[int, int] | None = Field(
        None, description="Milestone id → the `version` you read: any changed since refuses "
        "the whole (409).")


class BulkItemOut(BaseModel):
    milestone_id: int
    title: str | None
    state: str | None = Field(None, description="After the action (done items).")
    why: str | None = Field(None, description="Why it was refused (refused items).")


class BulkOut(BaseModel):
    action: BulkAction
    done: int
    items: list[BulkItemOut]


class BulkProblem(Problem):
    refused: list[BulkItemOut] = Field(description="Each item at fault and why; nothing "
                                       "was changed.")


class MajorIn(ReasonIn):
    major: bool = Field(description="true: mark major; false: no longer major.")
