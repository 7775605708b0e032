"""A delivery that does not go, as a social worker reads it in the dossier's history
(Debian's Chromium): why, when the next try is, whether the family was told, each try.
The outbox tries for real, against a PEC mailbox on loopback that does not answer."""

# The fixtures of tests/browser.py are imported here and taken as arguments by name.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.async_api import expect

from dossier.delivery import Outbox, SmtpMailer
from dossier.mail import build_messages
from storage import outbox
from tests.browser import (  # the fixtures are used by name
    Served,
    browser,  # noqa: F401
    context,  # noqa: F401
    log_in,
    page,  # noqa: F401
    served,  # noqa: F401
    template,  # noqa: F401
)
from tests.smtp_server import free_port
from tests.test_delivery import RECIPIENT, SENDER, assembled

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUEUED = dt.datetime(2025, 6, 16, 8, 0, tzinfo=dt.UTC)  # 10:00 in Rome


async def test_the_history_says_the_pec_mailbox_did_not_answer_and_when_the_next_try_is(
    page: Any, served: Served
):
    dossier_id = served.dossiers["ready"]
    db = served.open_db()
    messages = build_messages(
        assembled(dossier_id, 1), sender=SENDER, recipient=RECIPIENT, subject="B2", body="."
    )
    outbox.enqueue(db, served.blobs(), dossier_id, messages, RECIPIENT, now=QUEUED)
    now = [QUEUED]
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), security="none", timeout=5)
    box = Outbox(db, served.blobs(), mailer, sender=SENDER, clock=lambda: now[0])
    await box.run_once()  # 10:00: nobody answers; next try at 10:01
    now[0] = QUEUED + dt.timedelta(minutes=1)
    await box.run_once()  # 10:01: again; next try at 10:06

    await log_in(page, served.email("opera"))
    await page.goto(f"/pratiche/{dossier_id}")
    history = page.locator("#tabella-cronologia")
    first = history.locator("tr", has_text="Invio non riuscito").first
    await expect(first).to_contain_text("16/06/2025 10:00")
    await expect(first).to_contain_text(
        "la casella PEC non ha risposto; nuovo tentativo alle 10:01; famiglia avvisata"
    )
    second = history.locator("tr", has_text="Invio non riuscito (tentativo 2)")
    await expect(second).to_contain_text("16/06/2025 10:01")
    await expect(second).to_contain_text("la casella PEC non ha risposto; nuovo tentativo alle 10:06")
    await expect(second).not_to_contain_text("famiglia avvisata")
    message = history.locator("tr", has_text="Messaggio 1 di 1")
    await expect(message).to_contain_text("tentativi: 2")
    await expect(message).to_contain_text("prossimo tentativo: 16/06/2025 10:06")
