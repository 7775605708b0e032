"""Every button of the questionnaire, of the application and of the alerts, one typed class
per kind: `CallbackData` (pydantic, no I/O; packed as aiogram packs it, without loading
aiogram: `dialogs.callbacks`), into the 64 bytes a Telegram button carries.

The view builds them (`Item(index=2).pack()`), the controller (`dialogs.application`)
receives them unpacked; the bot and the console both unpack with `unpack`. Data that does
not unpack into one of these (forged, or left from an older version) is not a button of
ours: the family is told it is no longer valid. A button that unpacks but no longer fits
the application (another stage, an index past the checklist) is told the same.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from pydantic import Field

from .callbacks import CallbackData

Index = Annotated[int, Field(ge=0, lt=1000)]
Id = Annotated[int, Field(ge=1, lt=10**12)]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{0,12}$")]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Comune = Annotated[str, Field(pattern=r"^[A-Z][0-9]{3}$")]  # its cadastral code: "F205"


def packed(kind: type[CallbackData], **fields: Any) -> str:
    """`kind(**fields).pack()`, once per button: a question's buttons are the same for
    every family (their fields come from the question table, never from what is typed)."""
    return _packed(kind, tuple(fields.items()))


@cache
def _packed(kind: type[CallbackData], fields: tuple[tuple[str, Any], ...]) -> str:
    return kind(**dict(fields)).pack()


# -- the questionnaire (dialogs.flow): packed as before they were typed ---------------------


class Language(CallbackData, prefix="lang"):
    code: Code


class Privacy(CallbackData, prefix="priv"):
    answer: Code  # "yes"; anything else declines


class Erase(CallbackData, prefix="del"):
    """/cancella_dati: "yes" deletes everything; anything else keeps it."""

    answer: Code


class Summary(CallbackData, prefix="sum"):
    """✏️ Cambia una risposta: every answer, each with a button."""


class Edit(CallbackData, prefix="e"):
    qid: Code


class Answer(CallbackData, prefix="a"):
    """One option of a choice or yes/no question."""

    qid: Code
    option: Index


class Toggle(CallbackData, prefix="t"):
    """One option of a question with several answers, ticked or unticked."""

    qid: Code
    option: Index


class Done(CallbackData, prefix="d"):
    """The ticks of a question with several answers are final."""

    qid: Code


class Suggestion(CallbackData, prefix="s"):
    """A comune suggested for a name we did not find."""

    qid: Code
    option: Index


class Explain(CallbackData, prefix="h"):
    """❓ Cos'è?"""

    qid: Code


class Keep(CallbackData, prefix="k"):
    """↩️ Va bene così: a question asked again (/indietro, ✏️) keeps its answer."""

    qid: Code


class ConfirmIsee(CallbackData, prefix="cf"):
    """An ISEE under 1.000 €: as typed (0), a thousand times (1), or typed again (2)."""

    qid: Code
    choice: Annotated[int, Field(ge=0, le=2)]


QUESTIONNAIRE: tuple[type[CallbackData], ...] = (
    Language,
    Privacy,
    Erase,
    Summary,
    Edit,
    Answer,
    Toggle,
    Done,
    Suggestion,
    Explain,
    ConfirmIsee,
    Keep,
)
ON_A_QUESTION = (Answer, Toggle, Done, Suggestion, Explain, ConfirmIsee, Keep)  # carry its qid


# -- the application (dialogs.application) ----------------------------------------------


class Prepare(CallbackData, prefix="prep"):
    """📝 Prepara la domanda, from the questionnaire's result."""


class Choose(CallbackData, prefix="pid"):
    """One option of an identity question (who signs, which document...)."""

    option: Index


class Skip(CallbackData, prefix="pskip"):
    """An optional detail the family does not have."""


class SameHome(CallbackData, prefix="phome"):
    """🏠 The person cared for lives where who signs does: the same address and CAP."""


class Detail(CallbackData, prefix="pdetail"):
    """✏️ Change one detail of the form (its index in `dialogs.identity.QUESTIONS`), from
    the summary of the details."""

    index: Index


class Item(CallbackData, prefix="pitem"):
    """📎 The next files are for this checklist item (its index in the checklist)."""

    index: Index


class FileAs(CallbackData, prefix="pas"):
    """A file sent without choosing is this checklist item."""

    attachment: Id
    index: Index


class Move(CallbackData, prefix="pmove"):
    """↪️ A file already filed belongs to another checklist item: move it there."""

    attachment: Id
    index: Index


class Same(CallbackData, prefix="psame"):
    """🔗 A file already filed is also this checklist item's document (one verbale for
    two items): kept and sent once, counted for both."""

    attachment: Id
    index: Index


class Unfile(CallbackData, prefix="punf"):
    """↩️ A file (with its album) filed by a typed answer to "Per quale documento è?" was
    not for that document: asked about again."""

    attachment: Id


class Discard(CallbackData, prefix="pdel"):
    """🗑 A file asked about is not for the application: thrown away (with its album)."""

    attachment: Id


class DropLast(CallbackData, prefix="plast"):
    """🗑 Take away the last page sent for this checklist item (its index): the page it
    names (`attachment`, and the start of its SHA-256 since a row id can be reused), so a
    button left from before cannot take a newer page."""

    index: Index
    attachment: Id
    digest: Digest


class Redo(CallbackData, prefix="predo"):
    """🔁 Send an item again (its files are deleted); without an index, the menu."""

    index: Index | None = None


class OpenRequest(CallbackData, prefix="pint"):
    """📎 Mando i documenti: the social services asked for more."""

    request: Id


class Stage(StrEnum):
    CHECKLIST = "list"  # 📋 what is missing
    DETAILS = "ident"  # ✏️ the form's details, one to change
    FORM = "form"  # 📝 the form to sign
    REVIEW = "review"  # ✅ the last check
    SEND = "send"  # 📨 send it
    BUNDLE = "bundle"  # 📦 the PDFs, to hand in themselves
    COPY = "copy"  # 📦 the copy again, after sending
    REQUEST_DONE = "intdone"  # ✅ everything the social services asked is sent
    KEEP = "keep"  # ↩️ a detail asked again by /indietro keeps what was written


class Go(CallbackData, prefix="pgo"):
    step: Stage


APPLICATION: tuple[type[CallbackData], ...] = (
    Prepare,
    Choose,
    Skip,
    SameHome,
    Detail,
    Item,
    FileAs,
    Move,
    Same,
    Unfile,
    Discard,
    DropLast,
    Redo,
    OpenRequest,
    Go,
)


# -- the alerts (dialogs.alerts, bot.alerts) ------------------------------------------------


class Subscribe(CallbackData, prefix="sub"):
    """🔔 Avvisatemi quando apre, for this comune."""

    code: Comune


class CheckNow(CallbackData, prefix="chk"):
    """🔎 Verifica adesso: the questions again, the comune already given."""

    code: Comune


class Unsubscribe(CallbackData, prefix="uns"):
    """❌ Basta avvisi per this subscription."""

    id: Id


class StopReminders(CallbackData, prefix="rst"):
    """🔕 Basta promemoria for this reminder."""

    id: Id


ALERTS: tuple[type[CallbackData], ...] = (Subscribe, CheckNow, Unsubscribe, StopReminders)
ALERTS_BY_PREFIX = {kind.__prefix__: kind for kind in ALERTS}
BY_PREFIX = {kind.__prefix__: kind for kind in APPLICATION}
QUESTIONNAIRE_BY_PREFIX = {kind.__prefix__: kind for kind in QUESTIONNAIRE}


def _unpack(kinds: dict[str, type[CallbackData]], data: str | None) -> CallbackData | None:
    kind = kinds.get((data or "").partition(":")[0])
    if kind is None:
        return None
    try:
        return kind.unpack(data or "")
    except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def unpack(data: str | None) -> CallbackData | None:
    """The application button whose packed data this is, or None (not one of ours, forged,
    or outdated)."""
    return _unpack(BY_PREFIX, data)


def unpack_question(data: str | None) -> CallbackData | None:
    """The questionnaire's button whose packed data this is, or None."""
    return _unpack(QUESTIONNAIRE_BY_PREFIX, data)


def is_alert(data: str | None) -> bool:
    """Data with the prefix of an alert's button (it may still not unpack: forged)."""
    return (data or "").partition(":")[0] in ALERTS_BY_PREFIX


def is_ours(data: str | None) -> bool:
    """Data of one of these kinds, or of the application's buttons before they were typed
    (`p:...`, still on screen in old chats: told they are no longer valid)."""
    prefix, sep, _rest = (data or "").partition(":")
    return prefix in BY_PREFIX or (prefix == "p" and bool(sep))
