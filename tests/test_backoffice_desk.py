"""The social worker's desk over HTTP (httpx against the app): the work queue, protocol
numbers entered fast and safely, outcomes told to the family once (through the Bot API
stand-in), integrations with a deadline and a reminder, errors that say who acts, the
team's notes, several dossiers in one download, the audit log, and the pages for
everyone (Italian error pages, a form kept across a new login, the accessibility
statement)."""

# ruff: noqa: F811

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import zipfile
from typing import Any

import httpx
import pytest

from bot.i18n import make_i18n
from bot.notify import tell_families
from dossier.reminders import remind_families
from storage import audit, integrations
from storage import dossiers as store
from tests.backoffice_fixtures import World
from tests.botapi import BotAPI, make_bot, start_api
from tests.documents import document_photo
from tests.test_backoffice import (  # the fixtures are used by name
    client_for,
    hidden,
    listed_ids,
    logged_in,
    login,
    template,  # noqa: F401
    world,  # noqa: F401
)


def fields(page: str) -> dict[str, str]:
    return {"csrf": hidden(page)}


async def post(client: httpx.AsyncClient, path: str, csrf: str, **data: Any) -> httpx.Response:
    return await client.post(path, data={"csrf": csrf, **data})


# -- the work queue ------------------------------------------------------------------------


async def test_the_list_opens_on_what_needs_doing_with_counts_and_sorting(world: World):
    w = world.dossiers
    async with logged_in(world) as (client, _csrf):
        page = (await client.get("/pratiche")).text
        assert listed_ids(page) == {w["delivered"], w["sent"], w["error"]}
        assert "Da fare (3)" in page
        # counts per status are links that filter
        counts = page.split('aria-label="Pratiche per stato"')[1].split("</nav>")[0]
        assert "Consegnata al protocollo: 1" in counts and "Errore di invio: 1" in counts
        every = (await client.get("/pratiche", params={"vista": "tutte"})).text
        assert "Pronta per l&#39;invio: 1" in every
        # a row says its documents, the pre-check, the protocol (missing) and the next step
        row = page.split(f'id="riga-{w["sent"]}"')[1].split("</tr>")[0]
        assert re.search(r">(\d+)/(\d+)<span", row) and "Requisiti presenti" in row
        assert "Manca" in row and "Registrare il protocollo" in row
        assert "Errore di invio: vedete la causa" in page
        # sorting by name, both ways
        up = await client.get("/pratiche", params={"vista": "tutte", "ordina": "nome"})
        names = re.findall(r'class="name">([^<]+)', up.text)
        assert names == sorted(names, key=str.casefold) and len(names) == 4
        down = await client.get(
            "/pratiche", params={"vista": "tutte", "ordina": "nome", "verso": "desc"}
        )
        assert re.findall(r'class="name">([^<]+)', down.text) == names[::-1]
        # the link to a dossier carries the list's filters, and the page leads back to them
        link = re.search(rf'href="(/pratiche/{w["ready"]}\?da=[^"]+)"', up.text)
        assert link is not None
        back = await client.get(html.unescape(link.group(1)))
        assert 'href="/pratiche?vista=tutte&amp;ordina=nome"' in back.text


async def test_mine_filter_shows_the_dossiers_assigned_to_me(world: World):
    w = world.dossiers
    me = world.staff["opera"]
    async with logged_in(world) as (client, csrf):
        answer = await post(client, f"/pratiche/{w['sent']}/assegna", csrf, assigned_to=str(me.id))
        assert answer.status_code == 303
        page = await client.get("/pratiche", params={"vista": "tutte", "mie": "1"})
        assert listed_ids(page.text) == {w["sent"]}
        assert f"Assegnata a {me.email}" in page.text
        # a colleague of another comune cannot be chosen
        binasco = world.staff["binasco"]
        refused = await post(
            client, f"/pratiche/{w['sent']}/assegna", csrf, assigned_to=str(binasco.id)
        )
        assert refused.status_code == 400
        assert "Scegliete un collega che segue questo Comune." in refused.text
    [entry] = [e for e in audit.entries(world.db) if e["action"] == "assign"]
    assert entry["detail"] == {"to": me.email}


# -- protocol numbers ----------------------------------------------------------------------


async def test_protocol_refused_where_the_dossier_never_reached_the_comune(world: World):
    w = world.dossiers
    store.set_status(world.db, w["ready"], "salvata", {"saved_to_folder": True})
    async with logged_in(world) as (client, csrf):
        for label in ("error", "ready"):
            answer = await post(
                client,
                f"/pratiche/{w[label]}/protocollo",
                csrf,
                protocol_number="2025/1",
                protocol_date="16/06/2025",
            )
            assert answer.status_code == 400, label
            assert "non è arrivata al Comune" in answer.text
            assert store.get_dossier(world.db, w[label])["protocol_number"] is None  # type: ignore[index]


@pytest.mark.parametrize("typed", ["16062025", "16 06 2025", "16/6/25", "16.06.2025", ""])
async def test_protocol_dates_as_people_type_them_and_today_when_empty(world: World, typed: str):
    dossier_id = world.dossiers["delivered"]
    async with logged_in(world) as (client, csrf):
        answer = await post(
            client,
            f"/pratiche/{dossier_id}/protocollo",
            csrf,
            protocol_number="2025/77",
            protocol_date=typed,
        )
        assert answer.status_code == 303, answer.text
    assert store.get_dossier(world.db, dossier_id)["protocol_date"] == "2025-06-16"  # type: ignore[index]


async def test_a_number_already_used_asks_for_a_confirmation(world: World):
    w = world.dossiers
    async with logged_in(world) as (client, csrf):
        first = await post(
            client, f"/pratiche/{w['delivered']}/protocollo", csrf, protocol_number="2025/9"
        )
        assert first.status_code == 303
        again = await post(
            client, f"/pratiche/{w['sent']}/protocollo", csrf, protocol_number="2025/9"
        )
        assert again.status_code == 409
        assert f"Il numero 2025/9 è già registrato per la pratica {w['delivered']}" in again.text
        assert 'name="confirm"' in again.text and 'value="2025/9"' in again.text
        assert store.get_dossier(world.db, w["sent"])["protocol_number"] is None  # type: ignore[index]
        confirmed = await post(
            client,
            f"/pratiche/{w['sent']}/protocollo",
            csrf,
            protocol_number="2025/9",
            confirm="1",
        )
        assert confirmed.status_code == 303
    assert store.get_dossier(world.db, w["sent"])["protocol_number"] == "2025/9"  # type: ignore[index]


async def test_protocol_inline_from_the_list_comes_back_to_the_same_filters(world: World):
    w = world.dossiers
    async with logged_in(world) as (client, csrf):
        back = "/pratiche?vista=tutte&ordina=nome"
        answer = await post(
            client,
            f"/pratiche/{w['sent']}/protocollo",
            csrf,
            protocol_number="RZ-1",
            protocol_date="",
            back=back,
            **{"from": "list"},
        )
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("/pratiche?vista=tutte&ordina=nome&fatto=protocollo")
        assert location.endswith(f"#riga-{w['sent']}")
        page = await client.get(location)
        row = page.text.split(f'id="riga-{w["sent"]}"')[1].split("</tr>")[0]
        assert 'role="status"' in row and "Protocollo n. RZ-1 registrato" in row
        assert "autofocus" in row
        # an error comes back in the row, on the same list, with what was typed
        wrong = await post(
            client,
            f"/pratiche/{w['delivered']}/protocollo",
            csrf,
            protocol_number="X",
            protocol_date="31/02/2025",
            back=back,
            **{"from": "list"},
        )
        assert wrong.status_code == 400
        row = wrong.text.split(f'id="riga-{w["delivered"]}"')[1].split("</tr>")[0]
        assert "Questa data non è valida" in row and 'value="31/02/2025"' in row


async def test_several_protocol_numbers_pasted_from_the_register(world: World):
    w = world.dossiers
    async with logged_in(world) as (client, csrf):
        page = await client.get("/protocollo")
        assert page.status_code == 200
        bad = await post(
            client,
            "/protocollo",
            csrf,
            righe=f"pratica;numero;data\n{w['delivered']};2025/1;16062025\n"
            f"{w['error']};2025/2;16/06/2025\nB2-ZZZZZZ;2025/3\nsolo testo",
        )
        assert bad.status_code == 400
        text = html.unescape(bad.text)
        assert "non è arrivata al Comune" in text
        assert "Nessuna pratica dei vostri Comuni ha questo codice" in text
        assert "Riga 5: scrivetela come" in text
        assert store.get_dossier(world.db, w["delivered"])["protocol_number"] is None  # type: ignore[index]
        good = await post(
            client,
            "/protocollo",
            csrf,
            righe=f"{w['delivered']};2025/1;16062025\n{w['sent']}\t2025/2\t13/6/25",
        )
        assert good.status_code == 303
        done = await client.get(good.headers["location"])
        assert "Registrati 2 protocolli" in done.text
    assert store.get_dossier(world.db, w["delivered"])["protocol_date"] == "2025-06-16"  # type: ignore[index]
    assert store.get_dossier(world.db, w["sent"])["protocol_date"] == "2025-06-13"  # type: ignore[index]


# -- outcomes, told to the family once -------------------------------------------------------


async def test_an_outcome_reaches_the_family_in_their_language_once(world: World):
    dossier_id = world.dossiers["delivered"]
    english = world.dossiers["binasco"]
    world.db["dossiers"].update(english, {"language": "en"})
    api = BotAPI()
    runner, url = await start_api(api)
    bot = make_bot(url)
    try:
        await tell_families(bot, world.db, make_i18n())  # what was pending before
        before = len(api.calls)
        async with logged_in(world) as (client, csrf):
            missing = await post(client, f"/pratiche/{dossier_id}/esito", csrf, outcome="esclusa")
            assert missing.status_code == 400 and "Scrivete il motivo" in missing.text
            for _ in range(2):  # saved twice: told once
                answer = await post(
                    client,
                    f"/pratiche/{dossier_id}/esito",
                    csrf,
                    outcome="in_graduatoria",
                    position="3",
                    confirm_position="1",  # no scales yet: the graduatoria gives no place
                )
                assert answer.status_code == 303
            assert "fatto=esito-uguale" in answer.headers["location"]
        async with logged_in(world, "binasco") as (client, csrf):
            answer = await post(client, f"/pratiche/{english}/esito", csrf, outcome="finanziata")
            assert answer.status_code == 303
        assert await tell_families(bot, world.db, make_i18n()) == 2
        assert await tell_families(bot, world.db, make_i18n()) == 0
        sent = [c for c in api.calls[before:] if c.method == "sendMessage"]
        to_family = [c for c in sent if int(c.params["chat_id"]) == 4242]
        assert len(to_family) == 1
        assert "è in graduatoria, al posto 3" in html.unescape(to_family[0].params["text"])
        assert dossier_id in to_family[0].params["text"]
        [to_english] = [c for c in sent if int(c.params["chat_id"]) == 4747]
        assert "has been funded" in to_english.params["text"]
    finally:
        await bot.session.close()
        await runner.cleanup()
    recorded = [e for e in audit.entries(world.db) if e["action"] == "record_outcome"]
    assert len(recorded) == 2
    assert {e["dossier_id"] for e in recorded} == {dossier_id, english}


# -- integrations ----------------------------------------------------------------------------


async def test_integration_with_deadline_reminder_added_items_and_new_files(world: World):
    dossier_id = world.dossiers["delivered"]
    dossier = store.get_dossier(world.db, dossier_id)
    assert dossier is not None
    async with logged_in(world) as (client, csrf):
        page = (await client.get(f"/pratiche/{dossier_id}")).text
        assert 'value="26/06/2025"' in page  # the deadline proposed: ten days
        answer = await post(
            client,
            f"/pratiche/{dossier_id}/integrazione",
            csrf,
            items="payslip",
            modello="busta_paga",  # a template, the note left empty
            due_on="20062025",
        )
        assert answer.status_code == 303
        [request] = integrations.requests_of(world.db, dossier_id)
        assert request["due_on"] == "2025-06-20"
        assert request["note"].startswith("Serve l'ultima busta paga")
        # a document forgotten: added to the same request
        added = await post(
            client,
            f"/pratiche/{dossier_id}/integrazione/aggiungi",
            csrf,
            items="isee_attestation",
            **{"reason-isee_attestation": "illeggibile"},
        )
        assert added.status_code == 303
        [request] = integrations.requests_of(world.db, dossier_id)
        assert request["items"] == ["payslip:mancante", "isee_attestation:illeggibile"]
        kinds = [
            e["status"]
            for e in store.events_to_tell(world.db, 1000)
            if e["dossier_id"] == dossier_id
        ]
        assert kinds[-2:] == ["integrazione_richiesta", "integrazione_aggiunta"]
        for e in store.events_to_tell(world.db, 1000):
            store.mark_told(world.db, e["id"])
        integrations.mark_told(world.db, request["id"])
        # two days before the deadline the family is reminded, once
        assert remind_families(world.db, dt.datetime(2025, 6, 17, 8, tzinfo=dt.UTC)) == 0
        assert remind_families(world.db, dt.datetime(2025, 6, 18, 8, tzinfo=dt.UTC)) == 1
        assert remind_families(world.db, dt.datetime(2025, 6, 19, 8, tzinfo=dt.UTC)) == 0
        [reminder] = store.events_to_tell(world.db, 1000)
        assert reminder["status"] == "integrazione_promemoria"
        assert reminder["detail"]["due_on"] == "2025-06-20"
        # the family sends a new payslip: marked new, with its date
        world.desk.file(dossier_id, document_photo(999, size=(900, 1200)), item_id="payslip")  # type: ignore[union-attr]
        page = (await client.get(f"/pratiche/{dossier_id}")).text
        card = page.split('id="doc-payslip"')[1].split("</article>")[0]
        assert card.count('class="badge new">Nuovo') == 1
        assert "1 nuovo dopo la richiesta" in card and "Arrivato il" in card
        assert "Termine per la famiglia: 20/06/2025" in page
        assert "promemoria mandato il" in page


async def test_the_family_reads_the_deadline_and_the_added_documents(world: World):
    dossier_id = world.dossiers["delivered"]
    integrations.request_integration(
        world.db,
        dossier_id,
        staff_id=1,
        items=["payslip:mancante"],
        note="Manca",
        due_on="2025-06-26",
    )
    request = integrations.open_request(world.db, dossier_id)
    assert request is not None
    integrations.add_items(world.db, request["id"], ["isee_attestation:mancante"], "")
    api = BotAPI()
    runner, url = await start_api(api)
    bot = make_bot(url)
    try:
        await tell_families(bot, world.db, make_i18n())
    finally:
        await bot.session.close()
        await runner.cleanup()
    texts = [html.unescape(c.params["text"]) for c in api.calls if c.method == "sendMessage"]
    asked = [t for t in texts if "chiedono altri documenti" in t]
    also = [t for t in texts if "chiedono anche questi documenti" in t]
    assert len(asked) == 1 and "Mandateli entro il 26/06/2025." in asked[0]
    assert len(also) == 1 and "Attestazione ISEE" in also[0]


# -- errors that say who acts ------------------------------------------------------------------


async def test_an_error_says_its_cause_at_the_top_and_who_acts(world: World):
    w = world.dossiers
    store.set_status(world.db, w["ready"], "salvata", {"saved_to_folder": True})
    async with logged_in(world) as (client, _csrf):
        page = (await client.get(f"/pratiche/{w['error']}")).text
        top = page.split("<main")[1].split('id="riepilogo"')[0]
        assert "La casella PEC del protocollo è piena" in top
        assert "Cosa fa l'ufficio:" in top and "Liberate spazio" in top
        assert "Cosa fa l'operatore dello sportello:" in top
        assert "--requeue" not in page  # commands are for operators
        saved = (await client.get(f"/pratiche/{w['ready']}")).text
        assert "Salvata, non inviata" in saved
        assert "SMTP_HOST" not in saved and "NON inviata" not in saved
    async with logged_in(world, "admin") as (client, _csrf):
        page = (await client.get(f"/pratiche/{w['error']}")).text
        assert f"sportello outbox --requeue {w['error']}" in page


# -- team notes ---------------------------------------------------------------------------------


async def test_team_notes_stay_in_the_office(world: World):
    dossier_id = world.dossiers["delivered"]
    told_before = len(store.events_to_tell(world.db, 1000))
    async with logged_in(world) as (client, csrf):
        empty = await post(client, f"/pratiche/{dossier_id}/nota", csrf, text="  ")
        assert empty.status_code == 400 and "Scrivete la nota." in empty.text
        answer = await post(
            client, f"/pratiche/{dossier_id}/nota", csrf, text="Visita fissata il 20/06."
        )
        assert answer.status_code == 303
        page = (await client.get(answer.headers["location"])).text
        notes = page.split('id="note-interne"')[1].split("</ul>")[0]
        assert "Visita fissata il 20/06." in notes and world.staff["opera"].email in notes
        assert 'id="esito-nota"' in page and "autofocus" in page.split('id="esito-nota"')[0][-200:]
    assert len(store.events_to_tell(world.db, 1000)) == told_before  # nothing for the family
    [entry] = [e for e in audit.entries(world.db) if e["action"] == "team_note"]
    assert entry["detail"] == {"text": "Visita fissata il 20/06."}


# -- several dossiers in one download -----------------------------------------------------------


async def test_the_chosen_dossiers_download_as_one_zip(world: World):
    w = world.dossiers
    async with logged_in(world) as (client, csrf):
        for path, data in (
            ("protocollo", {"protocol_number": "2025/77", "protocol_date": "16/06/2025"}),
            ("valutazione", {"adl": "1", "iadl": "2"}),
            ("esito", {"outcome": "ammessa"}),
            ("nota", {"text": "Solo per i colleghi: richiamare la figlia"}),
        ):
            done = await post(client, f"/pratiche/{w['delivered']}/{path}", csrf, **data)
            assert done.status_code == 303, (path, done.text[:300])
        response = await client.get(
            "/pratiche/archivio.zip", params=[("pratica", w["delivered"]), ("pratica", w["sent"])]
        )
        assert response.status_code == 200
        outer = zipfile.ZipFile(io.BytesIO(response.content))
        assert sorted(outer.namelist()) == sorted(
            [f"pratica-{w['delivered']}.zip", f"pratica-{w['sent']}.zip", "riepilogo-pratiche.csv"]
        )
        # the summary: one row per dossier, protocol, scales, points, outcome; no notes
        summary = list(
            csv.DictReader(
                io.StringIO(outer.read("riepilogo-pratiche.csv").decode("utf-8-sig")),
                delimiter=";",
            )
        )
        by_id = {r["Pratica"]: r for r in summary}
        assert list(by_id) == [w["delivered"], w["sent"]]
        rossi = by_id[w["delivered"]]
        assert (rossi["Protocollo"], rossi["Data protocollo"]) == ("2025/77", "16/06/2025")
        assert (rossi["ADL (valore)"], rossi["IADL (valore)"], rossi["Punti totali"]) == (
            "1", "2", "80",
        )  # fmt: skip
        assert rossi["Esito"] == "Ammessa" and rossi["Cognome"] == "Rossi"
        assert rossi["Integrazioni chieste"] == "0" and rossi["Nel file ZIP"] == "sì"
        assert "Solo per i colleghi" not in outer.read("riepilogo-pratiche.csv").decode()
        assert not any("nota" in h.casefold() for h in summary[0])
        for name in [n for n in outer.namelist() if n.endswith(".zip")]:
            inner = zipfile.ZipFile(io.BytesIO(outer.read(name)))
            assert inner.testzip() is None and "riepilogo-istanza.json" in inner.namelist()
        # one of another comune among them: refused whole, nothing sent
        refused = await client.get(
            "/pratiche/archivio.zip",
            params=[("pratica", w["delivered"]), ("pratica", w["binasco"])],
        )
        assert refused.status_code == 403
        none = await client.get("/pratiche/archivio.zip")
        assert none.status_code == 400 and "Nessuna pratica scelta" in none.text
    [entry] = [e for e in audit.entries(world.db) if e["action"] == "download_archive"]
    assert entry["detail"] == {"dossiers": [w["delivered"], w["sent"]]}


# -- the audit log ----------------------------------------------------------------------------


async def test_audit_log_one_row_per_view_filters_pages_and_csv(world: World):
    dossier_id = world.dossiers["delivered"]
    thumbs = [a["id"] for a in store.attachments(world.db, dossier_id) if a["kind"] == "jpeg"]
    async with logged_in(world) as (client, _csrf):
        page = (await client.get(f"/pratiche/{dossier_id}")).text
        for attachment in thumbs:
            assert f"/pratiche/{dossier_id}/miniatura/{attachment}" in page
            assert (
                await client.get(f"/pratiche/{dossier_id}/miniatura/{attachment}")
            ).status_code == 200
        views = [e["action"] for e in audit.entries(world.db, dossier_id=dossier_id)]
        assert views == ["view_dossier"]  # the thumbnails add nothing
    world.clock.advance(days=2)
    async with logged_in(world) as (client, _csrf):
        await client.get(f"/pratiche/{world.dossiers['sent']}")
    async with logged_in(world, "admin") as (client, _csrf):
        mine = await client.get(
            "/registro", params={"chi": world.staff["opera"].email, "dal": "18/06/2025"}
        )
        table = mine.text.split('id="registro"')[1]
        assert world.dossiers["sent"] in table and dossier_id not in table
        assert world.staff["admin"].email not in table
        bad = await client.get("/registro", params={"dal": "31/02/2025"})
        assert "Questa data non è valida" in bad.text
        export = await client.get("/registro.csv", params={"pratica": dossier_id})
        assert export.headers["content-type"].startswith("text/csv")
        lines = export.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "Quando;Chi;Azione;Pratica;Dettagli"
        assert any("Apertura pratica" in line and dossier_id in line for line in lines[1:])
    # paging: a hundred rows a page
    for _ in range(120):
        audit.log(world.db, world.staff["admin"], "view_list", at=world.clock())
    async with logged_in(world, "admin") as (client, _csrf):
        first = (await client.get("/registro")).text
        assert "Pagina 1 di 2" in first and first.count('<tr class="action-') == 100
        second = (await client.get("/registro", params={"pagina": 2})).text
        assert "Pagina 2 di 2" in second


# -- pages for everyone -----------------------------------------------------------------------


async def test_errors_are_italian_pages(world: World):
    transport = httpx.ASGITransport(app=world.app, raise_app_exceptions=False)
    async with logged_in(world) as (client, _csrf):
        for path, status, title in (
            ("/non-esiste", 404, "Pagina non trovata"),
            (f"/pratiche/{world.dossiers['delivered']}/file/abc", 422, "Indirizzo non valido"),
        ):
            page = await client.get(path)
            assert page.status_code == status, path
            assert page.headers["content-type"].startswith("text/html")
            assert '<html lang="it">' in page.text and f"<h1>{title}</h1>" in page.text
        wrong_method = await client.put("/pratiche")
        assert wrong_method.status_code == 405 and "Operazione non disponibile" in wrong_method.text
        # GET /logout: a page with the button, not an error
        leave = await client.get("/logout")
        assert leave.status_code == 200 and "Esci dallo sportello" in leave.text

    world.app.state.services.catalogue = None  # the dossier page cannot be built
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, world.staff["opera"].email)
        page = await client.get(f"/pratiche/{world.dossiers['delivered']}")
        assert page.status_code == 500
        assert "<h1>Errore dello sportello</h1>" in page.text and "Traceback" not in page.text


async def test_what_was_typed_survives_the_end_of_the_session(world: World):
    dossier_id = world.dossiers["delivered"]
    note = "Manca la busta paga di maggio: mandatela in chat."
    async with client_for(world) as client:
        await login(client, world.staff["opera"].email)
        page = await client.get(f"/pratiche/{dossier_id}")
        csrf = hidden(page.text)
        world.clock.advance(hours=8, minutes=1)  # the session ends while she types
        answer = await client.post(
            f"/pratiche/{dossier_id}/integrazione",
            data={
                "csrf": csrf,
                "form": "integration",
                "back": f"/pratiche/{dossier_id}",
                "items": "payslip",
                "note": note,
            },
        )
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")
        assert integrations.requests_of(world.db, dossier_id) == []
        login_page = await client.get(answer.headers["location"])
        target = html.unescape(re.search(r'name="next" value="([^"]*)"', login_page.text).group(1))  # type: ignore[union-attr]
        assert target.startswith(f"/pratiche/{dossier_id}?bozza=")
        again = await client.post(
            "/login",
            data={
                "email": world.staff["opera"].email,
                "password": "Assistente-Sociale-2025",
                "csrf": hidden(login_page.text),
                "next": target,
            },
        )
        assert again.status_code == 303 and again.headers["location"] == target
        restored = (await client.get(target)).text
        assert f">{note}</textarea>" in html.unescape(restored).replace("&#39;", "'")
        assert 'id="item-payslip" checked' in restored
        assert "Abbiamo ripreso quello che avevate scritto" in restored
        # once only
        assert "Abbiamo ripreso" not in (await client.get(target)).text


async def test_the_accessibility_statement_and_the_feedback_address(world: World):
    world.services.settings.sportello_feedback_email = "accessibilita@visconteo.example.it"  # type: ignore[misc]
    async with client_for(world) as anonymous:
        page = await anonymous.get("/login")
        assert 'href="/accessibilita">Dichiarazione di accessibilità</a>' in page.text
        assert "mailto:accessibilita@visconteo.example.it" in page.text
        statement = await anonymous.get("/accessibilita")
        assert (
            statement.status_code == 200
            and "<h1>Dichiarazione di accessibilità</h1>" in statement.text
        )
        assert "mailto:accessibilita@visconteo.example.it" in statement.text


async def test_a_position_the_graduatoria_does_not_give_asks_for_a_confirmation(world: World):
    """One page comes back (409) with the warning and the graduatoria's own hint, both
    from one computation; nothing is kept until she ticks the box."""
    dossier_id = world.dossiers["delivered"]
    async with logged_in(world) as (client, csrf):
        again = await post(
            client, f"/pratiche/{dossier_id}/esito", csrf, outcome="in_graduatoria", position="3"
        )
        assert again.status_code == 409
        page = html.unescape(again.text)
        assert "non dà ancora una posizione a questa pratica" in page
        assert 'name="confirm_position"' in page and "Sì, registra la posizione 3" in page
        assert 'id="outcome-position-hint"' in page  # the hint the page gives, computed once
        assert 'value="3"' in page  # what she typed stays in the form
        assert store.get_dossier(world.db, dossier_id)["outcome"] is None  # type: ignore[index]
        confirmed = await post(
            client,
            f"/pratiche/{dossier_id}/esito",
            csrf,
            outcome="in_graduatoria",
            position="3",
            confirm_position="1",
        )
        assert confirmed.status_code == 303
    assert store.get_dossier(world.db, dossier_id)["outcome_position"] == 3  # type: ignore[index]


# -- an application prepared at the counter: no chat to write to -----------------------------


async def test_a_request_for_a_family_helped_at_the_counter_says_how_to_reach_them(world: World):
    """The family has no Telegram chat: the page says to contact them (the phone they gave)
    and how to open the application at the counter; the request is not sent to a chat, and
    does not hold up the messages to the families in Telegram."""
    from common.counter import FIRST

    dossier_id = world.dossiers["delivered"]
    chat_family = world.dossiers["binasco"]
    world.db["dossiers"].update(dossier_id, {"user_id": FIRST - 4, "chat_id": FIRST - 4})
    api = BotAPI()
    runner, url = await start_api(api)
    bot = make_bot(url)
    try:
        await tell_families(bot, world.db, make_i18n())  # what was pending before
        before = len(api.calls)
        async with logged_in(world) as (client, csrf):
            page = await client.get(f"/pratiche/{dossier_id}")
            assert "Domanda preparata allo sportello" in page.text
            assert "telefono +39 333 123 4567" in page.text
            assert f"sportello console --pratica {dossier_id}" in page.text
            assert "nella chat di Telegram" not in page.text
            asked = await post(
                client,
                f"/pratiche/{dossier_id}/integrazione",
                csrf,
                items=["payslip"],
                **{"reason-payslip": "mancante"},
                note="Manca la busta paga di maggio.",
            )
            assert asked.status_code == 303
        async with logged_in(world, "binasco") as (client, csrf):
            answer = await post(
                client, f"/pratiche/{chat_family}/esito", csrf, outcome="finanziata"
            )
            assert answer.status_code == 303
        await tell_families(bot, world.db, make_i18n())
        sent = [c for c in api.calls[before:] if c.method == "sendMessage"]
        assert [int(c.params["chat_id"]) for c in sent] == [4747]  # the chat family only
        assert await tell_families(bot, world.db, make_i18n()) == 0  # nothing left waiting
        [request] = integrations.requests_of(world.db, dossier_id)
        assert request["status"] != "answered"  # open: the console shows it (--pratica)
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_a_document_sent_once_for_two_items_is_counted_for_both(world: World):
    """«È lo stesso documento»: one INPS verbale for two items. The page shows the second
    item complete (not "Non allegato") and the list counts it, as the family's checklist
    and the e-mail do; only the required items make the "n/m"."""
    from backoffice.views import documents_count, items_of

    dossier_id = world.dossiers["delivered"]
    dossier = store.get_dossier(world.db, dossier_id)
    assert dossier is not None
    rows = store.attachments(world.db, dossier_id)
    filed = [i for i in items_of(dossier) if any(a["item_id"] == i.id for a in rows)]
    first, second = [i for i in filed if i.required and not i.signed_form][:2]
    world.db.execute(  # the family sent it once, for the first; then «È lo stesso documento»
        "UPDATE attachments SET item_id = ? WHERE dossier_id = ? AND item_id = ?",
        [first.id, dossier_id, second.id],
    )
    dossier["data"]["same_as"] = {second.id: first.id}
    store.save_data(world.db, dossier_id, dossier["data"])
    dossier = store.get_dossier(world.db, dossier_id)
    assert dossier is not None
    done, of = documents_count(dossier, store.attachments(world.db, dossier_id))
    assert of == sum(1 for i in items_of(dossier) if i.required)
    async with logged_in(world) as (client, _csrf):
        page = await client.get(f"/pratiche/{dossier_id}")
        listing = await client.get("/pratiche?vista=tutte")
    block = page.text.split(f'id="doc-{second.id}"')[1].split("</article>")[0]
    assert "Non allegato" not in block and "Completo" in block
    assert "lo stesso documento di" in block
    row = listing.text.split(f'id="riga-{dossier_id}"')[1].split("</tr>")[0]
    assert f"{done}/{of}" in row
