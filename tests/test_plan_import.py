"""Importing plan files: complete, idempotent, logged, and never destroying history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from config.plan_loader import LoadedPlan, load_plan_file, parse_plan_text
from models import Event, Indicator, IndicatorReading, IndicatorTarget, Milestone, Plan, Project
from models.store.events import record
from models.store.plan_import import ImportRefused, import_plan
from models.tables.escalation import EscalationStep
from models.tables.indicator import ReadingSource
from models.tables.light_change import LightChange
from tests.conftest import NOW, SEED_PLANS, snapshot

DEMO = """\
plan:
  code: demo-2021-2025
  name: 示例区民政事业发展“十四五”规划
  issuer: 示例区民政局
  period: 2021-2025
units:
  - code: demo-mzj
    name: 示例区民政局
    kind: bureau
  - code: demo-jd
    name: 示例区示例街道
    kind: subdistrict
projects:
  - code: "1"
    name: 区社会福利中心二期工程
    unit: demo-mzj
    beds: 300
    milestones:
      - year: 2021
        target: 完成立项
      - year: 2022
        target: 开工建设
      - year: 2023
        target: 建成运营
  - code: "2"
    name: 邻里中心
    unit: demo-jd
    milestones:
      - year: 2025
        target: 完成项目建设
indicators:
  - code: "1"
    name: 每百名老人机构养老床位数
    measure: 张
    baseline: {year: 2020, value: 4.22}
    targets: {2021: 4.25, 2025: "25 以上"}
    commitment: binding
"""


def demo(text: str = DEMO) -> LoadedPlan:
    return LoadedPlan("demo.yaml", parse_plan_text(text, "demo.yaml"), "")


def run_import(session: Session, loaded: LoadedPlan, **kwargs: object) -> dict[str, int]:
    outcome = import_plan(session=session, loaded=loaded, actor="test", now=NOW, **kwargs)
    session.commit()
    return dict(outcome.counts)


def milestone(session: Session, title: str) -> Milestone:
    return session.exec(select(Milestone).where(Milestone.title == title)).one()


def test_all_seed_plans_load_completely(session: Session) -> None:
    files = [load_plan_file(path) for path in SEED_PLANS]
    for loaded in files:
        run_import(session, loaded)
    for loaded in files:
        plan = session.exec(select(Plan).where(Plan.code == loaded.content.plan.code)).one()
        projects = session.exec(select(Project).where(Project.plan_id == plan.id)).all()
        assert len(projects) == len(loaded.content.projects)
        milestones = session.exec(select(Milestone).join(Project)
                                  .where(Project.plan_id == plan.id)).all()
        assert len(milestones) == sum(len(p.milestones) for p in loaded.content.projects)
        targets = session.exec(select(IndicatorTarget).join(Indicator)
                               .where(Indicator.plan_id == plan.id)).all()
        assert len(targets) == sum(len(i.targets) for i in loaded.content.indicators)
    # Spot checks against the documents (000 附件1 row 19; 001 附件1 row 4).
    row19 = session.exec(select(Indicator).where(Indicator.name == "每万人拥有社会组织数量")).one()
    by_year = {t.year: t for t in session.exec(
        select(IndicatorTarget).where(IndicatorTarget.indicator_id == row19.id))}
    assert (row19.baseline_year, row19.baseline_value, row19.commitment) == (2015, 22, "binding")
    assert (by_year[2018].value, by_year[2018].qualifier, by_year[2018].text) == \
        (25, "at_least", "25 以上")
    assert (by_year[2020].value, by_year[2020].text) == (28, None)
    jianqiao = session.exec(select(Project).where(
        Project.name == "笕桥单元 JG0604-A6-07 地块养老服务中心")).one()
    assert (jianqiao.floor_area_m2, jianqiao.investment_wan_yuan) == (21400, 15080)


def test_importing_the_same_file_twice_changes_nothing(engine: sa.Engine, session: Session) -> None:
    loaded = load_plan_file(SEED_PLANS[0])
    assert run_import(session, loaded)["plan.created"] == 1
    before = snapshot(engine)
    assert run_import(session, loaded) == {}
    assert snapshot(engine) == before


def test_an_edited_file_updates_in_place_and_logs_each_change(session: Session) -> None:
    run_import(session, demo())
    started = milestone(session, "开工建设")
    edited = (DEMO.replace("target: 开工建设", "target: 主体工程开工建设")
                  .replace("2021: 4.25", "2021: 4.3")
                  .replace("      - year: 2021\n        target: 完成立项\n", "")
                  .replace("    beds: 300\n", "    beds: 320\n"))
    counts = run_import(session, demo(edited))
    assert counts == {"milestone.updated": 1, "milestone.removed": 1, "project.updated": 1,
                      "indicator.updated": 1}
    assert milestone(session, "主体工程开工建设").id == started.id
    events = {e.kind: e for e in session.exec(select(Event).where(Event.at == NOW))}
    assert events["milestone.updated"].data["changes"]["title"] == ["开工建设", "主体工程开工建设"]
    assert events["project.updated"].data["changes"]["beds"] == [300, 320]
    assert events["indicator.updated"].data["changes"]["targets"] == {"2021": [4.25, 4.3]}
    assert events["milestone.removed"].data["values"]["title"] == "完成立项"
    assert all(e.actor == "test" and e.reason == "导入规划文件 demo.yaml" for e in events.values())


def test_a_milestone_with_progress_is_never_silently_deleted(engine: sa.Engine,
                                                            session: Session) -> None:
    run_import(session, demo())
    built = milestone(session, "建成运营")
    record(session, "milestone.progress_reported", at=NOW, actor="owner@example.gov.cn",
           milestone_id=built.id, data={"percent": 40})
    session.commit()
    before = snapshot(engine)
    without = DEMO.replace("      - year: 2023\n        target: 建成运营\n", "")

    with pytest.raises(ImportRefused) as refused:
        run_import(session, demo(without))
    session.rollback()
    assert "demo-2021-2025 project 1 milestone 2023-12-31 (建成运营)" in str(refused.value)
    assert snapshot(engine) == before

    assert run_import(session, demo(without), retire=True) == {"milestone.retired": 1}
    session.refresh(built)
    assert built.retired_at is not None
    assert run_import(session, demo()) == {"milestone.restored": 1}
    session.refresh(built)
    assert built.retired_at is None


def test_a_milestone_the_sweep_has_lit_and_chased_is_retired_not_deleted(
        engine: sa.Engine, session: Session) -> None:
    """What the sweep records without an event (its light changes, its ladder steps and the
    notices they sent) is history too: dropping the milestone from the plan retires it."""
    from flows.sweep import run_sweep
    from services.runtime import system_clock
    from tests.world import RULES

    run_import(session, demo())
    built = milestone(session, "建成运营")
    run_sweep(engine=engine, rules=RULES, now=RULES.as_of(date(2024, 3, 1)), clock=system_clock)
    session.commit()  # end the read snapshot taken before the sweep
    with Session(engine) as fresh:
        lit = fresh.exec(select(LightChange).where(LightChange.milestone_id == built.id)).all()
        chased = fresh.exec(select(EscalationStep).where(
            EscalationStep.milestone_id == built.id)).all()
        events = fresh.exec(select(Event.kind).where(Event.milestone_id == built.id)).all()
    assert lit and chased and set(events) <= {"milestone.created"}
    without = DEMO.replace("      - year: 2023\n        target: 建成运营\n", "")
    with pytest.raises(ImportRefused, match="建成运营"):
        run_import(session, demo(without))
    session.rollback()
    assert run_import(session, demo(without), retire=True) == {"milestone.retired": 1}


def test_a_project_goes_only_with_milestones_that_have_no_history(session: Session) -> None:
    run_import(session, demo())
    record(session, "milestone.done_claimed", at=NOW, actor="owner@example.gov.cn",
           milestone_id=milestone(session, "完成项目建设").id, data={"evidence": "验收报告"})
    session.commit()
    without_project_2 = DEMO[:DEMO.index('  - code: "2"')] + DEMO[DEMO.index("indicators:"):]
    with pytest.raises(ImportRefused, match=r"project 2 \(邻里中心\)"):
        run_import(session, demo(without_project_2))


def test_an_indicator_with_reported_readings_is_kept(session: Session) -> None:
    run_import(session, demo())
    indicator = session.exec(select(Indicator)).one()
    session.add(IndicatorReading(indicator_id=indicator.id, as_of=date(2021, 6, 30), value=4.24,
                                 source=ReadingSource.report))
    session.commit()
    with pytest.raises(ImportRefused, match=r"indicator 1 \(每百名老人机构养老床位数\)"):
        run_import(session, demo(DEMO[:DEMO.index("indicators:")]))


def test_a_unit_name_taken_by_another_code_is_refused(session: Session) -> None:
    run_import(session, demo())
    other = DEMO.replace("code: demo-2021-2025", "code: other-2021-2025").replace(
        "demo-jd", "other-jd")
    with pytest.raises(ImportRefused, match="name 示例区示例街道 already belongs to unit demo-jd"):
        run_import(session, demo(other))


def test_the_event_log_refuses_updates_and_deletes(engine: sa.Engine, session: Session) -> None:
    run_import(session, demo())
    for statement in ("UPDATE event SET actor = 'someone else'", "DELETE FROM event"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.exec_driver_sql(statement)
    assert session.exec(select(Event)).first() is not None


def test_seed_documents_are_named_in_each_plan(seed_documents: Path) -> None:
    for path in SEED_PLANS:
        source = load_plan_file(path).content.plan.source
        assert source and (seed_documents / source).exists()


def test_a_plan_import_leaves_the_planner_fresh_statistics(duban, database_url: str) -> None:
    """Autovacuum may be off: without statistics PostgreSQL plans the sweep's batches for
    empty tables (issue 13)."""
    assert duban("init").exit_code == 0
    assert duban("plans", "import", "config/plans/xihu-2016-2020.yaml").exit_code == 0
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        analysed = connection.exec_driver_sql(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'milestone'"
            if engine.dialect.name == "postgresql" else
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'milestone'").scalar()
    engine.dispose()
    assert analysed is not None


def joined_form(loaded: LoadedPlan) -> LoadedPlan:
    """002 as its seed file read before each target became a milestone of its own: one milestone
    a project and year joining that year's targets ("名称：值；…"), then the dated goals."""
    projects = []
    for project in loaded.content.projects:
        milestones = []
        for year in sorted({m.due_on.year for m in project.milestones}):
            of_year = [m for m in project.milestones if m.due_on.year == year]
            targets = [m for m in of_year if "：" in m.target]
            if targets:
                milestones.append(targets[0].model_copy(
                    update={"target": "；".join(m.target for m in targets)}))
            milestones += [m for m in of_year if "：" not in m.target]
        projects.append(project.model_copy(update={"milestones": milestones}))
    return LoadedPlan(loaded.source, loaded.content.model_copy(update={"projects": projects}), "")


def test_split_targets_import_over_the_joined_milestones_keeping_their_history(
        session: Session) -> None:
    """Over a database of the earlier seed: the first target takes the joined milestone's place
    and its history, a dated goal keeps its own, the other targets are new; each change is
    logged, and the 预期性 the earlier import assumed becomes 未标注."""
    split = load_plan_file(next(p for p in SEED_PLANS if p.stem == "xiaoshan-2022-2025"))
    run_import(session, joined_form(split))
    session.exec(sa.update(Milestone).values(commitment="expected"))  # the earlier importer's
    joined = session.exec(select(Milestone).join(Project).where(
        Project.code == "2", Milestone.key == "2022-12-31")).one()
    goal = session.exec(select(Milestone).join(Project).where(
        Project.code == "2", Milestone.key == "2025-12-31/2")).one()
    for item in (joined, goal):
        record(session, "milestone.progress_reported", at=NOW, actor="owner@example.gov.cn",
               milestone_id=item.id, data={"percent": 40})
    session.commit()
    was_joined, goal_title, before = joined.title, goal.title, len(session.exec(
        select(Milestone)).all())

    counts = run_import(session, split)
    total = sum(len(p.milestones) for p in split.content.projects)
    assert counts == {"milestone.created": total - before, "milestone.updated": before}
    session.refresh(joined)
    session.refresh(goal)
    assert (joined.title, joined.commitment) == ("每万老年人拥有持证养老护理员数：23人", None)
    assert (goal.title, goal.commitment) == (goal_title, None)
    changes = {e.milestone_id: e.data["changes"] for e in session.exec(
        select(Event).where(Event.kind == "milestone.updated"))}
    assert changes[joined.id] == {"title": [was_joined, joined.title],
                                  "commitment": ["expected", None]}
    assert changes[goal.id] == {"commitment": ["expected", None]}


def test_an_assumed_milestone_is_stored_with_its_reason_and_a_change_of_it_logged(
        session: Session) -> None:
    assumed = DEMO.replace("        target: 完成项目建设\n", "        target: 完成项目建设\n"
                           "        assumption: 清单未给出完成日期，按规划期末推定\n")
    run_import(session, demo())
    assert run_import(session, demo(assumed)) == {"milestone.updated": 1}
    item = milestone(session, "完成项目建设")
    assert item.assumption == "清单未给出完成日期，按规划期末推定"
    event = session.exec(select(Event).where(Event.kind == "milestone.updated")).one()
    assert event.data["changes"] == {"assumption": [None, "清单未给出完成日期，按规划期末推定"]}
    assert milestone(session, "开工建设").assumption is None


def test_a_milestone_the_plan_gives_no_attribute_stays_unmarked(session: Session) -> None:
    binding = DEMO.replace("    beds: 300\n", "    beds: 300\n    commitment: binding\n")
    run_import(session, demo(binding))
    assert milestone(session, "开工建设").commitment == "binding"  # its project's
    assert milestone(session, "完成项目建设").commitment is None    # 未标注, not 预期性


def test_a_number_in_another_unit_than_its_indicator_is_refused(engine: sa.Engine,
                                                                 session: Session) -> None:
    before = snapshot(engine)
    with pytest.raises(ImportRefused) as refused:
        run_import(session, demo(DEMO.replace('2025: "25 以上"', '2025: "25%"')))
    session.rollback()
    assert str(refused.value) == ("demo-2021-2025 指标 1 的目标值 2025：'25%' 的单位是%，"
                                  "与指标的计量单位张不符")
    assert snapshot(engine) == before


def test_an_indicator_without_a_measure_takes_the_unit_its_cells_print(
        session: Session) -> None:
    per_mille = DEMO.replace("    measure: 张\n    baseline: {year: 2020, value: 4.22}\n"
                             "    targets: {2021: 4.25, 2025: \"25 以上\"}",
                             "    baseline: {year: 2020, value: \"0.46‰\"}\n"
                             "    targets: {2025: \"0.8‰\"}")
    run_import(session, demo(per_mille))
    indicator = session.exec(select(Indicator)).one()
    target = session.exec(select(IndicatorTarget)).one()
    assert (indicator.measure, indicator.baseline_value, target.value) == ("‰", 0.46, 0.8)
