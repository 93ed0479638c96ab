"""Lists that scale, as the office and owners use them: the API and the page answer the same
items, pages never repeat or skip an item while others change, and the 台账 export holds the
filtered rows with their lights."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.store.actions import claim_done
from models.store.api_tokens import issue_token
from models.store.milestone_list import ListQuery, list_page
from models.tables.columns import saved_id
from models.tables.milestone import Milestone
from models.tables.person import Person
from models.tables.plan import Project
from tests.conftest import NOW, Duban, snapshot
from tests.test_web_app import LEADER, OFFICE, OWNER, Site
from tests.test_web_office import listed, office_site
from tests.world import RULES, build_world, sweep_world

TODAY = RULES.today(NOW)


@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[Site]:
    """The office's swept world: three items, 开工建设 claimed (待核实), one dead letter."""
    with office_site(engine, session, password_hash, tmp_path) as opened:
        yield opened


def bearer(site: Site, email: str) -> dict[str, str]:
    with Session(site.engine) as db:
        person = db.exec(select(Person).where(Person.email == email)).one()
        token = issue_token(session=db, person=person, label="test", actor="test", now=NOW)
        db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_answers_the_same_items_as_the_page_for_the_same_filters(site: Site) -> None:
    site.login(OFFICE)
    token = bearer(site, OFFICE)
    for filters in ("", "light=red", "unit=demo-mzj", "state=claimed", "q=消防", "q=邻里",
                    "sort=due", "sort=-due", "light=red&q=工程", "level=0"):
        page = listed(site.client.get(f"/?{filters}").text)
        answer = site.client.get(f"/api/milestones?{filters}", headers=token).json()
        assert [i["title"] for i in answer["items"]] == page, filters
        assert answer["total"] == len(page) and answer["next"] is None, filters
    # a search matches a project's title as well as the milestone's, and every word must match
    assert listed(site.client.get("/?q=福利中心").text) == ["完成消防验收", "开工建设"]
    assert listed(site.client.get("/?q=福利中心 消防").text) == ["完成消防验收"]
    assert listed(site.client.get("/?q=100%").text) == []  # a wildcard is a character
    # the lights are the sweep's (at 09:00 that day) and every action's since: the page says so
    assert "灯色截至上次巡查 2026-11-23 09:00" in site.client.get("/").text


def test_a_bad_cursor_or_limit_is_named(site: Site) -> None:
    site.login(OFFICE)
    page = site.client.get("/?cursor=not-ours")
    assert page.status_code == 400 and "翻页标记无法识别" in page.text
    assert "每页条数只能是 1 到 200" in site.client.get("/?limit=500").text
    answer = site.client.get("/api/milestones?cursor=xyz", headers=bearer(site, OFFICE))
    assert answer.status_code == 404 and answer.json()["code"] == "bad_cursor"  # no such page
    assert site.client.get("/api/milestones?limit=201",
                           headers=bearer(site, OFFICE)).status_code == 422


def test_pages_neither_repeat_nor_skip_an_item_while_others_change(engine: sa.Engine,
                                                                   session: Session) -> None:
    """Forty items over four lights, read two at a time; between pages an item already read
    and one not yet read leave the plan, one is claimed done and new items arrive: every item
    still listed at the end is read exactly once, and a gone item unread is never read."""
    world = build_world(session)
    project = session.exec(select(Project)).first()
    assert project is not None
    for n in range(37):
        due = date(2025, 1, 1) + timedelta(days=n * 20)  # past, soon and far in the future
        session.add(Milestone(project_id=project.id, key=f"x{n}", seq=10 + n, title=f"节点{n}",
                              planned_due_on=due, due_on=due, unit_id=project.unit_id))
    session.commit()
    sweep_world(engine)
    with Session(engine) as db:
        claim_done(session=db, rules=RULES, milestone_id=world.construction, evidence="已完成",
                   actor=OWNER, now=NOW)
        db.commit()
    seen: list[int] = []
    retired_unread: set[int] = set()
    cursor, turn = None, 0
    while True:
        with Session(engine) as db:
            page = list_page(session=db, query=ListQuery(), calendar=RULES.calendar,
                             today=TODAY, limit=2, cursor=cursor)
        seen += [i["milestone_id"] for i in page.items]
        if page.next is None:
            break
        cursor, turn = page.next, turn + 1
        with Session(engine) as db:
            unread = db.exec(select(Milestone).where(
                col(Milestone.id).not_in(seen), col(Milestone.retired_at).is_(None))
                .order_by(col(Milestone.id).desc())).first()
            if turn == 3 and unread is not None:  # one not yet read leaves the plan …
                unread.retired_at = NOW
                retired_unread.add(saved_id(unread))
            if turn == 4:  # … and one already read
                read = db.get(Milestone, seen[0])
                assert read is not None
                read.retired_at = NOW
            if turn == 5:  # the owner's claim on another item (a change beside the order)
                claim_done(session=db, rules=RULES, milestone_id=world.neighbourhood,
                           evidence="已建成", actor=OWNER, now=NOW)
            if turn < 6:  # new items arrive, ahead of the reader and behind it
                due = date(2030, 1, turn) if turn % 2 else date(2024, 1, turn)
                db.add(Milestone(project_id=project.id, key=f"new{turn}", seq=100 + turn,
                                 title=f"新增{turn}", planned_due_on=due, due_on=due,
                                 unit_id=project.unit_id))
            db.commit()
    with Session(engine) as db:
        listed_now = set(db.exec(select(Milestone.id).where(
            col(Milestone.retired_at).is_(None), col(Milestone.key).not_like("new%"))).all())
        ahead = set(db.exec(select(Milestone.id).where(
            col(Milestone.due_on) >= date(2030, 1, 1))).all())
    assert len(seen) == len(set(seen))            # nothing twice
    assert listed_now | ahead <= set(seen)         # nothing skipped, late arrivals ahead included
    assert retired_unread and not retired_unread & set(seen)


def test_the_ledger_holds_the_filtered_rows_with_their_lights(site: Site, duban: Duban,
                                                              tmp_path: Path) -> None:
    site.login(OFFICE)
    answer = site.client.get("/milestones.xlsx?unit=demo-mzj")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = book["台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert "单位：demo-mzj" in rows[0][0] and TODAY.isoformat() in rows[0][0]
    assert rows[1][:4] == ("序号", "规划", "项目", "节点")
    body = {r[3]: r for r in rows[2:]}
    assert set(body) == {"完成消防验收", "开工建设"}  # only the filtered unit's
    fire, built = body["完成消防验收"], body["开工建设"]
    assert (fire[8], fire[9]) == ("红灯", "三级 领导督办")
    assert (built[7], built[8], built[12].date()) == ("已申报完成（待核实）", "蓝灯", TODAY)
    fills = {sheet.cell(row=r, column=4).value: sheet.cell(row=r, column=9).fill.fgColor.rgb
             for r in range(3, sheet.max_row + 1)}
    assert fills == {"完成消防验收": "FFD32F2F", "开工建设": "FF1565C0"}
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == "A2:M4"
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$2:$2"
    refused = site.client.get("/milestones.xlsx?light=purple")
    assert refused.status_code == 400 and "灯色只能是" in refused.text


def test_an_owner_exports_only_their_unit_and_text_is_never_a_formula(site: Site) -> None:
    with Session(site.engine) as db:
        item = db.get(Milestone, site.world.fire_check)
        assert item is not None
        item.title = '=HYPERLINK("http://evil.example","点此")'
        db.add(item)
        db.commit()
    site.login(OWNER)
    book = openpyxl.load_workbook(io.BytesIO(site.client.get("/milestones.xlsx").content))
    sheet = book["台账"]
    titles = {sheet.cell(row=r, column=4) for r in range(3, sheet.max_row + 1)}
    assert {c.value for c in titles} == {'=HYPERLINK("http://evil.example","点此")', "开工建设"}
    assert all(c.data_type == "s" for c in titles)
    assert site.client.get("/milestones.xlsx?unit=demo-jd").status_code == 403


def test_duban_export_writes_the_ledger_and_csv(duban: Duban, engine: sa.Engine,
                                                session: Session, tmp_path: Path) -> None:
    build_world(session)
    sweep_world(engine)
    out = tmp_path
    done = duban("export", "--light", "red", "--xlsx", str(out / "red.xlsx"))
    assert done.exit_code == 0, done.output
    assert "已导出 3 项" in done.output
    sheet = openpyxl.load_workbook(out / "red.xlsx")["台账"]
    assert sheet.max_row == 5 and "灯：红灯" in sheet["A1"].value
    csv_done = duban("export", "--q", "邻里", "--csv", str(out / "l.csv"))
    assert csv_done.exit_code == 0, csv_done.output
    lines = (out / "l.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 3 and "建成运营" in lines[2]
    both = duban("export", "--xlsx", str(out / "a.xlsx"), "--csv", str(out / "a.csv"))
    assert both.exit_code == 2 and "--xlsx FILE 或 --csv FILE 之一" in both.output
    unknown = duban("export", "--unit", "nowhere", "--csv", str(out / "n.csv"))
    assert unknown.exit_code == 2 and not (out / "n.csv").exists()


# ── bulk actions ─────────────────────────────────────────────────────────────────────────


def claimed_items(site: Site, count: int) -> list[int]:
    """``count`` more of the owner's unit's items, claimed done by the owner."""
    with Session(site.engine) as db:
        project = db.exec(select(Project).where(Project.code == "1")).one()
        ids = []
        for n in range(count):
            due = date(2026, 12, 10 + n)
            milestone = Milestone(project_id=saved_id(project), key=f"b{n}", seq=20 + n,
                                  title=f"批量节点{n}", planned_due_on=due, due_on=due,
                                  unit_id=project.unit_id)
            db.add(milestone)
            db.flush()
            claim_done(session=db, rules=RULES, milestone_id=saved_id(milestone),
                       evidence="验收材料", actor=OWNER, now=NOW)
            ids.append(saved_id(milestone))
        db.commit()
    return ids


def test_bulk_closes_every_item_or_none(site: Site) -> None:
    token, owner_token = bearer(site, OFFICE), bearer(site, OWNER)
    ids = [site.world.construction, *claimed_items(site, 2)]
    before = snapshot(site.engine)
    # one of four is overdue, not claimed: the whole is refused, naming it, and nothing changes
    mixed = site.client.post("/api/milestones/bulk", headers=token,
                             json={"action": "close", "ids": [*ids, site.world.fire_check]})
    assert mixed.status_code == 409
    assert [r["milestone_id"] for r in mixed.json()["refused"]] == [site.world.fire_check]
    assert "没有任何事项被改动" in mixed.json()["detail"]
    # a stale version refuses the whole too
    stale = site.client.post("/api/milestones/bulk", headers=token, json={
        "action": "close", "ids": ids, "versions": {str(ids[0]): 1}})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["refused"][0]["why"]
    # an owner may not close, not even their own unit's items
    owner = site.client.post("/api/milestones/bulk", headers=owner_token,
                             json={"action": "close", "ids": ids})
    assert owner.status_code == 403 and len(owner.json()["refused"]) == 3
    assert snapshot(site.engine) == before
    done = site.client.post("/api/milestones/bulk", headers=token,
                            json={"action": "close", "ids": ids, "reason": "材料齐全"})
    assert done.status_code == 200, done.text
    assert done.json()["done"] == 3 and {i["state"] for i in done.json()["items"]} == {"closed"}
    assert len(site.events("milestone.closed")) == 3


def test_the_office_list_bulk_returns_ticked_items_with_a_reason(site: Site) -> None:
    ids = claimed_items(site, 2)
    site.login(OFFICE)
    page = site.client.get("/?state=claimed").text
    ticks = re.findall(r'name="ids" value="(\d+:\d+)"', page)
    assert len(ticks) == 3
    csrf = site.csrf("/")
    chosen = [t for t in ticks if int(t.split(":")[0]) in ids]
    no_reason = site.client.post("/milestones/bulk", data={
        "csrf": csrf, "action": "return", "ids": chosen, "back": "/?state=claimed"})
    assert no_reason.status_code == 409 and "未执行" in no_reason.text
    returned = site.client.post("/milestones/bulk", data={
        "csrf": csrf, "action": "return", "ids": chosen, "reason": "佐证不足",
        "back": "/?state=claimed"})
    assert returned.status_code == 200 and "已批量退回重办 2 项" in returned.text
    assert {site.milestone(i).state for i in ids} == {"returned"}
    assert listed(site.client.get("/?state=claimed").text) == ["开工建设"]
    forged = site.client.post("/milestones/bulk", data={"csrf": "x", "action": "close",
                                                        "ids": ticks})
    assert forged.status_code == 403


# ── 待办 ──────────────────────────────────────────────────────────────────────────────────


def tab_counts(site: Site, token: dict[str, str]) -> dict[str, int | None]:
    """The counts the API gives, checked against the ones the 待办 page shows."""
    answer = site.client.get("/api/todo", headers=token).json()
    page = site.client.get("/todo").text
    for tab in answer["tabs"]:
        if tab["count"] is not None:
            assert re.search(rf'{tab["name"]}<span class="n[^"]*">{tab["count"]}</span>', page)
    return {t["key"]: t["count"] for t in answer["tabs"]}


def act(site: Site, token: dict[str, str], item: int, change: str, **body: object) -> None:
    answer = site.client.post(f"/api/milestones/{item}/{change}", headers=token, json=body)
    assert answer.status_code == 200, answer.text


def test_the_todo_counts_empty_as_work_is_done(site: Site) -> None:
    office, owner = bearer(site, OFFICE), bearer(site, OWNER)
    world = site.world
    site.login(OFFICE)
    assert tab_counts(site, office) == {"verify": 1, "extension": 0, "unacknowledged": 2,
                                        "unsigned": 0, "dead": 1}
    verify = site.client.get("/todo").text  # opens on the first tab with work: 待核实
    assert listed(verify) == ["开工建设"]
    assert "佐证：已开工" in verify and "申报 2026-11-23" in verify
    act(site, office, world.construction, "return", reason="佐证不足，请补充施工许可证")
    # sent back, it is overdue again, at a level nobody has acknowledged
    assert tab_counts(site, office)["unacknowledged"] == 3
    for item in (world.construction, world.fire_check, world.neighbourhood):
        act(site, office, item, "acknowledge")
    assert tab_counts(site, office) == {"verify": 0, "extension": 0, "unacknowledged": 0,
                                        "unsigned": 0, "dead": 1}
    assert "「待核实」已全部办完" in site.client.get("/todo?tab=verify").text

    site.login(OWNER)
    assert tab_counts(site, owner) == {"sign": 0, "do": 2, "returned": 1, "extension": 0,
                                       "feedback": 0}
    assert listed(site.client.get("/todo?tab=returned").text) == ["开工建设"]
    act(site, owner, world.fire_check, "extension", proposed_due_on="2026-12-31",
        reason="消防部门排期")
    act(site, owner, world.construction, "done", evidence="施工许可证已补充")
    assert tab_counts(site, owner) == {"sign": 0, "do": 1, "returned": 0, "extension": 1,
                                       "feedback": 0}
    act(site, office, world.fire_check, "extension/decision", approved=False,
        reason="不符合延期条件")
    act(site, owner, world.fire_check, "done", evidence="消防验收合格")
    assert tab_counts(site, owner) == {"sign": 0, "do": 0, "returned": 0, "extension": 0,
                                       "feedback": 0}
    assert site.client.get("/todo?tab=nothing").status_code == 404


def test_a_leader_sees_the_items_at_the_leaders_level(site: Site) -> None:
    leader = bearer(site, LEADER)
    answer = site.client.get("/api/todo?tab=leader", headers=leader).json()
    assert {i["title"] for i in answer["items"]} == {
        i["title"] for i in site.client.get("/api/milestones?min_level=3",
                                            headers=leader).json()["items"]
        if i["state"] == "overdue"}
    assert answer["tabs"][0]["count"] == len(answer["items"]) > 0
