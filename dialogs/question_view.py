"""How the questionnaire looks: a question with its number, example and buttons, the
language and privacy questions, the answers as lines, and the result with what to tap
next. A part of `dialogs.flow.Dialog`, which gives the engine's `asking` and `verdict`."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

from common.i18n import N_
from eligibility import Catalogue
from eligibility.reach import Asking
from eligibility.schema import FactRule, Notice

from .buttons import (
    Answer,
    Done,
    Explain,
    Keep,
    Language,
    Prepare,
    Privacy,
    Subscribe,
    Suggestion,
    Summary,
    Toggle,
    packed,
)
from .formats import Formats, esc
from .languages import SOURCE, Translate, available, display_name
from .questions import BY_KEY, BY_QID, Question
from .render import render_result
from .replies import Button, Reply

# the catalogue's key (`Catalogue.kept`) of the questions' words and buttons worked out
# (`QuestionView._question_reply`): a publication makes a new catalogue, so a notice's own
# wording of a question is never read from before it
QUESTION_REPLIES = "question replies"


class _Replies:
    """The last `size` questions worked out, each as (text, rows of (label, data)): a
    family's `Reply` is built anew from them, so nothing shared is ever changed."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._seen: OrderedDict[object, tuple[str, list[list[tuple[str, str]]]]] = OrderedDict()

    def get(self, key: object) -> tuple[str, list[list[tuple[str, str]]]] | None:
        found = self._seen.get(key)
        if found is not None:
            self._seen.move_to_end(key)
        return found

    def put(
        self, key: object, value: tuple[str, list[list[tuple[str, str]]]]
    ) -> tuple[str, list[list[tuple[str, str]]]]:
        self._seen[key] = value
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return value


class QuestionView:
    """The questionnaire's words and buttons (a part of `dialogs.flow.Dialog`)."""

    catalogue: Catalogue
    _: Translate
    fmt: Formats

    def asking(self, answers: dict[str, Any]) -> Asking:
        raise NotImplementedError

    def verdict(self, answers: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def progress(self, state: dict[str, Any]) -> tuple[int, int | None]:
        """This question's number, and at most how many there are in all (None before the
        comune is known: the notice decides what is asked). The bound never grows."""
        answers = state.get("answers", {})
        answered = [k for k in state.get("order", []) if k in answers]
        done = len(answered)
        shown = BY_QID.get(state.get("current") or "")
        # a question asked again keeps its number; a new one comes after those answered
        number = answered.index(shown.key) + 1 if shown and shown.key in answered else done + 1
        if "municipality" not in answers:
            return number, None
        keys = self.asking(answers).still_asked
        if keys is None:
            return number, None
        left = len(keys - {"isee"})
        if "isee" in keys:  # asked in up to three steps: attestation, kind, value
            left += 3 - len([k for k in ("isee.status", "isee.kind") if k in answers])
        return number, max(done + left, number)

    def _question_reply(self, state: dict[str, Any], q: Question) -> Reply:
        number, total = self.progress(state)
        answers = state.get("answers") or {}
        if q.key in answers or q.kind == "multi" or (q.kind == "comune" and state.get("suggest")):
            return self._render_question(state, q, number, total)
        # asked for the first time, with no choices of the family's on it: the same words
        # and buttons for every family of the notice at that number, in that language
        notice = self.asking(answers).notice if answers else None
        seen = self.catalogue.kept(QUESTION_REPLIES, _Replies)
        key = (self._, self.fmt.language, q.qid, notice.id if notice else None, number, total)
        found = seen.get(key)
        if found is None:
            reply = self._render_question(state, q, number, total)
            rows = [[(b.label, b.data) for b in row] for row in reply.buttons]
            found = seen.put(key, (reply.text, rows))
        text, kept = found
        return Reply(text, [[Button(label, data) for label, data in row] for row in kept])

    def _render_question(
        self, state: dict[str, Any], q: Question, number: int, total: int | None
    ) -> Reply:
        _ = self._
        if total is None:
            head = esc(_("Domanda {n}").format(n=number))
        else:
            head = esc(_("Domanda {n} di {total} al massimo").format(n=number, total=total))
        lines = [f"<i>{head}</i>", esc(self._prompt(state, q))]
        example = {"date": self.fmt.example_date, "amount": self.fmt.example_amount}.get(
            q.kind, lambda: q.example
        )()
        if example:
            lines.append(esc(_("Per esempio: {example}").format(example=example)))
        answers = state.get("answers") or {}
        if q.key in answers:  # asked again (/indietro, ✏️): the answer given is kept
            given = self.fmt.embed(self.shown(q, answers[q.key]))
            lines.append(esc(_("Avete risposto: {answer}").format(answer=given)))
        buttons: list[list[Button]] = []
        if q.kind in ("choice", "yesno"):
            buttons = [
                [Button(_(label), packed(Answer, qid=q.qid, option=i))] for i, (_v, label) in enumerate(q.options)
            ]
            if q.kind == "yesno":
                buttons = [[b[0] for b in buttons]]
        elif q.kind == "multi":
            chosen = set(state.get("selected", []))
            buttons = [
                [Button(("✅ " if value in chosen else "▫️ ") + _(label), packed(Toggle, qid=q.qid, option=i))]
                for i, (value, label) in enumerate(q.options)
            ]
            done = _("Fatto") if chosen else _("Nessuno di questi · Fatto")
            buttons.append([Button(f"➡️ {done}", packed(Done, qid=q.qid))])
        elif q.kind == "comune" and state.get("suggest"):
            buttons = [[Button(name, packed(Suggestion, qid=q.qid, option=i))] for i, name in enumerate(state["suggest"])]
        if q.help:
            buttons.append([Button(_("❓ Cos'è?"), packed(Explain, qid=q.qid))])
        if q.key in answers:
            buttons.append([Button(_("↩️ Va bene così"), packed(Keep, qid=q.qid))])
        return Reply("\n".join(lines), buttons)

    def _prompt(self, state: dict[str, Any], q: Question) -> str:
        """The question as the family's notice means it, where the notice words it (Opera's
        "first time": only a B2 for a care worker in 2024 counts), else the usual one."""
        answers = state.get("answers") or {}
        notice = self.asking(answers).notice if answers else None
        if notice is not None:
            worded = self.catalogue.kept(("questions", notice.id), lambda: _questions(notice))
            if q.key in worded:
                return self._(worded[q.key])
        return self._(q.prompt)

    def _language_reply(self) -> Reply:
        """Every language by its own name, two a row; the chat's language (Telegram's, at
        first contact) first, and the question also in Italian and English."""
        here = self.fmt.language
        codes = sorted(available(), key=lambda code: code != here)
        buttons = [Button(display_name(code), Language(code=code).pack()) for code in codes]
        lines = ["Scegliete la lingua · Choose your language"]
        if here not in (SOURCE, "en"):
            lines.insert(0, esc(self._("Scegliete la lingua")))
        return Reply("\n".join(lines), [buttons[i : i + 2] for i in range(0, len(buttons), 2)])

    def _privacy_reply(self) -> Reply:
        _ = self._
        text = "\n".join(
            esc(line)
            for line in (
                _("Privacy, in breve:"),
                _(
                    "• Salviamo le vostre risposte per darvi il risultato e per riprendere più tardi."
                ),
                _(
                    "• Non le diamo a nessuno. Il Comune le riceve solo se poi decidete di fare domanda."
                ),
                _("• Potete cancellare tutto quando volete con /cancella_dati."),
                _(
                    "• Cancellare vuol dire tutto: risposte, documenti, domande preparate e "
                    "le loro copie. Nel registro del Comune resta solo cosa è stato fatto, "
                    "non per chi."
                ),
                _(
                    "• Se non scrivete per 6 mesi, cancelliamo risposte e domande non "
                    "inviate. Vi avvisiamo una settimana prima."
                ),
                _(
                    "• I documenti di una domanda consegnata li cancelliamo dopo alcune "
                    "settimane. Vi avvisiamo prima."
                ),
                _("• Il risultato è una verifica preliminare: decidono i servizi sociali."),
                _("Siete d'accordo?"),
            )
        )
        return Reply(text, [[Button(_("Sì, accetto"), Privacy(answer="yes").pack()), Button(_("No"), Privacy(answer="no").pack())]])

    def lines(self, answers: dict[str, Any]) -> list[tuple[str, str]]:
        """The answers as (question, answer) lines, in the order given: what the dossier
        stores when it is opened (in Italian, for the back-office)."""
        shown = []
        for key, answer in answers.items():
            q = BY_KEY.get(key)
            label = self._(q.short or q.prompt) if q else key
            try:
                value = self.shown(q, answer) if q else str(answer)
            except (KeyError, ValueError, TypeError):
                value = str(answer)
            shown.append((label, value))
        return shown

    def shown(self, q: Question, value: Any) -> str:
        """An answer as the user reads it."""
        _ = self._
        labels = dict(q.options)
        if q.kind == "multi":
            return self.fmt.join([_(labels[v]) for v in value]) or _("nessuno")
        if q.kind == "yesno":
            return _("Sì") if value else _("No")
        if q.kind == "choice":
            return _(labels.get(value, str(value)))
        if q.kind == "date":
            return self.fmt.date(dt.date.fromisoformat(value))
        if q.kind == "amount":
            return self.fmt.money(value)
        if q.kind == "hours":
            return self.fmt.hours_per_week(value)
        return str(value)

    # -- result -----------------------------------------------------------------------

    def result(self, state: dict[str, Any]) -> list[Reply]:
        from dossier.checklist import can_prepare, can_send

        verdict = self.verdict(state["answers"])
        texts = render_result(verdict, self._, self.fmt)
        buttons = [[Button(self._("✏️ Cambia una risposta"), Summary().pack())]]
        if can_prepare(verdict):
            label = (
                N_("📝 Prepara la domanda") if can_send(verdict) else N_("📝 Prepara i documenti")
            )
            buttons.insert(0, [Button(self._(label), Prepare().pack())])
        code = subscription_offer(verdict)
        if code is not None:  # no notice open for this comune: offer to tell them when
            buttons.insert(0, [Button(self._(SUBSCRIBE), subscribe_data(code))])
        return [Reply(t) for t in texts[:-1]] + [Reply(texts[-1], buttons)]


def _questions(notice: Notice) -> dict[str, str]:
    """A notice's own wording of the questions, by fact (the first rule that words it)."""
    worded: dict[str, str] = {}
    for rule in notice.common_requirements + [r for m in notice.measures for r in m.requirements]:
        if isinstance(rule, FactRule) and rule.question:
            worded.setdefault(rule.fact, rule.question)
    return worded


SUBSCRIBE = N_("🔔 Avvisatemi quando apre")


def subscribe_data(code: str) -> str:
    """The 🔔 button's data (`dialogs.buttons.Subscribe`)."""
    return Subscribe(code=code).pack()


def subscription_offer(verdict: dict[str, Any]) -> str | None:
    """The comune's code when the result should offer 🔔: no notice open for it (none on
    file, not yet open, closed, no dates), in Lombardy."""
    place = verdict.get("municipality") or {}
    if not place.get("code") or not place.get("lombardy"):
        return None
    notice = verdict.get("notice")
    if notice is not None and notice["status"] == "open":
        return None
    return str(place["code"])
