"""The web app as people use it: sign in, see their list, mark done, close out, follow links."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.settings import Settings
from models.rules.item_links import make_link_token
from models.tables.event import Event
from models.tables.message import Message
from models.tables.milestone import Milestone
from models.tables.person import Person
from services.runtime import build
from tests.conftest import PASSWORD, snapshot
from tests.world import RULES, World, build_world, give_passwords, sweep_world
from web.app import create_app

SECRET = "duban-web-test-secret-0123456789abcdef"
OFFICE, OWNER, OTHER_OWNER, LEADER = ("zhou.min@duban.example", "wang.fang@duban.example",
                                      "li.na@duban.example", "zhao@duban.example")


@dataclass
class Site:
    client: TestClient
    engine: sa.Engine
    world: World

    def person(self, email: str) -> Person:
        with Session(self.engine) as db:
            return db.exec(select(Person).where(Person.email == email)).one()

    def milestone(self, milestone_id: int) -> Milestone:
        with Session(self.engine) as db:
            return db.exec(select(Milestone).where(Milestone.id == milestone_id)).one()

    def events(self, kind: str) -> list[Event]:
        with Session(self.engine) as db:
            return list(db.exec(select(Event).where(Event.kind == kind)))

    def csrf(self, path: str = "/login") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    def login(self, email: str, password: str = PASSWORD) -> object:
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf": self.csrf()}, follow_redirects=False)

    def post(self, path: str, csrf: bool = True, **data: object) -> object:
        item_page = path.rsplit("/", 1)[0]
        form = {"csrf": self.csrf(item_page)} if csrf else {}
        return self.client.post(path, data=form | data, follow_redirects=False)


def follow_link(client: TestClient, link: str) -> httpx.Response:
    """Open an email link as a person does: the page it shows, then its button (a POST)."""
    page = client.get(link, follow_redirects=False)
    if page.status_code != 200:
        return page
    button = re.search(r'<form method="post" action="(/l/[^"]+)">\s*'
                       r'<input type="hidden" name="csrf" value="([^"]+)">', page.text)
    assert button, page.text
    return client.post(button.group(1), data={"csrf": button.group(2)}, follow_redirects=False)


@contextmanager
def open_site(engine: sa.Engine, session: Session, password_hash: str, tmp_path: Path,
              more: Callable[[Session], object] | None = None) -> Iterator[Site]:
    """The small world served by the app, everyone with PASSWORD; ``more`` adds people first."""
    world = build_world(session)
    if more is not None:
        more(session)
    give_passwords(session, password_hash)
    session.commit()
    sweep_world(engine)
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES, secret=SECRET))
    with TestClient(app) as client:
        yield Site(client, engine, world)


@pytest.fixture
def site(engine: sa.Engine, session: Session, password_hash: str,
         tmp_path: Path) -> Iterator[Site]:
    with open_site(engine, session, password_hash, tmp_path) as opened:
        yield opened


def test_a_wrong_password_is_refused_and_the_right_one_lands_on_the_list(site: Site) -> None:
    assert site.client.get("/", follow_redirects=False).headers["location"] == "/login"
    refused = site.login(OWNER, "not-the-password")
    assert refused.status_code == 401 and "邮箱或密码不正确" in refused.text
    assert site.login(OWNER).headers["location"] == "/todo"
    page = site.client.get("/")
    assert "开工建设" in page.text and "完成消防验收" in page.text
    assert "建成运营" not in page.text  # another unit's item
    assert "红灯" in page.text  # due 2025-09-30: overdue


def test_after_five_failed_sign_ins_the_sixth_is_refused_even_with_the_password(
        site: Site) -> None:
    for _ in range(5):
        assert site.login(OWNER, "wrong-wrong").status_code == 401
    blocked = site.login(OWNER)
    assert blocked.status_code == 429 and "登录失败次数过多" in blocked.text
    assert site.login(OFFICE).status_code == 303  # another email is not blocked


def test_an_owner_marks_an_item_of_their_unit_done_with_evidence(site: Site) -> None:
    site.login(OWNER)
    item = site.world.construction
    page = site.client.get(f"/milestones/{item}")
    assert "申报完成" in page.text and "销号" not in page.text
    done = site.post(f"/milestones/{item}/done", evidence="施工许可证已取得，已开工。",
                     version=site.milestone(item).version)
    assert done.status_code == 303 and done.headers["location"] == f"/milestones/{item}"
    assert site.milestone(item).state == "claimed"
    [event] = site.events("milestone.done_claimed")
    assert event.data["evidence"] == "施工许可证已取得，已开工。"
    assert event.actor_id == site.person(OWNER).id
    with Session(site.engine) as db:  # the owner is sent a confirmation
        assert db.exec(select(Message).where(Message.key == f"confirm:{event.id}")).one()
    assert "施工许可证已取得" in site.client.get(f"/milestones/{item}").text


def test_an_owner_of_another_unit_is_told_the_item_does_not_exist(site: Site) -> None:
    """The page and the action on an item one may not see answer as for a missing item."""
    site.login(OTHER_OWNER)
    item, missing = site.world.construction, 999999
    page = site.client.get(f"/milestones/{item}")
    absent = site.client.get(f"/milestones/{missing}")
    assert (page.status_code, absent.status_code) == (404, 404)
    assert page.text == absent.text and "没有这个事项" in page.text
    before = snapshot(site.engine)
    csrf = site.csrf("/")
    refused, absent = (site.client.post(f"/milestones/{i}/done",
                                        data={"csrf": csrf, "evidence": "不是我们的事项"})
                       for i in (item, missing))
    assert (refused.status_code, absent.status_code) == (404, 404)
    assert refused.text == absent.text
    assert snapshot(site.engine) == before


def test_a_post_without_the_csrf_token_changes_nothing(site: Site) -> None:
    site.login(OWNER)
    before = snapshot(site.engine)
    item = site.world.construction
    refused = site.post(f"/milestones/{item}/done", csrf=False, evidence="已开工")
    assert refused.status_code == 403
    forged = site.client.post(f"/milestones/{item}/done",
                              data={"csrf": "forged", "evidence": "已开工"})
    assert forged.status_code == 403
    assert snapshot(site.engine) == before


def test_the_office_closes_a_claimed_item(site: Site) -> None:
    item = site.world.construction
    site.login(OWNER)
    site.post(f"/milestones/{item}/done", evidence="已开工")
    site.client.post("/logout", data={"csrf": site.csrf("/")})
    site.login(OFFICE)
    page = site.client.get(f"/milestones/{item}")
    assert "销号" in page.text and "退回重办" in page.text
    closed = site.post(f"/milestones/{item}/close", version=site.milestone(item).version)
    assert closed.status_code == 303
    assert site.milestone(item).state == "closed"


def test_a_leader_reads_every_item_but_cannot_act(site: Site) -> None:
    site.login(LEADER)
    assert "建成运营" in site.client.get("/").text and "开工建设" in site.client.get("/").text
    item = site.world.neighbourhood
    page = site.client.get(f"/milestones/{item}")
    assert page.status_code == 200 and "申报完成" not in page.text
    before = snapshot(site.engine)
    for action in ("done", "close", "return"):
        refused = site.post(f"/milestones/{item}/{action}", evidence="x", reason="x")
        assert refused.status_code == 403
    assert snapshot(site.engine) == before


def test_a_signed_link_signs_the_owner_in_once(site: Site) -> None:
    owner, item = site.person(OWNER), site.world.construction
    token = make_link_token(secret=SECRET, person_id=owner.id, milestone_id=item,  # type: ignore
                            nonce=secrets.token_hex(16))
    before = site.milestone(item)
    opened = follow_link(site.client, f"/l/{token}")
    assert opened.status_code == 303 and opened.headers["location"] == f"/milestones/{item}"
    page = site.client.get(f"/milestones/{item}")
    assert page.status_code == 200 and "申报完成" in page.text
    assert site.milestone(item).version == before.version  # following a link changes nothing
    again = TestClient(site.client.app).get(f"/l/{token}", follow_redirects=False)
    assert again.status_code == 403 and "链接已使用" in again.text


def test_a_tampered_link_is_refused(site: Site) -> None:
    owner = site.person(OWNER)
    token = make_link_token(secret=SECRET, person_id=owner.id,  # type: ignore[arg-type]
                            milestone_id=site.world.construction, nonce=secrets.token_hex(16))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = site.client.get(f"/l/{tampered}", follow_redirects=False)
    assert refused.status_code == 403 and "链接无效" in refused.text
    forged = make_link_token(secret="another-secret", person_id=owner.id,  # type: ignore
                             milestone_id=site.world.construction, nonce="n")
    assert site.client.get(f"/l/{forged}", follow_redirects=False).status_code == 403
    assert site.client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_stale_form_is_refused_as_changed_by_someone_else(site: Site) -> None:
    item = site.world.construction
    site.login(OWNER)
    shown = site.milestone(item).version
    site.post(f"/milestones/{item}/done", evidence="已开工", version=shown)
    site.client.post("/logout", data={"csrf": site.csrf("/")})
    site.login(OFFICE)
    before = snapshot(site.engine)
    stale = site.post(f"/milestones/{item}/return", reason="佐证不足", version=shown)
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text
    assert snapshot(site.engine) == before
