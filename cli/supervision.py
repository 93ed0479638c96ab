"""`duban status`, `duban sweep` and `duban deploy` (the actions on milestones: cli/actions.py)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from itertools import groupby
from typing import Annotated

import typer

from cli import context
from cli.output import Code, console, emit_json, errors, fail, shown_of, table

Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]
AsOf = Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD",
                                          help="evaluate at this day instead of today")]

STATE_WORDS = {"pending": "未到期", "due_soon": "临期", "overdue": "逾期", "claimed": "已申报完成",
               "closed": "已销号", "returned": "退回重办", "waived": "已豁免"}
LIGHT_WORDS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "blue": "蓝灯（待核实）"}
REASON_WORDS = {"due_soon": "临期提醒", "due_today": "今日到期", "overdue": "已逾期",
                "climbed": "逾期升级", "binding": "约束性提前升级", "major": "重大事项",
                "repeat": "再次催办", "catch_up": "越级补发（一并告知）",
                "receipt_overdue": "逾期未签收", "feedback_missed": "催报"}
PROVISIONAL_NOTE = "注：部分日期所在年份尚无官方节假日安排，按周一至周五推算，属暂定。"
ASSUMED = "（推定）"


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_day(value: str | None, option: str) -> date | None:
    """A day written YYYY-MM-DD, and only so: Python's ISO parser would also take 20190101 or
    2019-W01-2, which the help does not promise and a clerk would not recognise."""
    if value is None:
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date: expected YYYY-MM-DD, e.g. 2026-11-30", code=2)


def _clock(as_of: str | None) -> datetime:
    day = parse_day(as_of, "--as-of")
    return context.runtime().at(day)


def status(plan: Annotated[str | None, typer.Option(help="plan code")] = None,
           unit: Annotated[str | None, typer.Option(help="unit code")] = None,
           as_of: AsOf = None, json: Json = False) -> None:
    """The lights of every milestone (computed at --as-of, default today); changes nothing."""
    from cli.known import require_plan, require_unit
    from models.store.set_aside import set_aside_milestones
    from models.store.status_view import milestone_lights

    now = _clock(as_of)
    with context.session() as db:
        require_plan(db, plan)
        require_unit(db, unit)
        rows = milestone_lights(session=db, rules=context.rules(), now=now, plan=plan, unit=unit)
        aside = set_aside_milestones(session=db)
    if json:
        emit_json({"as_of": context.rules().today(now), "milestones": rows,
                   "provisional": any(r["provisional"] for r in rows), "set_aside": aside})
        return
    counts = {light: sum(r["light"] == light for r in rows) for light in LIGHT_WORDS}
    # A table per plan, titled with its code: a column repeating it would take the width the
    # milestones' text needs.
    for plan_code, in_plan in groupby(rows, key=lambda r: r["plan"]):
        table(f"督办状态（{context.rules().today(now)}）：{plan_code}",
              [Code("节点编号"), Code("项目"), "节点", "责任单位", Code("到期"), "状态", "灯",
               "逾期工作日", "级别"],
              ((r["milestone_id"], r["project"], r["title"] + (ASSUMED if r["assumption"] else ""),
                r["unit"], r["due_on"],
                STATE_WORDS[r["state"]] + ("·超时" if r["late"] else ""),
                LIGHT_WORDS[r["light"]], r["overdue_workdays"] or "", r["level"] or "")
               for r in in_plan))
    if not rows:
        console.print("没有节点。", highlight=False)
    console.print("，".join(f"{LIGHT_WORDS[k]} {v}" for k, v in counts.items()), highlight=False)
    if any(r["provisional"] for r in rows):
        console.print(PROVISIONAL_NOTE, highlight=False)
    _print_assumptions([r["assumption"] for r in rows if r["assumption"]])
    if aside:
        _print_set_aside(len(aside), [(a["milestone_id"], f"{a['error']}: {a['message']}")
                                      for a in aside])


def _print_assumptions(reasons: list[str]) -> None:
    """Why the milestones marked （推定） were assumed: the plan gives not their date or text."""
    for reason, count in Counter(reasons).items():
        console.print(f"注：标{ASSUMED}的 {count} 个节点，规划未给出其日期或内容：{reason}",
                      highlight=False, markup=False)


def _print_set_aside(count: int, items: list[tuple[int, str]]) -> None:
    """Items the sweep could not evaluate: the office must see them, or they rot unseen."""
    console.print(f"搁置 {count} 个节点（评估出错，下个工作日再试）："
                  + "，".join(f"#{i}" for i, _ in items), style="bold red", highlight=False)
    for milestone_id, error in items:
        console.print(f"  #{milestone_id} {error}", highlight=False, markup=False)


def sweep(as_of: AsOf = None, dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="show what would change and be sent; keep nothing")] = False,
        detail: Annotated[int, typer.Option(min=0, help="list at most this many changes and "
                                                        "steps (0: all)")] = 200,
        all_: Annotated[bool, typer.Option("--all", help="list every change and step")] = False,
        json: Json = False) -> None:
    """Run one sweep now: update lights, climb the ladder, queue notices."""
    from flows.sweep import run_sweep

    now = _clock(as_of)
    context.require_database()
    report = run_sweep(engine=context.engine(), rules=context.rules(), now=now,
                       clock=context.runtime().clock, dry_run=dry_run,
                       detail_limit=None if all_ else detail or None)
    if json:
        emit_json(report.as_dict())
        shown_of(len(report.changes), report.changed, "个状态变化", to=errors)
        shown_of(len(report.escalations), report.escalated, "次升级", to=errors)
        return
    title = f"巡检 {report.as_of}" + ("（预演，未保存任何变化）" if dry_run else "")
    table(title + f"：检查 {report.evaluated} 个节点，{report.changed} 个状态变化",
          [Code("节点编号"), Code("规划"), Code("项目"), "节点", "变化", Code("到期")],
          ((c["milestone_id"], c["plan"], c["project"], c["title"],
            f"{STATE_WORDS[c['from']]} → {STATE_WORDS[c['to']]}", c["due_on"])
           for c in report.changes))
    shown_of(len(report.changes), report.changed, "个状态变化")
    table(f"督办升级 {report.escalated} 次",
          [Code("节点编号"), Code("规划"), Code("项目"), "节点", "级别", "次数", "原因",
           "收件人数"],
          ((e["milestone_id"], e["plan"], e["project"], e["title"], e["level"], e["repeat"] + 1,
            REASON_WORDS[e["reason"]], e["recipients"]) for e in report.escalations))
    shown_of(len(report.escalations), report.escalated, "次升级")
    console.print(f"待发送通知 {report.notifications} 条", highlight=False)
    if report.provisional:
        console.print(PROVISIONAL_NOTE, highlight=False)
    if report.set_aside_count:
        _print_set_aside(report.set_aside_count,
                         [(s["milestone_id"], s["error"]) for s in report.set_aside])


def deploy(pool: Annotated[str, typer.Option(help="Prefect work pool (type process)")] = "duban",
           ) -> None:
    """Register the sweep, the one-project sweep, outbox delivery and weekly bulletin as
    Prefect deployments on PREFECT_API_URL's server (scale-out)."""
    import os

    if not os.environ.get("PREFECT_API_URL"):
        fail("PREFECT_API_URL is not set: point it at the Prefect server, e.g. "
             "http://prefect.example:4200/api (see README, scale-out)", code=2)
    from flows.deploy import deploy as register

    timezone = context.settings().timezone
    schedule = context.rules().policies.default.schedule
    for deployed in register(pool=pool, cron=schedule.sweep, timezone=timezone,
                             bulletin_cron=schedule.bulletin):
        when = (f"计划 {deployed.schedule}（{timezone}）" if deployed.schedule
                else "无计划，在 Prefect 界面或 prefect deployment run 中按需运行")
        console.print(f"已部署 {deployed.name}（{deployed.id}）到工作池 {pool}，{when}",
                      highlight=False)
