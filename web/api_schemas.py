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
    StringConstraints,
    WithJsonSchema,
    field_validator,
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


def _not_a_bool(value: Any) -> Any:
    """JSON's true and false are no numbers, though pydantic's lax mode reads them as 1 and 0."""
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "Input should be a valid number")
    return value


def _only_a_bool(value: Any) -> Any:
    """Only true or false (lax mode would read 0, 1, "yes"…): the document says boolean."""
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "Input should be a valid boolean")
    return value


Flag = Annotated[bool, BeforeValidator(_only_a_bool)]
# Ids are PostgreSQL integers: a larger number names no milestone and is refused as input.
MilestoneId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The milestone's `id`.")]
Location = Literal["body", "query", "path", "header"]
Version = Annotated[int | None, Field(
    ge=1, description="读取事项时得到的 `version`。若事项在此之后已被修改，不做任何改动，"
    "返回 409：请重新读取事项。")]


class FieldError(BaseModel):
    field: str = Field(description="出错的字段，例如 `proposed_due_on`。")
    location: Location = Field(description="`body`（请求体）、`query`（查询参数）、"
                               "`path`（路径）或 `header`（请求头）。")
    message: str = Field(description="错在哪里（中文）。")
    code: str = Field(description="错误类别，供程序判断：如 `missing`、`string_too_long`、"
                      "`iso_date`、`extra_forbidden`。")


class Problem(BaseModel):
    """每一次拒绝：给人看的说明，和供程序判断的代码。"""

    detail: str = Field(description="拒绝了什么、为什么（中文）；字段有误时指明字段。")
    code: str = Field(description="稳定的代码，供程序判断；各答复的说明列出可能的代码。")
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
    id: int = Field(description="记录编号。负数：巡查发现的、仅因时间推移而起的状态变化"
                    "（每项一行，不另记事件）。")
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
    co_units: list[UnitRef] = Field(
        description="协办单位（代码顺序）：可查看事项、报告进度；申报完成、申请延期和签收督办单"
        "只能由牵头单位（`unit`）办理。")
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


PROGRESS_EMPTY = "请给出完成进度（percent）或进度说明（note），或两者都给。"


class ProgressIn(Body):
    # What `_something` requires, in the document: a percent or a note that is not null.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["percent"], "properties": {"percent": {"type": "number"}}},
        {"required": ["note"], "properties": {"note": {"type": "string"}}}]})

    percent: float | None = Field(None, ge=0, le=100)
    _no_bool = field_validator("percent", mode="before")(_not_a_bool)
    note: Text | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.percent is None and self.note is None:
            raise PydanticCustomError("progress_empty", "{message}",
                                      {"message": PROGRESS_EMPTY})
        return self


class ExtensionIn(Body):
    proposed_due_on: Day = Field(description="建议的新截止日期，须晚于现行截止日期。")
    reason: Text


class DecisionIn(Body):
    approved: Flag
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


class InstructionIn(Body):
    text: Text = Field(description="批示内容：写入事项记录，告知责任单位，并载入下一份督办单。")


class ChaseIn(Body):
    reason: Text | None = Field(None, description="催办说明（可选），随催办通知发给责任单位。")


class TransferIn(Body):
    to_unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=64)] = Field(
        description="接办单位的代码（GET /api/units）。")
    reason: Text


class OrderOut(BaseModel):
    """一份督办单。"""

    id: int
    number: str = Field(description="文号，例如 督办〔2026〕3号。")
    milestone_id: int
    title: str = Field(description="督办事项。")
    unit: str = Field(description="下达给的责任单位。")
    level: int
    level_name: str
    due_on: date = Field(description="签发时的现行截止日期。")
    issued_on: date
    receipt_due_on: date = Field(description="应于此日下班前签收。")
    received_at: datetime | None = Field(description="签收时间（北京时间）；未签收为 null。")
    received_by: str | None = Field(description="签收人姓名。")
    receipt_overdue: bool = Field(description="已逾期未签收（已提醒单位负责人和督查室）。")


class ReceiptOut(OrderOut):
    signed_now: bool = Field(description="true：本次签收；false：此前已签收，未作改动。")


class TodoTab(BaseModel):
    key: str = Field(description="Pass as `tab` to read its items.")
    name: str
    count: int | None = Field(description="Items still waiting; null: not yet in use.")


class TodoOut(BaseModel):
    tabs: list[TodoTab]
    tab: str | None = Field(None, description="The tab whose items follow, if one was asked.")
    items: list[MilestoneOut] = []
    next: str | None = None


ID_KEY = r"^[1-9][0-9]{0,9}$"  # a milestone id as a JSON object's key


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: BulkAction = Field(description="close 销号, return 退回重办, acknowledge 确认督办, "
                               "snooze 暂缓提醒, approve_extension / reject_extension 延期审批")
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        min_length=1, max_length=MAX_ITEMS, json_schema_extra={"uniqueItems": True},
        description="The milestones, each once.")
    reason: Text | None = Field(None, description="Needed to return, snooze or refuse.")
    until: Day | None = Field(None, description="snooze: no reminders until this day.")
    # Keys are JSON text: the schema says they are ids (digits), so a key that is none is
    # refused by the document, not only by the parser.
    versions: Annotated[
        dict[Annotated[str, StringConstraints(pattern=ID_KEY)], Annotated[int, Field(ge=1)]],
        WithJsonSchema({"type": "object", "additionalProperties": False,
                        "patternProperties": {ID_KEY: {"type": "integer", "minimum": 1}}}),
    ] | None = Field(
        None, description="Milestone id → the `version` you read: any changed since refuses "
        "the whole (409).")

    def version_of(self) -> dict[int, int] | None:
        return None if self.versions is None else {int(k): v for k, v in self.versions.items()}


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
    major: Flag = Field(description="true：列为重大事项；false：取消重大事项。")
