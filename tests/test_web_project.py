"""A key project's page: its facts, its milestones on a time axis where each approved extension
is a visible slip, its indicators against their targets, and who may see it."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session

from config.plan_loader import LoadedPlan, parse_plan_text
from models.store.database import writer
from models.store.plan_import import import_plan
from models.tables.milestone import Milestone
from tests.conftest import NOW
from tests.test_web_app import LEADER, OFFICE, OTHER_OWNER, OWNER
from tests.test_web_items import (
    WITH_INDICATOR,
    Site,
    served_site,  # noqa: F401 (the fixture "site")
)
from web.timeline import LEFT, RIGHT, WIDTH, Placed, lay_out


def project_of(site: Site, milestone_id: int) -> int:
    return site.milestone(milestone_id).project_id


def test_an_approved_extension_is_a_slip_on_the_projects_timeline(site: Site) -> None:
    owner, office, item = site.desk(OWNER), site.desk(OFFICE), site.world.construction
    owner.post(f"/milestones/{item}/extension", proposed="2026-12-31", reason="审批延后",
               version=site.milestone(item).version)
    office.post(f"/milestones/{item}/extension/approve", new_due_on="2027-01-15",
                version=site.milestone(item).version)
    project = project_of(site, item)
    item_page = owner.get(f"/milestones/{item}").text
    assert f'href="/projects/{project}"' in item_page  # the item links to its project

    page = owner.get(f"/projects/{project}")
    assert page.status_code == 200
    html = page.text
    assert "区社会福利中心二期工程" in html and "示例区民政局" in html
    svg = html.split('<svg class="timeline"')[1].split("</svg>")[0]
    # The axis runs by quarters from the plan's date (2025-09-30) to the new one (2027-01-15).
    timeline = lay_out([Placed(item, "开工建设", "green", date(2025, 9, 30), date(2027, 1, 15),
                               ((date(2025, 9, 30), date(2027, 1, 15)),))], NOW.date())
    [slip] = re.findall(r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+"\s+'
                        r'stroke="#b34700"[^>]*class="slip"><title>([^<]+)</title>', svg)
    expected = timeline.rows[0].slips[0]
    assert (float(slip[0]), float(slip[1])) == (expected.x_from, expected.x_to)
    assert slip[2] == "批准延期：由 2025-09-30 延至 2027-01-15"
    assert float(slip[1]) > float(slip[0])
    assert svg.count('class="slip"') == 1  # the other milestone was never put off
    assert 'class="today"' in svg and f"x1=\"{timeline.x_today}\"" in svg
    assert re.findall(r">(\d+[年月])</text>", svg) == ["7月", "10月", "2026年", "4月", "7月",
                                                      "10月", "2027年"]
    table = re.sub(r"<[^>]+>", "", html.split("</svg>")[-1])
    assert "由 2025-09-30 延至 2027-01-15" in table  # the table says it too


def test_the_project_page_shows_its_indicators_against_their_targets(site: Site) -> None:
    with Session(writer(site.engine)) as db:
        import_plan(session=db, loaded=LoadedPlan("world.yaml", parse_plan_text(WITH_INDICATOR),
                                                  ""), actor="test", now=NOW)
        db.commit()
    page = site.desk(LEADER).get(f"/projects/{project_of(site, site.world.construction)}").text
    indicators = page.split('id="indicators-heading"')[1].split("</section>")[0]
    assert "A1 养老机构床位数" in indicators and "2026 年：300" in indicators
    assert "150" in indicators and "截至 2025-12-31" in indicators  # the plan's actual
    assert 'aria-valuenow="50"' in indicators  # 150 of 300


def test_only_who_may_see_its_items_sees_a_project(site: Site) -> None:
    project = project_of(site, site.world.construction)
    refused = site.desk(OTHER_OWNER).get(f"/projects/{project}")
    assert refused.status_code == 403 and "无权查看此项目" in refused.text
    assert site.desk(OFFICE).get(f"/projects/{project}").status_code == 200
    assert site.desk(OFFICE).get("/projects/99999").status_code == 404
    assert site.desk().get(f"/projects/{project}").headers["location"] == "/login"


def test_the_project_history_names_each_milestone_and_its_people(site: Site) -> None:
    item = site.world.construction
    site.desk(OWNER).post(f"/milestones/{item}/progress", percent="35",
                          version=site.milestone(item).version)
    with Session(site.engine) as db:
        title = db.get(Milestone, item).title  # type: ignore[union-attr]
    page = site.desk(OFFICE).get(f"/projects/{project_of(site, item)}").text
    history = page.split('id="project-history-heading"')[1]
    assert f'<span class="muted">{title} ·</span> <strong>王芳（示例区民政局）</strong> ' \
           "报告进度：完成 35%" in history


def test_the_axis_spans_whole_quarters_and_places_dates_in_order() -> None:
    timeline = lay_out([Placed(1, "a", "red", date(2024, 3, 1), date(2024, 3, 1), ()),
                        Placed(2, "b", "green", date(2025, 6, 30), date(2026, 2, 1),
                               ((date(2025, 6, 30), date(2025, 12, 31)),
                                (date(2025, 12, 31), date(2026, 2, 1))))],
                       date(2025, 1, 1))
    assert [t.label for t in timeline.ticks if t.year_starts] == ["2024年", "2025年", "2026年"]
    assert len(timeline.ticks) == 10  # 2024-01-01 … 2026-04-01, quarterly
    assert timeline.ticks[0].x == LEFT and timeline.ticks[-1].x == WIDTH - RIGHT
    first, second = timeline.rows
    assert first.x_planned == first.x_due < timeline.x_today < second.x_planned
    one, two = second.slips
    assert one.x_from == second.x_planned and one.x_to == two.x_from and two.x_to == second.x_due
    assert second.y_track > first.y_track
