"""The sign-in limiter holds against racing attempts, across restarts and across processes.

Each test races 30 wrong passwords for one owner: at most 5 are checked (argon2), the rest are
refused before any check, and then the right password is refused too while the email is blocked.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

import web.auth
from cli.web import served
from config.settings import Settings
from models.rules.sign_in_limits import SignInLimits, SignInRefused, refusal
from services.runtime import FixedClock, build
from tests.conftest import NOW, PASSWORD
from tests.world import RULES, build_world, give_passwords
from web.app import create_app

OWNER, OFFICE = "wang.fang@duban.example", "zhou.min@duban.example"
RACERS = 30
REPO = Path(__file__).resolve().parent.parent


# ── the rule ──────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("email", "address", "expected"), [
    (0, 0, None), (4, 19, None), (5, 0, SignInRefused.email), (0, 20, SignInRefused.address),
    (5, 20, SignInRefused.email)])
def test_the_limits_refuse_at_five_per_email_and_twenty_per_address(
        email: int, address: int, expected: SignInRefused | None) -> None:
    assert refusal(email_attempts=email, address_attempts=address,
                   limits=SignInLimits()) == expected


# ── a small world on each database ────────────────────────────────────────────────────────

@pytest.fixture
def people(engine: sa.Engine, password_hash: str) -> None:
    with Session(engine) as session:
        build_world(session)
        give_passwords(session, password_hash)
        session.commit()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords argon2 was asked to check, in this process."""
    checked: list[str] = []
    lock = threading.Lock()
    verify = web.auth.verify_password

    def counting(password: str, stored: str) -> tuple[bool, str | None]:
        with lock:
            checked.append(password)
        return verify(password, stored)

    monkeypatch.setattr(web.auth, "verify_password", counting)
    return checked


def app_on(engine: sa.Engine, tmp_path: Path, clock: FixedClock | None = None) -> Any:
    settings = Settings(data_dir=tmp_path / "data", base_url="http://testserver", smtp_host="")
    return create_app(build(settings, engine=engine, rules=RULES, clock=clock,
                            secret="limiter-test-secret-0123456789"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sign_in_form(base: str) -> tuple[str, str]:
    """A session cookie and its CSRF token, from the sign-in page."""
    page = httpx.get(f"{base}/login", timeout=10)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found and "duban_session" in page.cookies
    return page.cookies["duban_session"], found.group(1)


def race(bases: list[str], email: str, password: str, n: int = RACERS) -> list[int]:
    """`n` sign-ins at once, spread over `bases` in turn; their status codes."""
    forms = [sign_in_form(base) for base in bases]

    def attempt(i: int) -> int:
        cookie, csrf = forms[i % len(bases)]
        answer = httpx.post(f"{bases[i % len(bases)]}/login", timeout=60,
                            data={"email": email, "password": password, "csrf": csrf},
                            cookies={"duban_session": cookie})
        return answer.status_code

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(attempt, range(n)))


# ── racing, in one served app ─────────────────────────────────────────────────────────────

def test_thirty_racing_wrong_passwords_get_at_most_five_checks_then_the_right_one_is_refused(
        engine: sa.Engine, people: None, checks: list[str], tmp_path: Path) -> None:
    port = free_port()
    with served(app_on(engine, tmp_path), host="127.0.0.1", port=port):
        base = f"http://127.0.0.1:{port}"
        codes = race([base], OWNER, "wrong-wrong")
        assert len(checks) <= 5 and codes.count(401) == len(checks)
        assert codes.count(429) == RACERS - len(checks)
        assert race([base], OWNER, PASSWORD, n=1) == [429]
    assert PASSWORD not in checks  # refused before the check


# ── remembering ───────────────────────────────────────────────────────────────────────────

def post_login(client: TestClient, email: str, password: str) -> int:
    page = client.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf": found.group(1)},
                       follow_redirects=False).status_code


def test_the_limit_survives_a_restart_and_lifts_after_fifteen_minutes(
        engine: sa.Engine, people: None, tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    with TestClient(app_on(engine, tmp_path, clock)) as client:
        assert [post_login(client, OWNER, "wrong-wrong") for _ in range(5)] == [401] * 5
    with TestClient(app_on(engine, tmp_path, clock)) as client:  # a new process, as it were
        assert post_login(client, OWNER, PASSWORD) == 429
        clock.advance(minutes=14, seconds=59)
        assert post_login(client, OWNER, PASSWORD) == 429
        clock.advance(seconds=1)
        assert post_login(client, OWNER, PASSWORD) == 303


def test_a_success_clears_the_email_s_failures(engine: sa.Engine, people: None,
                                                tmp_path: Path) -> None:
    with TestClient(app_on(engine, tmp_path)) as client:
        assert [post_login(client, OWNER, "wrong-wrong") for _ in range(4)] == [401] * 4
        assert post_login(client, OWNER, PASSWORD) == 303
        assert [post_login(client, OWNER, "wrong-wrong") for _ in range(4)] == [401] * 4
        assert post_login(client, OWNER, PASSWORD) == 303


def test_twenty_failures_from_one_address_block_it_for_every_email(
        engine: sa.Engine, people: None, tmp_path: Path) -> None:
    with TestClient(app_on(engine, tmp_path)) as client:
        codes = [post_login(client, f"guess{i}@duban.example", "wrong-wrong") for i in range(20)]
        assert codes == [401] * 20
        assert post_login(client, OFFICE, PASSWORD) == 429
    with TestClient(app_on(engine, tmp_path), client=("192.0.2.7", 50000)) as elsewhere:
        assert post_login(elsewhere, OFFICE, PASSWORD) == 303  # another address is not


def test_old_attempts_are_pruned_by_the_next_reservation(
        engine: sa.Engine, people: None, tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    with TestClient(app_on(engine, tmp_path, clock)) as client:
        for i in range(3):
            post_login(client, f"guess{i}@duban.example", "wrong-wrong")
        clock.advance(minutes=16)
        post_login(client, OWNER, "wrong-wrong")
    with engine.connect() as connection:
        assert connection.execute(sa.text(
            "SELECT email FROM sign_in_attempt")).scalars().all() == [OWNER]


# ── across processes ──────────────────────────────────────────────────────────────────────

@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """`duban web ARGS…` as real processes on this test's database; each call gives its base
    URL once it answers (a bounded wait), and every process is stopped at the end."""
    (tmp_path / "data").mkdir()
    env = {**os.environ, "DUBAN_DATABASE_URL": database_url,
           "DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_CONFIG": str(tmp_path / "none.toml"),
           "DUBAN_SMTP_HOST": "", "PYTHONPATH": str(REPO)}
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> str:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "web", "--host", "127.0.0.1", "--port", str(port),
             *args], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"duban web {' '.join(args)} did not answer within 60 s")

    yield start
    for process in started:
        os.killpg(process.pid, 15)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


def test_the_limit_holds_across_two_web_processes_one_of_them_with_two_workers(
        people: None, serve: Callable[..., str]) -> None:
    bases = [serve("--workers", "2"), serve()]
    codes = race(bases, OWNER, "wrong-wrong")
    assert codes.count(401) <= 5 and codes.count(401) + codes.count(429) == RACERS
    assert race(bases, OWNER, PASSWORD, n=2) == [429, 429]  # one to each process
