"""The owners' and office's web app: server-rendered pages in Chinese, readable on a phone.

Every request: (1) finds the signed-in person from the session cookie (an inactive or deleted
person is signed out), (2) asks `allowed(...)` for the action on the item's unit, (3) on a POST
compares the form's CSRF token with the session's, (4) calls the action in `models.store.actions`
in a write transaction and redirects (303) to the item page, or shows why it was refused.
A GET never changes a milestone; an email link signs its person in once, from a button on the
page it opens (web/email_links.py).
The routes live at module level in modules named for what they serve; `web.context.Web` is
what they share, `web.dependencies` how a route gets it, its session and the checked person.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.middleware.sessions import SessionMiddleware

from services.runtime import Runtime, build
from web import (
    attachments,
    auth,
    bulk,
    bulletins,
    dependencies,
    email_links,
    feeds,
    forms,
    items,
    ledger,
    lists,
    office,
    orders,
    overview,
    projects,
    todo,
)
from web.api import create_api
from web.context import Web
from web.headers import SecurityHeaders, answer_unexpected
from web.limits import BodyLimit


def create_app(runtime: Runtime) -> FastAPI:
    """The app over one runtime (services.runtime): its database, rules, key and clock."""
    settings, secret = runtime.settings, runtime.secret
    https = str(settings.base_url).startswith("https")
    app = FastAPI(title="督办 Duban", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="lax", https_only=https,
                       session_cookie="duban_session", max_age=12 * 3600)
    # Five evidence files at the per-file limit, plus the form's text.
    app.add_middleware(BodyLimit, max_bytes=attachments.MAX_FILES * settings.attachment_max_bytes
                       + 1024 * 1024)
    # Added last, so outermost of ours: the body limit's 413 carries them too.
    app.add_middleware(SecurityHeaders, https=https)
    web = Web(runtime)
    app.state.web = web  # what web.dependencies.WebDep gives every route
    dependencies.install(app)
    app.add_exception_handler(RequestValidationError, forms.answer_invalid)
    app.add_exception_handler(Exception, answer_unexpected)
    for module in (auth, email_links, orders, todo, lists, ledger, bulk, office, overview, items,
                   projects, attachments, feeds, bulletins):
        app.include_router(module.router)
    app.mount("/api", create_api(web))  # JSON for scripts, bearer tokens only
    return app


def create_app_from_environment() -> FastAPI:
    """The app over a runtime built from the environment and the config file: the factory
    each of uvicorn's worker processes calls (`duban web --workers N`)."""
    return create_app(build())
