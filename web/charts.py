"""The overview's charts as geometry for server-drawn SVG: stacked light bars, a rate bar and a
trend line. Pure functions; templates/overview.html draws what they return, the colours come
from web.labels (one place for every light's colour).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from web.labels import LIGHTS, Shade, light


@dataclass(frozen=True)
class Segment:
    light: str
    count: int
    x: float
    width: float
    shade: Shade


def lights_in(counts: Mapping[str, int]) -> list[str]:
    """The lights to draw, in web.labels' order (worst first), then any other the data has."""
    return [name for name in LIGHTS if name in counts] + sorted(set(counts) - set(LIGHTS))


def stacked(counts: Mapping[str, int], scale: int, width: float) -> list[Segment]:
    """One bar: a segment per light with items, lengths on a common ``scale`` (the largest
    total in the chart), so bars compare across units."""
    segments, x = [], 0.0
    for name in lights_in(counts):
        if counts[name] <= 0:
            continue
        w = round(width * counts[name] / max(scale, 1), 1)
        segments.append(Segment(name, counts[name], round(x, 1), w, light(name)))
        x += w
    return segments


@dataclass(frozen=True)
class Trend:
    points: str  # for <polyline points="…">
    dots: tuple[tuple[float, float, int], ...]  # x, y, value
    top: int     # the value at the top of the axis


def trend(values: Sequence[int], width: float, height: float, pad: float = 6) -> Trend:
    """A line over ``values`` (oldest first), zero at the bottom."""
    top = max(max(values, default=0), 1)
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    dots = tuple((round(pad + n * step, 1), round(height - pad - (height - 2 * pad) * v / top, 1),
                  v) for n, v in enumerate(values))
    return Trend(" ".join(f"{x},{y}" for x, y, _ in dots), dots, top)
