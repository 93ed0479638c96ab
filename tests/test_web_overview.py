"""A leader's overview after weeks of sweeps: lights as stacked bars, the on-time rate, the
change since last week and the red trend, folded from the recorded light changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.settings import Settings
from flows.sweep import run_sweep
from models.rules.light_trend import red_counts
from models.store.actions import claim_done
from models.tables.person import Person
from services.runtime import build, system_clock
from tests.test_web_app import LEADER, OWNER, SECRET, Site
from tests.world import RULES, build_world, give_passwords
from web.app import create_app
from web.charts import stacked
from web.labels import LIGHTS

DAY = date(2025, 10, 21)  # a Tuesday; the trend's points are the Tuesdays before it
PLAN, MZJ, JD = "demo-2025-2026", "demo-mzj", "demo-jd"


@pytest.fixture(name="site")
def swept_site(engine: sa.Engine, session: Session, password_hash: str,
               tmp_path: Path) -> Iterator[Site]:
    """The small world swept on 09-22 (both 09-30 items due soon), 10-08 (both overdue) and
    10-21; 开工建设 claimed done on 10-16 (late: it was due 09-30)."""
    world = build_world(session)
    give_passwords(session, password_hash)
    session.commit()
    for day in (date(2025, 9, 22), date(2025, 10, 8)):
        run_sweep(engine=engine, rules=RULES, clock=system_clock, now=RULES.as_of(day))
    owner = session.exec(select(Person).where(Person.email == OWNER)).one()
    claim_done(session=session, rules=RULES, milestone_id=world.construction, evidence="已开工",
               actor=OWNER, actor_id=owner.id, now=RULES.as_of(date(2025, 10, 16)))
    session.commit()
    run_sweep(engine=engine, rules=RULES, clock=system_clock, now=RULES.as_of(DAY))
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES, secret=SECRET,
                           clock=lambda: RULES.as_of(DAY)))
    with TestClient(app) as client:
        yield Site(client, engine, world)


def unit_row(page: str, name: str) -> str:
    return page.split(f'<th scope="row">{name}')[1].split("</tr>")[0]


def test_a_leaders_overview_draws_the_lights_and_the_red_trend_from_the_history(
        site: Site) -> None:
    site.login(LEADER)
    page = site.client.get("/overview").text
    # The trend: red on the Tuesdays 09-23 … 10-21 as the recorded changes say: none before the
    # 10-08 sweep, both items from it, one after the claim of 10-16.
    trend = re.search(r'<svg class="trend"[^>]*aria-label="([^"]+)"', page)
    assert trend is not None
    points = dict(re.findall(r"(\d\d-\d\d) (\d+) 项", trend.group(1)))
    tuesdays = [(DAY - timedelta(weeks=k)).strftime("%m-%d") for k in range(12, -1, -1)]
    assert list(points) == tuesdays
    assert [int(points[d]) for d in ("09-23", "09-30", "10-07", "10-14", "10-21")] \
        == [0, 0, 0, 2, 1]
    assert all(points[d] == "0" for d in tuesdays[:8])
    assert page.count("<polyline") == 1 + 2  # the plan's trend, a sparkline per unit

    mzj = unit_row(page, "示例区民政局")
    assert "减少 1" in mzj  # red 2 a week ago, 1 now
    red_link = f'href="/?plan={PLAN}&amp;unit={MZJ}&amp;light=red"'
    assert re.search(re.escape(red_link) + r'[^>]*>1</a>', mzj)
    assert f'style="color: {LIGHTS["red"].ink}"' in mzj  # a number in its light's colour
    assert "0%" in mzj and "0/2" in mzj  # both due, neither done on time
    # The stacked bar: one red and one green segment, to the scale of the largest unit (2).
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="0" width="([\d.]+)" '
                                           r'height="22" fill="#', mzj)]
    expected = [s.width for s in stacked({"red": 1, "green": 1}, 2, 300)]
    assert widths == [300, *expected] and sum(expected) == 300

    jd = unit_row(page, "示例区示例街道")
    assert "持平" in jd and "尚无到期" in jd  # its one item is due 12-31
    assert '红灯 <span class="zero">0</span>' in jd and "light=red" not in jd  # a zero: no link


def test_owners_are_refused_the_overview(site: Site) -> None:
    site.login(OWNER)
    assert site.client.get("/overview").status_code == 403


def test_red_counts_fold_each_items_last_change_before_each_day() -> None:
    def at(day: int) -> datetime:
        return datetime(2025, 10, day, 1, tzinfo=UTC)

    changes = [(1, at(2), "green", "red"), (1, at(9), "red", "green"),
               (2, at(5), "red", "yellow"),  # red before its first recorded change
               (3, at(3), "yellow", "red")]   # retired: not in any group
    ends = [at(1), at(4), at(8), at(10)]
    assert red_counts(changes, {1: "a", 2: "a"}, ends) == {"a": [1, 2, 1, 0]}


def test_a_bar_draws_every_light_the_data_has_worst_first() -> None:
    segments = stacked({"green": 2, "blue": 1, "red": 1, "yellow": 0}, 8, 320)
    assert [s.light for s in segments] == ["red", "blue", "green"]  # no empty segment
    assert [s.width for s in segments] == [40, 40, 80]
    assert [s.x for s in segments] == [0, 40, 80]
    assert segments[1].shade.label == "待核实"


def test_an_item_with_no_change_in_the_period_keeps_its_light_now_throughout() -> None:
    def at(day: int) -> datetime:
        return datetime(2025, 10, day, 1, tzinfo=UTC)

    changes = [(1, at(9), "red", "green")]  # item 2 has been red since before the period
    assert red_counts(changes, {1: "a", 2: "a", 3: "a"}, [at(1), at(10)],
                      {1: "green", 2: "red", 3: "yellow"}) == {"a": [2, 1]}
