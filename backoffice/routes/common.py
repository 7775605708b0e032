"""Small helpers the route modules share."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Request
from starlette.datastructures import FormData

from storage import audit
from storage.staff import Staff

from ..deps import Services, safe_path


def record(
    svc: Services, staff: Staff, action: str, dossier_id: str | None = None, detail: Any = None
) -> None:
    """One line of the audit log, by this staff member, now."""
    audit.log(svc.db, staff, action, dossier_id, detail, at=svc.clock())


def field(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def back_to(form: FormData, default: str) -> str:
    """Where the form came from (a page of this site), to go back after it."""
    return safe_path(field(form, "back", 1000), default)


def remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def with_params(url: str, **params: str) -> str:
    """`url` with these query parameters set (a draft token dropped)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params and k != "bozza"]
    query += list(params.items())
    return parts.path + "?" + urlencode(query)


def came_from(form: FormData) -> str | None:
    """The page before the dossier page a form was sent from (its `da`), if any."""
    return dict(parse_qsl(urlsplit(back_to(form, "/")).query)).get("da")


def dossier_back(form: FormData, dossier_id: str) -> str:
    """The dossier page a form was sent from (with its `da`), to go back to after it."""
    back = back_to(form, f"/pratiche/{dossier_id}")
    return back if urlsplit(back).path == f"/pratiche/{dossier_id}" else f"/pratiche/{dossier_id}"
