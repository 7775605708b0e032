"""A wrong file can be thrown away, through the real Dispatcher and the loopback Bot API:
a file that is not for the application (asked "Per quale documento è?") and the last page
of a document, without redoing the whole document."""

from __future__ import annotations

from storage.dossiers import attachments, dossiers_of
from tests.documents import document_photo
from tests.test_bot_conversation import Session
from tests.test_bot_dossier import (
    APPLICANT_CF,
    BENEFICIARY_CF,
    TODAY,
    after_address,
    fill_identity,
    to_result,
)


async def test_a_file_not_for_the_application_can_be_thrown_away(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    await fill_identity(s)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    texts = await f.upload_photo(document_photo(90))  # the cat, sent without a tap
    assert "Per quale documento è?" in texts[-1]
    assert "🗑 Non è per la domanda" in f.buttons()
    [row] = attachments(s.db, dossier_id)
    blobs = s.dp["desk"].blobs
    assert blobs.exists(row["sha256"])
    texts = await f.press("Non è per la domanda")
    assert "Tolto: non lo teniamo e non lo mandiamo." in texts[-1]
    assert attachments(s.db, dossier_id) == []
    assert not blobs.exists(row["sha256"])  # deleted, not only unlinked
    texts = await f.press("Cosa manca")
    assert "⬜ Carta d'identità di chi firma" in texts[-1]
    await s.close()


async def test_the_last_page_of_a_document_can_be_taken_away(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    await fill_identity(s)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    await f.press("Carta d'identità di chi firma")
    await f.upload_photo(document_photo(91))
    texts = await f.upload_photo(document_photo(92))  # the wrong page
    assert "Carta d'identità di chi firma: 2 pagine" in texts[-1]
    assert "🗑 Togli l'ultima pagina" in f.buttons()
    texts = await f.press("Togli l'ultima pagina")
    assert "Tolta l'ultima pagina." in texts[-1]
    assert "manca ancora una pagina" in texts[-1]
    assert len(attachments(s.db, dossier_id)) == 1  # the first page stays
    texts = await f.upload_photo(document_photo(93))  # the right one, without a tap
    assert "Carta d'identità di chi firma: 2 pagine" in texts[-1]
    assert len(attachments(s.db, dossier_id)) == 2
    await s.close()


def take_away_button(api) -> str:
    """The callback data of "🗑 Togli l'ultima pagina" on the newest keyboard."""
    message = api.last_keyboard_message(4242)
    assert message is not None
    [data] = [
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if "Togli l'ultima pagina" in b["text"]
    ]
    return str(data)


async def test_an_old_take_away_button_does_not_take_the_newer_right_page(api, db_path):
    """The button under the wrong page, pressed again after the right page came: it names
    the page it was made for, so the right page stays and the family is told kindly."""
    s = Session(api, db_path, TODAY)
    await to_result(s)
    await fill_identity(s)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    await f.press("Carta d'identità di chi firma")
    await f.upload_photo(document_photo(91))
    await f.upload_photo(document_photo(92))  # the wrong page
    old = take_away_button(api)
    texts = await f.press("Togli l'ultima pagina", data=old)
    assert "Tolta l'ultima pagina." in texts[-1]
    await f.upload_photo(document_photo(93))  # the right one
    right = {a["id"] for a in attachments(s.db, dossier_id)}
    assert len(right) == 2
    fresh = take_away_button(api)
    assert fresh != old
    texts = await f.press("Togli l'ultima pagina", data=old)  # the old button again
    assert "Questo pulsante non vale più." in texts[0]
    assert not any("Tolta l'ultima pagina." in t for t in texts)
    assert {a["id"] for a in attachments(s.db, dossier_id)} == right
    texts = await f.press("Togli l'ultima pagina", data=fresh)  # the newest one works
    assert "Tolta l'ultima pagina." in texts[-1]
    assert len(attachments(s.db, dossier_id)) == 1
    await s.close()


async def test_an_answered_question_loses_its_buttons(api, db_path):
    """ "Chi firma la domanda?" and "Per quale documento è?" answered with a button: the
    old message keeps no live buttons; a forged old press is still told kindly."""
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    who = api.last_keyboard_message(4242)
    assert who is not None and "Chi firma la domanda?" in who["text"]
    await f.press("Il figlio o la figlia")
    assert "reply_markup" not in api.messages[4242][who["message_id"]]
    for answer in ("maria", "rossi", APPLICANT_CF, "Via Verdi 5", "20089 Rozzano", "333 1234567"):
        await f.say(answer)
    await f.press("Non ce l'ho")
    for answer in ("Giuseppe", "Rossi", BENEFICIARY_CF, "Via Roma 12"):
        await f.say(answer)
    await after_address(s)
    await f.upload_photo(document_photo(94))
    question = api.last_keyboard_message(4242)
    assert question is not None and "Per quale documento è?" in question["text"]
    old = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await f.press("Carta d'identità di chi firma")
    assert "reply_markup" not in api.messages[4242][question["message_id"]]
    texts = await f.press("", data=old)  # pressed again from a stale copy
    assert any("non vale più" in t for t in texts)
    await s.close()
