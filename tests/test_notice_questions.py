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
