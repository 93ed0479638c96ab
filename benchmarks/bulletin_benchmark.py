"""Bulletin benchmark: a nation-scale plan (3,000 units), every unit's bulletin, figures printed.

    .venv/bin/python -m benchmarks.bulletin_benchmark [--units 3000] [--backend postgres]

A synthetic plan (units × 2 projects × 10 milestones due through 2026, 20 % binding) with a
history: about half of what fell due was claimed, some late, some closed. At the week of
16–22 November 2026 it measures, in one process:
- the yardstick: a raw SQL query reading the same milestones and their events (what any
  bulletin must at least read);
- the figures: the history loaded and every unit's figures and place computed;
- the outputs of the plan-wide bulletin: chart, HTML, workbook and PDF;
- every unit's own bulletin: its HTML, text and the email built around them (as sending does);
- peak memory (max RSS) of the process.
Target: all 3,000 unit bulletins in under 60 s. Timings are wall-clock on a shared machine.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from benchmarks.sweep_benchmark import _database
from benchmarks.synthetic import populate
from config.settings import Settings
from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import compute
from models.rules.bulletin.periods import Period, PeriodKind, period_end
from models.rules.rulebook import load_rules
from models.store.bulletin_history import load_history
from models.store.database import bulk_insert, make_engine, migrate
from models.tables.event import Event
from models.tables.milestone import Milestone
from models.tables.plan import Project
from notifications.bulletin.chart import progress_chart
from notifications.bulletin.page import bulletin_email, bulletin_html
from notifications.bulletin.pdf import bulletin_pdf
from notifications.bulletin.workbook import bulletin_workbook
from notifications.email_message import build_email

WEEK = Period(PeriodKind.week, date(2026, 11, 16), date(2026, 11, 22))


def history(engine: sa.Engine, seed: int = 1) -> int:
    """Claims (some late), closes and a few extensions for what fell due before the week."""
    rng = random.Random(seed)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(
            Milestone.id, Milestone.due_on, Milestone.unit_id, Project.id, Project.plan_id)
            .join(Project, Project.id == Milestone.project_id)).all()
    events = []
    for milestone_id, due, unit_id, project_id, plan_id in rows:
        if due > WEEK.last or rng.random() > 0.6:
            continue
        claimed = due + timedelta(days=rng.choice([-10, -3, -1, 0, 2, 9]))
        ids = {"milestone_id": milestone_id, "unit_id": unit_id, "project_id": project_id,
               "plan_id": plan_id, "actor": "bench", "actor_id": None, "reason": None}
        at = datetime.combine(claimed, datetime.min.time(), UTC) + timedelta(hours=2)
        events.append({**ids, "at": at, "kind": "milestone.done_claimed",
                       "data": {"evidence": "已完成"}})
        if rng.random() < 0.5:
            events.append({**ids, "at": at + timedelta(days=2), "kind": "milestone.closed",
                           "data": {}})
    with Session(engine) as session:
        bulk_insert(session, Event.__table__, events)  # type: ignore[attr-defined]
        session.commit()
    return len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    args = parser.parse_args()
    settings = Settings(smtp_host="")
    rules = load_rules(settings.zone)
    with _database(args.backend) as url:
        engine = make_engine(url)
        migrate(engine)
        milestones = populate(engine, units=args.units, projects_per_unit=2,
                              milestones_per_project=10, first_due=date(2026, 1, 5),
                              last_due=date(2026, 12, 31), code="nation")
        with engine.begin() as connection:  # loaded before the plan year, as plans are
            connection.execute(sa.update(Milestone).values(
                created_at=datetime(2025, 12, 1, tzinfo=UTC)))
        events = history(engine)
        started = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(sa.text(
                "SELECT m.id, m.planned_due_on, m.unit_id, e.kind, e.at, e.data FROM milestone m "
                "LEFT JOIN event e ON e.milestone_id = m.id")).all()
        yardstick = time.perf_counter() - started

        started = time.perf_counter()
        with Session(engine) as session:
            loaded = load_history(session=session, rules=rules, plan="nation",
                                  until=period_end(WEEK, rules))
        figures = compute(loaded, WEEK, rules, Edition.public)
        figures_time = time.perf_counter() - started

        started = time.perf_counter()
        chart = progress_chart(figures)
        bulletin_html(figures, chart_src="cid:bulletin-chart", link=None)
        bulletin_workbook(figures)
        bulletin_pdf(figures, chart_png=chart)
        plan_wide = time.perf_counter() - started

        started = time.perf_counter()
        for unit in figures.units:
            rendered = bulletin_email(figures.for_unit(unit.unit_code),
                                      chart_src="cid:bulletin-chart", link=None)
            build_email(rendered=rendered, sender_name="督办", sender_address="duban@bench.example",
                        to_name=unit.unit_name, to_address="unit@bench.example",
                        message_id="<bench@bench.example>", date=datetime.now(UTC),
                        images={"bulletin-chart": chart}).as_bytes()
        units_time = time.perf_counter() - started
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = figures_time + plan_wide + units_time
    print(f"Bulletin benchmark ({args.backend}; {args.units} units, {milestones} milestones, "
          f"{events} events; week {WEEK.first}–{WEEK.last})")
    print(f"  yardstick: raw query of milestones and events   {yardstick:7.2f} s")
    print(f"  figures: history loaded, every unit computed     {figures_time:7.2f} s "
          f"= {figures_time / yardstick:.1f}× the yardstick")
    print(f"  plan-wide outputs: chart, HTML, XLSX, PDF        {plan_wide:7.2f} s")
    print(f"  {len(figures.units)} unit bulletins: HTML, text, email    {units_time:7.2f} s "
          f"({units_time / len(figures.units) * 1000:.1f} ms each)")
    print(f"  all together                                     {total:7.2f} s "
          f"(target < 60 s: {'met' if total < 60 else 'MISSED'})")
    print(f"  peak RSS                                         {peak:7.0f} MB")


if __name__ == "__main__":
    main()
