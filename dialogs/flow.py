"""The questionnaire as a conversation: one question at a time, driven by the engine.

`Dialog` knows nothing of Telegram. It reads and changes a JSON-able `state` dict (kept
by the caller in storage), takes typed text or button data, and returns `Reply` objects
(HTML text, escaped, with buttons). The bot and the console render them.

Which question comes next is the first fact of the engine's `missing` list; answered
facts are kept when another answer is changed, and only facts that now matter are asked.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from common.i18n import N_
from dossier.answers import facts_of
from eligibility import Catalogue, check
from eligibility.reach import Asking, asking
from eligibility.schema import FactRule, Notice

from .buttons import (
    ON_A_QUESTION,
    Answer,
    ConfirmIsee,
    Done,
    Edit,
    Erase,
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
    unpack_question,
)
from .callbacks import CallbackData
from .formats import Formats, esc
from .languages import SOURCE, Translate, available, display_name, names_of
from .matching import NONE_WORDS, match_option, match_options, words
from .parsing import (
    AnswerError,
    parse_amount,
    parse_birth_date,
    parse_hours,
    parse_yes_no,
)
from .questions import BY_KEY, BY_QID, Question
from .render import render_result

MAX_TEXT = 1000
ISEE_CONFIRM_BELOW = 1000  # an ISEE under 1.000 € is asked again: "18.5" may mean 18.500 €


@dataclass
class Button:
    label: str
    data: str


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False  # replace the message whose button was pressed
    # where on screen it goes: a newer message of the same slot takes the buttons of the
    # older away (the checklist, a file's "✅ …: n pagine", the last check): only the
    # newest is live ("" : none, its buttons stay until answered)
    slot: str = ""


STATUS = "status"  # the application's slot: where it stands, and what to tap next


@dataclass
class Outcome:
    replies: list[Reply]
    language: str | None = None  # the user chose a language
    wipe: bool = False  # the user asked to delete everything
    keep_keyboard: bool = False  # a typed answer refused again: the buttons above stay


STAGES = ("language", "privacy", "asking", "result")


def new_state() -> dict[str, Any]:
    return {"stage": "language", "answers": {}, "order": [], "selected": [], "current": None}


class Dialog:
    def __init__(
        self, catalogue: Catalogue, today: dt.date, gettext: Translate, language: str = SOURCE
    ):
        self.catalogue = catalogue
        self.today = today
        self._ = gettext
        self.fmt = Formats(language)
        self._verdicts: dict[str, dict[str, Any]] = {}
        self._asking: dict[str, Asking] = {}

    def verdict(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The engine's verdict for these answers (asked once per set of answers): for
        the result."""
        key = json.dumps(answers, sort_keys=True)
        if key not in self._verdicts:
            self._verdicts[key] = check(facts_of(answers, self.today), self.catalogue)
        return self._verdicts[key]

    def asking(self, answers: dict[str, Any]) -> Asking:
        """What the questions still need (`eligibility.reach.asking`, asked once per set of
        answers): the next question, its number and its wording read it."""
        key = repr(answers)  # two orders of the same answers: only asked twice
        found = self._asking.get(key)
        if found is None:
            found = self._asking[key] = asking(facts_of(answers, self.today), self.catalogue)
        return found

    # -- entry points ---------------------------------------------------------------

    def start(self, state: dict[str, Any]) -> Outcome:
        """`/start`: a new questionnaire if none is under way, else the current question."""
        if state.get("stage") in ("asking", "result") and state.get("answers"):
            return Outcome(
                [Reply(self._("Bentornati! Riprendiamo da dove eravamo.")), *self.ask(state)]
            )
        state.clear()
        state.update(new_state())
        return Outcome([self._language_reply()])

    def on_text(self, state: dict[str, Any], text: str) -> Outcome:
        _ = self._
        stage = state.get("stage")
        if stage not in STAGES:
            # nothing stored (privacy refused, data deleted): consent comes first again
            return self.start(state)
        if stage == "language":
            index = match_option(text, [names_of(code) for code in available()])
            if index is not None:  # "italiano", "English", "Română": as its button
                return self.on_button(state, Language(code=available()[index]).pack())
            return self.refused(
                state, "language", _("Per iniziare, scegliete la lingua."), self._language_reply()
            )
        if stage == "privacy":
            index = match_option(text, self._privacy_forms(), yes=[_("Sì")], no=[_("No")])
            if index is not None:  # "sì", "accetto": as its button
                answer = "yes" if index == 0 else "no"
                return self.on_button(state, Privacy(answer=answer).pack())
            return self.refused(
                state,
                "privacy",
                _("Prima di continuare, leggete e rispondete qui."),
                self._privacy_reply(),
            )
        if stage == "result":
            return Outcome(
                [
                    Reply(
                        _(
                            "Il risultato è qui sopra. Per cambiare una risposta scrivete /riepilogo; per ricominciare /ricomincia."
                        )
                    )
                ]
            )
        if len(text) > MAX_TEXT:
            return Outcome(
                [
                    Reply(_("Il messaggio è troppo lungo. Rispondete in poche parole.")),
                    *self.ask(state),
                ]
            )
        question = self.on_screen(state)
        if question is None:
            return Outcome(self.ask(state))
        try:
            return Outcome(self._answer_text(state, question, text.strip()))
        except AnswerError as err:  # the same question again, the one being answered
            if question.kind not in ("choice", "yesno", "multi"):
                return Outcome([Reply(_(err.message)), self._question_reply(state, question)])
            hint = MULTI_HINT if question.kind == "multi" else HINT
            return self.refused(
                state, question.qid, _(err.message), self._question_reply(state, question), hint
            )

    def refused(
        self, state: dict[str, Any], where: str, why: str, again: Reply, hint: str = ""
    ) -> Outcome:
        """A typed answer to a question with buttons that fits none: the question again
        the first time; after that a short word, and the buttons on screen stay (an
        18-button list is not sent again at each try)."""
        if state.get("refused") == where:
            return Outcome([Reply(esc(self._(hint or HINT)))], keep_keyboard=True)
        state["refused"] = where
        return Outcome([Reply(why), again])

    def on_button(self, state: dict[str, Any], data: str) -> Outcome:
        """A button of the questionnaire (`dialogs.buttons`), by its packed data."""
        _ = self._
        button = unpack_question(data)
        if isinstance(button, Language) and button.code in available():
            if state.get("stage") == "language":
                state["stage"] = "privacy"
            name = display_name(button.code)
            return Outcome([Reply(f"✓ {esc(name)}", edit=True)], language=button.code)
        if isinstance(button, Privacy) and state.get("stage") == "privacy":
            if button.answer == "yes":
                state["stage"] = "asking"
                return Outcome([Reply(_("✓ Accetto"), edit=True), *self.ask(state)])
            return Outcome(
                [
                    Reply(
                        _("Va bene. Non salviamo nulla. Se cambiate idea, scrivete /start."),
                        edit=True,
                    )
                ],
                wipe=True,
            )
        if isinstance(button, Erase):
            if button.answer == "yes":
                return Outcome(
                    [Reply(_("Fatto: abbiamo cancellato tutti i vostri dati."), edit=True)],
                    wipe=True,
                )
            return Outcome(
                [Reply(_("Va bene, non cancelliamo nulla."), edit=True), *self.ask(state)]
            )
        if (
            isinstance(button, Edit)
            and button.qid in BY_QID
            and state.get("stage") in ("asking", "result")
        ):
            return Outcome(self.edit(state, button.qid))
        if isinstance(button, Summary):
            return Outcome(self.summary(state))
        if state.get("stage") != "asking":
            return Outcome([Reply(_("Questo pulsante non vale più.")), *self.ask(state)])
        question = self.on_screen(state)
        if (
            question is None
            or not isinstance(button, ON_A_QUESTION)
            or button.qid != question.qid
        ):
            return Outcome(
                [
                    Reply(_("Questo pulsante non vale più. Ecco la domanda di adesso.")),
                    *self.ask(state),
                ]
            )
        try:
            return Outcome(self._answer_button(state, question, button))
        except (AnswerError, ValueError, IndexError):
            return Outcome(
                [
                    Reply(_("Questo pulsante non vale più. Ecco la domanda di adesso.")),
                    *self.ask(state),
                ]
            )

    def back(self, state: dict[str, Any]) -> Outcome:
        """`/indietro`: the question before the one on screen again, its answer kept and
        offered (keep it with a button, or give a new one); no answer is erased."""
        answers = state.get("answers") or {}
        answered = [k for k in state.get("order", []) if k in answers and k in BY_KEY]
        on_screen = self.on_screen(state) if state.get("stage") == "asking" else None
        if on_screen is not None and on_screen.key in answered:
            answered = answered[: answered.index(on_screen.key)]
        if state.get("stage") not in ("asking", "result") or not answered:
            return Outcome([Reply(self._("Siete alla prima domanda.")), *self.ask(state)])
        return Outcome(self.edit(state, BY_KEY[answered[-1]].qid))

    def summary(self, state: dict[str, Any]) -> list[Reply]:
        """`/riepilogo`: every answer, each with a button to change it."""
        _ = self._
        answers = state.get("answers") or {}
        if not answers:
            return [Reply(_("Non avete ancora risposto a nessuna domanda.")), *self.ask(state)]
        heading = _("Le vostre risposte")
        lines = [f"<b>{esc(heading)}</b>"]
        buttons = []
        for key in state.get("order", []):
            question = BY_KEY.get(key)
            if question is None or key not in answers:
                continue
            shown = self.fmt.embed(self.shown(question, answers[key]))
            lines.append(f"• {esc(_(question.short))}: {esc(shown)}")
            buttons.append([Button(f"✏️ {_(question.short)}", packed(Edit, qid=question.qid))])
        lines.append(esc(_("Toccate una risposta per cambiarla. Le altre restano.")))
        return [Reply("\n".join(lines), buttons)]

    def edit(self, state: dict[str, Any], qid: str) -> list[Reply]:
        """Ask one answered question again; the old answer stays until a new one is given."""
        question = BY_QID[qid]
        answers = state["answers"]
        state.pop("suggest", None)
        state["stage"] = "asking"
        state["current"] = question.qid
        state["selected"] = list(answers.get(question.key, [])) if question.kind == "multi" else []
        return [self._question_reply(state, question)]

    # -- asking ---------------------------------------------------------------------

    def on_screen(self, state: dict[str, Any]) -> Question | None:
        """The question last shown (saved with the state), else the one the engine needs."""
        shown = BY_QID.get(state.get("current") or "")
        return shown if shown is not None else self.current(state)

    def current(self, state: dict[str, Any]) -> Question | None:
        """The question the engine needs next, or None when a verdict is reached."""
        answers = state.get("answers", {})
        if "municipality" not in answers:
            return BY_KEY["municipality"]
        missing = self.asking(answers).missing
        if not missing:
            return None
        key = missing[0]
        if key == "isee":
            if "isee.status" not in answers:
                return BY_KEY["isee.status"]
            return BY_KEY["isee.kind"] if "isee.kind" not in answers else BY_KEY["isee.value"]
        return BY_KEY[key]

    def ask(self, state: dict[str, Any]) -> list[Reply]:
        stage = state.get("stage")
        if stage not in STAGES:  # a conversation with nothing stored starts from consent
            state.clear()
            state.update(new_state())
            stage = "language"
        if stage == "language":
            return [self._language_reply()]
        if stage == "privacy":
            return [self._privacy_reply()]
        question = self.current(state)
        if question is None:
            state["stage"] = "result"
            state["current"] = None
            return self.result(state)
        state["stage"] = "asking"
        state["current"] = question.qid
        return [self._question_reply(state, question)]

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
        _ = self._
        number, total = self.progress(state)
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

    # -- answers ----------------------------------------------------------------------

    def _store(self, state: dict[str, Any], key: str, value: Any) -> None:
        state["answers"][key] = value
        if key not in state["order"]:  # a changed answer keeps its place in /riepilogo
            state["order"].append(key)
        state["selected"] = []
        state.pop("suggest", None)
        state.pop("confirm", None)
        state.pop("refused", None)

    def _answer_text(self, state: dict[str, Any], q: Question, text: str) -> list[Reply]:
        _ = self._
        if q.kind == "comune":
            return self._answer_comune(state, q, text)
        if q.kind == "date":
            value: Any = parse_birth_date(text, self.today).isoformat()
        elif q.kind == "amount":
            value = float(parse_amount(text))
            if q.key == "isee.value" and value < ISEE_CONFIRM_BELOW:
                state["confirm"] = value  # "18.5" is 18,50 €: did they mean 18.500 €?
                return [self._confirm_isee(value)]
        elif q.kind == "hours":
            value = parse_hours(text)
        elif q.kind == "yesno":
            index = self._match_option(q, text)
            value = q.options[index][0] == "yes" if index is not None else parse_yes_no(text)
        elif q.kind == "choice":
            index = self._match_option(q, text)
            if index is None:
                raise AnswerError(N_("Per rispondere, toccate uno dei pulsanti qui sotto."))
            return self._answer_button(state, q, Answer(qid=q.qid, option=index))
        elif q.kind == "multi":
            return self._answer_multi(state, q, text)
        else:
            raise AnswerError(N_("Per rispondere, toccate uno dei pulsanti qui sotto."))
        self._store(state, q.key, value)
        return [Reply(f"✓ {esc(self.fmt.embed(self.shown(q, value)))}"), *self.ask(state)]

    def _forms(self, q: Question) -> list[tuple[str, ...]]:
        """How each option may be typed: its label in the chat's language and in Italian."""
        return [(self._(label), label) for _value, label in q.options]

    def _match_option(self, q: Question, text: str) -> int | None:
        return match_option(text, self._forms(q), yes=[self._("Sì")], no=[self._("No")])

    def _privacy_forms(self) -> list[tuple[str, ...]]:
        _ = self._
        agree = (_("Sì, accetto"), "Sì, accetto", "accetto", "va bene", "ok", "d'accordo")
        return [agree, (_("No"), "No", "non accetto")]

    def _answer_multi(self, state: dict[str, Any], q: Question, text: str) -> list[Reply]:
        """Typed at a question with several answers: "nessuno", "fatto", or the options'
        names ("accompagnamento", "ADI e SAD"), added to those ticked; then as «Fatto»."""
        _ = self._
        typed = words(text)
        none = {words(w) for w in (*NONE_WORDS, _("nessuno"), _("Nessuno di questi · Fatto"))}
        done = {words(w) for w in ("fatto", "done", _("Fatto"))}
        if typed in none:
            state["selected"] = []
        elif typed not in done:
            found = match_options(text, self._forms(q))
            if found is None:
                raise AnswerError(MULTI_HINT)
            chosen = state.setdefault("selected", [])
            chosen += [q.options[i][0] for i in found if q.options[i][0] not in chosen]
        return self._answer_button(state, q, Done(qid=q.qid))

    def _answer_comune(self, state: dict[str, Any], q: Question, text: str) -> list[Reply]:
        _ = self._
        if not text or len(text) > 80:
            raise AnswerError(N_("Scrivete solo il nome del Comune, per esempio: Rozzano."))
        match = self.catalogue.find(text, self.today)
        if match.entry is not None or match.comune is not None:
            # a notice's comune, any other Lombard comune (the regional pre-check), or a
            # comune outside Lombardy (told kindly where to ask)
            self._store(state, "municipality", match.name)
            shown = (
                match.name if match.comune is None else f"{match.name} ({match.comune.province})"
            )
            return [Reply(f"✓ {esc(shown or '')}"), *self.ask(state)]
        if match.suggestions:
            state["suggest"] = match.suggestions
            return [
                Reply(esc(_("Non trovo «{name}». Intendete uno di questi?").format(name=text))),
                self._question_reply(state, q),
            ]
        state.pop("suggest", None)
        return [
            Reply(
                esc(
                    _(
                        "Non troviamo il Comune «{name}». Controllate il nome e riscrivetelo, "
                        "per esempio: Cernusco sul Naviglio."
                    ).format(name=text)
                )
            ),
            self._question_reply(state, q),
        ]

    def _confirm_isee(self, typed: float) -> Reply:
        _ = self._
        text = _(
            "Avete scritto {amount}. Di solito un ISEE è di qualche migliaio di euro. È giusto?"
        ).format(amount=self.fmt.money(typed))
        def confirm(choice: int) -> str:  # the ISEE value's question ("isv")
            return ConfirmIsee(qid=BY_KEY["isee.value"].qid, choice=choice).pack()

        buttons = [[Button(_("Sì, {amount}").format(amount=self.fmt.money(typed)), confirm(0))]]
        if 0 < typed * 1000 <= 10_000_000:
            thousands = self.fmt.money(typed * 1000)
            buttons.append([Button(_("No, {amount}").format(amount=thousands), confirm(1))])
        buttons.append([Button(_("Lo riscrivo"), confirm(2))])
        return Reply(esc(text), buttons)

    def _answer_button(
        self, state: dict[str, Any], q: Question, button: CallbackData | None
    ) -> list[Reply]:
        _ = self._
        if isinstance(button, ConfirmIsee) and q.key == "isee.value" and "confirm" in state:
            typed = float(state.pop("confirm"))
            if button.choice == 2:
                return [
                    Reply(esc(_("Va bene: scrivete di nuovo il valore ISEE.")), edit=True),
                    self._question_reply(state, q),
                ]
            chosen = typed if button.choice == 0 else round(typed * 1000, 2)
            self._store(state, q.key, chosen)
            return [Reply(f"✓ {esc(self.shown(q, chosen))}", edit=True), *self.ask(state)]
        if isinstance(button, Explain):
            return [Reply(esc(_(q.help or ""))), self._question_reply(state, q)]
        if isinstance(button, Keep) and q.key in state["answers"]:  # the answer stays
            state["selected"] = []
            state.pop("suggest", None)
            shown = esc(self.fmt.embed(self.shown(q, state["answers"][q.key])))
            prompt = esc(self._prompt(state, q))
            return [Reply(f"{prompt}\n✓ <b>{shown}</b>", edit=True), *self.ask(state)]
        if isinstance(button, Suggestion) and q.kind == "comune":
            name = state.get("suggest", [])[button.option]
            self._store(state, "municipality", name)
            return [Reply(f"✓ {esc(name)}", edit=True), *self.ask(state)]
        if isinstance(button, Answer) and q.kind in ("choice", "yesno"):
            option = q.options[button.option]
            answer: Any = option[0] == "yes" if q.kind == "yesno" else option[0]
            self._store(state, q.key, answer)
            prompt = esc(self._prompt(state, q))
            return [
                Reply(f"{prompt}\n✓ <b>{esc(_(option[1]))}</b>", edit=True),
                *self.ask(state),
            ]
        if isinstance(button, Toggle) and q.kind == "multi":
            chosen = state.setdefault("selected", [])
            ticked = q.options[button.option][0]
            chosen.remove(ticked) if ticked in chosen else chosen.append(ticked)
            reply = self._question_reply(state, q)
            reply.edit = True  # the same message, with the ticks updated
            return [reply]
        if isinstance(button, Done) and q.kind == "multi":
            final = [v for v, _label in q.options if v in state.get("selected", [])]
            self._store(state, q.key, final)
            shown = esc(self.shown(q, final))
            return [
                Reply(f"{esc(self._prompt(state, q))}\n✓ <b>{shown}</b>", edit=True),
                *self.ask(state),
            ]
        raise AnswerError(N_("Questo pulsante non vale più. Ecco la domanda di adesso."))

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
# a typed answer refused again at a question with buttons: short, the buttons stay above
HINT = N_("Non ho capito. Toccate uno dei pulsanti qui sopra, o scrivete la risposta come sul pulsante.")
MULTI_HINT = N_(
    "Non ho capito. Toccate le risposte giuste, poi «Fatto». Potete anche scriverne il nome, "
    "o scrivere «nessuno»."
)


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
