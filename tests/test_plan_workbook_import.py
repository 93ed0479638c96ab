"""Plans out of the database as workbooks and back in: unchanged, all or nothing, previewed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, select

from config.plan_loader import LoadedPlan, load_plan_file
from config.plan_workbook.read import load_plan_workbook
from config.plan_workbook.write import plan_workbook
from models.rules.plan_stored import stored_form
from models.store.events import record
from models.store.plan_export import plan_file_of
from models.store.plan_import import import_plan
from models.store.plan_preview import preview_imports
from models.tables.unit import Unit
from tests.conftest import NOW, SEED_PLANS, Duban, snapshot
from tests.test_plan_import import DEMO, demo, milestone, run_import


@pytest.mark.parametrize("path", SEED_PLANS, ids=lambda p: p.stem)
def test_each_seed_plan_exported_and_imported_again_changes_nothing(
        path: Path, engine: sa.Engine, session: Session, tmp_path: Path) -> None:
    loaded = load_plan_file(path)
    run_import(session, loaded)
    exported = plan_file_of(session=session, code=loaded.content.plan.code)
    assert exported == stored_form(loaded.content)
    workbook = tmp_path / "plan.xlsx"
    workbook.write_bytes(plan_workbook(exported))
    again = load_plan_workbook(workbook)
    assert again.content == exported
    before = snapshot(engine)
    assert run_import(session, again) == {}
    assert snapshot(engine) == before


def test_a_workbook_with_three_mistakes_is_refused_whole_and_names_each(
        duban: Duban, database_url: str, tmp_path: Path) -> None:
    xihu = next(p for p in SEED_PLANS if p.stem == "xihu-2016-2020")
    duban("plans", "import", str(xihu))
    workbook = tmp_path / "xihu.xlsx"
    assert duban("plans", "export", "xihu-2016-2020", "--xlsx", str(workbook)).exit_code == 0
    book = load_workbook(workbook)
    book["节点"]["B2"], book["节点"]["C2"] = None, "2017/2/30"  # no such day
    book["项目"]["D3"] = "xihu-nowhere"
    book["节点"]["D4"] = None
    book["指标年度值"]["C2"] = 4.3  # a good change, which must not be applied either
    book.save(workbook)
    engine = sa.create_engine(database_url)
    before = snapshot(engine)
    result = duban("plans", "import", str(workbook))
    assert result.exit_code == 2
    located = [line for line in result.output.splitlines() if line.startswith(str(workbook))]
    assert located == [
        f"{workbook} 工作表「项目」 第 3 行 D 列（责任单位代码）："
        "代码 xihu-nowhere 不在「单位」表中：先在「单位」表中列出",
        f"{workbook} 工作表「节点」 第 2 行 C 列（到期日）："
        "应为日期，如 2018-06-30（填的是 “2017/2/30”）",
        f"{workbook} 工作表「节点」 第 4 行 D 列（节点目标）：必填：请填写“节点目标”",
    ]
    assert "数据库未作任何改动" in result.output
    assert snapshot(engine) == before
    engine.dispose()


def test_a_dry_run_shows_moved_targets_old_to_new_and_changes_nothing(
        duban: Duban, database_url: str, tmp_path: Path) -> None:
    xihu = next(p for p in SEED_PLANS if p.stem == "xihu-2016-2020")
    duban("plans", "import", str(xihu))
    workbook = tmp_path / "中期评估.xlsx"
    duban("plans", "export", "xihu-2016-2020", "--xlsx", str(workbook))
    book = load_workbook(workbook)
    targets = book["指标年度值"]
    assert [c.value for c in targets[2][:3]] == ["1", 2016, 4.25]
    targets["C2"] = 4.3
    targets["C3"] = "4.4 以上"
    book["节点"].delete_rows(3)
    book.save(workbook)
    engine = sa.create_engine(database_url)
    before = snapshot(engine)
    result = duban("plans", "import", "--dry-run", str(workbook), str(xihu))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{workbook} → xihu-2016-2020（试导入，数据库未改动）：2 处变化"
    assert "  更改 指标 1（每百名老人机构养老床位数），目标值 2016：4.25 → 4.3；" \
           "目标值 2017：4.3 → 4.4 以上" in lines
    assert any(line.startswith("  删除 项目 1 节点 2017-12-31") for line in lines)
    # the second file, previewed after the first: the seed file puts both back
    assert f"{xihu} → xihu-2016-2020（试导入，数据库未改动）：2 处变化" in lines
    assert snapshot(engine) == before
    assert duban("plans", "import", str(workbook)).exit_code == 0
    assert "无变化" in duban("plans", "import", "--dry-run", str(workbook)).output
    engine.dispose()


def test_a_preview_of_a_refused_import_shows_the_refusal(engine: sa.Engine,
                                                         session: Session) -> None:
    run_import(session, demo())
    started = milestone(session, "开工建设")
    record(session, "milestone.progress_reported", at=NOW, actor="owner", reason="已招标",
           milestone_id=started.id)
    session.commit()
    without = demo().content.model_copy(update={"projects": [
        p.model_copy(update={"milestones": p.milestones[:1]}) if p.code == "1" else p
        for p in demo().content.projects]})
    before = snapshot(engine)
    (preview,) = preview_imports(session=session, loaded=[LoadedPlan("demo.xlsx", without, "")],
                                 actor="test", now=NOW)
    assert preview.refusals and "has history" in preview.refusals[0]
    assert snapshot(engine) == before


def test_export_and_template_keep_a_persons_existing_file(duban: Duban, tmp_path: Path) -> None:
    mine = tmp_path / "mine.xlsx"
    mine.write_bytes(b"my own numbers")
    result = duban("plans", "template", "--xlsx", str(mine))
    assert result.exit_code == 2 and "已存在" in result.output
    assert mine.read_bytes() == b"my own numbers"
    assert duban("plans", "template", "--xlsx", str(mine), "--force").exit_code == 0
    assert load_workbook(io.BytesIO(mine.read_bytes())).sheetnames[0] == "规划"
    assert "没有代码为" in duban("plans", "export", "nowhere", "--xlsx",
                                 str(tmp_path / "x.xlsx")).output


def test_an_edited_workbook_updates_the_plan_like_an_edited_yaml_file(session: Session,
                                                                      tmp_path: Path) -> None:
    run_import(session, demo())
    exported = plan_file_of(session=session, code="demo-2021-2025")
    assert exported is not None
    book = load_workbook(io.BytesIO(plan_workbook(exported)))
    book["项目"]["H2"] = 320  # 床位（张）
    path = tmp_path / "demo.xlsx"
    book.save(path)
    outcome = import_plan(session=session, loaded=load_plan_workbook(path), actor="test", now=NOW)
    assert dict(outcome.counts) == {"project.updated": 1}
    assert outcome.changes[0].data == {"changes": {"beds": [300, 320]}}


def test_a_dry_run_of_an_import_that_would_be_refused_says_so_and_fails(
        duban: Duban, database_url: str, tmp_path: Path) -> None:
    plan = tmp_path / "demo.yaml"
    plan.write_text(DEMO, encoding="utf-8")
    duban("plans", "import", str(plan))
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        record(session, "milestone.progress_reported", at=NOW, actor="owner", reason="已招标",
               milestone_id=milestone(session, "完成立项").id)
        session.commit()
    plan.write_text(DEMO.replace("      - year: 2021\n        target: 完成立项\n", ""),
                    encoding="utf-8")
    before = snapshot(engine)
    result = duban("plans", "import", "--dry-run", str(plan))
    assert result.exit_code == 2
    assert f"{plan} → demo-2021-2025（试导入，数据库未改动）：将被拒绝" in result.output
    assert snapshot(engine) == before
    engine.dispose()


def test_a_unit_contact_the_office_set_is_exported_and_imported_again_unchanged(
        engine: sa.Engine, session: Session, tmp_path: Path) -> None:
    run_import(session, demo())
    unit = session.exec(select(Unit).where(Unit.code == "demo-jd")).one()
    unit.contact_name, unit.contact_email, unit.contact_placeholder = \
        "王芳", "wang.fang@example.gov.cn", False
    session.add(unit)
    session.commit()
    exported = plan_file_of(session=session, code="demo-2021-2025")
    assert exported is not None
    assert [(u.code, u.contact.email if u.contact else None) for u in exported.units] == [
        ("demo-mzj", None), ("demo-jd", "wang.fang@example.gov.cn")]
    path = tmp_path / "demo.xlsx"
    path.write_bytes(plan_workbook(exported))
    before = snapshot(engine)
    assert run_import(session, load_plan_workbook(path)) == {}
    assert snapshot(engine) == before
