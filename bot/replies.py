"""What the controllers say, sent to Telegram: texts with their buttons, an edit of the
message whose button was pressed where the reply asks for one."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message

from dialogs.flow import Outcome, Reply


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons, validated once as a whole (a model per button costs more)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [{"text": b.label, "callback_data": b.data} for b in row]  # type: ignore[misc]
            for row in reply.buttons
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
