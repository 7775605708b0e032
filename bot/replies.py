"""What the controllers say, sent to Telegram: texts with their buttons, an edit of the
message whose button was pressed where the reply asks for one."""

from __future__ import annotations

from functools import lru_cache

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message

from dialogs.flow import Outcome, Reply


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


async def send(bot: Bot, chat_id: int, outcome: Outcome, pressed: Message | None = None) -> None:
    for reply in outcome.replies:
        if reply.edit and pressed is not None:
            try:
                await pressed.edit_text(reply.text, reply_markup=keyboard(reply))
                continue
            except TelegramBadRequest:
                pass  # too old to edit, or unchanged: send it as a new message
        await bot.send_message(chat_id, reply.text, reply_markup=keyboard(reply))


async def say(bot: Bot, chat_id: int, replies: list[Reply]) -> None:
    """Each reply as a new message."""
    for reply in replies:
        await bot.send_message(chat_id, reply.text, reply_markup=keyboard(reply))
