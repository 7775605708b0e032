"""The back-office as a social worker sees it: real uvicorn on loopback, Debian's Chromium
driven by Playwright (see tests/browser.py). She logs in, finds the dossiers of her
comuni, opens one, downloads a file and the whole dossier, records the protocol number,
asks the family for a document (which reaches the family's Telegram chat, and comes back
"integrata"), reads the audit log; on a phone, and with the keyboard only."""

# The fixtures of tests/browser.py are imported here and taken as arguments by name.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from bot.app import build_dispatcher
from bot.i18n import make_i18n
from bot.notify import tell_families
from storage import audit
from storage import dossiers as store
from storage.integrations import requests_of
from tests.backoffice_fixtures import PASSWORD
from tests.botapi import BotAPI, Family, make_bot, start_api
from tests.browser import (  # the fixtures are used by name
    PHONE,
    Served,
    browser,  # noqa: F401
    context,  # noqa: F401
    horizontal_overflow,
    log_in,
    new_context,
    page,  # noqa: F401
    served,  # noqa: F401
    submit,
    template,  # noqa: F401
    today_in_rome,
    words_broken,
)
from tests.documents import document_photo

pytestmark = pytest.mark.asyncio(loop_scope="session")

MANIFEST = "riepilogo-istanza.json"


def listed(served: Served, comuni: tuple[str, ...]) -> set[str]:
    """What the list must show: every dossier of these comuni past the draft stage,
    read from the database, not from the app."""
    db = served.open_db()
    marks = ", ".join("?" for _ in comuni)
    rows = db.execute(
        f"SELECT id FROM dossiers WHERE municipality IN ({marks}) AND status != 'bozza'",
        list(comuni),
    ).fetchall()
    return {r[0] for r in rows}


async def row_ids(page: Any) -> list[str]:
    ids = await page.locator("#pratiche tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    return [i.removeprefix("riga-") for i in ids]


async def open_dossier(page: Any, dossier_id: str) -> None:
    """From the list, by clicking the dossier's code."""
    await page.locator(f"#riga-{dossier_id}").get_by_role("link", name=dossier_id).click()
    await page.wait_for_url(re.compile(rf"/pratiche/{dossier_id}(\?|$)"))
    await expect(page.locator("h1")).to_contain_text(f"Pratica {dossier_id}")


async def download(page: Any, link: Any) -> tuple[str, bytes]:
    async with page.expect_download() as info:
        await link.click()
    done = await info.value
    assert await done.failure() is None
    return done.suggested_filename, Path(await done.path()).read_bytes()


async def record_protocol(page: Any, number: str, date: str) -> None:
    await page.locator("#protocol_number").fill(number)
    await page.locator("#protocol_date").fill(date)
    await submit(page, page.get_by_role("button", name="Registra il protocollo"))


# -- logging in and the list -----------------------------------------------------------------


async def test_social_worker_logs_in_and_sees_only_her_comuni(page: Any, served: Served):
    staff = served.staff["opera"]
    await log_in(page, staff.email)
    assert await page.title() == "Pratiche – Sportello B2, servizi sociali"
    await expect(page.locator("header .who")).to_have_text(staff.email)
    # the list opens on what needs doing; every dossier is one click away
    await expect(page.get_by_role("link", name=re.compile(r"^Da fare \(\d+\)$"))).to_have_attribute(
        "aria-current", "page"
    )
    await page.get_by_role("link", name="Tutte le pratiche").click()
    await page.wait_for_url("**/pratiche?vista=tutte")

    shown = await row_ids(page)
    expected = listed(served, staff.comuni)
    assert len(shown) == len(set(shown)) and set(shown) == expected
    assert len(expected) == 4
    others = {served.dossiers["binasco"], served.dossiers["melzo"], served.dossiers["draft"]}
    assert others.isdisjoint(shown)
    # every row is of one of her comuni, and the names of the others are nowhere
    comuni = await page.locator("#pratiche tbody td[data-label='Comune']").all_inner_texts()
    assert sorted(set(comuni)) == ["Opera", "Rozzano"]
    body = await page.locator("body").inner_text()
    for name in ("Colombo", "Galli", "Binasco", "Melzo", "Verdi"):
        assert name not in body, name
    await expect(page.locator("#risultati")).to_have_text("4 pratiche.")
    delivered = page.locator(f"#riga-{served.dossiers['delivered']}")
    await expect(delivered).to_contain_text("Rossi Giuseppe")
    await expect(delivered).to_contain_text("Consegnata al protocollo")
    # readable on a desktop: no heading, name, comune, code or date split mid-word
    assert await words_broken(page.locator("#pratiche")) == []

    # the Binasco social worker sees Binasco's dossier only
    other = await new_context(page.context.browser, served)
    try:
        theirs = await other.new_page()
        await log_in(theirs, served.email("binasco"))
        assert set(await row_ids(theirs)) == {served.dossiers["binasco"]}
    finally:
        await other.close()


async def test_opens_a_dossier_and_downloads_a_file_and_the_zip(page: Any, served: Served):
    dossier_id = served.dossiers["delivered"]
    await log_in(page, served.email("opera"))
    await open_dossier(page, dossier_id)
    await expect(page.locator("h1")).to_have_text(f"Pratica {dossier_id}: Rossi Giuseppe")
    await expect(page.locator("#stato-pratica")).to_have_text("Consegnata al protocollo")

    # the answers, in Italian
    answers = page.locator("#tabella-risposte")
    await expect(answers.get_by_role("row", name="Data di nascita")).to_contain_text("20/05/1939")
    await expect(answers).to_contain_text("9.800,50")
    await expect(answers).to_contain_text("30 ore alla settimana")
    # the pre-check with its reasons
    precheck = page.locator("section[aria-labelledby='verifica']")
    await expect(precheck.locator(".verdict").first).to_have_text("Requisiti presenti")
    await expect(precheck).to_contain_text("ha compiuto 65 anni")
    # the people and the documents
    await expect(page.locator("section[aria-labelledby='persone']")).to_contain_text(
        "Via Roma 12, Opera"
    )
    db = served.open_db()
    attachments = store.attachments(db, dossier_id)
    items = [i["id"] for i in store.get_dossier(db, dossier_id)["data"]["checklist"]]
    for item in items:
        await expect(page.locator(f"#doc-{item} .badge")).to_have_text("Completo")
    assert await page.locator("ul.files > li").count() == len(attachments)
    # the history, receipts included, in order
    history = page.locator("#tabella-cronologia")
    await expect(history).to_contain_text("Ricevuta di avvenuta consegna")
    events = await history.locator("td[data-label='Evento']").all_inner_texts()
    assert events.index("Ricevuta di accettazione") < events.index("Ricevuta di avvenuta consegna")
    assert events[0] == "Pronta per l'invio"

    # one file: the bytes the family sent, as kept in the blob store
    isee = next(a for a in attachments if a["item_id"] == "isee_attestation")
    link = page.locator("#doc-isee_attestation").get_by_role("link", name=re.compile("^Scarica"))
    name, data = await download(page, link)
    assert name == f"{dossier_id}-attestazione-isee-{isee['seq']}.pdf"
    assert data == served.blobs().get(isee["sha256"]) == served.uploads[isee["id"]]
    assert served.blobs().name_of(data) == isee["sha256"]  # the keyed name of those bytes

    # the whole dossier: every file of its manifest, with the right SHA-256
    name, data = await download(page, page.get_by_role("link", name="Scarica tutta la pratica"))
    assert name == f"pratica-{dossier_id}.zip"
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    manifest = json.loads(archive.read(MANIFEST))
    assert manifest["dossier_id"] == dossier_id
    assert {f["item"] for f in manifest["files"]} == set(items)
    names = set(archive.namelist())
    for entry in manifest["files"]:
        assert entry["name"] in names, entry["name"]
        inside = archive.read(entry["name"])
        assert hashlib.sha256(inside).hexdigest() == entry["sha256"], entry["name"]
        assert len(inside) == entry["size"]
    receipts = sorted(n for n in names if n.startswith("ricevute-pec/"))
    assert receipts == ["ricevute-pec/01-accettazione.eml", "ricevute-pec/02-avvenuta-consegna.eml"]
    assert names == {f["name"] for f in manifest["files"]} | {MANIFEST, *receipts}

    assert await words_broken(page.locator("main")) == []  # readable on a desktop
    # in the integration form each "Motivo" label sits right beside its select
    far = await page.evaluate(
        """() => [...document.querySelectorAll("label.reason-label")].map(label => {
            const a = label.getBoundingClientRect();
            const b = document.getElementById(label.htmlFor).getBoundingClientRect();
            return [label.htmlFor, Math.round(b.left - a.right),
                    Math.round(Math.abs(a.top + a.bottom - b.top - b.bottom) / 2)];
        }).filter(([, dx, dy]) => dx < 0 || dx > 32 || dy > 12)"""
    )
    assert far == [], "label 'Motivo' away from its select: [id, dx, dy]"
    # nothing typed yet: no form on the page shows an error
    main = page.locator("main")
    assert "built-in method" not in await main.inner_text()
    await expect(main.locator(".error, .has-error, .alert, [aria-invalid='true']")).to_have_count(0)


async def test_records_a_protocol_number(page: Any, served: Served):
    dossier_id = served.dossiers["delivered"]
    await log_in(page, served.email("opera"))
    await page.goto(f"/pratiche/{dossier_id}")
    await expect(page.locator("#protocollo-registrato")).to_have_text("non ancora registrato")

    await record_protocol(page, "2025/0012345", "13/06/2025")
    assert "fatto=protocollo" in page.url
    await expect(page.get_by_role("status").first).to_contain_text("protocollo")
    await expect(page.locator("#protocollo-registrato")).to_have_text(
        "n. 2025/0012345 del 13/06/2025"
    )
    db = served.open_db()
    dossier = store.get_dossier(db, dossier_id)
    assert (dossier["protocol_number"], dossier["protocol_date"]) == ("2025/0012345", "2025-06-13")

    # a date in the future: the error is beside the date, and what was typed stays
    typed = (today_in_rome(served) + dt.timedelta(days=1)).strftime("%d/%m/%Y")
    await record_protocol(page, "2025/0099999", typed)
    assert await page.title() == f"Errore – Pratica {dossier_id} – Sportello B2, servizi sociali"
    date_field = page.locator(".field", has=page.locator("#protocol_date"))
    error = date_field.locator("#protocol_date-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("non può essere nel futuro")
    await expect(page.locator("#protocol_date")).to_have_value(typed)
    await expect(page.locator("#protocol_number")).to_have_value("2025/0099999")
    await expect(page.locator("#protocol_date")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#protocol_date")).to_have_accessible_description(
        re.compile("non può essere nel futuro")
    )
    gap = await page.evaluate(
        """() => document.getElementById("protocol_date-error").getBoundingClientRect().top
        - document.getElementById("protocol_date").getBoundingClientRect().bottom"""
    )
    assert 0 <= gap < 40  # right under the field
    await expect(page.locator(".alert[role='alert']")).to_contain_text("errori")
    # nothing changed
    dossier = store.get_dossier(db, dossier_id)
    assert (dossier["protocol_number"], dossier["protocol_date"]) == ("2025/0012345", "2025-06-13")


# -- an integration, to the family's chat and back --------------------------------------------


async def test_asks_the_family_for_a_missing_document_and_the_family_gets_it_in_telegram(
    page: Any, served: Served
):
    dossier_id = served.dossiers["delivered"]
    note = "Manca la busta paga di maggio 2025: mandatela qui in chat, anche come foto."
    await log_in(page, served.email("opera"))
    await page.goto(f"/pratiche/{dossier_id}")
    title = await page.locator("#doc-payslip h3").inner_text()
    assert title == "Busta paga dell'assistente"
    # nothing ticked: refused, with the reason beside the list, and the note kept
    await page.get_by_label("Nota per la famiglia").fill(note)
    await submit(page, page.get_by_role("button", name="Chiedi i documenti alla famiglia"))
    await expect(page.locator("fieldset #items-error")).to_have_text(
        "Scegliete almeno un documento da chiedere."
    )
    await expect(page.get_by_label("Nota per la famiglia")).to_have_value(note)
    await expect(page.locator("#stato-pratica")).to_have_text("Consegnata al protocollo")
    await page.get_by_label(title, exact=True).check()
    await page.get_by_label(f"Motivo per {title}").select_option("mancante")
    await page.get_by_label("Nota per la famiglia").fill(note)
    await page.get_by_role("button", name="Chiedi i documenti alla famiglia").click()
    await page.wait_for_url(re.compile(r"fatto=integrazione"))
    await expect(page.locator("#stato-pratica")).to_have_text("Integrazione richiesta")
    request = page.locator("#richieste > li").last
    await expect(request).to_contain_text("la famiglia non è ancora stata avvisata")
    await expect(request).to_contain_text("Busta paga")
    await expect(request).to_contain_text(note)
    await expect(page.locator("#chiedi-integrazione")).to_have_count(0)  # one open at a time

    db = served.open_db()
    dossier = store.get_dossier(db, dossier_id)
    [stored] = requests_of(db, dossier_id)
    assert stored["items"] == ["payslip:mancante"] and stored["note"] == note

    # the family's side: the bot tells them, they send the payslip, "Ho mandato tutto"
    api = BotAPI()
    runner, url = await start_api(api)
    api.url = url  # type: ignore[attr-defined]
    bot = make_bot(url)
    try:
        assert await tell_families(bot, db, make_i18n()) >= 1
        to_family = [
            c
            for c in api.calls
            if c.method == "sendMessage" and int(c.params["chat_id"]) == dossier["chat_id"]
        ]
        asked = [c for c in to_family if note in html.unescape(c.params["text"])]
        assert len(asked) == 1, [c.params["text"] for c in to_family]
        text = html.unescape(asked[0].params["text"])
        assert title in text and dossier_id in text
        buttons = [b for row in asked[0].params["reply_markup"]["inline_keyboard"] for b in row]
        assert any("Mando i documenti" in b["text"] for b in buttons), buttons
        assert requests_of(db, dossier_id)[0]["status"] == "sent"

        await page.reload()
        await expect(page.locator("#richieste > li").last).to_contain_text(
            "comunicata alla famiglia"
        )

        today = today_in_rome(served)
        dp = build_dispatcher(db, blobs=served.blobs(), clock=lambda: today)
        family = Family(api, bot, dp, user_id=dossier["user_id"])
        family.seen = len(api.sent(dossier["user_id"]))
        await family.press("Mando i documenti")
        payslip = document_photo(321, size=(1000, 1400))
        replies = await family.upload_photo(payslip)
        assert any(title in html.unescape(r) for r in replies), replies
        replies = await family.press("Ho mandato tutto")
        assert "Grazie" in replies[-1]
    finally:
        await bot.session.close()
        await runner.cleanup()

    assert store.get_dossier(db, dossier_id)["status"] == "integrata"
    await page.reload()
    await expect(page.locator("#stato-pratica")).to_have_text("Integrata dalla famiglia")
    await expect(page.locator("#richieste > li").last).to_contain_text("la famiglia ha risposto")
    await expect(page.locator("#doc-payslip")).to_contain_text("2 file")
    await expect(page.locator("#tabella-cronologia")).to_contain_text(
        "La famiglia ha mandato i documenti chiesti"
    )
    # the new payslip downloads as kept: the photo re-encoded, nothing else in the file
    link = page.locator("#doc-payslip").get_by_role("link", name=re.compile("^Scarica")).last
    _name, data = await download(page, link)
    from PIL import Image

    kept = Image.open(io.BytesIO(data))
    assert (kept.format, kept.size) == ("JPEG", Image.open(io.BytesIO(payslip)).size)
    # and a new request can be made again
    await expect(page.locator("#chiedi-integrazione")).to_be_visible()


# -- the audit log -----------------------------------------------------------------------------


async def test_audit_log_shows_views_downloads_and_changes(page: Any, served: Served):
    dossier_id = served.dossiers["sent"]
    staff = served.staff["opera"]
    await log_in(page, staff.email)
    await open_dossier(page, dossier_id)
    card = page.locator("#doc-isee_attestation")
    await download(page, card.get_by_role("link", name=re.compile("^Scarica")))
    await download(page, page.get_by_role("link", name="Scarica tutta la pratica"))
    await record_protocol(page, "RZ-2025-777", "12/06/2025")
    await page.get_by_label("Attestazione ISEE", exact=True).check()
    await page.locator("#reason-isee_attestation").select_option("illeggibile")
    await page.get_by_label("Nota per la famiglia").fill("La foto dell'ISEE non si legge.")
    await page.get_by_role("button", name="Chiedi i documenti alla famiglia").click()
    await page.wait_for_url(re.compile(r"fatto=integrazione"))
    await (
        page.get_by_role("navigation", name="Menu principale")
        .get_by_role("link", name="Registro degli accessi")
        .click()
    )
    await page.wait_for_url("**/registro")
    await expect(page.locator("h1")).to_have_text("Registro degli accessi")

    def row(action: str) -> Any:
        return page.locator(f"#registro tr.action-{action}")

    for action in (
        "login",
        "view_list",
        "view_dossier",
        "download_file",
        "download_zip",
        "record_protocol",
        "request_integration",
    ):
        await expect(row(action).first).to_be_visible()
        await expect(row(action).first.locator("td[data-label='Azione']")).to_have_text(
            audit.ACTIONS[action]
        )
        await expect(row(action).first.locator("td[data-label='Chi']")).to_have_text(staff.email)
        if action not in ("login", "view_list"):
            await expect(row(action).first.locator("td[data-label='Pratica']")).to_have_text(
                dossier_id
            )
    await expect(row("download_file").first).to_contain_text("Attestazione ISEE")
    await expect(row("record_protocol").first).to_contain_text(
        "protocollo RZ-2025-777 del 12/06/2025"
    )
    await expect(row("request_integration").first).to_contain_text("non si legge")
    # newest first, and every entry recorded before this page is on it
    actions = await page.locator("#registro tbody tr").evaluate_all(
        "rows => rows.map(r => r.className.replace('action-', ''))"
    )
    assert actions.index("request_integration") < actions.index("record_protocol")
    assert actions.index("download_zip") < actions.index("download_file")
    assert actions.index("view_dossier") < actions.index("view_list") < actions.index("login")
    db = served.open_db()
    everything = audit.entries(db, limit=1000, comuni=staff.comuni, staff_id=staff.id)
    [this_view] = [e for e in everything if e["action"] == "view_audit"]
    assert actions == [e["action"] for e in everything if e["id"] < this_view["id"]]


# -- a phone, a keyboard ----------------------------------------------------------------------


async def test_works_on_a_phone(browser: Any, served: Served, tmp_path: Path):
    """The list, a dossier and the register on a 390 px phone (and on a desktop, for the
    screenshots): nothing sticks out sideways, every control fits and takes a thumb, and
    the forms work with taps. Sideways overflow is collected and reported at the end, so
    the other checks still run."""
    dossier_id = served.dossiers["delivered"]
    too_wide: list[str] = []
    shots: list[Path] = []

    async def look(page: Any, name: str, *, full_page: bool = True) -> None:
        if problem := await horizontal_overflow(page):
            too_wide.append(f"{name}: {problem}")
        shots.append(tmp_path / f"{name}.png")
        await page.screenshot(path=shots[-1], full_page=full_page)

    for device, options in (("desktop", {}), ("phone", PHONE)):
        context = await new_context(browser, served, **options)
        touch = device == "phone"
        try:
            page = await context.new_page()
            await page.goto("/login")
            if problem := await horizontal_overflow(page):
                too_wide.append(f"{device}-login: {problem}")
            await page.locator("#email").fill(served.email("opera"))
            await page.locator("#password").fill(PASSWORD)
            entra = page.get_by_role("button", name="Entra")
            await (entra.tap() if touch else entra.click())
            await page.wait_for_url("**/pratiche")
            await look(page, f"{device}-list")
            link = page.locator(f"#riga-{dossier_id}").get_by_role("link", name=dossier_id)
            await (link.tap() if touch else link.click())
            await page.wait_for_url(re.compile(rf"/pratiche/{dossier_id}(\?|$)"))
            await page.wait_for_load_state("networkidle")  # the previews
            await look(page, f"{device}-dossier-top", full_page=False)
            await look(page, f"{device}-dossier")
            if not touch:
                continue

            # every form control of the dossier fits the screen and takes a thumb
            screen = page.viewport_size["width"]
            controls = page.locator(
                "main input:not([type=hidden]), main select, main textarea, main button, "
                "main a.button"
            )
            assert await controls.count() >= 20
            for i in range(await controls.count()):
                control = controls.nth(i)
                await control.scroll_into_view_if_needed()
                box = await control.bounding_box()
                name = await control.evaluate("e => e.id || e.name || e.textContent")
                assert box is not None, name
                assert box["x"] >= 0 and box["x"] + box["width"] <= screen, (name, box)
                if await control.get_attribute("type") in ("checkbox", "radio"):
                    assert min(box["width"], box["height"]) >= 20, (name, box)
                else:
                    assert box["height"] >= 40, (name, box)
            # ... and the forms work: a protocol with taps and the on-screen keyboard
            await page.locator("#protocol_number").tap()
            await page.keyboard.type("2025/4242")
            await expect(page.locator("#protocol_date")).to_have_value("16/06/2025")  # today
            await page.locator("#protocol_date").fill("")
            await page.locator("#protocol_date").tap()
            await page.keyboard.type("10/06/2025")
            await page.get_by_role("button", name="Registra il protocollo").tap()
            await page.wait_for_url(re.compile("fatto=protocollo"))
            await expect(page.locator("#protocollo-registrato")).to_have_text(
                "n. 2025/4242 del 10/06/2025"
            )
            # ... an integration: tapping the label ticks the box, the reason is a select
            await page.locator("label[for='item-payslip']").tap()
            await expect(page.locator("#item-payslip")).to_be_checked()
            await page.locator("#reason-payslip").select_option("mancante")
            await page.locator("#note").tap()
            await page.keyboard.type("Manca la busta paga di maggio.")
            await page.get_by_role("button", name="Chiedi i documenti alla famiglia").tap()
            await page.wait_for_url(re.compile("fatto=integrazione"))
            await expect(page.locator("#stato-pratica")).to_have_text("Integrazione richiesta")
            await page.get_by_role("link", name="Registro degli accessi").tap()
            await page.wait_for_url("**/registro")
            await look(page, "phone-registro", full_page=False)
        finally:
            await context.close()
    db = served.open_db()
    dossier = store.get_dossier(db, dossier_id)
    assert (dossier["protocol_number"], dossier["status"]) == (
        "2025/4242",
        "integrazione_richiesta",
    )
    for path in shots:
        assert path.stat().st_size > 5000, path  # a page, not a blank
    print("screenshots:", *map(str, shots))
    assert not too_wide, "pages wider than the screen:\n" + "\n".join(too_wide)


async def test_keyboard_only(page: Any, served: Served):
    await page.goto("/login")
    focused = "() => document.activeElement && (document.activeElement.id || document.activeElement.className)"
    await page.keyboard.press("Tab")
    assert await page.evaluate(focused) == "skip"
    skip = page.get_by_role("link", name="Vai al contenuto")
    await expect(skip).to_be_focused()
    box = await skip.bounding_box()
    assert box is not None and box["y"] >= 0  # it shows when focused
    await page.keyboard.press("Enter")
    await expect(page.locator("main#contenuto")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.locator("#email")).to_be_focused()
    await page.keyboard.type(served.email("opera"))
    await page.keyboard.press("Tab")
    await expect(page.locator("#password")).to_be_focused()
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/pratiche")

    # on the list: the skip link first again, then from the content to a dossier
    dossier_id = served.dossiers["delivered"]
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Vai al contenuto")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main#contenuto")).to_be_focused()
    target = page.locator(f"#riga-{dossier_id} a")
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await target.evaluate("e => e === document.activeElement"):
            break
    else:
        raise AssertionError("the dossier could not be reached with Tab")
    outline = await target.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"  # the focus can be seen
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf"/pratiche/{dossier_id}(\?|$)"))

    # every form field of the dossier page has a label that finds it
    db = served.open_db()
    items = store.get_dossier(db, dossier_id)["data"]["checklist"]
    expected = {
        "protocol_number": "Numero di protocollo",
        "protocol_date": "Data di protocollo",
        "note": "Nota per la famiglia",
        "modello": "Modello di nota",
        "due_on": "Termine per la famiglia",
        "adl": "Funzioni mantenute nella scala ADL (da 0 a 6)",
        "iadl": "Funzioni mantenute nella scala IADL (da 0 a 8)",
        "outcome-ammessa": "Ammessa",
        "outcome-esclusa": "Esclusa",
        "outcome-in_graduatoria": "In graduatoria",
        "outcome-finanziata": "Finanziata",
        "outcome-position": "Posizione in graduatoria (per «In graduatoria»)",
        "outcome-reason": "Motivo (per «Esclusa»: la famiglia lo legge)",
        "assigned_to": "Assegnata a",
        "team-note": "Nuova nota per i colleghi",
    }
    for item in items:
        expected[f"item-{item['id']}"] = item["title"]
        expected[f"reason-{item['id']}"] = f"Motivo per {item['title']}"
    controls = page.locator("main input:not([type=hidden]), main select, main textarea")
    ids = await controls.evaluate_all("els => els.map(e => e.id)")
    assert sorted(ids) == sorted(expected), "a form field without its expected label"
    for control_id, label in expected.items():
        found = page.get_by_label(label, exact=True)
        await expect(found).to_have_count(1)
        assert await found.evaluate("e => e.id") == control_id, label
        await expect(found).to_have_accessible_name(label)
    for button in (
        "Registra il protocollo",
        "Registra le scale",
        "Registra l'esito e avvisa la famiglia",
        "Chiedi i documenti alla famiglia",
        "Assegna",
        "Aggiungi la nota",
        "Esci",
    ):
        await expect(page.get_by_role("button", name=button)).to_have_count(1)
    # the protocol with the keyboard: type, Tab, type, Enter
    await page.locator("#protocol_number").focus()
    await page.keyboard.type("2025/0000111")
    await page.keyboard.press("Tab")
    await page.keyboard.type("02/06/2025")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile("fatto=protocollo"))
    await expect(page.locator("#protocollo-registrato")).to_have_text(
        "n. 2025/0000111 del 02/06/2025"
    )


# -- refusals ----------------------------------------------------------------------------------


async def test_wrong_password_and_lockout_are_explained(page: Any, served: Served):
    email = served.email("opera")
    await page.goto("/login")
    form = page.locator("form[action='/login']")
    for attempt in range(1, 6):
        await page.locator("#email").fill(email)
        await page.locator("#password").fill(f"sbagliata-{attempt}")
        await submit(page, page.get_by_role("button", name="Entra"))
        assert page.url.endswith("/login")
        error = page.locator("#login-error")
        await expect(error).to_be_visible()
        await expect(error).to_have_attribute("role", "alert")
        if attempt < 5:
            await expect(error).to_have_text("E-mail o password non corrette.")
        await expect(page.locator("#email")).to_have_value(email)  # kept
        await expect(page.locator("#password")).to_have_value("")
        await expect(page.locator("#password")).to_have_accessible_description(
            await error.inner_text()
        )
        # beside the form: just above it
        gap = await form.evaluate(
            """f => f.getBoundingClientRect().top
            - document.getElementById("login-error").getBoundingClientRect().bottom"""
        )
        assert 0 <= gap < 60
    # five failures: locked for a quarter of an hour, said in Italian with the time
    locked = page.locator("#login-error")
    await expect(locked).to_contain_text("Troppi tentativi non riusciti")
    await expect(locked).to_contain_text("sospeso")
    await expect(locked).to_contain_text("Riprovate dopo le 10:15 del 16/06/2025")
    # even the right password is refused until then
    await page.locator("#password").fill(PASSWORD)
    await submit(page, page.get_by_role("button", name="Entra"))
    assert page.url.endswith("/login")
    await expect(page.locator("#login-error")).to_contain_text("Riprovate dopo le 10:15")
    # a quarter of an hour later, she is in
    served.clock.advance(minutes=16)
    await page.locator("#password").fill(PASSWORD)
    await page.get_by_role("button", name="Entra").click()
    await page.wait_for_url("**/pratiche")


async def test_another_comune_dossier_is_forbidden(page: Any, served: Served):
    other = served.dossiers["binasco"]
    await log_in(page, served.email("opera"))
    for path in (f"/pratiche/{other}", f"/pratiche/{other}/zip"):
        response = await page.goto(path)
        assert response is not None and response.status == 403, path
        assert await page.locator("html").get_attribute("lang") == "it"
        await expect(page.locator("h1")).to_have_text("Pratica non disponibile")
        await expect(page.get_by_role("alert")).to_contain_text(
            "Tra le pratiche dei vostri Comuni non ce n'è una con questo codice"
        )
        assert "Colombo" not in await page.content()
        await expect(
            page.get_by_role("link", name="Torna all'elenco delle pratiche")
        ).to_be_visible()
    await page.get_by_role("link", name="Torna all'elenco delle pratiche").click()
    await page.wait_for_url("**/pratiche")
    # the refusals are in the log
    db = served.open_db()
    denied = [e for e in audit.entries(db) if e["action"] == "access_denied"]
    assert {e["dossier_id"] for e in denied} == {other} and len(denied) == 2
