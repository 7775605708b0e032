"""Polled updates written down as Telegram sent them, not dumped again.

The crash journal keeps each update's JSON before it is handled (`bot.turns`). The
webhook has it: the request's body. Polling gets the updates already decoded by aiogram,
and dumping an aiogram `Update` back to JSON costs more than the rest of the journal's
work (and fails on some updates: a `link_preview_options` comes back as aiogram's
`Default` marker, which pydantic cannot write). So the polling Bot's session decodes
Telegram's answers with `PolledUpdates`, which keeps each update of a getUpdates answer
as decoded until its turn takes it (`polled_json`): one `json.dumps` of a small dict.
"""

from __future__ import annotations

import json
from typing import Any

from aiogram import Bot

KEEP = 1000  # updates decoded and not taken yet (a getUpdates answer holds at most 100)


class PolledUpdates:
    """The session's JSON decoder (aiogram's `json_loads`): every answer decoded as
    `json.loads` does; each update of a getUpdates answer also kept, until taken."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._kept: dict[int, dict[str, Any]] = {}

    def __call__(self, content: str | bytes) -> Any:
        answer = json.loads(content)
        result = answer.get("result") if isinstance(answer, dict) else None
        if isinstance(result, list):
            for item in result:
                if isinstance(item, dict) and type(item.get("update_id")) is int:
                    self._kept[item["update_id"]] = item
            while len(self._kept) > self.keep:  # never taken (not fed): the oldest go
                del self._kept[next(iter(self._kept))]
        return answer

    def take(self, update_id: int) -> str | None:
        """The update's JSON as Telegram sent it (None: not polled here), once."""
        item = self._kept.pop(update_id, None)
        if item is None:
            return None
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def polled_json(bot: Bot, update_id: int) -> str | None:
    """The JSON of an update `bot` polled, as Telegram sent it; None when it has none."""
    kept = getattr(bot.session, "json_loads", None)
    return kept.take(update_id) if isinstance(kept, PolledUpdates) else None
