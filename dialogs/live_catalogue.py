"""The notices families see: the ones shipped with the program and the ones an operator
published into the database, put together here, above `eligibility/` (pure) and
`storage/` (the table).

A running bot or server holds one `LiveCatalogue`. It asks the database for the
publications' version at most every `every` seconds (one small query) and rebuilds the
catalogue only when that version changed, so a notice published with `sportello notice
publish` is used within 30 seconds without a restart, and the hot path costs a clock read.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from eligibility import Catalogue, CatalogueError, load_catalogue
from eligibility.notice_file import Problem, Report, check_notice, parse_notice
from eligibility.schema import Guidance, Notice
from storage import notices as published

log = logging.getLogger(__name__)
RELOAD_EVERY = 30.0  # seconds: a published notice is in use well within a minute


def published_entries(db: Database, base: Catalogue) -> list[Notice | Guidance]:
    """The notices in force in the database that still load (a file that no longer fits
    the schema after an upgrade is left out and logged, never a crash)."""
    out: list[Notice | Guidance] = []
    for p in published.in_force(db).values():
        try:
            entry = parse_notice(p.text, f"{p.notice_id} (versione {p.version})")
        except CatalogueError as exc:
            log.error("published notice left out: %s", exc)
            continue
        if isinstance(entry, Notice) and entry.programme not in base.programmes:
            log.error("published notice %s left out: unknown programme", p.notice_id)
            continue
        out.append(entry)
    return out


def full_catalogue(db: Database | None, base: Catalogue | None = None) -> Catalogue:
    """Bundled and published notices, read once (for the command line)."""
    base = base or load_catalogue()
    if db is None:
        return base
    return base.with_notices(published_entries(db, base))


def check_for_publication(
    db: Database | None,
    text: str,
    cases_text: str | None,
    base: Catalogue | None = None,
    catalogue: Catalogue | None = None,
) -> Report:
    """A notice file (and its cases) checked as `publish` checks it, the same for the
    command line and the back-office: against the bundled and published notices (or
    `catalogue`, read before, so that this can run in another thread), its id not a
    bundled one's, a notice and not a guidance."""
    base = base or load_catalogue()
    bundled = {e.id for e in [*base.notices, *base.guidance]}
    catalogue = catalogue or full_catalogue(db, base)
    report = check_notice(text, catalogue, cases_text, bundled_ids=bundled)
    if isinstance(report.notice, Guidance):
        report.problems.append(
            Problem(1, "kind", "si pubblicano solo gli avvisi (kind: notice), non le guide")
        )
    return report


def publish_checked(
    db: Database, text: str, cases_text: str | None, by: str, at: str | None = None
) -> tuple[Report, published.Published | None]:
    """Check, then publish (a new version; the earlier ones stay): the publication, or
    None with the report's problems when it cannot be published."""
    report = check_for_publication(db, text, cases_text)
    if not report.publishable or not isinstance(report.notice, Notice):
        return report, None
    return report, published.publish(db, report.notice.id, text, by, cases_text=cases_text, at=at)


class LiveCatalogue:
    """A `Catalogue` that follows the publications in the database (see the module)."""

    def __init__(
        self,
        db: Database,
        base: Catalogue | None = None,
        every: float = RELOAD_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.db = db
        self.base = base or load_catalogue()
        self.every = every
        self.clock = clock
        self._current = self.base
        self._version: tuple[int, int] | None = None
        self._checked = -math.inf

    def current(self) -> Catalogue:
        now = self.clock()
        if now - self._checked >= self.every:
            self._checked = now
            version = published.version(self.db)
            if version != self._version:
                self._current = self.base.with_notices(published_entries(self.db, self.base))
                self._version = version
        return self._current

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current(), name)
