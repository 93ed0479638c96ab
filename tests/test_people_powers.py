"""No one grants a power they do not hold: an admin manages owners, leaders and admins, never
an office account; the office manages everyone (issue 15, item 6)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.rules.permissions import may_manage
from models.store.people import PersonIn, save_person
from models.tables.person import Person
from tests.conftest import PASSWORD, snapshot
from tests.test_web_app import OFFICE, OWNER, Site, open_site
from tests.world import NOW

ADMIN = "admin@duban.example"
NEW_PASSWORD = "管理员-改密码-2026"
# actor → the roles they may manage; written out from the rule as agreed, not derived from it
MANAGES = {"office": {"office", "admin", "leader", "owner"},
           "admin": {"admin", "leader", "owner"}, "leader": set(), "owner": set(),
           "visitor": set()}
TARGETS = ["office", "admin", "leader", "owner", "visitor"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("actor", list(MANAGES))
def test_the_manage_table(actor: str, target: str) -> None:
    assert may_manage(actor_role=actor, target_role=target) is (target in MANAGES[actor])


def test_a_deactivated_office_clerk_manages_no_one() -> None:
    assert not may_manage(actor_role="office", target_role="owner", active=False)


@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[Site]:
    def admin(db: Session) -> None:
        save_person(session=db, person_in=PersonIn(name="管理员", email=ADMIN, role="admin"),
                    actor="test", now=NOW)

    with open_site(engine, session, password_hash, tmp_path, more=admin) as opened:
        yield opened


def as_(site: Site, email: str) -> TestClient:
    client = TestClient(site.client.app)
    client.post("/login", data={"email": email, "password": PASSWORD,
                                "csrf": csrf(client, "/login")}, follow_redirects=False)
    return client


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def post(client: TestClient, path: str, **data: str) -> int:
    answer = client.post(path, data={"csrf": csrf(client, "/people")} | data,
                         follow_redirects=False)
    if answer.status_code == 403:
        assert "不能授予自己没有的权限" in answer.text
    return answer.status_code


NEWCOMER = {"name": "新督查员", "email": "new.clerk@duban.example", "unit": "", "phone": ""}


def test_an_admin_cannot_create_an_office_person_and_nothing_changes(site: Site) -> None:
    before = snapshot(site.engine)
    assert post(as_(site, ADMIN), "/people", **NEWCOMER, role="office") == 403
    assert snapshot(site.engine) == before
    assert post(as_(site, ADMIN), "/people", **NEWCOMER, role="leader") == 303


def test_an_admin_cannot_promote_someone_to_office_nor_change_an_office_clerk(
        site: Site) -> None:
    admin, owner, office = as_(site, ADMIN), site.person(OWNER), site.person(OFFICE)
    before = snapshot(site.engine)
    assert post(admin, f"/people/{owner.id}", name=owner.name, role="office",
                unit="", phone="") == 403
    assert post(admin, f"/people/{office.id}", name=office.name, role="leader",
                unit="", phone="") == 403
    assert post(admin, f"/people/{office.id}/deactivate", reason="") == 403
    assert snapshot(site.engine) == before
    assert site.person(OWNER).role == "owner"


def test_an_admin_cannot_reset_an_office_users_password(site: Site) -> None:
    office = site.person(OFFICE)
    assert post(as_(site, ADMIN), f"/people/{office.id}/password", password=NEW_PASSWORD,
                confirm=NEW_PASSWORD) == 403
    assert site.person(OFFICE).password_hash == office.password_hash


def test_an_admin_still_manages_owners(site: Site) -> None:
    owner = site.person(OWNER)
    assert post(as_(site, ADMIN), f"/people/{owner.id}/password", password=NEW_PASSWORD,
                confirm=NEW_PASSWORD) == 303


def test_the_office_creates_promotes_and_resets_office_people(site: Site) -> None:
    office = as_(site, OFFICE)
    assert post(office, "/people", **NEWCOMER, role="office") == 303
    with Session(site.engine) as db:
        assert db.exec(select(Person).where(Person.email == NEWCOMER["email"])).one().role \
            == "office"
    admin = site.person(ADMIN)
    assert post(office, f"/people/{admin.id}", name=admin.name, role="office", unit="",
                phone="") == 303
    assert site.person(ADMIN).role == "office"
    clerk = site.person(NEWCOMER["email"])
    assert post(office, f"/people/{clerk.id}/password", password=NEW_PASSWORD,
                confirm=NEW_PASSWORD) == 303
