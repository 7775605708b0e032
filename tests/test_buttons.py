"""Every button's data is packed and unpacked as aiogram's `CallbackData` does it (our
`dialogs.callbacks` does the same without loading aiogram): each class is compared with a
twin built on aiogram's class, over valid, forged and outdated data."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.filters.callback_data import CallbackData as AiogramCallbackData
from pydantic import create_model

from dialogs import buttons
from dialogs.callbacks import CallbackData

KINDS = [*buttons.QUESTIONNAIRE, *buttons.APPLICATION, *buttons.ALERTS]
VALUES = ["", "0", "1", "7", "999", "1000", "-1", "1.5", "abc", "F205", "f205", "list", "send",
          "it", "yes", "x" * 41, "None", "true"]  # fmt: skip


def twin(kind: type[CallbackData]) -> type[AiogramCallbackData]:
    fields: dict[str, Any] = {n: (f.annotation, f) for n, f in kind.model_fields.items()}
    return create_model(  # type: ignore[call-overload, no-any-return]
        kind.__name__,
        __base__=AiogramCallbackData,
        __cls_kwargs__={"prefix": kind.__prefix__},
        **fields,
    )


def outcome(kind: Any, data: str) -> Any:
    """The button's values, or "refused" (TypeError or ValueError, as both raise)."""
    try:
        return kind.unpack(data).model_dump()
    except (TypeError, ValueError):
        return "refused"


def test_every_kind_has_its_own_prefix():
    prefixes = [k.__prefix__ for k in KINDS]
    assert len(prefixes) == len(set(prefixes))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_a_button_packs_and_unpacks_as_aiogram_does(kind: type[CallbackData]):
    theirs = twin(kind)
    arity = len(kind.model_fields)
    seen = 0
    for count in {arity, max(arity - 1, 0), arity + 1}:
        for values in itertools.product(VALUES, repeat=count):
            data = ":".join([kind.__prefix__, *values])
            assert outcome(kind, data) == outcome(theirs, data), data
            if outcome(theirs, data) != "refused":
                assert kind.unpack(data).pack() == theirs.unpack(data).pack()
                seen += 1
    assert seen, f"no valid data for {kind.__name__}"
    assert outcome(kind, "zz:1") == outcome(theirs, "zz:1") == "refused"


async def test_aiogram_routes_a_press_with_our_filter():
    """`Kind.filter()` is aiogram's own filter: the handler gets the typed button."""
    from aiogram import Bot
    from aiogram.types import CallbackQuery, Chat, Message, Update, User

    router = Router()
    got: list[Any] = []

    @router.callback_query(buttons.Unsubscribe.filter(F.id > 5))
    async def pressed(callback: CallbackQuery, callback_data: buttons.Unsubscribe) -> None:
        got.append(callback_data)

    bot = Bot("42:TEST")  # never sends: the handler only records
    dp = Dispatcher()
    dp.include_router(router)
    user = User(id=1, is_bot=False, first_name="A")
    message = Message(message_id=1, date=0, chat=Chat(id=1, type="private"), text="x")
    for n, data in enumerate(["uns:7", "uns:3", "uns:x", "rst:7"]):
        query = CallbackQuery(id=str(n), from_user=user, chat_instance="c", message=message,
                              data=data)  # fmt: skip
        await dp.feed_update(bot, Update(update_id=n, callback_query=query))
    await bot.session.close()
    assert got == [buttons.Unsubscribe(id=7)]
