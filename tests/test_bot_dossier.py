"""From a favourable result to a dossier in the outbox, through the real aiogram Bot and
Dispatcher, a Bot API stand-in on loopback (with getFile, downloads and sendDocument),
a real SQLite file and the encrypted file store."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader
from stdnum.it import codicefiscale

from dialogs.buttons import FileAs, Redo
from storage.dossiers import attachments, dossiers_of
from tests.botapi import BotAPI
from tests.documents import (
    document_photo,
    encrypted_pdf,
    pdf_document,
    pdf_with_javascript,
    signed_form_photos,
    signed_page_photo,
)
from tests.test_bot_conversation import OPERA, Session, begin, follow

TODAY = dt.date(2025, 6, 2)  # the Visconteo Sud Milano notice is open until 20/06/2025


def tax_code(stem: str) -> str:
    return stem + codicefiscale.calc_check_digit(stem)


APPLICANT_CF = tax_code("RSSMRA70A41F205")
BENEFICIARY_CF = tax_code("RSSGPP39E20F205")  # born 20/05/1939, as in the questionnaire
IBAN = "IT60 X054 2811 1010 0000 0123 456"
ASSISTANT = "Ana Popescu"  # the assistente familiare of the Opera family


async def after_address(s: Session, *, bank: bool = True) -> list[str]:
    """The questions after the beneficiary's street: its CAP, the day of the DSU, and (for
    the Opera notice, that pays on an account for an assistant) whose account, its IBAN
    and the assistant's name."""
    f = s.family
    texts = await f.say("20073")
    texts += await f.say("15/01/2025")
    if bank:  # whose account: to who signs for themselves, «Il mio conto»
        mine = "Il mio conto" in f.buttons()
        texts += await f.press("Il mio conto" if mine else "La persona assistita")
        texts += await f.say(IBAN)
        texts += await f.say(ASSISTANT)
    return texts


async def to_result(s: Session) -> list[str]:
    return await follow(s.family, OPERA, await begin(s.family))


async def fill_identity(s: Session) -> list[str]:
    f = s.family
    texts = await f.press("Prepara la domanda")
    texts += await f.press("Il figlio o la figlia")
    texts += await f.say("maria")
    texts += await f.say("rossi")
    texts += await f.say(APPLICANT_CF.lower())
    return texts + await from_the_signer_s_address(s)


async def from_the_signer_s_address(s: Session) -> list[str]:
    """The details from the street of who signs (a child) on."""
    f = s.family
    texts = await f.say("Via Verdi 5")
    texts += await f.say("20089 Rozzano")
    texts += await f.say("333 123 4567")
    texts += await f.press("Non ce l'ho")
    texts += await f.say("Giuseppe")
    texts += await f.say("Rossi")
    texts += await f.say(BENEFICIARY_CF)
    texts += await f.say("Via Roma 12")
    texts += await after_address(s)
    return texts


async def at_checklist(api: BotAPI, db_path: Path) -> Session:
    """A family of Opera with a favourable result, the form details given: the checklist
    is on screen."""
    s = Session(api, db_path, TODAY)
    await to_result(s)
    await fill_identity(s)
    return s


async def test_favourable_result_offers_to_prepare_the_application(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    assert "📝 Prepara la domanda" in s.family.buttons()
    await s.close()


async def test_identity_questions_check_the_tax_code_against_the_birth_date(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    texts = await f.press("Prepara la domanda")
    assert "protocollo@pec.comune.rozzano.mi.it" in texts[0]
    # an Opera family: the PEC goes to the Ambito's capofila, not "al Comune"
    assert "Comune di Rozzano, capofila dell'Ambito" in texts[0]
    assert "al Comune, per PEC" not in texts[0]
    assert "Chi firma la domanda?" in texts[-1]
    await f.press("Il figlio o la figlia")
    await f.say("Maria")
    await f.say("Rossi")
    texts = await f.say("RSSMRA70A41F205X")  # wrong check character
    assert "l'ultima lettera, di controllo, non va con le altre" in texts[0]
    assert "16 caratteri" not in texts[0]  # sixteen were typed
    texts = await f.say("RSSMRA70A41F205")  # one short
    assert "Un codice fiscale ha 16 caratteri" in texts[0]
    await f.say(APPLICANT_CF)
    await f.say("Via Verdi 5")
    await f.say("20089 Rozzano")
    await f.say("333 1234567")
    await f.press("Non ce l'ho")
    await f.say("Giuseppe")
    await f.say("Rossi")
    wrong_day = tax_code("RSSGPP39E21F205")
    texts = await f.say(wrong_day)
    assert "non va con la data di nascita" in texts[0]
    texts = await f.say(BENEFICIARY_CF)
    texts += await f.say("Via Roma 12")
    texts += await after_address(s)
    checklist = texts[-1]
    assert "Documenti della domanda" in checklist
    assert "Carta d'identità di chi firma" in checklist
    assert "Verbale dell'accompagnamento" in checklist
    assert "Attestazione ISEE" in checklist
    assert "Contratto dell'assistente" in checklist
    await s.close()


async def test_id_card_front_and_back_as_an_album_is_filed_as_two_pages(api, db_path):
    s = await at_checklist(api, db_path)
    f = s.family
    texts = await f.press("Carta d'identità di chi firma")
    assert "fronte e retro" in texts[0]
    texts = await f.upload_photo(document_photo(1), album="alb1")
    texts += await f.upload_photo(document_photo(2), album="alb1")
    assert len(texts) == 1 and "tutte in «Carta d'identità di chi firma»" in texts[0]
    texts = await f.press("Cosa manca")
    assert any("Carta d'identità di chi firma: 2 pagine" in t and "✅" in t for t in texts)
    dossier = dossiers_of(s.db, 4242)[0]
    rows = attachments(s.db, dossier["id"])
    assert [r["item_id"] for r in rows] == ["id_card_applicant", "id_card_applicant"]
    # at rest the files are encrypted: the JPEG bytes are nowhere in the file store
    stored = b"".join(p.read_bytes() for p in (db_path.parent / "files").rglob("*.bin"))
    assert document_photo(1)[:2000] not in stored and len(stored) > 0
    await s.close()


async def test_file_sent_without_choosing_asks_which_document_it_is(api, db_path):
    s = await at_checklist(api, db_path)
    f = s.family
    texts = await f.upload_document(pdf_document(2), "isee.pdf")
    assert "Per quale documento è?" in texts[-1]
    texts = await f.press("Attestazione ISEE")
    assert "Attestazione ISEE: 2 pagine" in texts[-1]
    await s.close()


async def test_bad_files_get_a_clear_message_and_nothing_is_lost(api, db_path):
    s = await at_checklist(api, db_path)
    f = s.family
    await f.press("Attestazione ISEE")
    texts = await f.upload_document(encrypted_pdf(), "isee.pdf")
    assert "password" in texts[-1]
    texts = await f.upload_document(pdf_with_javascript(), "isee.pdf")
    assert "⚠️" in texts[-1]
    texts = await f.upload_document(b"MZ\x90\x00" + b"\x00" * 4000, "isee.pdf")
    assert "⚠️" in texts[-1]
    texts = await f.upload_document(b"", "vuoto.pdf")
    assert "⚠️" in texts[-1]
    texts = await f.upload_document(pdf_document(1), "big.pdf", declared_size=30 * 1024 * 1024)
    assert "20 MB" in texts[-1]
    # none of them was kept; a good file after them is
    texts = await f.upload_document(pdf_document(1), "isee.pdf")
    assert "Attestazione ISEE: 1 pagina" in texts[-1]
    dossier = dossiers_of(s.db, 4242)[0]
    assert len(attachments(s.db, dossier["id"])) == 1
    # the same file again (another message, same bytes) is recognised
    texts = await f.upload_document(pdf_document(1), "isee-again.pdf")
    assert "già mandato" in texts[-1]
    assert len(attachments(s.db, dossier["id"])) == 1
    await s.close()


async def test_forged_paperwork_button_shows_the_checklist_again(api, db_path):
    s = await at_checklist(api, db_path)
    texts = await s.family.press("", data=FileAs(attachment=99999, index=0).pack())
    assert "non vale più" in texts[0]
    texts = await s.family.press("", data="p:item:banana")
    assert "non vale più" in texts[0]
    await s.close()


async def test_a_forged_button_files_no_photo_as_the_signed_form_nor_skips_to_signing(api, db_path):
    """The red team's fourth pass: the keyboard never offers the signed form for a file
    sent without choosing, nor «rifai» for a document with no files; forged, both
    presses change nothing (the form's pages come only through their QR code)."""
    s = await at_checklist(api, db_path)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    texts = await f.upload_photo(document_photo(7))
    assert "Per quale documento è?" in texts[-1]
    (asked,) = attachments(s.db, dossier_id)
    statuses = s.dp["desk"].statuses(dossier_id)
    form = next(i for i, st in enumerate(statuses) if st.item.signed_form)
    texts = await f.press("", data=FileAs(attachment=asked["id"], index=form).pack())
    assert "non vale più" in texts[0]
    assert [a["item_id"] for a in attachments(s.db, dossier_id)] == ["_unassigned"]
    texts = await f.press("", data=Redo(index=form).pack())
    assert "non vale più" in texts[0]
    assert not any("Stampatelo" in t for t in texts)
    texts = await f.say("/documenti")
    assert "✅ Domanda firmata" not in texts[-1]
    await s.close()


DOCUMENTS = (  # the Opera checklist: each document's label, how many photos
    ("Carta d'identità di chi firma", 2),
    ("Verbale dell'accompagnamento", 1),
    ("Attestazione ISEE", 1),
    ("Contratto dell'assistente", 1),
    ("Busta paga dell'assistente", 1),
    ("Ricevuta dei contributi INPS", 1),
)


async def upload_everything(s: Session, shown: Callable[[str], str] = str) -> None:
    """Send every document of the Opera checklist; `shown` is how the chat labels them
    (the translation, in another language)."""
    f = s.family
    seed = 10
    for label, count in DOCUMENTS:
        await f.press(shown(label))
        for _ in range(count):
            seed += 1
            await f.upload_photo(document_photo(seed))


async def test_family_signs_the_form_and_the_dossier_goes_to_the_outbox(api, db_path):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    f = s.family
    texts = await f.press("Prepara il modulo da firmare")
    name, pdf, _caption = api.documents[4242][-1]
    assert name.startswith("domanda-B2-") and name.endswith(".pdf")
    form = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in form.pages)
    assert "Giuseppe" in text and "Rossi" in text and BENEFICIARY_CF in text
    assert "445/2000" in text
    pages = len(form.pages)
    assert f"({pages})" in texts[-1]
    for i, photo in enumerate(signed_form_photos(pdf)):
        texts = await f.upload_photo(photo)
        assert f"Pagina {i + 1} di {pages} ✓" in texts[-1]
    assert "✅ Controlla e invia" in f.buttons()
    texts = await f.press("Controlla e invia")
    assert "protocollo@pec.comune.rozzano.mi.it" in texts[-1]
    texts = await f.press("Sì, invia")
    assert "in coda" in texts[0]
    dossier = dossiers_of(s.db, 4242)[0]
    assert dossier["status"] == "pronta"
    copies = [d[0] for d in api.documents[4242][1:]]
    assert "riepilogo-istanza.json" in copies
    manifest = json.loads(
        next(d[1] for d in api.documents[4242] if d[0] == "riepilogo-istanza.json")
    )
    assert manifest["dossier_id"] == dossier["id"]
    rows = list(s.db.query("select * from outbox where dossier_id = ?", [dossier["id"]]))
    assert len(rows) == 1 and rows[0]["status"] == "pending"
    assert rows[0]["recipient"] == "protocollo@pec.comune.rozzano.mi.it"
    # after sending, more photos are not mixed into the sent dossier
    texts = await f.upload_photo(document_photo(999))
    assert "già partita" in texts[-1]
    await s.close()


async def deliver_by_smtp(s: Session, db_path: Path, rounds: int = 1):
    """Run the outbox against a real SMTP server on loopback; returns what it received."""
    from common.settings import Settings
    from dossier.delivery import Outbox
    from tests.smtp_server import RecordingHandler, smtp_server

    handler = RecordingHandler()
    with smtp_server(handler) as server:
        settings = Settings(
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_security="none",
            smtp_from="sportello@pec.example.it",
            sportello_data_dir=db_path.parent,
        )
        box = Outbox.from_settings(settings, s.db, s.dp["desk"].blobs)
        handled = [await box.run_once() for _ in range(rounds)]
    return handler, handled


async def sign_the_form(s: Session) -> None:
    """Ask for the form, then send a photo of each of its pages, signed."""
    f = s.family
    await f.press("Prepara il modulo da firmare")
    for photo in signed_form_photos(s.family.api.documents[4242][-1][1]):
        await f.upload_photo(photo)


async def send_application(s: Session) -> str:
    await to_result(s)
    await fill_identity(s)
    await upload_everything(s)
    await sign_the_form(s)
    f = s.family
    await f.press("Controlla e invia")
    await f.press("Sì, invia")
    return dossiers_of(s.db, 4242)[0]["id"]


async def test_after_sending_start_and_documenti_say_where_the_application_stands(api, db_path):
    """/start and /documenti after the send: the status and what comes next; while the
    mailbox does not answer, that it does not and when the next try is; once it went,
    the last PEC receipt."""
    from bot.i18n import make_i18n
    from bot.notify import tell_families
    from common.settings import Settings
    from dossier.delivery import Outbox
    from dossier.pec import parse_receipt
    from dossier.receipts import record_receipt
    from tests.pec_messages import build_receipt
    from tests.smtp_server import free_port

    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    f = s.family
    texts = await f.say("/start")
    assert "Questa domanda è chiusa" not in texts[-1]
    assert dossier_id in texts[-1] and "pronta e sta per partire" in texts[-1]
    # no PEC receipts read (no IMAP): no promise of a delivery message
    assert "Quando la casella del protocollo la riceve" not in texts[-1]
    assert "Quando parte, vi scriviamo qui." in texts[-1]
    # the mail server is down: the family is told plainly, with the next try
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_from="sportello@pec.example.it",
        sportello_data_dir=db_path.parent,
    )
    box = Outbox.from_settings(settings, s.db, s.dp["desk"].blobs)
    await box.run_once()
    row = next(iter(s.db.query("select * from outbox where dossier_id = ?", [dossier_id])))
    assert row["status"] == "pending" and row["attempts"] == 1
    texts = await f.say("/documenti")
    assert "non risponde in questo momento" in texts[-1]
    when = dt.datetime.fromisoformat(row["next_attempt_at"])
    from common.clock import ROME

    # Italy's time, whatever the server's zone (family trial 16: UTC was shown)
    assert f"alle {when.astimezone(ROME):%H:%M}" in texts[-1]
    assert "📦 Mandami la copia" in f.buttons()
    # and it is told to the family without asking, once
    before = len(api.sent(4242))
    await tell_families(s.bot, s.db, make_i18n())
    told = [c.params["text"] for c in api.sent(4242)[before:]]
    retry = [t for t in told if "non risponde" in t]
    assert len(retry) == 1
    assert f"alle {when.astimezone(ROME):%H:%M}" in retry[0]
    await box.run_once()  # not due yet: nothing more
    assert await tell_families(s.bot, s.db, make_i18n()) == 0
    # back up: it goes; the accettazione receipt is the last receipt shown
    s.db.execute(
        "update outbox set next_attempt_at = created_at where dossier_id = ?", [dossier_id]
    )
    s.db.conn.commit()
    handler, _handled = await deliver_by_smtp(s, db_path)
    assert len(handler.messages) == 1
    message_id = next(iter(s.db.query("select message_id from outbox")))["message_id"]
    raw = build_receipt(
        "accettazione",
        message_id,
        at=dt.datetime(2025, 6, 2, 10, 30, tzinfo=dt.UTC),
        recipient="protocollo@pec.comune.rozzano.mi.it",
        subject="Domanda Misura B2",
    )
    parsed = parse_receipt(raw)
    assert parsed is not None
    record_receipt(s.db, s.dp["desk"].blobs, raw, parsed)
    texts = await f.say("/start")
    assert "non risponde" not in texts[-1]
    assert "Ultima ricevuta PEC: il gestore PEC ha accettato la domanda" in texts[-1]
    assert "il 02/06/2025 alle 12:30" in texts[-1]  # 10:30 UTC, summer time in Italy
    await s.close()


async def test_dossier_reaches_a_real_smtp_server_with_a_correct_manifest(api, db_path, tmp_path):
    from bot.i18n import make_i18n
    from bot.notify import tell_families

    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    handler, handled = await deliver_by_smtp(s, db_path, rounds=2)
    assert handled == [1, 0]  # nothing left after the first round: no second application
    assert len(handler.messages) == 1
    received = handler.messages[0]
    assert received.rcpt_tos == ["protocollo@pec.comune.rozzano.mi.it"]
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert dossier_id in message["Subject"] and "Rossi Giuseppe" in message["Subject"]
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    manifest = json.loads(files["riepilogo-istanza.json"])
    assert manifest["dossier_id"] == dossier_id
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"riepilogo-istanza.json"}
    for name, data in files.items():
        if name != "riepilogo-istanza.json":
            assert hashlib.sha256(data).hexdigest() == listed[name]["sha256"], name
            assert len(data) == listed[name]["size"]
    assert any("domanda" in name for name in listed)
    # the family hears that it left, not every passing step a second apart
    before = len(api.sent(4242))
    assert await tell_families(s.bot, s.db, make_i18n()) == 1
    told = [c.params["text"] for c in api.sent(4242)[before:]]
    assert "partita per PEC verso protocollo@pec.comune.rozzano.mi.it" in told[0]
    assert await tell_families(s.bot, s.db, make_i18n()) == 0  # each told once
    # the PEC provider's receipts come back: accepted, then delivered to the protocol
    from dossier.pec import parse_receipt
    from dossier.receipts import record_receipt
    from tests.pec_messages import build_receipt

    rome = dt.timezone(dt.timedelta(hours=2))
    for kind, minute in (("accettazione", 40), ("avvenuta-consegna", 41)):
        raw = build_receipt(
            kind,
            message["Message-ID"],
            at=dt.datetime(2025, 6, 12, 10, minute, 7, tzinfo=rome),
            recipient="protocollo@pec.comune.rozzano.mi.it",
            subject=message["Subject"],
        )
        assert record_receipt(s.db, s.dp["desk"].blobs, raw, parse_receipt(raw)) == dossier_id
    await tell_families(s.bot, s.db, make_i18n())
    told = [c.params["text"] for c in api.sent(4242)[-2:]]
    assert "accettato la domanda" in told[0] and "il 12/06/2025 alle 10:40" in told[0]
    assert told[1].startswith("Consegnata il 12/06/2025 alle 10:41")
    assert "protocollo@pec.comune.rozzano.mi.it" in told[1]
    await s.close()


async def test_without_a_mail_server_the_family_is_told_it_was_saved_not_sent(api, db_path):
    from bot.i18n import make_i18n
    from bot.notify import tell_families
    from common.settings import Settings
    from dossier.delivery import Outbox

    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    settings = Settings(sportello_data_dir=db_path.parent)  # no SMTP_HOST: the embedded default
    box = Outbox.from_settings(settings, s.db, s.dp["desk"].blobs)
    await box.run_once()
    saved = list((db_path.parent / "outbox").rglob("*.eml"))
    assert len(saved) == 1 and dossier_id in str(saved[0])
    message = email.message_from_bytes(saved[0].read_bytes(), policy=email.policy.default)
    assert "riepilogo-istanza.json" in [p.get_filename() for p in message.iter_attachments()]
    before = len(api.sent(4242))
    await tell_families(s.bot, s.db, make_i18n())
    told = "\n".join(c.params["text"] for c in api.sent(4242)[before:])
    assert "salvata ma NON inviata" in told and "consegnatela voi" in told
    # later the operator configures the PEC mailbox and sends it for real, once
    from storage.outbox import requeue

    assert requeue(s.db, dossier_id) == 1
    handler, _handled = await deliver_by_smtp(s, db_path, rounds=2)
    assert len(handler.messages) == 1
    before = len(api.sent(4242))
    await tell_families(s.bot, s.db, make_i18n())
    told = "\n".join(c.params["text"] for c in api.sent(4242)[before:])
    assert "riparte adesso per PEC" in told and "partita per PEC" in told
    await s.close()


async def test_restart_in_the_middle_of_the_documents_loses_nothing(api, db_path):
    s = await at_checklist(api, db_path)
    await s.family.press("Carta d'identità di chi firma")
    await s.family.upload_photo(document_photo(1))
    await s.close()  # the process dies here
    s = Session(api, db_path, TODAY)
    texts = await s.family.upload_photo(document_photo(2))  # the back of the card
    assert "Carta d'identità di chi firma: 2 pagine" in texts[-1]
    texts = await s.family.say("/documenti")
    assert "✅ Carta d'identità di chi firma: 2 pagine" in texts[-1]
    await s.close()


async def test_deleting_my_data_removes_the_dossier_and_its_files(api, db_path):
    s = await at_checklist(api, db_path)
    await s.family.press("Attestazione ISEE")
    await s.family.upload_document(pdf_document(1), "isee.pdf")
    assert list((db_path.parent / "files").rglob("*.bin"))
    await s.family.say("/cancella_dati")
    await s.family.press("Sì, cancella tutto")
    assert dossiers_of(s.db, 4242) == []
    assert s.db.execute("select count(*) from attachments").fetchone()[0] == 0
    assert list((db_path.parent / "files").rglob("*.bin")) == []
    await s.close()


async def test_files_are_deleted_after_the_retention_period_and_the_family_is_warned(api, db_path):
    from bot.i18n import make_i18n
    from bot.notify import tell_families
    from dossier.retention import apply_retention
    from storage.dossiers import set_status

    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    blobs = s.dp["desk"].blobs
    set_status(s.db, dossier_id, "consegnata", at="2025-06-12T10:41:00+02:00")
    kept = len(list((db_path.parent / "files").rglob("*.bin")))
    assert kept > 10
    delivered = dt.datetime(2025, 6, 12, 8, 41, tzinfo=dt.UTC)
    assert apply_retention(s.db, blobs, delivered + dt.timedelta(days=20), 30) == (0, 0)
    assert apply_retention(s.db, blobs, delivered + dt.timedelta(days=28), 30) == (1, 0)
    assert apply_retention(s.db, blobs, delivered + dt.timedelta(days=29), 30) == (0, 0)
    before = len(api.sent(4242))
    await tell_families(s.bot, s.db, make_i18n())
    told = "\n".join(c.params["text"] for c in api.sent(4242)[before:])
    assert "Tra 2 giorni cancelliamo i file della domanda" in told
    assert apply_retention(s.db, blobs, delivered + dt.timedelta(days=30, hours=1), 30) == (0, 1)
    assert s.db.execute("select count(*) from attachments").fetchone()[0] == 0
    assert list((db_path.parent / "files").rglob("*.bin")) == []
    await tell_families(s.bot, s.db, make_i18n())
    assert "abbiamo cancellato i file" in api.sent(4242)[-1].params["text"]
    await s.close()


async def test_the_unsigned_form_sent_back_is_refused(api, db_path):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await s.family.press("Prepara il modulo da firmare")
    name, pdf, _caption = api.documents[4242][-1]
    texts = await s.family.upload_document(pdf, name)
    assert "non ancora firmato" in texts[-1]
    dossier = dossiers_of(s.db, 4242)[0]
    assert not [a for a in attachments(s.db, dossier["id"]) if a["item_id"] == "application_form"]
    await s.close()


async def test_sending_after_the_deadline_is_stopped(api, db_path):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await sign_the_form(s)
    await s.close()
    late = Session(api, db_path, dt.date(2025, 6, 25))  # the notice closed on 20/06 at 12:00
    texts = await late.family.press("Controlla e invia")
    assert "Il bando è chiuso dal 20/06/2025" in texts[-1]
    assert late.db.execute("select count(*) from outbox").fetchone()[0] == 0
    await late.close()


async def test_a_second_application_for_the_same_notice_is_not_offered(api, db_path):
    s = Session(api, db_path, TODAY)
    first = await send_application(s)
    texts = await s.family.say("/ricomincia")
    await follow(s.family, OPERA, texts)
    texts = await s.family.press("Prepara la domanda")
    assert f"Avete già inviato la domanda {first}" in texts[-1]
    assert len(dossiers_of(s.db, 4242)) == 1
    await s.close()


async def test_changing_an_answer_takes_back_the_signed_form(api, db_path):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await sign_the_form(s)
    f = s.family
    await f.say("/riepilogo")
    await f.press("Valore ISEE")
    await f.say("14000")
    texts = await f.press("Prepara la domanda")
    assert any("il modulo firmato non vale più" in t for t in texts)
    assert "⬜ Domanda firmata" not in texts[-1]  # the form comes back after the documents
    dossier = dossiers_of(s.db, 4242)[0]
    assert not [a for a in attachments(s.db, dossier["id"]) if a["item_id"] == "application_form"]
    assert "📝 Prepara il modulo da firmare" in f.buttons()
    await s.close()


async def test_an_album_then_a_file_without_a_tap_is_asked_about_and_can_be_moved(api, db_path):
    """The family taps the verbale, sends three pages as one album (one reply), then the
    ISEE without a tap: it is asked about, not slipped under the verbale. Filed under the
    wrong document by mistake, the ISEE moves with one tap ("Sposta in: Attestazione
    ISEE"), nothing sent again."""
    s = await at_checklist(api, db_path)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]

    def filed_under() -> dict[str, int]:
        out: dict[str, int] = {}
        for a in attachments(s.db, dossier_id):
            out[a["item_id"]] = out.get(a["item_id"], 0) + 1
        return out

    await f.press("Verbale dell'accompagnamento")
    replies = []
    for seed in (41, 42, 43):
        replies.append(await f.upload_photo(document_photo(seed), album="verbale"))
    assert [len(r) for r in replies] == [1, 0, 0]  # one reply per album
    assert "Verbale dell'accompagnamento" in replies[0][0]
    assert list(filed_under().values()) == [3]
    verbale = next(iter(filed_under()))
    isee_pdf = pdf_document(2, "Attestazione ISEE 2025")
    texts = await f.upload_document(isee_pdf, "isee.pdf")
    assert len(texts) == 1 and "Per quale documento è?" in texts[-1]
    question = api.last_keyboard_message(4242)
    assert question is not None
    assert filed_under()[verbale] == 3 and sum(filed_under().values()) == 4
    # an album without a tap: asked about once, for all its photos, counting them all;
    # not offering what the form itself carries (the bank declaration)
    texts = await f.upload_album([document_photo(seed) for seed in (51, 52, 53)], "contratto")
    assert len(texts) == 1 and "Ricevuto: 3 pagine. Per quale documento è?" in texts[0]
    assert not any("conto corrente" in b for b in f.buttons()), f.buttons()
    texts = await f.press("Contratto dell'assistente")
    assert "Contratto dell'assistente: 3 pagine" in texts[-1]
    # the ISEE's question is answered wrongly: it goes under the verbale
    api.messages[4242][question["message_id"]] = question
    wrong = next(
        b
        for row in question["reply_markup"]["inline_keyboard"]
        for b in row
        if "Verbale" in b["text"]
    )
    await f.press("", data=wrong["callback_data"])
    assert filed_under()[verbale] == 4
    # the family taps the ISEE and sends it again: one tap moves it
    await f.press("Attestazione ISEE")
    texts = await f.upload_document(isee_pdf, "isee.pdf")
    assert "già mandato, per: Verbale dell'accompagnamento" in texts[-1]
    assert "↪️ Sposta in: Attestazione ISEE" in f.buttons()
    texts = await f.press("Sposta in: Attestazione ISEE")
    assert "Spostato." in texts[-1] and "Attestazione ISEE: 2 pagine" in texts[-1]
    assert filed_under()[verbale] == 3 and sorted(filed_under().values()) == [1, 3, 3]
    await s.close()


async def test_two_files_without_a_choice_are_asked_about_one_by_one(api, db_path):
    s = await at_checklist(api, db_path)
    f = s.family
    await f.upload_document(pdf_document(2), "isee.pdf")
    first_question = api.last_keyboard_message(4242)
    await f.upload_document(pdf_document(3), "contratto.pdf")
    texts = await f.press("Contratto dell'assistente")
    assert "Contratto dell'assistente: 3 pagine" in texts[-1]
    api.messages[4242][first_question["message_id"]] = first_question  # scroll back up
    buttons = first_question["reply_markup"]["inline_keyboard"]
    isee = next(b for row in buttons for b in row if b["text"] == "Attestazione ISEE")
    texts = await f.press("", data=isee["callback_data"])
    assert "Attestazione ISEE: 2 pagine" in texts[-1]
    # a third file without a tap offers "another page" of the last document first
    texts = await f.upload_photo(document_photo(5))
    assert f.buttons()[0] == "➕ Attestazione ISEE: un'altra pagina"
    await s.close()


async def test_form_details_can_be_corrected_and_go_back_one_question(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Il figlio o la figlia")
    await f.say("Mraia")
    texts = await f.say("/indietro")
    assert "Il nome di chi firma" in texts[-1]
    await f.say("Maria")
    texts = await f.say("/start")
    assert "Il cognome di chi firma" in texts[-1]
    await s.close()
    s = Session(api, db_path, TODAY)
    await follow(s.family, OPERA, await s.family.say("/ricomincia"))
    await fill_identity(s)
    texts = await s.family.press("Correggi i dati del modulo")
    assert "I dati del modulo" in texts[-1] and "Via Roma 12" in texts[-1]
    await s.close()


async def test_one_detail_of_the_form_is_corrected_without_answering_the_others(api, db_path):
    s = await at_checklist(api, db_path)
    f = s.family
    texts = await f.press("Correggi i dati del modulo")
    summary = texts[-1]
    assert "Indirizzo di casa: <b>Via Roma 12</b>" in summary
    assert "Nome di chi firma: <b>Maria</b>" in summary
    assert "✏️ Indirizzo di casa" in f.buttons() and "✅ Va bene così" in f.buttons()
    texts = await f.press("✏️ Indirizzo di casa")
    assert "L'indirizzo dove vive la persona assistita" in texts[-1]
    assert "↩️ Lascia com'era" in f.buttons()
    texts = await f.say("Via Roma 21")
    assert texts[0] == "✓ Via Roma 21"
    # straight back to the summary: nothing else asked again
    assert len(texts) == 2 and "I dati del modulo" in texts[-1]
    assert "Indirizzo di casa: <b>Via Roma 21</b>" in texts[-1]
    assert "Nome di chi firma: <b>Maria</b>" in texts[-1]
    dossier = dossiers_of(s.db, 4242)[0]
    stored = dossier["data"]["identity"]
    assert stored["beneficiary.address"] == "Via Roma 21"
    assert stored["applicant.given_name"] == "Maria"
    # a detail opened and left as it was
    await f.press("✏️ Telefono")
    texts = await f.press("Lascia com'era")
    assert "Telefono: <b>333 123 4567</b>" in texts[-1]
    texts = await f.press("Va bene così")
    assert "Documenti della domanda" in texts[-1]
    await s.close()


async def test_typed_markup_is_shown_as_text(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Io, per me stesso")
    await f.say("Giuseppe")
    await f.say("Rossi")
    await f.say(BENEFICIARY_CF)
    await f.say("3331234567")
    await f.press("Non ce l'ho")
    texts = await f.say("Via Roma 12 <int. 3>")
    assert texts[0] == "✓ Via Roma 12 &lt;int. 3&gt;"
    await after_address(s)
    texts_no_number = await f.say("/documenti")
    assert "Documenti della domanda" in texts_no_number[-1]
    await s.close()


async def test_forged_negative_index_changes_nothing(api, db_path):
    s = await at_checklist(api, db_path)
    await s.family.press("Attestazione ISEE")
    await s.family.upload_document(pdf_document(1), "isee.pdf")
    texts = await s.family.press("", data="predo:-1")
    assert "non vale più" in texts[0]
    dossier = dossiers_of(s.db, 4242)[0]
    assert len(attachments(s.db, dossier["id"])) == 1
    await s.close()


async def test_digitally_signed_form_is_taken_as_it_is_and_sent_byte_for_byte(api, db_path):
    from tests.test_file_checks import p7m

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    f = s.family
    await f.press("Prepara il modulo da firmare")
    form = api.documents[4242][-1][1]
    signed = p7m(form)  # CAdES: the form inside a signed envelope
    texts = await f.upload_document(signed, "domanda.pdf.p7m", mime="application/pkcs7-mime")
    assert "firma digitale" in texts[-1]
    await f.press("Controlla e invia")
    await f.press("Sì, invia")
    handler, _handled = await deliver_by_smtp(s, db_path)
    message = email.message_from_bytes(handler.messages[0].data, policy=email.policy.default)
    files = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
    p7m_files = [name for name in files if name.endswith(".p7m")]
    assert len(p7m_files) == 1 and files[p7m_files[0]] == signed
    await s.close()


async def test_online_platform_notice_gets_the_pdfs_and_directions_instead_of_a_send(api, db_path):
    from tests.test_bot_conversation import SETTALA

    s = Session(api, db_path, dt.date(2025, 6, 1))
    await follow(s.family, SETTALA, await begin(s.family))
    f = s.family
    texts = await f.press("Prepara i documenti")
    assert "non prende la domanda per e-mail" in texts[0]
    await f.press("Io, per me stesso")
    await f.say("Anna")
    await f.say("Bianchi")
    await f.say(tax_code("BNCNNA58S51F205"))  # born 11/11/1958, as in the questionnaire
    await f.say("3331234567")
    await f.press("Non ce l'ho")
    await f.say("Via Verdi 3")
    texts = await after_address(s, bank=False)
    statuses = texts[-1]
    seed = 200
    while "📎" in " ".join(f.buttons()):
        label = next(b for b in f.buttons() if b.startswith("📎"))[2:]
        await f.press(label)
        for _ in range(2 if "identità" in label else 1):
            seed += 1
            await f.upload_photo(document_photo(seed))
    assert "Documenti della domanda" in statuses
    await f.press("Prepara il modulo da firmare")
    for photo in signed_form_photos(api.documents[4242][-1][1]):
        texts = await f.upload_photo(photo)
    assert "✅ Controlla" in f.buttons() and "✅ Controlla e invia" not in f.buttons()
    await f.press("Controlla")
    assert "📨 Sì, invia" not in f.buttons()
    before = len(api.documents[4242])
    texts = await f.press("Mandami i PDF")
    assert "www.pianodizonaambito5.it" in texts[-1]
    assert "Scadenza: 12/06/2025" in texts[-1]
    sent = [name for name, _data, _caption in api.documents[4242][before:]]
    assert sent[0].startswith("01-") and "riepilogo-istanza.json" in sent
    assert s.db.execute("select count(*) from outbox").fetchone()[0] == 0
    await s.close()


async def test_a_copy_telegram_refuses_can_be_asked_again_and_the_application_stays_queued(
    api, db_path
):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await sign_the_form(s)
    f = s.family
    await f.press("Controlla e invia")
    api.fail_next["sendDocument"] = 1  # Telegram refuses the first copy
    texts = await f.press("Sì, invia")
    assert "in coda" in texts[0]
    assert "Non sono riuscito a mandarvi la copia" in texts[-1]
    assert s.db.execute("select count(*) from outbox").fetchone()[0] == 1
    before = len(api.documents.get(4242, []))
    await f.press("Mandami la copia")
    names = [name for name, _data, _caption in api.documents[4242][before:]]
    assert "riepilogo-istanza.json" in names and names[0].startswith("01-")
    texts = await f.say("/start")  # after sending, /start says where things stand
    assert "La vostra domanda" in texts[-1] and "pronta e sta per partire" in texts[-1]
    await s.close()


async def test_with_today_the_form_the_manifest_and_the_email_date_agree(api, db_path):
    """`--today 2025-06-02`: the form's date, the manifest's created_at and the e-mail's
    Date header all say that day (one clock)."""
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await sign_the_form(s)
    form = PdfReader(io.BytesIO(api.documents[4242][0][1]))
    assert "Luogo e data: Rozzano, 02/06/2025" in "".join(p.extract_text() for p in form.pages)
    await s.family.press("Controlla e invia")
    await s.family.press("Sì, invia")
    manifest = json.loads(
        next(d[1] for d in api.documents[4242] if d[0] == "riepilogo-istanza.json")
    )
    assert manifest["created_at"].startswith("2025-06-02T")
    from common.clock import ROME, parse_iso

    created = dossiers_of(s.db, 4242)[0]["created_at"]  # the back-office's «Creata»
    assert parse_iso(created).astimezone(ROME).date() == dt.date(2025, 6, 2)
    # and each file's «Arrivato il», signed pages too
    arrived = [r[0] for r in s.db.execute("SELECT created_at FROM attachments")]
    assert arrived and {parse_iso(a).astimezone(ROME).date() for a in arrived} == {
        dt.date(2025, 6, 2)
    }
    handler, _handled = await deliver_by_smtp(s, db_path)
    message = email.message_from_bytes(handler.messages[0].data, policy=email.policy.default)
    assert message["Date"].datetime.date() == dt.date(2025, 6, 2)
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Spett.le Comune di Rozzano, capofila dell'Ambito")
    assert "residente nel Comune di Opera" in text and "Al Comune di Opera" not in text
    await s.close()


async def test_the_bank_declaration_is_in_our_form_not_a_file_to_fetch(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    texts = await fill_identity(s)
    checklist = texts[-1]
    assert "✅ Dichiarazione del conto corrente: è nel modulo da firmare, con il vostro IBAN" in (
        checklist
    )
    assert "chiedetelo ai servizi sociali" not in checklist
    assert "All. E" in checklist and "intestatario, codice fiscale, IBAN e banca" in checklist
    assert "al posto di quello del bando (All. A" in checklist
    assert not any("conto corrente" in b for b in s.family.buttons())
    # said once: the next checklists do not repeat it
    again = (await s.family.say("/documenti"))[-1]
    assert "Documenti della domanda" in again and "ℹ️" not in again
    assert "al posto di quello del bando" not in again
    await upload_everything(s)
    await s.family.press("Prepara il modulo da firmare")
    form = PdfReader(io.BytesIO(api.documents[4242][-1][1]))
    last = form.pages[-1].extract_text()
    assert "Dichiarazione per l'accredito" in last and "IT60 X054 2811 1010 0000 0123 456" in last
    await s.close()


async def test_a_tax_code_that_does_not_match_the_names_is_explained_and_can_be_confirmed(
    api, db_path
):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Il figlio o la figlia")
    await f.say("Mariana")  # her code was made from "Maria"
    await f.say("Rossi")
    texts = await f.say(APPLICANT_CF)
    assert "non va con il nome e il cognome" in texts[0]
    assert "scrivetelo di nuovo uguale" in texts[0]
    texts = await f.say(APPLICANT_CF.lower())  # the family insists: kept
    assert texts[0] == f"✓ {APPLICANT_CF}"
    assert "L'indirizzo dove abita chi firma" in texts[-1]
    await s.close()


async def test_the_phone_is_kept_in_e164_and_shown_the_italian_way(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Io, per me stesso")
    await f.say("Giuseppe")
    await f.say("Rossi")
    await f.say(BENEFICIARY_CF)
    texts = await f.say("12")
    assert "non sembra giusto" in texts[0]
    texts = await f.say("339.123.4567")
    assert texts[0] == "✓ 339 123 4567"
    texts = await f.say("maria@@example")
    assert "non sembra giusto" in texts[0]
    await f.say("Maria.Rossi@Example.IT")
    await f.say("Via Roma 12")
    await f.say("2007")
    texts = await f.say("20073")
    assert "DSU" in texts[-1]
    await f.say("15/01/2025")
    texts = await f.press("Il mio conto")
    texts = await f.say("IT60 X054 2811 1010 0000 0123 457")  # one digit wrong
    assert "IBAN non è giusto" in texts[0]
    texts = await f.say(IBAN)
    assert texts[0] == f"✓ {IBAN}"
    await f.say(ASSISTANT)
    identity = dossiers_of(s.db, 4242)[0]["data"]["identity"]
    assert identity["applicant.phone"] == "+393391234567"
    assert identity["applicant.email"] == "Maria.Rossi@example.it"
    assert identity["bank.iban"] == IBAN.replace(" ", "")
    assert identity["beneficiary.postcode"] == "20073"
    await s.close()


async def test_the_signing_step_can_tell_a_photo_of_page_one_from_a_cat(api, db_path):
    """What the signing step will call (dossier.signing), on the form the chat made."""
    from dossier.signing import recognise_signed_upload
    from tests.test_pagecode import cat_photo, page_image, phone_photo

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await s.family.press("Prepara il modulo da firmare")
    pdf = api.documents[4242][-1][1]
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    desk = s.dp["desk"]
    photo = phone_photo(page_image(pdf, 0), 5, 1.5)
    found = await recognise_signed_upload(desk, dossier_id, photo, TODAY)
    assert found.outcome == "pages" and found.pages == (1,)
    assert found.total == len(PdfReader(io.BytesIO(pdf)).pages)
    found = await recognise_signed_upload(desk, dossier_id, cat_photo(), TODAY)
    assert found.outcome == "none"
    await s.close()


async def test_a_photo_of_a_printed_page_is_counted_and_a_cat_is_refused(api, db_path):
    """At the signing step, a phone photo of page 2 (turned, a little blurred) is known
    for what it is; a cat, and a page of another family's form, are refused with what to
    send; the same page twice is not counted twice: the newer photo replaces the older."""
    from tests.test_pagecode import cat_photo

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    f = s.family
    await f.press("Prepara il modulo da firmare")
    pdf = api.documents[4242][-1][1]
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages >= 2
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]

    def form_files() -> list[dict]:
        return [a for a in attachments(s.db, dossier_id) if a["item_id"] == "application_form"]

    texts = await f.upload_photo(cat_photo())
    assert "Non trovo il codice quadrato (QR)" in texts[-1] and "pagina intera" in texts[-1]
    assert form_files() == []
    texts = await f.upload_photo(signed_page_photo(pdf, 1, angle=4, blur=1.2))
    assert f"Pagina 2 di {pages} ✓" in texts[-1]
    assert f"Pagine firmate ricevute: 1 di {pages}" in texts[-1]
    assert "Mancano le pagine: 1" in texts[-1]
    texts = await f.upload_photo(signed_page_photo(pdf, 1, angle=-3))
    assert "Pagina 2 sostituita con quella nuova ✓" in texts[-1] and len(form_files()) == 1
    assert f"Pagine firmate ricevute: 1 di {pages}" in texts[-1]
    # a page of another family's form: their dossier is named, ours is asked for
    other = Session(api, db_path, TODAY, user_id=4343)
    await to_result(other)
    await fill_identity(other)
    await upload_everything(other)
    await other.family.press("Prepara il modulo da firmare")
    theirs = api.documents[4343][-1][1]
    texts = await f.upload_photo(signed_page_photo(theirs, 0))
    assert "un'altra domanda" in texts[-1] and dossier_id in texts[-1]
    assert len(form_files()) == 1
    for i in [0, *range(2, pages)]:
        texts = await f.upload_photo(signed_page_photo(pdf, i))
    assert f"Pagine firmate ricevute: {pages} di {pages}" in texts[-1]
    assert "✅ Controlla e invia" in f.buttons()
    await other.close()
    await s.close()


async def test_a_carer_who_is_not_family_is_told_who_signs_and_loses_nothing(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    texts = await f.press("Prepara la domanda")
    assert "Io assisto la persona, ma non sono un familiare" in f.buttons()
    texts = await f.press("non sono un familiare")
    told = "\n".join(texts)
    assert "la firma la persona assistita, un suo familiare o il tutore" in told
    assert "chiedete ai servizi sociali" in told
    assert "Chi firma la domanda?" in texts[-1]  # the same question, nothing stored
    texts = await f.press("Il figlio o la figlia")
    assert "Il nome di chi firma" in texts[-1]
    await s.close()


async def test_an_album_asked_about_whose_last_photo_was_sent_before_still_gets_its_question(
    api, db_path
):
    s = await at_checklist(api, db_path)
    f = s.family
    first, second = document_photo(61), document_photo(62)
    texts = await f.upload_album([first, second, first], "mixed")
    assert any("già mandato" in t for t in texts), texts
    assert "Ricevuto: 2 pagine. Per quale documento è?" in texts[-1], texts
    assert any("Per quale documento" in t for t in live_texts(api))
    await s.close()


def live_texts(api, chat_id: int = 4242) -> list[str]:
    return [m["text"] for m in api.messages[chat_id].values() if m.get("reply_markup")]


async def test_changing_an_answer_after_sending_says_the_sent_application_stays_as_it_was(
    api, db_path
):
    """Family trial 17: after the send, /riepilogo changed answers without a word that the
    application already sent keeps the old ones; and it cannot be prepared twice."""
    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    f = s.family
    texts = await f.say("/riepilogo")
    assert f"La domanda {dossier_id} è già pronta e chiusa." in texts[-1]
    assert "quella domanda non cambia" in texts[-1]
    await f.press("Ore")  # ✏️ the assistant's hours
    texts = await f.say("40")
    assert any("Il risultato" in t for t in texts), texts
    texts = await f.press("Prepara la domanda")  # not a second application
    assert dossier_id in texts[-1] and len(dossiers_of(s.db, 4242)) == 1
    texts = await f.say("/riepilogo")  # still said, once the answers have changed
    assert f"La domanda {dossier_id} è già pronta e chiusa." in texts[-1]
    await s.close()


async def test_the_summary_before_sending_has_no_word_of_a_sent_application(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    await fill_identity(s)
    texts = await s.family.say("/riepilogo")
    assert "pronta e chiusa" not in texts[-1]
    await s.close()


async def test_going_back_in_the_form_details_shows_what_was_written_and_keeps_it(api, db_path):
    """Family trial 17: /indietro in the form's details asked the question again without
    what had been written, so it had to be typed again whole. Now it is shown, and
    «↩️ Va bene così» (tapped or typed) keeps it; two steps back keep both."""
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Il figlio o la figlia")
    await f.say("Maria")
    await f.say("Rossi")
    await f.say(APPLICANT_CF)
    texts = await f.say("/indietro")
    assert "Il codice fiscale di chi firma" in texts[-1]
    assert f"Avete scritto: {APPLICANT_CF}" in texts[-1]
    texts = await f.say("/indietro")
    assert "Il cognome di chi firma" in texts[-1] and "Avete scritto: Rossi" in texts[-1]
    texts = await f.press("Va bene così")  # the surname kept
    assert f"Avete scritto: {APPLICANT_CF}" in texts[-1]  # the code, still shown
    texts = await f.say("va bene cosi")  # typed, without the accent
    assert "L'indirizzo dove abita chi firma" in texts[-1]
    assert "Avete scritto" not in texts[-1] and "Va bene così" not in f.buttons()
    await from_the_signer_s_address(s)
    texts = await f.press("Correggi i dati del modulo")
    assert "Cognome di chi firma: <b>Rossi</b>" in texts[-1]
    assert f"Codice fiscale di chi firma: <b>{APPLICANT_CF}</b>" in texts[-1]
    await s.close()
