"""One document for two checklist items, through the real Dispatcher and the loopback
Bot API: a single INPS verbale covers the invalidità and the L. 104 (001 Art. 2, without
the accompagnamento, whose verbale alone would prove the requirement). The family
says so with one tap; the file is kept once, counts for both, and the PEC carries it
once, titled for both."""

from __future__ import annotations

import email
import email.policy
import io
import json

from pypdf import PdfReader

from storage.dossiers import attachments, dossiers_of
from tests.documents import document_photo, signed_form_photos
from tests.test_bot_conversation import OPERA, Session, begin, follow
from tests.test_bot_dossier import TODAY, deliver_by_smtp, fill_identity

BOTH = {
    **OPERA,
    "Quali di questi documenti": [
        ("press", "Invalidità civile al 100%"),
        ("press", "L. 104 art. 3 comma 3 (handicap grave)"),
        ("press", "Fatto"),
    ],
}
OTHERS = (  # the rest of the Opera checklist: label, photos
    ("Carta d'identità di chi firma", 2),
    ("Attestazione ISEE", 1),
    ("Contratto dell'assistente", 1),
    ("Busta paga dell'assistente", 1),
    ("Ricevuta dei contributi INPS", 1),
)


async def test_one_verbale_counts_for_invalidity_and_l104_and_is_sent_once(api, db_path):
    s = Session(api, db_path, TODAY)
    f = s.family
    await follow(f, BOTH, await begin(f))
    texts = await fill_identity(s)
    assert "Verbale L. 104" in texts[-1]
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    verbale = [document_photo(71), document_photo(72)]
    await f.press("Verbale di invalidità")
    for page in verbale:
        await f.upload_photo(page, album="first")
    # the same album again, for the invalidity: one reply, with the way out
    await f.press("Cosa manca")
    await f.press("Verbale L. 104")
    replies = [await f.upload_photo(page, album="again") for page in verbale]
    assert [len(r) for r in replies] == [1, 0]
    # one question for the album, its buttons for every photo of it
    assert "Queste foto le avete già mandate, per: Verbale di invalidità" in replies[0][0]
    assert "🔗 È lo stesso documento: vale anche per «Verbale L. 104»" in f.buttons()
    assert "↪️ Sposta tutte in: Verbale L. 104" in f.buttons()
    texts = await f.press("È lo stesso documento")
    assert "Fatto: lo stesso file vale per tutti e due." in texts[-1]
    assert "Verbale L. 104: 2 pagine" in texts[-1]
    rows = attachments(s.db, dossier_id)
    assert len(rows) == 2  # kept once
    assert {r["item_id"] for r in rows} == {"verbale_invalidita"}
    texts = await f.press("Cosa manca")
    assert "Verbale di invalidità: 2 pagine" in texts[-1]
    assert "Verbale L. 104: 2 pagine" in texts[-1]
    # the rest, the signed form, the PEC
    seed = 80
    for label, count in OTHERS:
        await f.press(label)
        for _ in range(count):
            seed += 1
            await f.upload_photo(document_photo(seed))
    await f.press("Prepara il modulo da firmare")
    form = PdfReader(io.BytesIO(api.documents[4242][-1][1]))
    text = " ".join(" ".join(page.extract_text().split()) for page in form.pages)
    allega = text[text.index("ALLEGA") : text.index("ALLEGA") + 900]
    assert allega.count("erbale") == 2, allega  # one line naming both uses (problem 6)
    assert "e verbale" in allega and "(2 pagine, un solo documento)" in allega, allega
    for photo in signed_form_photos(api.documents[4242][-1][1]):
        await f.upload_photo(photo)
    await f.press("Controlla e invia")
    await f.press("Sì, invia")
    handler, _handled = await deliver_by_smtp(s, db_path)
    message = email.message_from_bytes(handler.messages[0].data, policy=email.policy.default)
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    manifest = json.loads(files["riepilogo-istanza.json"])
    verbali = [e for e in manifest["files"] if (e["item"] or "").startswith("verbale")]
    assert len(verbali) == 1  # one copy in the PEC
    assert verbali[0]["pages"] == 2
    assert "Verbale di invalidità" in verbali[0]["title"]
    assert "Verbale L. 104" in verbali[0]["title"]
    await s.close()


async def test_taking_back_the_verbale_undoes_the_shared_document(api, db_path):
    s = Session(api, db_path, TODAY)
    f = s.family
    await follow(f, BOTH, await begin(f))
    await fill_identity(s)
    page = document_photo(73)
    await f.press("Verbale di invalidità")
    await f.upload_photo(page)
    await f.press("Cosa manca")
    await f.press("Verbale L. 104")
    await f.upload_photo(page)
    await f.press("È lo stesso documento")
    await f.press("Cosa manca")
    await f.press("Rifai un documento")
    await f.press("🔁 Verbale di invalidità")
    texts = await f.say("/documenti")
    assert "⬜ Verbale L. 104" in texts[-1]
    assert "⬜ Verbale di invalidità" in texts[-1]
    await s.close()
