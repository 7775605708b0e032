"""Fixed values and the Italian labels of the back-office pages."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

from . import formatting

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
PAGE_SIZE = 50
PREVIEW_SIDE = 1200
ZIP_BUDGET = 10**12  # the ZIP is no e-mail: photos at their best level, one "message"
NOTE_MAX = 1000
PROTOCOL_MAX = 40
THUMBNAIL_SIDE = 480
INTEGRATION_DAYS = 10  # the deadline the request form proposes (the social worker changes it)
PASTE_MAX_LINES = 200

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
formatting.install(_env)
templates = Jinja2Templates(env=_env)

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
FILE_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

STATUS_LABELS = {
    "bozza": "Bozza",
    "pronta": "Pronta per l'invio",
    "in_invio": "In invio",
    "salvata": "Salvata, non inviata",
    "inviata": "Inviata",
    "accettata": "Accettata dal gestore PEC",
    "consegnata": "Consegnata al protocollo",
    "integrazione_richiesta": "Integrazione richiesta",
    "integrata": "Integrata dalla famiglia",
    "errore": "Errore di invio",
}
EVENT_LABELS = {
    **STATUS_LABELS,
    "integrazione_richiesta": "Integrazione chiesta alla famiglia",
    "integrata": "La famiglia ha mandato i documenti chiesti",
    "purge_warning": "Famiglia avvisata: i file saranno cancellati",
    "riprova": "Invio non riuscito",  # with why and the next try: `history._retry`
    "esito": "Esito comunicato alla famiglia",
    "integrazione_aggiunta": "Altri documenti chiesti alla famiglia",
    "integrazione_promemoria": "Promemoria dell'integrazione mandato alla famiglia",
    "purged": "File cancellati (fine del periodo di conservazione)",
}
VERDICT_LABELS = {
    "eligible": "Requisiti presenti",
    "conditional": "Requisiti presenti, con condizioni da verificare",
    "not_eligible": "Requisiti non presenti",
    "undetermined": "Non determinabile",
}
OUTCOME_LABELS = {
    "met": "soddisfatto",
    "failed": "non soddisfatto",
    "pending": "in attesa",
    "ask": "da verificare",
}
OUTBOX_LABELS = {
    "pending": "in attesa di invio",
    "sending": "in invio",
    "sent": "inviato",
    "saved": "salvato nella cartella, NON inviato",
    "uncertain": "esito incerto",
    "failed": "non inviato",
}
RECEIPT_LABELS = {
    "accettazione": "Ricevuta di accettazione",
    "non-accettazione": "Avviso di non accettazione",
    "presa-in-carico": "Ricevuta di presa in carico",
    "avvenuta-consegna": "Ricevuta di avvenuta consegna",
    "errore-consegna": "Avviso di mancata consegna",
    "preavviso-errore-consegna": "Preavviso di mancata consegna",
    "rilevazione-virus": "Avviso di rilevazione virus",
}
REQUEST_LABELS = {
    "pending": "registrata, la famiglia non è ancora stata avvisata",
    "sent": "comunicata alla famiglia",
    "answered": "la famiglia ha risposto",
}
REASONS = {"mancante": "manca", "illeggibile": "non si legge"}
OUTCOME_NAMES = {
    "ammessa": "Ammessa",
    "esclusa": "Esclusa",
    "in_graduatoria": "In graduatoria",
    "finanziata": "Finanziata",
}
# note templates of an integration request: the social worker picks one, then edits it
NOTE_TEMPLATES = {
    "manca": "Manca un documento: mandatelo qui in chat, anche come foto.",
    "illeggibile": "Un documento non si legge: rifate la foto con più luce, tutta la pagina "
    "dentro l'inquadratura.",
    "isee": "Serve l'attestazione ISEE completa e in corso di validità, con tutte le pagine.",
    "busta_paga": "Serve l'ultima busta paga dell'assistente familiare e la ricevuta dei "
    "contributi INPS.",
    "firma": "Manca la firma sulla domanda: firmate il modulo e mandate la foto di ogni pagina.",
}
COMPONENT_NAMES = {"adl": "ADL", "iadl": "IADL", "cbi": "CBI", "isee": "ISEE"}
# what the social worker types for each component of a ranking
ENTRY_HINTS = {
    "adl": "Funzioni mantenute nella scala ADL",
    "iadl": "Funzioni mantenute nella scala IADL",
    "cbi": "Punti della scala CBI",
}
KIND_LABELS = {
    "jpeg": "Foto (JPEG)",
    "png": "Immagine (PNG)",
    "webp": "Immagine (WebP)",
    "heic": "Foto (HEIC)",
    "pdf": "PDF",
    "p7m": "File firmato digitalmente (.p7m)",
}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heic": "heic", "pdf": "pdf"}
# a request can be made once the comune has the application (not while one is open)
CAN_REQUEST = ("inviata", "accettata", "consegnata", "integrata")
# the comune has the application: a protocol number and an outcome make sense
REACHED = ("inviata", "accettata", "consegnata", "integrazione_richiesta", "integrata")


# -- small helpers ---------------------------------------------------------------------
