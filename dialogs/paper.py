"""The application's state, as the controller (`dialogs.application`) and its parts
(`dialogs.uploading`, `dialogs.sending`) share it: the FSM data key `paper`, the
questionnaire's `dialog`, the desk, the view; and what one event comes to (`Step`).

State `paper`: {dossier, stage, identity, editing (one detail being changed from the
summary: the stage to return to, the details before), notes_shown (the checklist's ℹ️
notes were said once), item, ask, albums, last_item, sendable, copy_at
(when the family last got their copy, once sent), album_news (what the signed pages of
the album in progress came to), and while answering a request: request, asked,
unreadable, first_new}. Stages: identity, documents,
signing, integration, sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.settings import Settings
from dossier.checklist import ItemStatus, missing
from dossier.desk import Desk
from dossier.people import gender_of, signature_label
from dossier.record import record_of
from eligibility import Catalogue
from storage.records import Identity

from .flow import Dialog
from .identity import (
    BY_KEY,
    CODE_AGAIN,
    QUESTIONS,
    Needs,
    answered,
    asked,
    code_of_renamed,
    next_question,
    unasked_dropped,
)
from .languages import Translate
from .paperwork import PaperworkView
from .replies import Reply

Clock = Callable[[], dt.date]
STAGES = ("identity", "documents", "signing", "integration", "sent")
GATHERING = ("documents", "signing", "integration")  # the stages that take files


@dataclass
class Document:
    """A file for the family: the form to sign, their copy of what was sent."""

    name: str
    data: bytes
    caption: str = ""


@dataclass
class Received:
    """A file the family sent, already downloaded."""

    data: bytes
    unique: str | None = None  # the same file sent twice is known by it
    album: str | None = None  # files sent together (a Telegram album)


@dataclass
class Step:
    """What one event comes to: documents, sent first, then replies; `undelivered` is
    said when the documents could not be sent (None: that is an error); `still_asking`
    when a button's answer was refused and its question stays open (its buttons stay).
    `album`: the replies sum up this album so far, so while more of its files are on
    their way only the last file's are said (one reply per album)."""

    replies: list[Reply] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    undelivered: Reply | None = None
    still_asking: bool = False
    album: str | None = None


class Paper:
    """One event's worth of the application's state (see the module)."""

    typed = False  # the button pressed was typed (its label), not tapped

    def __init__(
        self,
        desk: Desk,
        catalogue: Catalogue,
        gettext: Translate,
        locale: str,
        clock: Clock,
        settings: Settings,
        *,
        dialog: dict[str, Any] | None = None,
        paper: dict[str, Any] | None = None,
    ):
        self.desk, self.catalogue, self.clock, self.settings = desk, catalogue, clock, settings
        self._ = gettext
        self.locale = locale
        self.view = PaperworkView(gettext, locale)
        self.dialog: dict[str, Any] = dict(dialog or {})
        self.data: dict[str, Any] = dict(paper or {})
        signer = (self.data.get("identity") or {}).get("applicant.tax_code")
        self.view.signature = signature_label(gender_of(signer))

    # -- the state ---------------------------------------------------------------------

    @property
    def stage(self) -> str | None:
        """The stage of the application in progress in this chat; None if there is none."""
        return self.data.get("stage") if self.data.get("dossier") else None

    @property
    def dossier_id(self) -> str:
        return str(self.data["dossier"])

    def statuses(self) -> list[ItemStatus]:
        return self.desk.statuses(self.dossier_id)

    def checklist(self) -> Reply:
        """The checklist; what our form stands for (the ℹ️ notes) the first time only."""
        statuses = self.statuses()
        reply = self.view.checklist(
            self.dossier_id,
            statuses,
            ready_for_form=not missing(statuses),
            stage=self.data.get("stage", "documents"),
            notes=not self.data.get("notes_shown"),
            sendable=self.sendable(),
        )
        self.data["notes_shown"] = True
        return reply

    def submission(self) -> dict[str, Any]:
        return self.desk.get(self.dossier_id)["data"].get("submission") or {}

    def sendable(self) -> bool:
        return bool(self.data.get("sendable"))

    def needs(self) -> Needs:
        """What this dossier's identity questions must cover (ISEE date, bank account)."""
        return Needs.of(record_of(self.desk.get(self.dossier_id)))

    def no_longer_valid(self) -> Reply:
        return Reply(self._("Questo pulsante non vale più."))

    def _dialog(self) -> Dialog:
        return Dialog(self.catalogue, self.clock(), self._, self.locale)

    def home(self) -> str | None:
        """The comune where the person lives, as the questionnaire found it."""
        return (self.dialog.get("answers") or {}).get("municipality")

    def next_identity(self) -> list[Reply]:
        needs = self.needs()
        identity = self.data["identity"]
        q = next_question(identity, needs)
        editing = self.data.get("editing")
        back = {k: v for k, v in (self.data.get("back") or {}).items() if k not in identity}
        if back:  # what /indietro took back, until it is answered again
            self.data["back"] = back
        else:
            self.data.pop("back", None)
        if q is not None:
            return [self.view.question(
                q, identity, editing=bool(editing), home=self.home(), written=back.get(q.key)
            )]
        if editing:
            return self.edited(needs)
        replies = [Reply(self._("Grazie. Ora i documenti."))]
        if self.desk.set_identity(self.dossier_id, Identity.from_dict(self.data["identity"])):
            replies.append(self.view.form_reset())
        if self.data.get("stage") == "identity":
            self.data["stage"] = "documents"
            self.data["item"] = None
        return [*replies, self.checklist()]

    # -- one detail changed from the summary ------------------------------------------------

    def details(self, needs: Needs | None = None) -> Reply:
        """The summary of the form's details, each with its ✏️ button."""
        identity = self.data["identity"]
        rows = [(i, q, identity[q.key]) for i, q in answered(identity, needs or self.needs())]
        return self.view.details(rows, identity)

    def edit(self, index: int) -> list[Reply]:
        """✏️ on one detail: ask just that question (the others keep their answers)."""
        if not 0 <= index < len(QUESTIONS):
            raise NotNow
        q = QUESTIONS[index]
        identity = self.data["identity"]
        if q.key not in identity or not asked(q, identity, self.needs()):
            raise NotNow
        self.data["editing"] = {"stage": self.data.get("stage"), "before": dict(identity)}
        identity.pop(q.key)
        self.data["stage"] = "identity"
        return [self.view.question(q, identity, editing=True, home=self.home())]

    def leave_as_it_was(self) -> list[Reply]:
        """↩️ Lascia com'era, or /indietro, while changing one detail."""
        editing = self.data.pop("editing")
        self.data["identity"] = editing["before"]
        self.data["stage"] = editing["stage"]
        return [self.details()]

    def edited(self, needs: Needs) -> list[Reply]:
        """The detail (and any question its new answer opened) is answered: keep them,
        and show the summary again; a name changed under its codice fiscale: that
        code asked again first."""
        identity = self.data["identity"]
        editing = self.data["editing"]
        for key in [] if editing.get("code_asked") else list(identity):
            renamed = code_of_renamed(key, editing["before"], identity)
            if renamed is not None and identity.get(key) != editing["before"].get(key):
                identity.pop(renamed)
                editing["code_asked"] = True  # once: typed twice the same, it is kept
                question = self.view.question(
                    BY_KEY[renamed], identity, editing=True, home=self.home()
                )
                return [Reply(self._(CODE_AGAIN)), question]
        self.data.pop("editing")
        unasked_dropped(identity, needs)
        replies: list[Reply] = []
        changed = identity != editing["before"]
        if changed and self.desk.set_identity(self.dossier_id, Identity.from_dict(identity)):
            replies.append(self.view.form_reset())
        # a changed detail changes the form: it is made again before signing
        self.data["stage"] = "documents" if changed else editing["stage"]
        return [*replies, self.details(needs)]

    # -- the social services' requests ------------------------------------------------------

    def _asked(self, statuses: list[ItemStatus]) -> list[tuple[int, ItemStatus]]:
        """The items the social services asked for, with their index in the checklist."""
        wanted = set(self.data.get("asked") or [])
        return [(i, s) for i, s in enumerate(statuses) if s.item.id in wanted]

    def start_integration(self, request_id: int, user_id: int) -> list[Reply]:
        """Open the request's dossier in this chat, to receive the documents asked for."""
        request = self.desk.integration_request(request_id) if request_id else None
        if request is None or self.desk.get(request["dossier_id"])["user_id"] != user_id:
            return [self.no_longer_valid()]
        asked = [str(i).partition(":")[0] for i in request["items"]]
        unreadable = [
            str(i).partition(":")[0] for i in request["items"] if str(i).endswith(":illeggibile")
        ]
        self.data = {
            "dossier": request["dossier_id"],
            "stage": "integration",
            "request": request["id"],
            "asked": asked,
            "unreadable": unreadable,
            "first_new": self.desk.next_attachment_id(request["dossier_id"]),
            "item": asked[0] if len(asked) == 1 else None,
            "albums": {},
            "sendable": self.data.get("sendable", True),
        }
        return [self.view.integration_start(self._asked(self.statuses()))]

    def waiting_request(self, user_id: int) -> bool:
        """No application in progress here, and the social services asked for more."""
        if self.stage not in (None, "sent"):
            return False
        return self.desk.open_request_for(user_id) is not None


class NotNow(Exception):
    """A button that does not fit the application as it is now."""


def at(statuses: list[ItemStatus], index: int) -> ItemStatus:
    if not 0 <= index < len(statuses):
        raise NotNow
    return statuses[index]


def status_of(statuses: list[ItemStatus], item_id: str | None) -> ItemStatus | None:
    return next((s for s in statuses if s.item.id == item_id), None)
