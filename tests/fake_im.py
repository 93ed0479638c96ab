"""A local fake of DingTalk's and WeCom's message APIs, on 127.0.0.1 in a thread.

It speaks the documented request and answer shapes (see notifications/work_notices.py): it
issues access tokens and refuses expired ones (errcode 42001), checks every request's token,
knows its users, answers rate limits (-1 / 45009) and outages (HTTP 503) when told, and keeps
DingTalk's asynchronous results for getsendresult. Each test gets a fresh one.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback_http import serving

APP_KEY, APP_SECRET = "dingapp", "ding-secret"
CORP_ID, CORP_SECRET = "wwcorp", "wecom-secret"
AGENT_ID = 1000002


@dataclass
class Card:
    kind: str  # dingtalk | wecom
    userid: str
    title: str
    text: str
    url: str  # the first button's
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, url), in order


@dataclass
class FakeIM:
    base: str = ""
    dingtalk_users: set[str] = field(default_factory=set)
    wecom_users: set[str] = field(default_factory=set)
    undelivered: set[str] = field(default_factory=set)  # DingTalk accepts, then reports failed
    down: bool = False                                   # answer every request 503
    busy: int = 0                                        # answer the next sends "rate limit"
    cards: list[Card] = field(default_factory=list)
    tokens_issued: int = 0
    results_asked: int = 0
    live_tokens: set[str] = field(default_factory=set)
    tasks: dict[int, str] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_tokens(self) -> None:
        """Every token issued so far ends now (as after its 7200 s), whatever the client holds."""
        with self.lock:
            self.live_tokens.clear()

    def answer(self, method: str, path: str, query: dict[str, str],
               body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if self.down:
                return 503, {"errcode": -1, "errmsg": "service unavailable"}
            if method == "GET":
                return 200, self._token(path, query)
            if query.get("access_token") not in self.live_tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if path == "/topapi/message/corpconversation/getsendresult":
                return 200, self._result(body)
            if self.busy:
                self.busy -= 1
                code = -1 if path.startswith("/topapi") else 45009
                return 200, {"errcode": code, "errmsg": "api freq out of limit"}
            if path == "/topapi/message/corpconversation/asyncsend_v2":
                return 200, self._dingtalk_send(body)
            if path == "/cgi-bin/message/send":
                return 200, self._wecom_send(body)
            return 404, {"errcode": 404, "errmsg": "no such api"}

    def _token(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        good = ((path == "/gettoken" and query.get("appkey") == APP_KEY
                 and query.get("appsecret") == APP_SECRET)
                or (path == "/cgi-bin/gettoken" and query.get("corpid") == CORP_ID
                    and query.get("corpsecret") == CORP_SECRET))
        if not good:
            return {"errcode": 40089, "errmsg": "invalid appkey or appsecret"}
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        self.live_tokens.add(token)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _dingtalk_send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agent_id") != AGENT_ID:
            return {"errcode": 40056, "errmsg": "agentid invalid"}
        card = body["msg"]["action_card"]
        # The documented two shapes: one whole-card button, or independent buttons.
        if "btn_json_list" in card:
            buttons = [(b["title"], b["action_url"]) for b in card["btn_json_list"]]
        elif "single_url" in card:
            buttons = [(card["single_title"], card["single_url"])]
        else:
            return {"errcode": 40035, "errmsg": "action_card needs single_url or btn_json_list"}
        task_id = next(self._ids)
        self.tasks[task_id] = body["userid_list"]
        for userid in body["userid_list"].split(","):
            if userid in self.dingtalk_users:
                self.cards.append(Card("dingtalk", userid, card["title"], card["markdown"],
                                       buttons[0][1], buttons))
        return {"errcode": 0, "task_id": task_id, "request_id": f"req{task_id}"}

    def _result(self, body: dict[str, Any]) -> dict[str, Any]:
        self.results_asked += 1
        users = self.tasks.get(int(body["task_id"]), "").split(",")
        invalid = [u for u in users if u not in self.dingtalk_users]
        failed = [u for u in users if u in self.undelivered]
        unread = [u for u in users if u not in invalid and u not in failed]
        return {"errcode": 0, "send_result": {
            "invalid_user_id_list": invalid, "forbidden_user_id_list": [],
            "failed_user_id_list": failed, "read_user_id_list": [],
            "unread_user_id_list": unread, "invalid_dept_id_list": [], "forbidden_list": []},
            "request_id": "r"}

    def _wecom_send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != AGENT_ID or body.get("msgtype") != "textcard":
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        users = body["touser"].split("|")
        invalid = [u for u in users if u not in self.wecom_users]
        if len(invalid) == len(users):
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid",
                    "invaliduser": "|".join(invalid)}
        card = body["textcard"]
        for userid in users:
            if userid in self.wecom_users:
                self.cards.append(Card("wecom", userid, card["title"], card["description"],
                                       card["url"], [(card.get("btntxt", "详情"), card["url"])]))
        return {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                "msgid": f"msg{next(self._ids)}"}


def _handler(fake: FakeIM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length)) if length else {}
            status, answer = fake.answer(method, parts.path, query, body)
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def serve() -> Iterator[FakeIM]:
    fake = FakeIM()
    with serving(_handler(fake)) as base:
        fake.base = base
        yield fake
