"""The application, Telegram-free like `Dialog`: the details of the form, the files, the
form to sign, the last check, the send, and the documents the social services ask for.

It takes the state (the FSM data key `paper`, and the questionnaire's `dialog`) and an
event (a press of a `dialogs.buttons` button, a typed line, a file already downloaded)
and returns a `Step`: what to say, which documents to hand the family (the form to sign,
their copy), and what to say if those cannot be delivered. What it stores goes through
the desk (`dossier.desk`) and into `paper`, which the caller saves. The bot (`bot.paperwork`)
and the console (`bot.console`) only turn updates or typed lines into these events.

The state and the `Step` are in `dialogs.paper`; the files in `dialogs.uploading`; the
form, the last check and the send in `dialogs.sending`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from common.i18n import N_
from dossier.checklist import ItemStatus, can_prepare, can_send, missing
from dossier.record import record_of
from dossier.refusals import FileRefused
from dossier.uploads import UNASSIGNED

from .buttons import (
    Choose,
    Detail,
    Discard,
    DropLast,
    FileAs,
    Go,
    Item,
    Move,
    OpenRequest,
    Prepare,
    Redo,
    Same,
    SameHome,
    Skip,
    Stage,
    Unfile,
)
from .callbacks import CallbackData
from .flow import HINT, Dialog
from .formats import esc
from .identity import QUESTIONS as IDENTITY_QUESTIONS
from .identity import (
    SKIP_LABEL,
    IdentityQuestion,
    Needs,
    answer,
    birth_date_for,
    choose,
    next_question,
    options,
    same_home,
    unasked_dropped,
)
from .identity_words import short_forms
from .languages import untranslated
from .matching import NONE_WORDS, match_option, words
from .paper import Document, NotNow, Received, Step, at, status_of
from .parsing import AnswerError
from .replies import Reply
from .sending import Sending
from .signedpages import FORM
from .uploading import Uploading

__all__ = ["Application", "Document", "Received", "Step", "identity_draft"]

# an old button (🗑, 📨 Sì, invia, ✏️...) pressed after sending
SENT_BUTTON = N_(
    "La domanda è già stata inviata: questo pulsante non serve più. Per sapere a che punto "
    "è, scrivete /documenti."
)

# words that say the person lives where who signs does, typed at their address
SAME_WORDS = frozenset(("stesso", "stessa", "uguale", "medesimo", "medesima", "sopra"))


# typed at the signing step before every signed page is here ("ho firmato, adesso?")
SEND_SIGNED_PAGES = N_("Mandate qui le foto delle pagine firmate del modulo.")


def identity_draft(paper: dict[str, Any]) -> dict[str, Any]:
    """What is kept of the application's state when the family goes back to change an
    answer: the personal details typed so far for its dossier (asked again otherwise),
    under `draft`, without a `dossier` key, so no stage of the application is live."""
    if paper.get("dossier") and paper.get("identity"):
        return {"draft": {"dossier": paper["dossier"], "identity": dict(paper["identity"])}}
    return {"draft": paper["draft"]} if paper.get("draft") else {}


class Application(Uploading, Sending):
    """One event's worth of the application: state in, `Step` out."""

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
        identity = self.desk.identity(dossier_id).to_dict()  # asked by question key
        draft = self.data.get("draft") or {}
        if draft.get("dossier") == dossier_id:  # typed before going back to an answer
            identity = {**draft.get("identity", {}), **identity}
            unasked_dropped(identity, Needs.of(record_of(self.desk.get(dossier_id))))
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
        return [self.checklist(), *self.waiting_question()]

    def documents(self, user_id: int) -> Step:
        """/documenti: what is missing, or where to find the application."""
        if self.stage == "sent":
            return Step(
                [self.view.standing(self.desk.standing(self.dossier_id), receipts=self._receipts())]
            )
        if self.stage is not None:
            return Step(self.current())
        mine = self.desk.dossiers_of(user_id)
        drafts = [d for d in mine if d["status"] == "bozza"]
        if not drafts and mine:  # sent from a chat whose state is gone: where it stands
            return Step(
                [
                    self.view.standing(
                        self.desk.standing(mine[0]["id"]), copy=False, receipts=self._receipts()
                    )
                ]
            )
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

    def after_sending(self) -> Step:
        """Text typed once the application went ("grazie"): a kind word and where it is."""
        st = self.desk.standing(self.dossier_id)
        return Step([self.view.acknowledged(st, receipts=self._receipts())])

    def _receipts(self) -> bool:
        """PEC receipts are read here (IMAP configured): the family hears of delivery."""
        return bool(getattr(self.settings, "imap_host", None))

    def where(self) -> Step:
        """/start or /aiuto while preparing the application."""
        if self.data.get("stage") == "sent":
            return Step(
                [self.view.standing(self.desk.standing(self.dossier_id), receipts=self._receipts())]
            )
        return Step([self.view.help(self.data.get("stage", "")), *self.current()])

    def back(self) -> Step:
        """/indietro: the previous identity question, or a word on where we are."""
        if self.data.get("stage") == "identity" and self.data.get("editing"):
            return Step(self.leave_as_it_was())
        if self.data.get("stage") == "identity":
            identity = self.data["identity"]
            answered = [q.key for q in IDENTITY_QUESTIONS if q.key in identity]
            if answered:  # asked again, showing what was written (↩️ keeps it)
                self.data.setdefault("back", {})[answered[-1]] = identity.pop(answered[-1])
            return Step(self.next_identity())
        text = self._(
            "Siamo ai documenti. Per cambiare una risposta scrivete /riepilogo; i file "
            "mandati restano."
        )
        return Step([Reply(text), *self.current()])

    # -- the details of the form -----------------------------------------------------------

    def text(self, text: str, choices: Sequence[tuple[str, str]] = ()) -> Step:
        """A typed line: an identity answer, or what the step it was typed at needs
        (`choices`: the live buttons it fits two or more of, asked which one)."""
        if self.data.get("stage") != "identity":
            return Step(self._typed_elsewhere(text, choices))
        identity = self.data["identity"]
        q = next_question(identity, self.needs())
        replies: list[Reply]
        if q is not None and q.kind == "choice":
            return self._typed_choice(q, text)
        if q is None:
            replies = [Reply(self._("Per rispondere, toccate uno dei pulsanti qui sotto."))]
        elif q.key in (self.data.get("back") or {}) and words(text) in (
            words("↩️ Va bene così"),
            words(self._("↩️ Va bene così")),
        ):  # «va bene così» typed under a detail /indietro asked again: as ↩️
            return Step(self._press_identity(Go(step=Stage.KEEP)))
        elif q.optional and self._says_none(text):  # "non ce l'ho", "no": as «Avanti»
            return Step(self._press_identity(Skip()))
        elif (
            q.key == "beneficiary.address"
            and set(words(text)) & SAME_WORDS
            and same_home(identity, self.home()) is not None
        ):  # "lo stesso", "uguale", "come sopra": as «🏠 Lo stesso di chi firma»
            return Step(self._press_identity(SameHome()))
        else:
            birth = None
            if birth_date_for(q, identity):
                born = (self.dialog.get("answers") or {}).get("beneficiary.birth_date")
                birth = dt.date.fromisoformat(born) if born else None
            home = self.home()
            try:
                value = answer(
                    q, text[:200], identity, birth_date=birth, today=self.clock(), home=home
                )
            except AnswerError as err:
                replies = [Reply(self.view.refused_text(err.message, err.params))]
            else:
                replies = [Reply(f"✓ {esc(self.view.shown(q, value))}")]
        return Step(replies + self.next_identity())

    def _says_none(self, text: str) -> bool:
        """A detail that may be left out, answered "I have none" in words: «Non ce l'ho ·
        Avanti» typed, "non ho la mail", "no", "nessuna", "avanti"."""
        if "@" in text:
            return False
        said = words(text)
        label = words(self._(SKIP_LABEL)) + words(SKIP_LABEL)
        none = {*NONE_WORDS, "non", "avanti", "salta", "skip", *words(self._("No"))}
        return bool(said) and (set(said) <= set(label) or said[0] in none)

    def _typed_choice(self, q: IdentityQuestion, text: str) -> Step:
        """A button's answer typed ("io per me stesso", "cointestato con mia moglie"): as
        its button. Refused, the question again; refused again, a short word and its
        buttons stay."""
        identity = self.data["identity"]
        forms = [
            (self._(label), label, *short_forms(q.key, value, identity))
            for value, label in options(q, identity)
        ]
        index = match_option(text[:200], forms, yes=[self._("Sì")], no=[self._("No")])
        if index is not None:
            self.data.pop("refused", None)
            return Step(self._press_identity(Choose(option=index)))
        if self.data.get("refused") == q.key:
            return Step([Reply(esc(self._(HINT)))], still_asking=True)
        self.data["refused"] = q.key
        text = self._("Per rispondere, toccate uno dei pulsanti qui sotto.")
        return Step([Reply(text), *self.next_identity()])

    def _typed_elsewhere(self, text: str, choices: Sequence[tuple[str, str]]) -> list[Reply]:
        """Text typed at the documents, the signing or the last check that is no button:
        an answer that fits the step (which of two buttons; a document named; how to go
        on from here), never "send files" once every file is here."""
        stage = self.data.get("stage")
        if len(choices) > 1:
            return [self.view.which_one(choices)]
        if stage == "documents":
            agreed = ("✅ Va bene così", self._("✅ Va bene così"), "ok", "fatto", "avanti")
            if match_option(text, [agreed]) == 0:
                return [self.checklist()]  # «Va bene così» typed at the summary
        statuses = self.statuses()
        if stage == "documents":
            named = self._named_item(text, statuses)
            if named is not None:  # a document named with no live button for it
                self.data["item"] = named.item.id
                return [self.view.send_now(named)]
            if not missing(statuses):
                return [self.view.all_documents_in(statuses)]
        if stage == "signing":
            form = status_of(statuses, FORM)
            if form is not None and form.done and not missing(statuses):
                return [self.view.how_to_send(self._review(statuses), self.sendable())]
            if form is not None:
                return self._told(None, [esc(self._(SEND_SIGNED_PAGES))]).replies
        return [
            Reply(self._("Qui mi servono foto o PDF. Per vedere cosa manca scrivete /documenti."))
        ]

    def _named_item(self, text: str, statuses: list[ItemStatus]) -> ItemStatus | None:
        """The document (not done yet, not ours to fill) whose title `text` names."""
        open_items = [
            s for s in statuses if not s.done and not s.item.signed_form and not s.item.in_form
        ]
        titles = [[s.item.title, self._(s.item.title)] for s in open_items]
        index = match_option(text, titles) if titles else None
        return None if index is None else open_items[index]

    # -- buttons -------------------------------------------------------------------------

    async def press(self, button: CallbackData | None, user_id: int, typed: bool = False) -> Step:
        """A button of `dialogs.buttons` (None: data that is none of them); `typed`: its
        label was typed, not tapped (`bot.typed_press`)."""
        self.typed = typed
        if isinstance(button, OpenRequest):
            return Step(self.start_integration(button.request, user_id))
        if isinstance(button, Prepare):
            return self.prepare(user_id, user_id)
        if button is None or self.stage is None:
            return Step([self.no_longer_valid()])
        try:
            return await self._press(button)
        except NotNow:
            return Step([self.no_longer_valid(), self.checklist()])

    async def _press(self, button: CallbackData) -> Step:
        stage = self.data.get("stage")
        if stage == "identity":
            return Step(self._press_identity(button))
        if stage == "sent":
            if isinstance(button, Go) and button.step is Stage.COPY:
                return await self._copy_again()
            if isinstance(button, (Item, FileAs)):  # a file for a document: none is taken
                return Step([self.view.closed_for_changes()])
            return Step([Reply(esc(self._(SENT_BUTTON)))])
        if isinstance(button, Detail) and stage in ("documents", "signing"):
            return Step(self.edit(button.index))
        statuses = self.statuses()
        if stage == "integration":
            return self._press_integration(button, statuses)
        if isinstance(button, Item) and stage == "documents":
            s = at(statuses, button.index)
            self.data["item"] = s.item.id
            return Step([self.view.send_now(s)])
        if isinstance(button, FileAs):
            item = at(statuses, button.index).item
            if item.signed_form:  # its pages come through their QR code, never a choice
                raise NotNow
            together, album = self._together(button.attachment)
            before = at(statuses, button.index).pages
            refused = self._assign(button.attachment, item.id)
            if refused is not None:  # still asked about: another document may take it
                return Step([self.view.refused(refused)], still_asking=True)
            self.data["last_item"] = item.id
            statuses = self.statuses()
            s = statuses[button.index]
            if not self.typed:
                return Step([self.view.filed(s, statuses, album=False)])
            # a word typed while the question was open: it may have been meant for the
            # next file, so where this one went is said, with a way to take it back
            pages = max(s.pages - before, 1)
            self.data["unfile"] = {
                "first": button.attachment,
                "ids": together,
                "item": item.id,
                "album": album,
                "pages": pages,
            }
            return Step([self.view.filed_by_word(s, statuses, pages, button.attachment)])
        if isinstance(button, Unfile) and stage == "documents":
            return Step([self._unfile(button.attachment)])
        if isinstance(button, Move) and stage == "documents":
            target = at(statuses, button.index)
            if target.item.signed_form:
                raise NotNow
            # a photo of an album sent again: the whole album moves (`dup_groups`)
            group = self._sent_together(button.attachment)
            refused = self.desk.too_heavy_to_file(
                self.dossier_id, group, target.item.id, self._budget_mb()
            )
            if refused is not None:
                return Step([self.view.refused(refused)])
            if not self.desk.move_together(self.dossier_id, group, target.item.id):
                raise NotNow
            self.data["last_item"] = target.item.id
            statuses = self.statuses()
            return Step([self.view.moved(statuses[button.index], statuses)])
        if isinstance(button, Discard):
            self._discard(button.attachment)
            return Step([self.view.discarded()])
        if isinstance(button, DropLast) and stage == "documents":
            s = at(statuses, button.index)
            if s.item.signed_form or s.last is None:
                raise NotNow
            if (s.last, s.last_digest) != (button.attachment, button.digest):
                raise NotNow  # an old button: its page is gone or no longer the last
            self.desk.discard(self.dossier_id, s.last)
            self.data["item"] = s.item.id  # the next file is the page sent again
            statuses = self.statuses()
            return Step([self.view.dropped(statuses[button.index], statuses)])
        if isinstance(button, Same) and stage == "documents":
            target = at(statuses, button.index)
            if target.item.signed_form or not self.desk.link(
                self.dossier_id, button.attachment, target.item.id
            ):
                raise NotNow
            self.data["last_item"] = target.item.id
            self.data["item"] = None
            statuses = self.statuses()
            return Step([self.view.linked(statuses[button.index], statuses)])
        if isinstance(button, Redo):
            if button.index is None:
                return Step([self.view.redo_menu(statuses)])
            s = at(statuses, button.index)
            if not s.files:  # the menu offers only what was sent
                raise NotNow
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
            raise NotNow
        return await self._go(button.step, statuses)

    async def _go(self, step: Stage, statuses: list[ItemStatus]) -> Step:
        if step is Stage.CHECKLIST:
            return Step([self.checklist()])
        if step is Stage.DETAILS:
            return Step([self.details()])
        if step not in (Stage.FORM, Stage.REVIEW, Stage.SEND, Stage.BUNDLE):
            raise NotNow
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
            except AnswerError as err:  # the carer who is not family: who signs instead
                return [Reply(esc(self._(err.message))), *self.next_identity()]
            except (IndexError, ValueError):
                label = None
            if label is not None:
                return [Reply(f"✓ {self._(label)}"), *self.next_identity()]
        if isinstance(button, Skip) and q is not None and q.optional:
            self.data["identity"][q.key] = ""
            return self.next_identity()
        if isinstance(button, SameHome) and q is not None and q.key == "beneficiary.address":
            same = same_home(self.data["identity"], self.home())
            if same is not None:
                identity = self.data["identity"]
                identity["beneficiary.address"], identity["beneficiary.postcode"] = same
                return [Reply(f"✓ {esc(same[0])}, {same[1]}"), *self.next_identity()]
        if isinstance(button, Go) and button.step is Stage.DETAILS and self.data.get("editing"):
            return self.leave_as_it_was()
        written = (self.data.get("back") or {}).get(q.key) if q is not None else None
        if isinstance(button, Go) and button.step is Stage.KEEP and written is not None:
            self.data["identity"][q.key] = written  # type: ignore[union-attr]
            return self.next_identity()
        return [self.no_longer_valid(), *self.next_identity()]

    def _press_integration(self, button: CallbackData, statuses: list[ItemStatus]) -> Step:
        asked = self._asked(statuses)
        wanted = self.data.get("asked") or []
        if isinstance(button, Item):
            s = at(statuses, button.index)
            if s.item.id not in wanted:
                raise NotNow
            self.data["item"] = s.item.id
            return Step([self.view.send_now(s)])
        if isinstance(button, FileAs):
            s = at(statuses, button.index)
            if s.item.id not in wanted:
                raise NotNow
            refused = self._assign(button.attachment, s.item.id)
            if refused is not None:
                return Step([self.view.refused(refused)], still_asking=True)
            statuses = self.statuses()
            others = [(i, o) for i, o in self._asked(statuses) if i != button.index]
            return Step([self.view.integration_filed(statuses[button.index], others)])
        if isinstance(button, Go) and button.step is Stage.REQUEST_DONE:
            if not any(s.files for _i, s in asked):
                return Step([self.view.integration_start(asked)])
            self.desk.answer_request(int(self.data["request"]), self.dossier_id)
            self.data["stage"] = "sent"
            return Step([Reply(self._("Grazie! Li passiamo ai servizi sociali."))])
        return Step([self.view.integration_start(asked)])

    def _budget_mb(self) -> float:
        return float(self.settings.sportello_message_budget_mb)

    def _discard(self, attachment_id: int) -> None:
        """Throw away a file asked about (not for the application), with its album."""
        waiting: dict[str, Any] = self.data.get("ask") or {}
        if str(attachment_id) not in waiting:
            raise NotNow
        album = waiting.pop(str(attachment_id))
        together = [attachment_id] + [
            int(other) for other, a in list(waiting.items()) if album and a == album
        ]
        for other in together:
            self.desk.discard(self.dossier_id, other)
            waiting.pop(str(other), None)
        self.data["ask"] = waiting

    def _together(self, attachment_id: int) -> tuple[list[int], str | None]:
        """A file asked about and the rest of its album (asked about with it); its album."""
        waiting: dict[str, Any] = self.data.get("ask") or {}
        if str(attachment_id) not in waiting:
            raise NotNow
        album = waiting[str(attachment_id)]
        together = [attachment_id] + [
            int(other)
            for other, a in list(waiting.items())
            if album and a == album and int(other) != attachment_id
        ]
        return together, album

    def _sent_together(self, attachment_id: int) -> list[int]:
        """A file known again (sent a second time) and the others of the album it came
        back in: moved together."""
        for ids in (self.data.get("dup_groups") or {}).values():
            if attachment_id in ids:
                return [attachment_id, *(i for i in ids if i != attachment_id)]
        return [attachment_id]

    def _unfile(self, first: int) -> Reply:
        """«Non era per questo»: the file (with its album) filed by a typed word is asked
        about again, as it was."""
        undo = self.data.get("unfile") or {}
        if undo.get("first") != first:
            raise NotNow  # only the last one filed by a word
        moved = self.desk.move_together(
            self.dossier_id, list(undo["ids"]), UNASSIGNED, from_item=undo["item"]
        )
        if not moved:
            raise NotNow
        self.data.pop("unfile")
        album = undo.get("album")
        waiting: dict[str, Any] = self.data.get("ask") or {}
        for i in moved:
            waiting[str(i)] = album
        self.data["ask"] = waiting
        if album:
            self.data.setdefault("albums", {})[album] = None
        question = self.view.which_item(
            moved[0], self.statuses(), int(undo.get("pages") or 1), last=None
        )
        question.slot = f"which-{album}" if album else ""
        return question

    def _assign(self, attachment_id: int, item_id: str) -> FileRefused | None:
        """File `attachment_id` (asked about) as `item_id`, with the rest of its album; or,
        if that would make the document too big for one PEC message, nothing, and why."""
        waiting: dict[str, Any] = self.data.get("ask") or {}
        together, album = self._together(attachment_id)
        refused = self.desk.too_heavy_to_file(self.dossier_id, together, item_id, self._budget_mb())
        if refused is not None:
            return refused
        for other in together:  # the rest of its album goes with it
            self.desk.assign(self.dossier_id, other, item_id)
            waiting.pop(str(other), None)
        self.data["ask"] = waiting
        if album and self.data.get("stage") != "integration":
            self.data.setdefault("albums", {})[album] = item_id
        return None
