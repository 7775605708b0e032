"""Preparing the application on Telegram: identity questions, uploads, the form to sign,
the last check, and sending. The texts live in `dialogs.paperwork`; the files and the
dossier in `dossier.desk`; this module downloads, keeps state and sends.

State: the FSM data key `paper` holds {dossier, stage, item, ask, albums}; stages are
identity, documents, signing, sent. The questionnaire's state (`dialog`) is untouched.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from dialogs.flow import Dialog, Reply
from dialogs.identity import QUESTIONS as IDENTITY_QUESTIONS
from dialogs.identity import answer, birth_date_for, next_question
from dialogs.parsing import AnswerError
from dossier.checklist import can_prepare, can_send
from dossier.desk import Desk
from eligibility import Catalogue

from .filters import data_is, data_starts, has_file, plain_text
from .paper import Paper
from .paperwork_steps import (
    current_step,
    int_at,
    next_identity,
    on_press,
    on_upload,
    start_integration,
)
from .replies import say

log = logging.getLogger(__name__)
Clock = Callable[[], dt.date]


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
            checked_on=clock(),
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
        if desk.take_form_reset(dossier_id):
            replies.append(paper.view.form_reset())
        replies += next_identity(paper)
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
        await say(message.bot, message.chat.id, current_step(paper))

    @router.message(Command("start", "aiuto"), in_paperwork())
    async def where_am_i(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        if paper.data.get("stage") == "sent":
            replies = [paper.view.closed_for_changes()]
        else:
            replies = [paper.view.help(paper.data.get("stage", "")), *current_step(paper)]
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
        await say(message.bot, message.chat.id, next_identity(paper))

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
        await say(message.bot, message.chat.id, [Reply(text), *current_step(paper)])

    # -- identity ---------------------------------------------------------------------

    @router.message(plain_text, in_paperwork("identity"))
    async def identity_text(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        identity = paper.data["identity"]
        q = next_question(identity, paper.needs())
        replies: list[Reply] = []
        if q is None or q.kind == "choice":
            replies = [Reply(paper._("Per rispondere, toccate uno dei pulsanti qui sotto."))]
        else:
            birth = None
            if birth_date_for(q, identity):
                born = (paper.dialog.get("answers") or {}).get("beneficiary.birth_date")
                birth = dt.date.fromisoformat(born) if born else None
            try:
                value = answer(
                    q, (message.text or "")[:200], identity, birth_date=birth, today=clock()
                )
            except AnswerError as err:
                replies = [Reply(paper.view.refused_text(err.message))]
            else:
                replies = [Reply(f"✓ {html.escape(paper.view.shown(q, value), quote=False)}")]
        replies += next_identity(paper)
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
            replies = start_integration(paper, int_at(parts, 2), callback.from_user.id)
            await paper.save()
            await say(callback.bot, chat_id, replies)
            return
        if not paper.data.get("dossier"):
            await say(callback.bot, chat_id, [Reply(paper._("Questo pulsante non vale più."))])
            return
        try:
            replies = await on_press(paper, parts, callback, settings)
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
        replies = await on_upload(paper, message)
        await paper.save()
        await say(message.bot, message.chat.id, replies)

    @router.message(has_file, in_paperwork("identity"))
    async def upload_too_early(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        text = paper._("Prima finiamo i dati del modulo, poi vi chiedo i documenti.")
        await say(message.bot, message.chat.id, [Reply(text), *next_identity(paper)])

    @router.message(has_file, waiting_for_integration)
    async def upload_for_integration(
        message: Message, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock, **_: Any
    ) -> None:
        """The social services asked for more and the family simply sends it."""
        paper = Paper(state, desk, i18n, clock)
        await paper.load()
        request = desk.open_request_for(message.from_user.id)
        replies = start_integration(paper, request["id"] if request else 0, message.from_user.id)
        if paper.data.get("stage") == "integration":
            replies = await on_upload(paper, message)
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
