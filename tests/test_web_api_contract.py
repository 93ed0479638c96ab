"""The API does what its OpenAPI document says, for every role: a schemathesis run, no failure.

Schemathesis reads /api/openapi.json from the app served by uvicorn on loopback over the small
world, and generates requests from it: the schema's examples and boundaries (coverage), random
valid and invalid data (fuzzing), and sequences that follow the document's links (stateful).
Every check runs on every answer: no server error; only documented statuses, content types,
headers and bodies; what the document refuses is refused, what it allows is not refused as
input (422). It runs once with each role's token (office, owner, leader, admin), one after the
other on the same world, so later runs meet the milestones earlier ones changed. Half of the
milestone ids it tries are the world's, so the actions themselves run, not only their 404s.

Bounded: a fixed seed (the same cases on every run, so a failure reproduces), a few examples
per operation, no example database written. (Not schemathesis' ``--max-time``: that repeats
fuzzing until the time is spent.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from schemathesis.cli import schemathesis
from sqlmodel import Session, select

from cli.web import served
from config.settings import Settings
from models.store.api_tokens import issue_token
from models.store.people import PersonIn, save_person
from models.tables.milestone import Milestone
from models.tables.person import Person
from services.runtime import build
from tests.conftest import NOW
from tests.smtp_server import free_port
from tests.world import RULES, build_world
from web.app import create_app

ROLES = {"office": "zhou.min@duban.example", "owner": "wang.fang@duban.example",
         "leader": "zhao@duban.example", "admin": "admin@duban.example"}
MAX_EXAMPLES = 3  # per operation and phase; the coverage phase adds its boundary cases
SEED = 20261202


@dataclass
class LiveApi:
    url: str
    tokens: dict[str, str]  # role → token
    milestone_ids: list[int]


@pytest.fixture
def live_api(engine: sa.Engine, session: Session, tmp_path: Path) -> Iterator[LiveApi]:
    build_world(session)
    save_person(session=session, person_in=PersonIn(name="管理员", email=ROLES["admin"],
                                                     role="admin"), actor="test", now=NOW)
    session.commit()
    people = {p.email: p for p in session.exec(select(Person))}
    tokens = {role: issue_token(session=session, person=people[email], label="schemathesis",
                                actor="test", now=NOW) for role, email in ROLES.items()}
    session.commit()
    ids = sorted(i for i in session.exec(select(Milestone.id)) if i is not None)
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", base_url=f"http://127.0.0.1:{port}",
                        smtp_host="")
    app = create_app(build(settings, engine=engine, rules=RULES,
                           secret="duban-contract-test-secret-0123456789", clock=lambda: NOW))
    with served(app, host="127.0.0.1", port=port):
        yield LiveApi(f"http://127.0.0.1:{port}", tokens, ids)


def run_schemathesis(api: LiveApi, role: str, folder: Path) -> tuple[dict[str, object], str]:
    """One `st run` with `role`'s token: its JSON report and what it printed."""
    folder.mkdir()
    config = folder / "schemathesis.toml"
    config.write_text(f"""\
[cache]
enabled = false  # no crash replays from an earlier run: each run is the seed's alone

[dictionaries.milestones]
values = {json.dumps(api.milestone_ids)}

[parameters]
"path.milestone_id" = {{ dictionary = "milestones", probability = 0.5 }}
""", "utf-8")
    report = folder / "report.json"
    result = CliRunner().invoke(schemathesis, [
        "--config-file", str(config), "run", f"{api.url}/api/openapi.json",
        "--checks", "all", "--header", f"Authorization: Bearer {api.tokens[role]}",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--generation-database", "none",
        "--request-timeout", "10", "--report", "json", "--report-json-path", str(report),
        "--report-dir", str(folder)])
    assert report.exists(), f"schemathesis wrote no report:\n{result.output}"
    return json.loads(report.read_text("utf-8")), result.output


@pytest.mark.timeout(600)
def test_every_role_gets_only_what_the_openapi_document_promises(
        live_api: LiveApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # its --no-color would set it for the whole process
    generated, failed = {}, {}
    for role in ROLES:
        report, output = run_schemathesis(live_api, role, tmp_path / role)
        cases, operations = report["test_cases"], report["operations"]
        assert isinstance(cases, dict) and isinstance(operations, dict)
        generated[role] = cases["generated"]
        untested = operations["total"] - operations["tested"] + operations["errored"]
        if report["failures"] or report["errors"] or untested or not report["complete"]:
            failed[role] = output
    print(f"schemathesis cases generated: {generated}")
    assert not failed, "\n\n".join(f"── {role} ──\n{out}" for role, out in failed.items())
    assert all(n > 300 for n in generated.values()), generated  # every phase ran
