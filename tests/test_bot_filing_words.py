"""What a family types between its files, at the documents, the signing and the last
check (family trial 16, problems 4, 5 and 6): a document named after an album, a word
typed while "Per quale documento è?" is open, a word that fits two documents, an album
sent twice and moved, and text at the last check. Through the real Dispatcher and the
loopback Bot API stand-in."""

from __future__ import annotations

from storage.dossiers import attachments, dossiers_of
from tests.documents import document_photo, pdf_document, signed_form_photos
from tests.test_bot_dossier import at_checklist, upload_everything

GENERIC = "Qui mi servono foto o PDF"


def filed_under(s) -> dict[str, int]:
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    out: dict[str, int] = {}
    for a in attachments(s.db, dossier_id):
        out[a["item_id"]] = out.get(a["item_id"], 0) + 1
    return out


async def test_after_an_album_the_next_document_typed_is_taken_and_no_file_goes_astray(
    api, db_path
):
    """The trial's family: an album filed to a tapped document, then the next document's
    name typed, then its album: filed there, nothing asked. A file sent without a tap
    and a word typed while its question is open: where it went is said, and one tap asks
    again. A word that fits two documents gets "Quale dei due?" with those two."""
    s = await at_checklist(api, db_path)
    f = s.family
    await f.press("Carta d'identità di chi firma")
    texts = await f.upload_album([document_photo(71), document_photo(72)], "ci")
    assert len(texts) == 1 and "tutte in «Carta d'identità di chi firma»" in texts[0]
    assert "📎 Verbale dell'accompagnamento" in f.buttons(), f.buttons()
    texts = await f.say("verbale")
    assert not any(GENERIC in t for t in texts), texts
    assert "Mandate ora: Verbale dell'accompagnamento" in texts[-1]
    texts = await f.upload_album([document_photo(s) for s in (73, 74, 75)], "verbale")
    assert len(texts) == 1 and "tutte in «Verbale dell'accompagnamento»" in texts[0], texts
    assert filed_under(s) == {"id_card_applicant": 2, "verbale_accompagnamento": 3}
    # a PDF without a tap: asked about; a word that fits two documents is asked back
    texts = await f.upload_document(pdf_document(2, "Busta paga"), "busta.pdf")
    assert "Per quale documento è?" in texts[-1]
    texts = await f.say("assistente")
    assert texts == ["Quale dei due?"] or texts[-1] == "Quale dei due?", texts
    assert sorted(f.buttons()) == ["Busta paga dell'assistente", "Contratto dell'assistente"]
    # the family meant the next one: the word filed this PDF, and says so
    texts = await f.say("contratto")
    assert "Il file mandato prima (2 pagine) l'ho messo in «Contratto dell'assistente»" in (
        texts[-1]
    ), texts
    assert "↩️ Non era per questo documento" in f.buttons()
    assert filed_under(s).get("employment_contract") == 1, filed_under(s)
    texts = await f.press("Non era per questo documento")
    assert "Ricevuto: 2 pagine. Per quale documento è?" in texts[-1]
    assert "employment_contract" not in filed_under(s)
    texts = await f.say("busta paga")
    assert "Busta paga dell'assistente: 2 pagine" in texts[-1]
    assert filed_under(s).get("payslip") == 1, filed_under(s)
    await s.close()


async def test_an_album_sent_again_is_one_question_and_moves_whole(api, db_path):
    """Three verbale pages filed under the ISEE by mistake, sent again after tapping the
    verbale: one question for the album, and «Sposta» moves all three pages."""
    s = await at_checklist(api, db_path)
    f = s.family
    pages = [document_photo(seed) for seed in (81, 82, 83)]
    await f.press("Attestazione ISEE")
    await f.upload_album(pages, "prima")
    assert filed_under(s) == {"isee_attestation": 3}, filed_under(s)
    await f.say("verbale")
    texts = await f.upload_album(pages, "ancora")
    asked = [t for t in texts if "già mandat" in t]
    assert len(asked) == 1, texts
    assert "Queste foto le avete già mandate, per: Attestazione ISEE" in asked[0]
    texts = await f.press("Sposta tutte in: Verbale dell'accompagnamento")
    assert "Spostato." in texts[-1] and "Verbale dell'accompagnamento: 3 pagine" in texts[-1]
    assert filed_under(s) == {"verbale_accompagnamento": 3}, filed_under(s)
    await s.close()


async def test_text_at_the_signing_and_the_last_check_fits_the_step(api, db_path):
    """Every document in: text is never "send files". Before the signed pages: which are
    missing. At the last check: how to send, and nothing goes. «Non ancora»: the list
    offers «Controlla e invia» again."""
    s = await at_checklist(api, db_path)
    f = s.family
    await upload_everything(s)
    texts = await f.say("e adesso?")
    assert not any(GENERIC in t for t in texts), texts
    assert "Ci sono tutti i documenti" in texts[-1]
    assert "📝 Prepara il modulo da firmare" in f.buttons()
    await f.press("Prepara il modulo da firmare")
    texts = await f.say("ho firmato, adesso?")
    assert not any(GENERIC in t for t in texts), texts
    assert "Mandate qui le foto delle pagine firmate" in texts[-1]
    assert "Mancano le pagine: 1, 2" in texts[-1]
    for photo in signed_form_photos(api.documents[4242][-1][1]):  # every page, signed
        await f.upload_photo(photo)
    texts = await f.say("ho firmato, adesso?")  # the last check, with how to send
    assert "Per inviare toccate «📨 Sì, invia»" in texts[-1], texts
    assert "Controllo finale" in texts[-1] and "📨 Sì, invia" in f.buttons()
    for typed in ("invio?", "invai", "non inviare ancora"):
        texts = await f.say(typed)
        assert not any(GENERIC in t for t in texts), (typed, texts)
        assert "Per inviare toccate «📨 Sì, invia»" in texts[-1], (typed, texts)
        assert "📨 Sì, invia" in f.buttons()
    assert s.db.execute("select count(*) from outbox").fetchone()[0] == 0
    texts = await f.press("Non ancora")
    assert "Ci sono tutte le pagine firmate" in texts[-1]
    assert "✅ Controlla e invia" in f.buttons(), f.buttons()
    texts = await f.press("Controlla e invia")
    assert "📨 Sì, invia" in f.buttons()
    await s.close()
