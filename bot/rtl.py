"""Arabic on Telegram: every line and every button of a right-to-left message starts with
a right-to-left mark, whatever sends it (the conversation, the application, the status
messages, alerts and reminders): a request middleware on the bot's session."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup

from dialogs.languages import is_right_to_left_text, right_to_left_lines


def _marked_keyboard(markup: Any) -> Any:
    """The keyboard with its right-to-left labels marked, as a copy (keyboards are shared:
    `bot.replies.keyboard`)."""
    if not isinstance(markup, InlineKeyboardMarkup):
        return markup
    return markup.model_copy(
        update={
            "inline_keyboard": [
                [
                    # a label all Latin ("Italiano", "Rozzano") reads well as it is
                    button.model_copy(update={"text": right_to_left_lines(button.text)})
                    if is_right_to_left_text(button.text)
                    else button
                    for button in row
                ]
                for row in markup.inline_keyboard
            ]
        }
    )


class RightToLeftMiddleware(BaseRequestMiddleware):
    """A message (or caption) with Arabic in it: RLM at the start of each line and of
    each of its buttons, so Telegram lays every one of them out right to left."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for field in ("text", "caption"):
            value = getattr(method, field, None)
            if isinstance(value, str) and is_right_to_left_text(value):
                setattr(method, field, right_to_left_lines(value))
                if getattr(method, "reply_markup", None) is not None:
                    method.reply_markup = _marked_keyboard(method.reply_markup)  # type: ignore[attr-defined]
        return await make_request(bot, method)


def install_right_to_left(bot: Bot) -> None:
    """Register the middleware on the bot's session, once."""
    if not any(isinstance(m, RightToLeftMiddleware) for m in bot.session.middleware):
        bot.session.middleware(RightToLeftMiddleware())
