"""A social worker with a deadline, in Debian's Chromium: a search from "Da fare" finds a
dossier in any view; the scales of several home visits typed at once on the graduatoria;
an outcome with the position the graduatoria computed and a link to the next dossier; a
changed outcome confirmed first. Each page checked by axe-core and for sideways scroll at
320 px."""

# ruff: noqa: F811

from __future__ import annotations

import re
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


async def test_scales_of_several_visits_at_once_then_outcomes_one_after_another(
    page: Any, served: Served
):
    d = served.dossiers
    db = served.open_db()
    await log_in(page, served.email("opera"))
    await page.goto(f"/avvisi/{NOTICE}/graduatoria")
    rossi, cantu = page.locator(f"#grad-{d['delivered']}"), page.locator(f"#grad-{d['sent']}")
    header = page.locator("#graduatoria thead")
    await expect(header).to_contain_text("ADL: valore (da 0 a 6) e punti")
    await expect(header).to_contain_text("Punti ISEE")
    await rossi.get_by_label(re.compile(r"^ADL di Rossi Giuseppe")).fill("1")
    await rossi.get_by_label(re.compile(r"^IADL di Rossi Giuseppe")).fill("2")
    await cantu.get_by_label(re.compile(r"^ADL di Cantù Ernesta")).fill("9")
    await cantu.get_by_label(re.compile(r"^IADL di Cantù Ernesta")).fill("3")
    await page.get_by_role("button", name="Registra le scale").click()
    await page.wait_for_load_state("networkidle")
    # refused: nothing kept, what was typed still there, the error named and at its field
    summary = page.locator("#errori-scale")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text(
        f"Cantù Ernesta ({d['sent']}): ADL: scrivete un numero intero da 0 a 6"
    )
    await expect(page.locator(f"#adl-{d['sent']}")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(f"#adl-{d['delivered']}")).to_have_value("1")
    assert db.execute("SELECT COUNT(*) FROM assessments").fetchone()[0] == 0
    await page.set_viewport_size({"width": 320, "height": 640})
    await _clean(page)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await summary.get_by_role("link").click()
    await expect(page.locator(f"#adl-{d['sent']}")).to_be_focused()
    await page.locator(f"#adl-{d['sent']}").fill("4")
    await page.get_by_role("button", name="Registra le scale").click()
    await page.wait_for_url(re.compile(r"fatto=scale"))
    done = page.locator("#esito-scale")
    await expect(done).to_contain_text("Scale registrate per 2 pratiche.")
    await expect(done).to_be_focused()
    # both shown: the value typed and its points (ADL 1 = 20 points, IADL 2 = 40)
    await expect(rossi.locator(f"#adl-{d['delivered']}")).to_have_value("1")
    await expect(rossi.locator("td.scale").first).to_contain_text("= 20 punti")
    await expect(rossi.locator("td[data-label='Totale punti']")).to_have_text("80")
    await page.reload()  # post, redirect, get: nothing recorded twice
    recorded = "SELECT COUNT(*) FROM audit_log WHERE action = 'record_assessment'"
    assert db.execute(recorded).fetchone()[0] == 2
    await _clean(page)

    # the outcome: the position the graduatoria computed is proposed
    position = int(await rossi.locator("th").inner_text())
    await rossi.get_by_role("link", name="Rossi Giuseppe").click()
    await page.wait_for_url(re.compile(rf"/pratiche/{d['delivered']}\?da="))
    field = page.get_by_label("Posizione in graduatoria (per «In graduatoria»)")
    await expect(field).to_have_value(str(position))
    await expect(page.locator("#outcome-position-hint")).to_have_text(
        f"Proposta dalla graduatoria calcolata (Comuni Opera, Rozzano): {position}."
    )
    await page.get_by_role("radio", name="In graduatoria").check()
    await page.get_by_role("button", name="Registra l'esito e avvisa la famiglia").click()
    await page.wait_for_url(re.compile(r"fatto=esito"))
    await expect(page.locator("#esito-esito")).to_be_focused()
    # a change of an outcome the family was told asks first, and says they are told again
    await page.get_by_role("radio", name="Ammessa").check()
    await page.get_by_role("button", name="Registra l'esito e avvisa la famiglia").click()
    warning = page.locator("#avviso-esito")
    await expect(warning).to_be_focused()
    await expect(warning).to_contain_text(
        f"L'esito «In graduatoria, posizione {position}» è già stato registrato"
    )
    await expect(warning).to_contain_text("la famiglia riceve un nuovo messaggio")
    events = "SELECT COUNT(*) FROM dossier_events WHERE status = 'esito' AND dossier_id = ?"
    assert db.execute(events, [d["delivered"]]).fetchone()[0] == 1
    await _clean(page)
    await page.get_by_label("Sì, cambia l'esito: la famiglia viene avvisata di nuovo").check()
    await page.get_by_role("button", name="Registra l'esito e avvisa la famiglia").click()
    await page.wait_for_url(re.compile(r"fatto=esito"))
    await expect(page.locator("#esito-pratica")).to_have_text("Esito: Ammessa")
    assert db.execute(events, [d["delivered"]]).fetchone()[0] == 2

    # the next dossier of the graduatoria, without an outcome yet
    await page.get_by_role("link", name=re.compile("Pratica successiva")).click()
    await page.wait_for_url(re.compile(rf"/pratiche/{d['sent']}\?da="))
    await page.get_by_role("radio", name="In graduatoria").check()
    other = str(position + 5)
    await page.get_by_label("Posizione in graduatoria (per «In graduatoria»)").fill(other)
    await page.get_by_role("button", name="Registra l'esito e avvisa la famiglia").click()
    warning = page.locator("#avviso-esito")
    await expect(warning).to_contain_text("La graduatoria calcolata (Comuni Opera, Rozzano)")
    await expect(warning).to_contain_text(f", non {other}.")
    assert store.get_dossier(db, d["sent"])["outcome"] is None  # type: ignore[index]
    await page.get_by_label(f"Sì, registra la posizione {other}").check()
    await page.get_by_role("button", name="Registra l'esito e avvisa la famiglia").click()
    await page.wait_for_url(re.compile(r"fatto=esito"))
    assert store.get_dossier(db, d["sent"])["outcome_position"] == int(other)  # type: ignore[index]


async def test_a_repeated_protocol_number_is_confirmed_with_the_other_lines_errors(
    browser: Any, served: Served
):
    d = served.dossiers
    db = served.open_db()
    db["dossiers"].update(d["binasco"], {"protocol_number": "2025/500"})  # another comune
    store.record_protocol(db, d["delivered"], "2025/500", "2025-06-16")
    context = await new_context(browser, served, **NARROW)
    try:
        page = await context.new_page()
        await log_in(page, served.email("opera"))
        await page.goto("/protocollo")
        lines = f"{d['sent']};2025/500;16/06/2025\n{d['error']};2025/501;16/06/2025"
        await page.get_by_label("Righe del registro").fill(lines)
        await page.get_by_role("button", name="Registra i protocolli").click()
        check = page.locator("#controllo")
        await expect(check).to_be_focused()
        await expect(check).to_contain_text("Per i numeri già usati potete confermare già ora")
        await expect(check).to_contain_text(f"Riga 2 ({d['error']})")  # never reached the comune
        # the repeated number is confirmed now, while line 2 is being fixed
        await check.get_by_label(f"Sì, registra il numero 2025/500 anche per {d['sent']}").check()
        await _clean(page)
        await page.get_by_label("Righe del registro").fill(f"{d['sent']};2025/500;16/06/2025")
        await page.get_by_role("button", name="Registra i protocolli").click()
        await page.wait_for_url(re.compile(r"registrati="))
        await expect(page.locator("#esito")).to_contain_text("Registrato 1 protocollo")
        assert store.get_dossier(db, d["sent"])["protocol_number"] == "2025/500"  # type: ignore[index]
    finally:
        await context.close()


async def test_the_error_summary_names_each_field_and_leads_to_it(page: Any, served: Served):
    await log_in(page, served.email("opera"))
    await page.goto(f"/pratiche/{served.dossiers['delivered']}")
    await page.get_by_role("button", name="Chiedi i documenti alla famiglia").click()
    await page.wait_for_load_state("networkidle")
    summary = page.locator(".alert[role='alert']")
    links = summary.get_by_role("link")
    await expect(links).to_have_text(
        [
            "Documenti da chiedere: Scegliete almeno un documento da chiedere.",
            "Nota per la famiglia: Scrivete una nota per la famiglia: cosa manca e perché.",
        ]
    )
    await links.nth(1).click()
    await expect(page.locator("#note")).to_be_focused()
    await links.nth(0).click()
    await expect(page.locator("#integrazione input[type=checkbox]").first).to_be_focused()
    await _clean(page)
