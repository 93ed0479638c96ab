"""The JSON API as scripts use it: personal tokens, the same rights as the pages, clear refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.settings import Settings
from models.store.api_tokens import issue_token, revoke_tokens
from models.tables.event import Event
from models.tables.message import Message
from models.tables.milestone import Milestone
from models.tables.person import Person
from services.runtime import build
from tests.conftest import NOW, PASSWORD, snapshot
from tests.world import RULES, World, build_world, sweep_world
from web.app import create_app

OFFICE, OWNER, OTHER_OWNER, LEADER = ("zhou.min@duban.example", "wang.fang@duban.example",
                                      "li.na@duban.example", "zhao@duban.example")
# Every change the API offers, with a body it would accept on an open item.
CHANGES = {"done": {"evidence": "施工许可证已取得"}, "progress": {"percent": 50},
           "extension": {"proposed_due_on": "2026-12-31", "reason": "审批延后"},
           "extension/decision": {"approved": True}, "acknowledge": {},
           "snooze": {"until": "2026-12-01", "reason": "待审批"}, "close": {},
           "return": {"reason": "佐证不足"}, "reopen": {"reason": "复查"},
           "waive": {"reason": "政策调整"}, "major": {"major": True, "reason": "领导关注"}}


@dataclass
class Api:
    client: TestClient
    engine: sa.Engine
    world: World
    tokens: dict[str, str]

    def get(self, path: str, who: str) -> httpx.Response:
        return self.client.get(f"/api{path}", headers=self.bearer(who))

    def post(self, path: str, who: str, **body: Any) -> httpx.Response:
        return self.client.post(f"/api{path}", headers=self.bearer(who), json=body)

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def milestone(self, milestone_id: int) -> Milestone:
        with Session(self.engine) as db:
            return db.exec(select(Milestone).where(Milestone.id == milestone_id)).one()

    def events(self, kind: str) -> list[Event]:
        with Session(self.engine) as db:
            return list(db.exec(select(Event).where(Event.kind == kind)))


@pytest.fixture
def api(engine: sa.Engine, session: Session, tmp_path: Path) -> Iterator[Api]:
    world = build_world(session)
    tokens = {p.email: issue_token(session=session, person=p, label="test", actor="test", now=NOW)
              for p in session.exec(select(Person))}
    session.commit()
    sweep_world(engine)
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="",
                        attachment_max_bytes=64 * 1024)  # requests over 1.3 MB are refused
    app = create_app(build(settings, engine=engine, rules=RULES,
                           secret="duban-api-test-secret-0123456789abcdef", clock=lambda: NOW))
    with TestClient(app) as client:
        yield Api(client, engine, world, tokens)


def test_the_openapi_document_lists_every_endpoint_and_its_references_resolve(
        api: Api) -> None:
    answer = api.client.get("/api/openapi.json")
    document = json.loads(answer.text)
    assert document["info"]["title"] == "督办 Duban API"
    assert document["servers"] == [{"url": "/api"}]
    listed = {(method.upper(), path) for path, methods in document["paths"].items()
              for method in methods}
    item = "/milestones/{milestone_id}"
    assert listed == ({("GET", p) for p in ("/me", "/plans", "/units", "/milestones", "/todo",
                                                   item)}
                      | {("POST", f"{item}/{change}") for change in CHANGES}
                      | {("POST", f"{item}/{change}")
                         for change in ("instruction", "chase", "transfer")}
                      | {("POST", "/milestones/bulk")}
                      | {("GET", p) for p in ("/orders", "/orders/{reference}",
                                               "/orders/{reference}/pdf")}
                      | {("POST", "/orders/{reference}/receipt")})
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    schemas = document["components"]["schemas"]
    for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', answer.text):
        assert ref in schemas, f"{ref} is referred to but not defined"
    assert "proposed_due_on" in schemas["ExtensionIn"]["required"]
    assert "HTTPValidationError" not in schemas  # 422 is documented as the body we send
    assert set(schemas["Problem"]["required"]) == {"detail", "code"}
    done = document["paths"][f"{item}/done"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(done)
    assert "400" not in document["paths"]["/me"]["get"]["responses"]  # no body, no 400
    assert "/api/openapi.json" in api.client.get("/api/docs").text


def test_an_owner_marks_their_units_item_done_and_is_recorded_as_its_actor(api: Api) -> None:
    item = api.world.construction
    mine = api.get("/milestones", OWNER).json()
    assert {m["title"] for m in mine["items"]} == {"开工建设", "完成消防验收"}  # not another's
    assert mine["total"] == 2 and mine["next"] is None
    assert [m["light"] for m in api.get("/milestones?light=red", OWNER).json()["items"]] == [
        "red", "red"]
    shown = api.get(f"/milestones/{item}", OWNER).json()
    done = api.post(f"/milestones/{item}/done", OWNER, evidence="施工许可证已取得，已开工。",
                    version=shown["version"])
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "claimed" and done.json()["version"] == shown["version"] + 1
    [event] = api.events("milestone.done_claimed")
    assert (event.actor, event.data["evidence"]) == (OWNER, "施工许可证已取得，已开工。")
    assert event.actor_id == api.get("/me", OWNER).json()["id"]
    assert done.json()["history"][-1]["kind"] == "milestone.status_changed"
    with Session(api.engine) as db:  # the owner is sent the same confirmation as on the page
        assert db.exec(select(Message).where(Message.key == f"confirm:{event.id}")).one()


def test_an_owner_is_told_another_units_item_does_not_exist_and_nothing_changes(
        api: Api) -> None:
    """A milestone one may not see answers exactly as a missing one: 404, the same body (with
    its own id), so ids cannot be probed for which exist."""
    other, missing = api.world.neighbourhood, 999999

    def same_as_missing(answer: httpx.Response, path: str, **body: Any) -> None:
        absent = (api.post(path.format(missing), OWNER, **body) if body
                  else api.get(path.format(missing), OWNER))
        assert (answer.status_code, absent.status_code) == (404, 404), answer.text
        assert answer.json() == json.loads(absent.text.replace(str(missing), str(other)))

    before = snapshot(api.engine)
    same_as_missing(api.get(f"/milestones/{other}", OWNER), "/milestones/{}")
    listed = api.get("/milestones?unit=demo-jd", OWNER)  # units are public: this one says why
    assert listed.status_code == 403 and "demo-mzj" in listed.json()["detail"]
    for change in ("done", "progress", "extension"):
        same_as_missing(api.post(f"/milestones/{other}/{change}", OWNER, **CHANGES[change]),
                        f"/milestones/{{}}/{change}", **CHANGES[change])
    assert snapshot(api.engine) == before


def test_a_leader_reads_every_item_but_every_change_is_refused(api: Api) -> None:
    assert api.get("/milestones", LEADER).json()["total"] == 3
    item = api.world.neighbourhood
    assert api.get(f"/milestones/{item}", LEADER).json()["title"] == "建成运营"
    before = snapshot(api.engine)
    for change, body in CHANGES.items():
        refused = api.post(f"/milestones/{item}/{change}", LEADER, **body)
        assert refused.status_code == 403, change
        assert refused.json()["code"] == "not_permitted", change
        assert refused.json()["detail"].startswith("分管领导无权"), change
    assert snapshot(api.engine) == before


def test_no_bad_or_revoked_token_and_no_deactivated_person_get_in(api: Api,
                                                                   session: Session) -> None:
    item, done = api.world.construction, {"evidence": "已开工"}
    path = f"/api/milestones/{item}/done"
    owner = session.exec(select(Person).where(Person.email == OWNER)).one()
    revoke_tokens(session=session, person=owner, actor="test", now=NOW)
    leader = session.exec(select(Person).where(Person.email == LEADER)).one()
    leader.active = False
    session.add(leader)
    session.commit()
    before = snapshot(api.engine)
    attempts = {"no token": {}, "bad token": {"Authorization": "Bearer dbn_not-a-real-token"},
                "not bearer": {"Authorization": f"Basic {api.tokens[OWNER]}"},
                "revoked": api.bearer(OWNER), "deactivated": api.bearer(LEADER)}
    for what, headers in attempts.items():
        for answer in (api.client.get("/api/me", headers=headers),
                       api.client.post(path, headers=headers, json=done)):
            assert answer.status_code == 401, what
            assert answer.headers["www-authenticate"].startswith("Bearer"), what
            assert answer.json()["code"] in ("token_missing", "token_invalid"), what
            assert "令牌" in answer.json()["detail"], what
    assert snapshot(api.engine) == before
    assert api.get("/me", OTHER_OWNER).status_code == 200  # other people's tokens still work



def test_the_pages_session_cookie_does_not_open_the_api(api: Api, session: Session,
                                                        password_hash: str) -> None:
    owner = session.exec(select(Person).where(Person.email == OWNER)).one()
    owner.password_hash = password_hash
    session.add(owner)
    session.commit()
    csrf = re.search(r'name="csrf" value="([^"]+)"', api.client.get("/login").text)
    assert csrf, "no CSRF field on the sign-in page"
    signed_in = api.client.post("/login", data={"email": OWNER, "password": PASSWORD,
                                                "csrf": csrf.group(1)}, follow_redirects=False)
    assert signed_in.status_code == 303 and api.client.cookies.get("duban_session")
    before = snapshot(api.engine)
    assert api.client.get("/api/me").status_code == 401
    refused = api.client.post(f"/api/milestones/{api.world.construction}/done",
                              json={"evidence": "已开工"})
    assert refused.status_code == 401
    assert snapshot(api.engine) == before


def test_malformed_input_is_refused_in_chinese_naming_the_field(api: Api) -> None:
    item = api.world.construction
    before = snapshot(api.engine)
    slashed = api.post(f"/milestones/{item}/extension", OWNER, proposed_due_on="2026/12/31",
                       reason="审批延后")
    assert slashed.status_code == 422 and slashed.json()["code"] == "invalid_input"
    assert slashed.json()["detail"] == ("输入有误：“proposed_due_on”不是有效的日期：2026/12/31"
                                        "（应为 年-月-日，例如 2026-12-31）。")
    assert [(e["field"], e["code"]) for e in slashed.json()["errors"]] == [
        ("proposed_due_on", "iso_date")]
    as_number = api.post(f"/milestones/{item}/extension", OWNER, proposed_due_on=20261231,
                         reason="审批延后")  # not read as seconds since 1970
    assert as_number.status_code == 422 and "proposed_due_on" in as_number.json()["detail"]
    misspelt = api.post(f"/milestones/{item}/done", OWNER, evidnce="已开工")
    assert misspelt.status_code == 422
    assert {(e["field"], e["message"]) for e in misspelt.json()["errors"]} == {
        ("evidence", "请填写“evidence”。"),
        ("evidnce", "“evidnce”不是可接受的字段（请检查拼写）。")}
    blank = api.post(f"/milestones/{item}/progress", OWNER, note=" \u3000\ufeff")
    assert blank.status_code == 422 and blank.json()["errors"][0]["code"] == "blank"
    empty = api.post(f"/milestones/{item}/progress", OWNER, percent=None)
    assert empty.status_code == 422 and "percent" in empty.json()["detail"]
    too_far = api.post(f"/milestones/{item}/progress", OWNER, percent=101)
    assert "“percent”不能大于 100，填写的是 101。" in too_far.json()["detail"]
    not_json = api.client.post(f"/api/milestones/{item}/done", headers=api.bearer(OWNER),
                               data={"evidence": "已开工"})
    assert not_json.status_code == 422 and "JSON 对象" in not_json.json()["detail"]
    for broken in (b'{"evidence": "\xe5\xb7\xb2', b'{"evidence": }'):  # not UTF-8; not JSON
        malformed = api.client.post(f"/api/milestones/{item}/done", content=broken,
                                    headers=api.bearer(OWNER) | {
                                        "Content-Type": "application/json"})
        assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"
        assert malformed.json()["detail"].startswith("请求体不是有效的 JSON")
    empty_plan = api.get("/milestones?plan=", OFFICE)
    assert empty_plan.status_code == 422 and empty_plan.json()["errors"][0]["field"] == "plan"
    unknown_plan = api.get("/milestones?plan=nowhere-2030", OFFICE)
    assert unknown_plan.status_code == 404 and unknown_plan.json() == {
        "code": "unknown_plan", "detail": "没有代码为“nowhere-2030”的计划（plan）。"}
    assert api.get("/milestones/999999", OFFICE).json()["code"] == "not_found"
    assert api.post("/milestones/999999/close", OFFICE).status_code == 404
    huge_id = api.get(f"/milestones/{2**63}", OFFICE)  # not a crash in the database driver
    assert huge_id.status_code == 422 and huge_id.json()["errors"][0]["field"] == (
        "milestone_id")
    too_large = api.post(f"/milestones/{item}/done", OWNER, evidence="已" * 1_400_000)
    assert too_large.status_code == 413 and too_large.json() == {
        "code": "too_large", "detail": "提交的内容过大。"}
    unknown_path = api.client.delete(f"/api/milestones/{item}", headers=api.bearer(OFFICE))
    assert unknown_path.status_code == 405 and unknown_path.json()["code"] == (
        "method_not_allowed") and "GET" in unknown_path.headers["allow"]
    assert snapshot(api.engine) == before


def test_a_stale_version_or_a_wrong_state_is_refused_with_409(api: Api) -> None:
    item = api.world.construction
    shown = api.get(f"/milestones/{item}", OFFICE).json()["version"]
    wrong_state = api.post(f"/milestones/{item}/close", OFFICE)
    assert wrong_state.status_code == 409 and wrong_state.json() == {
        "code": "wrong_state",
        "detail": f"操作未完成：事项 {item} 当前状态为“办理中，尚未申报完成”，不能销号。"}
    api.post(f"/milestones/{item}/done", OWNER, evidence="已开工", version=shown)
    before = snapshot(api.engine)
    stale = api.post(f"/milestones/{item}/return", OFFICE, reason="佐证不足", version=shown)
    assert stale.status_code == 409 and stale.json() == {
        "code": "stale_version",
        "detail": f"操作未完成：事项 {item} 已被他人修改：请重新读取后再试。"}
    assert snapshot(api.engine) == before


def test_the_office_approves_an_owners_extension_request_and_the_due_date_moves(
        api: Api) -> None:
    item = api.world.construction
    asked = api.post(f"/milestones/{item}/extension", OWNER, proposed_due_on="2026-12-31",
                     reason="消防审批延后")
    assert asked.status_code == 200, asked.text
    assert asked.json()["pending_extension"]["proposed_due_on"] == "2026-12-31"
    assert asked.json()["pending_extension"]["requested_by"] == OWNER
    assert api.post(f"/milestones/{item}/extension/decision", OWNER,
                    approved=True).status_code == 403  # only the office decides
    decided = api.post(f"/milestones/{item}/extension/decision", OFFICE, approved=True,
                       reason="同意", version=asked.json()["version"])
    assert decided.status_code == 200, decided.text
    assert decided.json()["due_on"] == "2026-12-31" and decided.json()["light"] != "red"
    assert decided.json()["pending_extension"] is None
    assert api.milestone(item).due_on.isoformat() == "2026-12-31"
    [event] = api.events("milestone.extension_decided")
    assert (event.actor, event.reason, event.data["approved"]) == (OFFICE, "同意", True)


def test_the_office_closes_a_claimed_item_and_reopens_it(api: Api) -> None:
    item = api.world.fire_check
    api.post(f"/milestones/{item}/done", OWNER, evidence="消防验收合格意见书")
    closed = api.post(f"/milestones/{item}/close", OFFICE)  # no body: no reason given
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    reopened = api.post(f"/milestones/{item}/reopen", OFFICE, reason="复查发现问题",
                        version=closed.json()["version"])
    assert reopened.status_code == 200 and reopened.json()["state"] != "closed"
    assert [(e["kind"], e["actor"]) for e in reopened.json()["history"]
            if e["kind"] in ("milestone.closed", "milestone.reopened")] == [
        ("milestone.closed", OFFICE), ("milestone.reopened", OFFICE)]
