"""What the controllers say, sent to Telegram: texts with their buttons, an edit of the
message whose button was pressed where the reply asks for one."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from aiogram import Bot
from aiogram.exceptions import AiogramError, TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiohttp import ClientError

from dialogs.replies import Outcome, Reply

log = logging.getLogger(__name__)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons. A question's are the same for every family that reads it in
    the same language, so each keyboard is built once and shared (never changed: the
    right-to-left marks of `bot.rtl` go on a copy)."""
    if not reply.buttons:
        return None
    return _keyboard(tuple(tuple((b.label, b.data) for b in row) for row in reply.buttons))


@lru_cache(maxsize=512)
def _keyboard(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [{"text": text, "callback_data": data} for text, data in row]  # type: ignore[misc]
            for row in rows
        ]
    )


async def send(
    bot: Bot,
    chat_id: int,
    outcome: Outcome,
    pressed: Message | None = None,
    live: dict[str, Any] | None = None,
) -> int | None:
    """The replies, the first that asks for it as an edit of the pressed message; the id
    of the last message left with buttons (None: none of them has any). `live`: the
    buttons of each message sent, kept (`note_buttons`)."""
    shown = None
    for reply in outcome.replies:
        if reply.edit and pressed is not None:
            try:
                await bot(edit_of(pressed, reply))
                note_buttons(live, pressed.message_id, reply)
                shown = pressed.message_id if reply.buttons else shown
                continue
            except TelegramBadRequest:
                pass  # too old to edit, or unchanged: send it as a new message
        sent = await bot(message_of(chat_id, reply))
        note_buttons(live, sent.message_id, reply)
        shown = sent.message_id if reply.buttons else shown
    return shown


# The FSM data key of the buttons of the messages sent with some, per message id: a label
# typed at one of them acts as the press (`bot.typed_press`), if the message is still the
# one whose buttons are live (`KEYBOARD`, or a slot's)
LIVE = "live"


def note_buttons(live: dict[str, Any] | None, message_id: int, reply: Reply) -> None:
    """The buttons (label, data) `message_id` now shows, kept in `live` (none: dropped)."""
    if live is None:
        return
    if reply.buttons:
        live[str(message_id)] = [[b.label, b.data] for row in reply.buttons for b in row]
    else:
        live.pop(str(message_id), None)


def prune_live(data: dict[str, Any]) -> None:
    """`data[LIVE]` kept only for the messages whose buttons are live now: the last one
    sent with buttons, and each slot's (`Reply.slot`)."""
    live = data.get(LIVE)
    if not live:
        return
    ids = {str(data.get(KEYBOARD) or "")} | {str(i) for i in (data.get("slots") or {}).values()}
    data[LIVE] = {k: v for k, v in live.items() if k in ids}


def message_of(chat_id: int, reply: Reply) -> SendMessage:
    """The Bot API call that sends `reply`. Built with only the fields we give:
    `bot.send_message` passes each of its twenty-odd arguments and pydantic checks them
    all (a third of a send's cost on our side); the call sent is the same (the others keep
    their defaults: the bot's parse mode, link preview and protection)."""
    return SendMessage(chat_id=chat_id, text=reply.text, reply_markup=keyboard(reply))


def edit_of(pressed: Message, reply: Reply) -> EditMessageText:
    """The Bot API call that turns the pressed message into `reply`, built the same way
    (`pressed.edit_text` passes every argument of its own)."""
    return EditMessageText(
        chat_id=pressed.chat.id,
        message_id=pressed.message_id,
        business_connection_id=pressed.business_connection_id,
        text=reply.text,
        reply_markup=keyboard(reply),
    )


async def say(
    bot: Bot,
    chat_id: int,
    replies: list[Reply],
    slots: dict[str, int] | None = None,
    live: dict[str, Any] | None = None,
) -> int | None:
    """Each reply as a new message; the id of the last one with buttons. A reply with a
    slot (`Reply.slot`) first takes the buttons of the older message in it away (`slots`:
    the message id per slot, kept up to date)."""
    shown = None
    for reply in replies:
        if reply.slot and slots is not None and slots.get(reply.slot):
            older = slots.pop(reply.slot)
            await take_keyboard_away(bot, chat_id, {KEYBOARD: older})
            if live is not None:
                live.pop(str(older), None)  # its buttons are not live any more
        sent = await bot(message_of(chat_id, reply))
        note_buttons(live, sent.message_id, reply)
        shown = sent.message_id if reply.buttons else shown
        if reply.slot and reply.buttons and slots is not None:
            slots[reply.slot] = sent.message_id
    return shown


# The FSM data key of the last message sent with buttons: a question answered by typing
# loses them, as a tapped one does.
KEYBOARD = "keyboard"


async def take_keyboard_away(bot: Bot, chat_id: int, data: dict[str, Any]) -> bool:
    """The buttons of the last message that had some (in the FSM data `data`) go: its
    question was answered by typing, or asked again below. Once gone (or found gone
    already: Telegram says the message is not modified, or not there) the message is
    forgotten, `data[KEYBOARD]` set to None, so the next typed answer does not ask
    Telegram again; True then (the caller writes `data`, `remember_keyboard`). A network
    failure keeps it, to try again with the next answer."""
    message_id = data.get(KEYBOARD)
    if not message_id:
        return False
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramBadRequest as exc:  # no buttons any more, or the message is gone
        log.info("keyboard not taken away: %s", type(exc).__name__)
    except (AiogramError, ClientError, OSError, TimeoutError) as exc:
        log.info("keyboard not taken away: %s", type(exc).__name__)
        return False
    data[KEYBOARD] = None
    return True


def note_keyboard(data: dict[str, Any], shown: int | None, forgotten: bool = False) -> bool:
    """`data` with the id of the message whose buttons are now the live ones (`shown`,
    None: no new one); True when `data` changed and is to be written (`forgotten`: the
    old one was taken away, `take_keyboard_away`)."""
    if shown is not None and shown != data.get(KEYBOARD):
        data[KEYBOARD] = shown
        return True
    return forgotten


async def remember_keyboard(
    state: FSMContext, data: dict[str, Any], shown: int | None, forgotten: bool = False
) -> None:
    """Keep the id of the message whose buttons are now the live ones (written only when
    it changed, `note_keyboard`)."""
    if note_keyboard(data, shown, forgotten):
        await state.update_data({KEYBOARD: data[KEYBOARD]})


# The id of a press made by typing a live button's label (`bot.typed_press`): Telegram
# knows no such query, so it is not answered
TYPED = "typed:"


async def answer_press(callback: CallbackQuery) -> None:
    """Stop the pressed button's spinner (a press made by typing has none)."""
    if not callback.id.startswith(TYPED):
        await callback.answer()
