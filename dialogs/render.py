"""The verdict document as short chat messages (HTML, every value escaped).

Engine sentences come from the notice files in Italian; they go through the same
translation function, so a catalog that translates them shows them in the user's language.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.i18n import N_
from dossier.checklist import can_prepare

from .formats import Formats, esc
from .languages import Translate

TELEGRAM_LIMIT = 3500  # below Telegram's 4,096 characters, leaving room for markup

PAST_ICON = "☑️"  # would have been eligible: the notice is closed
ICONS = {"eligible": "✅", "conditional": "🟡", "not_eligible": "❌", "undetermined": "❔"}
VERDICT_NAMES = {
    "eligible": N_("potete chiederlo"),
    "conditional": N_("potete chiederlo, ma manca ancora qualcosa"),
    "not_eligible": N_("per ora no"),
    "undetermined": N_("non sappiamo ancora"),
}
# A notice that takes no application now: the verdict says what the family would have had
# (closed) or will be able to ask for (not yet open), never "potete chiederlo".
VERDICT_NAMES_CLOSED = {
    "eligible": N_("con queste risposte avreste potuto chiederlo"),
    "conditional": N_("avreste potuto chiederlo, ma mancava ancora qualcosa"),
    "not_eligible": N_("con queste risposte, no"),
    "undetermined": N_("non sappiamo ancora"),
}
VERDICT_NAMES_NOT_YET_OPEN = {
    "eligible": N_("potrete chiederlo quando apre"),
    "conditional": N_("potrete chiederlo quando apre, ma manca ancora qualcosa"),
    "not_eligible": N_("per ora no"),
    "undetermined": N_("non sappiamo ancora"),
}
STATUS_LINES = {
    "open": N_("Il bando è aperto."),
    "closed": N_("Il bando è chiuso: ora non si può fare domanda."),
    "not_yet_open": N_("Il bando non è ancora aperto."),
    "unknown": N_("Il bando non indica le date: chiedete ai servizi sociali."),
}
OLD_NOTICE = N_("È un bando vecchio: valeva fino al {date}. Oggi non si può usare.")
NOW_WHAT = {
    "closed": N_(
        "Qui sotto vedete cosa avreste avuto con queste risposte. Vi serve per il prossimo "
        "bando: chiedete ai servizi sociali del Comune quando esce."
    ),
    "not_yet_open": N_("Qui sotto vedete cosa potrete chiedere quando apre."),
}
REGIONAL_VERDICTS = {
    "eligible": N_("Con queste risposte avete i requisiti di base della Regione."),
    "conditional": N_("Potreste avere i requisiti di base della Regione. Manca ancora qualcosa."),
    "not_eligible": N_("Con queste risposte non avete i requisiti di base della Regione."),
    "undetermined": N_("Non sappiamo ancora se avete i requisiti di base della Regione."),
}
NO_NOTICE = N_("Per il Comune di {name} non abbiamo ancora il bando B2 del vostro Ambito.")
REGIONAL_HEAD = N_("Intanto, le regole della Regione ({title})")
REGIONAL_MARK = N_("regola regionale: decide il bando dell'Ambito")
ASK_COMUNE = N_(
    "Chiedete ai servizi sociali del Comune di {name} quando esce il bando B2 e come fare domanda."
)
OUTSIDE = N_(
    "{name} ({province}) non è in Lombardia. La Misura B2 è un aiuto della Regione "
    "Lombardia. Per un aiuto a chi assiste una persona a casa, chiedete ai servizi sociali "
    "del Comune di {name}: vi dicono cosa c'è nella vostra regione."
)
GUIDANCE_END = N_(
    "Questa nota spiega come si fa: non è una verifica. Per una nuova domanda parlate con i "
    "servizi sociali del Comune."
)
CHANNELS = {
    "pec": N_("Per PEC a: {address}"),
    "email": N_("Per e-mail a: {address}"),
    "office": N_("Di persona: {address}"),
    "online_platform": N_("Online, sulla piattaforma: {address}"),
    "unknown": N_("Il modo di invio non è indicato: chiedete al vostro Comune."),
}


RESULT = N_("Il risultato")
DOCUMENTS = N_("Documenti da preparare")
OPTIONAL = N_("facoltativo")
# a notice's own form (All. A) and bank annex (All. E): our form carries them
FILLED_BY_US = {
    "form": N_("Il modulo della domanda: lo prepariamo noi, con le vostre risposte."),
    "bank_details": N_("Il conto per il buono: vi chiediamo l'IBAN e lo mettiamo nel modulo."),
}
ITALIAN_ONLY = N_(
    "Alcune frasi di questo avviso non sono ancora tradotte: le vedete in italiano, con 🇮🇹."
)
BENEFITS = N_("Gli aiuti che ricevete già")
HOW_TO_APPLY = N_("Come fare domanda")
KINDS = N_("Gli interventi")
STEPS = N_("I passi")
ISEE_FIRST = N_(
    "Per fare domanda serve prima l'ISEE: chiedetelo a un CAF (centro di assistenza "
    "fiscale) e fate come dice il bando, qui sopra. Poi cambiate la risposta con /riepilogo: "
    "vi diciamo di nuovo cosa potete chiedere."
)
NOT_YET_ISEE = N_("non ancora: prima serve l'ISEE")
ONLY_GIVING_UP = N_("solo se lasciate l'altro aiuto")
CHOOSE = N_(
    "Con queste risposte potete avere la B2 solo se lasciate l'aiuto che ricevete già. "
    "Prima di decidere parlatene con i servizi sociali del Comune: vi dicono cosa vi conviene."
)
NOTHING_HERE = N_(
    "Con queste risposte questo bando non fa per voi. I servizi sociali del Comune possono "
    "dirvi quali altri aiuti ci sono. Se una risposta è sbagliata, cambiatela con /riepilogo."
)


def _tr(_: Translate, text: str) -> str:
    """Translated and escaped (a function of its own, so Babel does not extract field names)."""
    return esc(_(text))


def _t(
    _: Translate,
    text: str,
    i18n: dict[str, Any] | None = None,
    fmt: Formats | None = None,
    msg: Translate | None = None,
) -> str:
    """Translate an engine sentence: its template if it has values, then the values too.
    `msg` translates the sentence itself (a notice's sentence: see `NoticeText`)."""
    msg = msg or _
    if i18n and i18n.get("params"):
        fmt = fmt or Formats()
        params = {
            k: fmt.money(v["eur"]) if isinstance(v, dict) else _(v)
            for k, v in i18n["params"].items()
        }
        template = i18n["msgid"]  # a name of its own, so Babel does not extract "msgid"
        return msg(template).format(**params)
    return msg(text)


class NoticeText:
    """Translates a notice's sentence; a published notice's sentence with no translation
    is shown in Italian, marked 🇮🇹 as the notice's own text (bundled notices are all
    translated, and Italian needs no mark)."""

    def __init__(self, _: Translate, notice: dict[str, Any], fmt: Formats):
        self._ = _
        self.active = not notice.get("bundled", True) and fmt.language != "it"
        self.marked = False

    def __call__(self, text: str) -> str:
        out = self._(text)
        if self.active and text and out == text:
            self.marked = True
            return type(out)(f"🇮🇹 {text}")  # an Arabic chat's isolating text stays so
        return out


def _source(fmt: Formats, source: str) -> str:
    """` (Art. 9)` after a sentence; isolated in a right-to-left language, so the article
    number stays with its name."""
    return f" <i>({esc(fmt.embed(source))})</i>"


def _split(blocks: list[str]) -> list[str]:
    """Join blocks into messages that fit in one Telegram message each."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if current and len(current) + len(block) + 2 > TELEGRAM_LIMIT:
            messages.append(current)
            current = ""
        current = f"{current}\n\n{block}" if current else block
    if current:
        messages.append(current)
    return messages


def render_result(verdict: dict[str, Any], _: Translate, fmt: Formats | None = None) -> list[str]:
    """The result as a few messages: verdicts, benefits, window, how to apply, documents."""
    fmt = fmt or Formats()
    if verdict.get("guidance"):
        return _split([*_guidance(verdict["guidance"], _), _tr(_, GUIDANCE_END)])
    notice = verdict.get("notice")
    place = verdict.get("municipality") or {}
    if verdict.get("outside_lombardy"):
        return [esc(_(OUTSIDE).format(name=place["matched"], province=place["province"]))]
    if verdict.get("regional"):
        return _split(_regional(verdict, _, fmt))
    if notice is None:
        return [
            esc(
                _(
                    "Per questo Comune non abbiamo un bando B2. Chiedete ai servizi sociali del vostro Comune."
                )
            )
        ]
    nt = NoticeText(_, notice, fmt)
    head = f"<b>{_tr(_, (RESULT))}</b>\n{_tr(nt, (notice['title']))}\n<i>{_tr(nt, (notice['ambito']))}</i>"
    if notice.get("document"):  # a published notice: where the family can read it
        d = notice["document"]
        when = fmt.date(dt.date.fromisoformat(d["date"]))
        head += f"\n📄 {_tr(nt, d['title'])}, {esc(when)}, {esc(d['address'])}"
    blocks = [head, f"⚠️ {_tr(_, (verdict['pre_check']))}"]
    if notice["status"] != "open":  # say it first: a closed notice takes no application now
        blocks.append(_window(notice, _, fmt, nt))
    names = {"closed": VERDICT_NAMES_CLOSED, "not_yet_open": VERDICT_NAMES_NOT_YET_OPEN}.get(
        notice["status"], VERDICT_NAMES
    )
    for m in verdict["measures"]:
        icon, label = ICONS[m["verdict"]], names[m["verdict"]]
        if notice["status"] == "closed" and m["verdict"] == "eligible":
            icon = PAST_ICON  # a closed or old notice never shows a current ✅
        if _isee_first(m) and notice["status"] != "closed":
            icon, label = ICONS["conditional"], NOT_YET_ISEE  # curable: not "not for you"
        elif _only_by_giving_up(m):
            icon, label = ICONS["conditional"], ONLY_GIVING_UP
        lines = [f"{icon} <b>{_tr(nt, (m['name']))}</b>: {_tr(_, label)}"]
        for r in m["reasons"]:
            if m["verdict"] == "not_eligible" and r["outcome"] != "failed":
                continue
            source = _source(fmt, r["source"]) if r["source"] else ""
            lines.append(f"• {esc(_t(_, r['text'], r, fmt, nt))}{source}")
        for p in m.get("pending_i18n", []):
            text = esc(_t(_, p["msgid"], p, fmt, nt))
            if not any(text in line for line in lines):  # a reason that says it already
                lines.append(f"⏳ {text}")
        for note in m.get("notes", []):
            lines.append(f"ℹ️ {_tr(nt, note['text'])}{_source(fmt, note['source'])}")
        amount = m.get("amount")
        if amount and m["verdict"] != "not_eligible":
            lines.append(f"💶 {_tr(nt, (amount['text']))}{_source(fmt, amount['source'])}")
            if "adjustment" in amount:
                lines.append(f"💶 {_tr(nt, (amount['adjustment']['text']))}")
        blocks.append("\n".join(lines))
    blocks += _benefits(verdict, _, fmt, nt)
    if notice["status"] != "closed" and _waits_for_isee(verdict["measures"]):
        blocks.append(f"👉 {_tr(_, ISEE_FIRST)}")
        if all(m["verdict"] == "not_eligible" for m in verdict["measures"]):
            return _split(_explain_marks(blocks, nt, _))
    if all(m["verdict"] == "not_eligible" for m in verdict["measures"]) and any(
        _only_by_giving_up(m) for m in verdict["measures"]
    ):  # within reach by leaving the other aid: a choice to talk over, not "not for you"
        blocks.append(esc(_(CHOOSE)))
        return _split(_explain_marks(blocks, nt, _))
    if all(m["verdict"] == "not_eligible" for m in verdict["measures"]):
        # nothing to apply for here: no "how to apply", no documents; someone to talk to
        blocks.append(esc(_(NOTHING_HERE)))
        return _split(_explain_marks(blocks, nt, _))
    if notice["status"] == "closed":
        contacts = _contacts(verdict, nt)
        return _split(_explain_marks([*blocks, contacts] if contacts else blocks, nt, _))
    if notice["status"] == "open":
        blocks.append(_window(notice, _, fmt, nt))
    blocks.append(_submission(verdict["submission"], _, _contacts(verdict, nt), nt))
    if verdict["documents"]:
        ours = can_prepare(verdict)  # the chat makes the form: the notice's is not prepared
        docs = [f"<b>{_tr(_, (DOCUMENTS))}</b>"]
        for d in verdict["documents"]:
            if ours and d.get("filled_by") in FILLED_BY_US:
                docs.append(f"📝 {_tr(_, FILLED_BY_US[d['filled_by']])}")
                continue
            optional = f" ({_tr(_, (OPTIONAL))})" if not d["required"] else ""
            docs.append(f"📄 {_tr(nt, (d['text']))}{optional}")
        blocks.append("\n".join(docs))
    return _split(_explain_marks(blocks, nt, _))


def _isee_first(measure: dict[str, Any]) -> bool:
    """Not eligible only for an ISEE not asked for yet: the family can still get one."""
    failed = [r for r in measure["reasons"] if r["outcome"] == "failed"]
    return bool(failed) and all(r.get("before_applying") for r in failed)


def _only_by_giving_up(measure: dict[str, Any]) -> bool:
    """Not eligible only because of an aid the family already receives (Prestazione
    Universale, Misura B1...): leaving that aid would open this one."""
    failed = [r for r in measure["reasons"] if r["outcome"] == "failed"]
    return bool(failed) and all(r["rule"].startswith("incompatible_") for r in failed)


def _waits_for_isee(measures: list[dict[str, Any]]) -> bool:
    """No measure can be applied for before the ISEE is asked for (the answer "not yet")."""
    ready = [
        m
        for m in measures
        if m["verdict"] in ("eligible", "conditional")
        and not any(r.get("before_applying") for r in m["reasons"])
    ]
    waiting = [m for m in measures if any(r.get("before_applying") for r in m["reasons"])]
    return bool(waiting) and not ready


def _explain_marks(blocks: list[str], nt: NoticeText, _: Translate) -> list[str]:
    """Once, under the title, when some of the notice's sentences are left in Italian."""
    if not nt.marked:
        return blocks
    return [blocks[0], f"🇮🇹 {_tr(_, ITALIAN_ONLY)}", *blocks[1:]]


def _regional(verdict: dict[str, Any], _: Translate, fmt: Formats) -> list[str]:
    """A Lombard comune with no notice on file: say so, the regional rules (each marked as
    such: the Ambito's notice decides), and where to ask."""
    place, regional = verdict["municipality"], verdict["regional"]
    name = place["matched"]
    lines = [f"{ICONS[regional['verdict']]} {_tr(_, REGIONAL_VERDICTS[regional['verdict']])}"]
    mark = _tr(_, REGIONAL_MARK)
    said = []
    for r in regional["reasons"]:
        if regional["verdict"] == "not_eligible" and r["outcome"] != "failed":
            continue
        said.append(esc(_t(_, r["text"], r, fmt)))
        lines.append(f"• {said[-1]} <i>({mark})</i>")
    for p in regional.get("pending_i18n", []):
        text = esc(_t(_, p["msgid"], p, fmt))
        if not any(text in s for s in said):  # a reason that says it already
            lines.append(f"⏳ {text}")
    lines += [f"ℹ️ {_tr(_, n['text'])} <i>({mark})</i>" for n in regional.get("notes", [])]
    return [
        f"<b>{_tr(_, RESULT)}</b>\n{esc(_(NO_NOTICE).format(name=name))}",
        f"<b>{esc(_(REGIONAL_HEAD).format(title=regional['title']))}</b>\n" + "\n".join(lines),
        esc(_(ASK_COMUNE).format(name=name)),
        f"⚠️ {_tr(_, verdict['pre_check'])}",
    ]


def _benefits(
    verdict: dict[str, Any], _: Translate, fmt: Formats, nt: Translate | None = None
) -> list[str]:
    nt = nt or _
    lines: list[str] = []
    for item in verdict["incompatible"]:
        lines.append(f"❌ {_tr(nt, (item['text']))}{_source(fmt, item['source'])}")
    if verdict["incompatible"]:
        lines.append(
            esc(
                _(
                    "Potete scegliere di rinunciare a quell'aiuto per avere la B2. Parlatene con i servizi sociali."
                )
            )
        )
    for item in verdict["compatible"]:
        condition = f" {_tr(nt, (item['condition']))}" if item.get("condition") else ""
        lines.append(f"✅ {_tr(nt, (item['text']))}{condition}{_source(fmt, item['source'])}")
    for item in verdict.get("compatibility_unknown", []):
        lines.append(f"❔ {esc(_t(_, item['text'], item, fmt))}")
    if not lines:
        return []
    return [f"<b>{_tr(_, (BENEFITS))}</b>\n" + "\n".join(lines)]


def _window(notice: dict[str, Any], _: Translate, fmt: Formats, nt: Translate | None = None) -> str:
    nt = nt or _
    state = notice["status"]
    lines = [f"📅 {_tr(_, (STATUS_LINES[state]))}"]
    if state == "not_yet_open" and notice.get("opens"):
        lines.append(esc(_("Apre il {date}.").format(date=fmt.iso(notice["opens"]))))
    if notice.get("closes"):
        lines.append(esc(_("Scadenza: {date}").format(date=fmt.iso(notice["closes"]))))
    if state == "closed" and notice.get("valid_until") and not notice.get("closes"):
        lines.append(esc(_(OLD_NOTICE).format(date=fmt.iso(notice["valid_until"]))))
    if notice.get("until_funds_run_out") and state == "open":
        lines.append(esc(_("Fino a esaurimento dei fondi: meglio fare domanda presto.")))
    if state == "unknown" and notice.get("window_text"):
        lines.append(_tr(nt, notice["window_text"]))
    if notice.get("window_reading"):
        lines.append(f"ℹ️ {_tr(nt, notice['window_reading'])}")
    if state in NOW_WHAT:
        lines.append(_tr(_, NOW_WHAT[state]))
    return "\n".join(lines)


def _contacts(verdict: dict[str, Any], _: Translate) -> str:
    return "\n".join(f"☎️ {_tr(_, c['text'])}" for c in verdict.get("contacts") or [])


def _submission(
    sub: dict[str, Any] | None, _: Translate, contacts: str = "", nt: Translate | None = None
) -> str:
    if not sub:
        return ""
    lines = [f"<b>{_tr(_, (HOW_TO_APPLY))}</b>"]
    lines.append(_channel(_, sub))
    lines.append(_tr(nt or _, (sub["text"])))
    for alt in sub.get("alternatives", []):
        lines.append(_channel(_, alt))
    lines.append(contacts)
    return "\n".join(line for line in lines if line)


def _channel(_: Translate, sub: dict[str, Any]) -> str:
    template = CHANNELS[sub["channel"]]
    if not sub.get("address") and sub["channel"] != "unknown":
        return ""  # the notice names no address: its text says where to ask
    return esc(_(template).format(address=sub.get("address") or ""))


def _guidance(guidance: dict[str, Any], _: Translate) -> list[str]:
    steps = [f"{i}. {_tr(_, (s['text']))}" for i, s in enumerate(guidance["steps"], 1)]
    kinds = [f"• {_tr(_, k['text'])}" for k in guidance.get("kinds", [])]
    blocks = [
        f"<b>{_tr(_, (guidance['title']))}</b>\n<i>{_tr(_, (guidance['issuer']))}</i>",
        _tr(_, (guidance["applies_to"]["text"])),
    ]
    if kinds:
        blocks.append(f"<b>{_tr(_, KINDS)}</b>\n" + "\n".join(kinds))
    blocks.append(f"<b>{_tr(_, STEPS)}</b>\n" + "\n".join(steps))
    return blocks
