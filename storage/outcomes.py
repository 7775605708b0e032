"""After the protocol: the home assessment (ADL, IADL, CBI) the ranking needs, and the
outcome of the application, told to the family once (an event the bot sends)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

from common.clock import iso

from .dossiers import add_event

OUTCOMES = ("ammessa", "esclusa", "in_graduatoria", "finanziata")


def assessment(db: Database, dossier_id: str) -> dict[str, Any] | None:
    try:
        return dict(db.table("assessments").get(dossier_id))
    except NotFoundError:
        return None


def assessments(db: Database, dossier_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not dossier_ids:
        return {}
    marks = ", ".join("?" for _ in dossier_ids)
    rows = db.query(f"SELECT * FROM assessments WHERE dossier_id IN ({marks})", dossier_ids)
    return {r["dossier_id"]: r for r in rows}


def set_assessment(
    db: Database,
    dossier_id: str,
    *,
    adl: int | None,
    iadl: int | None,
    cbi: float | None,
    staff_id: int,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """Keep the scores of the home assessment; returns the previous ones (or None)."""
    previous = assessment(db, dossier_id)
    db.table("assessments").upsert(
        {
            "dossier_id": dossier_id,
            "adl": adl,
            "iadl": iadl,
            "cbi": cbi,
            "staff_id": staff_id,
            "at": iso(now),
        },
        pk="dossier_id",
    )
    return previous


def set_outcome(
    db: Database,
    dossier_id: str,
    outcome: str,
    *,
    reason: str | None,
    position: int | None,
    now: dt.datetime,
) -> bool:
    """Record the outcome and the event that tells the family. The same outcome saved
    again (same reason, same position) changes nothing and tells nothing: False."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    with db.atomic():
        row = db.execute(
            "SELECT outcome, outcome_reason, outcome_position FROM dossiers WHERE id = ?",
            [dossier_id],
        ).fetchone()
        if row is None:
            raise KeyError(dossier_id)
        if tuple(row) == (outcome, reason, position):
            return False
        db.table("dossiers").update(
            dossier_id,
            {
                "outcome": outcome,
                "outcome_reason": reason,
                "outcome_position": position,
                "outcome_at": iso(now),
            },
        )
        add_event(
            db, dossier_id, "esito", {"outcome": outcome, "reason": reason, "position": position}
        )
    return True
