"""A social worker with a deadline, in Debian's Chromium: a search from "Da fare" finds a
dossier in any view; the scales of several home visits typed at once on the graduatoria;
an outcome with the position the graduatoria computed and a link to the next dossier; a
changed outcome confirmed first. Each page checked by axe-core and for sideways scroll at
320 px."""

# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from storage import dossiers as store
from storage import outcomes
from tests.browser import (  # the fixtures are used by name
    Served,
    browser,  # noqa: F401
    context,  # noqa: F401
    horizontal_overflow,
    log_in,
    new_context,
    page,  # noqa: F401
    served,  # noqa: F401
    template,  # noqa: F401
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

NARROW = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}
NOTICE = "visconteo-sud-milano-2025"


async def _clean(page: Any) -> None:
    """No axe-core violation, nothing sticking out sideways."""
    results = await Axe().run(page)
    violations = [f"{v['id']}: {v['help']}" for v in results.response.get("violations", [])]
    assert not violations, violations
    assert await horizontal_overflow(page) is None


async def _search(page: Any, text: str) -> None:
    box = page.locator("details.filter-box")
    if await box.get_attribute("open") is None:
        await box.locator("summary").click()
    await page.get_by_label("Cognome, codice fiscale o codice pratica").fill(text)
    await page.get_by_role("button", name="Cerca", exact=True).click()
    await page.wait_for_load_state("networkidle")


async def test_a_search_from_da_fare_finds_a_dossier_in_any_view(browser: Any, served: Served):
    d = served.dossiers
    db = served.open_db()
    # Giuseppe Rossi has an outcome: he is no longer "da fare"
    outcomes.set_outcome(db, d["delivered"], "ammessa", reason=None, position=None,
                         now=served.clock())  # fmt: skip
    tax_code = store.get_dossier(db, d["delivered"])["data"]["identity"][  # type: ignore[index]
        "beneficiary.tax_code"
    ]
    context = await new_context(browser, served, **NARROW)
    try:
        page = await context.new_page()
        await log_in(page, served.email("opera"))
        await expect(page.locator(f"#riga-{d['delivered']}")).to_have_count(0)
        for typed in ("rossi", " ROSSÌ ", tax_code.lower(), d["delivered"].lower()):
            await _search(page, typed)
            await expect(page.locator(f"#riga-{d['delivered']}")).to_be_visible()
            await expect(page.locator("#risultati")).to_contain_text(
                "tra tutte le pratiche dei vostri Comuni, non solo tra quelle da fare"
            )
        await _clean(page)
        # accents, spaces and apostrophes do not count: "dangelo" and "d angelo" find
        # Franco D'Angelo, "cantu" finds Ernesta Cantù
        for typed, label in (("dangelo", "error"), ("d angelo", "error"), ("cantu", "sent")):
            await _search(page, typed)
            await expect(page.locator(f"#riga-{d[label]}")).to_be_visible()
            assert len(await page.locator("#pratiche tbody tr").all()) == 1, typed
        # another comune's dossier is never found
        colombo = store.get_dossier(db, d["binasco"])
        assert colombo is not None
        await _search(page, d["binasco"])
        await expect(page.locator("#risultati")).to_contain_text("0 pratiche")
    finally:
        await context.close()
