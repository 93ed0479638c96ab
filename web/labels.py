"""The words and colours the pages use for states, lights and levels, in one place for Python
(the history sentences, the charts); the templates' own copy is templates/_labels.html.

A light's colour is chosen for meaning and for contrast: the fill is what a chart draws, the
text colour is what is legible on that fill (≥ 4.5:1, checked by the accessibility test), and
``ink`` is the light's colour for a number printed on white.
"""

from __future__ import annotations

from typing import NamedTuple


class Shade(NamedTuple):
    label: str
    fill: str  # a bar or dot
    text: str  # text on the fill
    ink: str   # the colour's number on white


STATES = {"pending": "未到期", "due_soon": "临期", "overdue": "逾期", "claimed": "已申报完成",
          "closed": "已销号", "returned": "退回重办", "waived": "已豁免"}
# In the order a stacked bar draws them, worst first. "blue" (待核实: claimed, waiting for 销号)
# is drawn wherever the data has it.
LIGHTS = {"red": Shade("红灯", "#c62828", "#ffffff", "#b71c1c"),
          "yellow": Shade("黄灯", "#f9a825", "#222222", "#8a5a00"),
          "blue": Shade("待核实", "#1565c0", "#ffffff", "#0d47a1"),
          "green": Shade("绿灯", "#2e7d32", "#ffffff", "#1b5e20")}
UNKNOWN_LIGHT = Shade("未知", "#757575", "#ffffff", "#555555")
LEVELS = {0: "未督办", 1: "一级 催办提醒", 2: "二级 督办单", 3: "三级 领导督办"}


def light(name: str | None) -> Shade:
    return LIGHTS.get(name or "", UNKNOWN_LIGHT)


def light_word(name: str | None) -> str:
    return LIGHTS[name].label if name in LIGHTS else "未定"


def level_word(level: int) -> str:
    return LEVELS.get(level, f"{level} 级")
