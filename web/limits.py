"""A cap on the size of a request body, before anything parses or spools it.

Each evidence file is checked against its own limit (web/attachments.py), but only after the
multipart parser has spooled the whole request to disk; this stops an oversize request at its
Content-Length, or, for a body sent without one, as soon as its bytes pass the cap. Under the
JSON API's prefix the refusal is the API's error body (web.api_errors), code ``too_large``.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE_TEXT = "提交的内容过大。"
TOO_LARGE = TOO_LARGE_TEXT.encode()
TOO_LARGE_JSON = json.dumps({"detail": TOO_LARGE_TEXT, "code": "too_large"},
                            ensure_ascii=False).encode()


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, api_prefix: str = "/api/") -> None:
        self.app, self.max_bytes, self.api_prefix = app, max_bytes, api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, self._in_api(scope))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _refuse(send, self._in_api(scope))

    def _in_api(self, scope: Scope) -> bool:
        return str(scope.get("path", "")).startswith(self.api_prefix)


class _TooLarge(Exception):
    pass


async def _refuse(send: Send, in_api: bool) -> None:
    body, kind = (TOO_LARGE_JSON, b"application/json") if in_api else (
        TOO_LARGE, b"text/plain; charset=utf-8")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
