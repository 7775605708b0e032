"""A button's data as aiogram's `CallbackData` packs it, without importing aiogram.

aiogram's class lives in a module that loads every Telegram type (its pydantic models:
seconds at start-up), which the console and the controllers do not need. This base class
packs and unpacks the same wire format, `prefix:value:value` within Telegram's 64 bytes
(None as "", an enum as its value, a bool as 1/0), and validates with pydantic, so a
forged or outdated button fails validation instead of a string split. `filter()` gives
aiogram's own `CallbackQueryFilter`, imported only when a router asks for it: handlers
read `@router.callback_query(Subscribe.filter())` as with aiogram's class.
`tests/test_buttons.py` packs and unpacks every button with aiogram's class too: the two
agree.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

if TYPE_CHECKING:
    from aiogram.filters.callback_data import CallbackQueryFilter
    from magic_filter import MagicFilter
    from pydantic.fields import FieldInfo

MAX_BYTES = 64  # what a Telegram button carries
SEPARATOR = ":"


class CallbackData(BaseModel):
    """One kind of button: `class Item(CallbackData, prefix="pitem"): index: int`."""

    __prefix__: ClassVar[str]
    __separator__: ClassVar[str] = SEPARATOR

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "prefix" not in kwargs:
            raise ValueError(f"{cls.__name__}: a button needs its prefix=")
        cls.__prefix__ = kwargs.pop("prefix")
        if SEPARATOR in cls.__prefix__:
            raise ValueError(f"{cls.__name__}: no {SEPARATOR!r} in a prefix")
        super().__init_subclass__(**kwargs)

    def pack(self) -> str:
        """The button's data, as Telegram carries it back."""
        parts = [self.__prefix__]
        for key, value in self.model_dump(mode="python").items():
            encoded = _encode(key, value)
            if SEPARATOR in encoded:
                raise ValueError(f"{key}={encoded!r}: no {SEPARATOR!r} in a value")
            parts.append(encoded)
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"{data!r} is longer than {MAX_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, value: str) -> Self:
        """The button of this data; TypeError or ValueError (pydantic's ValidationError
        is one) when it is not one of this kind."""
        prefix, *parts = value.split(SEPARATOR)
        names = list(cls.model_fields)
        if len(parts) != len(names):
            raise TypeError(f"{cls.__name__} takes {len(names)} values, not {len(parts)}")
        if prefix != cls.__prefix__:
            raise ValueError(f"not a {cls.__name__}: prefix {prefix!r}")
        payload: dict[str, Any] = {}
        for name, part in zip(names, parts, strict=True):
            field = cls.model_fields[name]
            if part == "" and _nullable(field) and field.default != "":
                payload[name] = None if field.default is PydanticUndefined else field.default
            else:
                payload[name] = part
        return cls(**payload)

    @classmethod
    def filter(cls, rule: MagicFilter | None = None) -> CallbackQueryFilter:
        """aiogram's filter for this kind of button (the handler gets `callback_data`)."""
        from aiogram.filters.callback_data import CallbackQueryFilter

        kind: Any = cls  # duck-typed: aiogram's filter only calls `unpack`
        return CallbackQueryFilter(callback_data=kind, rule=rule)


def _encode(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | str | float):
        return str(value)
    raise ValueError(f"{key}={value!r} cannot be packed into a button")


def _nullable(field: FieldInfo) -> bool:
    if not field.is_required():
        return True
    origin = typing.get_origin(field.annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        field.annotation
    )
