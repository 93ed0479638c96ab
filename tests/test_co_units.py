"""Lead and co-responsible units (牵头/协办): a plan names co-units, they see the item, get its
notices and report progress; only the lead claims it done."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from sqlmodel import Session, select

from cli.actions import _check_allowed
from config.plan_loader import LoadedPlan, PlanFileInvalid, parse_plan_text
from models.rules.permissions import Action
from models.store import actions
from models.store.actions import ActionRefused
from models.store.co_units import co_units_of
from models.store.milestone_list import ListQuery, list_page
from models.store.plan_export import plan_file_of
from models.store.plan_import import import_plan
from models.store.plan_preview import preview_imports
from models.store.status_view import milestone_lights
from models.store.todo import counted, tabs_for
from models.tables.event import Event
from models.tables.event_kinds import EventKind
from models.tables.milestone import Milestone
from models.tables.person import Person
from models.tables.unit import Unit
from tests.conftest import NOW
from tests.world import PLAN, POLICY, RULES, build_world, sweep_world, told
from web.feeds import unit_calendar
from web.history import what

# 开工建设 (led by the bureau) is co-handled by the subdistrict.
WITH_CO = PLAN.replace("{due: 2025-09-30, target: 开工建设}",
                       "{due: 2025-09-30, target: 开工建设, co_units: [demo-jd]}")


def loaded(text: str) -> LoadedPlan:
    return LoadedPlan("world.yaml", parse_plan_text(text, "world.yaml"), "")


def co_world(session: Session) -> tuple[int, Person]:
    world = build_world(session)
    import_plan(session=session, loaded=loaded(WITH_CO), actor="test", now=NOW)
    session.commit()
    li_na = session.exec(select(Person).where(Person.email == "li.na@duban.example")).one()
    return world.construction, li_na


def test_a_plan_names_co_units_and_a_change_of_them_is_recorded(session: Session) -> None:
    construction, _ = co_world(session)
    assert [u.code for u in co_units_of(session, construction)] == ["demo-jd"]
    changed = session.exec(select(Event).where(
        Event.kind == EventKind.co_units_changed)).one()
    assert changed.data["co_units"] == [[], ["demo-jd"]]
    assert what(changed) == "规划调整了协办单位：示例区示例街道（原为无）"
    exported = plan_file_of(session=session, code="demo-2025-2026")
    assert exported is not None
    assert exported.projects[0].milestones[0].co_units == ["demo-jd"]
    # Importing the exported file again changes nothing; dropping the co-unit is one event.
    again = import_plan(session=session, loaded=LoadedPlan("x", exported, ""), actor="t", now=NOW)
    assert not again.changed
    outcome = import_plan(session=session, loaded=loaded(PLAN), actor="test", now=NOW)
    assert dict(outcome.counts) == {EventKind.co_units_changed: 1}
    assert co_units_of(session, construction) == []


def test_a_dry_run_shows_the_change_of_co_units(session: Session) -> None:
    build_world(session)
    [preview] = preview_imports(session=session, loaded=[loaded(WITH_CO)], actor="t", now=NOW)
    assert any("协办单位：（无） → demo-jd" in line for line in preview.lines), preview.lines
    assert session.exec(select(Event).where(Event.kind == EventKind.co_units_changed)).all() == []


@pytest.mark.parametrize(("co_units", "message"), [
    ("[demo-nowhere]", "unit 'demo-nowhere' is not declared under `units:`"),
    ("[demo-mzj]", "unit 'demo-mzj' leads this milestone and cannot also be one of its co_units"),
    ("[demo-jd, demo-jd]", "co-unit 'demo-jd' is named twice"),
])
def test_a_bad_co_unit_is_named_with_its_line(co_units: str, message: str) -> None:
    text = PLAN.replace("{due: 2025-09-30, target: 开工建设}",
                        "{due: 2025-09-30, target: 开工建设, co_units: " + co_units + "}")
    with pytest.raises(PlanFileInvalid) as refused:
        parse_plan_text(text, "world.yaml")
    [problem] = refused.value.problems
    assert problem.line == 14 and problem.message == message
    assert problem.path.startswith("projects[0].milestones[0].co_units")


def test_a_co_unit_owner_reports_progress_and_only_the_lead_claims_done(
        session: Session) -> None:
    construction, li_na = co_world(session)
    _check_allowed(session, li_na, Action.view_item, construction)
    _check_allowed(session, li_na, Action.report_progress, construction)
    actions.report_progress(session=session, rules=RULES, milestone_id=construction,
                            actor=li_na.email, actor_id=li_na.id, now=NOW, percent=40)
    for action in (Action.claim_done, Action.request_extension):
        with pytest.raises(ActionRefused, match="只有牵头单位可以"):
            _check_allowed(session, li_na, action, construction)
    wang = session.exec(select(Person).where(Person.email == "wang.fang@duban.example")).one()
    _check_allowed(session, wang, Action.claim_done, construction)  # the lead's owner may
    other = session.exec(select(Milestone).where(Milestone.title == "完成消防验收")).one()
    with pytest.raises(ActionRefused, match="may not"):  # no co-unit there: another's item
        _check_allowed(session, li_na, Action.view_item, other.id or 0)


def test_a_co_unit_sees_the_item_in_its_list_and_todo(engine: sa.Engine,
                                                      session: Session) -> None:
    construction, li_na = co_world(session)
    sweep_world(engine)
    session.commit()  # end the read snapshot taken before the sweep
    jd = session.exec(select(Unit).where(Unit.code == "demo-jd")).one()
    assert jd.id is not None
    page = list_page(session=session, query=ListQuery(unit_ids=frozenset({jd.id})),
                     calendar=RULES.calendar, today=RULES.today(NOW))
    rows = {i["milestone_id"]: i for i in page.items}
    assert construction in rows and rows[construction]["unit_code"] == "demo-mzj"
    by_code = list_page(session=session, query=ListQuery(unit="demo-jd"),
                        calendar=RULES.calendar, today=RULES.today(NOW))
    assert construction in {i["milestone_id"] for i in by_code.items}
    tabs = {t.key: t for t in counted(session, tabs_for(li_na, unit_ids=frozenset({jd.id}),
                                                        policy=POLICY))}
    assert tabs["do"].query is not None and tabs["do"].count == 2  # its own and the co-item
    assert tabs["sign"].query is not None  # only the lead signs: no co-item waits there
    todo = list_page(session=session, query=tabs["do"].query, calendar=RULES.calendar,
                     today=RULES.today(NOW))
    assert construction in {i["milestone_id"] for i in todo.items}


def test_a_co_unit_person_is_told_of_the_item_it_co_handles_only(
        engine: sa.Engine, session: Session) -> None:
    construction, _ = co_world(session)
    sweep_world(engine)
    session.commit()  # end the read snapshot taken before the sweep
    told_of_it = told(engine, construction)
    assert any("li.na@duban.example" in addresses for addresses in told_of_it.values())
    # The lead's people too, and the co-unit's owner only for the item it co-handles.
    assert any("wang.fang@duban.example" in addresses for addresses in told_of_it.values())
    other = session.exec(select(Milestone).where(Milestone.title == "完成消防验收")).one()
    assert told(engine, other.id) and all(
        "li.na@duban.example" not in addresses for addresses in told(engine, other.id).values())


def test_a_co_units_calendar_holds_the_items_it_co_handles_marked_so(
        session: Session) -> None:
    construction, _ = co_world(session)
    rows = milestone_lights(session=session, rules=RULES, now=NOW, unit="demo-jd",
                            with_co_units=True)
    ics = Calendar.from_ical(unit_calendar(unit_name="示例区示例街道", unit_code="demo-jd",
                                           rows=rows, rules=RULES,
                                           base_url="https://duban.example", stamp=NOW))
    shown = {str(e["uid"]): e for e in ics.walk("VEVENT")}
    co_item = shown[f"milestone-{construction}@duban.example"]
    assert str(co_item["summary"]).startswith("【协办】")
    assert "牵头单位：示例区民政局（本单位协办）" in str(co_item["description"])
    own = [e for uid, e in shown.items() if uid != f"milestone-{construction}@duban.example"]
    assert own and all(str(e["summary"]).startswith("【督办】") for e in own)
    lead = milestone_lights(session=session, rules=RULES, now=NOW, unit="demo-jd")
    assert construction not in {r["milestone_id"] for r in lead}  # lists count the lead only
