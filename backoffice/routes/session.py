"""Logging in and out, and more time before the session ends."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from storage import audit, lockout
from storage import staff as accounts

from .. import auth, formatting
from ..deps import CheckedForm, CurrentSession, ServicesDep
from ..pages import redirect, render
from .common import record, remote

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home() -> Response:
    return redirect(auth.HOME_PATH)


@router.get("/login", name="login")
async def login_page(request: Request) -> Response:
    target = auth.safe_next(request.query_params.get("next"))
    if auth.session_of(request) is not None:
        return redirect(target)
    token = auth.login_csrf_token(request)
    response = render(
        request,
        "login.html",
        {"email": "", "next": target, "login_csrf": token, "error": None},
    )
    auth.set_login_csrf_cookie(response, request, token)
    return response


@router.post("/login")
async def login(request: Request, svc: ServicesDep) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip()[:320]
    password = str(form.get("password") or "")
    target = auth.safe_next(str(form.get("next") or ""))
    now = svc.clock()

    def again(error: str, status_code: int) -> Response:
        token = auth.login_csrf_token(request)
        response = render(
            request,
            "login.html",
            {"email": email, "next": target, "login_csrf": token, "error": error},
            status_code=status_code,
        )
        auth.set_login_csrf_cookie(response, request, token)
        return response

    if not auth.login_csrf_ok(request, form.get("csrf")):
        return again("La pagina di accesso era scaduta. Scrivete di nuovo e-mail e password.", 403)
    if not email or not password:
        return again("Scrivete l'e-mail e la password.", 400)
    device = request.cookies.get(lockout.DEVICE_COOKIE)
    attempt = await accounts.attempt_login_async(
        svc.db, email, password, now, remote(request), device=device
    )
    staff = attempt.staff
    if staff is None:
        typed = accounts.normalise_email(email)
        if attempt.refused == "busy":
            audit.log_stranger(svc.db, typed, "login_locked", at=now)
            return again(
                "Un altro accesso con questa e-mail è in corso. Riprovate tra qualche secondo.",
                429,
            )
        if attempt.refused == "slowed" and attempt.until is not None:
            audit.log_stranger(svc.db, typed, "login_locked", at=now)
            wait = max(1, int((attempt.until - now).total_seconds()) + 1)
            return again(
                "Troppi tentativi non riusciti su questo account da altre reti: i controlli "
                f"sono rallentati. Riprovate tra {wait} secondi.",
                429,
            )
        if attempt.refused == "closed" and attempt.until is not None:
            audit.log_stranger(svc.db, typed, "login_locked", at=now)
            return again(
                "Per proteggere questo account, dopo molti tentativi non riusciti l'accesso "
                "da computer e reti nuovi è sospeso fino alle "
                f"{formatting.moment(attempt.until)[-5:]} del {formatting.day(attempt.until)}. "
                "Potete entrare dal computer che usate di solito, oppure chiedete "
                "all'amministratore di sbloccare l'account.",
                429,
            )
        if attempt.refused == "locked" and attempt.until is not None:
            audit.log_stranger(svc.db, typed, "login_locked", at=now)
            return again(
                "Troppi tentativi non riusciti: l'accesso da questa rete è sospeso "
                "per 15 minuti dall'ultimo tentativo. "
                f"Riprovate dopo le {formatting.moment(attempt.until)[-5:]} "
                f"del {formatting.day(attempt.until)}.",
                429,
            )
        audit.log_stranger(svc.db, typed, "login_failed", at=now)
        return again("E-mail o password non corrette.", 401)
    old = request.cookies.get(auth.SESSION_COOKIE)
    accounts.end_session(svc.db, old)  # a fresh token at every login (no fixation)
    token, _csrf = accounts.create_session(svc.db, staff.id, now)
    audit.log(svc.db, staff, "login", at=now)
    response = redirect(target)
    auth.set_session_cookie(response, request, token)
    known = lockout.usable_token(device) or lockout.new_device_token()
    lockout.remember_device(svc.db, staff.email, known, now)
    auth.set_device_cookie(response, request, known)
    auth.clear_login_csrf_cookie(response, request)
    return response


@router.get("/logout")
async def logout_page(request: Request) -> Response:
    """An address typed or bookmarked: a page with the button (leaving changes state, so
    it is a form, never a plain link)."""
    session = auth.session_of(request)
    if session is None:
        return redirect(auth.LOGIN_PATH)
    return render(request, "logout.html", {}, session=session)


@router.post("/logout")
async def logout(
    request: Request, svc: ServicesDep, session: CurrentSession, form: CheckedForm
) -> Response:
    accounts.end_session(svc.db, request.cookies.get(auth.SESSION_COOKIE))
    record(svc, session.staff, "logout")
    response = redirect(auth.LOGIN_PATH)
    auth.clear_session_cookie(response, request)
    return response


@router.post("/sessione")
async def more_time(
    request: Request, svc: ServicesDep, session: CurrentSession, form: CheckedForm
) -> Response:
    """'Resta collegato': the session starts again from now (the page's script asks; the
    same form without the script comes back to the page it was on)."""
    until = accounts.extend_session(svc.db, session.token_hash, svc.clock())
    left = int((until - svc.clock()).total_seconds())
    if request.headers.get("accept", "").startswith("application/json"):
        response: Response = JSONResponse(
            {"left": left, "until": formatting.moment(until)[-5:]},
            headers={"Cache-Control": "no-store"},
        )
    else:
        response = redirect(auth.safe_next(str(form.get("back") or "")))
    auth.set_session_cookie(response, request, request.cookies.get(auth.SESSION_COOKIE) or "")
    return response
