"""The bulletin as people read it: its subject, its HTML (the email body and the web view) and its
plain text, as pure functions of ``Figures``.

The words are in ``templates/<locale>/bulletin.{subject,html,txt}.j2`` (the title is a macro of
the subject template, imported by the other two, so it is written once per language); this
module only prepares the figures for them: numbers formatted (formats.py), long lists cut
short.

Decisions:
- An email is read on a phone and mail clients clip long messages (Gmail at 102 KB), so each
  list shows at most ``EMAIL_ROWS`` rows: red items, completed items, extensions, indicators
  and the units with nothing due; one line counts the rest and points to the workbook and the
  web view, which have them all. ``rows=None`` shows everything (a web page has no such limit).
- The ranking is whole up to ``RANKING_ROWS`` (100) ranked units, which covers a district's or
  a city's plan. Beyond that it shows the first and the last 50 places or, in a unit's own
  bulletin, the first and last ``UNIT_ENDS`` and the unit with ``NEIGHBOURS`` places either
  side, with one line for each run of places left out: a unit of 3,000 sees the leaders, the
  laggards and its own neighbourhood (and 3,000 such emails stay small and quick to make).
- Evidence notes are cut at ``EVIDENCE_CHARS`` characters: the bulletin says what was done,
  the item's page holds the whole note.
- A unit's bulletin is rendered once per unit (3,000 times for a nation-wide scope), so only the
  rows shown are prepared, and units are found by their order where it allows, not by a walk.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures
from models.rules.bulletin.headline import Headline
from models.rules.bulletin.indicators import IndicatorRow
from models.rules.bulletin.periods import Period
from models.rules.bulletin.ranking import UnitRow
from notifications.bulletin.formats import MINUS, amount, computed, movement, rate, signed
from notifications.render import Rendered, macros, one_line, render_part

EMAIL_ROWS = 200
RANKING_ROWS = 100
NEIGHBOURS = 2
UNIT_ENDS = 10
EVIDENCE_CHARS = 200
TEMPLATE = "bulletin"
CHART_SOURCES = ("cid:", "https://", "http://", "/", "data:image/png;base64,")
# Which way a headline figure should move: +1 more is better, -1 fewer is better, 0 neither.
BETTER = {"due": 0, "done": 1, "on_time": 1, "on_time_rate": 1, "overdue": -1,
          "newly_overdue": -1, "completed": 1}
BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")


def bulletin_subject(figures: Figures, locale: str = "zh-CN") -> str:
    """One line: the title, and in a unit's own bulletin its place."""
    focus = _focus(figures)
    return one_line(_render("subject", _title_context(figures, focus), locale))


def bulletin_html(figures: Figures, *, chart_src: str, link: str | None,
                  locale: str = "zh-CN", rows: int | None = EMAIL_ROWS) -> str:
    """The bulletin as one HTML document: inline CSS, table layout, no scripts. ``chart_src``
    is the chart's address (``cid:bulletin-chart`` in the email, a URL in the web view);
    ``link`` (http(s)) adds a button to the web view; ``rows`` caps each list (None: all)."""
    context = bulletin_context(figures, chart_src=chart_src, link=link, rows=rows)
    return _html(context, locale)


def bulletin_text(figures: Figures, *, link: str | None, locale: str = "zh-CN",
                  rows: int | None = EMAIL_ROWS) -> str:
    """The same bulletin as plain text (the email's text part), without the chart."""
    return _text(bulletin_context(figures, link=link, rows=rows), locale)


def bulletin_email(figures: Figures, *, chart_src: str, link: str | None,
                   locale: str = "zh-CN", rows: int | None = EMAIL_ROWS) -> Rendered:
    """The three parts of a unit's email, the same strings as bulletin_subject, bulletin_text
    and bulletin_html give, with the figures prepared once rather than three times."""
    context = bulletin_context(figures, chart_src=chart_src, link=link, rows=rows)
    return Rendered(subject=one_line(_render("subject", context, locale)),
                    text=_text(context, locale), html=_html(context, locale))


def bulletin_context(figures: Figures, *, chart_src: str | None = None,
                     link: str | None = None, rows: int | None = EMAIL_ROWS) -> dict[str, Any]:
    """Everything the bulletin templates read (documented in bulletin.txt.j2)."""
    if chart_src is not None and (not chart_src.startswith(CHART_SOURCES)
                                  or chart_src.startswith("//")):
        raise ValueError(f"chart_src must be a cid:, http(s), site-relative or PNG data "
                         f"address, got {chart_src!r}")
    units = _units(figures, rows)
    return _title_context(figures, units.pop("focus")) | units | {
        "headline": _headline(figures.headline),
        "chart_src": chart_src,
        "link": link,
        "red": Shown.of(figures.red_items, rows),
        "indicators": Shown.of(figures.indicators, rows, _indicator),
        "completed": Shown.of(figures.completed, rows),
        "extensions": Shown.of(figures.extensions, rows),
        "evidence_chars": EVIDENCE_CHARS,
        "issue": None if figures.issue_number is None else {
            "year": figures.issue_year, "number": figures.issue_number},
        "issuer": figures.issuer,
        "honour_rule": None if figures.honour_rule is None else {
            "rate": rate(figures.honour_rule.min_on_time_rate),
            "places": figures.honour_rule.places},
    }


# ── what the templates read ────────────────────────────────────────────────────────────────
# Objects with attributes rather than dicts: a template reads an attribute of an object at
# once, and a dict key only after a failed attribute lookup, which cost a quarter of a unit's
# bulletin's time in a 3,000-unit ranking.

@dataclass(frozen=True, slots=True)
class Place:
    """A unit as the bulletin shows it: in the ranking, on a board, or as the reader's own."""

    code: str
    name: str
    place: int | None   # None: nothing due, not ranked
    move: str | None    # formats.Movement.kind
    arrow: str          # formats.Movement.arrow ("" when new: the template says so)
    due: int
    on_time: int
    rate: str           # 87.5% / —
    overdue: int
    completed: int
    board: str | None   # honour | shame
    focus: bool         # the reader's own unit
    gap: bool = False
    group: str = ""     # its peer group's name, when the bulletin ranks more than one group


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A run of places left out of a long ranking."""

    first: int | None  # places (always set: only ranked units are left out)
    last: int | None
    count: int
    gap: bool = True


@dataclass(frozen=True, slots=True)
class HeadlineFigure:
    key: str              # a Headline field
    value: str            # 12 / 87.5%
    change: str | None    # +2 / −1 / 0; the rate's in percentage points; None: unknown
    trend: str | None     # up | down | flat
    tone: str             # good | bad | plain


@dataclass(frozen=True, slots=True)
class IndicatorShown:
    name: str
    unit: str | None
    binding: bool
    target: str | None      # the document's words, or the number with its measure
    trajectory: str | None
    latest: str | None
    latest_on: date | None
    light: str | None       # red | yellow | green; None: nothing to judge by yet


@dataclass(frozen=True, slots=True)
class Shown:
    """The first rows of a list, and how many more there are."""

    rows: list[Any]
    more: int

    @classmethod
    def of(cls, items: Sequence[Any], rows: int | None,
           show: Callable[[Any], Any] | None = None) -> Shown:
        """The first ``rows`` of ``items`` (all if None), each passed through ``show``."""
        shown = items if rows is None else items[:rows]
        return cls([show(i) for i in shown] if show else list(shown), len(items) - len(shown))


@dataclass(frozen=True)
class Gap:
    """A run of positions ``first``..``last`` (inclusive, from 0) left out of a long list."""

    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def excerpt(count: int, ends: int, keep: int | None = None, around: int = 0) -> list[int | Gap]:
    """The positions of a list of ``count`` to show: all of them when there are at most
    ``2 * ends``; otherwise the first ``ends``, the last ``ends``, and ``keep`` with ``around``
    positions either side, with a ``Gap`` for each run left out."""
    if count <= 2 * ends:
        return list(range(count))
    shown = set(range(ends)) | set(range(count - ends, count))
    if keep is not None:
        shown |= set(range(max(0, keep - around), min(count, keep + around + 1)))
    out: list[int | Gap] = []
    after = 0
    for position in sorted(shown):
        if position > after:
            out.append(Gap(after, position - 1))
        out.append(position)
        after = position + 1
    return out


# ── the parts ──────────────────────────────────────────────────────────────────────────────

def _render(part: str, context: dict[str, Any], locale: str) -> str:
    # One part at a time, not notifications.render.render(): a unit's bulletin asks for its
    # subject, text and HTML separately, 3,000 times, and render() makes all three each call.
    return render_part(TEMPLATE, part, context, locale=locale)


def _html(context: dict[str, Any], locale: str) -> str:
    return _render("html", context, locale).strip() + "\n"


def _text(context: dict[str, Any], locale: str) -> str:
    # The template's optional lines leave runs of blank lines; one blank line parts sections.
    return BLANK_LINES.sub("\n\n", _render("txt", context, locale)).strip() + "\n"


def bulletin_title(figures: Figures, locale: str = "zh-CN") -> str:
    """The title as the email writes it (the ``title`` macro of bulletin.subject.j2), for the
    workbook and the PDF to read the same as the message they come with."""
    head = macros(TEMPLATE, "subject", _title_context(figures, None), locale=locale)
    return one_line(str(head.title(figures.scope_name)))


def period_words(period: Period, locale: str = "zh-CN") -> str:
    """``2026年11月9日—11月15日``: a period as the email writes it (the ``span`` macro)."""
    context = {"public": False, "scope_name": "", "focus": None,
               "period": _period_context(period, period)}
    head = macros(TEMPLATE, "subject", context, locale=locale)
    return one_line(str(head.span(period.first, period.last, True)))


def _title_context(figures: Figures, focus: Place | None) -> dict[str, Any]:
    """What the title and the subject read."""
    return {"public": figures.edition is Edition.public, "scope_name": figures.scope_name,
            "period": _period_context(figures.period, figures.previous), "focus": focus}


def _period_context(period: Period, previous: Period) -> dict[str, Any]:
    week_year, week, _ = period.first.isocalendar()
    return {"kind": period.kind.value, "first": period.first, "last": period.last,
            "one_year": period.first.year == period.last.year, "week": week,
            "week_year": week_year, "previous_first": previous.first,
            "previous_last": previous.last}


def _headline(headline: Headline) -> list[HeadlineFigure]:
    out = []
    for key, better in BETTER.items():
        value, change = getattr(headline, key), headline.change.get(key)
        points = key == "on_time_rate"
        text = signed(change, points=points)
        trend = None if text is None else (
            "flat" if text[0] not in "+" + MINUS else "up" if text[0] == "+" else "down")
        good = None if trend in (None, "flat") or not better else (
            (trend == "up") == (better > 0))
        out.append(HeadlineFigure(key, rate(value) if points else str(value), text, trend,
                                  "plain" if good is None else "good" if good else "bad"))
    return out


def _units(figures: Figures, rows: int | None) -> dict[str, Any]:
    """The ranking, the 红榜 and 黑榜, the units with nothing due and the unit's own place.
    Found without walking the units where their order allows (ranked ones come first, by
    place; the 红榜 at the top, the 黑榜 at the bottom): this runs once per unit's bulletin."""
    units, focus_code = figures.units, figures.focus_unit
    ranked = bisect_left(units, True, key=lambda u: u.place is None)
    focus_at = None if focus_code is None else _find(units, focus_code)
    keep = focus_at if focus_at is not None and focus_at < ranked else None
    shown = (list(range(ranked)) if rows is None
             else excerpt(ranked, min(rows, RANKING_ROWS) // 2 if keep is None
                          else UNIT_ENDS, keep, NEIGHBOURS))
    board_of = dict.fromkeys(figures.honour, "honour") | dict.fromkeys(figures.shame, "shame")
    groups = figures.peer_names if len(figures.peer_names) > 1 else {}

    def place(unit: UnitRow) -> Place:
        shown = _place(unit, board_of, focus_code)
        return replace(shown, group=groups[unit.peers]) if unit.peers in groups else shown

    on_board = ([_find(units, c) for c in figures.honour],
                [_find(units, c, before=ranked) for c in figures.shame])
    return {
        "ranking": [LeftOut(units[i.first].place, units[i.last].place, i.count)
                    if isinstance(i, Gap) else place(units[i]) for i in shown],
        "ranked": ranked,
        "grouped": bool(groups),
        "honour": [place(units[i]) for i in on_board[0] if i is not None],
        "shame": [place(units[i]) for i in on_board[1] if i is not None],
        "idle": Shown.of(units[ranked:], rows, lambda u: u.unit_name),
        "focus": None if focus_code is None else place(
            _absent(focus_code) if focus_at is None else units[focus_at]),
    }


def _find(units: list[UnitRow], code: str, before: int | None = None) -> int | None:
    """The position of ``code``: searched from the top, or backwards from ``before``."""
    if before is None:
        return next((i for i, u in enumerate(units) if u.unit_code == code), None)
    return next((i for i in range(before - 1, -1, -1) if units[i].unit_code == code), None)


def _focus(figures: Figures) -> Place | None:
    if figures.focus_unit is None:
        return None
    at = _find(figures.units, figures.focus_unit)
    unit = _absent(figures.focus_unit) if at is None else figures.units[at]
    return _place(unit, {}, figures.focus_unit)


def _place(unit: UnitRow, board_of: dict[str, str], focus: str | None) -> Place:
    moved = movement(unit)
    return Place(unit.unit_code, unit.unit_name, unit.place, moved.kind, moved.arrow, unit.due,
                 unit.on_time, rate(unit.on_time_rate), unit.overdue, unit.completed,
                 board_of.get(unit.unit_code), unit.unit_code == focus)


def _absent(code: str) -> UnitRow:
    """A unit with nothing at all in the scope, known only by its code."""
    return UnitRow(unit_code=code, unit_name=code, due=0, done=0, on_time=0, on_time_rate=None,
                   overdue=0, newly_overdue=0, completed=0, place=None, previous_place=None,
                   movement=None)


def _indicator(row: IndicatorRow) -> IndicatorShown:
    return IndicatorShown(
        row.name, row.unit_name, row.binding,
        row.target_text or amount(row.target_value, row.measure),
        computed(row.trajectory_value, row.measure, row.baseline_value, row.target_value),
        amount(row.latest_value, row.measure),
        row.latest_on, row.light)
