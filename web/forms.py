"""The item page's forms: the JSON API's bodies (web.api_schemas), read as a browser sends them.

A browser sends every field as text, some under the page's own names (``proposed`` for the
API's ``proposed_due_on``), and the CSRF token besides (checked before any form is read, by
web.dependencies). So a page form, before the API's validation: (1) keeps only its fields,
under the API's names, (2) trims every value and leaves out the empty ones, which are then not
given, (3) reads numbers as people copy them from documents ("1,250", "36%"). What still cannot
be read is refused with one message in Chinese, naming the field as the page labels it: the
first problem, as a person would fix them one at a time (an error of type `PAGE_FORM`, 422),
in the words web.input_errors has for the API too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from fastapi import Request, UploadFile
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from starlette.concurrency import run_in_threadpool

from web.api_schemas import (
    AcknowledgeIn,
    Body,
    ChaseIn,
    CloseIn,
    DecisionIn,
    DoneIn,
    ExtensionIn,
    InstructionIn,
    MajorIn,
    ProgressIn,
    ReasonIn,
    SnoozeIn,
    TransferIn,
)
from web.attachments import clean_name
from web.dependencies import web_of
from web.input_errors import NOT_GIVEN, explain

PAGE_FORM = "page_form"
# A hidden field that cannot be read (the version): the form is not one the page made.
NOT_OUR_FORM = "表单已过期，请刷新页面后重试。"


class PageForm(BaseModel):
    """Mixed into an API body, first, so that its reading wraps all of the body's validation
    (the body's own model validators too)."""

    renamed: ClassVar[dict[str, str]] = {}   # the page's name → the API's
    labels: ClassVar[dict[str, str]] = {}    # the API's name → the page's label
    numbers: ClassVar[frozenset[str]] = frozenset()
    choices: ClassVar[dict[str, dict[str, Any]]] = {}  # only these values, else not given
    fixed: ClassVar[dict[str, Any]] = {}     # what the route itself says
    not_given: ClassVar[dict[str, str]] = {}  # a field's (or the form's) own "fill it in"

    @model_validator(mode="wrap")
    @classmethod
    def _as_the_page_sent_it(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(data, Mapping):
            data = cls.completed(cls._given(data)) | cls.fixed
        try:
            return handler(data)
        except ValidationError as exc:
            message = cls.refusal(exc.errors(include_url=False)[0])
            raise PydanticCustomError(PAGE_FORM, "{message}", {"message": message}) from None

    @classmethod
    def _given(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        given = {}
        for key, value in data.items():
            name = cls.renamed.get(key, key)
            if name not in cls.model_fields:
                continue
            if name in cls.choices:
                value = cls.choices[name].get(value) if isinstance(value, str) else None
            elif isinstance(value, str):
                value = as_typed(value) if name in cls.numbers else value.strip()
            if value is not None and value != "":
                given[name] = value
        return given

    @classmethod
    def completed(cls, given: dict[str, Any]) -> dict[str, Any]:
        """What the form means beyond its fields; as given, unless a form says otherwise."""
        return given

    @classmethod
    def refusal(cls, error: ErrorDetails) -> str:
        field = str(error["loc"][0]) if error["loc"] else error["type"]  # the whole form's
        if field in cls.not_given and (not error["loc"] or error["type"] in NOT_GIVEN):
            return cls.not_given[field]
        if field not in cls.labels:
            return NOT_OUR_FORM
        return explain(error, cls.labels[field], cls.model_fields[field])


def as_typed(text: str) -> str:
    """A number as people write it, without thousands separators or a trailing percent."""
    return text.strip().replace(",", "").removesuffix("%").removesuffix("％").strip()


# ── the forms ───────────────────────────────────────────────────────────────────────────────

class DoneForm(PageForm, DoneIn):
    files: list[UploadFile] = []
    labels = {"evidence": "完成情况说明"}
    not_given = {"evidence": "请填写“完成情况说明”，或上传佐证材料。"}

    @classmethod
    def completed(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Files without a note: the claim's evidence names them."""
        if "evidence" not in given and given.get("files"):
            given["evidence"] = "见附件：" + "、".join(cls.name_of(f) for f in given["files"])
        return given

    @staticmethod
    def name_of(file: UploadFile) -> str:
        return clean_name(file.filename) or "附件"


class ProgressForm(PageForm, ProgressIn):
    labels = {"percent": "完成进度（%）", "note": "进度说明"}
    numbers = frozenset({"percent"})
    not_given = {"progress_empty": "请填写“完成进度（%）”或“进度说明”。"}


class IndicatorForm(PageForm, Body):
    """No API body yet: an indicator's value reached, reported from the item's page."""

    indicator_id: int
    value: float = Field(allow_inf_nan=False)
    labels = {"indicator_id": "指标", "value": "指标值"}
    numbers = frozenset({"value"})
    not_given = {"indicator_id": "请选择“指标”。"}


class ExtensionForm(PageForm, ExtensionIn):
    renamed = {"proposed": "proposed_due_on"}
    labels = {"proposed_due_on": "建议截止日期", "reason": "延期理由"}


class ApproveForm(PageForm, DecisionIn):
    labels = {"new_due_on": "新截止日期", "reason": "理由"}
    fixed = {"approved": True}


class RejectForm(PageForm, ReasonIn):
    labels = {"reason": "不同意的理由"}


class AcknowledgeForm(PageForm, AcknowledgeIn):
    labels = {"reason": "说明"}


class SnoozeForm(PageForm, SnoozeIn):
    labels = {"until": "暂缓至", "reason": "暂缓理由"}


class CloseForm(PageForm, CloseIn):
    labels = {"reason": "销号意见"}


class ReturnForm(PageForm, ReasonIn):
    labels = {"reason": "退回原因"}


class ReopenForm(PageForm, ReasonIn):
    labels = {"reason": "重新打开的理由"}


class WaiveForm(PageForm, ReasonIn):
    labels = {"reason": "豁免理由"}


class MajorForm(PageForm, MajorIn):
    labels = {"reason": "理由"}
    choices = {"major": {"1": True, "0": False}}
    not_given = {"major": "请选择列为或取消“重大事项”。"}


class InstructForm(PageForm, InstructionIn):
    labels = {"text": "批示内容"}


class ChaseForm(PageForm, ChaseIn):
    labels = {"reason": "催办说明"}


class TransferForm(PageForm, TransferIn):
    labels = {"to_unit": "接办单位", "reason": "转办理由"}
    not_given = {"to_unit": "请选择“接办单位”。"}


# ── the answer ──────────────────────────────────────────────────────────────────────────────

async def answer_invalid(request: Request, exc: Exception) -> Response:
    """A page form that cannot be read says why in Chinese, on the error page; anything else
    (a path parameter that is not a number) gets FastAPI's answer."""
    assert isinstance(exc, RequestValidationError)  # Starlette types a handler for any exception
    messages = [e["msg"] for e in exc.errors() if e["type"] == PAGE_FORM]
    if not messages:
        return await request_validation_exception_handler(request, exc)
    return await run_in_threadpool(_form_refused, request, messages[0])


def _form_refused(request: Request, message: str) -> Response:
    web = web_of(request)
    with web.reader() as db:
        me = web.current(request, db)
    return web.error(request, 422, "输入有误", message, me)
