"""Messages to one person: DingTalk 工作通知 and WeCom 应用消息, over the apps in channels.yaml.

A small typed client over httpx, not an SDK: DingTalk's kept SDK (alibabacloud-dingtalk)
covers the new api.dingtalk.com, where the work notice of an internal app has no equivalent,
and the Python SDKs for the old API (dingtalk-sdk, 2020) and for WeCom (wechatpy, 2021) are
no longer released. The requests and answers used, as both documents give them:

DingTalk (oapi.dingtalk.com):
- ``GET /gettoken?appkey=&appsecret=`` → ``{errcode, access_token, expires_in}`` (7200 s);
- ``POST /topapi/message/corpconversation/asyncsend_v2?access_token=`` with ``agent_id``,
  ``userid_list`` (comma-separated) and ``msg`` (here an ``action_card`` whose one button opens
  the person's signed link) → ``{errcode, task_id}``. The send is asynchronous: errcode 0 only
  means accepted, so
- ``POST /topapi/message/corpconversation/getsendresult`` with ``agent_id`` and ``task_id`` →
  ``{errcode, send_result: {invalid_user_id_list, forbidden_user_id_list,
  failed_user_id_list, read_user_id_list, unread_user_id_list, forbidden_list}}`` is asked in
  a later round and recorded.

WeCom (qyapi.weixin.qq.com):
- ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` → ``{errcode, errmsg, access_token, expires_in}``;
- ``POST /cgi-bin/message/send?access_token=`` with ``touser``, ``msgtype: textcard``,
  ``agentid`` and ``textcard {title, description, url, btntxt}`` → ``{errcode, errmsg,
  invaliduser, msgid}``; a user id it does not know comes back in ``invaliduser``.

Tokens are cached per app for their lifetime less a margin, shared by every round of a
process; an answer saying the token is invalid or expired drops it and the send is tried once
more with a new one. Which errcodes are worth trying later is below (``TRY_LATER``); every
other non-zero errcode needs a person (wrong secret, app not visible to the user): permanent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from config.channels import DingTalkApp, PersonApp, WeComApp
from notifications.outcome import Delivered, Failed, Outcome

# DingTalk: -1 系统繁忙, 90002 (调用频率超限), 90018 (应用调用频率超限);
# WeCom: -1 系统繁忙, 45009 接口调用超过限制, 45033 接口并发调用超过限制.
TRY_LATER = {"dingtalk": {-1, 90002, 90018}, "wecom": {-1, 45009, 45033}}
# 40014 不合法的 access_token, 42001 access_token 已过期 (both APIs), 41001 缺少 access_token.
TOKEN_REFUSED = {40014, 42001, 41001}
TOKEN_MARGIN = 300.0  # seconds: a token this close to its end is renewed before use
CARD_TEXT_CHARS = 400  # WeCom's textcard description is at most 512 bytes
BUTTON = "查看并处理"
RECEIPT_BUTTON = "签收督办单"

# How many messages an app may send one person, per window (WeCom: 30 a minute and 1000 an
# hour per member; DingTalk: at most 500 work notices a day per person).
MEMBER_LIMITS: dict[str, tuple[tuple[timedelta, int], ...]] = {
    "wecom": ((timedelta(minutes=1), 30), (timedelta(hours=1), 1000)),
    "dingtalk": ((timedelta(days=1), 500),),
}


class Refused(Exception):
    """The far end answered with an errcode: what it said, and whether to try again."""

    def __init__(self, errcode: int, errmsg: str, *, later: bool) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode, self.later = errcode, later


@dataclass
class Card:
    """What a person sees: a title, a few lines, and one button opening their signed link."""

    title: str
    text: str
    url: str
    receipt_url: str | None = None  # a 督办单 to sign for: the card's first button signs it

    @property
    def short_text(self) -> str:
        return self.text if len(self.text) <= CARD_TEXT_CHARS else \
            self.text[:CARD_TEXT_CHARS - 1] + "…"


@dataclass
class TokenCache:
    """Access tokens by app, each kept until ``TOKEN_MARGIN`` before it ends (monotonic clock:
    a token's lifetime is real time, whatever date the engine is replaying)."""

    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        held = self.tokens.get(key)
        return held[0] if held and held[1] > time.monotonic() else None

    def put(self, key: str, token: str, expires_in: float) -> None:
        self.tokens[key] = (token, time.monotonic() + max(expires_in - TOKEN_MARGIN, 0.0))

    def drop(self, key: str) -> None:
        self.tokens.pop(key, None)


TOKENS = TokenCache()  # one per process, like the apps' own advice to cache the token


def member_wait(kind: str, sent: list[datetime], now: datetime) -> datetime | None:
    """When the next message to a person may go, given when the earlier ones went (any order),
    or None if it may go now."""
    wait: datetime | None = None
    for window, most in MEMBER_LIMITS.get(kind, ()):
        recent = sorted(at for at in sent if at > now - window)
        if len(recent) >= most:
            free_at = recent[len(recent) - most] + window  # when the oldest counted falls out
            wait = free_at if wait is None else max(wait, free_at)
    return wait


def _answer(kind: str, response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    code = int(body.get("errcode", 0))
    if code:
        raise Refused(code, str(body.get("errmsg", "")), later=code in TRY_LATER[kind])
    return body


class _Sender:
    """Posts to one app's API with its access token, renewed once if the far end says the
    token is no longer good."""

    kind: str

    def __init__(self, app: PersonApp, client: httpx.AsyncClient,
                 tokens: TokenCache = TOKENS) -> None:
        self.app, self.client, self.tokens = app, client, tokens
        path, query = app.token_request()
        self.key = f"{app.base_url}{path}?{next(iter(query.values()))}:{app.agent_id}"

    async def _token(self) -> str:
        held = self.tokens.get(self.key)
        if held is None:
            path, query = self.app.token_request()
            body = _answer(self.kind, await self.client.get(f"{self.app.base_url}{path}",
                                                            params=query))
            held = str(body["access_token"])
            self.tokens.put(self.key, held, float(body.get("expires_in", 7200)))
        return held

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        for last in (False, True):
            response = await self.client.post(f"{self.app.base_url}{path}", json=payload,
                                              params={"access_token": await self._token()})
            try:
                return _answer(self.kind, response)
            except Refused as refused:
                if refused.errcode not in TOKEN_REFUSED or last:
                    raise
                self.tokens.drop(self.key)
        raise AssertionError("unreachable")


class DingTalkWorkNotice(_Sender):
    kind = "dingtalk"

    async def send(self, userid: str, card: Card) -> str:
        """Hand the notice to DingTalk; its task_id (the result is asked for later)."""
        buttons: dict[str, Any] = {"single_title": BUTTON, "single_url": card.url}
        if card.receipt_url:  # an action card's independent buttons, side by side
            buttons = {"btn_orientation": "1", "btn_json_list": [
                {"title": RECEIPT_BUTTON, "action_url": card.receipt_url},
                {"title": BUTTON, "action_url": card.url}]}
        body = await self._post("/topapi/message/corpconversation/asyncsend_v2", {
            "agent_id": self.app.agent_id, "userid_list": userid,
            "msg": {"msgtype": "action_card", "action_card": {
                "title": card.title, "markdown": f"### {card.title}\n\n{card.short_text}",
                **buttons}}})
        return str(body["task_id"])

    async def result(self, task_id: str, userid: str) -> tuple[str, bool]:
        """What DingTalk did with the notice for ``userid``: a phrase for the record, and
        whether it failed to reach them (then e-mail takes over)."""
        body = await self._post("/topapi/message/corpconversation/getsendresult",
                                {"agent_id": self.app.agent_id, "task_id": int(task_id)})
        sent = body.get("send_result") or {}
        for field_name, phrase in (("invalid_user_id_list", "钉钉用户不存在"),
                                   ("forbidden_user_id_list", "超出钉钉发送限制"),
                                   ("failed_user_id_list", "钉钉发送失败")):
            if userid in (sent.get(field_name) or []):
                return phrase, True
        if any(userid == item.get("userid") for item in sent.get("forbidden_list") or []):
            return "超出钉钉发送限制", True
        if userid in (sent.get("read_user_id_list") or []):
            return "已读", False
        return "已送达，未读", False


class WeComAppMessage(_Sender):
    kind = "wecom"

    async def send(self, userid: str, card: Card) -> str:
        """Send the text card; its msgid. A user WeCom does not know is refused for good."""
        body = await self._post("/cgi-bin/message/send", {
            "touser": userid, "msgtype": "textcard", "agentid": self.app.agent_id,
            # A text card has one button: the 签收 page when there is an order to sign for
            # (it shows the order, and leads on to the item once signed).
            "textcard": {"title": card.title, "description": card.short_text,
                         "url": card.receipt_url or card.url,
                         "btntxt": RECEIPT_BUTTON if card.receipt_url else BUTTON},
            # The same card twice within 30 minutes is dropped by WeCom itself: a resend
            # after a lost answer does not reach the person twice.
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800})
        if body.get("invaliduser"):
            raise Refused(81013, f"企业微信用户不存在：{body['invaliduser']}", later=False)
        return str(body.get("msgid", ""))


async def deliver(app: DingTalkApp | WeComApp, userid: str, card: Card,
                  client: httpx.AsyncClient) -> Outcome:
    """Send one card; the outcome for the outbox, carrying the far end's id when accepted."""
    sender = (DingTalkWorkNotice(app, client) if isinstance(app, DingTalkApp)
              else WeComAppMessage(app, client))
    name = "钉钉" if isinstance(app, DingTalkApp) else "企业微信"
    try:
        remote_id = await sender.send(userid, card)
    except Refused as refused:
        return Failed(not refused.later, f"{name}拒收：{refused}")
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        return Failed(not (status == 429 or status >= 500), f"{name} HTTP {status}")
    except (httpx.TransportError, ValueError, KeyError) as exc:
        # Unreachable, timed out, or an answer that is not the documented JSON: try later.
        return Failed(False, f"{name}无法送达：{type(exc).__name__}: {exc}")
    return Delivered(f"{name}已接收", remote_id=remote_id)
