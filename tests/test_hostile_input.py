"""Hostile input through the real Dispatcher and the real ASGI app: files, texts, buttons,
webhook bodies and back-office requests an attacker or a careless user sends. Each one
gets a kind answer (a message in chat, a page or a 4xx), never a traceback; what is kept
of an accepted file is clean; the cost of each file check is measured.
"""

from __future__ import annotations

import io
import itertools
import json
import resource
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from dialogs.buttons import Go, Stage
from dossier import bounded
from dossier.files import CheckedFile, check
from dossier.refusals import FileRefused
from storage.dossiers import attachments, dossiers_of
from tests import hostile as h
from tests.test_bot_dossier import at_checklist
from tests.test_file_checks import (
    document_image,
    encode,
    hand_made_pdf,
    p7m,
    photo,
    png_declaring,
    scanned_pdf,
)

MB = 1024 * 1024
URI_AA = "/AA << /O << /S /URI /URI (http://10.0.0.9/p) >> >>"

# (name, bytes, "refused" | "clean"): every file a family could send
FILES: list[tuple[str, bytes, str]] = [
    # the files
    ("PNG RGBA 8940x8940, 350 KB", h.png_rgba(8940, 8940), "refused"),
    ("PDF of 100,000 pages", h.many_pages_pdf(100_000), "refused"),
    ("PDF of 1,000,000 pages", h.many_pages_pdf(1_000_000), "refused"),
    ("PDF of 200,000 pages, /Count says 1", h.lying_count_pdf(200_000), "refused"),
    ("XFA form with a script", h.xfa_with_script(), "clean"),
    ("file annotation carrying an exe", h.file_attachment_annotation(), "refused"),
    ("/OpenAction /GoToR to a share", h.open_action_gotor(), "refused"),
    ("/OpenAction /URI", h.open_action_uri(), "clean"),
    ("page /AA with /URI", h.page_aa_uri(), "clean"),
    ("link with a javascript: URI", h.javascript_link(), "refused"),
    ("JPEG with a ZIP appended", h.jpeg_with_zip(), "clean"),
    # signed: kept as they are, so refused when they carry anything
    ("signed PDF with /AA /URI", h.signed_pdf(page_extra=URI_AA), "refused"),
    (
        "signed PDF opening a URI",
        h.signed_pdf(catalog_extra="/OpenAction << /S /URI /URI (x) >>"),
        "refused",
    ),
    (
        "signed PDF with XFA",
        h.signed_pdf(catalog_extra="/Extra << /XFA 8 0 R >>", objects=("<< >>",)),
        "refused",
    ),
    (
        "signed PDF with GoToR",
        h.signed_pdf(catalog_extra="/OpenAction << /S /GoToR /F (x.pdf) >>"),
        "refused",
    ),
    (
        "signed PDF, /OpenAction /Thread to a share",
        h.signed_pdf(catalog_extra="/OpenAction << /S /Thread /D 0 /F (\\\\10.0.0.9\\x.pdf) >>"),
        "refused",
    ),
    (
        "signed PDF, /OpenAction /Named /Print",
        h.signed_pdf(catalog_extra="/OpenAction << /S /Named /N /Print >>"),
        "refused",
    ),
    (
        "signed PDF, a file specification /FS /URL",
        h.signed_pdf(catalog_extra="/Extra << /FS /URL /F (http://10.0.0.9/x) >>"),
        "refused",
    ),
    (
        "signed PDF, 3D annotation with JavaScript",
        h.signed_pdf(
            page_extra="/Extra << /Subtype /3D /3DD << /OnInstantiate 8 0 R >> >>",
            objects=(h.stream(b"app.alert(1)").decode("latin-1"),),
        ),
        "refused",
    ),
    ("signed PDF with a ZIP glued after it", h.signed_pdf(after=h.zip_with_exe()), "refused"),
    # a signature that does not verify: an unsigned PDF, its clean copy kept
    ("signature over other bytes (forged)", h.signed_pdf(forge=True), "clean"),
    (
        "fake signature dictionary, URI action",
        h.fake_signed_pdf(catalog_extra="/OpenAction << /S /URI /URI (x) >>"),
        "clean",
    ),
    ("fake signature + ZIP polyglot", h.fake_signed_pdf() + h.zip_with_exe(), "clean"),
    ("p7m without any signer", h.p7m_without_signer(h.one_page_pdf()), "clean"),
    ("p7m with a ZIP after its DER", p7m(h.one_page_pdf()) + h.zip_with_exe(), "refused"),
    ("p7m of a PDF with JavaScript", p7m(h.javascript_open_action()), "refused"),
    (
        "an executable under a made-up /Resources key",
        h.one_page_pdf(objects=(h.stream(h.EXE * 4),)).replace(
            b"/Resources << /Font << /F1 5 0 R >> >>",
            b"/Resources << /Font << /F1 5 0 R >> /Xyz 6 0 R >>",
        ),
        "clean",
    ),
    (
        "an executable as an XObject of no known kind",
        h.one_page_pdf(objects=(h.stream(h.EXE * 4, "/Type /XObject /Subtype /PS"),)).replace(
            b"/Resources << /Font << /F1 5 0 R >> >>",
            b"/Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >>",
        ),
        "clean",
    ),
    ("p7m of a PDF with a link", p7m(h.page_aa_uri()), "refused"),
    ("p7m of an executable", p7m(h.EXE * 20), "refused"),
    ("p7m of 1,000 pages", p7m(h.many_pages_pdf(1000)), "refused"),
    # the red team's re-check: repeated keys, payloads in self-signed files, floods
    *[(name, data, "refused") for name, data in h.repeated_key_pdfs().items()],
    (
        "self-signed PDF, a ZIP in a stream nothing reaches",
        h.signed_pdf(objects=(h.stream(h.zip_with_exe()).decode("latin-1"),)),
        "refused",
    ),
    (
        "self-signed PDF, an update adding a ZIP stream",
        h.updated(h.signed_pdf(), {9: h.stream(h.zip_with_exe())}, size=10),
        "refused",
    ),
    ("self-signed PDF, page text changed after signing", h.text_changed_after_signing(), "clean"),
    ("self-signed p7m of a JPEG + ZIP", p7m(h.jpeg_with_zip()), "clean"),
    ("self-signed p7m of a PDF + ZIP", p7m(h.one_page_pdf() + h.zip_with_exe()), "refused"),
    ("60,000 trivial objects", h.many_objects_pdf(60_000), "refused"),
    # more PDFs
    ("Launch action", h.launch_action(), "refused"),
    ("embedded file", h.embedded_file(), "refused"),
    ("JavaScript open action", h.javascript_open_action(), "refused"),
    ("arrays nested 5,000 deep", h.deep_pdf(), "refused"),
    ("content that inflates to 50 MB", h.flate_bomb_pdf(50), "clean"),
    ("101 pages", h.many_pages_pdf(101), "refused"),
    ("100 pages", h.many_pages_pdf(100), "clean"),
    (
        "a page tree that loops",
        h.one_page_pdf().replace(b"/Kids [3 0 R]", b"/Kids [2 0 R]"),
        "refused",
    ),
    (
        "no pages",
        hand_made_pdf().replace(b"/Count 1", b"/Count 0").replace(b"[3 0 R]", b"[]     "),
        "refused",
    ),
    ("cut in half", scanned_pdf(1)[:3000], "refused"),
    ("only a header", b"%PDF-1.7\n%%EOF\n", "refused"),
    ("plain one-page PDF", h.one_page_pdf(), "clean"),
    ("a scan of two pages", scanned_pdf(2), "clean"),
    # images
    ("JPEG declaring 60000x60000", h.jpeg_declaring(60000, 60000), "refused"),
    ("PNG declaring 20000x20000", png_declaring(20_000, 20_000), "refused"),
    ("PNG just over its ceiling", h.png_rgba(5478, 5478), "refused"),
    ("truncated JPEG", photo((1600, 1200))[:9000], "refused"),
    ("tiny photo", photo((300, 300)), "refused"),
    ("black photo", encode(document_image().point(lambda v: 0), "JPEG"), "refused"),
    ("white page", encode(document_image().point(lambda v: 255), "PNG"), "refused"),
    ("GIF", encode(document_image(), "GIF"), "refused"),
    ("phone photo", photo((1600, 1200)), "clean"),
    ("sideways phone photo", photo((1600, 1200), orientation=6), "clean"),
    ("WebP", encode(document_image((900, 1200)), "WEBP"), "clean"),
    ("PNG with transparency", encode(document_image((900, 1200), "RGBA"), "PNG"), "clean"),
    ("progressive JPEG", encode(document_image(), "JPEG", progressive=True), "clean"),
    # not documents
    ("empty", b"", "refused"),
    ("Windows executable", h.EXE * 50, "refused"),
    ("ZIP", h.zip_with_exe(), "refused"),
    ("HTML", b"<html><script>alert(1)</script></html>", "refused"),
    ("text", b"Codice fiscale RSSMRA70A41F205X\n" * 10, "refused"),
    ("random bytes", bytes(range(256)) * 20, "refused"),
    ("PDF header then an exe", b"MZ" + b"\0" * 60 + b"%PDF-1.4\n" + b"\0" * 400, "refused"),
]

TEXTS = [
    "x" * 5000,
    "<script>alert(1)</script>",
    "<b>grassetto</b> & <i>",
    "'; DROP TABLE dossiers; --",
    "{0} {name} %s %d",
    "\u202eetnemlaunam",
    "\u200b\u200b\u200b",
    "🙂" * 300,
    "\x00\x01\x02",
    "/start " + "a" * 4000,
    "/documenti extra",
    "/cancella_dati_non",
    "\n\n\n",
    "Rozzano" * 200,
]
BUTTONS = [
    "p:as:99999:0",
    "pas:99999:0",
    "pitem:-1",
    "pitem:999999999999999999999999",
    "predo:banana",
    "pgo:nowhere",
    "p:item:-1",
    "p:item:999999999999999999999999",
    "p:redo:banana",
    "p:" + "x" * 60,
    "lang:xx",
    "priv:yes",
    "del:maybe",
    "e:nonexistent",
    "a:q1:99",
    "",
]


def kept_is_clean(data: bytes) -> None:
    """A kept photo is a plain JPEG; a kept PDF carries nothing but its pages."""
    if data.startswith(b"\xff\xd8"):
        assert data.endswith(b"\xff\xd9") and b"PK\x03\x04" not in data
        return
    for marker in (b"/URI", b"/JavaScript", b"/XFA", b"/AA", b"/OpenAction", b"/EmbeddedFile"):
        assert marker not in data, marker
    assert h.EXE not in data  # no executable rides along in a stream nobody shows
    root = PdfReader(io.BytesIO(data)).trailer["/Root"].get_object()
    assert isinstance(root, DictionaryObject)
    assert set(root) <= {"/Type", "/Pages"}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_there_are_over_a_hundred_hostile_inputs() -> None:
    assert len(FILES) + len(TEXTS) + len(BUTTONS) + len(WEBHOOK) + len(WEB) >= 100


@pytest.mark.parametrize(("name", "data", "expected"), FILES, ids=[f[0] for f in FILES])
def test_each_file_check_stays_within_its_ceiling(name: str, data: bytes, expected: str) -> None:
    result, peak = bounded.run_measured(check, data)
    assert peak <= 300 * MB, (name, peak / MB)
    if expected == "refused":
        assert isinstance(result, FileRefused), name
    else:
        assert isinstance(result, CheckedFile), (name, result)
        kept_is_clean(result.clean)


async def test_hostile_files_in_chat_get_a_kind_answer_and_only_clean_copies_are_kept(api, db_path):
    s = await at_checklist(api, db_path)
    await s.family.press("Attestazione ISEE")
    desk = s.dp["desk"]
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    start = rss_mb()
    for name, data, expected in FILES:
        texts = await s.family.upload_document(data, f"{name}.pdf")
        assert texts, name
        answer = texts[-1]
        assert "Traceback" not in answer and "Error" not in answer
        kept = [a for a in attachments(s.db, dossier_id) if a["item_id"] == "isee_attestation"]
        if expected == "refused":
            assert answer.startswith("⚠️"), (name, answer)
            assert kept == [], name
        else:
            assert "Attestazione ISEE" in answer, (name, answer)
            assert len(kept) == 1, name
            kept_is_clean(desk.blobs.get(kept[0]["sha256"]))
            desk.take_back(dossier_id, "isee_attestation")
            await s.family.press("", data=Go(step=Stage.CHECKLIST).pack())
            await s.family.press("Attestazione ISEE")
    assert rss_mb() - start < 200  # the checks ran in their own processes
    await s.close()


async def test_hostile_texts_and_forged_buttons_get_a_kind_answer(api, db_path):
    s = await at_checklist(api, db_path)
    for text in TEXTS:
        texts = await s.family.say(text)
        assert texts and all("Traceback" not in t for t in texts), text[:40]
    for data in BUTTONS:
        texts = await s.family.press("", data=data)
        assert all("Traceback" not in t for t in texts), data
    # other kinds of message: a sticker, a location, a contact, a voice note
    for content in (
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"location": {"latitude": 45.4, "longitude": 9.1}},
        {"contact": {"phone_number": "+39 333 0000000", "first_name": "X"}},
        {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 1}},
    ):
        await s.family.feed(s.family._message(**content))
        assert s.family.new_texts(), content
    await s.close()


# -- the web app ------------------------------------------------------------------------------

SECRET = "hostile-secret"
WEBHOOK: list[tuple[str, bytes, dict[str, str | bytes], set[int]]] = [
    (
        "JSON nested 1,000 deep",
        b'{"update_id": 1, "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        {},
        {400},
    ),
    ("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, {}, {400, 413}),
    ("update_id 2^63", b'{"update_id": 9223372036854775808}', {}, {200}),
    ("update_id 2^64", b'{"update_id": 18446744073709551616}', {}, {200}),
    ("update_id -1", b'{"update_id": -1}', {}, {200}),
    ("update_id as text", b'{"update_id": "abc"}', {}, {400}),
    ("update_id 1e400", b'{"update_id": 1e400}', {}, {400}),
    ("not JSON", b"\xff\xfe garbage", {}, {400}),
    ("a JSON array", b"[1, 2, 3]", {}, {400}),
    ("a JSON string", b'"update"', {}, {400}),
    ("empty body", b"", {}, {400}),
    ("over a megabyte", b'{"update_id": 1, "x": "' + b"a" * (2 * MB) + b'"}', {}, {413}),
    ("wrong secret", b'{"update_id": 5}', {"X-Telegram-Bot-Api-Secret-Token": "nope"}, {401}),
    ("no secret", b'{"update_id": 6}', {"X-Telegram-Bot-Api-Secret-Token": ""}, {401}),
    (
        "secret not latin-1",
        b'{"update_id": 7}',
        {"X-Telegram-Bot-Api-Secret-Token": "é".encode()},
        {401},
    ),
    ("unknown update kind", b'{"update_id": 8, "something_new": {"a": 1}}', {}, {200}),
    ("message without a chat", b'{"update_id": 9, "message": {"message_id": 1}}', {}, {400}),
    (
        "huge text",
        json.dumps(
            {
                "update_id": 10,
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": 5, "type": "private"},
                    "from": {"id": 5, "is_bot": False, "first_name": "A"},
                    "text": "a" * 100_000,
                },
            }
        ).encode(),
        {},
        {200},
    ),
]

WEB: list[tuple[str, str, str, dict[str, str], set[int]]] = [
    ("GET", "/pratiche/../../etc/passwd", "", {}, {303, 404}),
    ("GET", "/pratiche/" + "B" * 5000, "", {}, {303, 403, 404, 414}),
    ("GET", "/pratiche/%00", "", {}, {303, 403, 404}),
    ("GET", "/registro?pratica=" + "x" * 10000, "", {}, {303}),
    ("GET", "/login?next=//evil.example/x", "", {}, {200}),
    ("GET", "/login?next=https://evil.example/", "", {}, {200}),
    ("GET", "/login?next=%0d%0aSet-Cookie:x=1", "", {}, {200}),
    ("POST", "/login", "email=a&password=b", {}, {403}),
    ("POST", "/login", "email=" + "a" * 100_000 + "&password=b&csrf=x", {}, {403, 413}),
    ("POST", "/login", "\x00\x01", {}, {400, 403}),
    ("POST", "/logout", "", {}, {303}),
    ("POST", "/pratiche/B2-ZZZZZZ/protocollo", "protocol_number=1", {}, {303}),
    ("GET", "/healthz", "", {"Host": "evil\r\nx: y"}, {200, 400}),
    ("GET", "/metrics", "", {"X-Forwarded-For": "1.2.3.4, 5.6.7.8"}, {200}),
    ("GET", "/static/../../common/settings.py", "", {}, {404}),
    ("GET", "/nonexistent" * 50, "", {}, {404}),
    ("PUT", "/login", "", {}, {405}),
    ("GET", "/login", "", {"Cookie": "sportello_session=" + "x" * 5000}, {200}),
    ("GET", "/pratiche", "", {"Cookie": "sportello_session=\x00"}, {303}),
    ("GET", "/pratiche?pagina=-1&stato=<script>", "", {}, {303}),
]


@pytest.fixture
def hostile_app(tmp_path: Path):
    from aiogram import Dispatcher

    from backoffice.app import create_app
    from bot.webhook import webhook_router
    from tests.backoffice_fixtures import Clock, make_services
    from tests.botapi import make_bot

    services = make_services(tmp_path / "var", Clock())
    dp = Dispatcher()
    bot = make_bot("http://127.0.0.1:9")
    app = create_app(services, routers=[webhook_router(dp, bot, SECRET)])
    yield app, services
    services.db.close()


@pytest.mark.parametrize(("name", "body", "headers", "codes"), WEBHOOK, ids=[w[0] for w in WEBHOOK])
async def test_hostile_webhook_bodies_get_a_4xx_or_200_never_a_500(
    hostile_app, name, body, headers, codes
):
    app, _services = hostile_app
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/telegram/webhook",
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, **headers},
        )
    assert response.status_code in codes, (name, response.status_code)
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "codes"), WEB, ids=[w[1][:40] for w in WEB]
)
async def test_hostile_web_requests_get_a_page_never_a_500(
    hostile_app, method, path, body, headers, codes
):
    app, _services = hostile_app
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.request(
            method,
            path,
            content=body.encode("utf-8", "surrogatepass"),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
    assert response.status_code in codes, (path[:60], response.status_code)
    assert "Traceback" not in response.text
    if response.status_code in (301, 302, 303, 307):
        assert response.headers["location"].startswith("/")


async def test_audit_page_of_another_comune_dossier_writes_nothing_into_its_trail(tmp_path):
    from storage import audit
    from tests.backoffice_fixtures import build_world
    from tests.test_backoffice import logged_in

    world = build_world(tmp_path / "var")
    other = world.dossiers["binasco"]
    before = [e for e in audit.entries(world.db) if e["dossier_id"] == other]
    async with logged_in(world) as (client, _csrf):
        page = await client.get("/registro", params={"pratica": other})
        assert page.status_code == 200
        assert f"/pratiche/{other}" not in page.text  # no entry of it is shown either
    after = [e for e in audit.entries(world.db) if e["dossier_id"] == other]
    assert after == before
    world.db.close()


async def test_huge_pdf_sent_as_the_signed_form_is_refused_near_the_forms_page_count(api, db_path):
    import asyncio
    import time

    from tests.test_bot_dossier import upload_everything

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await s.family.press("Prepara il modulo da firmare")
    pages = len(PdfReader(io.BytesIO(api.documents[4242][-1][1])).pages)
    # the event loop keeps ticking while the file is checked elsewhere
    ticks: list[float] = []

    async def heartbeat() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.05)

    beat = asyncio.create_task(heartbeat())
    texts = await s.family.upload_document(h.many_pages_pdf(100_000), "firmato.pdf")
    beat.cancel()
    assert texts[-1].startswith("⚠️") and f"al massimo {pages + 3}" in texts[-1]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps, default=0) < 1.0, max(gaps)
    texts = await s.family.upload_document(h.many_pages_pdf(pages + 4), "firmato.pdf")
    assert f"al massimo {pages + 3}" in texts[-1]
    await s.close()


async def test_our_unsigned_form_with_a_fake_signature_and_a_zip_is_still_the_unsigned_form(
    api, db_path
):
    """The red team's polyglot: our own form + '%/ByteRange [' + a ZIP, sent as signed."""
    import struct

    from tests.test_bot_dossier import upload_everything

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await s.family.press("Prepara il modulo da firmare")
    _name, pdf, _caption = api.documents[4242][-1]
    archive = h.zip_with_exe()
    tail = b"\n%/ByteRange [0 0 0 0]\n" + pdf[pdf.rindex(b"startxref") :]
    polyglot = pdf + archive[:-22] + archive[-22:-2] + struct.pack("<H", len(tail)) + tail
    texts = await s.family.upload_document(polyglot, "domanda-firmata.pdf")
    assert "non ancora firmato" in texts[-1]
    dossier = dossiers_of(s.db, 4242)[0]
    assert not [a for a in attachments(s.db, dossier["id"]) if a["item_id"] == "application_form"]
    await s.close()


def heavy_one_page_pdf(megabytes: int, seed: int) -> bytes:
    """One page, and an image stream of `megabytes` MB of noise: kept by the clean copy."""
    import random

    junk = random.Random(seed).randbytes(megabytes * MB)
    image = h.stream(
        junk,
        "/Type /XObject /Subtype /Image /Width 10 /Height 10 /BitsPerComponent 8 "
        "/ColorSpace /DeviceRGB /Filter /DCTDecode",
    )
    return h.one_page_pdf(objects=(image,)).replace(
        b"/Resources << /Font << /F1 5 0 R >> >>",
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >>",
    )


async def test_a_document_or_a_dossier_over_its_bytes_is_refused_with_the_limit_in_mb(
    api, db_path, monkeypatch
):
    from dossier import budgets

    # a PEC provider taking 100 MB messages: the item's 40 MB is the limit met first
    monkeypatch.setenv("SPORTELLO_MESSAGE_BUDGET_MB", "100")
    s = await at_checklist(api, db_path)
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    await s.family.press("Attestazione ISEE")
    answers = []
    for seed in (1, 2, 3):  # one album: the same document
        pdf = heavy_one_page_pdf(15, seed)
        answers += await s.family.upload_document(pdf, f"isee-{seed}.pdf", album="isee")
    refusals = [t for t in answers if t.startswith("⚠️")]
    assert len(refusals) == 1, answers
    assert "40 MB" in refusals[0] and "foto" in refusals[0]
    kept = [a for a in attachments(s.db, dossier_id) if a["item_id"] == "isee_attestation"]
    assert len(kept) == 2  # nothing lost: the first two stay
    # the whole dossier has its own budget (lowered here, to stay quick)
    monkeypatch.setattr(budgets, "MAX_DOSSIER_BYTES", 40 * MB)
    await s.family.press("Cosa manca")  # the album's one reply has the way back
    await s.family.press("Verbale dell'accompagnamento")
    texts = await s.family.upload_document(heavy_one_page_pdf(12, 4), "verbale.pdf")
    assert texts[-1].startswith("⚠️") and "40 MB" in texts[-1] and "Rifai un documento" in texts[-1]
    await s.close()


async def test_assembly_reads_the_files_in_its_own_process_not_in_the_bot(api, db_path):
    from dossier.assemble import assemble
    from tests.test_bot_dossier import upload_everything

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    desk = s.dp["desk"]
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    import datetime as dt

    now = dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC)
    inputs = desk.assembly_inputs(dossier_id, now, 25)
    uploads = [u for item in inputs["items"] for u in item.uploads]
    assert uploads and all(u.data == b"" for u in uploads)  # nothing decrypted here
    assert "key" not in repr(uploads[0].source)
    built = bounded.run(assemble, seconds=bounded.ASSEMBLY_SECONDS, **inputs)
    assert [f.name for f in built.files] and all(f.size > 0 for f in built.files)
    await s.close()


def test_a_pdf_of_deeply_nested_dictionaries_is_refused_at_once() -> None:
    """The red team's slot-holder: 3 MB of '<< /A ' nested 400,000 deep held a checking
    process for ~7 s before pypdf gave up; now a scan of the bytes refuses it."""
    import time

    n = 400_000
    pdf = h.one_page_pdf(catalog_extra="/D " + "<< /A " * n + ">>" * n)
    start = time.monotonic()
    result, _peak = bounded.run_measured(check, pdf)
    assert isinstance(result, FileRefused) and result.reason == "too_complex"
    assert time.monotonic() - start < 2.0  # was ~7 s (the process start included)


def test_nesting_is_counted_outside_streams_only() -> None:
    """A stream's body (an image's bytes full of "<<" and "[") is skipped, whatever it
    holds; nesting written after a stream, or in a stream with no "endstream" (read
    as text, as before), still counts."""
    from dossier.pdfcheck import MAX_NESTING, _too_deep

    deep = b"<< /A " * (MAX_NESTING + 1) + b">>" * (MAX_NESTING + 1)
    shallow = b"<< /A << /B [1 2] >> >>"
    body = b"<<[" * 100_000
    stream = b"5 0 obj\n<< /Length 9 >>\nstream\n" + body + b"\nendstream\nendobj\n"
    assert not _too_deep(shallow + stream + shallow)
    assert _too_deep(stream + deep)
    assert _too_deep(deep + stream)
    assert _too_deep(b"1 0 obj\n<< >>\nstream\r\n" + deep)  # no "endstream": text
    assert not _too_deep(stream * 3)


def test_a_pdf_of_a_million_empty_streams_is_refused_at_once() -> None:
    """The red team's fifth pass: 1.25 million "stream…endstream" pairs in a string held
    the nesting scan for seconds (a slot for 8 s, then refused); more "endstream" than
    objects taken is refused before any scan."""
    import time

    pdf = h.one_page_pdf(catalog_extra="/X (" + "stream\nendstream" * 1_250_000 + ")")
    start = time.monotonic()
    result, _peak = bounded.run_measured(check, pdf)
    assert isinstance(result, FileRefused) and result.reason == "too_complex"
    assert time.monotonic() - start < 2.0  # was 8 s (the time limit)


async def test_staff_work_has_its_own_lane() -> None:
    """A staff thumbnail does not queue behind the families' checks."""
    import asyncio
    import time

    from dossier.assemble import photo_jpeg

    picture = photo((1600, 1200))
    bounded.run(check, picture)  # the fork server, warm

    async def family() -> None:  # families' jobs holding both slots for a while
        for _ in range(3):
            await bounded.run_async(time.sleep, 1.0)

    families = [asyncio.create_task(family()) for _ in range(4)]
    await asyncio.sleep(0.05)
    token = bounded.LANE.set("staff")
    try:
        start = time.monotonic()
        await bounded.run_async(photo_jpeg, picture, max_side=320, quality=80)
        staff_wait = time.monotonic() - start
    finally:
        bounded.LANE.reset(token)
    await asyncio.gather(*families)
    assert bounded._executor("staff") is not bounded._executor("family")
    assert staff_wait < 3.0, staff_wait
