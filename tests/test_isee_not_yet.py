"""A family that has no ISEE yet ("No, non ancora") on an open notice learns what to do,
from the notice's own sentences, instead of "this notice is not for you"."""

from __future__ import annotations

import datetime as dt

from tests.test_bot_conversation import (
    CASSANO_MAGNAGO,
    OPERA,
    RESULT,
    Session,
    begin,
    follow,
)

NOT_YET = {"attestazione ISEE valida": [("press", "No, non ancora")]}


async def test_no_isee_yet_on_an_open_notice_says_to_file_the_dsu_by_the_deadline(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    texts = await follow(s.family, {**OPERA, **NOT_YET}, await begin(s.family))
    result = "\n".join(t for t in texts if RESULT in t or "🟡" in t or "👉" in t)
    assert "🟡 <b>Buono sociale mensile per l'assistente familiare</b>" in result
    assert "La DSU va presentata entro la scadenza del bando" in result  # Art. 3 of 001
    assert "serve prima l'ISEE" in result
    assert "non fa per voi" not in "\n".join(texts)
    assert "❌ <b>Buono sociale mensile per l'assistente" not in "\n".join(texts)
    # nothing to prepare before the ISEE is asked for: the family changes the answer first
    assert not any("Prepara" in b for b in s.family.buttons())
    await s.close()


async def test_no_isee_yet_where_the_notice_wants_it_at_once_says_ask_the_social_services(
    api, db_path
):
    s = Session(api, db_path, dt.date(2026, 5, 4))
    texts = await follow(s.family, {**CASSANO_MAGNAGO, **NOT_YET}, await begin(s.family))
    everything = "\n".join(texts)
    assert "🟡 <b>Interventi integrativi sociali" in everything
    assert "non ancora: prima serve l'ISEE" in everything
    assert "chiedete ai servizi sociali" in everything  # Gallarate's Art. 3, as the notice says
    assert "non fa per voi" not in everything
    await s.close()


async def test_a_dsu_waiting_for_its_isee_is_explained_once_not_twice(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    dsu = {"attestazione ISEE valida": [("press", "Ho fatto la DSU")]}
    texts = await follow(s.family, {**OPERA, **dsu}, await begin(s.family))
    everything = "\n".join(texts)
    assert everything.count("Serve la DSU presentata entro il 20/06/2025") == 1
    await s.close()
