"""The layering in pyproject.toml ([tool.importlinter]) holds, and would catch a wrong import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "web", "flows", "services", "notifications", "models", "config")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"),
                           "--no-cache"], cwd=root, env={"PYTHONPATH": str(root),
                                                         "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The packages and pyproject.toml, copied: a place to break the layering on purpose."""
    for name in PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.yaml", "templates"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold_on_this_tree(copy: Path) -> None:
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "wrong", "contract"), [
    ("models/tables/unit.py", "import notifications.render", "models never imports"),
    ("models/rules/status.py", "import models.store.database", "Only the store"),
    ("models/rules/escalation.py", "import sqlmodel", "no SQLAlchemy"),
    ("notifications/render.py", "import web.app", "notifications never imports"),
    ("config/settings.py", "import models.tables.unit", "config imports nothing"),
    ("services/runtime.py", "import flows.sweep", "Entry points over flows"),
    ("notifications/delivery.py", "import aiosmtpd.controller", "imports a test tool"),
])
def test_a_wrong_import_fails_the_check(copy: Path, module: str, wrong: str,
                                        contract: str) -> None:
    path = copy / module
    path.write_text(path.read_text() + f"\n{wrong}  # added on purpose\n")
    result = lint(copy)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken and module.removesuffix(".py").replace("/", ".") in broken
