"""The console's words where the chat's are Telegram's: at the counter nobody taps a
button or sends a photo in a chat; they type the number of an option and attach files
with `/allega`. Each message of the controller that says so is said here in the
console's words (translated like the rest), and the console's translator takes these.
Here too the console's own messages (the family open, the send, the files)."""

from __future__ import annotations

from common.i18n import N_
from dialogs import flow
from dialogs.languages import Translate
from dossier import refusals

NOT_FOUND = N_("Non trovo il file {path}. Scrivete il percorso completo.")
NOT_THERE = N_("Non trovo il file {path}. Controllate il nome del file e la cartella.")
SAVED = N_("Salvato in {path}")
OPEN_NONE = N_("Allo sportello: famiglia n. {number}, nessuna domanda ancora.")
OPEN_ONE = N_("Allo sportello: famiglia n. {number}, domanda {id}.")
NEXT_FAMILY = N_(
    "Per la famiglia successiva scrivete /nuova. Per riaprire una domanda scrivete /apri "
    "e il codice, per esempio /apri B2-ABC123."
)
NO_SUCH = N_(
    "Non trovo una domanda {id} preparata allo sportello. Controllate il codice, per "
    "esempio /apri B2-ABC123."
)
NOT_SENT = N_(
    "Attenzione: la domanda {id} NON è partita. Qui non c'è un server di posta: è salvata "
    "nella cartella {path}. Per inviarla, impostate la casella PEC (SMTP_HOST) e scrivete "
    "sportello outbox --requeue {id} && sportello outbox --send. Se no, consegnatela voi "
    "entro la scadenza, per PEC o "
    "all'Ufficio Protocollo. La copia è in {copy}."
)
SERVICE_SENDS = N_(
    "La domanda {id} è in coda: la manda il servizio in funzione (sportello serve). Per "
    "sapere a che punto è: /apri {id}."
)
GOODBYE = N_("Le risposte restano salvate. A presto!")
BANNER = N_(
    "Sportello B2 — scrivete /esci per uscire. Comandi: /riepilogo, /indietro, /ricomincia, "
    "/documenti, /allega PERCORSO, /nuova, /apri CODICE."
)

COUNTER_WORDS = {
    flow.HINT: N_(
        "Non ho capito. Scrivete il numero di una risposta qui sopra, o la risposta come è "
        "scritta lì."
    ),
    flow.MULTI_HINT: N_(
        "Non ho capito. Scrivete il numero delle risposte giuste, una alla volta, poi "
        "«Fatto». Potete anche scriverne il nome, o scrivere «nessuno»."
    ),
    "Se un dato è sbagliato, toccatelo: lo riscrivete solo quello.": N_(
        "Se un dato è sbagliato, scrivete il suo numero: lo riscrivete solo quello."
    ),
    (
        "La copia vi è già stata mandata alle {time}: la trovate più in alto in questa "
        "chat. Potete chiederla di nuovo tra qualche minuto."
    ): N_(
        "La copia è già stata salvata alle {time}, nella cartella della domanda. Potete "
        "chiederla di nuovo tra qualche minuto."
    ),
    # the privacy notice: families at the counter have no chat to be warned in
    (
        "• Se non scrivete per 6 mesi, cancelliamo risposte e domande non "
        "inviate. Vi avvisiamo una settimana prima."
    ): N_(
        "• Se per 6 mesi nessuno riprende queste risposte allo sportello, le cancelliamo, "
        "con le domande non inviate. Allo sportello non possiamo avvisarvi prima."
    ),
    (
        "• I documenti di una domanda consegnata li cancelliamo dopo alcune "
        "settimane. Vi avvisiamo prima."
    ): N_(
        "• I documenti di una domanda consegnata li cancelliamo dopo alcune settimane, "
        "senza avviso. Chiedete allo sportello una copia della domanda."
    ),
    # a file too heavy: at the counter there is no "photo, not file" (Telegram's)
    refusals.MSG_TOO_BIG: N_(
        "Il file è troppo grande: pesa {size_mb} MB e il limite è {limit_mb} MB. "
        "Allegate una foto del documento, oppure fate la scansione con una qualità più "
        "bassa, oppure dividete il PDF in più parti."
    ),
    refusals.MSG_BOMB: N_(
        "L'immagine è troppo grande per essere aperta. Allegatene una con meno "
        "risoluzione, per esempio una foto JPEG."
    ),
    refusals.MSG_ITEM_BYTES: N_(
        "Questo documento è troppo pesante: con questo file arriverebbe a {size_mb} MB e il "
        "limite per un documento è {limit_mb} MB. Allegate foto JPEG delle pagine, oppure "
        "un PDF più leggero (una scansione con qualità più bassa)."
    ),
    refusals.MSG_DOSSIER_BYTES: N_(
        "La domanda è troppo pesante: con questo file arriverebbe a {size_mb} MB e il "
        "limite è {limit_mb} MB. Allegate foto JPEG o PDF più leggeri. Per togliere un "
        "documento, scegliete «Rifai un documento»."
    ),
    refusals.MSG_MESSAGE_BYTES: N_(
        "«{item}» non entra in una PEC: arriverebbe a {size_mb} MB, il massimo è "
        "{limit_mb} MB. Questo file non l'ho preso, gli altri restano. Allegate meno "
        "pagine o una scansione più leggera; se no, portatelo ai servizi sociali del Comune."
    ),
    "Premete Sì o No.": N_("Scrivete Sì o No, o il numero della risposta."),
    "Altre pagine? Mandatele. Se no, scegliete il prossimo.": N_(
        "Altre pagine? Allegatele con /allega PERCORSO. Se no, scegliete il prossimo."
    ),
    "Mandate qui le foto delle pagine firmate del modulo.": N_(
        "Allegate le foto delle pagine firmate del modulo con /allega PERCORSO."
    ),
    "Riceverete una copia qui. Inviamo adesso?": N_(
        "La copia per la famiglia va nella cartella della domanda. Inviamo adesso?"
    ),
    "Per rispondere, toccate uno dei pulsanti qui sotto.": N_(
        "Per rispondere, scrivete il numero di una delle risposte qui sotto."
    ),
    "Toccate una risposta per cambiarla. Le altre restano.": N_(
        "Scrivete il numero di una risposta per cambiarla. Le altre restano."
    ),
    "Toccate un documento, poi mandate le foto o i PDF qui in chat. Anche più foto insieme.": N_(
        "Scrivete il numero di un documento, poi allegate i file con /allega PERCORSO. "
        "Anche più file insieme."
    ),
    "Toccate un documento e mandate le foto o i PDF.": N_(
        "Scrivete il numero di un documento, poi allegate i file con /allega PERCORSO."
    ),
    "Bene. Toccate il documento, poi mandate le foto o i PDF.": N_(
        "Bene. Scrivete il numero del documento, poi allegate i file con /allega PERCORSO."
    ),
    "Mandate qui le foto o i PDF, come prima.": N_(
        "Allegate i file con /allega PERCORSO, come prima."
    ),
    "Altri file? Mandateli. Quando avete finito, toccate qui.": N_(
        "Altri file? Allegateli con /allega. Quando avete finito, scrivete il numero qui sotto."
    ),
    (
        "Se è un solo documento che vale per tutti e due (per esempio un verbale "
        "INPS), toccate «È lo stesso documento». Lo mandiamo una volta sola."
    ): N_(
        "Se è un solo documento che vale per tutti e due (per esempio un verbale "
        "INPS), scegliete «È lo stesso documento». Lo mandiamo una volta sola."
    ),
    (
        "La domanda {id} è in preparazione e i file sono salvati. Finite le "
        "domande: dal risultato toccate «Prepara la domanda» per riprenderla."
    ): N_(
        "La domanda {id} è in preparazione e i file sono salvati. Finite le "
        "domande: dal risultato scegliete «Prepara la domanda» per riprenderla."
    ),
    "Quali di questi documenti ha? Toccate tutti quelli giusti, poi «Fatto».": N_(
        "Quali di questi documenti ha? Scrivete il numero di ognuno, uno alla volta, poi «Fatto». "
        "Oppure tutti in una riga, ed è la risposta: per esempio 1, 3."
    ),
    "Riceve già uno di questi aiuti? Toccate tutti quelli giusti, poi «Fatto».": N_(
        "Riceve già uno di questi aiuti? Scrivete il numero di ognuno, uno alla volta, poi «Fatto». "
        "Oppure tutti in una riga, ed è la risposta: per esempio 1, 3."
    ),
}


def counter_words(gettext: Translate) -> Translate:
    """`gettext`, with the console's words in place of the chat's (`COUNTER_WORDS`)."""

    def _(message: str, plural: str | None = None, n: int = 1) -> str:
        if plural is None:
            message = COUNTER_WORDS.get(message, message)
        return gettext(message, plural, n)

    return _
