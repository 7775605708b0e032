"""What every route needs, built once per process and kept on `app.state.services`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlite_utils import Database

from bot.settings import Settings
from eligibility import Catalogue
from storage.blobs import BlobStore


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    db: Database
    blobs: BlobStore
    catalogue: Catalogue
    settings: Settings
    clock: Callable[[], dt.datetime] = utcnow  # aware UTC "now"; tests move it
    # operations figures, updated by the webhook and the workers (read by /metrics)
    counters: dict[str, float] = field(default_factory=dict)
    last_receipt_poll: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, name: str, by: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by


def services(request: Request) -> Services:
    return request.app.state.services
