"""After sending, through the real Dispatcher and the loopback Bot API: what /start says
once the PEC is delivered (the delivery time once), and no promise of a delivery message
when the PEC receipts are not read here."""

from __future__ import annotations

import datetime as dt

from tests.test_bot_conversation import Session
from tests.test_bot_dossier import TODAY, deliver_by_smtp, send_application


async def test_start_after_delivery_says_the_delivery_time_once(api, db_path):
    from dossier.pec import parse_receipt
    from dossier.receipts import record_receipt
    from tests.pec_messages import build_receipt

    s = Session(api, db_path, TODAY)
    await send_application(s)
    f = s.family
    texts = await f.say("/start")
    assert "Quando la casella del protocollo la riceve" not in texts[-1]  # no IMAP here
    assert "Quando parte, vi scriviamo qui." in texts[-1]
    await deliver_by_smtp(s, db_path)
    message_id = next(iter(s.db.query("select message_id from outbox")))["message_id"]
    for kind, minute in (("accettazione", 30), ("avvenuta-consegna", 31)):
        raw = build_receipt(
            kind,
            message_id,
            at=dt.datetime(2025, 6, 2, 10, minute, tzinfo=dt.UTC),
            recipient="protocollo@pec.comune.rozzano.mi.it",
            subject="Domanda Misura B2",
        )
        parsed = parse_receipt(raw)
        assert parsed is not None
        record_receipt(s.db, s.dp["desk"].blobs, raw, parsed)
    texts = await f.say("/start")
    status = texts[-1]
    assert "Ultima ricevuta PEC" not in status  # the status line says it already
    assert status.count(":31") == 1, status
    assert "Ora decidono i servizi sociali" in status
    await s.close()


async def test_erasing_after_sending_says_the_application_stays_with_the_comune(api, db_path):
    from bot.i18n import make_i18n
    from dialogs.languages import translator
    from dialogs.status_view import SENT_STAYS

    s = Session(api, db_path, TODAY)
    texts = await s.family.say("/cancella_dati")
    assert "resta al Comune" not in texts[-1]  # nothing sent yet: nothing to say about it
    await s.family.press("No")
    await send_application(s)
    await deliver_by_smtp(s, db_path)
    texts = await s.family.say("/cancella_dati")
    assert "Volete cancellare tutto" in texts[-1]
    assert (
        "La domanda già inviata resta al Comune che l'ha ricevuta: noi possiamo cancellare "
        "solo la nostra copia. Per ritirarla, scrivete ai servizi sociali del Comune."
    ) in texts[-1]
    # said in every language of the chat
    i18n = make_i18n()
    for language in ("en", "ro", "uk", "es", "ar", "sq", "zh"):
        assert translator(i18n, language)(SENT_STAYS) != SENT_STAYS
    await s.close()
