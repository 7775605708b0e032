"""Families helped at the counter (`sportello console`): each has an id of its own, in a
range no Telegram id reaches. Telegram's user and chat ids have at most 52 significant
bits (groups' are negative, down to about -2e12); ours are below -2**53, so a family at
the counter is never a Telegram chat, and erasing one erases only that family."""

from __future__ import annotations

FIRST = -(2**53) - 1  # the first family at the counter; the next ones go down from it


def is_counter(user_id: int | None) -> bool:
    """Is this a family helped at the counter (no Telegram chat to write to)?"""
    return user_id is not None and int(user_id) <= FIRST


def number(user_id: int) -> int:
    """The family's short number at the counter (1, 2, …), to show."""
    return FIRST - int(user_id) + 1
