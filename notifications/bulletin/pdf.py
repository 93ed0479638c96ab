"""The bulletin as a PDF to print and file: A4, Chinese text in an embedded CJK font.

The page is notifications/templates/zh-CN/bulletin_print.html.j2, rendered by WeasyPrint. Its
context is made here, every figure already written the way people read it (87.5%, ↑2, +3.5
个百分点, 11月16日), so the template only lays out strings. It is rendered in the emails'
environment (notifications/render.py: autoescaped, StrictUndefined), though it is no email:
being printed, not mailed, it has a stylesheet and page rules.

The same figures and chart give the same bytes: the creation date is the period's stamp
(formats.issued_at), not the time of building, and the file identifier is a hash of the page.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from weasyprint import HTML

from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures
from models.rules.bulletin.indicators import IndicatorRow
from models.rules.bulletin.items import CompletedItem, ExtensionGranted, RedItem
from models.rules.bulletin.ranking import UnitRow
from notifications.bulletin.formats import (
    AUTHOR,
    EDITIONS,
    HEADLINE,
    LIGHTS,
    NONE,
    change,
    day,
    decimals,
    issue_words,
    issued_at,
    level_name,
    movement,
    number,
    rate,
    rounded,
)
from notifications.bulletin.page import bulletin_title, period_words
from notifications.render import render_part

TEMPLATE = "bulletin_print"  # templates/zh-CN/bulletin_print.html.j2

# A nation-scale bulletin would print hundreds of pages (and take minutes): the PDF shows what a
# reader of paper looks at, and says where the rest is (the workbook holds every row).
PRINT_RANKED = 100
PRINT_ROWS = 200

def bulletin_pdf(figures: Figures, *, chart_png: bytes | None) -> bytes:
    """The PDF of ``figures``, with ``chart_png`` (the progress chart) under the headline."""
    page = render_part(TEMPLATE, "html", print_context(figures, chart_png))
    identifier = hashlib.sha256(page.encode()).hexdigest()[:32].encode()
    pdf: bytes | None = HTML(string=page).write_pdf(pdf_identifier=identifier)
    assert pdf is not None
    return pdf


def print_context(figures: Figures, chart_png: bytes | None) -> dict[str, Any]:
    """What the print template shows, as strings: see the template's header for the keys."""
    year = figures.period.last.year
    units = {u.unit_code: u for u in figures.units}
    ranked = [u for u in figures.units if u.place is not None]
    title = bulletin_title(figures)
    name, bracket, when = title.partition("（")
    return {
        "title": title,
        "author": AUTHOR,
        "title_name": name,
        "title_when": bracket + when,
        "scope_name": figures.scope_name,
        "period": period_words(figures.period),
        "previous": period_words(figures.previous),
        "edition": EDITIONS[figures.edition],
        "internal": figures.edition is Edition.internal,
        "focus": units[figures.focus_unit].unit_name
        if figures.focus_unit in units else figures.focus_unit,
        "created": issued_at(figures.period).isoformat(),
        "issue": issue_words(figures),
        "issuer": figures.issuer,
        "headline": _headline(figures),
        "chart": None if chart_png is None
        else "data:image/png;base64," + base64.b64encode(chart_png).decode("ascii"),
        "honour_rule": None if figures.honour_rule is None else {
            "rate": rate(figures.honour_rule.min_on_time_rate),
            "places": figures.honour_rule.places},
        "grouped": len(figures.peer_names) > 1,
        "honour": [_unit(units[code], figures) for code in figures.honour],
        "shame": [_unit(units[code], figures) for code in figures.shame],
        "ranked": _ranking([_unit(u, figures) for u in ranked]),
        "unranked": [u.unit_name for u in figures.units if u.place is None],
        "red_items": [_red(r, year, figures) for r in figures.red_items[:PRINT_ROWS]],
        "red_total": len(figures.red_items),
        "indicators": [_indicator(i, year) for i in figures.indicators],
        "completed": [_completed(c, year) for c in figures.completed[:PRINT_ROWS]],
        "completed_total": len(figures.completed),
        "extensions": [_extension(e, year) for e in figures.extensions],
    }


def _ranking(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The whole ranking up to PRINT_RANKED units; beyond, its top and bottom halves of that
    with one row saying how many are left out (the workbook has them all)."""
    if len(rows) <= PRINT_RANKED:
        return rows
    half = PRINT_RANKED // 2
    return rows[:half] + [{"gap": len(rows) - 2 * half}] + rows[-half:]


# ── rows ────────────────────────────────────────────────────────────────────────────────────

def _headline(figures: Figures) -> list[dict[str, str]]:
    rows = []
    for key, label in HEADLINE:
        now = getattr(figures.headline, key)
        points = key == "on_time_rate"
        rows.append({"key": key, "label": label,
                     "value": rate(now) if points else str(now),
                     "change": change(figures.headline.change.get(key), points=points)})
    return rows


def _unit(u: UnitRow, figures: Figures) -> dict[str, Any]:
    return {"place": "" if u.place is None else str(u.place), "movement": movement(u).text,
            "code": u.unit_code, "name": u.unit_name, "due": u.due, "done": u.done,
            "on_time": u.on_time, "rate": rate(u.on_time_rate), "overdue": u.overdue,
            "newly_overdue": u.newly_overdue, "completed": u.completed,
            "mark": "honour" if u.unit_code in figures.honour
            else "shame" if u.unit_code in figures.shame else "",
            "focus": u.unit_code == figures.focus_unit,
            "group": figures.peer_names.get(u.peers, "") if len(figures.peer_names) > 1 else ""}


def _item(i: RedItem | CompletedItem | ExtensionGranted) -> dict[str, Any]:
    return {"plan": i.plan, "project": i.project, "title": i.title, "unit": i.unit_name,
            "assumption": getattr(i, "assumption", None)}


def _red(r: RedItem, year: int, figures: Figures) -> dict[str, Any]:
    return {**_item(r), "due_on": day(r.due_on, year), "overdue": r.overdue_workdays,
            "level": level_name(figures.level_names, r.plan, r.level) or NONE,
            "acknowledged": ("已确认" if r.acknowledged else "未确认") if r.level else NONE,
            "binding": r.binding}


def _indicator(i: IndicatorRow, year: int) -> dict[str, Any]:
    """Each value as its number and its measure, which the table may put on two lines (a
    narrow column must wrap "13224元/人、年" between them, never overprint its neighbour)."""
    light, tone = (LIGHTS[i.light], i.light) if i.light else ("暂无", "none")
    places = decimals(i.measure, i.baseline_value, i.target_value)
    return {"name": i.name, "code": i.code, "plan": i.plan, "unit": i.unit_name or NONE,
            "binding": i.binding, "baseline": _value(i.baseline_value, i.measure),
            "baseline_year": f"{i.baseline_year}年" if i.baseline_value is not None
            and i.baseline_year else "",
            "target": _value(i.target_value, i.measure) if i.target_value is not None
            else {"number": i.target_text or NONE, "measure": ""},
            "target_text": i.target_text if i.target_value is not None else None,
            "trajectory": _value(rounded(i.trajectory_value, places), i.measure),
            "latest": _value(i.latest_value, i.measure),
            "latest_on": day(i.latest_on, year) if i.latest_on else "",
            "light": light, "tone": tone}


def _value(value: float | None, measure: str | None) -> dict[str, str]:
    """``{number: "13224", measure: "元/人、年"}``; ``—`` and no measure for none."""
    if value is None:
        return {"number": NONE, "measure": ""}
    return {"number": number(value, None), "measure": measure or ""}


def _completed(c: CompletedItem, year: int) -> dict[str, Any]:
    return {**_item(c), "due_on": day(c.due_on, year), "claimed_on": day(c.claimed_on, year),
            "on_time": c.on_time, "evidence": c.evidence or NONE,
            "claimed_by": c.claimed_by or NONE}


def _extension(e: ExtensionGranted, year: int) -> dict[str, Any]:
    return {**_item(e), "previous_due_on": day(e.previous_due_on, year),
            "new_due_on": day(e.new_due_on, year), "decided_on": day(e.decided_on, year),
            "reason": e.reason or NONE}
