"""The security headers every response carries: pages, the API, downloads and error pages.

Pages need no script and load nothing from elsewhere, so the policy allows only this origin;
styles may be inline because base.html has a ``<style>`` block and a bulletin lays itself out
with ``style`` attributes, for mail clients. No page may be framed (``frame-ancestors``, and
``X-Frame-Options`` for older browsers). HSTS only when the site is served over https: sent
over plain http it would be ignored, and promising https where there is none locks people out.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'none'; style-src 'self' "
                           "'unsafe-inline'; img-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The API's documentation pages (web/api_docs.py) run Swagger UI and ReDoc: this origin's
# script files (never inline), the data: icons and the blob: worker they make for themselves.
DOCS_CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' "
                                "'unsafe-inline'; img-src 'self' data:; worker-src blob:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; "
                                "frame-ancestors 'none'")
DOCS_PATHS = ("/api/docs", "/api/redoc")
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(*, https: bool, docs: bool = False) -> list[tuple[bytes, bytes]]:
    policy = DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY
    headers = {"content-security-policy": policy, "x-frame-options": "DENY",
               "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
    if https:
        headers["strict-transport-security"] = HSTS
    return [(name.encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    """Adds `security_headers` to every HTTP response, replacing any of the same name."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app, self.headers = app, security_headers(https=https)
        self.docs_headers = security_headers(https=https, docs=True)
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = scope.get("path", "")
        ours = self.docs_headers if path in DOCS_PATHS else self.headers

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", [])
                        if name.lower() not in self.names]
                message = {**message, "headers": kept + ours}
            await send(message)

        await self.app(scope, receive, with_headers)


# Static, so that it still renders when the fault is in the templates or the database.
UNEXPECTED_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>服务器出错</title><h1>服务器出错</h1>
<p>处理这个请求时出了错，没有保存任何半截的修改。请稍后再试；如果一直出错，请告知督办办公室，
并说明出错的时间和页面。</p><p><a href="/">返回首页</a></p></html>"""


async def answer_unexpected(request: Request, exc: Exception) -> Response:
    """The answer to an exception no route handled. Starlette sends it from its outermost
    middleware, outside `SecurityHeaders`, so it carries the headers itself."""
    headers = {name.decode(): value.decode()
               for name, value in security_headers(https=request.url.scheme == "https")}
    return HTMLResponse(UNEXPECTED_PAGE, status_code=500, headers=headers)
