"""The application, Telegram-free like `Dialog`: the details of the form, the files, the
form to sign, the last check, the send, and the documents the social services ask for.

It takes the state (the FSM data key `paper`, and the questionnaire's `dialog`) and an
event (a press of a `dialogs.buttons` button, a typed line, a file already downloaded)
and returns a `Step`: what to say, which documents to hand the family (the form to sign,
their copy), and what to say if those cannot be delivered. What it stores goes through
the desk (`dossier.desk`) and into `paper`, which the caller saves. The bot (`bot.paperwork`)
and the console (`bot.console`) only turn updates or typed lines into these events.

State `paper`: {dossier, stage, identity, item, ask, albums, last_item, sendable, and while
answering a request: request, asked, unreadable, first_new}. Stages: identity, documents,
signing, integration, sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.filters.callback_data import CallbackData

from common.settings import Settings
from dossier import bounded
from dossier.checklist import ItemStatus, can_prepare, can_send, missing
from dossier.clock import moment
from dossier.desk import Desk
from dossier.files import FileRefused, check_declared_size
from dossier.uploads import bounded_check_async
from eligibility import Catalogue

from .buttons import Choose, FileAs, Go, Item, OpenRequest, Prepare, Redo, Skip, Stage
from .flow import Dialog, Reply
from .formats import esc
from .identity import QUESTIONS as IDENTITY_QUESTIONS
from .identity import Needs, answer, birth_date_for, choose, next_question
from .languages import Translate, untranslated
from .paperwork import PaperworkView
from .parsing import AnswerError

log = logging.getLogger(__name__)
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
    said when the documents could not be sent (None: that is an error)."""

    replies: list[Reply] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    undelivered: Reply | None = None


class Application:
    """One event's worth of the application: state in, `Step` out."""

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
        statuses = self.statuses()
        return self.view.checklist(
            self.dossier_id,
            statuses,
            ready_for_form=not missing(statuses),
            stage=self.data.get("stage", "documents"),
        )

    def submission(self) -> dict[str, Any]:
        return self.desk.get(self.dossier_id)["data"].get("submission") or {}

    def sendable(self) -> bool:
        return bool(self.data.get("sendable"))

    def needs(self) -> Needs:
        """What this dossier's identity questions must cover (ISEE date, bank account)."""
        return Needs.of(self.desk.get(self.dossier_id)["data"])

    def no_longer_valid(self) -> Reply:
        return Reply(self._("Questo pulsante non vale più."))

    def _dialog(self) -> Dialog:
        return Dialog(self.catalogue, self.clock(), self._, self.locale)

    # -- starting, and where we are ------------------------------------------------------

    def prepare(self, user_id: int, chat_id: int) -> Step:
        """📝 Prepara la domanda: open the dossier from the questionnaire's result."""
        answers = self.dialog.get("answers") or {}
        dialog = self._dialog()
        verdict = dialog.verdict(answers) if answers else {}
        if self.dialog.get("stage") != "result" or not can_prepare(verdict):
            return Step([self.no_longer_valid(), *dialog.ask(self.dialog)])
        sent = self.desk.already_sent(user_id, verdict["notice"]["id"])
        if sent is not None:
            return Step([self.view.already_sent(sent)])
        italian = Dialog(self.catalogue, self.clock(), untranslated, "it")
        dossier_id = self.desk.open(
            user_id=user_id,
            chat_id=chat_id,
            language=self.locale,
            answers=answers,
            verdict=verdict,
            checked_on=self.clock(),
            lines=italian.lines(answers),
        )
        identity = self.desk.get(dossier_id)["data"].get("identity") or {}
        self.data = {
            "dossier": dossier_id,
            "stage": "identity",
            "identity": identity,
            "sendable": can_send(verdict),
            "albums": {},
        }
        replies = [self.view.intro(dossier_id, can_send(verdict), verdict["submission"] or {})]
        if self.desk.take_form_reset(dossier_id):
            replies.append(self.view.form_reset())
        return Step(replies + self.next_identity())

    def current(self) -> list[Reply]:
        """What the family is asked now: an identity question, the requested documents, or
        the checklist."""
        if self.data.get("stage") == "identity":
            return self.next_identity()
        if self.data.get("stage") == "integration":
            return [self.view.integration_start(self._asked(self.statuses()))]
        return [self.checklist()]

    def documents(self, user_id: int) -> Step:
        """/documenti: what is missing, or where to find the application."""
        if self.stage is not None:
            return Step(self.current())
        drafts = [d for d in self.desk.dossiers_of(user_id) if d["status"] == "bozza"]
        if drafts:
            text = self._(
                "La domanda {id} è in preparazione e i file sono salvati. Finite le "
                "domande: dal risultato toccate «Prepara la domanda» per riprenderla."
            ).format(id=drafts[0]["id"])
        else:
            text = self._(
                "Non state ancora preparando una domanda. Rispondete alle domande: se "
                "potete fare domanda, alla fine trovate il pulsante."
            )
        return Step([Reply(esc(text))])

    def where(self) -> Step:
        """/start or /aiuto while preparing the application."""
        if self.data.get("stage") == "sent":
            return Step([self.view.closed_for_changes()])
        return Step([self.view.help(self.data.get("stage", "")), *self.current()])

    def back(self) -> Step:
        """/indietro: the previous identity question, or a word on where we are."""
        if self.data.get("stage") == "identity":
            identity = self.data["identity"]
            answered = [q.key for q in IDENTITY_QUESTIONS if q.key in identity]
            if answered:
                identity.pop(answered[-1])
            return Step(self.next_identity())
        text = self._(
            "Siamo ai documenti. Per cambiare una risposta scrivete /riepilogo; i file "
            "mandati restano."
        )
        return Step([Reply(text), *self.current()])

    # -- the details of the form -----------------------------------------------------------

    def next_identity(self) -> list[Reply]:
        q = next_question(self.data["identity"], self.needs())
        if q is not None:
            return [self.view.question(q, self.data["identity"])]
        replies = [Reply(self._("Grazie. Ora i documenti."))]
        if self.desk.set_identity(self.dossier_id, self.data["identity"]):
            replies.append(self.view.form_reset())
        if self.data.get("stage") == "identity":
            self.data["stage"] = "documents"
            self.data["item"] = None
        return [*replies, self.checklist()]

    def text(self, text: str) -> Step:
        """A typed line: an identity answer, or a word that files are wanted here."""
        if self.data.get("stage") != "identity":
            return Step(
                [
                    Reply(
                        self._(
                            "Qui mi servono foto o PDF. Per vedere cosa manca scrivete /documenti."
                        )
                    )
                ]
            )
        identity = self.data["identity"]
        q = next_question(identity, self.needs())
        replies: list[Reply]
        if q is None or q.kind == "choice":
            replies = [Reply(self._("Per rispondere, toccate uno dei pulsanti qui sotto."))]
        else:
            birth = None
            if birth_date_for(q, identity):
                born = (self.dialog.get("answers") or {}).get("beneficiary.birth_date")
                birth = dt.date.fromisoformat(born) if born else None
            try:
                value = answer(q, text[:200], identity, birth_date=birth, today=self.clock())
            except AnswerError as err:
                replies = [Reply(self.view.refused_text(err.message))]
            else:
                replies = [Reply(f"✓ {esc(self.view.shown(q, value))}")]
        return Step(replies + self.next_identity())

    # -- buttons -------------------------------------------------------------------------

    async def press(self, button: CallbackData | None, user_id: int) -> Step:
        """A button of `dialogs.buttons` (None: data that is none of them)."""
        if isinstance(button, OpenRequest):
            return Step(self.start_integration(button.request, user_id))
        if isinstance(button, Prepare):
            return self.prepare(user_id, user_id)
        if button is None or self.stage is None:
            return Step([self.no_longer_valid()])
        try:
            return await self._press(button)
        except _NotNow:
            return Step([self.no_longer_valid(), self.checklist()])

    async def _press(self, button: CallbackData) -> Step:
        stage = self.data.get("stage")
        if stage == "identity":
            return Step(self._press_identity(button))
        if stage == "sent":
            if isinstance(button, Go) and button.step is Stage.COPY:
                return await self._copy_again()
            return Step([self.view.closed_for_changes()])
        statuses = self.statuses()
        if stage == "integration":
            return Step(self._press_integration(button, statuses))
        if isinstance(button, Item) and stage == "documents":
            s = _at(statuses, button.index)
            self.data["item"] = s.item.id
            return Step([self.view.send_now(s)])
        if isinstance(button, FileAs):
            item = _at(statuses, button.index).item
            self._assign(button.attachment, item.id)
            self.data["last_item"] = item.id
            statuses = self.statuses()
            return Step([self.view.filed(statuses[button.index], statuses, album=False)])
        if isinstance(button, Redo):
            if button.index is None:
                return Step([self.view.redo_menu(statuses)])
            s = _at(statuses, button.index)
            self.desk.take_back(self.dossier_id, s.item.id)
            if s.item.signed_form:
                self.data["stage"] = "signing"
            else:
                self.data["stage"] = "documents"
                self.data["item"] = s.item.id
            return Step(
                [Reply(self._("Cancellato. Mandate di nuovo i file.")), self.view.send_now(s)]
            )
        if not isinstance(button, Go):
            raise _NotNow
        return await self._go(button.step, statuses)

    async def _go(self, step: Stage, statuses: list[ItemStatus]) -> Step:
        if step is Stage.CHECKLIST:
            return Step([self.checklist()])
        if step is Stage.DETAILS:
            self.data["stage"] = "identity"
            self.data["identity"] = {}
            return Step([Reply(self._("Riscriviamo i dati del modulo.")), *self.next_identity()])
        if step not in (Stage.FORM, Stage.REVIEW, Stage.SEND, Stage.BUNDLE):
            raise _NotNow
        if step is not Stage.BUNDLE:
            closed = self._window_closed()
            if closed is not None:
                return Step([closed])
        if step is Stage.FORM:
            if missing(statuses):
                return Step([self.checklist()])
            return await self._form()
        if step is Stage.REVIEW:
            return Step([self._review(statuses)])
        return await self._finish(send=step is Stage.SEND)

    def _press_identity(self, button: CallbackData) -> list[Reply]:
        q = next_question(self.data["identity"], self.needs())
        if isinstance(button, Choose) and q is not None and q.kind == "choice":
            try:
                label = choose(q, self.data["identity"], button.option)
            except (IndexError, ValueError):
                label = None
            if label is not None:
                return [Reply(f"✓ {self._(label)}"), *self.next_identity()]
        if isinstance(button, Skip) and q is not None and q.optional:
            self.data["identity"][q.key] = ""
            return self.next_identity()
        return [self.no_longer_valid(), *self.next_identity()]

    def _press_integration(self, button: CallbackData, statuses: list[ItemStatus]) -> list[Reply]:
        asked = self._asked(statuses)
        wanted = self.data.get("asked") or []
        if isinstance(button, Item):
            s = _at(statuses, button.index)
            if s.item.id not in wanted:
                raise _NotNow
            self.data["item"] = s.item.id
            return [self.view.send_now(s)]
        if isinstance(button, FileAs):
            s = _at(statuses, button.index)
            if s.item.id not in wanted:
                raise _NotNow
            self._assign(button.attachment, s.item.id)
            statuses = self.statuses()
            others = [(i, o) for i, o in self._asked(statuses) if i != button.index]
            return [self.view.integration_filed(statuses[button.index], others)]
        if isinstance(button, Go) and button.step is Stage.REQUEST_DONE:
            if not any(s.files for _i, s in asked):
                return [self.view.integration_start(asked)]
            self.desk.answer_request(int(self.data["request"]), self.dossier_id)
            self.data["stage"] = "sent"
            return [Reply(self._("Grazie! Li passiamo ai servizi sociali."))]
        return [self.view.integration_start(asked)]

    def _assign(self, attachment_id: int, item_id: str) -> None:
        """File `attachment_id` (asked about) as `item_id`, with the rest of its album."""
        waiting: dict[str, Any] = self.data.get("ask") or {}
        if str(attachment_id) not in waiting:
            raise _NotNow
        album = waiting.pop(str(attachment_id))
        together = [attachment_id] + [
            int(other) for other, a in list(waiting.items()) if album and a == album
        ]
        for other in together:  # the rest of its album goes with it
            self.desk.assign(self.dossier_id, other, item_id)
            waiting.pop(str(other), None)
        self.data["ask"] = waiting
        if album and self.data.get("stage") != "integration":
            self.data.setdefault("albums", {})[album] = item_id

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

    # -- the form, the last check, the send ------------------------------------------------

    def _notice(self) -> dict[str, Any]:
        """The notice as the engine sees it today: its status, its deadline."""
        answers = self.dialog.get("answers") or {}
        return self._dialog().verdict(answers).get("notice") or {}

    def _window_closed(self) -> Reply | None:
        """The notice's window, checked again when the form is made and at the moment of
        sending (it may have closed while the family gathered the documents)."""
        notice = self._notice()
        if notice.get("status") in ("open", None):
            return None
        return self.view.window_closed(notice)

    def _review(self, statuses: list[ItemStatus]) -> Reply:
        return self.view.review(self.dossier_id, statuses, self.submission(), self.sendable())

    async def _form(self) -> Step:
        from dossier.form import application_form_pdf

        form = self.desk.form_data(self.dossier_id, self.clock())
        pdf = await asyncio.to_thread(application_form_pdf, form)
        pages = _pdf_pages(pdf)
        self.desk.set_form_pages(self.dossier_id, pages, hashlib.sha256(pdf).hexdigest())
        self.data["stage"] = "signing"
        self.data["item"] = "application_form"
        document = Document(f"domanda-{self.dossier_id}.pdf", pdf, self.view.form_caption())
        sign = self.view.sign_instructions(pages, form.all_declarations, form.bank is not None)
        return Step([sign], [document])

    async def _assemble(self) -> Any:
        from dossier.assemble import assemble

        now = moment(self.clock())  # one clock: the form's day, the manifest, the Date
        inputs = self.desk.assembly_inputs(
            self.dossier_id, now, self.settings.sportello_message_budget_mb
        )
        return await bounded.run_async(assemble, seconds=bounded.ASSEMBLY_SECONDS, **inputs)

    def _copy(self, built: Any, caption: str) -> list[Document]:
        """The family's copy: every file, then the manifest."""
        files = [
            Document(f.name, f.data, caption if i == 0 else "") for i, f in enumerate(built.files)
        ]
        manifest = built.manifest
        return [*files, Document(manifest.name, manifest.data, self.view.manifest_caption())]

    async def _finish(self, *, send: bool) -> Step:
        from dossier.assemble import TooLarge

        statuses = self.statuses()
        if missing(statuses, include_form=True) or (send and not self.sendable()):
            return Step([self._review(statuses)])
        try:
            built = await self._assemble()
        except TooLarge as exc:
            title = next((s.item.title for s in statuses if s.item.id == exc.item_id), "")
            return Step([self.view.too_large(title)])
        except bounded.Overrun as overrun:
            log.warning("assembly of %s over its limit: %s", self.dossier_id, overrun.why)
            return Step([self.view.too_heavy()])
        if send:
            self.desk.submit(self.dossier_id, built, self.settings)
            self.data["stage"] = "sent"
            replies = [self.view.queued()]
            caption = self._("La vostra copia.")
        else:
            replies = [self.view.bundle_directions(self.submission(), self._notice())]
            caption = ""
        return Step(replies, self._copy(built, caption), undelivered=self.view.copy_failed())

    async def _copy_again(self) -> Step:
        from dossier.assemble import TooLarge

        try:
            built = await self._assemble()
        except (TooLarge, bounded.Overrun):
            return Step([self.view.copy_failed()])
        documents = self._copy(built, self._("La vostra copia."))
        return Step(documents=documents, undelivered=self.view.copy_failed())

    # -- files -------------------------------------------------------------------------------

    def before_download(self, size: int | None, unique: str | None, user_id: int) -> Step | None:
        """What to say without downloading the file (too big, already here, not the moment
        for files); None: download it and call `upload`."""
        stage = self.stage
        if self.waiting_request(user_id):
            request = self.desk.open_request_for(user_id)
            replies = self.start_integration(request["id"] if request else 0, user_id)
            if self.data.get("stage") != "integration":
                return Step(replies)
            stage = "integration"
        if stage == "identity":
            text = self._("Prima finiamo i dati del modulo, poi vi chiedo i documenti.")
            return Step([Reply(text), *self.next_identity()])
        if stage == "sent":
            text = self._(
                "La domanda è già partita. Se il Comune vi chiede altri documenti, vi "
                "scriviamo noi."
            )
            return Step([Reply(text)])
        if stage not in GATHERING:
            return Step()  # not ours: no application here (the bot does not route it here)
        try:
            check_declared_size(size)
        except FileRefused as refusal:
            return Step([self.view.refused(refusal)])
        known = self.desk.known_upload(self.dossier_id, unique)
        if known is not None:
            return Step([self.view.duplicate(_status_of(self.statuses(), known["item_id"]))])
        return None

    async def upload(self, received: Received) -> Step:
        """A file, downloaded: checked, filed under the item it is for, or asked about."""
        album = received.album
        albums: dict[str, Any] = self.data.setdefault("albums", {})
        stage = self.data.get("stage")
        if stage == "signing":
            item_id: str | None = "application_form"
        elif stage == "integration":
            chosen = self.data.get("item")
            item_id = chosen if chosen in (self.data.get("asked") or []) else None
        elif album and album in albums:
            item_id = albums[album]  # None while the family is asked about this album
        else:
            item_id = self.data.get("item")
        options = self.desk.check_options(self.dossier_id, item_id)
        checked = await bounded_check_async(received.data, *options)
        filed = self.desk.file(
            self.dossier_id,
            received.data,
            item_id=item_id,
            file_unique_id=received.unique,
            checked=checked,
        )
        if filed.outcome == "refused":
            assert filed.refusal is not None
            return Step([self.view.refused(filed.refusal)])
        assert filed.attachment is not None
        statuses = filed.statuses
        if filed.outcome == "duplicate":
            return Step([self.view.duplicate(_status_of(statuses, filed.attachment["item_id"]))])
        if album:
            albums[album] = item_id
        if filed.outcome == "ask_item":
            return Step(self._ask_item(filed.attachment, statuses, album))
        s = _status_of(statuses, item_id)
        assert s is not None
        if stage == "integration":
            if s.item.id in (self.data.get("unreadable") or []):
                # the new copy replaces the one the social worker could not read
                self.desk.retire(self.dossier_id, s.item.id, before_id=self.data["first_new"])
                statuses = self.statuses()
                s = _status_of(statuses, item_id) or s
            others = [(i, o) for i, o in self._asked(statuses) if o.item.id != s.item.id]
            return Step([self.view.integration_filed(s, others)])
        if s.item.signed_form:
            pages = self.desk.form_pages(self.dossier_id)
            return Step([self.view.signed_progress(s, pages, self.sendable())])
        self.data["last_item"] = s.item.id
        if not album and (s.done or s.item.pages is None):
            # one file, one document: the next file without a tap is asked about, with
            # "another page of this" as its first answer
            self.data["item"] = None
        return Step([self.view.filed(s, statuses, album=bool(album) and not s.done)])

    def _ask_item(
        self, attachment: dict[str, Any], statuses: list[ItemStatus], album: str | None
    ) -> list[Reply]:
        """Which item a file sent without choosing is (once per album)."""
        asked = self.data.get("ask")
        if not isinstance(asked, dict):
            asked = {}
        first_of_album = not (album and album in asked.values())
        asked[str(attachment["id"])] = album
        self.data["ask"] = asked
        if not first_of_album:
            return []  # the question is already on screen for this album
        if album:
            self.data.setdefault("albums", {})[album] = None
        if self.data.get("stage") == "integration":
            reply = self.view.which_item(attachment["id"], statuses, attachment["pages"])
            allowed = {
                FileAs(attachment=attachment["id"], index=i).pack()
                for i, _s in self._asked(statuses)
            }
            reply.buttons = [row for row in reply.buttons if row[0].data in allowed]
            return [reply]
        return [
            self.view.which_item(
                attachment["id"], statuses, attachment["pages"], last=self.data.get("last_item")
            )
        ]


class _NotNow(Exception):
    """A button that does not fit the application as it is now."""


def _at(statuses: list[ItemStatus], index: int) -> ItemStatus:
    if not 0 <= index < len(statuses):
        raise _NotNow
    return statuses[index]


def _pdf_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _status_of(statuses: list[ItemStatus], item_id: str | None) -> ItemStatus | None:
    return next((s for s in statuses if s.item.id == item_id), None)
