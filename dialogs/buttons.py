"""The application's buttons, one typed class per kind: aiogram's `CallbackData` (pydantic,
no I/O), packed into the 64 bytes a Telegram button carries.

The view builds them (`Item(index=2).pack()`), the controller (`dialogs.application`)
receives them unpacked; the bot and the console both unpack with `unpack`. Data that does
not unpack into one of these (forged, or left from an older version) is not a button of
ours: the family is told it is no longer valid. A button that unpacks but no longer fits
the application (another stage, an index past the checklist) is told the same.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

Index = Annotated[int, Field(ge=0, lt=1000)]
Id = Annotated[int, Field(ge=1, lt=10**12)]


class Prepare(CallbackData, prefix="prep"):
    """📝 Prepara la domanda, from the questionnaire's result."""


class Choose(CallbackData, prefix="pid"):
    """One option of an identity question (who signs, which document...)."""

    option: Index


class Skip(CallbackData, prefix="pskip"):
    """An optional detail the family does not have."""


class Item(CallbackData, prefix="pitem"):
    """📎 The next files are for this checklist item (its index in the checklist)."""

    index: Index


class FileAs(CallbackData, prefix="pas"):
    """A file sent without choosing is this checklist item."""

    attachment: Id
    index: Index


class Redo(CallbackData, prefix="predo"):
    """🔁 Send an item again (its files are deleted); without an index, the menu."""

    index: Index | None = None


class OpenRequest(CallbackData, prefix="pint"):
    """📎 Mando i documenti: the social services asked for more."""

    request: Id


class Stage(StrEnum):
    CHECKLIST = "list"  # 📋 what is missing
    DETAILS = "ident"  # ✏️ write the form's details again
    FORM = "form"  # 📝 the form to sign
    REVIEW = "review"  # ✅ the last check
    SEND = "send"  # 📨 send it
    BUNDLE = "bundle"  # 📦 the PDFs, to hand in themselves
    COPY = "copy"  # 📦 the copy again, after sending
    REQUEST_DONE = "intdone"  # ✅ everything the social services asked is sent


class Go(CallbackData, prefix="pgo"):
    step: Stage


APPLICATION: tuple[type[CallbackData], ...] = (
    Prepare,
    Choose,
    Skip,
    Item,
    FileAs,
    Redo,
    OpenRequest,
    Go,
)
BY_PREFIX = {kind.__prefix__: kind for kind in APPLICATION}


def unpack(data: str | None) -> CallbackData | None:
    """The application button whose packed data this is, or None (not one of ours, forged,
    or outdated)."""
    kind = BY_PREFIX.get((data or "").partition(":")[0])
    if kind is None:
        return None
    try:
        return kind.unpack(data or "")
    except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def is_ours(data: str | None) -> bool:
    """Data of one of these kinds, or of the application's buttons before they were typed
    (`p:...`, still on screen in old chats: told they are no longer valid)."""
    prefix, sep, _rest = (data or "").partition(":")
    return prefix in BY_PREFIX or (prefix == "p" and bool(sep))
