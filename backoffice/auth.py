"""Who is logged in, and the CSRF checks of the back-office forms.

- The session cookie `sportello_session` holds a random token (the database keeps only
  its SHA-256): HttpOnly, SameSite=Lax, Path=/, 8 hours, and Secure whenever the request
  came over https (`request.url.scheme`; behind a reverse proxy run uvicorn with
  `--proxy-headers` so the scheme is the client's).
- Every POST form carries a hidden `csrf` field equal to the session's token (compared
  with `hmac.compare_digest`), else 403 (`deps.CheckedForm`).
- A browser that logged in keeps a device cookie (`sportello_device`, a random token,
  90 days, sent to `/login` only): it keeps its own allowance when the account is closed
  to new places after a day of failures (`storage.lockout`).
- The login form, before any session exists, uses a double-submit token: a random value
  in the cookie `sportello_login_csrf` and the same value in the form.
- Who is logged in and which dossier they may see are dependencies in `deps.py`.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request, Response

from storage import lockout
from storage import staff as accounts
from storage.staff import Session

from .deps import SESSION_COOKIE, Services, csrf_ok, safe_path

LOGIN_CSRF_COOKIE = "sportello_login_csrf"
LOGIN_PATH = "/login"
HOME_PATH = "/pratiche"


def services_of(request: Request) -> Services:
    return request.app.state.services


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def safe_next(value: str | None) -> str:
    """Where to go after the login: a path of this site only (no `//host`, no scheme)."""
    return safe_path(value, HOME_PATH)


# -- the session cookie ----------------------------------------------------------------


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=accounts.SESSION_HOURS * 3600,
        path="/",
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=is_secure(request), httponly=True, samesite="lax"
    )


def session_of(request: Request) -> Session | None:
    """The live session of this request, or None (no dependency: for the login page)."""
    svc = services_of(request)
    return accounts.session_for(svc.db, request.cookies.get(SESSION_COOKIE), svc.clock())


def set_device_cookie(response: Response, request: Request, token: str) -> None:
    """This browser logged in: it keeps its own allowance when the account is closed to
    new places (`storage.lockout`). Sent to the login form only."""
    response.set_cookie(
        lockout.DEVICE_COOKIE,
        token,
        max_age=int(lockout.KNOWN_KEPT.total_seconds()),
        path=LOGIN_PATH,
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )


# -- the login form's double-submit token ----------------------------------------------


def login_csrf_token(request: Request) -> str:
    """The pre-session token: the one already in the cookie, or a new one."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if 20 <= len(token) <= 100 and token.replace("-", "").replace("_", "").isalnum():
        return token
    return secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=LOGIN_PATH,
        secure=is_secure(request),
        httponly=True,
        samesite="strict",
    )


def clear_login_csrf_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        LOGIN_CSRF_COOKIE, path=LOGIN_PATH, secure=is_secure(request), httponly=True
    )


def login_csrf_ok(request: Request, given: Any) -> bool:
    return csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), given)
