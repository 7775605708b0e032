"""A family that types instead of tapping (family trial 14, problem 3), through the real
Dispatcher and the Bot API stand-in: the button's own words in any case, or the obvious
short form, answer every question with buttons; a refusal asked again is short and the
buttons on screen stay."""

from __future__ import annotations

from tests.test_bot_conversation import Session, question_of
from tests.test_bot_dossier import BENEFICIARY_CF, IBAN, TODAY
from tests.test_bot_form_details import live_keyboards

TYPED = {
    "In quale Comune": "Opera",
    "Quando è nata": "20/5/1939",
    "Vive a casa": "sì",
    "Quali di questi documenti": "accompagnamento",
    "attestazione ISEE valida": "si ce l'ho",
    "Che tipo di ISEE": "SOCIOSANITARIO",
    "valore ISEE": "diciottomila e cinquecento",  # in words, as hours are (problem 8)
    "Riceve già": "nessuno",
    "assistente familiare pagato": "si",
    "Com'è assunto": "lo assumiamo noi",
    "Quante ore a settimana lavora l'assistente": "30",
    "prima volta": "Sì",
}


async def test_a_family_that_types_every_answer_reaches_the_form_details(api, db_path):
    s = Session(api, db_path, TODAY)
    f = s.family
    await f.say("/start")
    texts = await f.say("italiano")
    assert texts[0] == "✓ Italiano"
    assert "Privacy, in breve" in texts[-1]
    texts = await f.say("Sì, accetto")
    assert "In quale Comune" in question_of(texts)
    echoed = []
    for _ in range(14):
        question = question_of(texts)
        if not question:
            break
        key = next(k for k in TYPED if k in question)
        texts = await f.say(TYPED[key])
        assert "toccate" not in texts[0] and "Non ho capito" not in texts[0], (key, texts)
        echoed.append(texts[0])
    assert any("<b>Il risultato</b>" in t for t in texts)
    assert "✓ <b>Indennità di accompagnamento</b>" in echoed[3]
    assert "✓ <b>Sì, ho l'attestazione</b>" in echoed[4]
    assert "✓ <b>Sociosanitario</b>" in echoed[5]
    assert echoed[6].startswith("✓ 18.500,00")
    assert "✓ <b>nessuno</b>" in echoed[7]
    await f.press("Prepara la domanda")
    texts = await f.say("io per me stesso")
    assert texts[0] == "✓ Io, per me stesso o me stessa"
    for line in ("Giuseppe", "Rossi", BENEFICIARY_CF, "3331234567"):
        await f.say(line)
    await f.press("Non ce l'ho")
    for line in ("Via Roma 12", "20073", "15/01/2025"):
        await f.say(line)
    texts = await f.say("cointestato con mia moglie")
    assert texts[0].startswith("✓ Cointestato"), texts
    assert "l'altra persona che ha il conto" in texts[-1]
    await s.close()


async def test_the_exact_labels_are_taken_at_the_first_steps_and_who_signs(api, db_path):
    s = Session(api, db_path, TODAY)
    f = s.family
    await f.say("/start")
    texts = await f.say("English")
    assert texts[0] == "✓ English"
    assert "Privacy" in texts[-1] and "Siete d'accordo" not in texts[-1]  # in English now
    texts = await f.say("yes")
    assert "Question 1" in question_of(texts)
    await s.close()


async def test_a_language_typed_in_its_own_words(api, db_path):
    s = Session(api, db_path, TODAY)
    f = s.family
    await f.say("/start")
    texts = await f.say("Română")
    assert texts[0] == "✓ Română"
    assert "Privacy" not in texts[-1] or "Siete d'accordo" not in texts[-1]
    texts = await f.say("da")  # «Da, accept»
    assert texts[-1].count("\n") >= 1 and "In quale Comune" not in texts[-1]
    assert "Rozzano" in texts[-1]  # the first question, its example, in Romanian
    await s.close()


async def test_a_refusal_asked_again_is_short_and_the_buttons_stay(api, db_path):
    s = Session(api, db_path, TODAY)
    f = s.family
    await f.say("/start")
    await f.say("italiano")
    await f.say("accetto")
    await f.say("Opera")
    await f.say("20/5/1939")
    await f.say("sì")
    texts = await f.say("boh")  # the certifications: the question again, once
    assert "Quali di questi documenti" in question_of(texts)
    texts = await f.say("non so")
    assert len(texts) == 1 and "Domanda" not in texts[0]
    assert "scriverne il nome" in texts[0] and "«nessuno»" in texts[0]
    live = live_keyboards(api)
    assert len(live) == 1 and "Quali di questi documenti" in live[0]
    texts = await f.say("Invalidità civile al 100%")  # the exact label, after all
    assert "Invalidità civile al 100%" in texts[0]
    await s.close()


async def test_who_signs_typed_as_the_exact_label_and_refused_only_once_in_full(api, db_path):
    from tests.test_bot_dossier import to_result

    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    texts = await f.say("boh")
    assert "Chi firma la domanda?" in texts[-1]
    texts = await f.say("non lo so")
    assert len(texts) == 1 and "Non ho capito" in texts[0]
    assert any("Chi firma la domanda?" in t for t in live_keyboards(api))
    texts = await f.say("IO, PER ME STESSO O ME STESSA")
    assert texts[0] == "✓ Io, per me stesso o me stessa"
    assert not any("Chi firma la domanda?" in t for t in live_keyboards(api))
    for line in ("Giuseppe", "Rossi", BENEFICIARY_CF, "3331234567", "giuseppe@example.it"):
        await f.say(line)
    for line in ("Via Roma 12", "20073", "15/01/2025"):
        await f.say(line)
    texts = await f.say("il mio")  # his own account
    assert texts[0].startswith("✓ ")
    texts = await f.say(IBAN)
    assert texts[0].startswith("✓ IT60")
    await s.close()


# -- outside the questionnaire: the documents, the signing, the sending, the result ---------
# (family trial 15, problems 1, 2 and 7): a live button's label typed acts as its press


async def test_prepare_typed_at_the_result_opens_the_form_details(api, db_path):
    from tests.test_bot_dossier import to_result

    s = Session(api, db_path, TODAY)
    await to_result(s)
    texts = await s.family.say("prepara la domanda")
    assert "Chi firma la domanda?" in texts[-1], texts
    await s.close()


async def test_a_document_typed_at_the_checklist_then_a_photo_files_it_there(api, db_path):
    from tests.documents import document_photo
    from tests.test_bot_dossier import at_checklist

    s = await at_checklist(api, db_path)
    f = s.family
    await f.say("verbale")
    texts = await f.upload_photo(document_photo(1))
    assert "✅ Verbale dell'accompagnamento: 1 pagina" in texts[0], texts
    texts = await f.say("busta paga")  # at the "✅ …" message, its 📎 buttons
    texts = await f.upload_photo(document_photo(2))
    assert "✅ Busta paga dell'assistente: 1 pagina" in texts[0], texts
    await s.close()


async def test_a_photo_sent_first_is_filed_by_typing_which_document_it_is(api, db_path):
    from tests.documents import document_photo
    from tests.test_bot_dossier import at_checklist

    s = await at_checklist(api, db_path)
    f = s.family
    texts = await f.upload_photo(document_photo(1))
    assert "Per quale documento è?" in texts[-1]
    texts = await f.say("Verbale dell'accompagnamento")  # the exact label
    assert "✅ Verbale dell'accompagnamento: 1 pagina" in texts[0], texts
    await s.close()


TYPED_DOCUMENTS = (  # the Opera checklist, each document typed in short
    ("carta d'identità", 2),
    ("verbale", 1),
    ("isee", 1),
    ("contratto", 1),
    ("busta paga", 1),
    ("contributi", 1),
)


async def test_typing_check_and_yes_sends_the_application_and_thanks_get_its_status(
    api, db_path
):
    from storage.dossiers import dossiers_of
    from tests.documents import document_photo, signed_form_photos
    from tests.test_bot_dossier import at_checklist

    s = await at_checklist(api, db_path)
    f = s.family
    seed = 10
    for typed, count in TYPED_DOCUMENTS:
        await f.say(typed)
        for _ in range(count):
            seed += 1
            texts = await f.upload_photo(document_photo(seed))
            assert texts[0][:1] in "✅🟡" and "pagin" in texts[0], (typed, texts)
    assert "Ci sono tutti i documenti" in "\n".join(texts)
    texts = await f.say("prepara il modulo")
    assert api.documents[4242][-1][0].startswith("domanda-B2-"), texts
    for photo in signed_form_photos(api.documents[4242][-1][1]):
        texts = await f.upload_photo(photo)
    texts = await f.say("controlla e invia")
    assert "protocollo@pec.comune.rozzano.mi.it" in texts[-1], texts
    texts = await f.say("sì, ma prima aspetto mia sorella")  # more than the label: not a press
    assert dossiers_of(s.db, 4242)[0]["status"] != "pronta", texts
    assert "📨 Sì, invia" in f.buttons(), texts
    for asked in ("invia?", "sì?"):  # a question is not a decision
        texts = await f.say(asked)
        assert dossiers_of(s.db, 4242)[0]["status"] != "pronta", (asked, texts)
    texts = await f.say("si")
    assert "in coda" in texts[0], texts
    assert dossiers_of(s.db, 4242)[0]["status"] == "pronta"
    texts = await f.say("grazie")
    assert len(texts) == 1 and "Il risultato è qui sopra" not in texts[0], texts
    assert texts[0].startswith("Ricevuto, grazie. Ecco a che punto è la domanda:"), texts
    assert "La vostra domanda" in texts[0] and "sta per partire" in texts[0], texts
    await s.close()


async def test_some_words_of_one_label_in_order_answer_it(api, db_path):
    """"sociosanitario ristretto" for «Sociosanitario, nucleo ristretto» (trial 15, 8)."""
    s = Session(api, db_path, TODAY)
    f = s.family
    await f.say("/start")
    await f.say("italiano")
    texts = await f.say("accetto")
    for _ in range(5):
        key = next(k for k in TYPED if k in question_of(texts))
        texts = await f.say(TYPED[key])
    assert "Che tipo di ISEE" in question_of(texts)
    texts = await f.say("sociosanitario ristretto")
    assert "✓ <b>Sociosanitario, nucleo ristretto</b>" in texts[0], texts
    await s.close()


async def test_an_answer_typed_at_the_summary_opens_that_question(api, db_path):
    """At /riepilogo, a ✏️ label typed opens that answer (trial 15, problem 2)."""
    from tests.test_bot_dossier import to_result

    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    texts = await f.say("/riepilogo")
    assert "Le vostre risposte" in texts[-1]
    label = next(b for b in f.buttons() if "ISEE" in b and "Valore" in b)
    texts = await f.say(label.removeprefix("✏️ ").lower())
    assert "valore ISEE" in question_of(texts), texts
    await s.close()


async def test_an_old_button_typed_after_sending_sends_nothing_again(api, db_path):
    """Only the buttons live now count: after sending, «Sì, invia» and «Controlla e invia»
    typed are text, answered with where the application stands."""
    from storage.dossiers import dossiers_of
    from tests.test_bot_dossier import send_application

    s = Session(api, db_path, TODAY)
    await send_application(s)
    f = s.family
    before = len(api.documents[4242])
    for typed in ("sì, invia", "controlla e invia", "togli l'ultima pagina"):
        texts = await f.say(typed)
        assert len(texts) == 1 and texts[0].startswith("Ricevuto, grazie."), (typed, texts)
    assert len(api.documents[4242]) == before
    assert len(dossiers_of(s.db, 4242)) == 1
    await s.close()


def test_what_cannot_be_undone_is_typed_only_as_the_answer_to_the_newest_question():
    """«Sì, invia» still live under a newer question (/cancella_dati asked after it): a
    typed "invia" answers the newest question or nothing, never sends."""
    from bot.typed_press import typed_button
    from dialogs.buttons import Erase, Go, Stage

    send = Go(step=Stage.SEND).pack()
    live = {
        "100": [["📨 Sì, invia", send], ["✏️ Correggi", Go(step=Stage.CHECKLIST).pack()]],
        "101": [["Sì, cancella tutto", Erase(answer="yes").pack()], ["No", Erase(answer="no").pack()]],
    }
    stored = {"dialog": {"stage": "result"}, "keyboard": 101, "live": live, "slots": {"s": 100}}
    assert typed_button(stored, "invia") is None
    assert typed_button(stored, "sì, invia") is None
    assert typed_button(stored, "no") == (101, Erase(answer="no").pack())
    alone = {**stored, "live": {"100": live["100"]}, "keyboard": 100, "slots": {}}
    assert typed_button(alone, "invia") == (100, send)
    assert typed_button(alone, "invia?") is None


async def test_a_daughter_types_that_the_account_is_her_father_s(api, db_path):
    """Family trial 15: "a mio padre" at "A chi è intestato il conto?" is the person
    assisted, as "è di papà" or his name; "mio fratello" is none of the buttons."""
    from tests.test_bot_dossier import to_result
    from tests.test_bot_form_details import APPLICANT_CF

    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.say("la figlia")
    for line in ("Maria", "Rossi", APPLICANT_CF, "Via Verdi 5", "20127 Milano", "3331234567"):
        await f.say(line)
    await f.press("Non ce l'ho")
    for line in ("Giuseppe", "Rossi", BENEFICIARY_CF, "Via Roma 12", "20073", "15/01/2025"):
        texts = await f.say(line)
    assert "A chi è intestato il conto?" in texts[-1]
    texts = await f.say("mio fratello")
    assert "toccate uno dei pulsanti" in texts[0], texts
    texts = await f.say("a mio padre")
    assert texts[0] == "✓ La persona assistita", texts
    assert "IBAN" in texts[-1]
    await s.close()


async def test_no_e_mail_typed_in_words_goes_on_as_the_button_does(api, db_path):
    """Family trial 16, problem 3: at the e-mail question "non ho la mail", "no" or the
    button's own label typed were refused as a wrong address; only the tap went on."""
    from tests.test_bot_dossier import to_result

    for user, typed in ((4242, "non ho la mail"), (4343, "Non ce l'ho · Avanti"), (4444, "no")):
        s = Session(api, db_path, TODAY, user_id=user)
        await to_result(s)
        f = s.family
        await f.press("Prepara la domanda")
        await f.say("io per me stesso")
        for line in ("Giuseppe", "Rossi", BENEFICIARY_CF, "3331234567"):
            texts = await f.say(line)
        assert "e-mail" in texts[-1], texts
        texts = await f.say("maria.rossi@")
        assert "non sembra giusto" in texts[0]
        texts = await f.say(typed)
        assert "non sembra giusto" not in " ".join(texts), (typed, texts)
        assert "L'indirizzo dove vivete" in texts[-1], (typed, texts)
        await s.close()


async def test_fatto_typed_after_a_typed_multi_select_answers_nothing(api, db_path):
    """Family trial 16, problem 2: "accompagnamento" typed closes the multi-select; the
    family then types "fatto", as the question said, and it was read at the next
    question as «Ho fatto la DSU, aspetto l'ISEE»."""
    s = Session(api, db_path, TODAY)
    f = s.family
    for line in ("/start", "italiano", "accetto", "Opera", "20/5/1939", "sì"):
        await f.say(line)
    texts = await f.say("accompagnamento")
    assert "attestazione ISEE valida" in question_of(texts)
    texts = await f.say("fatto")
    assert not any("Ho fatto la DSU" in t for t in texts), texts
    assert "toccate uno dei pulsanti" in texts[0], texts
    assert "attestazione ISEE valida" in question_of(texts)
    await s.close()


async def test_an_answer_typed_as_a_sentence_is_taken(api, db_path):
    """Family trial 16: "ha l'accompagnamento" at the benefits and "sono la moglie" at
    who signs, a verb and an article before the answer, were not understood."""
    from tests.test_bot_dossier import to_result

    s = Session(api, db_path, TODAY)
    f = s.family
    for line in ("/start", "italiano", "accetto", "Opera", "20/5/1939", "sì"):
        await f.say(line)
    texts = await f.say("ha l'accompagnamento")
    assert "✓ <b>Indennità di accompagnamento</b>" in texts[0], texts
    assert "attestazione ISEE valida" in question_of(texts)
    await s.close()

    s = Session(api, db_path.with_name("other.sqlite3"), TODAY)
    await to_result(s)
    await s.family.press("Prepara la domanda")
    texts = await s.family.say("sono sua moglie")
    assert texts[0] == "✓ Il marito, la moglie o il convivente", texts
    await s.close()
