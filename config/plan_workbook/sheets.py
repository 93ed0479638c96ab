"""The plan workbook's layout: which sheet and column holds which plan-file field.

Pure: no openpyxl, no I/O. The columns are derived from the pydantic plan-file models
(config/plan_file.py), so a field added there appears in the workbook by itself: a scalar field
becomes a column, a nested model (a unit's contact, an indicator's baseline) becomes columns with
a dotted path, a list of models (a project's milestones) becomes a sheet of rows naming their
parent, and a mapping (facts, yearly targets and actual values) becomes a sheet of
(parent, key, value) rows. This module holds only what the models cannot say: the sheets'
titles, the Chinese headings, the Chinese words for coded values and which columns name a code
from another sheet. A field without a heading still works, headed by its field name, and
tests/test_plan_workbook.py fails until it has one.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import date
from enum import Enum, StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.plan_file import Commitment, PlanFile

# Where a sheet's rows go in a plan file: the sheet's key is the dotted path of the field.
SHEET_TITLES: dict[str, str] = {
    "plan": "规划",
    "units": "单位",
    "projects": "项目",
    "projects.milestones": "节点",
    "projects.facts": "项目其他数据",
    "indicators": "指标",
    "indicators.targets": "指标年度值",
    "indicators.facts": "指标其他数据",
}
# Mappings of one model with the same keys share a sheet: a year's target and its actual value.
SHARED_SHEETS: dict[str, str] = {"indicators.actuals": "indicators.targets"}

PARENT = "@parent"  # the column naming the row's parent (a project's or an indicator's code)
KEY = "@key"        # the column holding a mapping's key (a year, a label)

HEADINGS: dict[str, str] = {
    "plan.code": "规划代码", "plan.name": "规划名称", "plan.issuer": "发文单位",
    "plan.document_number": "文号", "plan.issued_on": "印发日期", "plan.period": "规划期",
    "plan.source": "来源文件",
    "units.code": "单位代码", "units.name": "单位名称", "units.kind": "单位类型",
    "units.contact.name": "联系人", "units.contact.email": "联系人邮箱",
    "units.contact.phone": "联系电话",
    "projects.code": "项目序号", "projects.name": "项目名称", "projects.description": "建设内容",
    "projects.unit": "责任单位代码", "projects.category": "项目类别",
    "projects.floor_area_m2": "建筑面积（平方米）",
    "projects.investment_wan_yuan": "总投资（万元）",
    "projects.beds": "床位（张）", "projects.commitment": "约束性/预期性",
    "projects.milestones.@parent": "项目序号", "projects.milestones.year": "年度",
    "projects.milestones.due": "到期日", "projects.milestones.target": "节点目标",
    "projects.milestones.commitment": "约束性/预期性", "projects.milestones.unit": "责任单位代码",
    "projects.milestones.assumption": "推定理由（文件未给出日期或内容时）",
    "projects.milestones.co_units": "协办单位代码",
    "projects.facts.@parent": "项目序号", "projects.facts.@key": "名称",
    "projects.facts": "内容",
    "indicators.code": "指标序号", "indicators.table": "来源表", "indicators.category": "类别",
    "indicators.name": "指标名称", "indicators.measure": "计量单位",
    "indicators.baseline.year": "基期年份", "indicators.baseline.value": "基期值",
    "indicators.commitment": "约束性/预期性", "indicators.direction": "指标方向",
    "indicators.project": "对应项目序号",
    "indicators.targets.@parent": "指标序号", "indicators.targets.@key": "年份",
    "indicators.targets": "目标值", "indicators.actuals": "完成值",
    "indicators.facts.@parent": "指标序号", "indicators.facts.@key": "名称",
    "indicators.facts": "内容",
}

# What a person sees in the header's note, where the type alone does not say enough.
NOTES: dict[str, str] = {
    "plan.code": "本规划的代码：小写字母、数字和 -，如 xihu-2016-2020",
    "plan.period": "起止年份，如 2016-2020",
    "units.code": "单位代码：小写字母、数字和 -，在所有规划中唯一",
    "projects.code": "文件中的序号，在本规划中唯一",
    "projects.milestones.year": "到期为该年 12 月 31 日；与“到期日”二者只填一个",
    "projects.milestones.due": "确切到期日，如 2018-06-30；与“年度”二者只填一个",
    "projects.milestones.unit": "牵头单位的代码；不填则为项目的责任单位",
    "projects.milestones.co_units": "协办单位的代码，多个用“、”分隔；不能与牵头单位相同",
    "indicators.targets": "文件印的数字或原文（如“25 以上”）",
    "indicators.actuals": "文件报告的完成值",
}

# The Chinese words of coded values; the words are what the workbook shows and what it reads
# (the codes are read too). A value without words here is shown as its code.
CHOICE_WORDS: dict[str, dict[str, str]] = {
    "units.kind": {"bureau": "局", "department": "部门", "subdistrict": "街道", "town": "镇",
                   "office": "办公室", "other": "其他"},
    "indicators.direction": {"up": "越高越好", "down": "越低越好"},
}
ENUM_WORDS: dict[type[Enum], dict[str, str]] = {
    Commitment: {"binding": "约束性", "expected": "预期性"},
}
YES, NO = "是", "否"
LIST_SEPARATORS = "、,，;；"

# Columns that name a row of another sheet by its code (the first column there): a drop-down.
REFERENCES: dict[str, str] = {
    "projects.unit": "units", "projects.milestones.unit": "units",
    "projects.milestones.@parent": "projects", "projects.facts.@parent": "projects",
    "indicators.project": "projects", "indicators.targets.@parent": "indicators",
    "indicators.facts.@parent": "indicators",
}

# Values offered in a drop-down that still lets any other value through: the measures the seed
# plans use. The plan-file rules accept any measure, so the workbook only suggests.
SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "indicators.measure": ("%", "‰", "个", "张", "人", "家", "万个", "万人", "万元", "元/人、年"),
}

NOTE_HEADING = "备注"  # the last column of every sheet: the reader's own notes, never imported
EXAMPLE_MARK = "示例"  # a 备注 that begins with it marks the template's example row


class Kind(StrEnum):
    text = "text"
    integer = "integer"
    number = "number"
    date = "date"
    choice = "choice"
    flag = "flag"
    words = "words"  # a list of texts in one cell, separated by 、
    cell = "cell"    # a table cell: a number, or the document's text


class Shape(StrEnum):
    single = "single"      # one row: the plan's header
    rows = "rows"          # one row per entry of a list
    children = "children"  # rows of a list inside a parent entry
    pairs = "pairs"        # (parent, key, value…) rows of mappings inside a parent entry


@dataclass(frozen=True)
class Column:
    key: str                 # dotted path from the file's root: "projects.milestones.due"
    path: tuple[str, ...]    # inside one row's entry: ("contact", "email"); () for parent/key
    heading: str
    kind: Kind
    required: bool
    choices: dict[str, str] = field(default_factory=dict)  # code → words
    refers_to: str | None = None
    bounds: tuple[float | None, float | None] = (None, None)  # ge, le of a number
    suggestions: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return NOTES.get(self.key, "")


@dataclass(frozen=True)
class Sheet:
    key: str
    title: str
    shape: Shape
    columns: tuple[Column, ...]
    parent: str | None = None            # the sheet key of the parent entries
    mappings: tuple[str, ...] = ()       # for pairs: the mapping fields, one column each

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Annotated and Optional, and whether None was allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return tuple(args), optional
            annotation = args[0]
        else:
            return annotation, optional


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _scalar(key: str, path: tuple[str, ...], info: FieldInfo, required: bool) -> Column:
    annotation, _ = _unwrap(info.annotation)
    choices: dict[str, str] = {}
    if typing.get_origin(annotation) is Literal:
        kind = Kind.choice
        words = CHOICE_WORDS.get(key, {})
        choices = {str(v): words.get(str(v), str(v)) for v in typing.get_args(annotation)}
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        kind = Kind.choice
        words = CHOICE_WORDS.get(key) or ENUM_WORDS.get(annotation, {})
        choices = {str(m.value): words.get(str(m.value), str(m.value)) for m in annotation}
    elif isinstance(annotation, tuple):
        kind = Kind.cell  # int | float | str
    elif annotation is bool:
        kind = Kind.flag
    elif annotation is date:
        kind = Kind.date
    elif annotation is int:
        kind = Kind.integer
    elif annotation is float:
        kind = Kind.number
    elif typing.get_origin(annotation) in (list, tuple, set, frozenset):
        kind = Kind.words
    else:
        kind = Kind.text
    return Column(key, path, HEADINGS.get(key, key), kind, required, choices,
                  REFERENCES.get(key), _bounds(info), SUGGESTIONS.get(key, ()))


def _bounds(annotation: Any) -> tuple[float | None, float | None]:
    """The ``ge`` and ``le`` an annotation sets anywhere inside it (a Year: 1990 to 2100)."""
    low = high = None
    stack = [annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, FieldInfo):
            stack += [*item.metadata, item.annotation]
        low = getattr(item, "ge", low) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", high) if getattr(item, "le", None) is not None else high
        if typing.get_origin(item) is Annotated:
            stack += typing.get_args(item)
        elif typing.get_origin(item) in (Union, types.UnionType):
            stack += typing.get_args(item)
    return low, high


def _columns(key: str, model: type[BaseModel], prefix: tuple[str, ...] = (),
             required: bool = True) -> tuple[list[Column], list[tuple[str, FieldInfo]]]:
    """The model's columns, and its fields that need a sheet of their own."""
    columns: list[Column] = []
    nested: list[tuple[str, FieldInfo]] = []
    for name, info in model.model_fields.items():
        annotation, _ = _unwrap(info.annotation)
        origin = typing.get_origin(annotation)
        field_key = f"{key}.{name}"
        if _is_model(annotation):
            inner, _more = _columns(key, annotation, (*prefix, name),
                                    required and info.is_required())
            columns += inner
        elif origin is dict or (origin is list and _is_model(typing.get_args(annotation)[0])):
            nested.append((field_key, info))
        else:
            columns.append(_scalar(f"{key}.{'.'.join((*prefix, name))}" if prefix else field_key,
                                   (*prefix, name), info, required and info.is_required()))
    return columns, nested


def _link(key: str, kind: Kind, annotation: Any = None) -> Column:
    return Column(key, (), HEADINGS.get(key, key), kind, True, refers_to=REFERENCES.get(key),
                  bounds=_bounds(annotation))


def build_sheets() -> tuple[Sheet, ...]:
    """The workbook's sheets in order, from the plan-file models."""
    sheets: list[Sheet] = []
    for name, info in PlanFile.model_fields.items():
        annotation, _ = _unwrap(info.annotation)
        model = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list \
            else annotation
        shape = Shape.rows if typing.get_origin(annotation) is list else Shape.single
        columns, nested = _columns(name, model)
        sheets.append(Sheet(name, _title(name), shape, tuple(columns)))
        sheets += _nested_sheets(name, nested)
    order = list(SHEET_TITLES)
    return tuple(sorted(sheets, key=lambda sheet: order.index(sheet.key)))


def _nested_sheets(parent: str, nested: list[tuple[str, FieldInfo]]) -> list[Sheet]:
    sheets: list[Sheet] = []
    shared: dict[str, list[str]] = {}
    for key, _info in nested:
        shared.setdefault(SHARED_SHEETS.get(key, key), []).append(key)
    for key, info in nested:
        if key not in shared:
            continue  # its values live on the sheet of the mapping it shares one with
        annotation, _ = _unwrap(info.annotation)
        parent_column = _link(f"{key}.{PARENT}", Kind.text)
        if typing.get_origin(annotation) is list:
            columns, deeper = _columns(key, typing.get_args(annotation)[0])
            if deeper:
                raise ValueError(f"{key}: lists or mappings two levels down need a layout")
            sheets.append(Sheet(key, _title(key), Shape.children, (parent_column, *columns),
                                parent=parent))
            continue
        key_annotation = typing.get_args(annotation)[0]
        key_type, _ = _unwrap(key_annotation)
        key_column = _link(f"{key}.{KEY}", Kind.integer if key_type is int else Kind.text,
                           key_annotation)
        values = [Column(k, (), HEADINGS.get(k, k), Kind.cell, False) for k in shared[key]]
        sheets.append(Sheet(key, _title(key), Shape.pairs, (parent_column, key_column, *values),
                            parent=parent, mappings=tuple(k.rsplit(".", 1)[1]
                                                          for k in shared[key])))
    return sheets


def _title(key: str) -> str:
    title = SHEET_TITLES.get(key)
    if title is None:  # a new list or mapping in the models: it must be given a sheet here
        raise ValueError(f"the plan-file field {key} has no sheet in "
                         "config/plan_workbook/sheets.py")
    return title


SHEETS: tuple[Sheet, ...] = build_sheets()
