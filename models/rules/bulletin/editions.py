"""The two editions of a bulletin: the same figures, for two kinds of reader."""

from __future__ import annotations

from enum import StrEnum


class Edition(StrEnum):
    internal = "internal"  # the office and leaders: names, contacts and evidence included
    public = "public"      # 晾晒: no people's names, contacts or evidence notes
