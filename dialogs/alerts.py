"""Telling families when their notice opens, and reminding them before it closes.

Telegram-free: this module decides who is told what, in their language, and puts the
messages in the durable queue (`storage.alerts`); `bot/` sends them within Telegram's
limits and wires the buttons (the typed classes of `dialogs.buttons`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from common.i18n import N_
from dossier.checklist import missing
from dossier.desk import Desk
from eligibility import Catalogue
from eligibility.schema import Notice
from eligibility.window import status
from storage import alerts
from storage.users import get_language

from .buttons import CheckNow, StopReminders, Unsubscribe
from .formats import Formats, esc
from .question_view import SUBSCRIBE, subscribe_data, subscription_offer
from .replies import Button, Reply

Translate = Callable[[str], str]
TranslateFor = Callable[[str], Translate]
REMINDER_DAYS = (7, 1)
REMINDER_HOUR = 9  # in the morning: for a noon deadline, the day before still leaves time

CHECK_NOW = N_("🔎 Verifica adesso")
STOP_ALERTS = N_("🔕 Non avvisatemi più")
STOP_REMINDERS = N_("🔕 Basta promemoria")


__all__ = ["SUBSCRIBE", "subscribe_data", "subscription_offer"]


# -- the family's side ------------------------------------------------------------------


def subscribed(_: Translate, comune: str, new: bool) -> Reply:
    text = (
        _("🔔 Fatto: vi scriviamo quando apre il bando B2 per {comune}.")
        if new
        else _("🔔 Lo avevate già chiesto: vi scriviamo quando apre il bando B2 per {comune}.")
    )
    return Reply(esc(text.format(comune=comune) + " " + _("Per smettere: /avvisi.")))


def overview(_: Translate, db: Database, user_id: int, catalogue: Catalogue) -> Reply:
    """`/avvisi`: the comuni followed and the reminders, each with a button to stop it."""
    subs = alerts.subscriptions_of(db, user_id)
    reminders = alerts.reminders_of(db, user_id)
    if not subs and not reminders:
        return Reply(
            esc(
                _(
                    "Non avete avvisi. Dal risultato potete chiedere di essere avvisati "
                    "quando apre il bando del vostro Comune."
                )
            )
        )
    lines, buttons = [f"<b>{esc(_('I vostri avvisi'))}</b>"], []
    for s in subs:
        lines.append("🔔 " + esc(_("Quando apre il bando per {comune}").format(comune=s.comune)))
        label = _("❌ Basta avvisi per {comune}").format(comune=s.comune)
        buttons.append([Button(label, Unsubscribe(id=s.id).pack())])
    for r in reminders:
        notice = catalogue.notice(r.notice_id)
        title = _(notice.title) if notice is not None else r.notice_id
        lines.append("⏰ " + esc(_("Promemoria prima della scadenza: {title}").format(title=title)))
        buttons.append([Button(_(STOP_REMINDERS), StopReminders(id=r.id).pack())])
    lines.append(esc(_("Toccate un pulsante per smettere.")))
    return Reply("\n".join(lines), buttons)


def remember_result(db: Database, user_id: int, chat_id: int, verdict: dict[str, Any]) -> None:
    """A result with something within reach on an open notice: remind before it closes."""
    notice = verdict.get("notice")
    if not notice or notice["status"] != "open" or not notice.get("closes"):
        return
    if not any(m["verdict"] in ("eligible", "conditional") for m in verdict["measures"]):
        return
    documents = [d["text"] for d in verdict.get("documents", []) if d.get("required")]
    place = (verdict.get("municipality") or {}).get("matched") or ""
    alerts.want_reminders(db, user_id, chat_id, notice["id"], place, documents)


# -- the jobs ------------------------------------------------------------------------------


def plan_openings(
    db: Database, catalogue: Catalogue, today: dt.date, translate_for: TranslateFor
) -> int:
    """Queue one message for each subscriber whose comune has a notice open today and who
    was not told of it yet. Returns how many were queued."""
    rows: list[dict[str, Any]] = []
    for notice in catalogue.notices:
        if status(notice.window, today) != "open":
            continue
        for m in notice.municipalities:
            said: dict[str, tuple[str, list[list[list[str]]], str]] = {}  # one text a language
            for sub in alerts.untold(db, m.name, notice.id):
                language = get_language(db, sub.user_id) or "it"
                if language not in said:
                    _ = translate_for(language)
                    text, buttons = _opening(notice, sub.comune, sub.code, _, language)
                    said[language] = (text, buttons, _(STOP_ALERTS))
                text, buttons, stop = said[language]
                rows.append(
                    {
                        "key": f"open:{notice.id}:{sub.id}",
                        "chat_id": sub.chat_id,
                        "text": text,
                        "buttons": [*buttons, [[stop, Unsubscribe(id=sub.id).pack()]]],
                        "told": (sub.id, notice.id),
                    }
                )
    return alerts.enqueue_many(db, rows) if rows else 0


def _opening(
    notice: Notice, comune: str, code: str, _: Translate, language: str
) -> tuple[str, list[list[list[str]]]]:
    fmt = Formats(language)
    w = notice.window
    lines = [
        "🔔 <b>" + esc(_("È aperto il bando B2 per {comune}").format(comune=comune)) + "</b>",
        esc(_(notice.title)),
        f"<i>{esc(_(notice.ambito))}</i>",
    ]
    if w.closes:
        closes = fmt.iso(
            w.closes.isoformat() if isinstance(w.closes, dt.datetime) else f"{w.closes}T23:59:59"
        )
        lines.append("📅 " + esc(_("Domande fino al {date}.").format(date=closes)))
    elif w.until_funds_run_out:
        lines.append("📅 " + esc(_("Domande fino a esaurimento dei fondi.")))
    lines.append(esc(_("Toccate qui sotto per vedere subito se fa per voi.")))
    return "\n".join(lines), [[[_(CHECK_NOW), CheckNow(code=code).pack()]]]


def plan_reminders(
    db: Database,
    catalogue: Catalogue,
    now: dt.datetime,
    desk: Desk,
    translate_for: TranslateFor,
) -> int:
    """Queue the reminders due now: 7 and 1 days before the closing, in the morning, for
    families who have not sent. Each is queued once; a missed morning is not made up."""
    rows: list[dict[str, Any]] = []
    for r in alerts.active_reminders(db):
        notice = catalogue.notice(r.notice_id)
        if not isinstance(notice, Notice) or notice.window.closes is None:
            continue
        if status(notice.window, now) != "open" or desk.already_sent(r.user_id, r.notice_id):
            continue
        closing_day = (
            notice.window.closes.date()
            if isinstance(notice.window.closes, dt.datetime)
            else notice.window.closes
        )
        for days in REMINDER_DAYS:
            send_at = dt.datetime.combine(
                closing_day - dt.timedelta(days=days), dt.time(REMINDER_HOUR)
            )
            if not send_at <= now < send_at + dt.timedelta(days=1):
                continue
            language = get_language(db, r.user_id) or "it"
            _ = translate_for(language)
            rows.append(
                {
                    "key": f"remind:{r.id}:{days}",
                    "chat_id": r.chat_id,
                    "text": _reminder_text(notice, r, days, desk, _, language),
                    "buttons": [[[_(STOP_REMINDERS), StopReminders(id=r.id).pack()]]],
                }
            )
    return alerts.enqueue_many(db, rows) if rows else 0


def _reminder_text(
    notice: Notice, r: alerts.Reminder, days: int, desk: Desk, _: Translate, language: str
) -> str:
    fmt = Formats(language)
    closes = notice.window.closes
    when = fmt.iso(closes.isoformat() if isinstance(closes, dt.datetime) else f"{closes}T23:59:59")
    head = (
        _("⏰ Domani chiude il bando «{title}»: scadenza {date}.")
        if days == 1
        else _("⏰ Mancano 7 giorni alla chiusura del bando «{title}»: scadenza {date}.")
    )
    lines = [esc(head.format(title=_(notice.title), date=when))]
    draft = next((d for d in desk.dossiers_of(r.user_id) if d["notice_id"] == r.notice_id), None)
    if draft is not None:
        todo = [_(s.item.title) for s in missing(desk.statuses(draft["id"]), include_form=True)]
    else:
        todo = [_(t) for t in r.documents]
    if todo:
        lines.append(esc(_("Manca ancora:")))
        lines += [f"• {esc(t)}" for t in todo]
        lines.append(esc(_("Dal risultato toccate «Prepara la domanda», o scrivete /documenti.")))
    else:
        lines.append(esc(_("Avete tutti i documenti: ricordatevi di inviare la domanda.")))
    return "\n".join(lines)
