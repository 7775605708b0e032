"""/indietro and ✏️ ask a question again without erasing anything: the answer given is
shown and can be kept; the question keeps its number and its place in /riepilogo."""

from __future__ import annotations

import datetime as dt

from tests.test_bot_conversation import Session, begin, question_of


async def opera_up_to_isee(s: Session) -> list[str]:
    await begin(s.family)
    await s.family.say("Opera")
    await s.family.say("20/5/1939")
    await s.family.press("Sì")
    await s.family.press("Indennità di accompagnamento")
    return await s.family.press("Fatto")


async def test_back_offers_the_previous_answer_again_and_keeping_it_loses_nothing(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    texts = await opera_up_to_isee(s)
    assert "attestazione ISEE valida" in question_of(texts)
    texts = await s.family.press("Sì, ho l'attestazione")  # now: the kind of ISEE
    texts = await s.family.say("/indietro")
    asked = question_of(texts)
    assert "attestazione ISEE valida" in asked
    assert "Avete risposto: Sì, ho l'attestazione" in asked
    texts = await s.family.press("Va bene così")
    assert "Che tipo di ISEE" in question_of(texts)
    texts = await s.family.say("/riepilogo")
    summary = texts[-1]
    assert "20/05/1939" in summary and "Opera" in summary  # nothing was erased
    await s.close()


async def test_back_twice_walks_back_through_the_answers_keeping_them(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await opera_up_to_isee(s)
    texts = await s.family.say("/indietro")
    assert "Quali di questi documenti" in question_of(texts)
    texts = await s.family.say("/indietro")
    assert "Vive a casa" in question_of(texts)
    texts = await s.family.say("/indietro")
    assert "Quando è nata" in question_of(texts)
    assert "Avete risposto: 20/05/1939" in question_of(texts)
    texts = await s.family.say("/indietro")
    assert "In quale Comune" in question_of(texts)
    texts = await s.family.say("Rozzano")  # a comune of the same notice: the rest stays
    assert "attestazione ISEE valida" in question_of(texts)
    await s.close()


async def test_a_question_asked_again_keeps_its_number(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await opera_up_to_isee(s)
    texts = await s.family.say("/indietro")
    assert "Domanda 4 di" in question_of(texts)  # the certifications were the 4th
    await s.family.press("Va bene così")
    texts = await s.family.say("/riepilogo")
    texts = await s.family.press("Comune")
    assert "Domanda 1 di" in question_of(texts)
    await s.close()


async def test_a_changed_answer_keeps_its_place_in_the_summary(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await opera_up_to_isee(s)
    await s.family.say("/riepilogo")
    await s.family.press("Data di nascita")
    await s.family.say("21/5/1939")
    texts = await s.family.say("/riepilogo")
    summary = texts[-1]
    assert summary.index("Opera") < summary.index("21/05/1939") < summary.index("Vive a casa")
    await s.close()


async def test_a_rejected_change_asks_the_same_question_again(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await opera_up_to_isee(s)
    await s.family.say("/riepilogo")
    await s.family.press("Data di nascita")
    texts = await s.family.say("31/02/1940")
    assert "Quando è nata" in question_of(texts)
    await s.close()


async def test_changing_an_answer_while_giving_the_form_details_keeps_the_details_typed(
    api, db_path
):
    """A family at the form's details goes back to an answer with an old ✏️ button (the
    summary is still on screen), keeps it, and prepares again: the details typed so far
    (who signs, name, surname) are kept, not asked again from «Chi firma»."""
    from dialogs.buttons import Summary
    from storage.dossiers import dossiers_of
    from tests.test_bot_dossier import APPLICANT_CF, TODAY, to_result

    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Il figlio o la figlia")
    await f.say("maria")
    texts = await f.say("rossi")
    assert "codice fiscale di chi firma" in texts[-1]
    await f.press("", data=Summary().pack())  # the result's old «✏️ Cambia una risposta»
    await f.press("✏️ Valore ISEE")
    await f.press("Va bene così")
    texts = await f.press("Prepara la domanda")
    assert "Chi firma la domanda?" not in "\n".join(texts)
    assert "codice fiscale di chi firma" in texts[-1]
    await f.say(APPLICANT_CF)
    dossier = dossiers_of(s.db, 4242)
    assert len(dossier) == 1  # the same application, reopened
    await s.close()
