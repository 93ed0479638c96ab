"""Group-chat webhooks against a local robot that speaks DingTalk's and WeCom's protocol.

The robot runs on 127.0.0.1 in a thread, records every request and answers what the test
scripts; for DingTalk it checks the 加签 signature the way DingTalk does. Nothing leaves the
machine, and every wait is bounded by a 1-second client timeout.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from config.channels import Channels, ChannelsInvalid, QuietHours, WebhookTarget, load_channels
from notifications.outcome import Delivered, Failed
from notifications.webhooks import escape_markdown, next_send_time, payload, post, sign_dingtalk
from tests.loopback_http import serving

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW_MS = 1_795_000_000_009  # its DingTalk sign holds + and /, which must arrive encoded
SECRET = "SEC0123456789abcdef+/="
OK = (200, {"errcode": 0, "errmsg": "ok"})
INJECTION = "[点我](http://evil.example) ![x](http://evil.example/a.png) <script>"


# --- the local robot -----------------------------------------------------------------------

@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: dict[str, Any]


@dataclass
class Robot:
    """What the fake group robot received, and what it will answer."""

    base: str
    secret: str | None = None  # DingTalk 加签: verify every request's sign with this key
    answer: tuple[int, Any] = OK
    received: list[Received] = field(default_factory=list)

    def url(self, query: str) -> str:
        return f"{self.base}/robot/send?{query}"

    def respond(self, request: Received) -> tuple[int, Any]:
        if self.secret is not None and not _signature_holds(request.query, self.secret):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        return self.answer


def _signature_holds(query: dict[str, list[str]], secret: str) -> bool:
    """DingTalk's check: HMAC-SHA256 over "timestamp\\nsecret", base64, compared with sign."""
    if "timestamp" not in query or "sign" not in query:
        return False
    timestamp = query["timestamp"][0]
    expected = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                        hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(expected).decode(), query["sign"][0])


def _handler(robot: Robot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = Received(parts.path, parse_qs(parts.query),
                               self.headers.get("Content-Type", ""), json.loads(raw))
            robot.received.append(request)
            status, body = robot.respond(request)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def robot() -> Iterator[Robot]:
    robot = Robot(base="")
    with serving(_handler(robot)) as base:
        robot.base = base
        yield robot


@pytest.fixture
async def client() -> Any:
    async with httpx.AsyncClient(timeout=1.0) as client:
        yield client


def dingtalk(url: str, secret: str | None = SECRET) -> WebhookTarget:
    return WebhookTarget(name="西湖区民政局工作群", kind="dingtalk", url=url, secret=secret,
                         units=["xihu-mzj"])


def wecom(url: str) -> WebhookTarget:
    return WebhookTarget(name="区督查室", kind="wecom", url=url, roles=["office"])


# --- DingTalk ------------------------------------------------------------------------------

async def test_dingtalk_post_arrives_signed_in_the_markdown_shape(robot, client) -> None:
    robot.secret = SECRET
    target = dingtalk(robot.url("access_token=TOKEN123"))
    outcome = await post(target, "督办通知：2项事项", "### 督办通知\n- 区社会福利中心二期工程",
                         client=client, now_ms=NOW_MS)
    assert outcome == Delivered("errcode 0 ok")
    [request] = robot.received
    assert request.path == "/robot/send"
    assert request.query["access_token"] == ["TOKEN123"]
    assert request.query["timestamp"] == [str(NOW_MS)]
    assert request.content_type.startswith("application/json")
    assert request.body == {"msgtype": "markdown", "markdown": {
        "title": "督办通知：2项事项", "text": "### 督办通知\n- 区社会福利中心二期工程"}}


async def test_a_wrong_secret_fails_dingtalks_signature_check(robot, client) -> None:
    robot.secret = SECRET
    target = dingtalk(robot.url("access_token=TOKEN123"), secret="SECsomeoneelse")
    outcome = await post(target, "督办通知", "正文", client=client, now_ms=NOW_MS)
    assert isinstance(outcome, Failed) and outcome.permanent
    assert "310000" in outcome.reason and "sign not match" in outcome.reason
    assert "TOKEN123" not in outcome.reason


def test_signing_keeps_the_token_and_replaces_an_old_signature() -> None:
    once = sign_dingtalk("https://oapi.dingtalk.com/robot/send?access_token=T", SECRET, 1000)
    twice = sign_dingtalk(once, SECRET, 2000)
    query = parse_qs(urlsplit(twice).query)
    assert query["access_token"] == ["T"] and query["timestamp"] == ["2000"]
    assert len(query["sign"]) == 1 and _signature_holds(query, SECRET)
    assert "+" not in twice.split("sign=")[1]  # base64's + / = are percent-encoded


# --- WeCom ---------------------------------------------------------------------------------

async def test_wecom_post_arrives_in_the_markdown_shape_with_the_title_as_heading(
        robot, client) -> None:
    outcome = await post(wecom(robot.url("key=KEY-693a")), "督办通知：1项事项",
                         "- **督办单** 区社会福利中心二期工程", client=client, now_ms=NOW_MS)
    assert isinstance(outcome, Delivered)
    [request] = robot.received
    assert request.query == {"key": ["KEY-693a"]}
    assert request.body == {"msgtype": "markdown", "markdown": {
        "content": "### 督办通知：1项事项\n- **督办单** 区社会福利中心二期工程"}}


def test_a_body_that_opens_with_a_heading_is_not_given_a_second_one() -> None:
    body = payload("wecom", "督办通知", "### 督办通知\n- 一项")
    assert body["markdown"]["content"] == "### 督办通知\n- 一项"


@pytest.mark.parametrize("unit", ["民", "𠀀", "a民"])  # 3-byte, 4-byte, and shifted by one byte
async def test_a_long_chinese_wecom_message_is_cut_to_4096_bytes_on_a_character(
        robot, client, unit: str) -> None:
    markdown = unit * 3000
    await post(wecom(robot.url("key=K")), "督办通知", markdown, client=client, now_ms=NOW_MS)
    content = robot.received[0].body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert content.endswith("…")
    kept = content.removeprefix("### 督办通知\n").removesuffix("\n…")
    assert markdown.startswith(kept) and len(kept.encode()) > 4000


def test_a_cut_falls_on_a_line_end_when_one_is_near() -> None:
    lines = [f"- **督办单** 第{n}项 区社会福利中心二期工程（到期 2026-11-30）" for n in range(200)]
    content = payload("wecom", "督办通知", "\n".join(lines))["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.splitlines()[-2] in lines and content.splitlines()[-1] == "…"


# --- what comes back ----------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "answer", "permanent"), [
    ("dingtalk", (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
     False),
    ("dingtalk", (200, {"errcode": -1, "errmsg": "系统繁忙"}), False),
    ("wecom", (200, {"errcode": 45009, "errmsg": "api freq out of limit"}), False),
    ("wecom", (503, b"<html>busy</html>"), False),
    ("dingtalk", (429, b""), False),
    ("wecom", (200, b"<html>a proxy page</html>"), False),
    ("dingtalk", (200, {"errcode": 300001, "errmsg": "token is not exist"}), True),
    ("dingtalk", (200, {"errcode": 310000, "errmsg": "keywords not in content"}), True),
    ("dingtalk", (200, {"errcode": 310000, "errmsg": "ip X.X.X.X not in whitelist"}), True),
    ("wecom", (200, {"errcode": 93000, "errmsg": "invalid webhook url"}), True),
    ("wecom", (404, b"not found"), True),
])
async def test_each_answer_is_classed_temporary_or_permanent(
        robot, client, kind: str, answer: tuple[int, Any], permanent: bool) -> None:
    robot.answer = answer
    target = (dingtalk(robot.url("access_token=TOKEN123")) if kind == "dingtalk"
              else wecom(robot.url("key=TOKEN123")))
    outcome = await post(target, "督办通知", "正文", client=client, now_ms=NOW_MS)
    assert isinstance(outcome, Failed) and outcome.permanent is permanent, outcome
    assert target.name in outcome.reason and "TOKEN123" not in outcome.reason
    body = answer[1]
    if isinstance(body, dict):
        assert f"errcode {body['errcode']}: {body['errmsg']}" in outcome.reason
    else:
        assert f"HTTP {answer[0]}" in outcome.reason


async def test_a_refused_connection_is_temporary(client) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    outcome = await post(wecom(f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=K"), "督办通知",
                         "正文", client=client, now_ms=NOW_MS)
    assert isinstance(outcome, Failed) and not outcome.permanent
    assert "ConnectError" in outcome.reason


async def test_a_silent_server_times_out_as_temporary(client) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        outcome = await post(dingtalk(f"http://127.0.0.1:{port}/robot/send?access_token=T"),
                             "督办通知", "正文", client=client, now_ms=NOW_MS)
    assert isinstance(outcome, Failed) and not outcome.permanent
    assert "no answer in time" in outcome.reason
    assert time.monotonic() - started < 5


# --- quiet hours ---------------------------------------------------------------------------

NIGHT = QuietHours(start="22:00", end="07:30")
LUNCH = QuietHours(start="13:00", end="14:00")


def at(day: int, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("quiet", "now", "expected"), [
    (NIGHT, at(23, "23:30"), at(24, "07:30")),   # late evening: the next morning
    (NIGHT, at(23, "22:00"), at(24, "07:30")),   # the window starts at start
    (NIGHT, at(24, "06:00"), at(24, "07:30")),   # early morning: the same morning
    (NIGHT, at(24, "07:30"), at(24, "07:30")),   # the window ends at end
    (NIGHT, at(24, "12:00"), at(24, "12:00")),   # daytime: now
    (NIGHT, at(24, "21:59"), at(24, "21:59")),
    (LUNCH, at(24, "13:30"), at(24, "14:00")),   # a window inside one day
    (LUNCH, at(24, "12:59"), at(24, "12:59")),
    (LUNCH, at(24, "14:00"), at(24, "14:00")),
    (LUNCH, at(24, "23:30"), at(24, "23:30")),
    (None, at(24, "03:00"), at(24, "03:00")),    # no quiet hours configured
])
def test_a_post_waits_for_the_end_of_the_quiet_hours(
        quiet: QuietHours | None, now: datetime, expected: datetime) -> None:
    when = next_send_time(now.astimezone(UTC), quiet, SHANGHAI)
    assert when == expected and when.tzinfo is UTC


def test_quiet_hours_are_read_on_the_local_clock() -> None:
    # 15:30 UTC is 23:30 in Shanghai: quiet there, though 15:30 is daytime in UTC
    assert next_send_time(datetime(2026, 11, 23, 15, 30, tzinfo=UTC), NIGHT, SHANGHAI) == \
        datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


# --- markdown injection --------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["dingtalk", "wecom"])
def test_a_title_cannot_inject_links_images_or_html(kind: str) -> None:
    body = payload(kind, INJECTION, "正文")["markdown"]
    shown = body.get("title", "") + body.get("content", "")
    assert r"\[点我\]\(http://evil.example\) \!\[x\]\(http://evil.example/a.png\) \<script\>" \
        in shown
    assert not re.search(r"(?<!\\)[\[\]()!<>]", shown)  # nothing structural left unescaped


def test_escaping_keeps_chinese_and_drops_carriage_returns() -> None:
    name = "区社会福利中心二期工程（300张床位）"
    assert escape_markdown(name) == name
    assert escape_markdown("**加粗** _斜_ `码` #1 a|b \\ 行\r\n尾") == \
        r"\*\*加粗\*\* \_斜\_ \`码\` \#1 a\|b \\ 行" + "\n尾"


# --- the configuration ---------------------------------------------------------------------

CONFIG = """\
quiet_hours: {start: "22:00", end: "07:30"}
webhooks:
  - name: 西湖区民政局工作群
    kind: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=TOKEN1
    secret: SECxyz789
    units: [xihu-mzj]
    roles: [office]
  - name: 区督查室
    kind: wecom
    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY2
    roles: [office, leader]
"""


def load(tmp_path: Path, text: str) -> Channels:
    path = tmp_path / "channels.yaml"
    path.write_text(text, "utf-8")
    return load_channels(path)


def test_the_checked_in_channels_file_loads_with_no_webhooks() -> None:
    channels = load_channels()
    assert channels.webhooks == []
    assert channels.quiet_hours == NIGHT


def test_a_webhooks_key_with_every_entry_commented_out_means_none(tmp_path: Path) -> None:
    assert load(tmp_path, "webhooks:\n#  - name: 西湖区民政局工作群\n").webhooks == []


def test_targets_are_chosen_by_unit_and_by_role(tmp_path: Path) -> None:
    channels = load(tmp_path, CONFIG)

    def names(**kw: Any) -> list[str]:
        return [target.name for target in channels.targets_for(**kw)]

    assert names(unit_code="xihu-mzj", role="owner") == ["西湖区民政局工作群"]
    assert names(unit_code="gongshu-mzj", role="leader") == ["区督查室"]
    assert names(unit_code="xihu-mzj", role="office") == ["西湖区民政局工作群", "区督查室"]
    assert names(unit_code=None, role="owner") == []


def test_webhook_urls_and_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    channels = load(tmp_path, CONFIG)
    shown = repr(channels) + str(channels)
    assert "TOKEN1" not in shown and "KEY2" not in shown and "SECxyz789" not in shown
    assert channels.webhooks[0].redacted_url == "https://oapi.dingtalk.com/robot/send"


@pytest.mark.parametrize(("change", "message"), [
    (("https://oapi", "http://oapi"), ":5: webhooks[0].url: must be an https:// URL"),
    (("key=KEY2\n", "key=KEY2\n    secret: SECabc\n"),
     ":12: webhooks[1].secret: secret is DingTalk's 加签 key"),
    (('"22:00"', '"25:00"'), ":1: quiet_hours.start: expected a time of day HH:MM"),
    (("    units:", "    colour: red\n    units:"), ":7: webhooks[0].colour: unknown key"),
    (("[office]", "[office, mayor]"),
     ":8: webhooks[0].roles[1]: Input should be 'office', 'owner', 'leader' or 'admin'"),
    (("name: 区督查室", "name: 西湖区民政局工作群"), ":1: webhook names must be unique"),
    (("    roles: [office, leader]\n", ""), ":9: webhooks[1]: give units or roles"),
])
def test_a_channels_mistake_is_named_with_file_and_line(
        tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = CONFIG.replace(*change)
    assert text != CONFIG
    with pytest.raises(ChannelsInvalid) as error:
        load(tmp_path, text)
    assert str(error.value).startswith(f"{tmp_path / 'channels.yaml'}{message}"), str(error.value)
    assert "TOKEN1" not in str(error.value)


def test_a_channels_syntax_error_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ChannelsInvalid, match=r"channels.yaml:2: YAML syntax"):
        load(tmp_path, 'quiet_hours: {start: "22:00", end: "07:30"}\nwebhooks: [}\n')
