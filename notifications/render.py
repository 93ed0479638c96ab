"""Rendering a notice into the three texts of an email: subject, plain text and HTML.

Templates live in ``templates/<locale>/`` as ``<name>.subject.j2``, ``<name>.txt.j2`` and
``<name>.html.j2``. Only the HTML files are autoescaped: the text part and the subject must show
what people typed (a title with ``<`` in it) as typed, and escaping them would print ``&lt;``.
Undefined names raise (StrictUndefined), so a context that lost a key fails when the message is
queued rather than going out with a hole in it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LOCALES: tuple[str, ...] = ("zh-CN", "en")
# The emails rendered from a plain context; the bulletin has its own (notifications/bulletin).
TEMPLATES: tuple[str, ...] = ("escalation_digest", "done_received", "extension_decided",
                              "item_closed", "item_notice")
LINK_SCHEMES = ("https://", "http://")
# A subject a phone's mail list shows whole: a milestone's text runs to 200 characters, so a
# subject names it by its start and the body carries it in full (``subject_line``); render()
# cuts any subject still longer.
SUBJECT_MAX = 60
TITLE_MIN = 20  # a milestone's text keeps this much of the room before its project's name
NAME_MIN = 4    # a project's name cut shorter than this says nothing: then it is left out
ELLIPSIS = "…"


@dataclass(frozen=True)
class Rendered:
    subject: str   # one line, no CR/LF
    text: str      # the plain-text part
    html: str      # the HTML part: inline CSS only, no <script>, no external resources


def render(template: str, context: Mapping[str, Any], *, locale: str = "zh-CN") -> Rendered:
    """Render ``template`` in ``locale``; raise ValueError for an unknown template or locale."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r} (known: {', '.join(TEMPLATES)})")
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    env = _environment(locale)
    values = dict(context)
    subject = env.get_template(f"{template}.subject.j2").render(values)
    text = env.get_template(f"{template}.txt.j2").render(values)
    html = env.get_template(f"{template}.html.j2").render(values)
    return Rendered(subject=clip(one_line(subject), SUBJECT_MAX), text=text.strip() + "\n",
                    html=html.strip() + "\n")


def render_part(template: str, part: str, context: Mapping[str, Any], *,
                locale: str = "zh-CN") -> str:
    """One part (``subject``, ``txt`` or ``html``) of a template, in ``locale``'s environment."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    return _environment(locale).get_template(f"{template}.{part}.j2").render(dict(context))


def macros(template: str, part: str, context: Mapping[str, Any], *,
           locale: str = "zh-CN") -> Any:
    """The macros of one part of a template, bound to ``context``: a phrase written once in a
    template (a bulletin's title) can then serve outside it too."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    return _environment(locale).get_template(f"{template}.{part}.j2").make_module(dict(context))


def one_line(value: str) -> str:
    """Collapse all whitespace (CR, LF, U+2028 included) to single spaces and drop any other
    control character, so a rendered subject can never start a second header."""
    collapsed = " ".join(value.split())
    return "".join(c for c in collapsed if unicodedata.category(c) != "Cc")


def clip(value: str, room: int) -> str:
    """``value`` in at most ``room`` characters: whole, or cut and ended with "…". The cut never
    parts a character from the marks that belong to it (a combining accent, a variation
    selector, the rest of an emoji joined by ZWJ), which would show as a broken glyph."""
    if len(value) <= room:
        return value
    cut = max(room - len(ELLIPSIS), 0)
    while 0 < cut and (_joins_previous(value[cut]) or value[cut - 1] == ZWJ):
        cut -= 1
    return value[:cut].rstrip() + ELLIPSIS


ZWJ = "\u200d"


def subject_line(prefix: str, name: str, title: str, opening: str, closing: str) -> str:
    """``prefix`` + project ``name`` + ``title`` in brackets, within SUBJECT_MAX characters:
    the title keeps at least TITLE_MIN of them (all of it if shorter), the name gets the rest
    and is left out when that is under NAME_MIN."""
    name, title = one_line(name), one_line(title)
    room = SUBJECT_MAX - len(prefix) - len(opening) - len(closing)
    shown = clip(title, max(room - len(name), min(len(title), TITLE_MIN)))
    if room - len(shown) < NAME_MIN:
        return prefix + clip(title, SUBJECT_MAX - len(prefix))
    return prefix + clip(name, room - len(shown)) + opening + shown + closing


def _joins_previous(char: str) -> bool:
    """Whether ``char`` belongs to the character before it."""
    return (char == ZWJ or unicodedata.combining(char) != 0
            or unicodedata.category(char) in ("Mn", "Me") or "\ufe00" <= char <= "\ufe0f"
            or "\U0001f3fb" <= char <= "\U0001f3ff")  # skin tones


# Runs a phone must not break across lines (第51周 read as 第5 / 1周): a week, an issue or a
# place number, a year, a month and day.
KEEP_TOGETHER = re.compile(r"第\d+[周期名项]|\d{4}年|\d{1,2}月\d{1,2}日")


def unbroken(value: object) -> Markup:
    """HTML of ``value`` (escaped unless it is markup already) with each KEEP_TOGETHER run in a
    ``white-space:nowrap`` span: the line breaks around it, never inside it."""
    return Markup(KEEP_TOGETHER.sub(
        lambda m: f'<span style="white-space:nowrap">{m[0]}</span>', str(escape(value))))


def cn_date(value: str | date) -> str:
    """``2025-10-21`` → ``2025年10月21日``, the way dates are written in official documents."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def href(value: object) -> str:
    """Only http(s) links go into an email: a ``javascript:`` link would be a trap."""
    if not isinstance(value, str) or not value.startswith(LINK_SCHEMES):
        raise ValueError(f"link must be an http(s) URL, got {value!r}")
    return value


def by_level(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group digest items by level, highest first; items keep their order within a level."""
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for item in items:
        groups.setdefault(int(item["level"]), []).append(item)
    return [{"level": level, "kind": members[0]["kind"],
             "level_name": members[0]["level_name"], "members": members}
            for level, members in sorted(groups.items(), reverse=True)]


@cache
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR / locale),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False,
                                     default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(cn_date=cn_date, href=href, by_level=by_level, clip=clip,
                       unbroken=unbroken)
    env.globals.update(subject_line=subject_line)
    return env
