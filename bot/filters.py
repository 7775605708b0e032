"""Filters as coroutines. aiogram runs a plain (non-async) filter, magic `F` filters
included, in a worker thread for every update; these cost a function call instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.types import CallbackQuery, Message


async def plain_text(message: Message) -> bool:
    """Typed text that is not a command."""
    return bool(message.text) and not message.text.startswith("/")


async def command_text(message: Message) -> bool:
    return bool(message.text) and message.text.startswith("/")


async def has_file(message: Message) -> bool:
    """A photo (camera or gallery) or a file (a PDF, a photo sent as a file)."""
    return bool(message.photo or message.document)


def data_is(value: str) -> Callable[[CallbackQuery], Awaitable[bool]]:
    async def check(callback: CallbackQuery) -> bool:
        return callback.data == value

    return check


def data_starts(prefix: str) -> Callable[[CallbackQuery], Awaitable[bool]]:
    async def check(callback: CallbackQuery) -> bool:
        return (callback.data or "").startswith(prefix)

    return check
