"""The supervision policy file: due-soon window, escalation ladder, schedule; per-plan overrides.

Validated like a plan file (file:line: field: message). The rules that apply it live in
models/rules/status.py and models/rules/escalation.py; nothing there hard-codes a window or a level.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.yaml_source import line_of, read_yaml_file

POLICY_FILE = Path(__file__).resolve().parent / "policy.yaml"
CALENDAR_FILE = Path(__file__).resolve().parent / "calendar.yaml"

Role = Literal["owner", "unit_head", "office", "leader"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(Strict):
    level: Annotated[int, Field(ge=1, le=9)]
    name: str
    recipients: list[Role] = Field(min_length=1)
    after_overdue_workdays: Annotated[int, Field(ge=0)] = 0  # level 1 starts at due soon instead
    repeat_workdays: Annotated[int, Field(ge=1)]
    # 督办单: reaching this level issues a numbered order (文号) that the unit must sign for.
    issues_order: bool = False


ORDER_FIELDS = re.compile(r"\{(\w*)\}")


class Orders(Strict):
    """The numbered 督办单: how its 文号 is written, and how soon the unit must sign for it."""

    # {office} the issuing office's 机关代字, {year} the year of issue, {n} its number that year.
    number: Annotated[str, Field(min_length=3, max_length=60)] = "{office}〔{year}〕{n}号"
    office: Annotated[str, Field(min_length=1, max_length=20)] = "督办"
    # 签收: by the end of this many working days after the day of issue (1: the next one).
    # Sweeps look once a working day, so a limit finer than a day could not be kept.
    receipt_workdays: Annotated[int, Field(ge=0, le=20)] = 1
    # 定期反馈: an item under an order reports progress at least every this many working days;
    # a missed report sends one 催报 to its owners (per missed date).
    feedback_workdays: Annotated[int, Field(ge=1, le=120)] = 10

    @field_validator("number")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        used = ORDER_FIELDS.findall(value)
        unknown = sorted(set(used) - {"office", "year", "n"})
        if unknown or "n" not in used:
            raise ValueError("write the 文号 with {office}, {year} and {n} (its number), e.g. "
                             "'{office}〔{year}〕{n}号'" + (f"; unknown: {unknown}" if unknown
                                                           else ""))
        return value

    def number_of(self, year: int, n: int) -> str:
        return self.number.format(office=self.office, year=year, n=n)


class Cron(Strict):
    """APScheduler/Prefect cron fields. Weekdays by name: APScheduler 3 numbers Monday 0."""

    day_of_week: str = "mon-fri"
    hour: Annotated[int, Field(ge=0, le=23)] = 9
    minute: Annotated[int, Field(ge=0, le=59)] = 0

    @field_validator("day_of_week")
    @classmethod
    def _names_only(cls, value: str) -> str:
        if re.search(r"\d", value):
            raise ValueError("use weekday names (mon-fri), not numbers: schedulers disagree")
        return value


class Schedule(Strict):
    sweep: Cron = Cron()
    bulletin: Cron = Cron(day_of_week="mon")  # the weekly 晾晒 bulletin, of the week before


class BulletinPolicy(Strict):
    """Who goes on the 红榜 and whom a unit is ranked beside (models/rules/bulletin/ranking.py)."""

    honour_min_on_time_rate: Annotated[float, Field(ge=0, le=1)] = 0.9
    honour_places: Annotated[int, Field(ge=1, le=50)] = 3
    peer_groups: dict[str, list[str]] = {}  # 同类单位: a group's name → its unit codes

    @model_validator(mode="after")
    def _one_group_per_unit(self) -> BulletinPolicy:
        seen: dict[str, str] = {}
        for group, codes in self.peer_groups.items():
            if not group.strip():
                raise ValueError("a peer group needs a name")
            for code in codes:
                if code in seen:
                    raise ValueError(f"unit {code!r} is in two peer groups: "
                                     f"{seen[code]!r} and {group!r}")
                seen[code] = group
        return self


class Policy(Strict):
    due_soon_workdays: Annotated[int, Field(ge=0, le=250)] = 10
    major_start_level: Annotated[int, Field(ge=1)] = 2
    binding_climbs_sooner: bool = True
    ladder: list[Level] = Field(min_length=1)
    schedule: Schedule = Schedule()
    orders: Orders = Orders()
    bulletin: BulletinPolicy = BulletinPolicy()

    @model_validator(mode="after")
    def _ladder_in_order(self) -> Policy:
        levels = [lvl.level for lvl in self.ladder]
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError(f"ladder levels must be 1, 2, 3… in order, got {levels}")
        thresholds = [lvl.after_overdue_workdays for lvl in self.ladder[1:]]
        if thresholds != sorted(thresholds) or (thresholds and thresholds[0] < 1):
            raise ValueError("after_overdue_workdays must be at least 1 and rise level by level")
        if self.major_start_level > len(levels):
            raise ValueError(f"major_start_level {self.major_start_level} is not on the ladder")
        return self

    def level(self, number: int) -> Level:
        return self.ladder[number - 1]


class PolicyFile(Strict):
    """The file: a default policy at the top level, and per-plan overrides under ``plans``."""

    default: Policy
    plans: dict[str, Policy]

    def for_plan(self, plan_code: str) -> Policy:
        return self.plans.get(plan_code, self.default)


class PolicyInvalid(ValueError):
    pass


def load_policy(path: Path = POLICY_FILE) -> PolicyFile:
    document = read_yaml_file(path, PolicyInvalid)
    if not isinstance(document, dict):
        raise PolicyInvalid(f"{path}:1: expected a mapping")
    top = {k: v for k, v in document.items() if k != "plans"}
    overrides = document.get("plans") or {}
    default = _validate(path, document, top, ())
    plans = {code: _validate(path, document, top | dict(changes or {}), ("plans", code))
             for code, changes in overrides.items()}
    return PolicyFile(default=default, plans=plans)


def _validate(path: Path, document: Any, values: dict[str, Any],
              where: tuple[str, ...]) -> Policy:
    """A plan's override is the top level with its keys replaced; errors point at the key."""
    try:
        return Policy.model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        overridden = where and isinstance(line_of(document, (*where, *loc[:1])), int) and \
            loc[:1] and loc[0] in (document["plans"][where[1]] or {})
        full = (*where, *loc) if overridden else loc
        field = ".".join(map(str, full)) + ": " if full else ""
        message = error["msg"].removeprefix("Value error, ")
        raise PolicyInvalid(f"{path}:{line_of(document, full)}: {field}{message}") from None
