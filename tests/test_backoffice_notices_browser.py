"""The administrators' "Avvisi" page in Debian's Chromium: an admin uploads a broken file
and sees the problem with its line and field; uploads the example operator notice, reads
the preview, publishes it, and a family of one of its comuni gets a verdict through the
bot within the reload interval; withdraws it; makes a new notice from a bundled one with
new dates, downloads it, `sportello notice check` passes it, and publishes it. A social
worker who is not an admin gets the Italian 403. Every one of these pages passes axe-core
at desktop width and at 320 px with nothing scrolling sideways."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from bot.app import build_dispatcher
from bot.cli import main
from dialogs.live_catalogue import RELOAD_EVERY, LiveCatalogue
from storage import notices as published
from tests.botapi import BotAPI, Family, make_bot, start_api
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
from tests.test_backoffice_pages_browser import NARROW, _violations
from tests.test_bot_conversation import RESULT, follow
from tests.test_publish_notices import EXAMPLE, EXAMPLE_ID, GIUSSANO, OPEN_DAY

pytestmark = pytest.mark.asyncio(loop_scope="session")
EXAMPLE_CASES = EXAMPLE.with_name(f"{EXAMPLE_ID}.cases.yaml")


def broken_example(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "closes: 2027-04-15T12:00:00", "closes: 15 aprile 2027"
    )
    path = tmp_path / "avviso-rotto.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def start_family(db: Any, now: list[float]) -> tuple[Any, Any, Family]:
    """The bot, as `sportello serve` runs it, on the back-office's database: a Dispatcher
    with a LiveCatalogue whose clock the test moves."""
    api = BotAPI()
    runner, url = await start_api(api)
    live = LiveCatalogue(db, clock=lambda: now[0])
    bot = make_bot(url)
    dp = build_dispatcher(db, catalogue=live, clock=lambda: OPEN_DAY)
    family = Family(api, bot, dp, user_id=7171)
    await family.say("/start")
    await family.press("Italiano")
    await family.press("Sì, accetto")
    return runner, bot, family


def sportello(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_an_admin_checks_publishes_and_withdraws_a_notice_a_family_then_uses_it(
    browser: Any, served: Served, tmp_path: Path
):
    db = served.open_db()
    now = [1000.0]
    runner, bot, family = await start_family(db, now)
    context = await new_context(browser, served)
    try:
        page = await context.new_page()
        await log_in(page, served.email("admin"))
        await (
            page.get_by_role("navigation", name="Menu principale")
            .get_by_role("link", name="Avvisi")
            .click()
        )
        await expect(page.locator("h1")).to_have_text("Avvisi")

        # a broken file: the problem with its line and field, no button to publish
        await page.locator("#file-avviso").set_input_files(broken_example(tmp_path))
        await page.get_by_role("button", name="Controlla il file").click()
        await page.wait_for_url(re.compile(r"/gestione-avvisi/bozze/"))
        await expect(page.locator("#verdetto")).to_contain_text("Non si può pubblicare")
        await expect(page.locator("#verdetto")).to_be_focused()
        await expect(page.locator("#elenco-problemi")).to_contain_text(
            "avviso-rotto.yaml, riga 29, window.closes: deve essere una data come 2027-04-15"
        )
        await expect(page.get_by_role("button", name=re.compile("Pubblica"))).to_have_count(0)

        # the example operator notice and its cases: the preview, then published
        await page.get_by_role("link", name="Torna agli avvisi").click()
        await page.locator("#file-avviso").set_input_files(EXAMPLE)
        await page.locator("#file-casi").set_input_files(EXAMPLE_CASES)
        await page.get_by_role("button", name="Controlla il file").click()
        await page.wait_for_url(re.compile(r"/gestione-avvisi/bozze/"))
        await expect(page.locator("#verdetto")).to_contain_text("Si può pubblicare")
        preview = page.locator("#testo-anteprima")
        await expect(preview).to_contain_text("ESEMPIO – Avviso Misura B2 2027")
        await expect(preview).to_contain_text("Comuni [Art. 1]: Carate Brianza, Albiate")
        await expect(preview).to_contain_text("Importo: 100 € al mese, per 12 mesi.")

        texts = await family.say("Giussano")  # before: the regional pre-check
        assert "Quali di questi documenti" in texts[-1]

        await page.get_by_role("button", name=f"Pubblica l'avviso {EXAMPLE_ID}").click()
        await page.wait_for_url(re.compile(r"fatto=pubblicato"))
        await expect(page.locator("#esito")).to_have_text(
            f"Avviso {EXAMPLE_ID} pubblicato: il bot lo usa entro 30 secondi."
        )
        await expect(page.locator("#esito")).to_be_focused()
        row = page.locator(f"#avviso-{EXAMPLE_ID}")
        await expect(row).to_contain_text("pubblicato da admin@sportello.example.it")
        await expect(row).to_contain_text("dal 15/03/2027 al 15/04/2027 ore 12:00")

        now[0] += RELOAD_EVERY  # within the minute the bot uses it, no restart
        assert RELOAD_EVERY <= 60
        await family.say("/ricomincia")
        texts = await family.say("Giussano")
        assert "Vive a casa" in texts[-1]
        texts = await follow(family, GIUSSANO, texts)
        result = "\n".join(texts[texts.index(next(t for t in texts if RESULT in t)) :])
        assert "ESEMPIO – Avviso Misura B2 2027" in result
        assert "✅ <b>Buono mensile per il caregiver familiare</b>: potete chiederlo" in result

        # withdrawn: the bot stops using it within the minute
        await row.get_by_role("link", name=f"Ritira {EXAMPLE_ID}").click()
        await page.wait_for_url(re.compile(rf"/gestione-avvisi/{EXAMPLE_ID}/ritira$"))
        effects = page.locator("#effetti")  # first what families will see, then the choice
        await expect(effects).to_contain_text("Entro un minuto il bot smette di usare")
        await expect(effects).to_contain_text("Carate Brianza, Albiate")
        await expect(effects).to_contain_text("«🔔 Avvisatemi quando apre»")
        await expect(page.locator("#in-preparazione")).to_contain_text("Nessuna famiglia")
        await page.get_by_role("link", name="No, torna agli avvisi").click()
        await expect(row).to_contain_text("pubblicato da admin@sportello.example.it")
        assert EXAMPLE_ID in published.in_force(db)
        await row.get_by_role("link", name=f"Ritira {EXAMPLE_ID}").click()
        await page.get_by_role("button", name=f"Sì, ritira l'avviso {EXAMPLE_ID}").click()
        await page.wait_for_url(re.compile(r"fatto=ritirato"))
        await expect(page.locator("#esito")).to_contain_text(f"Avviso {EXAMPLE_ID} ritirato")
        await expect(page.locator(f"#avviso-{EXAMPLE_ID}")).to_contain_text("ritirato da")
        now[0] += RELOAD_EVERY
        await family.say("/ricomincia")
        texts = await family.say("Giussano")
        assert "Quali di questi documenti" in texts[-1]
        assert published.in_force(db) == {}
        rows = db.execute(
            "SELECT action, staff_email FROM audit_log WHERE action LIKE '%notice' ORDER BY id"
        ).fetchall()
        assert rows == [
            ("check_notice", "admin@sportello.example.it"),
            ("check_notice", "admin@sportello.example.it"),
            ("publish_notice", "admin@sportello.example.it"),
            ("unpublish_notice", "admin@sportello.example.it"),
        ]
    finally:
        await context.close()
        await bot.session.close()
        await runner.cleanup()


async def test_a_new_notice_from_a_bundled_one_is_downloaded_checked_and_published(
    browser: Any, served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    context = await new_context(browser, served)
    try:
        page = await context.new_page()
        await log_in(page, served.email("admin"))
        await page.goto("/gestione-avvisi")
        await page.get_by_role(
            "link", name=re.compile(r"^Nuovo avviso da questo\W+visconteo-sud-milano-2025$")
        ).click()
        await expect(page.locator("h1")).to_have_text("Nuovo avviso da uno esistente")
        await expect(page.get_by_label("Codice del nuovo avviso")).to_have_value(
            "visconteo-sud-milano-2026"
        )
        await expect(page.get_by_label("Comuni dell'avviso, uno per riga")).to_contain_text(
            "Rozzano"
        )
        # the document is left empty: a new year's notice is a new document
        await page.get_by_label("Giorno di apertura").fill("16/03/2026")
        await page.get_by_label("Giorno di chiusura").fill("16/04/2026")
        await page.get_by_label("Ora di chiusura, se l'avviso la dice").fill("12:00")
        await page.get_by_role("button", name="Prepara il nuovo avviso").click()
        errors = page.locator("#errori-modulo")
        await expect(errors).to_contain_text("Il nuovo avviso non è stato preparato")
        await expect(errors).to_contain_text("Scrivete il titolo del documento.")
        await expect(errors).to_be_focused()
        await expect(page.get_by_label("Giorno di apertura")).to_have_value("16/03/2026")

        await page.get_by_label("Anno del fondo").fill("FNA 2025, esercizio 2026")
        await page.get_by_label("Titolo del documento").fill(
            "Avviso pubblico Misura B2 – FNA 2025, esercizio 2026"
        )
        await page.get_by_label("Data del documento").fill("02/03/2026")
        await page.get_by_label("Indirizzo dove è pubblicato").fill(
            "https://www.comune.rozzano.mi.it/albo/b2-2026"
        )
        await page.get_by_label("ISEE sociosanitario o sociosanitario (nucleo ristretto)").fill(
            "26.000"
        )
        await page.get_by_role("button", name="Prepara il nuovo avviso").click()
        await page.wait_for_url(re.compile(r"/gestione-avvisi/bozze/"))
        await expect(page.locator("#verdetto")).to_contain_text("Si può pubblicare")
        await expect(page.locator("#note-derivazione")).to_contain_text("dice ancora «2025»")
        await expect(page.locator("#casi-derivati")).to_contain_text("Casi: ne restano")
        await expect(page.locator("#testo-anteprima")).to_contain_text(
            "Fonte: Avviso pubblico Misura B2 – FNA 2025, esercizio 2026, 02/03/2026"
        )

        async with page.expect_download() as info:
            await page.locator("#scarica-avviso").click()
        notice = await info.value
        assert notice.suggested_filename == "visconteo-sud-milano-2026.yaml"
        await notice.save_as(tmp_path / notice.suggested_filename)
        async with page.expect_download() as info:
            await page.locator("#scarica-casi").click()
        cases = await info.value
        await cases.save_as(tmp_path / cases.suggested_filename)

        monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path / "cli"))
        code, out, err = sportello(
            "notice", "check", str(tmp_path / notice.suggested_filename), "--today", "2026-03-20"
        )
        assert code == 0, err
        assert "Stato oggi: aperto" in out and "Si può pubblicare" in err

        await page.get_by_role("button", name="Pubblica l'avviso visconteo-sud-milano-2026").click()
        await page.wait_for_url(re.compile(r"fatto=pubblicato"))
        await expect(page.locator("#avviso-visconteo-sud-milano-2026")).to_contain_text(
            "pubblicato da admin@sportello.example.it"
        )
        db = served.open_db()
        p = published.in_force(db)["visconteo-sud-milano-2026"]
        assert p.text == (tmp_path / notice.suggested_filename).read_text(encoding="utf-8")
    finally:
        await context.close()


async def fill_vimercate(page: Any) -> None:
    """The derive form, as the tester filled it: Vimercate's comuni and PEC."""
    await page.get_by_label("Codice del nuovo avviso").fill("vimercate-trezzo-2026")
    await page.get_by_label("Titolo del documento").fill("Avviso Misura B2 – FNA 2025")
    await page.get_by_label("Data del documento").fill("18/11/2026")
    await page.get_by_label("Indirizzo dove è pubblicato").fill(
        "https://www.offertasocialeasc.it/avvisi/b2-2026"
    )
    await page.get_by_label("Giorno di apertura").fill("20/11/2026")
    await page.get_by_label("Giorno di chiusura").fill("15/01/2027")
    await page.get_by_label("Comuni dell'avviso, uno per riga").fill(
        "Vimercate\nArcore\nConcorezzo\nUsmate Velate\nBernareggio"
    )
    await page.get_by_label("Indirizzo", exact=True).fill("protocollo@pec.offertasocialeasc.it")


async def test_a_new_notice_for_another_ambito_cannot_keep_the_old_one_silently(
    browser: Any, served: Served
):
    context = await new_context(browser, served)
    try:
        page = await context.new_page()
        await log_in(page, served.email("admin"))
        await page.goto("/gestione-avvisi/visconteo-sud-milano-2025/nuovo")
        await expect(page.get_by_label("Ambito", exact=True)).to_have_value(
            "Ambito distrettuale Visconteo Sud Milano (capofila Rozzano)"
        )
        await expect(page.locator("#f-alt-address-0")).to_have_value(
            "Ufficio Protocollo del Comune di Rozzano"
        )
        await fill_vimercate(page)
        await page.get_by_role("button", name="Prepara il nuovo avviso").click()
        await page.wait_for_url(re.compile(r"/gestione-avvisi/bozze/"))
        # the old Ambito kept with other comuni: a false declaration, not publishable
        await expect(page.locator("#verdetto")).to_contain_text("Non si può pubblicare")
        problems = page.locator("#elenco-problemi")
        await expect(problems).to_contain_text("I Comuni sono cambiati ma l'Ambito è ancora")
        await expect(problems).to_contain_text("declarations.0.says: La frase «che {beneficiario}")
        await expect(problems).to_contain_text("nomina ancora Rozzano")
        await expect(page.get_by_role("button", name=re.compile("Pubblica"))).to_have_count(0)
        await expect(page.get_by_text("caricatelo qui sopra")).to_have_count(0)
        await expect(page.locator("#verdetto a")).to_have_attribute(
            "href", "/gestione-avvisi#carica"
        )

        await page.goto("/gestione-avvisi/visconteo-sud-milano-2025/nuovo")
        await fill_vimercate(page)
        await page.get_by_label("Ambito", exact=True).fill(
            "Ambito di Vimercate e Trezzo (capofila Vimercate)"
        )
        await page.locator("#f-addressee").fill("Offerta Sociale asc – Ufficio Protocollo")
        await page.get_by_label("Come lo spiega l'avviso").first.fill(
            "Inviate la domanda per PEC a Offerta Sociale."
        )
        await page.locator("#f-alt-address-0").fill("Ufficio Protocollo di Offerta Sociale")
        await page.locator("#f-alt-addressee-0").fill("Offerta Sociale asc – Ufficio Protocollo")
        await page.locator("#f-alt-text-0").fill("Consegna a mano a Offerta Sociale.")
        await page.get_by_role("button", name="Prepara il nuovo avviso").click()
        await page.wait_for_url(re.compile(r"/gestione-avvisi/bozze/"))
        await expect(page.locator("#verdetto")).to_contain_text("Si può pubblicare")
        preview = page.locator("#testo-anteprima")
        await expect(preview).to_contain_text("Ambito di Vimercate e Trezzo (capofila Vimercate)")
        await expect(preview).to_contain_text("Ufficio Protocollo di Offerta Sociale")
        await expect(preview).not_to_contain_text("Rozzano")
    finally:
        await context.close()


async def test_a_social_worker_who_is_not_admin_gets_the_italian_403(page: Any, served: Served):
    await log_in(page, served.email("opera"))
    await expect(
        page.get_by_role("navigation", name="Menu principale").get_by_role("link", name="Avvisi")
    ).to_have_count(0)
    response = await page.goto("/gestione-avvisi")
    assert response is not None and response.status == 403
    await expect(page.locator("h1")).to_have_text("Pagina per gli amministratori")
    await expect(page.locator(".alert")).to_contain_text("chiedete a un amministratore")


async def test_the_notice_pages_have_no_axe_violations_and_no_sideways_scroll(
    browser: Any, served: Served
):
    db = served.open_db()
    at = dt.datetime(2025, 6, 16, 8, 0, tzinfo=dt.UTC)
    text = EXAMPLE.read_text(encoding="utf-8")
    good = published.keep_draft(
        db, EXAMPLE.name, text, "admin", at, cases_text=EXAMPLE_CASES.read_text()
    )
    bad = published.keep_draft(
        db, "rotto.yaml", text.replace("  - name: Renate", "  - name: Renat"), "admin", at
    )
    published.publish(db, EXAMPLE_ID, text, "admin")
    pages = [
        ("avvisi", "/gestione-avvisi"),
        ("file da pubblicare", f"/gestione-avvisi/bozze/{good.token}"),
        ("file con problemi", f"/gestione-avvisi/bozze/{bad.token}"),
        ("nuovo avviso", "/gestione-avvisi/ambito-5-melzo-2025/nuovo"),
        ("nuovo avviso con ufficio", "/gestione-avvisi/visconteo-sud-milano-2025/nuovo"),
        ("ritirare", f"/gestione-avvisi/{EXAMPLE_ID}/ritira"),
    ]
    axe = Axe()
    problems: list[str] = []
    for device, options in (("desktop", {}), ("320px", NARROW)):
        context = await new_context(browser, served, **options)
        try:
            page = await context.new_page()
            await log_in(page, served.email("admin"))
            for name, path in pages:
                await page.goto(path)
                problems += [f"{device} {name}: {v}" for v in _violations(await axe.run(page))]
                if problem := await horizontal_overflow(page):
                    problems.append(f"{device} {name}: {problem}")
            # the form with its errors shown
            await page.goto("/gestione-avvisi/ambito-5-melzo-2025/nuovo")
            await page.get_by_label("Giorno di chiusura").fill("31/02/2026")
            await page.get_by_role("button", name="Prepara il nuovo avviso").click()
            await expect(page.locator("#errori-modulo")).to_be_visible()
            problems += [f"{device} errori: {v}" for v in _violations(await axe.run(page))]
            if problem := await horizontal_overflow(page):
                problems.append(f"{device} errori: {problem}")
        finally:
            await context.close()
    assert not problems, "\n".join(problems)
