"""`--today` is one clock: the back-office's dates and the jobs (retention above all) run
on that day, so a trial on an earlier date never deletes files by the real date."""

# ruff: noqa: F811

from __future__ import annotations

import asyncio
import datetime as dt
import re

import httpx

from bot.serve import build_service
from bot.workers import start_workers
from common.settings import Settings
from storage import dossiers as store
from tests.backoffice_fixtures import PASSWORD, World
from tests.botapi import BotAPI, make_bot, start_api
from tests.test_backoffice import template, world  # noqa: F401  (fixtures, by name)

TRIAL_DAY = dt.date(2025, 6, 23)  # 20 days after the delivery of `delivered` (3 June 2025)


async def test_retention_runs_on_the_today_of_the_trial_not_on_the_real_date(world: World):
    dossier_id = world.dossiers["delivered"]
    api = BotAPI()
    runner, url = await start_api(api)
    bot = make_bot(url)
    settings = world.services.settings.model_copy(update={"sportello_retention_days": 30})
    stop = asyncio.Event()
    tasks = start_workers(bot, world.db, world.services.blobs, settings, stop,
                          clock=lambda: TRIAL_DAY)  # fmt: skip
    try:
        await asyncio.sleep(1.5)  # retention runs at once, then every hour
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.session.close()
        await runner.cleanup()
    # by the real date (2026) the files would be long gone; on 23/06/2025 they stay
    kept = store.get_dossier(world.db, dossier_id)
    assert kept is not None and not kept.get("purged")
    assert store.attachments(world.db, dossier_id)


async def test_the_back_office_of_serve_today_dates_its_forms_on_that_day(world: World):
    root = world.services.settings.sportello_data_dir
    world.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    settings = Settings(sportello_data_dir=root, bot_token=None)
    service = build_service(settings, clock=lambda: TRIAL_DAY)
    assert service.bot is None
    from common.clock import ROME

    assert service.services.clock().astimezone(ROME).date() == TRIAL_DAY  # the day in Italy
    try:
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b2") as client:
            page = await client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
            done = await client.post("/login", data={
                "email": world.staff["opera"].email, "password": PASSWORD, "csrf": csrf,
            })  # fmt: skip
            assert done.status_code == 303
            dossier = await client.get(f"/pratiche/{world.dossiers['delivered']}")
            assert 'id="protocol_date" name="protocol_date" value="23/06/2025"' in dossier.text
            assert 'value="03/07/2025"' in dossier.text  # the integration's deadline: +10 days
    finally:
        service.services.db.close()


async def test_a_failed_delivery_is_told_and_retried_on_the_today_of_the_trial(world: World):
    """The outbox beside the bot runs on the one clock too: with `--today`, the retry the
    family is told about ("riprova", with the next try) is dated on that day, like the
    form, the manifest and the e-mail's Date."""
    from dossier.mail import build_messages
    from storage import outbox
    from tests.smtp_server import free_port
    from tests.test_delivery import RECIPIENT, SENDER, assembled

    day = dt.date(2025, 6, 16)
    dossier_id = world.dossiers["ready"]
    # queued the evening before: any moment of 16/06 in Italy (from 22:00 UTC on the 15th)
    queued = dt.datetime(2025, 6, 15, 20, 0, tzinfo=dt.UTC)
    messages = build_messages(
        assembled(dossier_id, 1), sender=SENDER, recipient=RECIPIENT, subject="B2", body="."
    )
    outbox.enqueue(world.db, world.services.blobs, dossier_id, messages, RECIPIENT, now=queued)
    api = BotAPI()
    runner, url = await start_api(api)
    bot = make_bot(url)
    settings = world.services.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": free_port(),  # nobody answers there
            "smtp_security": "none",
            "smtp_from": SENDER,
        }
    )
    stop = asyncio.Event()
    tasks = start_workers(bot, world.db, world.services.blobs, settings, stop, clock=lambda: day)
    try:
        for _ in range(100):  # the outbox's first round runs at once
            await asyncio.sleep(0.1)
            if [e for e in store.history(world.db, dossier_id) if e["status"] == "riprova"]:
                break
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.session.close()
        await runner.cleanup()
    retry = [e for e in store.history(world.db, dossier_id) if e["status"] == "riprova"]
    assert len(retry) == 1
    from common.clock import ROME, parse_iso

    assert parse_iso(retry[0]["at"]).astimezone(ROME).date() == day  # not the real date
    next_at = parse_iso(retry[0]["detail"]["next_at"])
    assert next_at - parse_iso(retry[0]["at"]) == dt.timedelta(minutes=1)
    row = outbox.rows_of(world.db, dossier_id)[0]
    assert row["next_attempt_at"] == retry[0]["detail"]["next_at"]


def test_after_eleven_at_night_utc_the_family_is_already_on_the_next_day():
    """Servers often run on UTC. At 23:30 UTC on 27 November it is 00:30 of the 28th in
    Lombardy: the day the bot reads notices, deadlines and the outbox by is the 28th, and
    the moment it stamps is the real one, not the same time a day earlier (which once kept
    a dossier queued in that hour from leaving until the next day)."""
    from common.clock import moment, rome_today

    late = dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)
    assert rome_today(late) == dt.date(2026, 11, 28)
    assert moment(rome_today(late), late) == late
    summer = dt.datetime(2025, 6, 22, 22, 30, tzinfo=dt.UTC)  # 00:30 of the 23rd, CEST
    assert rome_today(summer) == TRIAL_DAY
    assert moment(rome_today(summer), summer) == summer
    assert rome_today(dt.datetime(2026, 11, 27, 22, 59, tzinfo=dt.UTC)) == dt.date(2026, 11, 27)


def test_no_code_asks_the_machine_for_its_own_date():
    """`date.today()` is the machine's zone; every default clock is `rome_today`."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    packages = ("common", "eligibility", "storage", "dossier", "dialogs", "backoffice", "bot")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "date.today" in line or "datetime.now()" in line
    ]
    assert offenders == []


def operator_settings(world: World, monkeypatch, smtp_port: int) -> None:
    """The environment of an operator's `sportello outbox` on the world's data: its files'
    key, and a mail server on loopback at `smtp_port`."""
    import base64

    from tests.test_delivery import SENDER

    key = base64.urlsafe_b64encode(world.services.blobs.reader().key).decode()
    for name, value in {
        "SPORTELLO_DATA_DIR": str(world.services.settings.sportello_data_dir),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": SENDER,
        "SPORTELLO_FILE_KEY": key,
    }.items():
        monkeypatch.setenv(name, value)


def test_an_operator_sending_round_with_today_dates_the_retry_on_that_day(
    world: World, monkeypatch
):
    """`sportello outbox --send --today 2025-06-16` runs the round on that day, as the bot
    with `--today` does: the mailbox does not answer, and the retry the family is told
    about is dated 16/06/2025, not by the real date."""
    import io

    from bot.cli import main
    from common.clock import ROME, parse_iso
    from dossier.mail import build_messages
    from storage import outbox
    from tests.smtp_server import free_port
    from tests.test_delivery import RECIPIENT, SENDER, assembled

    day = dt.date(2025, 6, 16)
    dossier_id = world.dossiers["ready"]
    messages = build_messages(
        assembled(dossier_id, 1), sender=SENDER, recipient=RECIPIENT, subject="B2", body="."
    )
    queued = dt.datetime(2025, 6, 15, 20, 0, tzinfo=dt.UTC)
    outbox.enqueue(world.db, world.services.blobs, dossier_id, messages, RECIPIENT, now=queued)
    world.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    operator_settings(world, monkeypatch, free_port())  # nobody answers there
    out, err = io.StringIO(), io.StringIO()
    assert main(["outbox", "--send", "--today", "2025-06-16"], out=out, err=err) == 0, err.getvalue()
    assert "1 message(s) handled" in out.getvalue()
    retry = [e for e in store.history(world.db, dossier_id) if e["status"] == "riprova"]
    assert len(retry) == 1
    assert parse_iso(retry[0]["at"]).astimezone(ROME).date() == day


def test_an_application_saved_without_a_mail_server_is_sent_again_on_the_trial_s_day(
    world: World, monkeypatch
):
    """Saved to the outbox folder (no mail server then), sent again with `--today`:
    `--requeue` dates it on that day too, so the round on that day sends it (family trial
    17: a requeue by the real date was not yet due on the trial's day)."""
    import io

    from bot.cli import main
    from dossier.mail import build_messages
    from storage import outbox
    from tests.smtp_server import RecordingHandler, smtp_server
    from tests.test_delivery import RECIPIENT, SENDER, assembled

    dossier_id = world.dossiers["ready"]
    messages = build_messages(
        assembled(dossier_id, 1), sender=SENDER, recipient=RECIPIENT, subject="B2", body="."
    )
    queued = dt.datetime(2025, 6, 15, 20, 0, tzinfo=dt.UTC)
    outbox.enqueue(world.db, world.services.blobs, dossier_id, messages, RECIPIENT, now=queued)
    world.db.execute("UPDATE outbox SET status = ? WHERE dossier_id = ?", [outbox.SAVED, dossier_id])
    world.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        operator_settings(world, monkeypatch, server.port)
        for command in (["--requeue", dossier_id], ["--send"]):
            out, err = io.StringIO(), io.StringIO()
            code = main(["outbox", *command, "--today", "2025-06-16"], out=out, err=err)
            assert code == 0, err.getvalue()
        assert "1 message(s) handled" in out.getvalue()
    assert [m.rcpt_tos for m in handler.messages] == [[RECIPIENT]]
