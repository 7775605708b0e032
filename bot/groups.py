"""The bot talks with one family at a time, in private: added to a group (a family's chat,
a supergroup), it answers every message and every button press there with one line,
"write to me in private", and does nothing else: the questionnaire's answers (names,
codice fiscale, income) would be read by every member. A router tried before all others
(`bot.app.get_routers`). BotFather's /setjoingroups → Disable keeps it out of groups in
the first place (README)."""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from common.i18n import N_

PRIVATE_ONLY = N_("Scrivetemi in privato: qui le vostre risposte le vedrebbero tutti.")


async def in_a_group_chat(message: Message) -> bool:
    return message.chat.type != ChatType.PRIVATE


async def pressed_in_a_group_chat(query: CallbackQuery) -> bool:
    return query.message is not None and query.message.chat.type != ChatType.PRIVATE


def groups_router() -> Router:
    """Its filters are coroutines: every update is tried here first, and aiogram runs a
    plain filter (`F.chat.type ...` included) in a worker thread (`bot.filters`)."""
    router = Router(name="groups")
    router.message.filter(in_a_group_chat)
    router.callback_query.filter(pressed_in_a_group_chat)

    @router.message()
    async def in_a_group(message: Message, i18n: I18n) -> None:
        await message.answer(i18n.gettext(PRIVATE_ONLY))

    @router.callback_query()
    async def pressed_in_a_group(query: CallbackQuery, i18n: I18n) -> None:
        await query.answer(i18n.gettext(PRIVATE_ONLY), show_alert=True)

    return router
