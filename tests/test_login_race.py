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
