"""Reminders to families about integration requests: when the deadline the social worker
set is `DAYS_BEFORE` days away (or already past) and the family has not answered, the
family is reminded once in their chat (an event the bot sends)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from storage import integrations

log = logging.getLogger(__name__)
DAYS_BEFORE = 2
ROME = ZoneInfo("Europe/Rome")


def remind_families(db: Database, now: dt.datetime, days_before: int = DAYS_BEFORE) -> int:
    """Record a reminder for every request due soon; returns how many."""
    today = now.astimezone(ROME).date()
    due = integrations.to_remind(db, today, days_before)
    for request in due:
        integrations.remind(db, request)
    if due:
        log.info("integration reminders recorded: %d", len(due))
    return len(due)
