"""What the routes need, as FastAPI dependencies (`Annotated` aliases, as in FastAPI's
full-stack template): the services built once per process, the staff member logged in,
a form whose CSRF token was checked, and a dossier this staff member may see.

A refusal is an exception here and one page in `errors.py`: a route never repeats a check.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlite_utils import Database
from starlette.datastructures import FormData

from common.clock import utcnow
from common.settings import Settings
from dossier import bounded
from dossier.record import record_of
from eligibility import Catalogue
from storage import audit
from storage import dossiers as store
from storage import staff as accounts
from storage.blobs import BlobStore
from storage.staff import Session, Staff

from .formatting import ROME


@dataclass
class Services:
    db: Database
    blobs: BlobStore
    catalogue: Catalogue
    settings: Settings
    clock: Callable[[], dt.datetime] = utcnow  # aware UTC "now"; tests move it
    # operations figures, updated by the webhook and the workers (read by /metrics)
    counters: dict[str, float] = field(default_factory=dict)
    last_receipt_poll: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, name: str, by: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by


def csrf_ok(expected: str | None, given: Any) -> bool:
    """Constant-time comparison of a form's CSRF field with the expected token."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def today(svc: Services) -> dt.date:
    return svc.clock().astimezone(ROME).date()


def checked_on(svc: Services, dossier: dict[str, Any]) -> dt.date:
    """The day the family's pre-check was made (the rules of that day apply)."""
    try:
        return dt.date.fromisoformat(
            record_of(dossier).answers.checked_on or dossier["created_at"][:10]
        )
    except ValueError:
        return today(svc)


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]

SESSION_COOKIE = "sportello_session"


# -- refusals (each becomes one page, in errors.py) -------------------------------------


class LoginRequired(Exception):
    """No live session: to the login page, back here afterwards; what a POST carried is
    kept (`draft`) and given back to the form after the login."""

    def __init__(self, target: str, draft: str | None = None):
        super().__init__(target)
        self.target = target
        self.draft = draft


class FormRefused(Exception):
    """A form without the session's CSRF token (old, or not from our page)."""


class AdminOnly(Exception):
    """A page for administrators (the Ufficio di Piano) opened by another account."""


class NotYours(Exception):
    """A dossier this staff member may not see: of another comune, still a family's draft,
    or not there at all. One answer for all three, so the page tells nothing about which."""

    def __init__(self, dossier_id: str):
        super().__init__(dossier_id)
        self.dossier_id = dossier_id


# -- who is logged in --------------------------------------------------------------------


def safe_path(value: str | None, default: str = "/pratiche") -> str:
    """A path of this site only (no `//host`, no scheme, no control characters)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 32 for c in value)
        or value.startswith("/login")
    ):
        return default
    return value


def _here(request: Request) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return target


async def current_session(request: Request, svc: ServicesDep) -> Session:
    cookie = request.cookies.get(SESSION_COOKIE)
    session = accounts.session_for(svc.db, cookie, svc.clock())
    if session is not None:
        bounded.LANE.set("staff")  # previews and ZIPs never wait behind families' uploads
        return session
    if request.method == "GET":
        raise LoginRequired(_here(request))
    # a form sent after the session ended: keep what was typed for the next login, for
    # the same staff member; a request without a session of ours keeps nothing
    from storage import drafts

    owner = accounts.session_owner(svc.db, cookie, svc.clock())
    if owner is None:
        raise LoginRequired("/")
    form = await request.form()
    page = safe_path(str(form.get("back") or ""), "")
    if not page:
        referer = request.headers.get("referer") or ""
        host = f"{request.url.scheme}://{request.url.netloc}"
        page = safe_path(referer.removeprefix(host) if referer.startswith(host) else "")
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    token = drafts.keep(svc.db, page.partition("?")[0], fields, svc.clock(), owner)
    raise LoginRequired(page, token)


CurrentSession = Annotated[Session, Depends(current_session)]


async def current_staff(session: CurrentSession) -> Staff:
    return session.staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


async def admin_session(session: CurrentSession) -> Session:
    """The session of an administrator; anyone else gets the Italian 403."""
    if not session.staff.is_admin:
        raise AdminOnly()
    return session


AdminSession = Annotated[Session, Depends(admin_session)]


async def checked_form(request: Request, session: CurrentSession) -> FormData:
    """The form of a POST, once its `csrf` field matches the session's token."""
    form = await request.form()
    if not csrf_ok(session.csrf, form.get("csrf")):
        raise FormRefused()
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]

UPLOAD_LIMIT = 1024 * 1024  # a notice and its cases file, with room to spare


class UploadTooLarge(Exception):
    """A form bigger than UPLOAD_LIMIT, or of unknown size: refused before it is read."""


async def checked_upload(request: Request, session: CurrentSession) -> FormData:
    """A file form (multipart) of at most UPLOAD_LIMIT bytes, CSRF-checked. The size is
    the one the browser declares, checked before a byte is read."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > UPLOAD_LIMIT:
        raise UploadTooLarge()
    return await checked_form(request, session)


CheckedUpload = Annotated[FormData, Depends(checked_upload)]


def may_see(svc: Services, staff: Staff, dossier_id: str, path: str) -> dict[str, Any]:
    """The dossier, if it is of one of this staff member's comuni and has left the draft
    stage; else NotYours (and the attempt goes to the audit log)."""
    dossier = store.get_dossier(svc.db, dossier_id) if len(dossier_id) <= 40 else None
    if dossier is None or not staff.sees(dossier["municipality"]) or dossier["status"] == "bozza":
        audit.log(svc.db, staff, "access_denied", dossier_id[:40], {"path": path}, at=svc.clock())
        raise NotYours(dossier_id)
    return dossier


async def visible_dossier(
    dossier_id: str, request: Request, svc: ServicesDep, staff: CurrentStaff
) -> dict[str, Any]:
    return may_see(svc, staff, dossier_id, request.url.path)


VisibleDossier = Annotated[dict[str, Any], Depends(visible_dossier)]
