"""`duban plans …`: validate, import, list and show plan files (YAML or XLSX workbooks), export
a plan as a workbook and write the blank template."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli import context
from cli.output import Code, console, emit_json, errors, fail, table
from config.plan_file import commitment_name

if TYPE_CHECKING:
    from config.plan_loader import LoadedPlan
    from models.store.plan_import import ImportOutcome
    from models.store.plan_preview import Preview

app = typer.Typer(no_args_is_help=True)

Files = Annotated[list[Path], typer.Argument(help="plan files (YAML, or XLSX workbooks)",
                                             show_default=False)]
Xlsx = Annotated[Path, typer.Option("--xlsx", help="the workbook to write (.xlsx)",
                                    show_default=False)]
Force = Annotated[bool, typer.Option("--force", help="overwrite the file if it exists")]
Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]

_KIND_WORDS = {"created": "新增", "updated": "更新", "removed": "删除", "retired": "停用",
               "restored": "恢复"}
_SUBJECT_WORDS = {"plan": "规划", "unit": "单位", "project": "项目", "milestone": "节点",
                  "indicator": "指标"}


def _load_all(files: list[Path]) -> list[LoadedPlan]:
    from config.plan_loader import PlanFileInvalid, load_plan_file
    from config.plan_workbook.read import load_plan_workbook

    loaded, bad = [], 0
    for path in files:
        try:
            is_workbook = path.suffix.lower() in (".xlsx", ".xlsm")
            loaded.append(load_plan_workbook(path) if is_workbook else load_plan_file(path))
        except PlanFileInvalid as exc:
            bad += 1
            for problem in exc.problems:
                errors.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    if bad:
        fail(f"{bad} 个规划文件有错误，见上；数据库未作任何改动。", code=2)
    return loaded


@app.command()
def validate(files: Files) -> None:
    """Check plan files without touching the database."""
    for loaded in _load_all(files):
        content = loaded.content
        milestones = sum(len(p.milestones) for p in content.projects)
        console.print(
            f"{loaded.source}: 有效 — {content.plan.name}：{len(content.projects)} 个项目，"
            f"{milestones} 个节点，{len(content.indicators)} 项指标", highlight=False)


def import_files(files: list[Path], *, retire: bool = False) -> list[ImportOutcome]:
    """Validate every file, then import them all in one transaction: all or nothing."""
    from models.store.database import refresh_statistics
    from models.store.plan_import import ImportRefused, import_plan

    loaded = _load_all(files)
    with context.session() as db:
        try:
            outcomes = [import_plan(session=db, loaded=item, actor=context.actor(),
                                    now=context.now(), retire=retire) for item in loaded]
        except ImportRefused as exc:
            db.rollback()
            for problem in exc.problems:
                errors.print(problem, highlight=False, markup=False, soft_wrap=True)
            fail("导入被拒绝，数据库未作任何改动。", code=2)
        db.commit()
        refresh_statistics(db.connection())
        db.commit()
    return outcomes


@app.command("import")
def import_(files: Files, retire: Annotated[bool, typer.Option(
        "--retire", help="keep items dropped from the file but with history, as retired")] = False,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="show what the import would change, and change nothing")] = False,
        json: Json = False) -> None:
    """Import plan files; an edited file updates its plan and logs each change."""
    if dry_run:
        _preview(files, retire=retire, json=json)
        return
    outcomes = import_files(files, retire=retire)
    if json:
        emit_json([{"plan": o.plan_code, "file": o.source, "changes": dict(o.counts)}
                   for o in outcomes])
        return
    for outcome in outcomes:
        console.print(f"{outcome.source} → {outcome.plan_code}：{describe_changes(outcome.counts)}",
                      highlight=False)


def _preview(files: list[Path], *, retire: bool, json: bool) -> None:
    from models.store.plan_preview import preview_imports

    loaded = _load_all(files)
    with context.session() as db:
        previews = preview_imports(session=db, loaded=loaded, actor=context.actor(),
                                   now=context.now(), retire=retire)
    if json:
        emit_json([{"plan": p.plan_code, "file": p.source, "changes": p.lines,
                    "refused": p.refusals} for p in previews])
    else:
        _print_previews(previews)
    if any(p.refusals for p in previews):
        raise typer.Exit(2)  # as the import itself would end


def _print_previews(previews: list[Preview]) -> None:
    for preview in previews:
        verdict = ("将被拒绝" if preview.refusals else
                   f"{len(preview.lines)} 处变化" if preview.lines else "无变化")
        console.print(f"{preview.source} → {preview.plan_code}（试导入，数据库未改动）：{verdict}",
                      highlight=False, markup=False)
        for line in [*preview.refusals, *preview.lines]:
            console.print(f"  {line}", highlight=False, markup=False)


@app.command()
def template(xlsx: Xlsx, force: Force = False) -> None:
    """Write a blank plan workbook: one sheet per part of a plan, one example row on each."""
    from config.plan_workbook.write import template_workbook

    _write(xlsx, template_workbook(), force)
    console.print(f"已写出空白规划工作簿 {xlsx}：每张表第 2 行是示例（备注为“示例”，导入时跳过）。",
                  highlight=False, markup=False)


@app.command()
def export(plan: Annotated[str, typer.Argument(help="plan code")], xlsx: Xlsx,
           force: Force = False) -> None:
    """Write a plan from the database as a workbook that `duban plans import` reads back."""
    from config.plan_workbook.write import plan_workbook
    from models.store.plan_export import plan_file_of

    with context.session() as db:
        plan_file = plan_file_of(session=db, code=plan)
    if plan_file is None:
        fail(f"没有代码为 {plan!r} 的规划（duban plans list 列出全部规划）")
    _write(xlsx, plan_workbook(plan_file), force)
    console.print(f"已导出 {plan} 到 {xlsx}：{len(plan_file.projects)} 个项目，"
                  f"{sum(len(p.milestones) for p in plan_file.projects)} 个节点，"
                  f"{len(plan_file.indicators)} 项指标", highlight=False, markup=False)


def _write(path: Path, data: bytes, force: bool) -> None:
    """Write the workbook whole or not at all; a person's existing file is kept unless asked."""
    if path.suffix.lower() != ".xlsx":
        fail(f"{path}：工作簿的文件名应以 .xlsx 结尾", code=2)
    if path.exists() and not force:
        fail(f"{path} 已存在：换一个文件名，或加 --force 覆盖", code=2)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"无法写入 {path}：{exc.strerror}", code=2)


def describe_changes(counts: dict[str, int]) -> str:
    if not counts:
        return "无变化"
    parts = []
    for kind, n in sorted(counts.items()):
        subject, what = kind.split(".", 1)
        parts.append(f"{_KIND_WORDS.get(what, what)}{_SUBJECT_WORDS.get(subject, subject)} {n}")
    return "，".join(parts)


@app.command("list")
def list_(json: Json = False) -> None:
    """The plans in the database."""
    from models.store.plan_view import plan_summaries

    with context.session() as db:
        rows = plan_summaries(session=db)
    if json:
        emit_json(rows)
        return
    table("规划", [Code("代码"), "名称", Code("期间"), "项目", "节点", "指标"],
          [(r["code"], r["name"], r["period"], r["projects"], r["milestones"], r["indicators"])
           for r in rows])


@app.command()
def show(plan: Annotated[str, typer.Argument(help="plan code")], json: Json = False) -> None:
    """One plan with its projects, milestones and indicators."""
    from models.store.plan_view import plan_detail

    with context.session() as db:
        detail = plan_detail(session=db, code=plan)
    if detail is None:
        fail(f"没有代码为 {plan!r} 的规划（duban plans list 列出全部规划）")
    if json:
        emit_json(detail)
        return
    console.print(f"[bold]{detail['name']}[/]（{detail['code']}，{detail['period']}）\n"
                  f"发文：{detail['issuer']} {detail['document_number'] or ''}", highlight=False)
    table("重点项目与节点", [Code("节点编号"), Code("项目"), "名称", "责任单位", Code("到期"),
                             "目标", "属性"], (
        (m["id"], p["code"], p["name"] if i == 0 else "", p["unit"]["name"] if i == 0 else "",
         m["due_on"], _assumed(m), commitment_name(m["commitment"]))
        for p in detail["projects"] for i, m in enumerate(p["milestones"] or [None]) if m))
    table("主要指标", [Code("序号"), "指标", "单位", "基期", "目标", "属性"], (
        (i["code"], i["name"], i["measure"] or "",
         _baseline(i["baseline"]), "；".join(f"{t['year']}：{_cell(t)}" for t in i["targets"]),
         commitment_name(i["commitment"]))
        for i in detail["indicators"]))


def _assumed(milestone: dict[str, Any]) -> str:
    """A milestone's title, marked （推定） with the reason where the plan does not give it."""
    if milestone["assumption"]:
        return f"{milestone['title']}（推定：{milestone['assumption']}）"
    return str(milestone["title"])


def _cell(item: dict[str, Any]) -> str:
    if item["text"] is not None:
        return str(item["text"])
    value = item["value"]
    return "" if value is None else f"{value:g}"


def _baseline(baseline: dict[str, Any] | None) -> str:
    return "" if baseline is None else f"{baseline['year']}：{_cell(baseline)}"
