"""What Duban needs to run is declared and locked apart from what its tests need: every package
the code imports is a declared runtime dependency, and the runtime lock (what ./scripts/run
installs) carries none of the test tools, which requirements-dev.lock adds on top."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.test_layers import PACKAGES, REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)", re.MULTILINE)


def pins(requirements: list[str]) -> dict[str, str]:
    found = {}
    for line in requirements:
        requirement = Requirement(line)
        (specifier,) = requirement.specifier  # one exact pin each
        assert specifier.operator == "==", line
        found[canonicalize_name(requirement.name)] = specifier.version
    return found


def locked(name: str) -> dict[str, str]:
    text = (REPO / name).read_text(encoding="utf-8")
    return {canonicalize_name(n): v for n, v in PIN.findall(text)}


RUNTIME, DEV = pins(PYPROJECT["dependencies"]), pins(PYPROJECT["optional-dependencies"]["dev"])


def imported_modules() -> dict[str, Path]:
    """The top-level modules our packages import (at any depth of a function), with a file."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path)
    return found


def test_every_package_the_code_imports_is_a_declared_runtime_dependency() -> None:
    owners = packages_distributions()
    undeclared = {}
    for module, path in imported_modules().items():
        if module in sys.stdlib_module_names or module in PACKAGES or module == "__future__":
            continue
        distributions = {canonicalize_name(d) for d in owners.get(module, [module])}
        if not distributions & RUNTIME.keys():
            undeclared[module] = str(path.relative_to(REPO))
    assert undeclared == {}, "imported but not in [project] dependencies"


def test_the_runtime_lock_has_no_test_tool_and_the_dev_lock_adds_them_on_top() -> None:
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: runtime.get(name) for name in RUNTIME} == RUNTIME
    assert set(DEV).isdisjoint(runtime), "a test tool in the runtime lock"
    assert {name: dev.get(name) for name in DEV} == DEV
    assert {name: dev.get(name) for name in runtime} == runtime  # the same versions, plus tools
