"""The rules in force: calendar, policies and time zone, loaded once per process."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from config.policy import CALENDAR_FILE, POLICY_FILE, Policy, PolicyFile, load_policy
from models.rules.workdays import WorkCalendar


@dataclass(frozen=True)
class Rules:
    calendar: WorkCalendar
    policies: PolicyFile
    zone: ZoneInfo

    @property
    def fingerprint(self) -> str:
        """A short hash of the policies and the calendar in force: a sweep under rules that
        differ from the last full sweep's looks at every open item, since any stored next
        check may be stale."""
        text = f"{self.policies.model_dump_json()}|{self.calendar.fingerprint()}|{self.zone}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def policy(self, plan_code: str) -> Policy:
        return self.policies.for_plan(plan_code)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def as_of(self, day: date) -> datetime:
        """The instant a replay at ``day`` stands at: 09:00 local, when the sweep runs."""
        return datetime.combine(day, time(9, 0), self.zone).astimezone(UTC)


def load_rules(zone: ZoneInfo, policy_file: Path = POLICY_FILE,
               calendar_file: Path = CALENDAR_FILE) -> Rules:
    return Rules(WorkCalendar.from_file(calendar_file), load_policy(policy_file), zone)
