"""The owners' and office's web app: server-rendered pages in Chinese, readable on a phone.

Every request: (1) finds the signed-in person from the session cookie (an inactive or deleted
person is signed out), (2) asks `allowed(...)` for the action on the item's unit, (3) on a POST
compares the form's CSRF token with the session's, (4) calls the action in `models.store.actions`
in a write transaction and redirects (303) to the item page, or shows why it was refused.
A GET never changes a milestone; following an email link only signs its person in once.
The routes live in modules named for what they serve; `web.context.Web` is what they share.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from services.runtime import Runtime
from web import attachments, auth, bulletins, feeds, items, lists, office, overview
from web.api import create_api
from web.context import Web
from web.limits import BodyLimit


def create_app(runtime: Runtime) -> FastAPI:
    """The app over one runtime (services.runtime): its database, rules, key and clock."""
    settings, secret = runtime.settings, runtime.secret
    app = FastAPI(title="督办 Duban", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="lax",
                       https_only=str(settings.base_url).startswith("https"),
                       session_cookie="duban_session", max_age=12 * 3600)
    # Five evidence files at the per-file limit, plus the form's text.
    app.add_middleware(BodyLimit, max_bytes=attachments.MAX_FILES * settings.attachment_max_bytes
                       + 1024 * 1024)
    web = Web(runtime)
    limiter = auth.LoginLimiter(auth.MAX_FAILED_LOGINS, auth.FAILED_LOGIN_WINDOW_SECONDS)
    app.state.login_limiter = limiter
    app.include_router(auth.router(web, limiter))
    app.include_router(lists.router(web))
    app.include_router(office.router(web))
    app.include_router(overview.router(web))
    app.include_router(items.router(web))
    app.include_router(attachments.router(web))
    app.include_router(feeds.router(web))
    app.include_router(bulletins.router(web))
    app.mount("/api", create_api(web))  # JSON for scripts, bearer tokens only
    return app
