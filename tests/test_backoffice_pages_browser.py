"""Every back-office page in Debian's Chromium: axe-core finds no violation at desktop
width and on a 320 px screen, nothing scrolls sideways at 320 px nor at 200% zoom; a
protocol entered inline from the list, with the confirmation beside it and the focus on
it; the warning before the session ends; the graduatoria page. The administrators'
"Avvisi" pages are checked the same way in test_backoffice_notices_browser.py."""

# ruff: noqa: F811

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from storage import dossiers as store
from tests.backoffice_fixtures import PASSWORD
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
ZOOM_200 = {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2}


def pages_of(served: Served) -> list[tuple[str, str]]:
    d = served.dossiers
    return [
        ("elenco da fare", "/pratiche"),
        ("elenco completo", "/pratiche?vista=tutte"),
        ("pratica consegnata", f"/pratiche/{d['delivered']}"),
        ("pratica in errore", f"/pratiche/{d['error']}"),
        ("pratica pronta", f"/pratiche/{d['ready']}"),
        ("protocolli", "/protocollo"),
        ("graduatorie", "/avvisi"),
        ("graduatoria", "/avvisi/visconteo-sud-milano-2025/graduatoria"),
        ("registro", "/registro"),
        ("uscita", "/logout"),
        ("accessibilità", "/accessibilita"),
        ("pagina inesistente", "/non-esiste"),
        ("pratica non vostra", f"/pratiche/{d['binasco']}"),
        ("avvisi, solo per gli amministratori", "/gestione-avvisi"),
    ]


async def test_every_page_has_no_axe_violations_and_no_sideways_scroll(
    browser: Any, served: Served
):
    axe = Axe()
    problems: list[str] = []
    checked = 0
    for device, options in (("desktop", {}), ("320px", NARROW), ("zoom200", ZOOM_200)):
        context = await new_context(browser, served, **options)
        try:
            page = await context.new_page()
            await page.goto("/login")
            targets = [("accesso", "/login")]
            if device != "zoom200":
                results = await axe.run(page)
                problems += [f"{device} accesso: {v}" for v in _violations(results)]
            if problem := await horizontal_overflow(page):
                problems.append(f"{device} accesso: {problem}")
            await log_in(page, served.email("opera"))
            targets = pages_of(served)
            for name, path in targets:
                await page.goto(path)
                await page.wait_for_load_state("networkidle")
                checked += 1
                if device != "zoom200":
                    results = await axe.run(page)
                    problems += [f"{device} {name}: {v}" for v in _violations(results)]
                if problem := await horizontal_overflow(page):
                    problems.append(f"{device} {name}: {problem}")
        finally:
            await context.close()
    assert checked == 3 * len(pages_of(served))
    assert not problems, "\n".join(problems)


def _violations(results: Any) -> list[str]:
    out = []
    for v in results.response.get("violations", []):
        targets = [",".join(n["target"]) for n in v["nodes"]][:3]
        out.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return out


async def test_the_sideways_scroll_check_fails_on_a_page_too_wide(browser: Any, served: Served):
    """The check used above is not blind: a page made wider than the screen is caught."""
    context = await new_context(browser, served, **NARROW)
    try:
        page = await context.new_page()
        await page.goto("/login")
        assert await horizontal_overflow(page) is None
        await page.evaluate(
            "() => { const p = document.createElement('p'); p.style.width = '500px';"
            " p.textContent = 'x'; document.body.appendChild(p); }"
        )
        assert "sticking out" in (await horizontal_overflow(page) or "")
    finally:
        await context.close()


async def test_protocol_inline_from_the_list_with_the_confirmation_focused(
    page: Any, served: Served
):
    dossier_id = served.dossiers["sent"]
    await log_in(page, served.email("opera"))
    await page.get_by_role("link", name="Beneficiario").click()  # sort by name
    await page.wait_for_url(re.compile(r"ordina=nome"))
    row = page.locator(f"#riga-{dossier_id}")
    await expect(row.get_by_label(f"Data di protocollo di {dossier_id}")).to_have_value(
        "16/06/2025"
    )
    await row.get_by_label(f"Numero di protocollo di {dossier_id}").fill("RZ-2025-31")
    await row.get_by_role("button", name=f"Registra il protocollo di {dossier_id}").click()
    await page.wait_for_url(re.compile(r"fatto=protocollo"))
    assert "ordina=nome" in page.url  # the list as she left it
    confirmation = page.locator(f"#riga-{dossier_id} #conferma")
    await expect(confirmation).to_have_text(
        f"Protocollo n. RZ-2025-31 registrato per {dossier_id}."
    )
    await expect(confirmation).to_be_focused()
    await expect(confirmation).to_be_in_viewport()
    await expect(page.locator(f"#riga-{dossier_id} td[data-label='Protocollo']")).to_contain_text(
        "n. RZ-2025-31 del 16/06/2025"
    )
    # the same number on another dossier: a warning beside it, focused, then confirmed
    other = served.dossiers["delivered"]
    row = page.locator(f"#riga-{other}")
    await row.get_by_label(f"Numero di protocollo di {other}").fill("RZ-2025-31")
    await row.get_by_role("button", name=f"Registra il protocollo di {other}").click()
    warning = page.locator(f"#avviso-{other}")
    await expect(warning).to_contain_text("è già registrato per la pratica")
    await expect(warning).to_be_focused()
    await row.get_by_label("Sì, registra lo stesso numero").check()
    await row.get_by_role("button", name=f"Registra il protocollo di {other}").click()
    await page.wait_for_url(re.compile(r"fatto=protocollo"))
    db = served.open_db()
    assert store.get_dossier(db, other)["protocol_number"] == "RZ-2025-31"  # type: ignore[index]
    # reloading the confirmation records nothing again (post, redirect, get)
    await page.reload()
    rows = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'record_protocol'").fetchone()
    assert rows[0] == 2


async def test_the_session_warns_before_it_ends_and_can_go_on(page: Any, served: Served):
    await log_in(page, served.email("opera"))
    served.clock.advance(hours=7, minutes=55)  # five minutes left
    await page.goto(f"/pratiche/{served.dossiers['delivered']}")
    warning = page.locator("#avviso-sessione")
    await expect(warning).to_be_visible()
    await expect(warning).to_have_attribute("role", "alert")
    await expect(warning).to_contain_text("La sessione finisce tra 5 minuti")
    await page.locator("#note").fill("Testo che non deve perdersi")
    await warning.get_by_role("button", name="Resta collegato").click()
    await expect(page.locator("#sessione-rinnovata")).to_contain_text(
        "Sessione rinnovata fino alle"
    )
    await expect(warning).to_be_hidden()
    await expect(page.locator("#note")).to_have_value("Testo che non deve perdersi")
    served.clock.advance(hours=7)  # past the first eight hours: still in
    await page.goto("/registro")
    await expect(page.locator("h1")).to_have_text("Registro degli accessi")


async def test_after_the_session_ends_the_typed_note_comes_back_after_login(
    page: Any, served: Served
):
    dossier_id = served.dossiers["delivered"]
    await log_in(page, served.email("opera"))
    await page.goto(f"/pratiche/{dossier_id}")
    await page.get_by_label("Busta paga dell'assistente", exact=True).check()
    await page.locator("#note").fill("Manca la busta paga di maggio.")
    served.clock.advance(hours=8, minutes=5)
    await page.get_by_role("button", name="Chiedi i documenti alla famiglia").click()
    await page.wait_for_url(re.compile(r"/login\?next="))
    await page.locator("#email").fill(served.email("opera"))
    await page.locator("#password").fill(PASSWORD)
    await page.get_by_role("button", name="Entra").click()
    await page.wait_for_url(re.compile(rf"/pratiche/{dossier_id}\?bozza="))
    await expect(page.locator("#note")).to_have_value("Manca la busta paga di maggio.")
    await expect(page.locator("#item-payslip")).to_be_checked()
    await page.get_by_role("button", name="Chiedi i documenti alla famiglia").click()
    await page.wait_for_url(re.compile(r"fatto=integrazione"))
    await expect(page.locator("#esito-integrazione")).to_be_focused()
    await expect(page.locator("#stato-pratica")).to_have_text("Integrazione richiesta")


async def test_graduatoria_page_and_outcome_from_the_dossier(page: Any, served: Served):
    dossier_id = served.dossiers["delivered"]
    await log_in(page, served.email("opera"))
    await page.goto(f"/pratiche/{dossier_id}")
    await page.get_by_label("Funzioni mantenute nella scala ADL (da 0 a 6)").fill("1")
    await page.get_by_label("Funzioni mantenute nella scala IADL (da 0 a 8)").fill("2")
    await page.get_by_role("button", name="Registra le scale").click()
    await page.wait_for_url(re.compile(r"fatto=valutazione"))
    await expect(page.locator("#esito-valutazione")).to_be_focused()
    await expect(page.locator("#punteggio-totale")).to_have_text("80 punti")  # 20 + 40 + 20
    await page.get_by_role("radio", name="In graduatoria").check()
    await page.get_by_label("Posizione in graduatoria (per «In graduatoria»)").fill("1")
    await page.get_by_role("button", name="Registra l'esito e avvisa la famiglia").click()
    await page.wait_for_url(re.compile(r"fatto=esito"))
    await expect(page.locator("#esito-pratica")).to_have_text("Esito: In graduatoria, posizione 1")
    await (
        page.get_by_role("navigation", name="Menu principale")
        .get_by_role("link", name="Graduatorie")
        .click()
    )
    await page.get_by_role("link", name=re.compile("Assistenza indiretta anziani")).click()
    row = page.locator(f"#grad-{dossier_id}")
    await expect(row.locator("th")).to_have_text("1")
    await expect(row.locator("td[data-label='Totale punti']")).to_have_text("80")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="CSV della graduatoria").click()
    done = await info.value
    assert (await done.failure()) is None and done.suggested_filename.endswith(".csv")
