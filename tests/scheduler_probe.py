"""A job for scheduler tests, named by textual reference as the real one is: records its calls."""

from __future__ import annotations

import threading

calls: list[int] = []
ran = threading.Event()


def record() -> None:
    calls.append(threading.get_ident())
    ran.set()


def reset() -> None:
    calls.clear()
    ran.clear()
