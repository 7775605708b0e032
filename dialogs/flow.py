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
from typing import Any

from common.i18n import N_
from dossier.answers import facts_of
from eligibility import Catalogue, check
from eligibility.reach import Asking, asking

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
    Privacy,
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
from .question_view import QuestionView
from .questions import BY_KEY, BY_QID, Question
from .replies import Button, Outcome, Reply

MAX_TEXT = 1000
ISEE_CONFIRM_BELOW = 1000  # an ISEE under 1.000 € is asked again: "18.5" may mean 18.500 €


STAGES = ("language", "privacy", "asking", "result")


def new_state() -> dict[str, Any]:
    return {"stage": "language", "answers": {}, "order": [], "selected": [], "current": None}


class Dialog(QuestionView):
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
        if state.get("stage") in ("asking", "result"):  # consent given: where they were
            shown = BY_QID.get(state.get("current") or "")
            answers = state.get("answers") or {}
            if state.get("stage") == "asking" and shown is not None and shown.key in answers:
                asked = [self._question_reply(state, shown)]  # asked again (/indietro, ✏️)
            else:
                asked = self.ask(state)
            return Outcome([Reply(self._("Bentornati! Riprendiamo da dove eravamo.")), *asked])
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

    def on_button(
        self, state: dict[str, Any], data: str, *, application_open: bool = False
    ) -> Outcome:
        """A button of the questionnaire (`dialogs.buttons`), by its packed data.
        `application_open`: the family is past the result, preparing or having sent the
        application: an old questionnaire button there points to it, and does not show
        the result again with «Prepara la domanda» (family trial 16)."""
        _ = self._
        def here(state: dict[str, Any]) -> list[Reply]:
            return [Reply(_(TO_THE_APPLICATION))] if application_open else self.ask(state)
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
            return Outcome([Reply(_("Va bene, non cancelliamo nulla."), edit=True), *here(state)])
        if (
            isinstance(button, Edit)
            and button.qid in BY_QID
            and state.get("stage") in ("asking", "result")
        ):
            return Outcome(self.edit(state, button.qid))
        if isinstance(button, Summary):
            return Outcome(self.summary(state))
        if state.get("stage") != "asking":
            return Outcome([Reply(_("Questo pulsante non vale più.")), *here(state)])
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

    def summary(self, state: dict[str, Any], sent: str | None = None) -> list[Reply]:
        """`/riepilogo`: every answer, each with a button to change it; after the
        application `sent` has left, a word that changing them does not change it."""
        _ = self._
        answers = state.get("answers") or {}
        if not answers:
            return [Reply(_("Non avete ancora risposto a nessuna domanda.")), *self.ask(state)]
        heading = _("Le vostre risposte")
        lines = [f"<b>{esc(heading)}</b>"]
        if sent:
            lines.append("⚠️ " + esc(_(SENT_KEEPS_ITS_ANSWERS).format(id=sent)))
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
        names ("accompagnamento", "ADI e SAD"), added to those ticked (in place of the
        answer given before, when asked again and nothing is ticked since); then as
        «Fatto»."""
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
            given = (state.get("answers") or {}).get(q.key)
            if given is not None and sorted(state.get("selected") or []) == sorted(given):
                state["selected"] = []  # asked again, nothing ticked yet: the line replaces
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

SENT_KEEPS_ITS_ANSWERS = N_(
    "La domanda {id} è già pronta e chiusa. Se cambiate qui una risposta, quella "
    "domanda non cambia: per correggerla, parlate con i servizi sociali del Comune."
)
TO_THE_APPLICATION = N_("Per la domanda e i documenti scrivete /documenti.")
# a typed answer refused again at a question with buttons: short, the buttons stay above
HINT = N_("Non ho capito. Toccate uno dei pulsanti qui sopra, o scrivete la risposta come sul pulsante.")
MULTI_HINT = N_(
    "Non ho capito. Toccate le risposte giuste, poi «Fatto». Potete anche scriverne il nome, "
    "o scrivere «nessuno»."
)
