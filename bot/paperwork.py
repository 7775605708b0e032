"""Preparing the application on Telegram: identity questions, uploads, the form to sign,
the last check, and sending. The texts live in `dialogs.paperwork`; the files and the
dossier in `dossier.desk`; this module downloads, keeps state and sends.

State: the FSM data key `paper` holds {dossier, stage, item, ask, albums}; stages are
identity, documents, signing, sent. The questionnaire's state (`dialog`) is untouched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n

from dialogs.flow import Dialog, Reply
from dialogs.identity import QUESTIONS as IDENTITY_QUESTIONS
from dialogs.identity import ROLES, next_question, parse
from dialogs.paperwork import PaperworkView
from dialogs.parsing import AnswerError
from dossier.checklist import ItemStatus, can_prepare, can_send, missing
from dossier.desk import Desk, check
from dossier.files import FileRefused, check_declared_size
from eligibility import Catalogue

from .filters import data_is, data_starts, has_file, plain_text
from .handlers import keyboard

log = logging.getLogger(__name__)
Clock = Callable[[], dt.date]


class Paper:
    """One update's worth of paperwork: state, view, desk."""

    def __init__(self, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock):
        self.fsm = state
        self.desk = desk
        self.clock = clock
        locale = i18n.current_locale

        def gettext(message: str) -> str:
            return i18n.gettext(message, locale=locale) if message else message

        self._ = gettext
        self.locale = locale
        self.view = PaperworkView(gettext, locale)
        self.data: dict[str, Any] = {}
        self.dialog: dict[str, Any] = {}

    async def load(self) -> dict[str, Any]:
        stored = await self.fsm.get_data()
        self.dialog = dict(stored.get("dialog") or {})
        self.data = dict(stored.get("paper") or {})
        return self.data

    async def save(self) -> None:
        await self.fsm.update_data(paper=self.data)

    @property
    def dossier_id(self) -> str:
        return self.data["dossier"]

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


async def say(bot: Bot, chat_id: int, replies: list[Reply]) -> None:
    for reply in replies:
        await bot.send_message(chat_id, reply.text, reply_markup=keyboard(reply))


def in_paperwork(*stages: str) -> Callable[..., Any]:
    """A filter: the chat is preparing an application, in one of `stages`."""

    async def check(_event: Any, paper_stage: str | None = None) -> bool:
        return paper_stage is not None and (not stages or paper_stage in stages)

    return check


async def read_paper_stage(
    handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], event: Any, data: dict[str, Any]
) -> Any:
    """Read the application's stage once per update, for every filter of this router."""
    state: FSMContext | None = data.get("state")
    paper = ((await state.get_data()).get("paper") or {}) if state is not None else {}
    data["paper_stage"] = paper.get("stage") if paper.get("dossier") else None
    return await handler(event, data)


async def waiting_for_integration(
    message: Message, desk: Desk, paper_stage: str | None = None
) -> bool:
    """No application in progress in this chat, and the social services asked for more."""
    if paper_stage not in (None, "sent") or message.from_user is None:
        return False
    return desk.open_request_for(message.from_user.id) is not None


def paperwork_router() -> Router:
    router = Router(name="paperwork")
    router.message.outer_middleware(read_paper_stage)
    router.callback_query.outer_middleware(read_paper_stage)

    # -- starting ---------------------------------------------------------------------

    @router.callback_query(data_is("prep"))
    async def prepare(
        callback: CallbackQuery,
        state: FSMContext,
        desk: Desk,
        i18n: I18n,
        clock: Clock,
        catalogue: Catalogue,
        **_: Any,
    ) -> None:
        await callback.answer()
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        chat_id = callback.from_user.id
        answers = paper.dialog.get("answers") or {}
        dialog = Dialog(catalogue, clock(), paper._, paper.locale)
        verdict = dialog.verdict(answers) if answers else {}
        if paper.dialog.get("stage") != "result" or not can_prepare(verdict):
            await say(
                callback.bot,
                chat_id,
                [Reply(paper._("Questo pulsante non vale più.")), *dialog.ask(paper.dialog)],
            )
            return
        sent = desk.already_sent(callback.from_user.id, verdict["notice"]["id"])
        if sent is not None:
            await say(callback.bot, chat_id, [paper.view.already_sent(sent)])
            return
        dossier_id = desk.open(
            user_id=callback.from_user.id,
            chat_id=chat_id,
            language=paper.locale,
            answers=answers,
            verdict=verdict,
        )
        identity = desk.get(dossier_id)["data"].get("identity") or {}
        paper.data = {
            "dossier": dossier_id,
            "stage": "identity",
            "identity": identity,
            "sendable": can_send(verdict),
            "albums": {},
        }
        replies = [paper.view.intro(dossier_id, can_send(verdict), verdict["submission"] or {})]
        if desk.form_reset:
            replies.append(paper.view.form_reset())
        replies += _next_identity(paper)
        await paper.save()
        await say(callback.bot, chat_id, replies)

    @router.message(Command("documenti"))
    async def documents(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        if not paper.data.get("dossier"):
            drafts = [d for d in desk.dossiers_of(message.from_user.id) if d["status"] == "bozza"]
            if drafts:
                text = paper._(
                    "La domanda {id} è in preparazione e i file sono salvati. Finite le "
                    "domande: dal risultato toccate «Prepara la domanda» per riprenderla."
                ).format(id=drafts[0]["id"])
            else:
                text = paper._(
                    "Non state ancora preparando una domanda. Rispondete alle domande: se "
                    "potete fare domanda, alla fine trovate il pulsante."
                )
            await message.answer(html.escape(text, quote=False))
            return
        await say(message.bot, message.chat.id, _current_step(paper))

    @router.message(Command("start", "aiuto"), in_paperwork())
    async def where_am_i(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        replies = [paper.view.help(paper.data.get("stage", ""))]
        replies += _current_step(paper)
        await paper.save()
        await say(message.bot, message.chat.id, replies)

    @router.message(Command("indietro"), in_paperwork("identity"))
    async def identity_back(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        identity = paper.data["identity"]
        answered = [q.key for q in IDENTITY_QUESTIONS if q.key in identity]
        if answered:
            identity.pop(answered[-1])
        await paper.save()
        await say(message.bot, message.chat.id, _next_identity(paper))

    @router.message(Command("indietro"), in_paperwork("documents", "signing", "sent"))
    async def documents_back(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        text = paper._(
            "Siamo ai documenti. Per cambiare una risposta scrivete /riepilogo; i file "
            "mandati restano."
        )
        await say(message.bot, message.chat.id, [Reply(text), *_current_step(paper)])

    # -- identity ---------------------------------------------------------------------

    @router.message(plain_text, in_paperwork("identity"))
    async def identity_text(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        q = next_question(paper.data["identity"])
        replies: list[Reply] = []
        if q is None or q.kind == "choice":
            replies = [Reply(paper._("Per rispondere, toccate uno dei pulsanti qui sotto."))]
        else:
            birth = None
            if q.key == "beneficiary.tax_code" or (
                q.key == "applicant.tax_code" and paper.data["identity"].get("role") == "self"
            ):
                born = (paper.dialog.get("answers") or {}).get("beneficiary.birth_date")
                birth = dt.date.fromisoformat(born) if born else None
            try:
                value = parse(q, (message.text or "")[:200], birth)
            except AnswerError as err:
                replies = [Reply(paper.view.refused_text(err.message))]
            else:
                paper.data["identity"][q.key] = value
                replies = [Reply(f"✓ {html.escape(value, quote=False)}")]
        replies += _next_identity(paper)
        await paper.save()
        await say(message.bot, message.chat.id, replies)

    # -- buttons ----------------------------------------------------------------------

    @router.callback_query(data_starts("p:"))
    async def button(
        callback: CallbackQuery,
        state: FSMContext,
        desk: Desk,
        i18n: I18n,
        clock: Clock,
        settings: Any,
        catalogue: Catalogue,
        **_: Any,
    ) -> None:
        await callback.answer()
        paper = Paper(state, desk, i18n, clock)
        paper.catalogue = catalogue
        await paper.load()
        chat_id = callback.from_user.id
        parts = (callback.data or "").split(":")
        if parts[1:2] == ["int"]:
            replies = _start_integration(paper, _int(parts, 2), callback.from_user.id)
            await paper.save()
            await say(callback.bot, chat_id, replies)
            return
        if not paper.data.get("dossier"):
            await say(callback.bot, chat_id, [Reply(paper._("Questo pulsante non vale più."))])
            return
        try:
            replies = await _press(paper, parts, callback, settings)
        except (ValueError, IndexError, KeyError):
            replies = [Reply(paper._("Questo pulsante non vale più.")), paper.checklist()]
        await paper.save()
        await say(callback.bot, chat_id, replies)

    # -- uploads ----------------------------------------------------------------------

    @router.message(has_file, in_paperwork("documents", "signing", "integration"))
    async def upload(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        replies = await _upload(paper, message)
        await paper.save()
        await say(message.bot, message.chat.id, replies)

    @router.message(has_file, in_paperwork("identity"))
    async def upload_too_early(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        text = paper._("Prima finiamo i dati del modulo, poi vi chiedo i documenti.")
        await say(message.bot, message.chat.id, [Reply(text), *_next_identity(paper)])

    @router.message(has_file, waiting_for_integration)
    async def upload_for_integration(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        """The social services asked for more and the family simply sends it."""
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        request = desk.open_request_for(message.from_user.id)
        replies = _start_integration(paper, request["id"] if request else 0, message.from_user.id)
        if paper.data.get("stage") == "integration":
            replies = await _upload(paper, message)
        await paper.save()
        await say(message.bot, message.chat.id, replies)

    @router.message(has_file, in_paperwork("sent"))
    async def upload_after_sending(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        text = paper._(
            "La domanda è già partita. Se il Comune vi chiede altri documenti, vi scriviamo noi."
        )
        await message.answer(text)

    @router.message(plain_text, in_paperwork("documents", "signing"))
    async def text_while_gathering(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        text = paper._("Qui mi servono foto o PDF. Per vedere cosa manca scrivete /documenti.")
        await say(message.bot, message.chat.id, [Reply(text)])

    return router


def _current_step(paper: Paper) -> list[Reply]:
    """What the family is asked now: an identity question, the requested documents, or
    the checklist."""
    if paper.data.get("stage") == "identity":
        return _next_identity(paper)
    if paper.data.get("stage") == "integration":
        return [paper.view.integration_start(_asked(paper, paper.statuses()))]
    return [paper.checklist()]


def _int(parts: list[str], at: int) -> int:
    try:
        return int(parts[at])
    except (IndexError, ValueError):
        return 0


def _asked(paper: Paper, statuses: list[ItemStatus]) -> list[tuple[int, ItemStatus]]:
    """The items the social services asked for, with their index in the checklist."""
    wanted = set(paper.data.get("asked") or [])
    return [(i, s) for i, s in enumerate(statuses) if s.item.id in wanted]


def _start_integration(paper: Paper, request_id: int, user_id: int) -> list[Reply]:
    """Open the request's dossier in this chat, to receive the documents asked for."""
    request = paper.desk.integration_request(request_id) if request_id else None
    if request is None or paper.desk.get(request["dossier_id"])["user_id"] != user_id:
        return [Reply(paper._("Questo pulsante non vale più."))]
    asked = [str(i).partition(":")[0] for i in request["items"]]
    paper.data = {
        "dossier": request["dossier_id"],
        "stage": "integration",
        "request": request["id"],
        "asked": asked,
        "item": asked[0] if len(asked) == 1 else None,
        "albums": {},
        "sendable": paper.data.get("sendable", True),
    }
    return [paper.view.integration_start(_asked(paper, paper.statuses()))]


def _next_identity(paper: Paper) -> list[Reply]:
    q = next_question(paper.data["identity"])
    if q is not None:
        return [paper.view.question(q)]
    replies = [Reply(paper._("Grazie. Ora i documenti."))]
    if paper.desk.set_identity(paper.dossier_id, paper.data["identity"]):
        replies.append(paper.view.form_reset())
    if paper.data.get("stage") == "identity":
        paper.data["stage"] = "documents"
        paper.data["item"] = None
    return [*replies, paper.checklist()]


def _index(parts: list[str], at: int, size: int) -> int:
    """A list index from button data; a forged one (negative, too big, not a number)
    raises, and the press only shows the checklist again."""
    value = int(parts[at])
    if not 0 <= value < size:
        raise IndexError(value)
    return value


def _notice(paper: Paper) -> dict[str, Any]:
    """The notice as the engine sees it today: its status, its deadline."""
    answers = paper.dialog.get("answers") or {}
    dialog = Dialog(paper.catalogue, paper.clock(), paper._, paper.locale)
    return dialog.verdict(answers).get("notice") or {}


def _window_closed(paper: Paper) -> Reply | None:
    """The notice's window, checked again at the moment of sending (it may have closed
    while the family gathered the documents)."""
    notice = _notice(paper)
    if notice.get("status") in ("open", None):
        return None
    return paper.view.window_closed(notice)


async def _press(
    paper: Paper, parts: list[str], callback: CallbackQuery, settings: Any
) -> list[Reply]:
    _ = paper._
    stage = paper.data.get("stage")
    action = parts[1]
    if stage == "identity":
        q = next_question(paper.data["identity"])
        if action == "role" and q is not None and q.kind == "choice":
            value, label = ROLES[int(parts[2])]
            paper.data["identity"]["role"] = value
            return [Reply(f"✓ {_(label)}"), *_next_identity(paper)]
        if action == "skip" and q is not None and q.optional:
            paper.data["identity"][q.key] = ""
            return _next_identity(paper)
        return [Reply(_("Questo pulsante non vale più.")), *_next_identity(paper)]
    if stage == "sent":
        return [paper.view.closed_for_changes()]
    statuses = paper.statuses()
    if stage == "integration":
        return _press_integration(paper, action, parts, statuses)
    if action == "list":
        return [paper.checklist()]
    if action == "ident":
        paper.data["stage"] = "identity"
        paper.data["identity"] = {}
        return [Reply(_("Riscriviamo i dati del modulo.")), *_next_identity(paper)]
    if action == "item" and stage == "documents":
        s = statuses[_index(parts, 2, len(statuses))]
        paper.data["item"] = s.item.id
        return [paper.view.send_now(s)]
    if action == "as":
        attachment_id, index = int(parts[2]), _index(parts, 3, len(statuses))
        item = statuses[index].item
        asked: dict[str, Any] = paper.data.get("ask") or {}
        if str(attachment_id) not in asked:
            raise ValueError("not waiting for this file")
        album = asked.pop(str(attachment_id))
        together = [attachment_id] + [
            int(other) for other, a in list(asked.items()) if album and a == album
        ]
        for other in together:  # the rest of its album goes with it
            paper.desk.assign(paper.dossier_id, other, item.id)
            asked.pop(str(other), None)
        paper.data["ask"] = asked
        paper.data["last_item"] = item.id
        if album:
            paper.data.setdefault("albums", {})[album] = item.id
        statuses = paper.statuses()
        return [paper.view.filed(statuses[index], statuses, album=False)]
    if action == "redo":
        if len(parts) == 2:
            return [paper.view.redo_menu(statuses)]
        s = statuses[_index(parts, 2, len(statuses))]
        paper.desk.take_back(paper.dossier_id, s.item.id)
        if s.item.signed_form:
            paper.data["stage"] = "signing"
        else:
            paper.data["stage"] = "documents"
            paper.data["item"] = s.item.id
        return [Reply(_("Cancellato. Mandate di nuovo i file.")), paper.view.send_now(s)]
    if action in ("form", "review", "send"):
        closed = _window_closed(paper)
        if closed is not None:
            return [closed]
    if action == "form":
        if missing(statuses):
            return [paper.checklist()]
        return await _send_form(paper, callback)
    if action == "review":
        return [paper.view.review(paper.dossier_id, statuses, paper.submission(), paper.sendable())]
    if action in ("send", "bundle"):
        return await _finish(paper, callback, settings, send=action == "send")
    return [Reply(_("Questo pulsante non vale più.")), paper.checklist()]


def _press_integration(
    paper: Paper, action: str, parts: list[str], statuses: list[ItemStatus]
) -> list[Reply]:
    asked = _asked(paper, statuses)
    if action == "item":
        index = _index(parts, 2, len(statuses))
        if statuses[index].item.id not in (paper.data.get("asked") or []):
            raise ValueError("not asked")
        paper.data["item"] = statuses[index].item.id
        return [paper.view.send_now(statuses[index])]
    if action == "as":
        attachment_id, index = int(parts[2]), _index(parts, 3, len(statuses))
        if statuses[index].item.id not in (paper.data.get("asked") or []):
            raise ValueError("not asked")
        waiting: dict[str, Any] = paper.data.get("ask") or {}
        if str(attachment_id) not in waiting:
            raise ValueError("not waiting for this file")
        album = waiting.pop(str(attachment_id))
        for other in [attachment_id] + [
            int(k) for k, a in list(waiting.items()) if album and a == album
        ]:
            paper.desk.assign(paper.dossier_id, other, statuses[index].item.id)
            waiting.pop(str(other), None)
        paper.data["ask"] = waiting
        statuses = paper.statuses()
        others = [(i, s) for i, s in _asked(paper, statuses) if i != index]
        return [paper.view.integration_filed(statuses[index], others)]
    if action == "intdone":
        if not any(s.files for _i, s in asked):
            return [paper.view.integration_start(asked)]
        paper.desk.answer_request(int(paper.data["request"]), paper.dossier_id)
        paper.data["stage"] = "sent"
        return [Reply(paper._("Grazie! Li passiamo ai servizi sociali."))]
    return [paper.view.integration_start(asked)]


async def _send_form(paper: Paper, callback: CallbackQuery) -> list[Reply]:
    from dossier.form import application_form_pdf

    form = paper.desk.form_data(paper.dossier_id, paper.clock())
    pdf = await asyncio.to_thread(application_form_pdf, form)
    pages = _pdf_pages(pdf)
    paper.desk.set_form_pages(paper.dossier_id, pages, hashlib.sha256(pdf).hexdigest())
    paper.data["stage"] = "signing"
    paper.data["item"] = "application_form"
    await callback.bot.send_document(
        callback.from_user.id,
        BufferedInputFile(pdf, filename=f"domanda-{paper.dossier_id}.pdf"),
        caption=paper.view.form_caption(),
    )
    return [paper.view.sign_instructions(pages)]


def _pdf_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


async def _finish(
    paper: Paper, callback: CallbackQuery, settings: Any, *, send: bool
) -> list[Reply]:
    _ = paper._
    statuses = paper.statuses()
    if missing(statuses, include_form=True) or (send and not paper.sendable()):
        return [paper.view.review(paper.dossier_id, statuses, paper.submission(), paper.sendable())]
    from dossier.assemble import TooLarge, assemble

    now = dt.datetime.now(dt.UTC)
    inputs = paper.desk.assembly_inputs(paper.dossier_id, now, settings.sportello_message_budget_mb)
    try:
        built = await asyncio.to_thread(lambda: assemble(**inputs))
    except TooLarge as exc:
        title = next((s.item.title for s in statuses if s.item.id == exc.item_id), "")
        return [paper.view.too_large(title)]
    if send:
        paper.desk.submit(paper.dossier_id, built, settings)
        paper.data["stage"] = "sent"
        replies = [paper.view.queued()]
        caption = _("La vostra copia.")
    else:
        replies = [paper.view.bundle_directions(paper.submission(), _notice(paper))]
        caption = ""
    for f in built.files:
        await callback.bot.send_document(
            callback.from_user.id, BufferedInputFile(f.data, filename=f.name), caption=caption
        )
        caption = ""
    await callback.bot.send_document(
        callback.from_user.id,
        BufferedInputFile(built.manifest.data, filename=built.manifest.name),
        caption=paper.view.manifest_caption(),
    )
    return replies


async def _upload(paper: Paper, message: Message) -> list[Reply]:
    _ = paper._
    if message.photo:
        media = message.photo[-1]  # the largest size Telegram made
        size, file_id, unique = media.file_size, media.file_id, media.file_unique_id
    else:
        doc = message.document
        assert doc is not None
        size, file_id, unique = doc.file_size, doc.file_id, doc.file_unique_id
    try:
        check_declared_size(size)
    except FileRefused as refusal:
        return [paper.view.refused(refusal)]
    known = paper.desk.known_upload(paper.dossier_id, unique)
    if known is not None:
        return [paper.view.duplicate(_status_of(paper.statuses(), known["item_id"]))]
    buffer = io.BytesIO()
    try:
        await message.bot.download(file_id, destination=buffer, timeout=120)
    except (TimeoutError, TelegramBadRequest, OSError) as exc:
        log.warning("download failed: %s", type(exc).__name__)
        return [Reply(_("Non riesco a scaricare il file. Riprovate tra poco."))]
    album = message.media_group_id
    albums: dict[str, Any] = paper.data.setdefault("albums", {})
    if paper.data.get("stage") == "signing":
        item_id: str | None = "application_form"
    elif paper.data.get("stage") == "integration":
        chosen = paper.data.get("item")
        item_id = chosen if chosen in (paper.data.get("asked") or []) else None
    elif album and album in albums:
        item_id = albums[album]  # None while the family is asked about this album
    else:
        item_id = paper.data.get("item")
    data = buffer.getvalue()
    checked = await asyncio.to_thread(check, data)
    filed = paper.desk.file(
        paper.dossier_id, data, item_id=item_id, file_unique_id=unique, checked=checked
    )
    if filed.outcome == "refused":
        assert filed.refusal is not None
        return [paper.view.refused(filed.refusal)]
    assert filed.attachment is not None
    statuses = filed.statuses
    if filed.outcome == "duplicate":
        return [paper.view.duplicate(_status_of(statuses, filed.attachment["item_id"]))]
    if album:
        albums[album] = item_id
    if filed.outcome == "ask_item":
        asked = paper.data.get("ask")
        if not isinstance(asked, dict):
            asked = {}
        if album and album in asked.values():
            asked[str(filed.attachment["id"])] = album
            paper.data["ask"] = asked
            return []  # the question is already on screen for this album
        asked[str(filed.attachment["id"])] = album
        paper.data["ask"] = asked
        if album:
            albums[album] = None
        if paper.data.get("stage") == "integration":
            return [
                _which_asked(paper, filed.attachment["id"], statuses, filed.attachment["pages"])
            ]
        return [
            paper.view.which_item(
                filed.attachment["id"],
                statuses,
                filed.attachment["pages"],
                last=paper.data.get("last_item"),
            )
        ]
    s = _status_of(statuses, item_id)
    assert s is not None
    if paper.data.get("stage") == "integration":
        others = [(i, o) for i, o in _asked(paper, statuses) if o.item.id != s.item.id]
        return [paper.view.integration_filed(s, others)]
    if s.item.signed_form:
        return [
            paper.view.signed_progress(s, paper.desk.form_pages(paper.dossier_id), paper.sendable())
        ]
    paper.data["last_item"] = s.item.id
    if not album and (s.done or s.item.pages is None):
        # one file, one document: the next file without a tap is asked about, with
        # "another page of this" as its first answer
        paper.data["item"] = None
    return [paper.view.filed(s, statuses, album=bool(album) and not s.done)]


def _which_asked(paper: Paper, attachment_id: int, statuses: list[ItemStatus], pages: int) -> Reply:
    reply = paper.view.which_item(attachment_id, statuses, pages)
    asked = {f"p:as:{attachment_id}:{i}" for i, _s in _asked(paper, statuses)}
    reply.buttons = [row for row in reply.buttons if row[0].data in asked]
    return reply


def _status_of(statuses: list[ItemStatus], item_id: str | None) -> ItemStatus | None:
    return next((s for s in statuses if s.item.id == item_id), None)
