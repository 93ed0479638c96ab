"""The 晾晒 bulletin's figures: what every output (HTML, XLSX, PDF, chart) shows, as plain data,
and ``compute``, which makes them.

A bulletin covers one period (``Period``: from its first day to its last, inclusive) for one plan
or for every plan, and is computed from the history as it stood at the end of the period
(history.py), so regenerating a past bulletin gives the same figures. Each table's row type is
defined beside the function that fills it (headline.py, ranking.py, items.py, indicators.py).
Definitions (the office's, written down once here):

- due: milestones whose due date in force at the end of the period is on or before its last
  day, from the start of the plan; waived ones and ones retired by then are left out.
- done: due milestones claimed done (申报完成, and not sent back since) or closed (销号) by then.
- on time: done, and claimed on or before the due date in force when it was claimed (an
  extension asked after the due date does not make a late item on time: models.rules.status).
- on-time rate (按期完成率): on time / due; None when nothing is due (such units are listed
  apart, not ranked).
- overdue: due, not done, at the end of the period.
- newly overdue: overdue at the end of the period and not overdue at the end of the previous.
- completed this period: claims made within the period that still stand at its end, whether
  the item was due by then or not (one finished early counts here, and in due, done and on time
  only from the period its due date falls in).
- ranking: units with something due, among their peers (their plan's units, or the office's
  peer group), by on-time rate (higher first), then more items on time, then fewer overdue
  items, then unit code: best first. 红榜 only units that did well (an on-time rate of at least
  the policy's threshold and no overdue item), the best placed, at most the policy's number per
  peer group; 黑榜 the last places of units not all on time (ranking.py states the rules).
- names: every milestone, project and unit is named, and every milestone counted for the unit,
  as it stood at the end of the period (a later rename or re-assignment changes nothing).
- change since the previous bulletin: the same figures for the period of the same length just
  before, computed the same way (so a first bulletin has changes too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from functools import cached_property
from typing import Any

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.headline import Headline, completed_in, headline, newly_overdue
from models.rules.bulletin.history import History
from models.rules.bulletin.indicators import IndicatorRow, indicator_rows
from models.rules.bulletin.items import (
    CompletedItem,
    ExtensionGranted,
    RedItem,
    completed_items,
    extensions_granted,
    red_items,
)
from models.rules.bulletin.periods import Period, PeriodKind, previous_period
from models.rules.bulletin.ranking import HonourRule, UnitRow, honour_and_shame, unit_rows
from models.rules.bulletin.standing import look
from models.rules.rulebook import Rules


@dataclass(frozen=True)
class Figures:
    scope: str  # a plan code, or "*" for every plan
    scope_name: str
    period: Period
    previous: Period
    edition: Edition
    headline: Headline
    units: list[UnitRow]          # ranked ones by place, then unranked by code
    red_items: list[RedItem]      # most overdue first
    indicators: list[IndicatorRow]  # binding first, then plan and code
    completed: list[CompletedItem]
    extensions: list[ExtensionGranted]
    honour: list[str] = field(default_factory=list)  # unit codes on the 红榜, best first
    shame: list[str] = field(default_factory=list)   # unit codes on the 黑榜, worst last
    focus_unit: str | None = None  # a unit's own bulletin: its lists only, the whole ranking
    # Who may go on the 红榜 (None in bulletins stored before it was stated), and the names of
    # the peer groups units are ranked in, by UnitRow.peers.
    honour_rule: HonourRule | None = None
    peer_names: dict[str, str] = field(default_factory=dict)
    # The ladder's level names (督办单, 领导督办…) of each plan with a red item, level 1 first.
    level_names: dict[str, list[str]] = field(default_factory=dict)
    # 期号 and 发文单位: set when the bulletin is issued (publish.generate), from its stored
    # record (issues.py) and the settings; None in figures computed but not issued.
    issue_year: int | None = None
    issue_number: int | None = None
    issuer: str | None = None

    def for_unit(self, unit_code: str) -> Figures:
        """The bulletin a unit receives: the whole scope's headline and ranking, so it sees
        itself side by side with the others, and only its own items."""
        red, completed, extensions = self._by_unit.get(unit_code, ([], [], []))
        return replace(self, focus_unit=unit_code, red_items=red, completed=completed,
                       extensions=extensions)

    @cached_property
    def _by_unit(self) -> dict[str, tuple[list[RedItem], list[CompletedItem],
                                          list[ExtensionGranted]]]:
        """Each unit's items, sorted out once: a scope of 3,000 units asks for each."""
        lists: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
        groups: tuple[Sequence[RedItem | CompletedItem | ExtensionGranted], ...] = (
            self.red_items, self.completed, self.extensions)
        for index, items in enumerate(groups):
            for item in items:
                lists.setdefault(item.unit_code, ([], [], []))[index].append(item)
        return lists

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (dates as YYYY-MM-DD), in a stable order."""
        plain: dict[str, Any] = _plain(asdict(self))
        return plain

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        """The figures back from ``to_json`` (a stored bulletin, shown again)."""
        def period(p: dict[str, Any]) -> Period:
            return Period(PeriodKind(p["kind"]), date.fromisoformat(p["first"]),
                          date.fromisoformat(p["last"]))

        def rows(kind: type, items: list[dict[str, Any]]) -> list[Any]:
            dates = {f.name for f in fields(kind) if "date" in str(f.type)}
            return [kind(**{k: date.fromisoformat(v) if k in dates and v else v
                            for k, v in item.items()}) for item in items]

        return cls(scope=data["scope"], scope_name=data["scope_name"],
                   period=period(data["period"]), previous=period(data["previous"]),
                   edition=Edition(data["edition"]), headline=Headline(**data["headline"]),
                   units=rows(UnitRow, data["units"]), red_items=rows(RedItem, data["red_items"]),
                   indicators=rows(IndicatorRow, data["indicators"]),
                   completed=rows(CompletedItem, data["completed"]),
                   extensions=rows(ExtensionGranted, data["extensions"]),
                   honour=data["honour"], shame=data["shame"], focus_unit=data["focus_unit"],
                   honour_rule=HonourRule(**data["honour_rule"]) if data.get("honour_rule")
                   else None, peer_names=data.get("peer_names", {}),
                   level_names=data.get("level_names", {}),
                   issue_year=data.get("issue_year"), issue_number=data.get("issue_number"),
                   issuer=data.get("issuer"))


def compute(history: History, period: Period, rules: Rules, edition: Edition) -> Figures:
    """The figures of ``period`` from ``history`` (everything recorded before its end)."""
    previous = previous_period(period)
    now = look(history, period, rules)
    then = look(history, previous, rules)
    before = look(history, previous_period(previous), rules)
    newly, completed = newly_overdue(now, then), completed_in(now, period)
    policy = rules.policy(history.scope).bulletin  # "*": the default policy
    rule = HonourRule(policy.honour_min_on_time_rate, policy.honour_places)
    units = unit_rows(now, then, newly, completed, policy.peer_groups)
    honour, shame = honour_and_shame([u for u in units if u.place is not None], rule)
    peers = {u.peers for u in units if u.place is not None}
    public = edition is Edition.public
    red = red_items(history, now, period)
    return Figures(
        scope=history.scope, scope_name=history.scope_name, period=period, previous=previous,
        edition=edition, headline=headline(now, then, before, period, previous), units=units,
        red_items=red,
        indicators=indicator_rows(history, period),
        completed=completed_items(history, now, completed, public),
        extensions=extensions_granted(history, now, period, public),
        honour=honour, shame=shame, honour_rule=rule,
        peer_names={p: history.plan_names.get(p, p) for p in sorted(peers)},
        level_names={p: [lvl.name for lvl in rules.policy(p).ladder]
                     for p in sorted({r.plan for r in red})})


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
