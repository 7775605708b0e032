"""Why we do not take a file, in words a family understands.

Every refusal of an upload is a `FileRefused` with a short reason code (for the logs and
the counters) and an Italian message marked with `N_`; the caller translates it and fills
it with `.format(**params)`. Each message says what is wrong with the file and what to
do. Logs carry reason codes, kinds and sizes only, never content or names.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from common.i18n import N_

log = logging.getLogger("dossier.files")  # "file refused: …" lines, where they always were

MSG_EMPTY = N_("Il file è arrivato vuoto. Provate a mandarlo di nuovo.")
MSG_TOO_BIG = N_(
    "Il file è troppo grande: pesa {size_mb} MB e il limite è {limit_mb} MB. "
    "Mandate il documento come foto e non come file, "
    "oppure fate la scansione con una qualità più bassa, "
    "oppure dividete il PDF in più parti."
)
MSG_NOT_A_DOCUMENT = N_(
    "Questo file non è una foto né un PDF. "
    "Accettiamo solo foto, file PDF e file firmati digitalmente (.p7m). "
    "Mandate una foto del documento oppure il PDF."
)
MSG_TRUNCATED = N_(
    "Il file è arrivato incompleto o rovinato. Provate a mandarlo di nuovo. "
    "Se non funziona, mandate una foto del documento."
)
MSG_ENCRYPTED = N_("Il PDF è protetto da password. Mandate una copia senza password.")
MSG_ACTIVE_CONTENT = N_(
    "Questo PDF contiene programmi o allegati nascosti e non possiamo accettarlo. "
    "Mandate una foto delle pagine, oppure salvate di nuovo il documento come PDF semplice."
)
MSG_BOMB = N_(
    "L'immagine è troppo grande per essere aperta. "
    "Mandatela come foto e non come file, oppure fatene una con meno risoluzione."
)
MSG_TOO_SMALL = N_(
    "La foto è troppo piccola e non si legge. "
    "Rifatela più da vicino, con il documento che riempie la foto."
)
MSG_BLANK = N_(
    "La foto sembra vuota: tutta nera o tutta bianca. Rifatela con il documento ben inquadrato e con luce."
)
MSG_UNREADABLE = N_(
    "Non riusciamo ad aprire questo file. "
    "Mandatelo di nuovo, oppure mandate una foto del documento."
)
MSG_NO_PAGES = N_("Questo PDF non ha pagine. Mandate il PDF del documento, oppure una sua foto.")
MSG_TOO_MANY_PAGES = N_(
    "Il PDF ha troppe pagine: per questo documento ne prendiamo al massimo {limit}. "
    "Mandate solo le pagine che servono, oppure dividete il PDF in più parti."
)
MSG_TOO_COMPLEX = N_(
    "Questo file è troppo complicato da controllare. "
    "Mandate una foto del documento, oppure salvatelo di nuovo come PDF semplice."
)
MSG_SIGNED_ACTIVE = N_(
    "Questo file ha la firma digitale, ma contiene anche collegamenti, azioni o allegati. "
    "Così non possiamo mandarlo al Comune. "
    "Firmate un PDF semplice, oppure mandate una foto delle pagine firmate."
)
# A file kept byte for byte (a digitally signed PDF, a .p7m) that carries something
# besides its pages: each problem its own words, and the way out (a clean signed copy
# from whoever signed it, or a photo or scan).
MSG_SIGNED_ZIP = N_(
    "Questo file firmato digitalmente ha dentro un archivio compresso (ZIP), "
    "quindi non possiamo mandarlo al Comune. Chiedete a chi l'ha firmato una copia "
    "firmata senza altri file dentro, oppure mandate una foto o una scansione delle pagine."
)
MSG_SIGNED_HIDDEN = N_(
    "Questo file firmato digitalmente contiene dati nascosti che nessuna pagina mostra, "
    "quindi non possiamo mandarlo al Comune. Chiedete a chi l'ha firmato una nuova copia "
    "firmata, oppure mandate una foto o una scansione delle pagine."
)
MSG_SIGNED_TAIL = N_(
    "Questo file firmato digitalmente ha dei dati in più attaccati dopo la fine del "
    "documento, quindi non possiamo mandarlo al Comune. Chiedete a chi l'ha firmato una "
    "nuova copia firmata, oppure mandate una foto o una scansione delle pagine."
)
MSG_TOO_MANY_SIGNATURES = N_(
    "Questo file ha {count} firme digitali: ne controlliamo al massimo {limit}. "
    "Chiedete a chi l'ha firmato una copia con meno firme, "
    "oppure mandate una foto o una scansione delle pagine."
)
MSG_REPEATED_KEYS = N_(
    "Questo PDF è scritto in un modo che non riusciamo a controllare. "
    "Mandate una foto delle pagine, oppure salvatelo di nuovo come PDF. "
    "Se è firmato digitalmente, chiedete una nuova copia a chi l'ha firmato."
)
CHANGED_AFTER_SIGNING = N_(
    "Questo PDF è stato cambiato dopo la firma digitale, quindi per noi non vale come "
    "firmato: lo teniamo come un PDF normale. "
    "Se doveva essere firmato, mandate il file così come era dopo la firma."
)


MSG_ITEM_BYTES = N_(
    "Questo documento è troppo pesante: con questo file arriverebbe a {size_mb} MB e il "
    "limite per un documento è {limit_mb} MB. Mandate le pagine come foto e non come file, "
    "oppure un PDF più leggero (una scansione con qualità più bassa)."
)
MSG_DOSSIER_BYTES = N_(
    "La domanda è troppo pesante: con questo file arriverebbe a {size_mb} MB e il limite "
    "è {limit_mb} MB. Mandate le pagine come foto e non come file, oppure PDF più leggeri. "
    "Per togliere un documento, toccate «Rifai un documento»."
)

MSG_MESSAGE_BYTES = N_(
    "«{item}» non entra in una PEC: arriverebbe a {size_mb} MB, il massimo è {limit_mb} MB. "
    "Questo file non l'ho preso, gli altri restano. Mandate meno pagine, foto invece di "
    "file o una scansione più leggera; se no, portatelo ai servizi sociali del Comune."
)
MSG_BUSY = N_(
    "Sto ancora controllando i file di prima: questo non l'ho preso. Mandatelo di nuovo "
    "tra un minuto."
)

REFUSAL_REASONS: dict[str, str] = {
    MSG_EMPTY: "empty",
    MSG_TOO_BIG: "too_big",
    MSG_NOT_A_DOCUMENT: "not_a_document",
    MSG_TRUNCATED: "truncated",
    MSG_ENCRYPTED: "encrypted",
    MSG_ACTIVE_CONTENT: "active_content",
    MSG_BOMB: "bomb",
    MSG_TOO_SMALL: "too_small",
    MSG_BLANK: "blank",
    MSG_UNREADABLE: "unreadable",
    MSG_NO_PAGES: "unreadable",
    MSG_TOO_MANY_PAGES: "too_many_pages",
    MSG_TOO_COMPLEX: "too_complex",
    MSG_SIGNED_ACTIVE: "active_content",
    MSG_SIGNED_ZIP: "signed_zip",
    MSG_SIGNED_HIDDEN: "signed_hidden",
    MSG_SIGNED_TAIL: "signed_tail",
    MSG_REPEATED_KEYS: "repeated_keys",
    MSG_TOO_MANY_SIGNATURES: "too_many_signatures",
    MSG_ITEM_BYTES: "too_heavy",
    MSG_DOSSIER_BYTES: "too_heavy",
    MSG_MESSAGE_BYTES: "too_heavy",
    MSG_BUSY: "busy",
}
"""Every refusal message (msgid) and its reason code."""


class FileRefused(Exception):
    """A file we cannot take; `msgid` (Italian, N_-marked) says why and what to do; `params` fill it.

    `reason` is a short machine code, one of the values of `REFUSAL_REASONS`; a message not
    in that table counts as "unreadable".
    """

    msgid: str
    params: dict[str, object]
    reason: str

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = dict(params)
        self.reason = REFUSAL_REASONS.get(msgid, "unreadable")

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[Any, ...]:  # crosses from the checking process intact
        return (_refused, (self.msgid, self.params))


def _refused(msgid: str, params: dict[str, object]) -> FileRefused:
    return FileRefused(msgid, **params)


def mb(size: int) -> int:
    return math.ceil(size / (1024 * 1024))


def logged(
    refused: FileRefused, kind: str | None, size: int, error: BaseException | None = None
) -> FileRefused:
    """Log a refusal without anything personal: reason, kind, size, error class."""
    log.info(
        "file refused: reason=%s kind=%s size=%d%s",
        refused.reason,
        kind or "-",
        size,
        f" error={type(error).__name__}" if error is not None else "",
    )
    return refused
