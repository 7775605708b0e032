"""Every refusal and every error as one Italian page (never FastAPI's English JSON): login
needed, a form out of date, a dossier that is not yours, an address that does not exist,
a method the address does not take, a malformed address, and our own failures."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import auth
from .deps import AdminOnly, FormRefused, LoginRequired, NotYours, UploadTooLarge
from .pages import error_page, redirect

log = logging.getLogger(__name__)

TEXTS = {
    404: ("Pagina non trovata", "Questo indirizzo non porta a nessuna pagina dello sportello."),
    405: (
        "Operazione non disponibile",
        "Questo indirizzo non si apre così. Usate i pulsanti e i collegamenti delle pagine.",
    ),
    422: (
        "Indirizzo non valido",
        "L'indirizzo contiene un valore che non si può leggere (per esempio un numero di "
        "file sbagliato). Tornate alla pagina di prima e usate i collegamenti.",
    ),
    500: (
        "Errore dello sportello",
        "Qualcosa non ha funzionato da parte nostra. Quello che avete fatto potrebbe non "
        "essere stato salvato: tornate alla pagina e controllate.",
    ),
}
WHO_500 = "Se succede di nuovo, avvisate l'operatore dello sportello con l'ora dell'errore."


def _session(request: Request):
    try:
        return auth.session_of(request)
    except Exception:  # the database itself may be what failed
        return None


def login_target(target: str, draft: str | None) -> str:
    if draft:
        path, _sep, query = target.partition("?")
        target = path + "?" + (query + "&" if query else "") + urlencode({"bozza": draft})
    if target in ("/", auth.HOME_PATH):
        return auth.LOGIN_PATH
    return f"{auth.LOGIN_PATH}?next={quote(target, safe='/')}"


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return redirect(login_target(exc.target, exc.draft))

    @app.exception_handler(FormRefused)
    async def form_refused(request: Request, exc: FormRefused) -> Response:
        return error_page(
            request,
            403,
            "Modulo non valido",
            "Il modulo è scaduto o non viene da questa pagina. Tornate indietro, ricaricate "
            "la pagina e riprovate.",
            session=_session(request),
        )

    @app.exception_handler(AdminOnly)
    async def admin_only(request: Request, exc: AdminOnly) -> Response:
        return error_page(
            request,
            403,
            "Pagina per gli amministratori",
            "Questa pagina è per chi amministra lo sportello (l'Ufficio di Piano): da qui "
            "si pubblicano gli avvisi. Se vi serve, chiedete a un amministratore.",
            session=_session(request),
        )

    @app.exception_handler(UploadTooLarge)
    async def upload_too_large(request: Request, exc: UploadTooLarge) -> Response:
        return error_page(
            request,
            413,
            "File troppo grande",
            "Il file è più grande di 1 MB: un avviso e i suoi casi stanno in molto meno. "
            "Controllate di aver scelto il file giusto (un testo .yaml) e riprovate.",
            session=_session(request),
        )

    @app.exception_handler(NotYours)
    async def not_yours(request: Request, exc: NotYours) -> Response:
        return error_page(
            request,
            403,
            "Pratica non disponibile",
            "Tra le pratiche dei vostri Comuni non ce n'è una con questo codice: non potete "
            "vederla. Controllate il codice o cercatela nell'elenco.",
            session=_session(request),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title, text = TEXTS.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        response = error_page(request, exc.status_code, title, text, session=_session(request))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, exc: RequestValidationError) -> Response:
        title, text = TEXTS[422]
        return error_page(request, 422, title, text, session=_session(request))

    @app.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        title, text = TEXTS[500]
        return error_page(request, 500, title, text, who=WHO_500, session=_session(request))
