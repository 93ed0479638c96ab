"""Posting to government group chats: DingTalk custom robots and WeCom group robots.

Both take one JSON POST and answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``; a refusal
is a non-zero errcode, still with HTTP 200. What each errcode means for retrying:

- DingTalk (自定义机器人): 130101 "send too fast, exceed 20 times per minute" (the robot is
  throttled for 10 minutes) and -1 系统繁忙 are worth trying later; so is 410100, which newer
  DingTalk error tables give for the same throttle (not confirmed against a live robot).
  300001/300005 "token is not exist" and 310000 (keywords not in content, sign not match,
  ip not in whitelist, invalid timestamp) need a person: permanent, like every other code.
- WeCom (群机器人, global error codes): -1 系统繁忙, 45009 接口调用超过限制 (20 posts a minute
  per robot) and 45033 接口并发调用超过限制 are temporary; 93000 (invalid webhook URL, or the
  robot was removed from the group) and every other code are permanent.

Transport problems (timeouts, refused connections), HTTP 429 and 5xx are temporary; any other
HTTP status is permanent. ``post`` never raises for the network: it returns an Outcome, and
the outbox alone decides about retrying. Reasons name the target, never its URL (the URL is a
credential).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote_plus

import httpx

from config.channels import QuietHours, WebhookTarget
from notifications.outcome import Delivered, Failed, Outcome

TRY_LATER = {"dingtalk": {-1, 130101, 410100}, "wecom": {-1, 45009, 45033}}
WECOM_MAX_BYTES = 4096  # markdown.content, UTF-8
CUT_MARKER = "…"
MARKDOWN_SPECIALS = re.compile(r"([\\\[\]()!<>*_`#|])")


def sign_dingtalk(url: str, secret: str, timestamp_ms: int) -> str:
    """The URL with DingTalk's 加签 appended: ``&timestamp=<ms>&sign=<urlencoded base64>``.

    sign = base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), both UTF-8. DingTalk
    refuses a timestamp more than an hour from its clock. Any timestamp/sign already in the URL
    is replaced, so signing a signed URL does not pile up parameters.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode("ascii"))
    base, _, query = url.partition("?")
    kept = [pair for pair in query.split("&")
            if pair and pair.split("=", 1)[0] not in ("timestamp", "sign")]
    return f"{base}?{'&'.join([*kept, f'timestamp={timestamp_ms}', f'sign={sign}'])}"


def escape_markdown(text: str) -> str:
    """A name or title from a plan file or a form, safe to put inside a markdown message.

    Backslash-escapes the characters that make links, images, HTML, emphasis, code, headings
    and tables, so ``[点我](http://…)`` shows as text. Even where a chat client shows the
    backslashes literally, the ``](`` and ``![`` and ``<tag`` sequences are broken. CR is
    dropped (Windows line ends from spreadsheets); Chinese text is untouched.
    """
    return MARKDOWN_SPECIALS.sub(r"\\\1", text.replace("\r", ""))


def payload(kind: str, title: str, markdown: str) -> dict[str, Any]:
    """The JSON body of a markdown message for ``kind`` (``markdown`` is trusted markdown).

    DingTalk shows ``title`` in the chat list and the notification. WeCom has no title field,
    so the title becomes the first line as a heading, unless the body already opens with a
    heading; the content is cut to WeCom's 4096 UTF-8 bytes.
    """
    heading = escape_markdown(title.replace("\n", " "))
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": heading, "text": markdown}}
    if kind == "wecom":
        body = markdown if markdown.lstrip().startswith("#") else f"### {heading}\n{markdown}"
        return {"msgtype": "markdown", "markdown": {"content": cut_utf8(body, WECOM_MAX_BYTES)}}
    raise ValueError(f"unknown webhook kind {kind!r}")


def cut_utf8(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` UTF-8 bytes, else a cut with a "…" marker that fits.

    The cut never splits a character, and falls on a line end when one is near, so a
    half item (an unclosed ``**``) is not left behind.
    """
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    budget = limit - len(f"\n{CUT_MARKER}".encode())
    kept = data[:budget].decode("utf-8", errors="ignore")
    line_end = kept.rfind("\n")
    if line_end >= len(kept) // 2:
        kept = kept[:line_end]
    return f"{kept}\n{CUT_MARKER}"


async def post(target: WebhookTarget, title: str, markdown: str, *, client: httpx.AsyncClient,
               now_ms: int) -> Outcome:
    """Send one markdown message to ``target``'s group and say what came of it.

    ``now_ms`` is the signing time for DingTalk's 加签; the client's timeout bounds the wait.
    """
    url = target.url.get_secret_value()
    if target.kind == "dingtalk" and target.secret is not None:
        url = sign_dingtalk(url, target.secret.get_secret_value(), now_ms)
    try:
        response = await client.post(url, json=payload(target.kind, title, markdown))
    except httpx.TimeoutException:
        return Failed(False, f"{target.name}: no answer in time")
    except httpx.RequestError as exc:  # refused, reset, TLS, a garbled answer: all transient
        return Failed(False, f"{target.name}: {type(exc).__name__}: {_clean(exc)}")
    except httpx.InvalidURL:
        return Failed(True, f"{target.name}: the configured URL is not valid")
    return _judge(target, response)


def _judge(target: WebhookTarget, response: httpx.Response) -> Outcome:
    """Steps: 1. the HTTP status; 2. the JSON errcode; 3. which errcodes are worth retrying."""
    status = response.status_code
    if status == 429 or status >= 500:
        return Failed(False, f"{target.name}: HTTP {status}, try later")
    if not 200 <= status < 300:
        return Failed(True, f"{target.name}: HTTP {status} (check the webhook URL)")
    try:
        answer = response.json()
        code, message = int(answer["errcode"]), str(answer.get("errmsg", ""))[:300]
    except (ValueError, KeyError, TypeError):
        # a proxy's page, say: the group may not have it, and a retry is bounded by the outbox
        return Failed(False, f"{target.name}: HTTP {status} without an errcode")
    if code == 0:
        return Delivered(f"errcode 0 {message}".strip())
    permanent = code not in TRY_LATER.get(target.kind, set())
    return Failed(permanent, f"{target.name}: {target.kind} errcode {code}: {message}")


def _clean(exc: Exception) -> str:
    """The error's text without any URL (a URL carries the token)."""
    return re.sub(r"\w+://\S+", "<url>", str(exc)) or "connection failed"


def next_send_time(now: datetime, quiet: QuietHours | None, zone: tzinfo) -> datetime:
    """When a post due at ``now`` may go out: ``now``, or the end of the quiet hours (UTC).

    ``now`` must be aware. The hours are read on the local clock of ``zone`` (pass the
    settings' time zone, not UTC); a window whose start is later than its end spans midnight,
    so 23:30 waits for the next morning and 06:00 for the same morning.
    """
    if now.tzinfo is None:
        raise ValueError("next_send_time needs an aware datetime")
    local = now.astimezone(zone)
    if quiet is None or not _is_quiet(local.time(), quiet):
        return now.astimezone(UTC)
    end_day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        end_day += timedelta(days=1)  # late evening: the window ends tomorrow morning
    end = datetime.combine(end_day, quiet.end, tzinfo=zone)
    return end.astimezone(UTC)


def _is_quiet(clock: time, quiet: QuietHours) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end
