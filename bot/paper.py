"""One update's worth of application state: the FSM data key `paper`, the view in the
user's language, and the desk. Used by the paperwork router and its steps."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.utils.i18n import I18n

from dialogs.flow import Reply
from dialogs.identity import Needs
from dialogs.languages import translator
from dialogs.paperwork import PaperworkView
from dossier.checklist import ItemStatus, missing
from dossier.desk import Desk

log = logging.getLogger(__name__)
Clock = Callable[[], dt.date]


class Paper:
    """One update's worth of paperwork: state, view, desk."""

    def __init__(self, state: FSMContext, desk: Desk, i18n: I18n, clock: Clock):
        self.fsm = state
        self.desk = desk
        self.clock = clock
        locale = i18n.current_locale
        self._ = translator(i18n, locale)
        self.locale = locale
        self.view = PaperworkView(self._, locale)
        self.data: dict[str, Any] = {}
        self.dialog: dict[str, Any] = {}

    async def load(self) -> dict[str, Any]:
        stored = await self.fsm.get_data()
        self.dialog = dict(stored.get("dialog") or {})
        self.data = dict(stored.get("paper") or {})
        return self.data

    async def save(self) -> None:
        await self.fsm.update_data(paper=self.data)

    @property
    def dossier_id(self) -> str:
        return self.data["dossier"]

    def statuses(self) -> list[ItemStatus]:
        return self.desk.statuses(self.dossier_id)

    def checklist(self) -> Reply:
        statuses = self.statuses()
        return self.view.checklist(
            self.dossier_id,
            statuses,
            ready_for_form=not missing(statuses),
            stage=self.data.get("stage", "documents"),
        )

    def submission(self) -> dict[str, Any]:
        return self.desk.get(self.dossier_id)["data"].get("submission") or {}

    def sendable(self) -> bool:
        return bool(self.data.get("sendable"))

    def needs(self) -> Needs:
        """What this dossier's identity questions must cover (ISEE date, bank account)."""
        return Needs.of(self.desk.get(self.dossier_id)["data"])
