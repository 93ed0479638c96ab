"""The chart of progress by unit: each ranked unit's on-time rate (按期完成率) as a horizontal
bar, best at the top, embedded in the email and the PDF.

Decisions:
- One chart per bulletin scope, reused by every unit's bulletin; a unit's own bar is blue
  only when ``figures.focus_unit`` is set (a chart drawn for one unit).
- At most ``ENDS`` best and ``ENDS`` worst units are drawn; the places between are one gap row,
  and the title says how many units are ranked. A bar per unit for 3,000 units is unreadable
  and megabytes; the table and the workbook have every unit. A focus unit in the gap is drawn
  between two gap rows.
- Units with nothing due have no rate and are not drawn; a note under the chart counts them.
- Bars: 红榜 green, 黑榜 red, the others grey; the scope's overall rate is a dashed line.
- Names longer than ``NAME_CHARS`` are cut with "…" so the bars keep their room.
- Deterministic bytes: fixed width and dpi, a height that follows the number of rows drawn
  (at most 2 * ENDS + 3), no date and no software name in the PNG (written by Pillow from the
  drawn pixels, quantized to a fixed palette).
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from functools import cache

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as Drawing
from matplotlib.font_manager import FontProperties
from PIL import Image

from models.rules.bulletin.figures import Figures
from models.rules.bulletin.ranking import UnitRow
from notifications.bulletin.formats import rate
from notifications.bulletin.page import Gap, excerpt

ENDS = 15
NAME_CHARS = 13
# 720 px wide at the default dpi, the email's column: text is sized against that width so it
# stays legible when a phone shows the image at half size.
WIDTH_INCHES = 4.8
DPI = 150
ROW_INCHES = 0.24
TITLE, TEXT, NOTE = 10.0, 8.5, 7.5  # points; 8.5 pt is about 9 px when a phone halves it
TOP_INCHES, BOTTOM_INCHES = 0.62, 0.45  # title and overall rate; axis and note
LEFT = 0.44  # the share of the width given to the names
COLOURS = {"honour": "#00a870", "shame": "#cf1322", None: "#a9aeb8"}
MINE = "#165dff"  # the unit's own bar, in a chart drawn for one unit
PLAIN = {"facecolor": "white", "edgecolor": "none", "pad": 0.3}  # text over the rate line
PALETTE = 64  # colours in the PNG: a few for the chart, the rest for smooth text
CJK_PACKAGE = "fonts-wqy-microhei"
WORDS = {
    "zh-CN": {"title": "各单位按期完成率（共{ranked}个单位参加排名{cut}）",
              "cut": "，显示前{ends}名和后{ends}名",
              "gap": "…… 第{first}—{last}名（{count}个单位）略 ……",
              "overall": "总体 {rate}", "idle": "另有{idle}个单位本期无应完成事项，不参加排名。",
              "none": "本期各单位均无应完成事项，不排名。", "mine": "蓝色为本单位。"},
    "en": {"title": "On-time completion rate by unit ({ranked} ranked{cut})",
           "cut": "; the first and last {ends} shown", "gap": "… places {first}–{last} "
           "({count} units) left out …", "overall": "overall {rate}",
           "idle": "{idle} more units had nothing due and are not ranked.",
           "none": "No unit had anything due; no ranking.", "mine": "Blue: this unit. "},
}


class MissingFont(RuntimeError):
    """No font with Chinese characters is installed."""


def progress_chart(figures: Figures, *, locale: str = "zh-CN", dpi: int = DPI) -> bytes:
    """The chart as PNG bytes, ``WIDTH_INCHES * dpi`` pixels wide (a print wants a higher
    ``dpi``); the same figures always give the same bytes."""
    if locale not in WORDS:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(WORDS)})")
    words = WORDS[locale]
    ranked = [u for u in figures.units if u.place is not None]
    focus_at = next((i for i, u in enumerate(ranked) if u.unit_code == figures.focus_unit), None)
    rows = _rows(figures, ranked, excerpt(len(ranked), ENDS, focus_at), words)
    body = ROW_INCHES * max(len(rows), 2)
    height = TOP_INCHES + body + BOTTOM_INCHES
    drawing = Drawing(figsize=(WIDTH_INCHES, height), dpi=dpi)
    canvas = FigureCanvasAgg(drawing)
    if not ranked:
        drawing.text(0.5, 0.5, words["none"], ha="center", va="center",
                     fontproperties=_font(TITLE))
        return _png(canvas, dpi)
    axes = drawing.add_axes((LEFT, BOTTOM_INCHES / height, 0.97 - LEFT, body / height))
    _bars(axes, rows)
    overall = figures.headline.on_time_rate
    if overall is not None:
        axes.axvline(overall * 100, color="#1f2329", linestyle="--", linewidth=0.8, zorder=1)
        axes.text(overall * 100, -0.6, words["overall"].format(rate=rate(overall)),
                  ha="center", va="bottom", color="#1f2329", fontproperties=_font(TEXT))
    cut = words["cut"].format(ends=ENDS) if any(r.value is None for r in rows) else ""
    drawing.text(0.5, 1 - 0.08 / height, words["title"].format(ranked=len(ranked), cut=cut),
                 ha="center", va="top", fontproperties=_font(TITLE))
    idle = len(figures.units) - len(ranked)
    note = ((words["mine"] if focus_at is not None else "")
            + (words["idle"].format(idle=idle) if idle else ""))
    if note:
        drawing.text(0.02, 0.04 / height, note, ha="left", va="bottom", color="#86909c",
                     fontproperties=_font(NOTE))
    return _png(canvas, dpi)


@dataclass(frozen=True)
class _Row:
    label: str
    value: float | None  # percent; None for a gap
    colour: str
    mine: bool


def _rows(figures: Figures, ranked: list[UnitRow], shown: list[int | Gap],
          words: dict[str, str]) -> list[_Row]:
    board = dict.fromkeys(figures.honour, "honour") | dict.fromkeys(figures.shame, "shame")
    rows = []
    for item in shown:
        if isinstance(item, Gap):
            rows.append(_Row(words["gap"].format(first=ranked[item.first].place,
                                                 last=ranked[item.last].place,
                                                 count=item.count), None, "", False))
            continue
        unit = ranked[item]
        name = unit.unit_name
        if len(name) > NAME_CHARS:
            name = name[:NAME_CHARS - 1] + "…"
        mine = unit.unit_code == figures.focus_unit
        rows.append(_Row(f"{unit.place}. {name}", (unit.on_time_rate or 0.0) * 100,
                         MINE if mine else COLOURS[board.get(unit.unit_code)], mine))
    return rows


def _bars(axes: Axes, rows: list[_Row]) -> None:
    font = _font(TEXT)
    bars = [(y, row) for y, row in enumerate(rows) if row.value is not None]
    axes.barh([y for y, _ in bars], [row.value for _, row in bars if row.value is not None],
              height=0.7,
              color=[row.colour for _, row in bars],
              edgecolor=[MINE if row.mine else row.colour for _, row in bars],
              linewidth=[1.4 if row.mine else 0 for _, row in bars], zorder=2)
    for y, row in enumerate(rows):
        if row.value is None:
            axes.text(50, y, row.label, ha="center", va="center", color="#86909c",
                      fontproperties=font, zorder=3, bbox=PLAIN)
        else:
            axes.text(row.value + 1, y, f"{row.value:.1f}%", va="center", color="#1f2329",
                      fontproperties=font, zorder=3, bbox=PLAIN)
    axes.set_ylim(len(rows) - 0.5, -0.5)  # the best at the top
    axes.set_yticks(range(len(rows)), [r.label if r.value is not None else "" for r in rows])
    for label, row in zip(axes.get_yticklabels(), rows, strict=True):
        label.set_fontproperties(font)
        if row.mine:
            label.set_color(MINE)
    axes.set_xlim(0, 114)
    axes.set_xticks(range(0, 101, 25), [f"{x}%" for x in range(0, 101, 25)])
    for label in axes.get_xticklabels():
        label.set_fontproperties(font)
    axes.tick_params(axis="both", length=0, pad=3)
    axes.grid(axis="x", color="#e5e6eb", linewidth=0.6, zorder=0)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)


def _png(canvas: FigureCanvasAgg, dpi: int) -> bytes:
    """PNG without metadata, reduced to a small palette: a third of the bytes of the RGBA
    image matplotlib writes, which every recipient's mailbox would otherwise carry."""
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    quantized = image.convert("RGB").quantize(PALETTE, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True, dpi=(dpi, dpi))
    return out.getvalue()


def _font(size: float) -> FontProperties:
    return FontProperties(fname=cjk_font_file(), size=size)


@cache
def cjk_font_file() -> str:
    """The file of a font with Chinese characters: fontconfig's choice for sans-serif in
    Chinese when it really covers Chinese (it falls back to a Latin font when none does),
    else the first such font by path. Raise MissingFont naming the package to install."""
    try:
        chinese = _fc("fc-list", "-f", "%{file}\n", ":lang=zh").splitlines()
        preferred = _fc("fc-match", "-f", "%{file}", "sans-serif:lang=zh").strip()
    except (OSError, subprocess.SubprocessError) as error:
        raise MissingFont(f"cannot ask fontconfig for a Chinese font ({error}); install "
                          f"fontconfig and the Debian package {CJK_PACKAGE}") from None
    files = sorted({line.strip() for line in chinese if line.strip()})
    if preferred in files:
        return preferred
    if not files:
        raise MissingFont(f"no font with Chinese characters is installed; install the Debian "
                          f"package {CJK_PACKAGE} (apt-get install {CJK_PACKAGE})")
    return files[0]


def _fc(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True,
                          timeout=30).stdout
