"""A question the notice means in its own way is asked in the notice's words."""

from __future__ import annotations

import datetime as dt

from tests.test_bot_conversation import OPERA, Session, begin, follow, question_of


async def test_opera_asks_first_time_as_its_notice_means_it_a_b2_with_a_care_worker_in_2024(
    api, db_path
):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    texts = await begin(s.family)
    asked = ""
    for _ in range(20):  # answer as the Opera family does, up to the first-time question
        asked = question_of(texts)
        if "prima volta" in asked:
            break
        key = next(k for k in OPERA if k in asked)
        texts = []
        for action, value in OPERA[key]:
            texts += await (s.family.press(value) if action == "press" else s.family.say(value))
    assert "prima volta" in asked, "the first-time question was not asked"
    assert "nel 2024 avevate già la Misura B2 con un assistente familiare assunto" in asked
    await s.close()


async def test_settala_asks_no_first_time_question_its_notice_does_not_need(api, db_path):
    from tests.test_bot_conversation import SETTALA

    s = Session(api, db_path, dt.date(2025, 6, 1))
    texts = await follow(s.family, SETTALA, await begin(s.family))
    assert not any("Misura B2 con un assistente familiare assunto" in t for t in texts)
    await s.close()


async def test_prestazione_universale_says_the_b2_needs_leaving_it_not_that_the_notice_is_not_for_you(
    api, db_path
):
    from tests.test_bot_conversation import SETTALA

    s = Session(api, db_path, dt.date(2025, 6, 1))
    script = {**SETTALA, "Riceve già": [("press", "Prestazione Universale"), ("press", "Fatto")]}
    texts = await follow(s.family, script, await begin(s.family))
    everything = "\n".join(texts)
    assert "solo se lasciate l'altro aiuto" in everything
    assert "potete avere la B2 solo se lasciate l'aiuto che ricevete già" in everything
    assert "non fa per voi" not in everything
    await s.close()


def _first_time_question(catalogue, answers):
    """The first-time question as a Dialog on `catalogue` words it to a family of Opera."""
    from dialogs.flow import Dialog
    from dialogs.languages import untranslated
    from dialogs.questions import BY_KEY

    dialog = Dialog(catalogue, dt.date(2025, 6, 2), untranslated, "it")
    state = {"answers": dict(answers), "order": list(answers), "current": "first"}
    return dialog._question_reply(state, BY_KEY["first_application"])


OPERA_SO_FAR = {"municipality": "Opera", "beneficiary.birth_date": "1940-03-01"}


def test_a_notice_published_again_with_new_words_asks_the_next_family_in_the_new_words():
    from pathlib import Path

    import yaml

    from eligibility import load_catalogue
    from eligibility.schema import Notice

    before = load_catalogue()
    assert "nel 2024 avevate già" in _first_time_question(before, OPERA_SO_FAR).text
    path = Path("eligibility/data/notices/visconteo-sud-milano-2025.yaml")
    text = path.read_text(encoding="utf-8")
    old = text[text.index("È la prima volta che chiedete") : text.index("assunto.") + len("assunto.")]
    reworded = text.replace(old, "Avete mai avuto la B2 per una badante?")
    notice = Notice.model_validate(yaml.safe_load(reworded))
    after = before.with_notices([notice])  # what a publication makes: a new catalogue
    assert "Avete mai avuto la B2 per una badante?" in _first_time_question(after, OPERA_SO_FAR).text
    assert "nel 2024 avevate già" in _first_time_question(before, OPERA_SO_FAR).text


def test_a_question_changed_for_one_family_is_asked_unchanged_to_the_next():
    from eligibility import load_catalogue

    catalogue = load_catalogue()
    first = _first_time_question(catalogue, OPERA_SO_FAR)
    words, buttons = first.text, [[(b.label, b.data) for b in row] for row in first.buttons]
    first.text += " (cambiato)"  # a view that adds a line of its own on top, as some do
    first.buttons[0][0].label = "cambiato"
    first.buttons.insert(0, [])
    again = _first_time_question(catalogue, OPERA_SO_FAR)
    assert again.text == words
    assert [[(b.label, b.data) for b in row] for row in again.buttons] == buttons


def test_a_question_asked_again_shows_the_answer_given_not_the_words_of_a_first_asking():
    from eligibility import load_catalogue

    catalogue = load_catalogue()
    fresh = _first_time_question(catalogue, OPERA_SO_FAR)
    assert "Avete risposto" not in fresh.text
    again = _first_time_question(catalogue, {**OPERA_SO_FAR, "first_application": True})
    assert "Avete risposto: Sì" in again.text
    assert any("Va bene così" in b.label for row in again.buttons for b in row)
