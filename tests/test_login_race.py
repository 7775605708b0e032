"""Logins that cannot be raced, nor used by a stranger to lock a social worker out; the
client's address and https only from the trusted proxy; HSTS over https."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from backoffice.app import create_app
from storage import staff as accounts
from tests.backoffice_fixtures import PASSWORD, Clock, make_services

EMAIL = "anna.rossi@comune.opera.mi.it"


class CountingHasher(PasswordHasher):
    """The test hasher, counting every password it verifies."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "hasher", counting)
    return counting


@pytest.fixture
def services(tmp_path: Path, hasher: CountingHasher):
    svc = make_services(tmp_path / "var", Clock())
    accounts.add_staff(svc.db, EMAIL, PASSWORD, ["Opera"])
    svc.settings.forwarded_allow_ips = "10.0.0.2"
    yield svc
    svc.db.close()


def client(services, address: str = "10.0.0.2", base: str = "http://b2.example.it"):
    app = create_app(services)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base)


async def form_token(c: httpx.AsyncClient) -> str:
    page = await c.get("/login")
    found = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert found
    return found.group(1)


async def post_login(c, token: str, password: str, via: str | None = None, email: str = EMAIL):
    headers = {"X-Forwarded-For": via} if via else {}
    return await c.post(
        "/login",
        data={"email": email, "password": password, "csrf": token},
        headers=headers,
    )


async def test_hundred_logins_at_once_verify_at_most_the_allowed_number(services, hasher):
    async with client(services) as c:
        token = await form_token(c)
        tries = [post_login(c, token, f"sbagliata-{n}", via="192.0.2.7") for n in range(99)]
        answers = await asyncio.gather(*tries, post_login(c, token, PASSWORD, via="192.0.2.7"))
    assert hasher.verified <= accounts.MAX_FAILURES
    assert {a.status_code for a in answers} <= {401, 429, 303}
    # everything was recorded before any password was looked at: nothing left reserved
    pending = services.db.execute(
        "SELECT COUNT(*) FROM login_attempts WHERE ok = ?", [accounts.RESERVED]
    ).fetchone()[0]
    assert pending == 0
    assert services.db["login_attempts"].count == 100


async def test_forty_wrong_passwords_and_the_right_one_together_are_five_guesses_at_most(
    services, hasher
):
    async with client(services) as c:
        token = await form_token(c)
        wrong = [post_login(c, token, f"sbagliata-{n}", via="192.0.2.8") for n in range(40)]
        answers = await asyncio.gather(*wrong, post_login(c, token, PASSWORD, via="192.0.2.8"))
    assert hasher.verified <= accounts.MAX_FAILURES
    verified = [a for a in answers if a.status_code in (401, 303)]  # the others: 429
    assert len(verified) <= accounts.MAX_FAILURES
    if answers[-1].status_code == 303:  # in only if it was among the five guesses allowed
        assert len([a for a in answers[:-1] if a.status_code == 401]) < accounts.MAX_FAILURES


async def test_a_stranger_cannot_lock_the_social_worker_out(services):
    async with client(services) as c:
        token = await form_token(c)
        for n in range(8):
            response = await post_login(c, token, f"sbagliata-{n}", via="198.51.100.9")
        assert response.status_code == 429
        assert "Troppi tentativi" in response.text
        # the real user, from the office, gets in at once
        response = await post_login(c, token, PASSWORD, via="192.0.2.50")
        assert response.status_code == 303
        assert "sportello_session=" in response.headers["set-cookie"]


async def test_one_address_trying_many_accounts_is_stopped(services):
    async with client(services) as c:
        token = await form_token(c)
        codes = []
        for n in range(30):
            response = await post_login(c, token, "x" * 12, via="203.0.113.4", email=f"p{n}@x.it")
            codes.append(response.status_code)
    assert codes[: accounts.MAX_ADDRESS_FAILURES - 1] == [401] * (accounts.MAX_ADDRESS_FAILURES - 1)
    assert set(codes[accounts.MAX_ADDRESS_FAILURES :]) == {429}


async def test_forwarded_headers_count_only_from_the_trusted_proxy(services):
    # the proxy at 10.0.0.2 (FORWARDED_ALLOW_IPS) says https: Secure cookie and HSTS
    async with client(services, "10.0.0.2") as c:
        token = await form_token(c)
        response = await c.post(
            "/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf": token},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.60"},
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "sportello_session=" in cookie and "Secure" in cookie
        assert response.headers["strict-transport-security"].startswith("max-age=")
    attempt = services.db.execute("SELECT remote FROM login_attempts ORDER BY id DESC").fetchone()
    assert attempt[0] == "192.0.2.60"
    # anyone else saying the same is not believed: its own address, plain http, no HSTS
    async with client(services, "10.0.0.3") as c:
        token = await form_token(c)
        response = await c.post(
            "/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf": token},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.61"},
        )
        assert "Secure" not in response.headers["set-cookie"]
        assert "strict-transport-security" not in response.headers
    attempt = services.db.execute("SELECT remote FROM login_attempts ORDER BY id DESC").fetchone()
    assert attempt[0] == "10.0.0.3"


def test_uvicorn_is_given_the_trusted_proxies(tmp_path: Path):
    from bot.serve import uvicorn_config
    from common.settings import Settings

    settings = Settings(sportello_data_dir=tmp_path, forwarded_allow_ips="127.0.0.2")
    config = uvicorn_config(object(), settings)  # type: ignore[arg-type]
    assert config.forwarded_allow_ips == "127.0.0.2"
    assert config.proxy_headers is True


# --- the red team's re-check: audit rows per attempt, IPv6 rotation ----------------------------


async def test_a_stranger_trying_passwords_in_a_loop_adds_one_audit_row_with_the_count(
    services, hasher
):
    from storage import audit

    size_before = services.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    async with client(services) as c:
        token = await form_token(c)
        for n in range(100):  # from ever new addresses, so none is locked
            answer = await post_login(c, token, f"sbagliata-{n}", via=f"192.0.2.{n + 1}")
            assert answer.status_code in (401, 429)
    rows = [e for e in audit.entries(services.db) if e["staff_email"] == EMAIL]
    assert services.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] - size_before <= 2
    assert sum(int(e["detail"].get("count", 1)) for e in rows) == 100
    # the administrator still reads who, how many and until when
    admin = "capo@example.it"
    accounts.add_staff(services.db, admin, PASSWORD, [], is_admin=True)
    async with client(services, "10.0.0.2") as c:
        token = await form_token(c)
        assert (
            await post_login(c, token, PASSWORD, via="203.0.113.9", email=admin)
        ).status_code == 303
        register = await c.get("/registro")
    assert EMAIL in register.text and "tentativi, l&#39;ultimo alle" in register.text


async def test_addresses_of_one_ipv6_64_count_as_one_client(services, hasher):
    async with client(services) as c:
        token = await form_token(c)
        codes = []
        for n in range(8):  # one home, or one rented server: a whole /64
            via = f"2001:db8:1:2:{n:x}:{n:x}:{n:x}:{n + 1:x}"
            codes.append((await post_login(c, token, f"sbagliata-{n}", via=via)).status_code)
        assert codes[: accounts.MAX_FAILURES - 1] == [401] * (accounts.MAX_FAILURES - 1)
        assert codes[accounts.MAX_FAILURES :] == [429] * (8 - accounts.MAX_FAILURES)
        # the staff member, from another network, logs in
        assert (await post_login(c, token, PASSWORD, via="2001:db8:9::5")).status_code == 303
    assert accounts.client_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert accounts.client_key("::ffff:192.0.2.1") == "192.0.2.1"


async def test_an_account_tried_from_many_networks_is_slowed_but_its_owner_gets_in(
    services, hasher, caplog
):
    import logging

    caplog.set_level(logging.WARNING, logger="storage.staff")

    async def from_the_office() -> int:
        async with client(services) as office:
            token = await form_token(office)
            return (await post_login(office, token, PASSWORD, via="192.0.2.200")).status_code

    assert await from_the_office() == 303  # she logged in from the office before
    async with client(services) as c:
        token = await form_token(c)
        statuses = []
        for n in range(60):  # a /48: a new /64 each time
            via = f"2001:db8:77:{n:x}::1"
            statuses.append((await post_login(c, token, f"sbagliata-{n}", via=via)).status_code)
        checked = hasher.verified
        assert statuses[: accounts.ACCOUNT_SLOW_AFTER].count(401) == accounts.ACCOUNT_SLOW_AFTER
        # an address that tried already waits for its own slot
        slowed = await post_login(c, token, "sbagliata-x", via="2001:db8:77:3b::9")
        assert slowed.status_code == 429 and "rallentati" in slowed.text
        assert hasher.verified == checked  # no password checked for it
        services.clock.advance(seconds=accounts.ACCOUNT_SLOW_INTERVAL.total_seconds() + 1)
        again = await post_login(c, token, "sbagliata-y", via="2001:db8:77:3b::9")
        assert again.status_code == 401 and hasher.verified == checked + 1
        # her own address is not slowed: she gets in at once
        assert await from_the_office() == 303
    warnings = [r for r in caplog.records if r.name == "storage.staff"]
    assert len(warnings) == 1
    line = warnings[0].getMessage()
    assert "30 failed logins on one staff account" in line
    assert EMAIL not in line and "2001:" not in line


async def test_a_stranger_taking_every_slot_does_not_keep_her_out_from_a_new_address(
    services, hasher
):
    """After 30 failures from 30 networks the stranger tries once more, from a new
    address, just before the staff member each time; she logs in from an address she
    never used (a new phone, the office PC): the stranger's slot is not hers."""
    async with client(services) as c:
        token = await form_token(c)
        assert (await post_login(c, token, PASSWORD, via="2001:db8:9::5")).status_code == 303
    async with client(services) as attacker:
        token = await form_token(attacker)
        for n in range(accounts.ACCOUNT_SLOW_AFTER):
            await post_login(attacker, token, f"sbagliata-{n}", via=f"2001:db8:77:{n:x}::1")
        for n in range(4):
            services.clock.advance(seconds=10)
            theirs = await post_login(attacker, token, f"x-{n}", via=f"198.51.100.{n + 1}")
            assert theirs.status_code == 401  # a new address of theirs: checked, and wrong
            repeat = await post_login(attacker, token, f"y-{n}", via=f"198.51.100.{n + 1}")
            assert repeat.status_code == 429 and "rallentati" in repeat.text
            async with client(services) as owner:
                mine = await post_login(
                    owner, await form_token(owner), PASSWORD, via=f"203.0.113.{50 + n}"
                )
                assert mine.status_code == 303, mine.text
