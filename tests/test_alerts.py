"""🔔 "Avvisatemi quando apre", /avvisi, and reminders before the deadline, through the real
Dispatcher and the Bot API stand-in; the queue drained within Telegram's limits."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import io
from pathlib import Path

import pytest

from bot.alerts import Sender
from bot.app import build_dispatcher
from bot.cli import main
from bot.i18n import make_i18n
from dialogs import alerts as plan
from dialogs.buttons import Subscribe
from dialogs.languages import translator
from dialogs.live_catalogue import LiveCatalogue
from dossier.desk import Desk
from storage import alerts
from storage.db import open_db
from tests.botapi import Family, make_bot
from tests.example_notice import EXAMPLE
from tests.test_bot_conversation import OPERA, RESULT, begin, follow

ROOT = Path(__file__).resolve().parent.parent


I18N = make_i18n()


def translate_for(language: str):
    return translator(I18N, language)


class VirtualTime:
    """A clock that only moves when someone sleeps: seconds without waiting them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


class Bot:
    """One bot process: Dispatcher, database and the sender, at a given day."""

    def __init__(self, api, db_path: Path, today: dt.date, user_id: int = 4242):
        self.api, self.today = api, today
        self.db = open_db(db_path)
        self.catalogue = LiveCatalogue(self.db, every=0)
        self.bot = make_bot(api.url)
        self.dp = build_dispatcher(self.db, catalogue=self.catalogue, clock=lambda: self.today)
        self.family = Family(api, self.bot, self.dp, user_id=user_id)
        self.family.seen = len(api.sent(user_id))
        self.sender = Sender(self.bot, self.db)

    async def close(self) -> None:
        await self.bot.session.close()
        self.db.close()


@pytest.mark.parametrize(
    "forged", ["uns:abc", "uns:", "rst:1:2", "rst:-3", "chk:<b>", "sub:F205:x", "sub:rozzano"]
)
async def test_a_forged_or_stale_alert_button_is_answered_kindly_and_changes_nothing(
    api, db_path, forged
):
    s = Bot(api, db_path, dt.date(2025, 7, 1))
    await follow(s.family, OPERA, await begin(s.family))
    await s.family.press("🔔 Avvisatemi quando apre")
    await s.family.say("/avvisi")
    before = len(api.calls)
    texts = await s.family.press("", data=forged)
    assert texts == ["Questo pulsante non vale più."]
    answered = [c for c in api.calls[before:] if c.method == "answerCallbackQuery"]
    assert len(answered) == 1  # the spinner stops
    assert [x.comune for x in alerts.subscriptions_of(s.db, 4242)] == ["Opera"]
    # a button of ours, well formed, but no longer there: said so, nothing else changes
    stale = await s.family.press("", data="uns:999")
    assert "già stato tolto" in stale[-1]
    assert [x.comune for x in alerts.subscriptions_of(s.db, 4242)] == ["Opera"]
    await s.close()


async def test_a_closed_notice_offers_the_bell_and_avvisi_lists_and_cancels_it(api, db_path):
    s = Bot(api, db_path, dt.date(2025, 7, 1))
    texts = await follow(s.family, OPERA, await begin(s.family))
    assert any("Il bando è chiuso" in t for t in texts)
    assert s.family.buttons()[0].startswith("🔔")
    texts = await s.family.press("🔔 Avvisatemi quando apre")
    assert "🔔 Fatto: vi scriviamo quando apre il bando B2 per Opera" in texts[-1]
    texts = await s.family.press("🔔 Avvisatemi quando apre")  # tapped twice: one subscription
    assert "Lo avevate già chiesto" in texts[-1]
    texts = await s.family.say("/avvisi")
    assert "Quando apre il bando per Opera" in texts[-1]
    texts = await s.family.press("❌ Basta avvisi per Opera")
    assert "niente più avvisi" in texts[-1]
    assert alerts.subscriptions_of(s.db, 4242) == []
    await s.close()


async def test_a_subscriber_is_told_once_when_the_notice_opens_even_after_a_restart(
    api, db_path, monkeypatch
):
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(db_path.parent))
    s = Bot(api, db_path, dt.date(2027, 3, 1))
    await begin(s.family)
    await s.family.say("Giussano")  # no notice on file: the regional pre-check
    await s.family.press("Indennità di accompagnamento")
    await s.family.press("Fatto")
    await s.family.press("No, non ancora")
    assert s.family.buttons()[0] == "🔔 Avvisatemi quando apre"
    await s.family.press("🔔 Avvisatemi quando apre")

    out, err = io.StringIO(), io.StringIO()
    assert main(["notice", "publish", str(EXAMPLE), "--by", "op"], out=out, err=err) == 0
    i18n = translate_for
    # published, but it opens on 15/03/2027: nobody is told yet
    assert plan.plan_openings(s.db, s.catalogue, dt.date(2027, 3, 10), i18n) == 0
    assert plan.plan_openings(s.db, s.catalogue, dt.date(2027, 3, 15), i18n) == 1
    assert plan.plan_openings(s.db, s.catalogue, dt.date(2027, 3, 15), i18n) == 0  # once
    s.sender.recover()
    assert await s.sender.drain() == 1
    told = s.family.new_texts()
    assert len(told) == 1 and "È aperto il bando B2 per Giussano" in told[0]
    assert "ESEMPIO – Avviso Misura B2 2027" in told[0] and "15/04/2027 12:00" in told[0]
    assert s.family.buttons() == ["🔎 Verifica adesso", "🔕 Non avvisatemi più"]
    s.today = dt.date(2027, 3, 15)
    texts = await s.family.press("🔎 Verifica adesso")
    assert "Ricominciamo per Giussano" in texts[0] and "Vive a casa" in texts[-1]
    await s.close()

    # the process restarts: planning and sending again tell nobody twice
    again = Bot(api, db_path, dt.date(2027, 3, 16))
    assert plan.plan_openings(again.db, again.catalogue, dt.date(2027, 3, 16), i18n) == 0
    again.sender.recover()
    assert await again.sender.drain() == 0
    assert again.family.new_texts() == []
    # a message caught mid-send by a crash is not sent again either
    alerts.enqueue(again.db, "test:crash", 4242, "x")
    alerts.mark(again.db, [m.id for m in alerts.due(again.db, "9999", 10)], "sending")
    third = Sender(again.bot, again.db)
    assert third.recover() == 1 and await third.drain() == 0
    await again.close()


async def test_10000_subscribers_are_all_told_once_within_telegrams_limits(
    api, db_path, monkeypatch
):
    db = open_db(db_path)
    db["subscriptions"].insert_all(
        {"user_id": 100_000 + i, "chat_id": 100_000 + i, "comune": "Giussano", "code": "E063",
         "created_at": "2027-01-01"}
        for i in range(10_000)
    )  # fmt: skip
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(db_path.parent))
    out, err = io.StringIO(), io.StringIO()
    assert main(["notice", "publish", str(EXAMPLE), "--by", "op"], out=out, err=err) == 0
    catalogue = LiveCatalogue(db, every=0)
    assert plan.plan_openings(db, catalogue, dt.date(2027, 3, 15), translate_for) == 10_000
    clock = VirtualTime()
    api.clock = clock
    bot = make_bot(api.url)
    sender = Sender(bot, db, clock=clock, sleep=clock.sleep)
    sent = await sender.drain()
    await bot.session.close()
    calls = [c for c in api.calls if c.method == "sendMessage"]
    assert sent == len(calls) == 10_000
    per_chat = collections.Counter(int(c.params["chat_id"]) for c in calls)
    assert set(per_chat.values()) == {1}  # each told once
    per_second = collections.Counter(int(c.at) for c in calls)
    print(
        f"\n10,000 alerts: {len(per_second)} virtual seconds, at most {max(per_second.values())} a second"
    )
    assert max(per_second.values()) <= 30  # Telegram: about 30 a second per bot
    assert clock.now >= 10_000 / 30 - 1
    assert alerts.pending_count(db) == 0
    db.close()


async def test_reminders_come_7_and_1_days_before_the_closing_and_one_tap_stops_them(api, db_path):
    s = Bot(api, db_path, dt.date(2025, 6, 2))
    texts = await follow(s.family, OPERA, await begin(s.family))
    assert any(RESULT in t for t in texts)
    desk = Desk(s.db, s.dp["desk"].blobs, s.catalogue)

    def due(day: str, hour: int) -> int:
        now = dt.datetime.fromisoformat(day).replace(hour=hour)
        return plan.plan_reminders(s.db, s.catalogue, now, desk, translate_for)

    assert due("2025-06-12", 9) == 0  # Opera's notice closes 20/06/2025 at 12:00
    assert due("2025-06-13", 8) == 0  # 7 days before, but before the morning hour
    assert due("2025-06-13", 9) == 1
    assert due("2025-06-13", 15) == 0  # once
    assert await s.sender.drain() == 1
    reminder = s.family.new_texts()[-1]
    assert "Mancano 7 giorni alla chiusura del bando" in reminder
    assert "20/06/2025 12:00" in reminder
    assert (
        "Manca ancora:" in reminder and "Domanda firmata sul modulo del bando (All. A)." in reminder
    )
    assert due("2025-06-19", 9) == 1  # the morning before a noon deadline
    await s.sender.drain()
    assert "Domani chiude il bando" in s.family.new_texts()[-1]
    texts = await s.family.press("🔕 Basta promemoria")
    assert "niente più promemoria" in texts[-1]
    assert alerts.reminders_of(s.db, 4242) == []
    await s.close()


async def test_cancella_dati_removes_subscriptions_and_reminders(api, db_path):
    s = Bot(api, db_path, dt.date(2025, 6, 2))
    await follow(s.family, OPERA, await begin(s.family))
    alerts.subscribe(s.db, 4242, 4242, "Rozzano", "H623")
    assert alerts.reminders_of(s.db, 4242) and alerts.subscriptions_of(s.db, 4242)
    await s.family.say("/cancella_dati")
    await s.family.press("Sì, cancella tutto")
    assert alerts.subscriptions_of(s.db, 4242) == [] and alerts.reminders_of(s.db, 4242) == []
    await s.close()


@pytest.mark.parametrize("comune", ["Lissone", "Roma"])
async def test_the_bell_is_offered_in_lombardy_only(api, db_path, comune):
    s = Bot(api, db_path, dt.date(2026, 3, 1))
    await begin(s.family)
    await s.family.say(comune)
    if comune == "Lissone":
        await s.family.press("Indennità di accompagnamento")
        await s.family.press("Fatto")
        await s.family.press("No, non ancora")
    assert ("🔔 Avvisatemi quando apre" in s.family.buttons()) == (comune == "Lissone")
    await s.close()


async def test_a_forged_bell_after_refusing_the_privacy_notice_stores_nothing(api, db_path):
    s = Bot(api, db_path, dt.date(2025, 7, 1))
    await s.family.say("/start")
    await s.family.press("Italiano")
    await s.family.press("No")
    texts = await s.family.press("", data=Subscribe(code="F205").pack())
    assert alerts.subscriptions_of(s.db, 4242) == []
    assert texts and "🔔 Fatto" not in texts[-1]
    assert any("Italiano" in b or "accetto" in b for b in s.family.buttons())  # consent first
    await s.close()
