"""`duban plans …`: validate, import, list and show plan files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.output import console, errors, fail

app = typer.Typer(no_args_is_help=True)

Files = Annotated[list[Path], typer.Argument(help="plan files (YAML)", show_default=False)]


@app.command()
def validate(files: Files) -> None:
    """Check plan files without touching the database."""
    from config.plan_loader import PlanFileInvalid, load_plan_file

    bad = 0
    for path in files:
        try:
            loaded = load_plan_file(path)
        except PlanFileInvalid as exc:
            bad += 1
            for problem in exc.problems:
                errors.print(str(problem), highlight=False, markup=False, soft_wrap=True)
            continue
        content = loaded.content
        milestones = sum(len(p.milestones) for p in content.projects)
        console.print(
            f"{path}: 有效 — {content.plan.name}：{len(content.projects)} 个项目，"
            f"{milestones} 个节点，{len(content.indicators)} 项指标", highlight=False)
    if bad:
        fail(f"{bad} 个规划文件有错误，见上。", code=2)
