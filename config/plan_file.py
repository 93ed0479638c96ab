"""The plan file format: what a clerk writes by hand from a plan's annexes.

Parsing happens in two passes, both reporting problems as (path, message) pairs that the loader
turns into file:line messages: pydantic checks each value's shape, then ``cross_check`` checks
what a single field cannot see (duplicate codes, references to undeclared units, dates outside
the plan period). See docs/plan-files.md for the format itself.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    model_validator,
)

from config.fields import MailAddress, Text


class Commitment(StrEnum):
    """How firmly a plan commits to a target; the tables store it, the ladder reads it."""

    binding = "binding"    # 约束性: misses escalate harder
    expected = "expected"  # 预期性


COMMITMENT_NAMES = {Commitment.binding: "约束性", Commitment.expected: "预期性"}


def commitment_name(commitment: Commitment | str | None) -> str:
    """约束性, 预期性, or 未标注 where the plan gives neither (never guessed as 预期性)."""
    return COMMITMENT_NAMES[Commitment(commitment)] if commitment else "未标注"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _no_control_chars(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains a control character")
    return value


def _single_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be on one line")
    return value


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64),
    Field(description="lower-case letters, digits and '-'"),
]
ItemCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32),
    AfterValidator(_single_line),
]
Line = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_no_control_chars), AfterValidator(_single_line),
]
Paragraph = Annotated[Text, AfterValidator(_no_control_chars)]
Year = Annotated[int, Field(ge=1990, le=2100)]


def _cell(value: object) -> int | float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        got = ("a list" if isinstance(value, list)
               else "a mapping" if isinstance(value, dict) else repr(value))
        raise ValueError(f"expected a number or a text, got {got}")
    if isinstance(value, str):
        value = _no_control_chars(value.strip())
        if not value:
            raise ValueError("is empty: leave an empty or dash cell out instead")
        return value
    return int(value) if isinstance(value, int) else float(value)


# A table cell: a number as the document prints it, or its verbatim text.
Cell = Annotated[int | float | str, PlainValidator(_cell)]


_COMMITMENT_WORDS = {"约束": "binding", "约束性": "binding",
                     "预期": "expected", "预期性": "expected"}


def _commitment_word(value: object) -> object:
    if value is None or isinstance(value, Commitment):
        return value
    word = value.strip() if isinstance(value, str) else None  # a list or mapping is no word
    if word in Commitment.__members__:
        return word
    if word in _COMMITMENT_WORDS:
        return _COMMITMENT_WORDS[word]
    raise ValueError(f"expected binding (约束性) or expected (预期性), got {value!r}")


CommitmentField = Annotated[Commitment | None, BeforeValidator(_commitment_word)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


class PlanHeader(Strict):
    code: Slug
    name: Line
    issuer: Line
    document_number: Line | None = None
    issued_on: date | None = None
    period: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{4}$")] = Field(
        description="first and last year, e.g. 2016-2020"
    )
    source: Line | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> PlanHeader:
        if self.start_year > self.end_year:
            raise ValueError(f"period {self.period}: the first year comes after the last")
        return self

    @property
    def start_year(self) -> int:
        return int(self.period[:4])

    @property
    def end_year(self) -> int:
        return int(self.period[5:])


class Contact(Strict):
    name: Line
    email: MailAddress
    phone: Line | None = None


class UnitEntry(Strict):
    code: Slug
    name: Line
    kind: Literal["bureau", "department", "subdistrict", "town", "office", "other"]
    contact: Contact | None = None


class MilestoneEntry(Strict):
    year: Year | None = None
    due: date | None = None
    target: Paragraph
    commitment: CommitmentField = None
    unit: Slug | None = None  # the lead unit (牵头单位); the project's unit when not given
    # Set when the document does not give this milestone's date or text: why it was assumed.
    assumption: Line | None = None
    # 协办单位: units that see the milestone, get its notices and may report progress; only
    # the lead claims it done. Never the lead itself, each once (``cross_check``).
    co_units: list[Slug] = []

    @model_validator(mode="after")
    def _one_due_date(self) -> MilestoneEntry:
        if (self.year is None) == (self.due is None):
            raise ValueError("give exactly one of `year` (due on 31 December) and `due` (a date)")
        return self

    @property
    def due_on(self) -> date:
        return self.due if self.due is not None else date(self.year or 0, 12, 31)


class ProjectEntry(Strict):
    code: ItemCode
    name: Line
    description: Paragraph | None = None
    unit: Slug
    category: Line | None = None
    floor_area_m2: Annotated[float, Field(ge=0)] | None = None
    investment_wan_yuan: Annotated[float, Field(ge=0)] | None = None
    beds: Annotated[int, Field(ge=0)] | None = None
    facts: dict[Line, Cell] = {}
    commitment: CommitmentField = None
    milestones: list[MilestoneEntry] = []


class Baseline(Strict):
    year: Year
    value: Cell | None = None


class IndicatorEntry(Strict):
    code: ItemCode
    table: Line | None = None
    category: Line | None = None
    name: Line
    measure: Line | None = None
    baseline: Baseline | None = None
    targets: dict[Year, Cell] = {}
    actuals: dict[Year, Cell] = {}
    commitment: CommitmentField = None
    direction: Literal["up", "down"] = "up"
    project: ItemCode | None = None
    facts: dict[Line, Cell] = {}


class PlanFile(Strict):
    plan: PlanHeader
    units: list[UnitEntry] = Field(min_length=1)
    projects: list[ProjectEntry] = []
    indicators: list[IndicatorEntry] = []


Problem = tuple[tuple[str | int, ...], str]


def cross_check(plan_file: PlanFile) -> list[Problem]:
    """Checks that need the whole file: unique codes, known references, dates in the period."""
    problems: list[Problem] = []
    problems += _duplicates("units", [u.code for u in plan_file.units], "unit code")
    problems += _duplicates("projects", [p.code for p in plan_file.projects], "project code")
    problems += _duplicates("indicators", [i.code for i in plan_file.indicators], "indicator code")
    unit_codes = {u.code for u in plan_file.units}
    project_codes = {p.code for p in plan_file.projects}
    first, last = plan_file.plan.start_year, plan_file.plan.end_year
    for i, project in enumerate(plan_file.projects):
        if project.unit not in unit_codes:
            problems.append((("projects", i, "unit"), _unknown_unit(project.unit)))
        for j, milestone in enumerate(project.milestones):
            where = ("projects", i, "milestones", j)
            if milestone.unit is not None and milestone.unit not in unit_codes:
                problems.append(((*where, "unit"), _unknown_unit(milestone.unit)))
            problems += _co_unit_problems(where, milestone.co_units,
                                          milestone.unit or project.unit, unit_codes)
            if not first <= milestone.due_on.year <= last:
                field = "year" if milestone.year is not None else "due"
                problems.append(((*where, field), f"due {milestone.due_on.isoformat()} lies "
                                 f"outside the plan period {plan_file.plan.period}"))
    for i, indicator in enumerate(plan_file.indicators):
        if indicator.project is not None and indicator.project not in project_codes:
            problems.append((("indicators", i, "project"),
                             f"no project with code {indicator.project!r} in this file"))
    return problems


def _duplicates(section: str, codes: list[str], what: str) -> list[Problem]:
    seen: set[str] = set()
    problems: list[Problem] = []
    for index, code in enumerate(codes):
        if code in seen:
            problems.append(((section, index, "code"), f"{what} {code!r} is used twice"))
        seen.add(code)
    return problems


def _co_unit_problems(where: tuple[str | int, ...], co_units: list[str], lead: str,
                      unit_codes: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    for k, code in enumerate(co_units):
        at = (*where, "co_units", k)
        if code not in unit_codes:
            problems.append((at, _unknown_unit(code)))
        elif code == lead:
            problems.append((at, f"unit {code!r} leads this milestone and cannot also be "
                                 "one of its co_units"))
        elif code in co_units[:k]:
            problems.append((at, f"co-unit {code!r} is named twice"))
    return problems


def _unknown_unit(code: str) -> str:
    return f"unit {code!r} is not declared under `units:`"
