"""The social services' requests for more documents, as the family's chat answers them.
Part of `Desk`."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from storage import dossiers as store
from storage import integrations


class Requests:
    """The desk's integration requests (a part of `dossier.desk.Desk`)."""

    db: Database

    def open_request_for(self, user_id: int) -> dict[str, Any] | None:
        """The newest integration request told to this family and not answered yet."""
        for dossier in store.dossiers_of(self.db, user_id):
            request = integrations.open_request(self.db, dossier["id"])
            if request is not None and request["status"] == "sent":
                return request
        return None

    def integration_request(self, request_id: int) -> dict[str, Any] | None:
        """The request, while it is the open one of its dossier."""
        dossier_id = integrations.dossier_of_request(self.db, request_id)
        if dossier_id is None:
            return None
        request = integrations.open_request(self.db, dossier_id)
        return request if request is not None and request["id"] == request_id else None

    def answer_request(self, request_id: int, dossier_id: str) -> None:
        integrations.answer(self.db, request_id, dossier_id)
