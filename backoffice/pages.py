"""Rendering a back-office page: the template with what every page shows (who is logged
in, when the session ends, the accessibility statement and the feedback address)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from storage.staff import Session

from .deps import Services
from .labels import PAGE_HEADERS, STATUS_LABELS, templates

SESSION_WARNING = 10 * 60  # seconds before the end of the session the page warns


def static_url(request: Request, path: str) -> str:
    try:
        return request.url_for("static", path=path).path
    except Exception:  # no mount named "static": the conventional place
        return f"/static/{path}"


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    session: Session | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    svc: Services = request.app.state.services
    settings = svc.settings
    left = None
    if session is not None:
        left = max(0, int((session.expires_at - svc.clock()).total_seconds()))
    context = {
        "staff": session.staff if session else None,
        "csrf": session.csrf if session else "",
        "css": static_url(request, "backoffice.css"),
        "js": static_url(request, "backoffice.js"),
        "session_left": left,
        "session_warning": SESSION_WARNING,
        "feedback_email": getattr(settings, "sportello_feedback_email", None),
        "accessibility_url": getattr(settings, "sportello_accessibility_url", None)
        or "/accessibilita",
        "STATUS_LABELS": STATUS_LABELS,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    }
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PAGE_HEADERS
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def error_page(
    request: Request,
    status_code: int,
    title: str,
    text: str,
    *,
    who: str | None = None,
    session: Session | None = None,
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": title, "text": text, "who": who},
        session=session,
        status_code=status_code,
    )
