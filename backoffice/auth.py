"""Who is logged in, and the CSRF checks of the back-office forms.

- The session cookie `sportello_session` holds a random token (the database keeps only
  its SHA-256): HttpOnly, SameSite=Lax, Path=/, 8 hours, and Secure whenever the request
  came over https (`request.url.scheme`; behind a reverse proxy run uvicorn with
  `--proxy-headers` so the scheme is the client's).
- `current_session` / `current_staff`: FastAPI dependencies; without a live session they
  answer 303 to `/login?next=...`.
- Every POST form carries a hidden `csrf` field equal to the session's token (compared
  with `hmac.compare_digest`), else 403: `csrf_ok` for a handler that renders its own
  page, `require_csrf` as a dependency.
- The login form, before any session exists, uses a double-submit token: a random value
  in the cookie `sportello_login_csrf` and the same value in the form.
- `dossier_access`: a staff member sees only the dossiers of their comuni (403 for any
  other, 404 for one that does not exist or is still a family's draft).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request, Response

from storage import dossiers as store
from storage import staff as accounts
from storage.staff import Session, Staff

from .deps import Services

SESSION_COOKIE = "sportello_session"
LOGIN_CSRF_COOKIE = "sportello_login_csrf"
LOGIN_PATH = "/login"
HOME_PATH = "/pratiche"


def services_of(request: Request) -> Services:
    return request.app.state.services


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_ok(expected: str | None, given: Any) -> bool:
    """Constant-time comparison of a form's CSRF field with the expected token."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def safe_next(value: str | None) -> str:
    """Where to go after the login: a path of this site only (no `//host`, no scheme)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 32 for c in value)
        or value.startswith(LOGIN_PATH)
    ):
        return HOME_PATH
    return value


def login_url(request: Request) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET" or target in ("/", HOME_PATH):
        return LOGIN_PATH
    return f"{LOGIN_PATH}?next={quote(target, safe='/')}"


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


async def current_session(request: Request) -> Session:
    session = session_of(request)
    if session is None:
        raise HTTPException(
            status_code=303,
            detail="Accesso richiesto",
            headers={"Location": login_url(request), "Cache-Control": "no-store"},
        )
    return session


async def current_staff(session: Annotated[Session, Depends(current_session)]) -> Staff:
    return session.staff


async def require_csrf(
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form()] = "",
) -> Session:
    """For POST routes: the session, once the form's `csrf` field matches it (else 403)."""
    if not csrf_ok(session.csrf, csrf):
        raise HTTPException(status_code=403, detail="Modulo scaduto o non valido")
    return session


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


# -- who sees which dossier ------------------------------------------------------------


class Denied(Exception):
    """A dossier this staff member may not see (403), or that is not there (404)."""

    def __init__(self, status_code: int, dossier_id: str):
        super().__init__(status_code, dossier_id)
        self.status_code = status_code
        self.dossier_id = dossier_id


def dossier_access(services: Services, staff: Staff, dossier_id: str) -> dict[str, Any]:
    """The dossier, if it is one of this staff member's comuni and has left the draft
    stage; raises Denied(404) if there is no such dossier, Denied(403) if it belongs to
    another comune (checked before the draft stage, so a draft elsewhere is also 403)."""
    dossier = store.get_dossier(services.db, dossier_id) if len(dossier_id) <= 40 else None
    if dossier is None:
        raise Denied(404, dossier_id)
    if not staff.sees(dossier["municipality"]):
        raise Denied(403, dossier_id)
    if dossier["status"] == "bozza":
        raise Denied(404, dossier_id)
    return dossier
