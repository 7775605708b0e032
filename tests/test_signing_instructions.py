"""How to send the signed pages back: each page is known by the QR code at its foot, so
the chat, the console (tests/test_console_application.py) and the form itself say to keep
it in the photo. Through the real Dispatcher and the Bot API stand-in."""

from __future__ import annotations

import io

from pypdf import PdfReader

from dialogs.buttons import Redo
from tests.documents import signed_form_photos
from tests.test_bot_dossier import at_checklist, upload_everything

KEEP = (
    "Nella foto deve vedersi la pagina intera, con il codice QR in basso a destra: da "
    "quello riconosco la pagina."
)
ON_THE_FORM = (
    "Dopo la firma, fotografate o scansionate la pagina intera, con il codice QR qui "
    "accanto ben visibile."
)


async def test_the_chat_and_every_page_of_the_form_say_to_keep_the_qr_code_in_the_photo(
    api, db_path
):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    f = s.family
    texts = await f.press("Prepara il modulo da firmare")
    instructions = texts[-1]
    assert KEEP in instructions
    assert instructions.index("2. Fate una foto") < instructions.index(KEEP)
    _name, pdf, _caption = api.documents[4242][-1]
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert pages and all(ON_THE_FORM in page for page in pages)
    # after «Rifai» on the signed form, the same advice with the request to sign again
    await f.upload_photo(signed_form_photos(pdf)[0])
    await f.press("", data=Redo().pack())
    texts = await f.press("Domanda firmata")
    assert KEEP in texts[-1]
    await s.close()
