"""The administrators' "Avvisi" pages over HTTP (httpx against the ASGI app): the list with
status and window, a file uploaded and checked (problems with line and field, the
preview), published and withdrawn with the audit log, "Nuovo avviso da uno esistente",
hostile uploads answered kindly (never a 500), and the Italian 403 for everyone else."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from dialogs.live_catalogue import LiveCatalogue
from eligibility import check, validate
from storage import alerts, audit
from storage import notices as published
from storage import staff as accounts
from storage.dossiers import create_dossier
from tests.backoffice_fixtures import TEST_HASHER, World, build_world, copy_world
from tests.example_notice import EXAMPLE
from tests.test_backoffice import logged_in

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CASES = EXAMPLE.with_name("esempio-brianza-2027.cases.yaml")
EXAMPLE_ID = "esempio-brianza-2027"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "hasher", TEST_HASHER)
        world = build_world(tmp_path_factory.mktemp("notices") / "var")
    yield world
    world.db.close()


@pytest.fixture
def world(template: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(accounts, "hasher", TEST_HASHER)
    world = copy_world(template, tmp_path / "var")
    yield world
    world.db.close()


def text_of(page: httpx.Response) -> str:
    """The page's words, without tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def files(notice: str | bytes, cases: str | bytes | None = None, name: str = "avviso.yaml"):
    out = {"avviso": (name, notice if isinstance(notice, bytes) else notice.encode())}
    if cases is not None:
        casename = name.removesuffix(".yaml") + ".cases.yaml"
        out["casi"] = (casename, cases if isinstance(cases, bytes) else cases.encode())
    return out


async def upload(client: httpx.AsyncClient, csrf: str, notice, cases=None, name="avviso.yaml"):
    response = await client.post(
        "/gestione-avvisi/prova", data={"csrf": csrf}, files=files(notice, cases, name)
    )
    if response.status_code == 303:
        return await client.get(response.headers["location"])
    return response


def actions(world: World) -> list[tuple[str, str | None, dict]]:
    return [
        (e["action"], e["staff_email"], e["detail"])
        for e in reversed(audit.entries(world.db, limit=1000))
        if "notice" in e["action"]
    ]


async def test_a_social_worker_who_is_not_admin_gets_the_italian_403(world: World):
    async with logged_in(world, "opera") as (client, csrf):
        for path in ("/gestione-avvisi", "/gestione-avvisi/visconteo-sud-milano-2025/nuovo"):
            page = await client.get(path)
            assert page.status_code == 403
            assert "Pagina per gli amministratori" in page.text
            assert "chiedete a un amministratore" in page.text
        refused = await client.post(
            "/gestione-avvisi/prova", data={"csrf": csrf}, files=files(EXAMPLE.read_text())
        )
        assert refused.status_code == 403
        menu = await client.get("/pratiche")
        assert 'href="/gestione-avvisi"' not in menu.text  # no menu entry either
    assert not list(world.db.query("SELECT * FROM notice_drafts"))


async def test_the_list_shows_every_notice_with_its_status_and_window(world: World):
    async with logged_in(world, "admin") as (client, _csrf):
        page = await client.get("/gestione-avvisi")
        assert page.status_code == 200
        assert 'href="/gestione-avvisi" aria-current="page">Avvisi' in page.text
        words = text_of(page)
        assert "Stato al 16/06/2025" in words
        row = page.text.split('id="avviso-visconteo-sud-milano-2025"')[1].split("</tr>")[0]
        assert "aperto" in row and "dal 21/05/2025 al 20/06/2025 ore 12:00" in row
        assert "incluso nel programma" in row
        melzo = page.text.split('id="avviso-ambito-5-melzo-2025"')[1].split("</tr>")[0]
        assert ">chiuso<" in melzo and "dal 12/05/2025 al 12/06/2025" in melzo
        gallarate = page.text.split('id="avviso-gallarate-riapertura-2026"')[1].split("</tr>")[0]
        assert "non ancora aperto" in gallarate
        milano = page.text.split('id="avviso-milano-assistenza-diretta-2025"')[1].split("</tr>")[0]
        assert "guida (nessun bando)" in milano and "Nuovo avviso" not in milano


async def test_a_broken_file_shows_each_problem_with_line_and_field(world: World):
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("closes: 2027-04-15T12:00:00", "closes: 15 aprile 2027")
    text = text.replace("  - name: Renate", "  - name: Renat")
    async with logged_in(world, "admin") as (client, csrf):
        page = await upload(client, csrf, text, name="rotto.yaml")
        assert page.status_code == 200
        words = text_of(page)
        assert "Non si può pubblicare: 2 problemi da correggere" in words
        assert "rotto.yaml, riga 29, window.closes: deve essere una data come 2027-04-15" in words
        assert "rotto.yaml, riga 22, municipalities.5.name: «Renat» non è un Comune" in words
        assert "Forse: Renate" in words
        assert 'id="pubblica"' not in page.text  # no button to publish it
        token = page.url.path.rsplit("/", 1)[1]
        forced = await client.post(f"/gestione-avvisi/bozze/{token}/pubblica", data={"csrf": csrf})
        assert forced.status_code == 400 and "Non pubblicato" in text_of(forced)
    assert published.in_force(world.db) == {}
    assert actions(world)[0][0] == "check_notice"


async def test_the_example_notice_is_previewed_published_found_and_withdrawn(world: World):
    async with logged_in(world, "admin") as (client, csrf):
        page = await upload(
            client, csrf, EXAMPLE.read_text(), EXAMPLE_CASES.read_text(), name=EXAMPLE.name
        )
        words = text_of(page)
        assert "Si può pubblicare" in words
        preview = page.text.split('id="testo-anteprima">')[1].split("</pre>")[0]
        assert "ESEMPIO – Avviso Misura B2 2027" in html.unescape(preview)
        assert "Fonte: Avviso di esempio Misura B2" in html.unescape(preview)
        assert "100 € al mese" in html.unescape(preview)
        token = page.url.path.rsplit("/", 1)[1]
        without_csrf = await client.post(f"/gestione-avvisi/bozze/{token}/pubblica")
        assert without_csrf.status_code == 403 and published.in_force(world.db) == {}
        done = await client.post(f"/gestione-avvisi/bozze/{token}/pubblica", data={"csrf": csrf})
        assert done.status_code == 303
        assert (
            done.headers["location"]
            == f"/gestione-avvisi?fatto=pubblicato&avviso={EXAMPLE_ID}#esito"
        )
        listing = await client.get(done.headers["location"])
        assert f"Avviso {EXAMPLE_ID} pubblicato: il bot lo usa entro 30 secondi." in text_of(listing)
        row = listing.text.split(f'id="avviso-{EXAMPLE_ID}"')[1].split("</tr>")[0]
        assert "non ancora aperto" in row  # 16/06/2025: it opens in 2027
        assert "pubblicato da admin@sportello.example.it il 16/06/2025 10:00 (versione 1)" in row

        p = published.in_force(world.db)[EXAMPLE_ID]
        assert p.published_by == "admin@sportello.example.it"
        assert p.cases_text == EXAMPLE_CASES.read_text()
        verdict = check(
            validate({"municipality": "Giussano", "application_date": "2027-03-20"}),
            LiveCatalogue(world.db),
        )
        assert verdict["notice"]["id"] == EXAMPLE_ID

        asked = await client.get(f"/gestione-avvisi/{EXAMPLE_ID}/ritira")  # nothing done yet
        assert asked.status_code == 200
        assert "Che cosa vedono le famiglie" in text_of(asked)
        assert "Nessuna famiglia sta preparando la domanda" in text_of(asked)
        assert EXAMPLE_ID in published.in_force(world.db)
        withdrawn = await client.post(f"/gestione-avvisi/{EXAMPLE_ID}/ritira", data={"csrf": csrf})
        assert withdrawn.status_code == 303
        listing = await client.get(withdrawn.headers["location"])
        assert f"Avviso {EXAMPLE_ID} ritirato" in text_of(listing)
        row = listing.text.split(f'id="avviso-{EXAMPLE_ID}"')[1].split("</tr>")[0]
        assert "ritirato da admin@sportello.example.it" in row and "Ritira" not in row
        again = await client.post(f"/gestione-avvisi/{EXAMPLE_ID}/ritira", data={"csrf": csrf})
        assert again.status_code == 404
        assert (await client.get(f"/gestione-avvisi/{EXAMPLE_ID}/ritira")).status_code == 404
    assert published.in_force(world.db) == {}
    assert [(a, who) for a, who, _ in actions(world)] == [
        ("check_notice", "admin@sportello.example.it"),
        ("publish_notice", "admin@sportello.example.it"),
        ("unpublish_notice", "admin@sportello.example.it"),
    ]
    assert actions(world)[1][2] == {"notice": EXAMPLE_ID, "version": 1, "file": EXAMPLE.name}


async def test_withdrawing_says_first_which_families_are_part_way_through(world: World):
    at = "2025-06-16T10:00:00"
    published.publish(world.db, EXAMPLE_ID, EXAMPLE.read_text(), "op", at=at)
    for user in (1, 2):
        create_dossier(
            world.db,
            user_id=user,
            chat_id=user,
            notice_id=EXAMPLE_ID,
            municipality="Giussano",
            language="it",
            data={},
        )
    alerts.want_reminders(world.db, 3, 3, EXAMPLE_ID, "Giussano", ["isee_attestation"])
    async with logged_in(world, "admin") as (client, _csrf):
        listing = await client.get("/gestione-avvisi")
        row = listing.text.split(f'id="avviso-{EXAMPLE_ID}"')[1].split("</tr>")[0]
        assert f'href="/gestione-avvisi/{EXAMPLE_ID}/ritira"' in row  # a link, not a button
        asked = await client.get(f"/gestione-avvisi/{EXAMPLE_ID}/ritira")
        words = text_of(asked)
        assert "2 famiglie stanno preparando la domanda" in words
        assert "il ritiro non manda loro nessun messaggio" in words
        assert "1 famiglia aspetta un promemoria prima della chiusura: non lo riceverà più" in words
        assert EXAMPLE_ID in published.in_force(world.db) and actions(world) == []
    assert published.families_of(world.db, EXAMPLE_ID) == published.Families(2, 0, 1)


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (BILLION_LAUGHS, "più di 50.000 valori"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "più di 40 livelli"),
        (b"%PDF-1.7\n\xff\xfe\x00\x01binary", "non è un testo UTF-8"),
        ("id: [unclosed\n", "il file non si legge (riga 2, colonna 1): un elenco tra [ ]"),
        ("- just\n- a list\n", "il file deve essere un elenco di campi"),
        ("", "è vuoto"),
        (
            (ROOT / "eligibility/data/notices/milano-assistenza-diretta-2025.yaml").read_text(),
            "si pubblicano solo gli avvisi (kind: notice)",
        ),
        ("x: " + "y" * 300_000, "è troppo grande"),
    ],
)
async def test_a_hostile_or_wrong_file_gets_a_kind_answer_never_a_500(
    world: World, content: str | bytes, said: str
):
    async with logged_in(world, "admin") as (client, csrf):
        page = await upload(client, csrf, content)
        assert page.status_code in (200, 400)
        assert said in text_of(page)


async def test_an_upload_over_one_megabyte_is_refused_before_it_is_read(world: World):
    async with logged_in(world, "admin") as (client, csrf):
        big = await client.post(
            "/gestione-avvisi/prova",
            data={"csrf": csrf},
            files={"avviso": ("grande.yaml", b"x" * (2 * 1024 * 1024))},
        )
        assert big.status_code == 413 and "File troppo grande" in big.text
        nothing = await client.post("/gestione-avvisi/prova", data={"csrf": csrf})
        assert nothing.status_code == 400
        assert "Scegliete il file dell'avviso" in text_of(nothing)


def sportello(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


NEW_YEAR = {
    "id": "visconteo-sud-milano-2026",
    "title": "Avviso pubblico Misura B2 2026 – Assistenza indiretta anziani",
    "year": "FNA 2025, esercizio 2026",
    "document_title": "Avviso pubblico Misura B2 – FNA 2025, esercizio 2026",
    "document_date": "02/03/2026",
    "document_address": "https://www.comune.rozzano.mi.it/albo/b2-2026",
    "opens_day": "16/03/2026",
    "opens_time": "",
    "closes_day": "16/04/2026",
    "closes_time": "12:00",
}


async def test_a_new_notice_from_a_bundled_one_passes_the_check_and_is_published(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    async with logged_in(world, "admin") as (client, csrf):
        form = await client.get("/gestione-avvisi/visconteo-sud-milano-2025/nuovo")
        assert form.status_code == 200
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.text))
        assert fields["id"] == "visconteo-sud-milano-2026"
        assert fields["isee:common_requirements.3.limits.0"] == "25.000"
        assert fields["amount:buono_assistente_familiare"] == "600"
        comuni = re.search(r'name="comuni"[^>]*>([^<]*)</textarea>', form.text)
        assert comuni and "Rozzano\nVernate" in html.unescape(comuni.group(1))
        data = {k: html.unescape(v) for k, v in fields.items() if k not in ("csrf", "back")}
        areas = re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form.text)
        data.update({k: html.unescape(v) for k, v in areas})
        data.update(
            {
                "csrf": csrf,
                "comuni": html.unescape(comuni.group(1)),
                "channel": "pec",
                "submission_text": "Inviate la domanda per PEC al Comune di Rozzano.",
                "amount_text:buono_assistente_familiare": "Da 200 € a 700 € al mese, per 12 mesi.",
            }
        )
        # a few mistakes first: each field says what is wrong, nothing typed is lost
        wrong = {
            **data,
            **NEW_YEAR,
            "document_date": "",
            "closes_day": "31/02/2026",
            "isee:common_requirements.3.limits.0": "tanti",
        }
        refused = await client.post("/gestione-avvisi/visconteo-sud-milano-2025/nuovo", data=wrong)
        assert refused.status_code == 400
        words = text_of(refused)
        assert "Scrivete la data del documento" in words
        assert "Questa data non esiste" in words or "non è valida" in words
        assert "in euro, come 25.000" in words
        assert 'value="https://www.comune.rozzano.mi.it/albo/b2-2026"' in refused.text

        right = {
            **data,
            **NEW_YEAR,
            "isee:common_requirements.3.limits.0": "26.000",
            "amount:buono_assistente_familiare": "700",
        }
        made = await client.post("/gestione-avvisi/visconteo-sud-milano-2025/nuovo", data=right)
        assert made.status_code == 303, text_of(made)
        page = await client.get(made.headers["location"])
        words = text_of(page)
        assert "Si può pubblicare" in words, words
        assert "Nuovo avviso preparato da «visconteo-sud-milano-2025»" in words
        assert "dice ancora «2025»" in words  # the sentences left from last year are named
        assert "Casi: ne restano" in words and "Tolti" in words
        token = page.url.path.rsplit("/", 1)[1]
        notice = await client.get(f"/gestione-avvisi/bozze/{token}/visconteo-sud-milano-2026.yaml")
        cases = await client.get(
            f"/gestione-avvisi/bozze/{token}/visconteo-sud-milano-2026.cases.yaml"
        )
        assert notice.status_code == 200 and cases.status_code == 200
        assert "attachment" in notice.headers["content-disposition"]
        yaml_text = notice.text
        assert "# Avviso derivato da «visconteo-sud-milano-2025»" in yaml_text
        assert "closes: 2026-04-16T12:00:00" in yaml_text and "max: 26000" in yaml_text
        assert "source: 001_" not in yaml_text
        assert "  address: https://www.comune.rozzano.mi.it/albo/b2-2026" in yaml_text
        assert "      # Art. 3 asks for a DSU" in yaml_text  # the original's comments kept
        assert "stamp at the end of the seed" not in yaml_text  # but not those on old dates

        # what was downloaded passes `sportello notice check` as it is
        monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path / "cli"))
        (tmp_path / "nuovo.yaml").write_text(yaml_text, encoding="utf-8")
        (tmp_path / "nuovo.cases.yaml").write_text(cases.text, encoding="utf-8")
        code, out, err = sportello(
            "notice", "check", str(tmp_path / "nuovo.yaml"), "--today", "2026-03-20"
        )
        assert code == 0, err
        assert "Stato oggi: aperto" in out, out[:600]
        assert "fino a 26.000,00\xa0€" in out

        done = await client.post(f"/gestione-avvisi/bozze/{token}/pubblica", data={"csrf": csrf})
        assert done.status_code == 303
    verdict = check(
        validate({"municipality": "Opera", "application_date": "2026-03-20"}),
        LiveCatalogue(world.db),
    )
    assert verdict["notice"]["id"] == "visconteo-sud-milano-2026"
    assert verdict["notice"]["source"].startswith("Avviso pubblico Misura B2 – FNA 2025")
    assert [a for a, _w, _d in actions(world)] == [
        "derive_notice",
        "download_notice",
        "download_notice",
        "publish_notice",
    ]


async def test_the_new_notice_form_sent_after_the_session_ended_comes_back_after_login(
    world: World,
):
    from tests.test_backoffice import login

    path = "/gestione-avvisi/ambito-5-melzo-2025/nuovo"
    async with logged_in(world, "admin") as (client, csrf):
        world.clock.advance(hours=8, minutes=5)
        sent = await client.post(
            path,
            data={
                "csrf": csrf,
                "back": path,
                "document_title": "Avviso B2 Melzo 2026",
                "closes_day": "12/06/2026",
            },
        )
        assert sent.status_code == 303 and "/login?next=" in sent.headers["location"]
        target = sent.headers["location"].split("next=")[1]
        assert (await login(client, world.staff["admin"].email)).status_code == 303
        from urllib.parse import unquote

        page = await client.get(unquote(target))
        assert page.status_code == 200
        assert 'value="Avviso B2 Melzo 2026"' in page.text
        assert 'value="12/06/2026"' in page.text
        assert "prima che la sessione finisse" in page.text
