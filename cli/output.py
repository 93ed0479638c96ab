"""Output for people (rich tables, Chinese) and for machines (--json), and errors on stderr.

A table's identifier columns (`Code`: ids, codes, emails, what the next command is given, and
dates) are printed whole on one line however narrow the terminal, so that what is copied from
them is the argument itself; every other column folds onto more lines instead (a Chinese name
has no spaces to wrap at, and rich's default would cut it to "每万老年人…").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=True)
FOLDED_WIDTH = 4  # the narrowest a folded column gets: two Chinese characters a line
errors = Console(stderr=True, soft_wrap=True)


@dataclass(frozen=True)
class Code:
    """A column of identifiers a later command takes (or of dates): never cut, never wrapped."""

    header: str


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def table(title: str, columns: Sequence[str | Code], rows: Iterable[Sequence[Any]]) -> None:
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    grid = Table(title=title, title_justify="left")
    narrowest = len(columns) + 1  # the borders
    for index, column in enumerate(columns):
        if isinstance(column, Code):
            width = max([cell_len(column.header), *(cell_len(row[index]) for row in cells)])
            grid.add_column(column.header, no_wrap=True, width=width, overflow="ignore")
        else:
            width = min(FOLDED_WIDTH, cell_len(column))
            grid.add_column(column, overflow="fold", min_width=width)
        narrowest += width + 2  # its padding
    for row in cells:
        grid.add_row(*row)
    # Past the narrowest it can be, rich would cut every column, codes too: print it that wide
    # and let the terminal wrap the lines instead.
    width = console.width
    console.width = max(width, narrowest)
    try:
        console.print(grid)
    finally:
        console.width = width


def shown_of(shown: int, total: int, what: str, *, to: Console | None = None) -> None:
    """The line under a list cut short: how many of how many, and how to see the rest (on
    stderr under --json, whose stdout a script parses)."""
    if shown < total:
        (to or console).print(f"仅列出 {shown} {what}，共 {total} {what}；加 --all 列出全部。",
                              highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]错误[/]: {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)
