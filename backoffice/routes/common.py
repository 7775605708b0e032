"""Small helpers the route modules share."""

from __future__ import annotations

from typing import Any

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
