"""The policy file: the shipped one loads; mistakes are named with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.policy import PolicyInvalid, load_policy

BASE = """\
due_soon_workdays: 10
ladder:
  - {level: 1, name: 催办提醒, recipients: [owner], repeat_workdays: 5}
  - {level: 2, name: 督办单, recipients: [unit_head, office], after_overdue_workdays: 3,
     repeat_workdays: 5}
schedule:
  sweep: {day_of_week: mon-fri, hour: 9}
"""


def test_the_shipped_policy_loads_with_per_plan_overrides(tmp_path: Path) -> None:
    shipped = load_policy()
    assert [rung.level for rung in shipped.default.ladder] == [1, 2, 3]
    path = tmp_path / "policy.yaml"
    path.write_text(BASE + "plans:\n  xihu-2016-2020: {due_soon_workdays: 15}\n", "utf-8")
    policies = load_policy(path)
    assert policies.for_plan("xihu-2016-2020").due_soon_workdays == 15
    assert policies.for_plan("other").due_soon_workdays == 10
    assert policies.for_plan("xihu-2016-2020").ladder == policies.default.ladder


@pytest.mark.parametrize(("text", "message"), [
    (BASE.replace("day_of_week: mon-fri", "day_of_week: 1-5"),
     ":7: schedule.sweep.day_of_week: use weekday names (mon-fri), not numbers"),
    (BASE.replace("level: 2,", "level: 3,"), ":1: ladder levels must be 1, 2, 3… in order"),
    (BASE.replace("[owner]", "[mayor]"), ":3: ladder.0.recipients.0: Input should be 'owner'"),
    (BASE + "plans:\n  x:\n    due_soon_workdays: -3\n",
     ":10: plans.x.due_soon_workdays: Input should be greater than or equal to 0"),
])
def test_a_policy_mistake_is_named_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyInvalid) as error:
        load_policy(path)
    assert str(error.value).startswith(f"{path}{message}"), str(error.value)
