"""🔔 subscriptions, `/avvisi`, deadline reminders and the queue that sends them, on
Telegram. What to say and to whom is decided in `dialogs.alerts`; here are the typed
buttons, the handlers, and the sender that keeps within Telegram's limits."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
)
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    User,
)
from aiogram.utils.i18n import I18n
from sqlite_utils import Database

from common.clock import iso, now_iso, utcnow
from common.i18n import N_
from dialogs import alerts as plan
from dialogs.buttons import CheckNow, StopReminders, Subscribe, Unsubscribe, is_alert
from dialogs.flow import Dialog
from dialogs.languages import translator
from dialogs.replies import Outcome, Reply
from dossier.desk import Desk
from eligibility import Catalogue
from eligibility.comuni import gazetteer
from storage import alerts

from .handlers import Chat
from .replies import answer_press, keyboard, send

log = logging.getLogger(__name__)
PER_SECOND = 30  # Telegram: about 30 messages a second for one bot
PER_CHAT = 1.0  # and one a second to the same chat
PLAN_EVERY = 60.0  # seconds between looks for openings and reminders due


UNSUBSCRIBED = (
    N_("Fatto: niente più avvisi per questo Comune."),
    N_("Questo avviso era già stato tolto."),
)
REMINDERS_STOPPED = (
    N_("Fatto: niente più promemoria per questo bando."),
    N_("I promemoria per questo bando erano già fermi."),
)


NO_LONGER_VALID = N_("Questo pulsante non vale più.")


def alerts_router() -> Router:
    router = Router(name="alerts")

    def dialog(i18n: I18n, catalogue: Catalogue, clock: Callable[[], dt.date]) -> Dialog:
        locale = i18n.current_locale
        return Dialog(catalogue, clock(), translator(i18n, locale), locale)

    @router.callback_query(Subscribe.filter())
    async def subscribe(
        callback: CallbackQuery,
        callback_data: Subscribe,
        db: Database,
        state: FSMContext,
        **deps: Any,
    ) -> None:
        await answer_press(callback)
        chat = Chat(state, deps["catalogue"], deps["clock"], deps["i18n"])
        data = await chat.load()
        if data.get("stage") in (None, "language", "privacy"):  # no consent: nothing kept
            await _say(callback, chat.dialog().start(data).replies)
            await chat.save(data)
            return
        d = dialog(deps["i18n"], deps["catalogue"], deps["clock"])
        comune = gazetteer().by_code.get(callback_data.code)
        if comune is None:
            await _say(callback, [Reply(d._(NO_LONGER_VALID))])
            return
        chat_id = callback.message.chat.id if callback.message else callback.from_user.id
        new = alerts.subscribe(db, callback.from_user.id, chat_id, comune.name, comune.code)
        await _say(callback, [plan.subscribed(d._, comune.name, new)])

    @router.callback_query(CheckNow.filter())
    async def check_now(
        callback: CallbackQuery, callback_data: CheckNow, state: FSMContext, **deps: Any
    ) -> None:
        """From an alert: the questionnaire again, with the comune already given."""
        await answer_press(callback)
        chat = Chat(state, deps["catalogue"], deps["clock"], deps["i18n"])
        data = await chat.load()
        d = chat.dialog()
        comune = gazetteer().by_code.get(callback_data.code)
        if comune is None or data.get("stage") in (None, "language", "privacy"):
            await _say(callback, d.start(data).replies)
            await chat.save(data)
            return
        data.update(
            {"stage": "asking", "answers": {"municipality": comune.name},
             "order": ["municipality"], "selected": [], "current": None}
        )  # fmt: skip
        head = Reply(d._("Ricominciamo per {comune}.").format(comune=comune.name))
        outcome = Outcome([head, *d.ask(data)])
        await chat.save(data)
        await _say(callback, outcome.replies)

    async def stopped(
        callback: CallbackQuery, deps: dict[str, Any], done: bool, texts: tuple[str, str]
    ) -> None:
        d = dialog(deps["i18n"], deps["catalogue"], deps["clock"])
        await _say(callback, [Reply(d._(texts[0] if done else texts[1]), edit=True)])

    @router.callback_query(Unsubscribe.filter())
    async def unsubscribe(
        callback: CallbackQuery, callback_data: Unsubscribe, db: Database, **deps: Any
    ) -> None:
        await answer_press(callback)
        done = alerts.unsubscribe(db, callback.from_user.id, callback_data.id)
        await stopped(callback, deps, done, UNSUBSCRIBED)

    @router.callback_query(StopReminders.filter())
    async def stop_reminders(
        callback: CallbackQuery, callback_data: StopReminders, db: Database, **deps: Any
    ) -> None:
        await answer_press(callback)
        done = alerts.stop_reminders(db, callback.from_user.id, callback_data.id)
        await stopped(callback, deps, done, REMINDERS_STOPPED)

    @router.callback_query(F.data.func(is_alert))
    async def forged(callback: CallbackQuery, **deps: Any) -> None:
        """An alert's button whose data does not unpack (forged, or from an older
        version): said kindly, nothing changed."""
        await answer_press(callback)
        d = dialog(deps["i18n"], deps["catalogue"], deps["clock"])
        await _say(callback, [Reply(d._(NO_LONGER_VALID))])

    @router.message(Command("avvisi"))
    async def overview(
        message: Message, db: Database, bot: Bot, event_from_user: User, **deps: Any
    ) -> None:
        d = dialog(deps["i18n"], deps["catalogue"], deps["clock"])
        reply = plan.overview(d._, db, event_from_user.id, deps["catalogue"])
        await send(bot, message.chat.id, Outcome([reply]))

    return router


async def _say(callback: CallbackQuery, replies: list[Reply]) -> None:
    pressed = callback.message if isinstance(callback.message, Message) else None
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    assert callback.bot is not None, "a press fed through the Dispatcher carries its bot"
    await send(callback.bot, chat_id, Outcome(replies), pressed=pressed)


# -- the sender -----------------------------------------------------------------------------


def _markup(rows: list[list[list[str]]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
            for row in rows
        ]
    )


class Sender:
    """Drains the queue in rounds: each round at most `per_second` messages, to different
    chats, and rounds at least a second apart, so neither Telegram limit is passed (about
    30 a second per bot, one a second per chat). Time and sleep are injected for tests."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        per_second: int = PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ):
        self.bot, self.db = bot, db
        self.per_second, self.clock, self.sleep = per_second, clock, sleep
        self.last_sent: dict[int, float] = {}

    def recover(self) -> int:
        lost = alerts.recover(self.db)
        if lost:
            log.warning("%d message(s) caught mid-send by a stop: not sent again", lost)
        return lost

    async def round(self) -> int:
        """One round; the number of messages that went."""
        now = self.clock()
        stamp = now_iso()
        batch, chats = [], set()
        for m in alerts.due(self.db, stamp, self.per_second * 8):
            if m.chat_id in chats or now - self.last_sent.get(m.chat_id, -PER_CHAT) < PER_CHAT:
                continue  # one a second to the same chat: this one waits for a later round
            chats.add(m.chat_id)
            batch.append(m)
            if len(batch) == self.per_second:
                break
        if not batch:
            return 0
        alerts.mark(self.db, [m.id for m in batch], "sending")
        results = await asyncio.gather(*(self._send(m) for m in batch))
        alerts.mark(self.db, [m.id for m, ok in zip(batch, results, strict=True) if ok], "sent")
        for m in batch:
            self.last_sent[m.chat_id] = now
        return sum(results)

    async def _send(self, m: alerts.Outgoing) -> bool:
        try:
            await self.bot.send_message(m.chat_id, m.text, reply_markup=_markup(m.buttons))
            return True
        except (TelegramForbiddenError, TelegramNotFound, TelegramBadRequest) as exc:
            # blocked the bot, or gone: trying again would not help
            alerts.retry_later(self.db, m.id, type(exc).__name__, "", give_up=True)
        except Exception as exc:
            wait = dt.timedelta(minutes=2 ** min(m.attempts, 6))
            later = iso(utcnow() + wait)
            alerts.retry_later(self.db, m.id, type(exc).__name__, later, give_up=m.attempts >= 5)
        return False

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Rounds until nothing is due (or `stop`); the number sent."""
        sent = 0
        while stop is None or not stop.is_set():
            start = self.clock()
            went = await self.round()
            if went == 0 and not alerts.due(self.db, _utc(), 1):
                return sent
            sent += went
            await self.sleep(max(0.0, start + 1.0 - self.clock()))
        return sent

    async def run_forever(self, stop: asyncio.Event) -> None:
        self.recover()
        while not stop.is_set():
            try:
                await self.drain(stop)
            except Exception:
                log.exception("sending round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)


def _utc() -> str:
    return now_iso()


async def plan_forever(
    db: Database,
    catalogue: Catalogue,
    desk: Desk,
    now: Callable[[], dt.datetime],
    i18n: I18n,
    stop: asyncio.Event,
    every: float = PLAN_EVERY,
) -> None:
    """Every minute: queue the alerts of notices that opened and the reminders due."""

    def translate_for(language: str) -> Callable[[str], str]:
        return translator(i18n, language)

    while not stop.is_set():
        try:
            moment = now()
            plan.plan_openings(db, catalogue, moment.date(), translate_for)
            plan.plan_reminders(db, catalogue, moment, desk, translate_for)
        except Exception:
            log.exception("planning alerts failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


__all__ = ["CheckNow", "Sender", "StopReminders", "Subscribe", "Unsubscribe", "keyboard"]
