"""`sportello serve`: the real server as a subprocess on loopback, with the Bot API
stand-in as Telegram; the lifespan and the webhook secret in process; `sportello staff`."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.serve import build_service, webhook_secret
from common.settings import Settings
from storage.db import open_db
from tests.botapi import TOKEN, BotAPI

EXE = str(Path(sys.executable).with_name("sportello"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_update(update_id: int, user_id: int = 77) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1748000000,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "it"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def until(condition, seconds: float = 60.0) -> bool:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


async def test_sportello_serve_registers_the_webhook_answers_telegram_and_stops_cleanly(
    api: BotAPI, tmp_path: Path
):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("WEBHOOK_SECRET", "SMTP_HOST")},
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,  # type: ignore[attr-defined]
        "WEBHOOK_URL": "https://example.test",
        "SPORTELLO_DATA_DIR": str(tmp_path),
        "SPORTELLO_PORT": str(port),
    }
    proc = await asyncio.create_subprocess_exec(
        EXE, "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            health = None
            for _ in range(600):  # up to 60 s: a loaded machine starts slowly
                if proc.returncode is not None:
                    break
                try:
                    health = await client.get("/healthz")
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
                    continue
                if health.status_code == 200:
                    break
            assert health is not None and health.status_code == 200, "the server did not start"
            assert health.json()["database"] == "ok"

            # the webhook, registered with a secret kept beside the data, readable by us only
            assert await until(lambda: any(c.method == "setWebhook" for c in api.calls))
            secret_file = tmp_path / "webhook.secret"
            secret = secret_file.read_text().strip()
            assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
            (call,) = [c for c in api.calls if c.method == "setWebhook"]
            assert call.params["url"] == "https://example.test/telegram/webhook"
            assert call.params["secret_token"] == secret
            assert {"message", "callback_query"} <= set(call.params["allowed_updates"])
            assert "setMyCommands" in [c.method for c in api.calls]
            assert (await client.get("/healthz")).json()["webhook"] == "registered"

            # Telegram posts an update: the bot answers through the Bot API
            wrong = await client.post(
                "/telegram/webhook",
                json=start_update(900),
                headers={"X-Telegram-Bot-Api-Secret-Token": "nope"},
            )
            assert wrong.status_code == 401
            posted = await client.post(
                "/telegram/webhook",
                json=start_update(901),
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            )
            assert posted.status_code == 200
            sent = [c.params for c in api.calls if c.method == "sendMessage"]
            assert sent and int(sent[0]["chat_id"]) == 77  # answered within the request
            assert "Scegliete la lingua" in sent[0]["text"]
            scrape = (await client.get("/metrics")).text
            assert "sportello_updates_handled_total 1.0" in scrape

            # a second server started by mistake on the same port, from another folder:
            # it cannot listen, so it must not register its own secret with Telegram
            other = {**env, "SPORTELLO_DATA_DIR": str(tmp_path / "other")}
            second = await asyncio.create_subprocess_exec(
                EXE,
                "serve",
                env=other,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            await asyncio.wait_for(second.communicate(), timeout=60)
            assert second.returncode not in (None, 0)
            assert len([c for c in api.calls if c.method == "setWebhook"]) == 1
            assert posted.headers["x-frame-options"] == "DENY"

        # a staff account, added by the command while the server runs
        added = subprocess.run(
            [EXE, "staff", "add", "Operatrice@Comune.Opera.mi.it", "--comune", "opera"],
            input="una password lunga abbastanza\n",
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert added.returncode == 2 and "--password-stdin" in added.stderr  # no terminal
        added = subprocess.run(
            [
                *(EXE, "staff", "add", "Operatrice@Comune.Opera.mi.it"),
                *("--comune", "opera", "--comune", "Rozzano (MI)", "--password-stdin"),
            ],
            input="una password lunga abbastanza\n",
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert added.returncode == 0, added.stderr
        listed = subprocess.run(
            [EXE, "staff", "list"], env=env, capture_output=True, text=True, check=False
        )
        assert "operatrice@comune.opera.mi.it\tOpera, Rozzano" in listed.stdout
        from storage.staff import staff_by_email, verify_login

        db = open_db(tmp_path / "sportello.sqlite3")
        member = staff_by_email(db, "operatrice@comune.opera.mi.it")
        assert member is not None and member.comuni == ("Opera", "Rozzano")
        assert not member.is_admin
        assert verify_login(
            db, member.email, "una password lunga abbastanza", health_time(), "127.0.0.1"
        )
        db.close()
    finally:
        if proc.returncode is None:
            proc.terminate()
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    text = err.decode()
    assert proc.returncode in (0, -15), text
    assert "Traceback" not in text, text
    assert "service stopped" in text  # the lifespan's shutdown ran: jobs stopped, session closed
    assert "Anna" not in text and "operatrice" not in text.lower()  # no personal data
    assert secret not in text


def health_time():
    import datetime as dt

    return dt.datetime.now(dt.UTC)


async def test_serve_without_a_token_serves_the_back_office_alone_and_says_so(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "WEBHOOK_URL")}
    env.update({"SPORTELLO_DATA_DIR": str(tmp_path), "SPORTELLO_PORT": str(port)})
    proc = await asyncio.create_subprocess_exec(
        EXE, "serve", "--today", "2025-06-23", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            page = None
            for _ in range(600):  # up to 60 s: a loaded machine starts slowly
                if proc.returncode is not None:
                    break
                try:
                    page = await client.get("/login")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert page is not None and page.status_code == 200, "the back-office did not start"
            assert "Accesso" in page.text or "Entra" in page.text
            assert (await client.get("/healthz")).json()["webhook"] == "off"
            assert (await client.post("/telegram/webhook", json={})).status_code == 404
    finally:
        proc.terminate()
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = err.decode()
    assert proc.returncode == 0, text
    assert "BOT_TOKEN is not set: serving the back-office alone" in text
    assert "The Telegram webhook is off" in text
    assert "running AS OF 2025-06-23" in text


def test_a_webhook_url_without_a_token_explains_what_to_do(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env["SPORTELLO_DATA_DIR"] = str(tmp_path)
    env["WEBHOOK_URL"] = "https://b2.example.it"
    done = subprocess.run([EXE, "serve"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "BOT_TOKEN is not set but WEBHOOK_URL is" in done.stderr


def test_serve_refuses_a_webhook_url_telegram_would_refuse(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "http://b2.example.it")
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path))
    err = io.StringIO()
    assert main(["serve"], out=io.StringIO(), err=err) == 2
    assert "WEBHOOK_URL" in err.getvalue() and "https" in err.getvalue()


def test_the_webhook_secret_is_made_once_or_taken_from_the_environment(tmp_path: Path):
    made = webhook_secret(Settings(webhook_secret=None), tmp_path / "var")
    assert len(made) >= 32
    assert webhook_secret(Settings(webhook_secret=None), tmp_path / "var") == made
    given = Settings(webhook_secret="Given_secret-1")
    assert webhook_secret(given, tmp_path / "var") == "Given_secret-1"
    with pytest.raises(ValidationError):
        Settings(webhook_secret="has spaces and è")
    assert Settings(webhook_url="https://b2.example.it/").webhook_url == (
        "https://b2.example.it"
    )
    assert Settings(webhook_url="").webhook_url is None


async def test_without_webhook_url_the_service_warns_and_still_runs_its_jobs(
    api: BotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=api.url,  # type: ignore[attr-defined]
        sportello_data_dir=tmp_path,
        webhook_url=None,
        webhook_secret=None,
    )
    service = build_service(settings)
    with caplog.at_level(logging.INFO):
        async with service.app.router.lifespan_context(service.app):
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b2") as client:
                health = (await client.get("/healthz")).json()
    methods = [c.method for c in api.calls]
    assert "setWebhook" not in methods and "setMyCommands" in methods
    assert health["webhook"] == "off"
    assert any("WEBHOOK_URL is not set" in r.getMessage() for r in caplog.records)
    assert any("service stopped" in r.getMessage() for r in caplog.records)
    assert service.bot.session._session is None or service.bot.session._session.closed  # type: ignore[attr-defined]
    service.services.db.close()


async def test_staff_add_rejects_unknown_comuni_with_suggestions(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path))
    err = io.StringIO()
    code = main(
        ["staff", "add", "a@example.it", "--comune", "Rozano", "--password-stdin"],
        out=io.StringIO(),
        err=err,
        stdin=io.StringIO("una password lunga\n"),
    )
    assert code == 2 and "Rozzano" in err.getvalue()
    err = io.StringIO()
    code = main(
        ["staff", "add", "a@example.it", "--comune", "Opera", "--password-stdin"],
        out=io.StringIO(),
        err=err,
        stdin=io.StringIO("corta\n"),
    )
    assert code == 2 and "12 characters" in err.getvalue()
    out = io.StringIO()
    code = main(
        ["staff", "add", "capo@example.it", "--admin", "--password-stdin"],
        out=out,
        err=io.StringIO(),
        stdin=io.StringIO("una password lunga\n"),
    )
    assert code == 0 and "admin" in out.getvalue()
    err = io.StringIO()
    code = main(
        ["staff", "add", "CAPO@example.it", "--admin", "--password-stdin"],
        out=io.StringIO(),
        err=err,
        stdin=io.StringIO("una password lunga\n"),
    )
    assert code == 2 and "already has an account" in err.getvalue()
