"""The conversation on Telegram: commands, buttons, text, and everything else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlite_utils import Database

from common.i18n import N_
from dialogs.application import identity_draft
from dialogs.buttons import Erase, Language, unpack_question
from dialogs.flow import Dialog
from dialogs.languages import available, translator
from dialogs.replies import Outcome, Reply
from dialogs.status_view import SENT_STAYS
from dossier.desk import Desk
from eligibility import Catalogue
from storage.dossiers import last_sent, sent_by
from storage.users import delete_user, set_language

from .filters import command_text, plain_text
from .replies import LIVE, answer_press, note_keyboard, prune_live, send, take_keyboard_away

Clock = Callable[[], dt.date]


class Chat:
    """One update's worth of conversation: load state, run the dialog, save, send."""

    def __init__(self, state: FSMContext, catalogue: Catalogue, clock: Clock, i18n: I18n):
        self.fsm = state
        self.i18n = i18n
        self.catalogue = catalogue
        self.clock = clock
        self.stored: dict[str, Any] = {}

    async def load(self) -> dict[str, Any]:
        self.stored = await self.fsm.get_data()
        return dict(self.stored.get("dialog") or {})

    def dialog(self, language: str | None = None) -> Dialog:
        locale = language or self.i18n.current_locale
        return Dialog(self.catalogue, self.clock(), translator(self.i18n, locale), locale)

    def keep(self, state: dict[str, Any]) -> None:
        """The dialog's `state` into what is stored (written by `write`)."""
        self.stored["dialog"] = state
        if state.get("stage") != "result":
            # an answer changed or the questionnaire restarted: the application being
            # prepared no longer matches; "Prepara la domanda" reopens it, files kept, and
            # the personal details typed so far kept too (`Application.prepare`)
            # (/ricomincia, no answers left: nothing is kept)
            kept = identity_draft(self.stored.get("paper") or {}) if state.get("answers") else {}
            self.stored["paper"] = kept

    async def write(self) -> None:
        await self.fsm.set_data(self.stored)

    async def save(self, state: dict[str, Any]) -> None:
        self.keep(state)
        await self.write()


async def _finish(
    chat: Chat,
    state: dict[str, Any],
    outcome: Outcome,
    db: Database,
    user_id: int,
    desk: Desk | None = None,
) -> None:
    """The outcome's effects: everything erased, or the language chosen and the dialog's
    state kept in `chat.stored` (written once the replies are sent, with the message whose
    buttons are live: `_say`)."""
    if outcome.wipe:
        delete_user(db, user_id)
        if desk is not None:
            desk.forget_user(user_id)
        await chat.fsm.clear()
    else:
        if outcome.language:
            set_language(db, user_id, outcome.language)
        chat.keep(state)


async def _say(
    chat: Chat,
    bot: Bot | None,
    chat_id: int,
    outcome: Outcome,
    pressed: Message | None = None,
    take_away: bool = False,
) -> None:
    """The replies sent, after the buttons of the question on screen are taken away
    (`take_away`), and the conversation written once, with the message whose buttons are
    now live: whatever the sending did, the answer is kept (an erasure has nothing to
    write)."""
    if outcome.wipe:
        await send(bot, chat_id, outcome, pressed=pressed)
        return
    stored = chat.stored
    try:
        forgotten = take_away and bot is not None and await take_keyboard_away(bot, chat_id, stored)
        live = dict(stored.get(LIVE) or {})
        shown = await send(bot, chat_id, outcome, pressed=pressed, live=live)
        note_keyboard(stored, shown, forgotten)
        stored[LIVE] = live
        prune_live(stored)
    finally:
        await chat.write()


def _remember(
    dialog: Dialog, state: dict[str, Any], outcome: Outcome, db: Database, user_id: int, chat_id: int
) -> None:
    """A result with something within reach on an open notice: reminders before it closes."""
    if outcome.wipe or state.get("stage") != "result" or not state.get("answers"):
        return
    from dialogs.alerts import remember_result

    remember_result(db, user_id, chat_id, dialog.verdict(state["answers"]))


async def _run(
    message: Message,
    state: FSMContext,
    catalogue: Catalogue,
    clock: Clock,
    i18n: I18n,
    db: Database,
    step: Callable[[Dialog, dict[str, Any]], Outcome],
    desk: Desk | None = None,
    typed: bool = False,
    **_: Any,
) -> None:
    chat = Chat(state, catalogue, clock, i18n)
    data = await chat.load()
    asked = data.get("stage") != "result"  # a question (language, consent...) on screen
    dialog = chat.dialog()
    outcome = step(dialog, data)
    if outcome.language:  # a language typed ("italiano"): what comes next, in it
        outcome.replies += chat.dialog(outcome.language).ask(data)
    await _finish(chat, data, outcome, db, message.from_user.id, desk)
    _remember(dialog, data, outcome, db, message.from_user.id, message.chat.id)
    # the question on screen was answered by typing (or is asked again below): its
    # buttons go, as when one is tapped (unless the outcome keeps them)
    answered = (
        typed
        and not outcome.keep_keyboard
        and (asked or any(r.buttons for r in outcome.replies))
    )
    await _say(chat, message.bot, message.chat.id, outcome, take_away=answered)


async def typed(message: Message, **deps: Any) -> None:
    """A typed answer: text that is not a command."""
    await _run(message, step=lambda d, s: d.on_text(s, message.text or ""), typed=True, **deps)


async def typed_answer(message: Message, raw_state: str | None = None) -> bool:
    """Typed text that is not a command, in a private chat, while no application is being
    prepared: the most frequent update. `typed` takes it on the Dispatcher itself, before
    every router (`bot.app.build_dispatcher`), with this one filter: the groups' router
    would not take it (a private chat), nor the routers of commands and buttons, nor the
    paperwork's (an application in progress is stored as the conversation's aiogram
    state, `bot.states`, so no state means none is)."""
    text = message.text
    return (
        raw_state is None
        and text is not None
        and text[:1] not in ("", "/")
        and message.chat.type == ChatType.PRIVATE
    )


def conversation_router() -> Router:
    router = Router(name="conversation")

    # typed answers first: the most frequent update, and no command filter matches them
    router.message.register(typed, plain_text)

    @router.message(CommandStart())
    async def start(message: Message, **deps: Any) -> None:
        await _run(message, step=lambda d, s: d.start(s), **deps)

    @router.message(Command("lingua"))
    async def language(message: Message, **deps: Any) -> None:
        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            return Outcome([d._language_reply()])

        await _run(message, step=step, **deps)

    @router.message(Command("riepilogo"))
    async def summary(message: Message, db: Database, **deps: Any) -> None:
        user = message.from_user
        sent = last_sent(db, user.id) if user is not None else None
        await _run(message, db=db, step=lambda d, s: Outcome(d.summary(s, sent)), **deps)

    @router.message(Command("indietro"))
    async def back(message: Message, **deps: Any) -> None:
        await _run(message, step=lambda d, s: d.back(s), **deps)

    @router.message(Command("ricomincia"))
    async def restart(message: Message, **deps: Any) -> None:
        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            stage = s.get("stage")
            s.clear()
            s.update({"stage": "asking", "answers": {}, "order": [], "selected": []})
            if stage in (None, "language", "privacy"):
                return d.start(s)
            return Outcome([Reply(d._("Ricominciamo da capo.")), *d.ask(s)])

        await _run(message, step=step, **deps)

    @router.message(Command("annulla"))
    async def cancel(message: Message, **deps: Any) -> None:
        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            s["selected"] = []
            s.pop("suggest", None)
            return Outcome(
                [
                    Reply(
                        d._(
                            "Va bene. Le risposte restano salvate: quando volete, scrivete /start per riprendere."
                        )
                    )
                ]
            )

        await _run(message, step=step, **deps)

    @router.message(Command("aiuto"))
    async def help_(message: Message, **deps: Any) -> None:
        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            return Outcome([Reply(d._(HELP)), *d.ask(s)])

        await _run(message, step=step, **deps)

    @router.message(Command("privacy"))
    async def privacy(message: Message, **deps: Any) -> None:
        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            reply = d._privacy_reply()
            return Outcome([Reply(reply.text)])

        await _run(message, step=step, **deps)

    @router.message(Command("cancella_dati"))
    async def delete(message: Message, db: Database, **deps: Any) -> None:
        sent = message.from_user is not None and sent_by(db, message.from_user.id)

        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            from dialogs.replies import Button

            text = d._(
                "Volete cancellare tutto: risposte, lingua, documenti, domande preparate e avvisi? Una domanda in coda non partirà. Non si può tornare indietro."
            )
            if sent:
                text += "\n" + d._(SENT_STAYS)
            return Outcome(
                [
                    Reply(
                        text,
                        [
                            [
                                Button(d._("Sì, cancella tutto"), Erase(answer="yes").pack()),
                                Button(d._("No"), Erase(answer="no").pack()),
                            ]
                        ],
                    )
                ]
            )

        await _run(message, step=step, db=db, **deps)

    @router.message(command_text)
    async def unknown_command(message: Message, **deps: Any) -> None:
        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            return Outcome(
                [Reply(d._("Non conosco questo comando. Scrivete /aiuto per l'elenco.")), *d.ask(s)]
            )

        await _run(message, step=step, **deps)

    @router.message()
    async def anything_else(message: Message, **deps: Any) -> None:
        def step(d: Dialog, s: dict[str, Any]) -> Outcome:
            return Outcome(
                [
                    Reply(
                        d._(
                            "Adesso mi serve una risposta scritta o un pulsante. I documenti li chiederemo dopo il risultato."
                        )
                    ),
                    *d.ask(s),
                ]
            )

        await _run(message, step=step, **deps)

    @router.callback_query()
    async def button(
        callback: CallbackQuery,
        state: FSMContext,
        catalogue: Catalogue,
        clock: Clock,
        i18n: I18n,
        db: Database,
        desk: Desk | None = None,
        **_: Any,
    ) -> None:
        await answer_press(callback)
        chat = Chat(state, catalogue, clock, i18n)
        data = await chat.load()
        pressed = unpack_question(callback.data)  # None: forged or outdated, answered kindly
        language = (
            pressed.code
            if isinstance(pressed, Language) and pressed.code in available()
            else None
        )
        dialog = chat.dialog(language)
        # an application under way (its stage is the chat's aiogram state): an old
        # questionnaire button points to it instead of showing the result again
        open_ = await state.get_state() is not None
        outcome = dialog.on_button(data, callback.data or "", application_open=open_)
        if outcome.language:
            outcome.replies += dialog.ask(data)
        await _finish(chat, data, outcome, db, callback.from_user.id, desk)
        message = callback.message if isinstance(callback.message, Message) else None
        chat_id = callback.message.chat.id if callback.message else callback.from_user.id
        _remember(dialog, data, outcome, db, callback.from_user.id, chat_id)
        await _say(chat, callback.bot, chat_id, outcome, pressed=message)

    return router


HELP = N_(
    "Vi aiuto a capire se potete chiedere la Misura B2. Rispondete alle domande, con i "
    "pulsanti o scrivendo.\n"
    "Comandi:\n"
    "/riepilogo per vedere e cambiare le risposte.\n"
    "/indietro per la domanda prima.\n"
    "/ricomincia per ripartire.\n"
    "/documenti per i documenti della domanda.\n"
    "/lingua per la lingua.\n"
    "/avvisi per gli avvisi e i promemoria che avete chiesto.\n"
    "/privacy per sapere come usiamo i dati.\n"
    "/cancella_dati per cancellare tutto."
)
