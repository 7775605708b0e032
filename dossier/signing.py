"""What the signing step calls when the family sends a photo or a file of the signed
form: which pages of this dossier's current form it holds (`dossier.pagecode`), each
taken out on its own and upright, its signature box looked at for ink (where the form's
layout is known: `Desk.set_form_pages`). The chat (`dialogs.signedpages`) files them
one per page number and counts them; a digitally signed file is never read here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .form import form_edition
from .pagecode import Recognition, recognise_bounded, recognise_bounded_async

if TYPE_CHECKING:
    from .desk import Desk


def current_form(
    desk: Desk, dossier_id: str, today: dt.date
) -> tuple[str, int, dict[str, Any] | None]:
    """The edition of the dossier's form as it stands (what it declares), its page
    count and its layout (set when the form was made: `Desk.set_form_pages`)."""
    edition = form_edition(desk.form_data(dossier_id, today))
    return edition, desk.form_pages(dossier_id), desk.form_layout(dossier_id)


async def recognise_signed_upload(
    desk: Desk, dossier_id: str, data: bytes, today: dt.date
) -> Recognition:
    """The pages of this dossier's form in an upload, read in a bounded process."""
    return await recognise_bounded_async(data, dossier_id, *current_form(desk, dossier_id, today))


def recognise_signed_upload_sync(
    desk: Desk, dossier_id: str, data: bytes, today: dt.date
) -> Recognition:
    """`recognise_signed_upload` for the console and plain callers."""
    return recognise_bounded(data, dossier_id, *current_form(desk, dossier_id, today))
