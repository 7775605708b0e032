"""`/healthz` and `/metrics` read live figures from SQLite and the webhook's counters;
every response carries the security headers; the app carries the back-office."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from backoffice.app import SECURITY_HEADERS, create_app
from backoffice.deps import Services
from bot.app import blob_store_beside
from common.settings import Settings
from eligibility import load_catalogue
from storage.db import open_db
from storage.dossiers import create_dossier, set_status
from storage.integrations import request_integration
from storage.outbox import enqueue, mark_sending

NOW = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)


def make_services(tmp_path: Path, **settings: object) -> Services:
    db = open_db(tmp_path / "var" / "sportello.sqlite3")
    config = Settings(sportello_data_dir=tmp_path / "var", **settings)  # type: ignore[arg-type]
    return Services(
        db=db,
        blobs=blob_store_beside(db, config),
        catalogue=load_catalogue(),
        settings=config,
        clock=lambda: NOW,
    )


def client_for(services: Services) -> httpx.AsyncClient:
    app = create_app(services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b2.test")


def queue(services: Services, municipality: str, n: int, at: dt.datetime) -> str:
    dossier = create_dossier(
        services.db,
        user_id=1,
        chat_id=1,
        notice_id="n",
        municipality=municipality,
        language="it",
        data={},
    )
    messages = [(f"<{dossier}.{i}@b2.test>", b"Subject: x\r\n\r\nx\r\n") for i in range(n)]
    enqueue(services.db, services.blobs, dossier, messages, "protocollo@example.it", now=at)
    return dossier


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_healthz_reports_the_database_and_the_outbox_backlog(tmp_path: Path):
    services = make_services(tmp_path)
    async with client_for(services) as client:
        empty = await client.get("/healthz")
        queue(services, "Opera", 2, NOW - dt.timedelta(seconds=90))
        queue(services, "Rozzano", 1, NOW - dt.timedelta(seconds=30))
        row = services.db.execute("SELECT id FROM outbox ORDER BY id LIMIT 1").fetchone()
        assert mark_sending(services.db, row[0], NOW)
        busy = await client.get("/healthz")
    assert empty.status_code == 200
    assert empty.json()["database"] == "ok" and empty.json()["status"] == "ok"
    assert empty.json()["outbox"] == {
        "pending": 0,
        "uncertain": 0,
        "sending": 0,
        "backlog": 0,
        "oldest_pending_age_seconds": None,
    }
    assert empty.json()["last_receipt_poll"] is None and empty.json()["receipts"] == "off"
    assert empty.json()["webhook"] == "off"
    assert empty.json()["erasure_checkpoint_owed_since"] is None
    assert empty.headers["cache-control"] == "no-store"
    outbox = busy.json()["outbox"]
    assert (outbox["pending"], outbox["sending"], outbox["backlog"]) == (2, 1, 3)
    assert outbox["oldest_pending_age_seconds"] == 90


async def test_healthz_shows_the_last_receipt_poll_only_when_imap_is_on(tmp_path: Path):
    services = make_services(tmp_path, imap_host="imap.example.it")
    services.last_receipt_poll = NOW - dt.timedelta(minutes=1)
    async with client_for(services) as client:
        on = (await client.get("/healthz")).json()
        services.settings = Settings(sportello_data_dir=tmp_path / "var")
        off = (await client.get("/healthz")).json()
    assert on["receipts"] == "on" and on["last_receipt_poll"] == "2026-05-04T09:29:00+00:00"
    assert off["receipts"] == "off" and off["last_receipt_poll"] is None


async def test_healthz_is_503_when_the_database_does_not_answer(tmp_path: Path):
    services = make_services(tmp_path)
    async with client_for(services) as client:
        services.db.close()
        response = await client.get("/healthz")
        scrape = await client.get("/metrics")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert scrape.status_code == 200  # the scrape still works, and says so
    assert metrics(scrape.text)[("sportello_database_up", ())] == 0


async def test_metrics_count_dossiers_outbox_and_requests_by_status(tmp_path: Path):
    services = make_services(tmp_path)
    services.count("updates_handled", 5)
    services.count("updates_duplicate")
    services.count("updates_failed", 2)
    db = services.db
    for _ in range(3):
        create_dossier(
            db, user_id=2, chat_id=2, notice_id="n", municipality="Opera", language="it", data={}
        )
    sent = queue(services, "Opera", 2, NOW)  # pronta, two messages pending
    broken = queue(services, "Rozzano", 1, NOW)
    set_status(db, broken, "errore")
    db.execute("UPDATE outbox SET status = 'failed' WHERE dossier_id = ?", [broken])
    set_status(db, sent, "consegnata")
    request_integration(db, sent, staff_id=1, items=["isee"], note="manca l'ISEE")
    async with client_for(services) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = metrics(response.text)
    assert m[("sportello_updates_handled_total", ())] == 5
    assert m[("sportello_updates_duplicate_total", ())] == 1
    assert m[("sportello_updates_failed_total", ())] == 2
    assert m[("sportello_dossiers", (("status", "bozza"),))] == 3
    assert m[("sportello_dossiers", (("status", "errore"),))] == 1
    assert m[("sportello_dossiers", (("status", "integrazione_richiesta"),))] == 1
    assert m[("sportello_dossiers", (("status", "consegnata"),))] == 0
    assert m[("sportello_outbox_messages", (("status", "pending"),))] == 2
    assert m[("sportello_outbox_messages", (("status", "failed"),))] == 1
    assert m[("sportello_send_failures_total", ())] == 1
    assert m[("sportello_integration_requests", (("status", "pending"),))] == 1
    assert m[("sportello_database_up", ())] == 1
    assert "Opera" not in response.text and "@" not in response.text


async def test_every_response_carries_the_security_headers(tmp_path: Path):
    services = make_services(tmp_path)
    async with client_for(services) as client:
        for path in ("/healthz", "/metrics", "/no-such-page", "/telegram/webhook"):
            response = await client.get(path)
            for name, value in SECURITY_HEADERS:
                if name == b"content-security-policy" and response.headers.get(
                    "content-type", ""
                ).startswith("text/html"):
                    # an Italian error page: the back-office's stricter policy
                    policy = response.headers[name.decode()]
                    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
                    continue
                assert response.headers[name.decode()] == value.decode(), (path, name)
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404
    csp = dict(SECURITY_HEADERS)[b"content-security-policy"].decode()
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp


async def test_the_app_carries_the_backoffice_and_its_static_files(tmp_path: Path):
    services = make_services(tmp_path)
    app = create_app(services)
    assert "/static" in {getattr(r, "path", None) for r in app.routes}
    async with client_for(services) as client:
        login = await client.get("/login")
        home = await client.get("/", follow_redirects=False)
        health = await client.get("/healthz")
    assert login.status_code == 200 and login.headers["content-type"].startswith("text/html")
    assert "password" in login.text
    assert home.status_code in (302, 303, 307)
    assert health.json()["status"] == "ok"  # the operations routes come first


async def test_healthz_says_when_an_erasure_still_owes_its_wal_checkpoint(tmp_path: Path):
    import sqlite3

    from storage import erasure

    services = make_services(tmp_path)
    reader = sqlite3.connect(tmp_path / "var" / "sportello.sqlite3")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM dossiers").fetchone()
        services.db.execute("INSERT INTO users (user_id, language) VALUES (1, 'it')")
        assert erasure.checkpoint(services.db) is False  # the reader holds the WAL
        async with client_for(services) as client:
            owed = (await client.get("/healthz")).json()
    finally:
        reader.rollback()
        reader.close()
    assert owed["status"] == "ok" and owed["erasure_checkpoint_owed_since"]
    assert erasure.settle_owed(services.db) is True
    async with client_for(services) as client:
        assert (await client.get("/healthz")).json()["erasure_checkpoint_owed_since"] is None
