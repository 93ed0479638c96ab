"""`duban plans …`: validate, import, list and show plan files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli import context
from cli.output import Code, console, emit_json, errors, fail, table

if TYPE_CHECKING:
    from config.plan_loader import LoadedPlan
    from models.store.plan_import import ImportOutcome

app = typer.Typer(no_args_is_help=True)

Files = Annotated[list[Path], typer.Argument(help="plan files (YAML)", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]

_KIND_WORDS = {"created": "新增", "updated": "更新", "removed": "删除", "retired": "停用",
               "restored": "恢复"}
_SUBJECT_WORDS = {"plan": "规划", "unit": "单位", "project": "项目", "milestone": "节点",
                  "indicator": "指标"}


def _load_all(files: list[Path]) -> list[LoadedPlan]:
    from config.plan_loader import PlanFileInvalid, load_plan_file

    loaded, bad = [], 0
    for path in files:
        try:
            loaded.append(load_plan_file(path))
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
    return outcomes


@app.command("import")
def import_(files: Files, retire: Annotated[bool, typer.Option(
        "--retire", help="keep items dropped from the file but with history, as retired")] = False,
        json: Json = False) -> None:
    """Import plan files; an edited file updates its plan and logs each change."""
    outcomes = import_files(files, retire=retire)
    if json:
        emit_json([{"plan": o.plan_code, "file": o.source, "changes": dict(o.counts)}
                   for o in outcomes])
        return
    for outcome in outcomes:
        console.print(f"{outcome.source} → {outcome.plan_code}：{describe_changes(outcome.counts)}",
                      highlight=False)


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
         m["due_on"], m["title"], "约束性" if m["commitment"] == "binding" else "预期性")
        for p in detail["projects"] for i, m in enumerate(p["milestones"] or [None]) if m))
    table("主要指标", [Code("序号"), "指标", "单位", "基期", "目标", "属性"], (
        (i["code"], i["name"], i["measure"] or "",
         _baseline(i["baseline"]), "；".join(f"{t['year']}：{_cell(t)}" for t in i["targets"]),
         {"binding": "约束性", "expected": "预期性"}.get(i["commitment"] or "", ""))
        for i in detail["indicators"]))


def _cell(item: dict[str, Any]) -> str:
    if item["text"] is not None:
        return str(item["text"])
    value = item["value"]
    return "" if value is None else f"{value:g}"


def _baseline(baseline: dict[str, Any] | None) -> str:
    return "" if baseline is None else f"{baseline['year']}：{_cell(baseline)}"
