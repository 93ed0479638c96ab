"""The security headers every response carries: pages, the API, downloads and error pages.

Pages need no script and load nothing from elsewhere, so the policy allows only this origin;
styles may be inline because base.html has a ``<style>`` block and a bulletin lays itself out
with ``style`` attributes, for mail clients. No page may be framed (``frame-ancestors``, and
``X-Frame-Options`` for older browsers). HSTS only when the site is served over https: sent
over plain http it would be ignored, and promising https where there is none locks people out.
"""

from __future__ import annotations

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
