"""Turning a plan file on disk into a validated ``PlanFile``, or into messages a clerk can act on.

Every problem is reported as ``file:line: path: message``; all problems of a file are reported at
once, so a clerk fixes a file in one pass rather than one error per run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.plan_file import PlanFile, Problem, cross_check
from config.yaml_source import YamlSyntaxError, line_of, load_yaml

# The largest plan seen holds a few hundred items in a few hundred kilobytes; 5 MB is room for
# ten thousand projects, and keeps a runaway file from tying up the parser for minutes.
MAX_PLAN_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class LocatedProblem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PlanFileInvalid(ValueError):
    def __init__(self, problems: list[LocatedProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class LoadedPlan:
    source: str          # the path as given, for messages and the event log
    content: PlanFile
    sha256: str          # of the file's bytes: an unchanged file is skipped on re-import


def read_limited(path: Path, limit: int, cannot_read: str = "cannot read") -> bytes:
    """The file's bytes, one past ``limit`` at most: a larger file is seen, never read whole.
    A file that cannot be read is a problem named ``cannot_read: reason``."""
    try:
        with path.open("rb") as stream:
            return stream.read(limit + 1)
    except OSError as exc:
        problem = LocatedProblem(str(path), None, "", f"{cannot_read}: {exc.strerror}")
        raise PlanFileInvalid([problem]) from None


def load_plan_file(path: Path) -> LoadedPlan:
    name = str(path)
    raw = read_limited(path, MAX_PLAN_FILE_BYTES)
    if len(raw) > MAX_PLAN_FILE_BYTES:
        raise PlanFileInvalid([_too_large(name)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PlanFileInvalid([LocatedProblem(name, line, "", "is not UTF-8 text")]) from None
    return LoadedPlan(name, parse_plan_text(text, name), hashlib.sha256(raw).hexdigest())


def _too_large(name: str) -> LocatedProblem:
    return LocatedProblem(name, None, "", f"is larger than {MAX_PLAN_FILE_BYTES // 2**20} MB, "
                          "the most a plan file may hold: split it into one file per plan")


def parse_plan_text(text: str, name: str = "<plan>") -> PlanFile:
    if len(text) > MAX_PLAN_FILE_BYTES:  # characters: at most as many as the bytes
        raise PlanFileInvalid([_too_large(name)])
    try:
        document = load_yaml(text)
    except YamlSyntaxError as exc:
        problem = LocatedProblem(name, exc.line, "", f"YAML syntax: {exc.message}")
        raise PlanFileInvalid([problem]) from None
    if not isinstance(document, dict):
        raise PlanFileInvalid([LocatedProblem(name, 1, "", "expected a mapping with `plan:`, "
                                              "`units:`, `projects:` and `indicators:`")])
    try:
        plan_file = PlanFile.model_validate(document)
    except ValidationError as exc:
        raise PlanFileInvalid(_locate(document, name, _pydantic_problems(exc))) from None
    problems = cross_check(plan_file)
    if problems:
        raise PlanFileInvalid(_locate(document, name, problems))
    return plan_file


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if loc and loc[-1] == "[key]":
            loc, message = loc[:-1], f"key {loc[-2]!r}: {message}"
        if error["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        elif error["type"] == "missing":
            message = "required field is missing"
        elif not isinstance(error["input"], dict | list):
            message += f" (got {error['input']!r})"
        problems.append((loc, message))
    return problems


def _locate(document: Any, name: str, problems: list[Problem]) -> list[LocatedProblem]:
    return [LocatedProblem(name, line_of(document, path), _dotted(path), message)
            for path, message in problems]


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) and text else f".{step}" if text else str(step)
    return text
