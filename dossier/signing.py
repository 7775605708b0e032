"""What the signing step calls when the family sends a photo or a file of the signed
form: which pages of this dossier's current form it holds (`dossier.pagecode`).

Not wired into the chat yet (the application's steps are being moved to `dialogs/`):
the step calls `recognise_signed_upload` with the downloaded bytes and counts the pages
("pagina 2 di 4 ✓"), refuses kindly a page of another dossier, of an older edition or no
page at all, and keeps a digitally signed file as today (`Recognition.outcome` of a
`.p7m` or signed PDF of our form is `pages` with every page).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .form import form_edition
from .pagecode import Recognition, recognise_bounded, recognise_bounded_async

if TYPE_CHECKING:
    from .desk import Desk


def current_form(desk: Desk, dossier_id: str, today: dt.date) -> tuple[str, int]:
    """The edition of the dossier's form as it stands (what it declares) and its page
    count (set when the form was made: `Desk.set_form_pages`)."""
    return form_edition(desk.form_data(dossier_id, today)), desk.form_pages(dossier_id)


async def recognise_signed_upload(
    desk: Desk, dossier_id: str, data: bytes, today: dt.date
) -> Recognition:
    """The pages of this dossier's form in an upload, read in a bounded process."""
    edition, pages = current_form(desk, dossier_id, today)
    return await recognise_bounded_async(data, dossier_id, edition, pages)


def recognise_signed_upload_sync(
    desk: Desk, dossier_id: str, data: bytes, today: dt.date
) -> Recognition:
    """`recognise_signed_upload` for the console and plain callers."""
    edition, pages = current_form(desk, dossier_id, today)
    return recognise_bounded(data, dossier_id, edition, pages)
