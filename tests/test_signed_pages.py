"""The signed form's pages in the chat, through the real aiogram Dispatcher and the Bot
API stand-in, to the .eml a real SMTP server on loopback receives: one page per number
(a newer one replaces the older, and the family is told), a signature box without ink
said and sending held back until that page comes back signed, a page photographed
sideways sent upright, the protocol's PDF in page order, and an album of pages answered
once. The photos and scans are made in the test from the form the chat sent."""

from __future__ import annotations

import email
import email.policy
import io
from pathlib import Path

import pypdfium2
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from dialogs.buttons import Go, Stage
from dossier.pagephoto import INK_SHARE, Layout, ink_share, place
from storage.dossiers import attachments, dossiers_of
from tests.botapi import BotAPI
from tests.documents import (
    page_photo,
    qr_close_up,
    qr_on_a_blank_sheet,
    scanned_form,
    signature_boxes,
)
from tests.test_bot_conversation import Session
from tests.test_bot_dossier import at_checklist, deliver_by_smtp, upload_everything

# Maria Rossi signs: the box is hers
UNSIGNED = "non sembra firmata: firmate nel riquadro «Firma della richiedente» e rifate la foto"


async def at_signing(api: BotAPI, db_path: Path) -> tuple[Session, bytes]:
    """A family of Opera with every document sent and the form to sign in the chat."""
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await s.family.press("Prepara il modulo da firmare")
    return s, api.documents[4242][-1][1]


def form_files(s: Session) -> list[dict]:
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    return [a for a in attachments(s.db, dossier_id) if a["item_id"] == "application_form"]


def sent_form(handler) -> bytes:
    """The signed form in the one message the protocol received."""
    assert len(handler.messages) == 1
    message = email.message_from_bytes(handler.messages[0].data, policy=email.policy.default)
    files = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
    names = sorted(files)
    assert names[0] == "01-domanda-firmata.pdf", names
    return files[names[0]]


def rendered(pdf: bytes) -> list[Image.Image]:
    doc = pypdfium2.PdfDocument(pdf)
    return [page.render(scale=150 / 72).to_pil().convert("L") for page in doc]


def code_on(page: Image.Image) -> tuple[str, list[tuple[float, float]]]:
    found = zxingcpp.read_barcodes(page)
    assert found, "no code on this page"
    p = found[0].position
    corners = [(c.x, c.y) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
    return found[0].text, corners


async def test_a_page_sent_again_replaces_the_older_and_the_protocol_gets_each_page_once_in_order(
    api, db_path
):
    """The trial's family: a photo of page 3 taken before signing, then the signed scan
    of all the pages. Page 3 takes the unsigned photo's place (said as received: that one
    was never counted), the count never passes the
    form's pages, the last check lists them by number, and the PEC carries one copy of
    each page, 1 to N, page 3 the signed one."""
    s, form = await at_signing(api, db_path)
    f = s.family
    pages = len(PdfReader(io.BytesIO(form)).pages)
    signature = next(i for i in range(pages) if signature_boxes(form, i))
    page = signature + 1
    texts = await f.upload_photo(page_photo(form, signature, signed=False, angle=3))
    assert f"La pagina {page} {UNSIGNED}" in texts[-1]
    assert f"Pagine firmate ricevute: 0 di {pages}." in texts[-1]
    assert "✅ Controlla e invia" not in f.buttons()
    texts = await f.upload_document(scanned_form(form, list(range(pages))), "scansione.pdf")
    told = texts[-1]
    # the photo before was refused as unsigned: this page is received, not "replaced"
    assert "sostituita" not in told
    for other in range(1, pages + 1):
        assert f"Pagina {other} di {pages} ✓" in told
    assert "non sembra firmata" not in told and "Mancano" not in told
    assert f"Pagine firmate ricevute: {pages} di {pages}." in told
    assert sorted(a["form_page"] for a in form_files(s)) == list(range(1, pages + 1))
    texts = await f.press("Controlla e invia")
    numbers = ", ".join(str(n) for n in range(1, pages + 1))
    assert f"✅ Domanda firmata: {pages} pagine ({numbers})" in texts[-1]
    await f.press("Sì, invia")
    handler, _handled = await deliver_by_smtp(s, db_path)
    signed = sent_form(handler)
    shown = rendered(signed)
    assert len(shown) == pages
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    codes = [code_on(p) for p in shown]
    assert [text.split()[1] for text, _corners in codes] == [
        f"p{n}/{pages}" for n in range(1, pages + 1)
    ]
    assert all(text.startswith(dossier_id) for text, _corners in codes)
    # page N of the PDF is the signed page of the scan, not the photo taken before
    layout = Layout.of(s.dp["desk"].form_layout(dossier_id))
    for index in range(pages):
        for box in layout.boxes(index + 1):
            share = ink_share(shown[index], place(codes[index][1], layout), box)
            assert share is not None and share > INK_SHARE, index
    await s.close()


async def test_an_unsigned_signature_page_holds_the_send_back_and_a_sideways_photo_goes_upright(
    api, db_path
):
    """Every page sent, the signature page unsigned: said, no «Sì, invia» (even pressed
    from an old message); signed and sent again, it goes, and the page photographed
    sideways reaches the protocol upright: portrait, its code at the bottom right."""
    s, form = await at_signing(api, db_path)
    f = s.family
    pages = len(PdfReader(io.BytesIO(form)).pages)
    signature = next(i for i in range(pages) if signature_boxes(form, i))
    page = signature + 1
    sideways = next(i for i in range(pages) if i != signature)
    for i in range(pages):
        if i == sideways:  # the phone held sideways: a landscape photo of a page turned 90°
            photo = page_photo(form, i, angle=90, blur=0.8, size=(2600, 1900))
        else:
            photo = page_photo(form, i, signed=i != signature, angle=2 - i, blur=0.8)
        texts = await f.upload_photo(photo)
    assert f"La pagina {page} {UNSIGNED}" in texts[-1]
    # every page is here, but the unsigned one is still missing, and said so
    assert f"Mancano le pagine: {page}." in texts[-1]
    assert f"Pagine firmate ricevute: {pages - 1} di {pages}." in texts[-1]
    assert "✅ Controlla e invia" not in f.buttons()
    numbers = ", ".join(str(n) for n in range(1, pages + 1))
    texts = await f.say("/documenti")
    assert f"🟡 Domanda firmata: {pages} pagine ({numbers})" in "\n".join(texts)
    texts = await f.press("", data=Go(step=Stage.SEND).pack())  # «Sì, invia» from before
    assert "Mancano ancora" in texts[-1] and f"La pagina {page} {UNSIGNED}" in texts[-1]
    assert "📨 Sì, invia" not in f.buttons()
    assert s.db.execute("select count(*) from outbox").fetchone()[0] == 0
    texts = await f.upload_photo(page_photo(form, signature, angle=-4, blur=1.0))
    assert f"Pagina {page} di {pages} ✓" in texts[-1] and "sostituita" not in texts[-1]
    assert "non sembra firmata" not in texts[-1]
    assert f"Pagine firmate ricevute: {pages} di {pages}." in texts[-1]
    await f.press("Controlla e invia")
    texts = await f.press("Sì, invia")
    assert "in coda" in texts[0]
    handler, _handled = await deliver_by_smtp(s, db_path)
    shown = rendered(sent_form(handler))
    assert len(shown) == pages
    upright = shown[sideways]
    assert upright.height > upright.width
    text, corners = code_on(upright)
    assert f" p{sideways + 1}/{pages} " in text
    x = sum(c[0] for c in corners) / 4 / upright.width
    y = sum(c[1] for c in corners) / 4 / upright.height
    assert x > 0.75 and y > 0.8
    await s.close()


async def test_an_unsigned_photo_of_a_signed_page_does_not_throw_the_signed_one_away(
    api, db_path
):
    """The signature page arrived signed; a new photo of it without ink (the family took
    it again before signing a copy, or of the wrong sheet) is said and not kept: the signed
    page stays, and so does «Controlla e invia»."""
    s, form = await at_signing(api, db_path)
    f = s.family
    pages = len(PdfReader(io.BytesIO(form)).pages)
    signature = next(i for i in range(pages) if signature_boxes(form, i))
    for i in range(pages):
        await f.upload_photo(page_photo(form, i, angle=1, blur=0.8))
    [signed] = [a for a in form_files(s) if a["form_page"] == signature + 1]
    assert signed["ink"] == 1
    texts = await f.upload_photo(page_photo(form, signature, signed=False, angle=-2, blur=0.8))
    told = "\n".join(texts)
    assert f"La nuova foto della pagina {signature + 1} non sembra firmata." in told
    assert "Teniamo quella di prima, che è firmata." in told
    assert "sostituita" not in told
    assert [a["id"] for a in form_files(s) if a["form_page"] == signature + 1] == [signed["id"]]
    assert f"Pagine firmate ricevute: {pages} di {pages}." in texts[-1]
    assert "✅ Controlla e invia" in f.buttons()
    await s.close()


async def test_close_ups_of_the_codes_alone_are_not_the_signed_pages(api, db_path):
    """The red team's careless (or crafty) family: a photo of each page's QR code only,
    zoomed in, no page around it. Each is refused with what to do, no page counts, and
    the application cannot go without its signed form; the whole page then counts."""
    s, form = await at_signing(api, db_path)
    f = s.family
    pages = len(PdfReader(io.BytesIO(form)).pages)
    for i in range(pages):
        texts = await f.upload_photo(qr_close_up(form, i))
        assert "vedo solo il codice quadrato (QR), non la pagina intera" in texts[-1]
        assert "Fotografate tutta la pagina firmata, con il codice in basso a destra" in texts[-1]
        assert "✓" not in texts[-1]
        assert f"Pagine firmate ricevute: 0 di {pages}." in texts[-1]
    assert form_files(s) == []
    assert "✅ Controlla e invia" not in f.buttons()
    texts = await f.upload_photo(page_photo(form, 0, size=(1800, 2300)))
    assert f"Pagina 1 di {pages} ✓" in texts[-1]
    assert len(form_files(s)) == 1
    await s.close()


async def test_blank_sheets_with_the_codes_and_a_scribble_are_not_the_signed_pages(api, db_path):
    """The red team's: each page's code cut out and glued on a blank sheet where the form
    prints it, a scribble where the box would be, pen strokes across the sheet. None of
    the form's text is there: no page counts, and the family is told to photograph the
    whole signed page."""
    s, form = await at_signing(api, db_path)
    f = s.family
    pages = len(PdfReader(io.BytesIO(form)).pages)
    for i in range(pages):
        texts = await f.upload_photo(qr_on_a_blank_sheet(form, i, signed=True, lines=10))
        assert "Fotografate tutta la pagina firmata" in texts[-1], texts
        assert "✓" not in texts[-1]
        assert f"Pagine firmate ricevute: 0 di {pages}." in texts[-1]
    assert form_files(s) == []
    assert "✅ Controlla e invia" not in f.buttons()
    await s.close()


async def test_an_album_of_signed_pages_gets_one_reply(api, db_path):
    """The pages but the last sent together (one media group, handled as polling does:
    concurrent updates queued on the chat's lock): one reply, with each page and what is
    missing once."""
    s, form = await at_signing(api, db_path)
    f = s.family
    pages = len(PdfReader(io.BytesIO(form)).pages)
    assert pages >= 3
    together = pages - 1
    photos = [
        page_photo(form, i, angle=i - 1, blur=0.8, size=(1800, 2300)) for i in range(together)
    ]
    texts = await f.upload_album(photos, album="firmate-1")
    assert len(texts) == 1, texts
    told = texts[0]
    for n in range(1, together + 1):
        assert f"Pagina {n} di {pages} ✓" in told
    assert told.count("Mancano le pagine") == 1
    assert f"Mancano le pagine: {pages}." in told
    assert f"Pagine firmate ricevute: {together} di {pages}." in told
    assert len(form_files(s)) == together
    # the last one alone, answered
    texts = await f.upload_photo(page_photo(form, pages - 1, size=(1800, 2300)))
    assert len(texts) == 1 and f"Pagina {pages} di {pages} ✓" in texts[0]
    assert "✅ Controlla e invia" in f.buttons()
    await s.close()


async def test_a_digitally_signed_form_after_photos_takes_their_place(api, db_path):
    """The newest wins here too: the digitally signed file is the whole form, the photos
    sent before go; a photo after it is not needed."""
    from tests.test_file_checks import p7m

    s, form = await at_signing(api, db_path)
    f = s.family
    for i in range(2):
        await f.upload_photo(page_photo(form, i, size=(1800, 2300)))
    assert len(form_files(s)) == 2
    signed = p7m(form)
    texts = await f.upload_document(signed, "domanda.pdf.p7m", mime="application/pkcs7-mime")
    assert "Ricevuto il file con firma digitale." in texts[-1]
    assert "Le foto delle pagine mandate prima non servono più" in texts[-1]
    assert [a["signed"] for a in form_files(s)] == [1]
    texts = await f.upload_photo(page_photo(form, 2, size=(1800, 2300)))
    assert "Abbiamo già il modulo con la firma digitale" in texts[-1]
    assert len(form_files(s)) == 1
    await s.close()
