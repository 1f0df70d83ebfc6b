"""The web pages over the store: server-rendered (FastAPI + Jinja2), no script needed, Chinese throughout.

`create_app(settings)` builds the application from the pages in `web/routes/` (one module each) and what they
share in `web/deps.py`; `nianbao serve` runs it with uvicorn. Reading is open unless `anonymous_read=False` (what
`serve` passes on an address other than loopback); triage needs a signed-in reviewer.
"""

from __future__ import annotations

import secrets

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nianbao.settings import Settings
from web import deps
from web.routes import files, finding, findings, login, organizations, overview, regions, rules, source

PAGES = (overview, files, findings, finding, source, organizations, rules, regions)


def create_app(settings: Settings, *, anonymous_read: bool = True, secure_cookie: bool = False) -> FastAPI:
    """The web application over `settings.database` (which must be at the current schema); `secure_cookie` marks
    the session cookie `Secure` (served beyond loopback, behind HTTPS)."""
    app = FastAPI(title="nianbao", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.site = deps.Site.open(settings, anonymous_read=anonymous_read)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key or secrets.token_urlsafe(32),
        session_cookie="nianbao_session",
        max_age=settings.web_session_seconds,
        same_site="lax",
        https_only=secure_cookie,
    )
    app.add_middleware(HeadAsGet)
    app.exception_handler(deps.SignInRequired)(deps.sign_in_first)
    app.exception_handler(StarletteHTTPException)(deps.error_page)
    app.exception_handler(RequestValidationError)(deps.not_found_page)
    app.include_router(login.router)  # signing in is open to everyone
    for page in PAGES:
        app.include_router(page.router, dependencies=[Depends(deps.reader)])
    return app


class HeadAsGet:
    """`HEAD` answers as `GET` would, headers only (FastAPI routes a GET route's HEAD to 405)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
