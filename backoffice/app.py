"""The one web application of the service: the staff back-office, `/healthz` and
`/metrics`, and the routers the caller adds (`sportello serve` adds the Telegram webhook),
with security headers on every response and Italian error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from . import errors
from .bodylimit import BodyLimit
from .deps import UPLOAD_LIMIT, Services
from .ops import ops_router
from .routes.notices import HOME as NOTICES_HOME

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
)


HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Pure ASGI middleware (no buffering, works with streamed downloads): adds each header
    of SECURITY_HEADERS to every HTTP response that does not set it itself, and HSTS to
    every response served over https (as the trusted proxy says)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = (*SECURITY_HEADERS, HSTS) if scope.get("scheme") == "https" else SECURITY_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _include_backoffice(app: FastAPI) -> None:
    """The staff pages, and their static files under the mount named "static"."""
    from fastapi.staticfiles import StaticFiles

    from .routes import backoffice_router

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    else:  # an install without package data: the pages work, unstyled
        log.warning("back-office static folder missing: %s", STATIC_DIR)
    app.include_router(backoffice_router())


def create_app(
    services: Services,
    *,
    routers: Iterable[APIRouter] = (),
    lifespan: Callable[[FastAPI], Any] | None = None,
) -> FastAPI:
    """The app, with `routers` added before the back-office (the webhook, from `bot/`).
    No /docs or /openapi.json: nothing here is a public API. Every request body is
    limited before it is read (`bodylimit`): 64 KB, or what a router declares for its
    paths in its `body_limits` (the webhook reads its own, up to 1 MB)."""
    app = FastAPI(
        title="Sportello B2",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(ops_router())
    limits = {f"{NOTICES_HOME}/prova": 4 * UPLOAD_LIMIT}
    for router in routers:
        app.include_router(router)
        limits.update(getattr(router, "body_limits", {}))
    _include_backoffice(app)
    errors.install(app)
    # the notice upload refuses over UPLOAD_LIMIT with its own page: 4x is the outer wall
    app.add_middleware(BodyLimit, limits=limits)
    app.add_middleware(SecurityHeaders)
    # The client's address and scheme from the trusted proxies only (FORWARDED_ALLOW_IPS),
    # whatever server runs the app: login throttling and the Secure cookie rely on them.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=services.settings.forwarded_allow_ips)
    return app
