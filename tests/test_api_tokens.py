"""API tokens as the office hands them out: they expire, they may be read-only, and the office
sees when each was last used, without a write on every call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.settings import Settings
from models.store.api_tokens import issue_token
from models.tables.api_token import ApiToken
from models.tables.person import Person
from services.runtime import build
from tests.conftest import NOW, snapshot
from tests.test_web_api import CHANGES, OFFICE
from tests.world import RULES, World, build_world
from web.app import create_app


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Site:
    client: TestClient
    engine: sa.Engine
    session: Session
    world: World
    clock: Clock
    statements: list[str] = field(default_factory=list)

    def issue(self, email: str, **options: Any) -> str:
        person = self.session.exec(select(Person).where(Person.email == email)).one()
        token = issue_token(session=self.session, person=person, label="脚本", actor="test",
                            now=options.pop("now", self.clock.now), **options)
        self.session.commit()
        return token

    def get(self, path: str, token: str) -> httpx.Response:
        return self.client.get(f"/api{path}", headers={"Authorization": f"Bearer {token}"})

    def post(self, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"/api{path}", json=body,
                                headers={"Authorization": f"Bearer {token}"})

    def stored(self) -> ApiToken:
        with Session(self.engine) as db:
            return db.exec(select(ApiToken)).one()


@pytest.fixture
def site(engine: sa.Engine, session: Session, tmp_path: Path) -> Iterator[Site]:
    world, clock = build_world(session), Clock()
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES,
                           secret="duban-token-test-secret-0123456789abcdef", clock=clock))
    opened = Site(TestClient(app), engine, session, world, clock)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        opened.statements.append(statement)

    with opened.client:
        yield opened
    sa.event.remove(engine, "before_cursor_execute", _seen)


def test_a_read_only_token_reads_and_every_change_is_refused_in_chinese(site: Site) -> None:
    token = site.issue(OFFICE, read_only=True)
    item = site.world.construction
    assert site.get("/milestones", token).status_code == 200
    assert site.get(f"/milestones/{item}", token).json()["title"] == "开工建设"
    before = snapshot(site.engine)
    for change, body in CHANGES.items():
        refused = site.post(f"/milestones/{item}/{change}", token, body)
        assert refused.status_code == 403, change
        assert "只读" in refused.json()["detail"], refused.text
    assert snapshot(site.engine) == before
    writable = site.issue(OFFICE)  # the same person, with a token that may write
    assert site.post(f"/milestones/{item}/progress", writable, {"percent": 50}).status_code == 200


def test_an_expired_token_is_refused_with_401_saying_when(site: Site) -> None:
    old = site.issue(OFFICE, now=NOW - timedelta(days=91))  # the default: 90 days
    refused = site.get("/me", old)
    assert refused.status_code == 401
    assert "已过期" in refused.json()["detail"] and "duban people token" in refused.json()["detail"]
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    recent = site.issue(OFFICE, now=NOW - timedelta(days=89))
    assert site.get("/me", recent).status_code == 200
    short = site.issue(OFFICE, expires_in=timedelta(days=1))
    assert site.get("/me", short).status_code == 200
    site.clock.now = NOW + timedelta(days=1)  # its last moment is gone
    assert site.get("/me", short).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(site: Site) -> None:
    token = site.issue(OFFICE)
    assert site.stored().last_used_at is None
    site.statements.clear()
    for second in range(0, 60, 6):  # ten calls within one minute
        site.clock.now = NOW + timedelta(seconds=second)
        assert site.get("/me", token).status_code == 200
    writes = [s for s in site.statements if s.lstrip().upper().startswith("UPDATE API_TOKEN")]
    assert len(writes) == 1
    assert site.stored().last_used_at == NOW
    site.clock.now = NOW + timedelta(seconds=61)
    site.get("/plans", token)
    assert site.stored().last_used_at == NOW + timedelta(seconds=61)
