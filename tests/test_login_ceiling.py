"""A staff account tried from hundreds of networks (a routed IPv6 /56 holds 256 /64s) is
closed to new places after a day of failures, but never to the computer and the network
its owner logs in from; the administrator lists and unlocks it. Over HTTP against the
real app, and the real command line on the same database."""

from __future__ import annotations

import datetime as dt
import html
import io
from pathlib import Path

import pytest

from bot.cli import main
from storage import lockout
from storage import staff as accounts
from tests.backoffice_fixtures import PASSWORD, Clock, make_services
from tests.test_login_race import EMAIL, CountingHasher, client, form_token, post_login

CLOSED = "l'accesso da computer e reti nuovi è sospeso"


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "hasher", counting)
    return counting


@pytest.fixture
def services(tmp_path: Path, hasher: CountingHasher, monkeypatch: pytest.MonkeyPatch):
    """The back-office on the real clock's day (the command line reads the real clock),
    its database where `sportello` finds it."""
    svc = make_services(tmp_path / "var", Clock(dt.datetime.now(dt.UTC)))
    accounts.add_staff(svc.db, EMAIL, PASSWORD, ["Opera"])
    svc.settings.forwarded_allow_ips = "10.0.0.2"
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path / "var"))
    yield svc
    svc.db.close()


def sportello(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err, stdin=io.StringIO(""))
    return code, out.getvalue() + err.getvalue()


async def a_day_of_guesses(services, first: int = 0) -> None:  # type: ignore[no-untyped-def]
    """A stranger's wrong passwords from a new /64 of a /48 each time (never slowed:
    each address is new), the day's budget spent."""
    async with client(services) as attacker:
        token = await form_token(attacker)
        for n in range(first, first + lockout.DAILY_FAILURES):
            via = f"2001:db8:77:{n:x}::1"
            answer = await post_login(attacker, token, f"sbagliata-{n}", via=via)
            assert answer.status_code == 401, (n, answer.status_code)


async def test_an_account_tried_all_day_from_everywhere_is_closed_to_new_places_only(
    services, hasher
):
    # she logs in from the office, with her usual browser (which keeps its cookies)
    async with client(services) as usual:
        assert (
            await post_login(usual, await form_token(usual), PASSWORD, "192.0.2.200")
        ).status_code == 303
        assert lockout.DEVICE_COOKIE in usual.cookies
        usual.cookies.delete("sportello_session")
        await a_day_of_guesses(services)
        checked = hasher.verified
        # the stranger, from one more network, even with the right password: refused
        # before the password is looked at
        async with client(services) as attacker:
            token = await form_token(attacker)
            for n, password in enumerate(("sbagliata-x", PASSWORD)):
                refused = await post_login(attacker, token, password, via=f"2001:db8:78:{n}::1")
                assert refused.status_code == 429 and CLOSED in html.unescape(refused.text)
                assert "chiedete all'amministratore di sbloccare l'account" in html.unescape(
                    refused.text
                )
        assert hasher.verified == checked
        # she gets in with her usual browser from a network she never used (home)
        home = await post_login(usual, await form_token(usual), PASSWORD, via="198.51.100.7")
        assert home.status_code == 303, home.text
    # and from the office's address on another computer
    async with client(services) as office_pc:
        token = await form_token(office_pc)
        assert (await post_login(office_pc, token, PASSWORD, via="192.0.2.200")).status_code == 303
    # a new phone on a new network: told kindly what to do
    async with client(services) as phone:
        token = await form_token(phone)
        refused = await post_login(phone, token, PASSWORD, via="203.0.113.9")
        assert refused.status_code == 429 and CLOSED in html.unescape(refused.text)
        assert "dal computer che usate di solito" in html.unescape(refused.text)
        # the administrator sees the account and opens it
        code, listed = sportello("staff", "locked")
        assert code == 0 and EMAIL in listed and "100 failed logins" in listed
        code, said = sportello("staff", "unlock", EMAIL)
        assert code == 0 and "unlocked" in said
        assert EMAIL not in sportello("staff", "locked")[1]
        opened = await post_login(phone, token, PASSWORD, via="203.0.113.9")
        assert opened.status_code == 303, opened.text


async def test_a_closed_account_opens_again_a_day_after_the_guesses(services, hasher):
    await a_day_of_guesses(services)
    async with client(services) as phone:
        token = await form_token(phone)
        assert (await post_login(phone, token, PASSWORD, via="203.0.113.9")).status_code == 429
        services.clock.advance(hours=24, seconds=1)
        assert (await post_login(phone, token, PASSWORD, via="203.0.113.9")).status_code == 303


async def test_a_stranger_s_browser_with_a_forged_device_cookie_is_still_closed_out(
    services, hasher
):
    await a_day_of_guesses(services)
    async with client(services) as attacker:
        attacker.cookies.set(lockout.DEVICE_COOKIE, "x" * 43, path="/login")
        token = await form_token(attacker)
        refused = await post_login(attacker, token, PASSWORD, via="2001:db8:99::1")
        assert refused.status_code == 429 and CLOSED in html.unescape(refused.text)
