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
