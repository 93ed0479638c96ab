"""Reading YAML so that every value can be traced back to its line.

ruamel.yaml's round-trip loader speaks YAML 1.2 (``yes``/``no``/``on`` stay text, ``1:30`` is not
a number) and remembers where each key and item stands, which is what lets an error say
"line 42" to the clerk who wrote the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

# Mappings and lists inside one another. A plan file needs 5 (plan → projects → project →
# milestones → milestone); a deeper file is a mistake or an attack on the recursive composer.
MAX_NESTING_DEPTH = 20


class YamlSyntaxError(ValueError):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(text: str) -> Any:
    """Parse one YAML document; raise YamlSyntaxError with the line of the problem.

    Nesting is refused past MAX_NESTING_DEPTH while composing, before it can exhaust Python's
    recursion limit.
    """
    yaml = YAML(typ="rt", pure=True)
    yaml.max_depth = MAX_NESTING_DEPTH + 1  # ruamel counts the innermost value as a level too
    try:
        return yaml.load(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        return _raise(mark.line + 1 if mark is not None else None,
                      f"nested more than {MAX_NESTING_DEPTH} levels deep")
    except RecursionError:  # a backstop: the depth limit should always come first
        return _raise(None, f"nested more than {MAX_NESTING_DEPTH} levels deep")
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return _raise(line, what or str(exc))
    except YAMLError as exc:
        return _raise(None, str(exc))
    except ValueError as exc:  # an impossible date such as 2022-02-30, raised without a mark
        return _raise(_impossible_date_line(text), f"impossible date: {exc}")
    except TypeError:  # a complex key ("? a: b", a list or a map as a key): ruamel cannot hash it
        return _raise(_complex_key_line(text), "a key must be plain text, not a list or a map")


def _complex_key_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"\s*(- )?\?(\s|$)|\s*(- )?[\[{].*[\]}]\s*:", line):
            return number
    return None


def _impossible_date_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        for found in re.finditer(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])", line):
            try:
                date(*map(int, found.groups()))
            except ValueError:
                return number
    return None


def _raise(line: int | None, message: str) -> Any:
    raise YamlSyntaxError(line, message)


def line_of(document: Any, path: Sequence[str | int]) -> int | None:
    """The 1-based line of the deepest node of ``path`` that exists in ``document``.

    A missing key reports the line of the mapping that should hold it, which is where the
    clerk has to add it.
    """
    node, line = document, _start_line(document)
    for step in path:
        if isinstance(node, CommentedMap):
            key = _find_key(node, step)
            if key is None:
                break
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line = node.lc.item(step)[0] + 1
            node = node[step]
        else:
            break
    return line


def _find_key(node: CommentedMap, step: str | int) -> Any:
    for candidate in (step, str(step)):
        if candidate in node:
            return candidate
    if isinstance(step, str) and step.lstrip("-").isdigit() and int(step) in node:
        return int(step)
    return None


def _start_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None




def read_yaml_file(path: Path, error: type[ValueError]) -> Any:
    """A config file's document; any problem raised as ``error("<file>:<line>: …")``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: is not UTF-8 text") from None
    try:
        return load_yaml(text)
    except YamlSyntaxError as exc:
        raise error(f"{path}:{exc.line}: YAML syntax: {exc.message}") from None
