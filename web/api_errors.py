"""How the JSON API refuses, and how its OpenAPI document says so.

Decisions:
1. Every refusal is one body, `Problem`: ``{"detail": "中文…", "code": "…", "errors": […]}``.
   ``detail`` is for a person and is Chinese, like the rest of Duban; ``code`` is stable, for a
   program to branch on (`Refusal` raises both); ``errors`` (422 only) names each bad field.
   FastAPI's and Starlette's own answers (validation, a body it cannot read, an unknown path, a
   method not allowed) are rewritten into the same body, their headers (``Allow``) kept.
2. 400 ``malformed_json``: the body is not JSON at all (a syntax error, bytes that are not
   UTF-8). 422 ``invalid_input``: JSON, or a parameter, that the OpenAPI document refuses,
   each field's error in Chinese naming the field (web.input_errors, as on the pages). So what
   the document allows is never refused with 422: a refusal that depends on the stored data (a
   plan code that does not exist, a date not after the due date) is a 404 or a 409.
3. The document lists each operation's refusals that follow from what it takes
   (`with_refusals`, on the built document, so routes added later get them too): 400 and 413
   (web.limits) where a JSON body is read, 401 where a token is needed, 422 where anything is
   read. A route declares its own 403, 404 and 409 with `refusals`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from web.api_schemas import FieldError, Location, Problem
from web.input_errors import explain

MALFORMED_JSON, INVALID_INPUT = "malformed_json", "invalid_input"
# What each status means, and the codes it comes with (the answer's description in the document).
MEANING = {
    400: ("请求体不是有效的 JSON", [MALFORMED_JSON]),
    401: ("缺少有效的个人 API 令牌", ["token_missing", "token_invalid", "token_expired"]),
    403: ("无权查看或办理", ["other_unit", "lead_unit_only", "not_permitted", "read_only_token"]),
    404: ("不存在", ["not_found", "unknown_plan", "unknown_unit", "unknown_tab", "bad_cursor"]),
    405: ("不支持该请求方法", ["method_not_allowed"]),
    409: ("操作未完成：事项已被他人修改，或其状态、日期不允许",
          ["stale_version", "wrong_state", "date_not_later", "extension_pending",
           "no_extension_request", "not_escalated", "day_passed", "needs_reason",
           "needs_evidence", "progress_empty", "invalid_percent", "retired", "refused"]),
    413: ("请求体过大", ["too_large"]),
    422: ("输入有误：逐项说明", [INVALID_INPUT]),
}
_FRAMEWORK_CODES = {400: MALFORMED_JSON, 404: "not_found", 405: "method_not_allowed"}
_FRAMEWORK_DETAILS = {400: "请求体不是有效的 JSON（应为 UTF-8 编码的 JSON 文本）。",
                      404: "没有这个接口：请查看 /api/docs。",
                      405: "该接口不支持这种请求方法。"}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {
    "description": "`Bearer realm=\"duban\"`, with `error=\"invalid_token\"` for a bad token.",
    "schema": {"type": "string"}}}


class Refusal(HTTPException):
    """A refusal of the API: its status, its stable code and a Chinese sentence."""

    def __init__(self, status: int, code: str, detail: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers)
        self.code = code


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers for these statuses, each with the `Problem` body, for a route's
    ``responses``."""
    return {status: _answer(status) for status in statuses}


def install(api: FastAPI) -> None:
    """Answer every refusal with a `Problem` and document each operation's refusals."""
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_exception_handler(HTTPException, _refused)
    build = api.openapi

    def openapi() -> dict[str, Any]:
        return with_refusals(build())

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def with_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with each operation's 400, 401, 413 and 422 (ours, not FastAPI's
    default 422 body) added from what it reads; done on the document, not the routes, so any
    route of the app gets it however it was added. Idempotent: the document is FastAPI's
    cached one."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in problem.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault("Problem", problem)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            reads_body = "requestBody" in operation
            statuses = [400, 413] if reads_body else []
            if operation.get("security"):
                statuses.append(401)
            if reads_body or operation.get("parameters"):
                statuses.append(422)
            for status in statuses:
                operation["responses"][str(status)] = _answer(status, document=True)
    for fastapis in ("HTTPValidationError", "ValidationError"):
        schemas.pop(fastapis, None)
    return document


def _answer(status: int, document: bool = False) -> dict[str, Any]:
    """An answer with the `Problem` body: as a route declares it, or as the document has it."""
    meaning, codes = MEANING[status]
    answer: dict[str, Any] = {"description": f"{meaning}（code: "
                              + "、".join(f"`{c}`" for c in codes) + "）"}
    if document:
        answer["content"] = {"application/json": {
            "schema": {"$ref": "#/components/schemas/Problem"}}}
    else:
        answer["model"] = Problem
    if status == 401:
        answer["headers"] = _WWW_AUTHENTICATE
    return answer


def _problem(status: int, problem: Problem, headers: Mapping[str, str] | None = None
             ) -> JSONResponse:
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=status,
                        headers=headers)


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # Starlette types a handler for any exception
    if isinstance(exc, Refusal):
        code, detail = exc.code, exc.detail
    else:  # Starlette's or FastAPI's own: its English detail is not shown
        code = _FRAMEWORK_CODES.get(exc.status_code, "refused")
        detail = _FRAMEWORK_DETAILS.get(exc.status_code, "请求未被接受。")
    return _problem(exc.status_code, Problem(detail=detail, code=code), exc.headers)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        where = next(e["loc"][1] for e in errors if e["type"] == "json_invalid")
        return _problem(400, Problem(code=MALFORMED_JSON, detail=(
            f"请求体不是有效的 JSON：第 {int(where) + 1} 个字符处无法解析。")))
    fields = [_field_error(e) for e in errors]
    return _problem(422, Problem(code=INVALID_INPUT, errors=fields,
                                 detail="输入有误：" + "；".join(f.message for f in fields)))


def _field_error(error: dict[str, Any]) -> FieldError:
    location, *path = error["loc"]
    where: Location = location if location in ("query", "path", "header") else "body"
    if location == "body" and not path and error["type"] in ("model_attributes_type",
                                                             "dict_type", "model_type"):
        return FieldError(field="body", location="body", code=error["type"],
                          message="请求体应为 JSON 对象，并带上 Content-Type: application/json。")
    field = ".".join(str(p) for p in path) or ("body" if where == "body" else str(location))
    return FieldError(field=field, location=where, code=error["type"],
                      message=explain(error, field))
