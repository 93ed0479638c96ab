"""What is wrong with one input, in Chinese, naming it: for page forms (by the field's label)
and for the JSON API (by the field's name), from pydantic's error for it.

One table for both, so a page and a script are told the same thing about the same mistake.
An error of a type not named here still gets a Chinese sentence naming the field; pydantic's
own English message is never shown.
"""

from __future__ import annotations

import math
from typing import Any

from annotated_types import Ge, Le
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

NOT_GIVEN = frozenset({"missing", "string_too_short", "blank"})
NOT_A_DATE = frozenset({"iso_date", "date_type", "date_parsing", "date_from_datetime_parsing",
                        "date_from_datetime_inexact", "date_future", "date_past"})
NOT_A_NUMBER = frozenset({"float_type", "float_parsing", "finite_number", "int_type",
                          "int_parsing", "int_from_float", "int_parsing_size"})
_OUT_OF_RANGE = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})
# Errors that need nothing but the field's name.
_PLAIN = {
    "bool_type": "“{label}”应为 true 或 false。",
    "bool_parsing": "“{label}”应为 true 或 false。",
    "string_type": "“{label}”应为文字。",
    "string_pattern_mismatch": "“{label}”格式不正确。",
    "string_not_ascii": "“{label}”只能包含英文字母、数字和符号。",
    "extra_forbidden": "“{label}”不是可接受的字段（请检查拼写）。",
    "model_attributes_type": "“{label}”应为 JSON 对象。",
    "model_type": "“{label}”应为 JSON 对象。",
    "dict_type": "“{label}”应为 JSON 对象。",
    "list_type": "“{label}”应为列表。",
    "none_required": "“{label}”应为空（null）。",
    "value_error": "“{label}”的值无效。",
}


def explain(error: ErrorDetails | dict[str, Any], label: str,
            field: FieldInfo | None = None) -> str:
    """One Chinese sentence: what is wrong with the input called `label`."""
    kind, given = error["type"], str(error.get("input", "")).strip()[:40]
    ctx = error.get("ctx") or {}
    if kind in NOT_GIVEN:
        return f"请填写“{label}”。"
    if kind in NOT_A_DATE:
        return f"“{label}”不是有效的日期：{given}（应为 年-月-日，例如 2026-12-31）。"
    if kind in NOT_A_NUMBER:
        return f"“{label}”不是有效的数字：{given}。"
    if kind in _OUT_OF_RANGE:
        return _out_of_range(error, label, field)
    if kind == "string_too_long":
        return f"“{label}”太长：最多 {ctx.get('max_length')} 个字。"
    if kind in ("enum", "literal_error"):
        return f"“{label}”应为以下之一：{ctx.get('expected', '')}，填写的是 {given}。"
    if kind in _PLAIN:
        return _PLAIN[kind].format(label=label)
    if "message" in ctx:  # our own PydanticCustomErrors carry their Chinese message
        return str(ctx["message"])
    return f"“{label}”的值无效：{given}。"


def _out_of_range(error: ErrorDetails | dict[str, Any], label: str,
                  field: FieldInfo | None) -> str:
    try:
        value = float(error.get("input", math.nan))
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        return f"“{label}”不是有效的数字：{str(error.get('input', '')).strip()[:40]}。"
    low, high = _bounds(field, error.get("ctx") or {})
    if math.isfinite(low) and math.isfinite(high):
        return f"“{label}”应在 {low:g} 到 {high:g} 之间，填写的是 {value:g}。"
    if math.isfinite(low):
        return f"“{label}”不能小于 {low:g}，填写的是 {value:g}。"
    return f"“{label}”不能大于 {high:g}，填写的是 {value:g}。"


def _bounds(field: FieldInfo | None, ctx: dict[str, Any]) -> tuple[float, float]:
    """Both ends of a field's range where the field is known (a page names both), else the
    end the error names."""
    metadata = field.metadata if field is not None else []
    low = next((float(m.ge) for m in metadata
                if isinstance(m, Ge) and isinstance(m.ge, int | float)),
               float(ctx.get("ge", ctx.get("gt", -math.inf))))
    high = next((float(m.le) for m in metadata
                 if isinstance(m, Le) and isinstance(m.le, int | float)),
                float(ctx.get("le", ctx.get("lt", math.inf))))
    return low, high
