"""Preparing the application on Telegram: the wiring only. What each step does is the
Telegram-free controller `dialogs.application`; here one middleware loads the state and
builds it, the handlers turn updates into its events (a typed button, a line, a file once
downloaded), and the middleware saves the state and delivers what the step says.

Routing uses aiogram's states (`bot.states.Paperwork`, derived from the application's
stage) with `StateFilter`, and the typed buttons of `dialogs.buttons`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import AiogramError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import I18n
from aiohttp import ClientError
from sqlite_utils import Database

from dialogs.application import Application, Received, Step
from dialogs.buttons import (
    Choose,
    Detail,
    Discard,
    FileAs,
    Move,
    Prepare,
    Same,
    SameHome,
    Skip,
    Unfile,
    is_ours,
    unpack,
)
from dialogs.languages import translator
from dialogs.replies import Reply
from storage import journal

from .filters import has_file, plain_text
from .replies import (
    LIVE,
    TYPED,
    answer_press,
    prune_live,
    remember_keyboard,
    say,
    take_keyboard_away,
)
from .states import Paperwork, state_of

log = logging.getLogger(__name__)
# What a call to Telegram can raise besides our own bugs: its refusals, and answers that
# are not JSON or connections that break (aiogram's ClientDecodeError, aiohttp's errors).
TELEGRAM_FAILED = (AiogramError, ClientError, OSError, TimeoutError)

# buttons that answer a question (who signs, which document a file is, 📝 Prepara on the
# result): pressed, the question's keyboard is taken away
ANSWERS = (Choose, Skip, SameHome, Detail, FileAs, Discard, Same, Move, Prepare, Unfile)
# the FSM data key of the message id per slot (`dialogs.flow.Reply.slot`)
SLOTS = "slots"
Clock = Callable[[], dt.date]
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


async def with_application(handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
    """Per update: load the application's state and build its controller (`application`)
    with the state for `StateFilter`; after a handler of this router, save what changed
    and deliver the step it returned."""
    state: FSMContext | None = data.get("state")
    if state is None:
        return await handler(event, data)
    stored = await state.get_data()
    paper = stored.get("paper") or {}
    stage = paper.get("stage") if paper.get("dossier") else None
    data["raw_state"] = state_of(stage)
    if stage is None and not _may_start(event):
        return await handler(event, data)  # the questionnaire's: this router's filter skips it
    i18n: I18n = data["i18n"]
    locale = i18n.current_locale
    app = Application(
        data["desk"],
        data["catalogue"],
        translator(i18n, locale),
        locale,
        data["clock"],
        data["settings"],
        dialog=stored.get("dialog"),
        paper=paper,
    )
    before = json.dumps(app.data, sort_keys=True, default=str)
    data["application"] = app
    gone: list[int] = []  # messages whose buttons the handler took away
    data["keyboard_gone"] = gone
    step = await handler(event, data)
    if not isinstance(step, Step):
        return step  # not one of ours: the conversation's routers take it
    if json.dumps(app.data, sort_keys=True, default=str) != before:
        await state.update_data(paper=app.data)
    if state_of(app.stage) != await state.get_state():
        await state.set_state(state_of(app.stage))
    chat_id = event.chat.id if isinstance(event, Message) else data["event_from_user"].id
    typed = isinstance(event, Message) and plain_text_of(event)
    forgotten = False
    if stage == "identity" and typed and not step.still_asking:
        # a detail typed: the question's buttons ("Non ce l'ho", "Lascia com'era") go,
        # as when one is tapped (the question is answered, or asked again below)
        forgotten = await take_keyboard_away(data["bot"], chat_id, stored)
    slots = dict(stored.get(SLOTS) or {})
    live = {k: v for k, v in (stored.get(LIVE) or {}).items() if int(k) not in gone}
    delivered, shown = await deliver(data["bot"], chat_id, step, slots, live)
    if slots != (stored.get(SLOTS) or {}):
        await state.update_data({SLOTS: slots})
    if not delivered and app.copy_not_delivered():
        await state.update_data(paper=app.data)  # the family may ask for the copy again
    await remember_keyboard(state, stored, shown, forgotten)
    kept = {**stored, SLOTS: slots, LIVE: live}
    prune_live(kept)
    if kept[LIVE] != (stored.get(LIVE) or {}):
        await state.update_data({LIVE: kept[LIVE]})
    return step


def plain_text_of(message: Message) -> bool:
    """A typed line, not a command."""
    return bool(message.text) and not (message.text or "").startswith("/")


def _may_start(event: TelegramObject) -> bool:
    """Without an application in progress, what this router may still take: its buttons,
    /documenti, and a file (the social services may have asked for it)."""
    if isinstance(event, CallbackQuery):
        return is_ours(event.data)
    if isinstance(event, Message):
        return bool(event.photo or event.document) or (event.text or "").startswith("/documenti")
    return False


async def has_application(_event: TelegramObject, application: Any = None) -> bool:
    """The router's own filter: the middleware built the controller for this update."""
    return application is not None


async def deliver(
    bot: Bot,
    chat_id: int,
    step: Step,
    slots: dict[str, int] | None = None,
    live: dict[str, Any] | None = None,
) -> tuple[bool, int | None]:
    """The step's documents, then its replies; if the documents cannot be delivered and
    the step says what to tell then, that is said instead of failing (and False). With
    the id of the last message sent with buttons."""
    replies = step.replies
    delivered = True
    try:
        for document in step.documents:
            await bot.send_document(
                chat_id,
                BufferedInputFile(document.data, filename=document.name),
                caption=document.caption,
            )
    except TELEGRAM_FAILED as exc:
        if step.undelivered is None:
            raise
        log.warning("documents not delivered: %s", type(exc).__name__)
        replies = [*replies, step.undelivered]
        delivered = False
    shown = await say(bot, chat_id, replies, slots, live)
    return delivered, shown


async def application_button(callback: CallbackQuery) -> bool | dict[str, Any]:
    """A button of `dialogs.buttons`, unpacked as `button`: None when its data is of one
    of our kinds but does not unpack (forged, or from an older version)."""
    if not is_ours(callback.data):
        return False
    return {"button": unpack(callback.data)}


async def waiting_for_integration(message: Message, application: Application) -> bool:
    """No application in progress in this chat, and the social services asked for more."""
    return message.from_user is not None and application.waiting_request(message.from_user.id)


def paperwork_router() -> Router:
    router = Router(name="paperwork")
    router.message.outer_middleware(with_application)
    router.callback_query.outer_middleware(with_application)
    router.message.filter(has_application)
    router.callback_query.filter(has_application)
    any_stage = StateFilter(Paperwork)

    @router.callback_query(application_button)
    async def press(
        callback: CallbackQuery,
        application: Application,
        button: Any,
        keyboard_gone: list[int],
        **_: Any,
    ) -> Step:
        try:
            await answer_press(callback)  # only stops the button's spinner: go on without it
        except TELEGRAM_FAILED as exc:
            log.warning("callback not answered: %s", type(exc).__name__)
        typed = callback.id.startswith(TYPED)  # its label typed (`bot.typed_press`)
        step = await application.press(button, callback.from_user.id, typed=typed)
        answered = isinstance(button, ANSWERS) and not step.still_asking
        if answered and isinstance(callback.message, Message):
            keyboard_gone.append(callback.message.message_id)
            # the question is answered: its buttons go (an old press still gets "non
            # vale più" if the chat keeps a copy)
            try:
                await callback.message.edit_reply_markup(reply_markup=None)
            except TELEGRAM_FAILED as exc:
                log.warning("keyboard not removed: %s", type(exc).__name__)
        return step

    @router.message(Command("documenti"))
    async def documents(message: Message, application: Application, **_: Any) -> Step:
        assert message.from_user is not None
        return application.documents(message.from_user.id)

    @router.message(Command("start", "aiuto"), any_stage)
    async def where_am_i(message: Message, application: Application, **_: Any) -> Step:
        return application.where()

    @router.message(
        Command("indietro"),
        StateFilter(Paperwork.identity, Paperwork.documents, Paperwork.signing, Paperwork.sent),
    )
    async def back(message: Message, application: Application, **_: Any) -> Step:
        return application.back()

    @router.message(
        plain_text, StateFilter(Paperwork.identity, Paperwork.documents, Paperwork.signing)
    )
    async def text(
        message: Message,
        application: Application,
        typed_choices: list[tuple[str, str]] | None = None,
        **_: Any,
    ) -> Step:
        # `typed_choices`: the live buttons a typed word fits two or more of
        # (`bot.typed_press`): the family is asked which one
        return application.text(message.text or "", choices=typed_choices or [])

    @router.message(plain_text, StateFilter(Paperwork.sent))
    async def after_sending(message: Message, application: Application, **_: Any) -> Step:
        return application.after_sending()

    async def upload(
        message: Message, application: Application, event_update: Update, db: Database, **_: Any
    ) -> Step:
        assert message.from_user is not None and message.bot is not None
        if message.photo:
            media: Any = message.photo[-1]  # the largest size Telegram made
        else:
            media = message.document
        first = application.before_download(
            media.file_size, media.file_unique_id, message.from_user.id, message.media_group_id
        )
        if first is not None:
            return first
        buffer = io.BytesIO()
        try:
            await message.bot.download(media.file_id, destination=buffer, timeout=120)
        except TELEGRAM_FAILED as exc:
            log.warning("download failed: %s", type(exc).__name__)
            text = application._("Non riesco a scaricare il file. Riprovate tra poco.")
            return Step([Reply(text)])
        received = Received(buffer.getvalue(), media.file_unique_id, message.media_group_id)
        step = await application.upload(received)
        if step.album and journal.more_of_album(
            db, message.from_user.id, step.album, event_update.update_id
        ):
            # the album's next photo is already here, waiting: its reply sums up this one
            return replace(step, replies=[])
        return step

    router.message.register(upload, has_file, any_stage)
    router.message.register(upload, has_file, waiting_for_integration)
    return router
