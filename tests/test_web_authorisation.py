"""Every route and every API call, tried as each role and as nobody.

The table below says, for each route of the app, which permission it needs and on what: an item
of unit demo-mzj, or nothing (pages about all units). What each role may do is the agreed table
of tests/test_web_security.py (``expected``), written out by hand, not derived from the code.
A route missing from the table fails the test, so a new route cannot skip this check.

Each attempt is made the way a person would make it: signed in (a session for pages, a bearer
token for the API), with a valid CSRF token and a well-formed body, so that a refusal is the
authorisation's and nothing else's. A refused attempt answers 401/403 (or sends a page visitor
to /login), or 404 where a signed-in person may not see the item at all (`hidden`), and
changes no row and no file; an allowed one is not refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.settings import Settings
from models.rules.bulletin.editions import Edition
from models.rules.bulletin.periods import PeriodKind, period_ending_before
from models.rules.permissions import Action
from models.store.api_tokens import MAX_LIFETIME, issue_token
from models.store.orders import OrderWanted, issue_orders
from models.store.people import PersonIn, save_person
from models.tables.attachment import Attachment
from models.tables.escalation import EscalationStep
from models.tables.message import Message
from models.tables.milestone import Milestone
from models.tables.person import Person
from models.tables.unit import Unit
from notifications.bulletin.publish import generate
from services.runtime import build
from tests.conftest import NOW, PASSWORD, snapshot
from tests.test_web_security import expected
from tests.world import RULES, build_world, give_passwords
from web.app import create_app

SECRET = "duban-authorisation-test-secret-0123456789"
SIGNED_IN = "signed in"  # any active person
ITEM, NO_ITEM = "same unit", "item without unit"  # the scopes of test_web_security.SCOPES
SIGN = "sign receipt"  # 签收 of an order: a person of the order's unit, or the office for it

# (method, path) → (what it needs, on what); public routes need nothing and are tested elsewhere
PAGES: dict[tuple[str, str], tuple[str | Action, str] | None] = {
    ("GET", "/login"): None, ("POST", "/login"): None, ("GET", "/l/{token}"): None,
    ("POST", "/l/{token}"): None,
    ("POST", "/logout"): None,
    ("GET", "/"): (SIGNED_IN, NO_ITEM),
    ("GET", "/todo"): (SIGNED_IN, NO_ITEM),
    ("GET", "/milestones.xlsx"): (SIGNED_IN, NO_ITEM),  # each sees only the items they may
    ("POST", "/milestones/bulk"): (Action.close, ITEM),  # FORM's action; the item is ticked
    ("GET", "/calendar"): (SIGNED_IN, NO_ITEM),
    ("GET", "/bulletins"): (SIGNED_IN, NO_ITEM),
    # Ids.bulletin is an internal edition, for who sees every unit; the public edition, open to
    # everyone signed in, is tried in tests/test_web_bulletins.py.
    ("GET", "/bulletins/{bulletin_id}"): (Action.view_item, NO_ITEM),
    ("GET", "/bulletins/{bulletin_id}/chart.png"): (Action.view_item, NO_ITEM),
    ("GET", "/bulletins/{bulletin_id}/workbook.xlsx"): (Action.view_item, NO_ITEM),
    ("GET", "/bulletins/{bulletin_id}/bulletin.pdf"): (Action.view_item, NO_ITEM),
    ("GET", "/overview"): (Action.view_item, NO_ITEM),
    ("GET", "/people"): (Action.manage_people, NO_ITEM),
    ("POST", "/people"): (Action.manage_people, NO_ITEM),
    ("GET", "/people/{person_id}"): (Action.manage_people, NO_ITEM),
    ("POST", "/people/{person_id}"): (Action.manage_people, NO_ITEM),
    ("POST", "/people/{person_id}/deactivate"): (Action.manage_people, NO_ITEM),
    ("POST", "/people/{person_id}/reactivate"): (Action.manage_people, NO_ITEM),
    ("POST", "/people/{person_id}/password"): (Action.manage_people, NO_ITEM),
    ("GET", "/units"): (Action.manage_people, NO_ITEM),
    ("GET", "/units/{unit_id}"): (Action.manage_people, NO_ITEM),
    ("POST", "/units/{unit_id}"): (Action.manage_people, NO_ITEM),
    ("GET", "/outbox"): (Action.view_outbox, NO_ITEM),
    ("POST", "/outbox/{message_id}/retry"): (Action.view_outbox, NO_ITEM),
    ("GET", "/milestones/{milestone_id}"): (Action.view_item, ITEM),
    ("GET", "/projects/{project_id}"): (Action.view_item, ITEM),  # the milestone's project
    ("GET", "/attachments/{stored_as}"): (Action.view_item, ITEM),
    ("GET", "/units/{unit_code}/calendar.ics"): (Action.view_item, ITEM),
    ("POST", "/milestones/{milestone_id}/done"): (Action.claim_done, ITEM),
    ("POST", "/milestones/{milestone_id}/progress"): (Action.report_progress, ITEM),
    ("POST", "/milestones/{milestone_id}/indicator"): (Action.report_progress, ITEM),
    ("POST", "/milestones/{milestone_id}/extension"): (Action.request_extension, ITEM),
    ("POST", "/milestones/{milestone_id}/extension/approve"): (Action.decide_extension, ITEM),
    ("POST", "/milestones/{milestone_id}/extension/reject"): (Action.decide_extension, ITEM),
    ("POST", "/milestones/{milestone_id}/acknowledge"): (Action.acknowledge, ITEM),
    ("POST", "/milestones/{milestone_id}/snooze"): (Action.snooze, ITEM),
    ("POST", "/milestones/{milestone_id}/reopen"): (Action.reopen, ITEM),
    ("POST", "/milestones/{milestone_id}/waive"): (Action.waive, ITEM),
    ("POST", "/milestones/{milestone_id}/major"): (Action.mark_major, ITEM),
    ("POST", "/milestones/{milestone_id}/close"): (Action.close, ITEM),
    ("POST", "/milestones/{milestone_id}/return"): (Action.return_for_redo, ITEM),
    ("POST", "/milestones/{milestone_id}/instruction"): (Action.instruct, ITEM),
    ("POST", "/milestones/{milestone_id}/chase"): (Action.chase, ITEM),
    ("POST", "/milestones/{milestone_id}/transfer"): (Action.transfer, ITEM),
    ("GET", "/orders/{order_id}.pdf"): (Action.view_item, ITEM),
    ("POST", "/orders/{order_id}/receipt"): (SIGN, ITEM),
    ("GET", "/r/{token}"): None, ("POST", "/r/{token}"): None,
}
# Every field any page form reads: each route takes what it needs and ignores the rest.
FORM = {"evidence": "已开工", "percent": "50", "note": "主体完工", "indicator_id": "1",
        "value": "10", "proposed": "2027-03-31", "new_due_on": "", "reason": "理由",
        "until": "2027-01-15", "major": "1", "name": "新人", "email": "new.person@duban.example",
        "role": "owner", "unit": "demo-mzj", "phone": "", "password": "Duban-新密码-2026!",
        "password_again": "Duban-新密码-2026!", "confirm": "Duban-新密码-2026!",
        "contact_name": "联络人", "contact_email": "contact@duban.example", "action": "close",
        "ids": "{milestone_id}:1", "text": "抓紧推进", "to_unit": "demo-jd"}

ITEM_API = "/milestones/{milestone_id}"
API: dict[tuple[str, str], tuple[str | Action, str, dict[str, Any] | None]] = {
    ("GET", "/me"): (SIGNED_IN, NO_ITEM, None),
    ("GET", "/plans"): (SIGNED_IN, NO_ITEM, None),
    ("GET", "/units"): (SIGNED_IN, NO_ITEM, None),
    ("GET", "/milestones"): (SIGNED_IN, NO_ITEM, None),
    ("GET", "/todo"): (SIGNED_IN, NO_ITEM, None),
    ("POST", "/milestones/bulk"): (Action.close, ITEM, {"action": "close",
                                                        "ids": ["{milestone_id}"]}),
    ("GET", ITEM_API): (Action.view_item, ITEM, None),
    ("POST", f"{ITEM_API}/done"): (Action.claim_done, ITEM, {"evidence": "已开工"}),
    ("POST", f"{ITEM_API}/progress"): (Action.report_progress, ITEM, {"percent": 50}),
    ("POST", f"{ITEM_API}/extension"): (Action.request_extension, ITEM, {
        "proposed_due_on": "2027-03-31", "reason": "审批延后"}),
    ("POST", f"{ITEM_API}/extension/decision"): (Action.decide_extension, ITEM, {
        "approved": False, "reason": "不同意"}),
    ("POST", f"{ITEM_API}/acknowledge"): (Action.acknowledge, ITEM, {}),
    ("POST", f"{ITEM_API}/snooze"): (Action.snooze, ITEM, {
        "until": "2027-01-15", "reason": "待审批"}),
    ("POST", f"{ITEM_API}/close"): (Action.close, ITEM, {}),
    ("POST", f"{ITEM_API}/return"): (Action.return_for_redo, ITEM, {"reason": "佐证不足"}),
    ("POST", f"{ITEM_API}/reopen"): (Action.reopen, ITEM, {"reason": "复查"}),
    ("POST", f"{ITEM_API}/waive"): (Action.waive, ITEM, {"reason": "政策调整"}),
    ("POST", f"{ITEM_API}/major"): (Action.mark_major, ITEM, {"major": True, "reason": "关注"}),
    ("POST", f"{ITEM_API}/instruction"): (Action.instruct, ITEM, {"text": "抓紧推进"}),
    ("POST", f"{ITEM_API}/chase"): (Action.chase, ITEM, {}),
    ("POST", f"{ITEM_API}/transfer"): (Action.transfer, ITEM, {"to_unit": "demo-jd",
                                                               "reason": "职责调整"}),
    ("GET", "/orders"): (SIGNED_IN, NO_ITEM, None),
    ("GET", "/orders/{reference}"): (Action.view_item, ITEM, None),
    ("GET", "/orders/{reference}/pdf"): (Action.view_item, ITEM, None),
    ("POST", "/orders/{reference}/receipt"): (SIGN, ITEM, None),
}

# who: (role for the expectation table, email); the item belongs to demo-mzj
WHO = {"nobody": (None, None), "owner of the unit": ("owner", "wang.fang@duban.example"),
       "owner of another unit": ("owner", "li.na@duban.example"),
       "leader": ("leader", "zhao@duban.example"), "office": ("office", "zhou.min@duban.example"),
       "admin": ("admin", "admin@duban.example"), "deactivated office": ("office",
                                                                        "gone@duban.example")}


def may(who: str, needs: str | Action, scope: str) -> bool:
    role, _ = WHO[who]
    if role is None or who == "deactivated office":
        return False
    if needs == SIGNED_IN:
        return True
    if needs == SIGN:
        return role == "office" or who == "owner of the unit"
    if who == "owner of another unit" and scope == ITEM:
        scope = "other unit"
    return expected(role, needs.value if isinstance(needs, Action) else needs, scope)


def hidden(who: str, needs: str | Action, scope: str, path: str) -> bool:
    """Whether a refusal must answer 404, as for a missing item: a signed-in person who may
    not see the item (or its files) is not told it exists. Units are public: a unit's
    calendar says why it is refused; so is a bulk action, which names each item it refuses
    and is the office's."""
    signed_in = WHO[who][0] is not None and who != "deactivated office"
    return (signed_in and needs != SIGNED_IN and scope == ITEM
            and not may(who, Action.view_item, scope) and path != "/milestones/bulk"
            and path.startswith(("/milestones/", "/attachments/", "/orders/")))


@dataclass
class Ids:
    milestone: int
    person: int  # a bystander, so that allowed changes to them do not sign anyone out
    unit: int
    unit_code: str
    message: int
    stored_as: str
    bulletin: int  # an internal edition
    project: int  # the milestone's
    order: int  # a 督办单 to the milestone's unit

    def fill(self, path: str) -> str:
        return path.format(milestone_id=self.milestone, project_id=self.project,
                           person_id=self.person,
                           unit_id=self.unit, unit_code=self.unit_code,
                           message_id=self.message, stored_as=self.stored_as,
                           bulletin_id=self.bulletin, order_id=self.order,
                           reference=self.order)



@pytest.fixture
def app_and_ids(engine: sa.Engine, session: Session, password_hash: str,
                tmp_path: Path) -> Iterator[tuple[Any, Ids, dict[str, str]]]:
    world = build_world(session)
    for email, role in (("admin@duban.example", "admin"), ("gone@duban.example", "office"),
                        ("bystander@duban.example", "owner")):
        save_person(session=session, person_in=PersonIn(
            name=email.split("@")[0], email=email, role=role,
            unit="demo-mzj" if role == "owner" else None), actor="test", now=NOW)
    give_passwords(session, password_hash)
    people = list(session.exec(select(Person)))
    tokens = {p.email: issue_token(session=session, person=p, label="t", actor="test", now=NOW,
                              expires_in=MAX_LIFETIME)  # the app reads the real clock
              for p in people}
    milestone = session.get(Milestone, world.construction)
    assert milestone is not None
    unit = session.get(Unit, milestone.unit_id)
    assert unit is not None and unit.code == "demo-mzj"
    data = tmp_path / "data"
    (data / "attachments").mkdir(parents=True)
    (data / "attachments" / "k3y").write_bytes(b"%PDF-1.4 evidence")
    session.add(Attachment(milestone_id=milestone.id, name="许可证.pdf",  # type: ignore[arg-type]
                           content_type="application/pdf", size=17, sha256="0" * 64,
                           stored_as="k3y"))
    message = Message(key="m1", channel="email", address="x@duban.example", recipient="x",
                      template="item_closed", subject="s", body_text="t", body_html="h",
                      raw=b"raw", message_id="<m1@duban>", status="dead", attempts=5,
                      next_attempt_at=NOW, created_at=NOW, meta={})
    session.add(message)
    step = EscalationStep(milestone_id=milestone.id, due_on=milestone.due_on,  # type: ignore[arg-type]
                          level=2, repeat=0, reason="overdue", as_of=RULES.today(NOW))
    session.add(step)
    session.flush()
    order = issue_orders(session, [OrderWanted(
        milestone_id=milestone.id, escalation_id=step.id, unit_id=unit.id,  # type: ignore[arg-type]
        level=2, level_name="督办单", reason="逾期", due_on=milestone.due_on,
        overdue_workdays=6, issued_on=RULES.today(NOW), receipt_due_on=RULES.today(NOW),
        office="民政", number_format="{office}督〔{year}〕{n}号", feedback_workdays=5)],
        NOW)[step.id]  # type: ignore[index]
    settings = Settings(data_dir=data, base_url="http://testserver", smtp_host="")
    bulletin, _ = generate(session=session, rules=RULES, settings=settings, plan=None,
                           period=period_ending_before(PeriodKind.week, RULES.today(NOW)),
                           edition=Edition.internal, actor="test", now=NOW)
    session.commit()
    bystander = session.exec(select(Person).where(
        Person.email == "bystander@duban.example")).one()
    ids = Ids(milestone=world.construction, person=bystander.id,  # type: ignore[arg-type]
              unit=unit.id, unit_code=unit.code, message=message.id,  # type: ignore[arg-type]
              stored_as="k3y", bulletin=bulletin.id, order=order.id,  # type: ignore[arg-type]
              project=session.get(Milestone, world.construction).project_id)  # type: ignore[union-attr]
    yield create_app(build(settings, engine=engine, rules=RULES, secret=SECRET)), ids, tokens


def routes_of(app: Any) -> set[tuple[str, str]]:
    schema = app.openapi()["paths"]
    return {(method.upper(), path) for path, methods in schema.items() for method in methods}


def test_every_route_is_in_the_table(app_and_ids: tuple[Any, Ids, dict[str, str]]) -> None:
    app, _, _ = app_and_ids
    assert routes_of(app) == set(PAGES)
    [api] = [r.app for r in app.routes if getattr(r, "path", None) == "/api"]
    assert routes_of(api) == set(API)


def files(app_data: Path) -> list[str]:
    return sorted(str(p.relative_to(app_data)) for p in app_data.rglob("*") if p.is_file())


@pytest.mark.parametrize("who", list(WHO))
def test_every_page_refuses_whom_it_must_and_changes_nothing(
        who: str, app_and_ids: tuple[Any, Ids, dict[str, str]], engine: sa.Engine,
        tmp_path: Path) -> None:
    app, ids, _ = app_and_ids
    _, email = WHO[who]
    with TestClient(app) as client:
        if email is not None:
            signed = client.post("/login", data={"email": email, "password": PASSWORD,
                                                 "csrf": csrf(client, "/login")},
                                 follow_redirects=False)
            assert signed.status_code == 303, f"{who} could not sign in"
        token = csrf(client, "/login")
        if who == "deactivated office":  # signed in, then deactivated by someone else
            with engine.begin() as connection:
                connection.execute(sa.update(Person).where(Person.email == email)
                                   .values(active=False))
        for (method, path), need in sorted(PAGES.items(), key=lambda kv: kv[0][0]):
            if need is None:
                continue
            needs, scope = need
            url = ids.fill(path)
            before, stored = snapshot(engine), files(tmp_path / "data")
            form = FORM | {"csrf": token, "ids": ids.fill(FORM["ids"])}
            answer = client.request(method, url, follow_redirects=False,
                                    data=form if method == "POST" else None)
            refused = answer.status_code in (401, 403, 404) or (
                answer.status_code == 303 and answer.headers["location"] == "/login")
            if may(who, needs, scope):
                assert not refused, f"{who}: {method} {url} was refused ({answer.status_code})"
            else:
                assert refused, f"{who}: {method} {url} was let through ({answer.status_code})"
                assert snapshot(engine) == before, f"{who}: {method} {url} changed rows"
                assert files(tmp_path / "data") == stored, f"{who}: {method} {url} wrote files"
                assert (answer.status_code == 404) is hidden(who, needs, scope, path), (
                    who, method, url, answer.status_code)


@pytest.mark.parametrize("who", list(WHO))
def test_every_api_call_refuses_whom_it_must_and_changes_nothing(
        who: str, app_and_ids: tuple[Any, Ids, dict[str, str]], engine: sa.Engine) -> None:
    app, ids, tokens = app_and_ids
    _, email = WHO[who]
    headers = {"Authorization": f"Bearer {tokens[email]}"} if email else {}
    if who == "deactivated office":
        with engine.begin() as connection:
            connection.execute(sa.update(Person).where(Person.email == email)
                               .values(active=False))
    with TestClient(app) as client:
        for (method, path), (needs, scope, body) in API.items():
            url = "/api" + ids.fill(path)
            before = snapshot(engine)
            if body is not None and "ids" in body:
                body = body | {"ids": [int(ids.fill(i)) for i in body["ids"]]}
            answer = client.request(method, url, headers=headers, json=body)
            refused = answer.status_code in (401, 403, 404)
            if may(who, needs, scope):
                assert not refused, f"{who}: {method} {url} was refused ({answer.text})"
            else:
                assert refused, f"{who}: {method} {url} was let through ({answer.status_code})"
                assert snapshot(engine) == before, f"{who}: {method} {url} changed rows"
                expected_status = (401 if email is None or who == "deactivated office"
                                   else 404 if hidden(who, needs, scope, path) else 403)
                assert answer.status_code == expected_status, (who, url, answer.text)


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)
