"""A family in Cernusco sul Naviglio today meets the 2021 guidelines, whose funds were all
assigned by 31/03/2022: an old notice, closed, never "✅ potete chiederlo"."""

from __future__ import annotations

import datetime as dt

from tests.test_bot_conversation import CERNUSCO, Session, begin, follow

ELIGIBLE_CERNUSCO = {
    **CERNUSCO,
    "attestazione ISEE valida": [("press", "Sì, ho l'attestazione")],
    "Che tipo di ISEE": [("press", "Sociosanitario")],
    "valore ISEE": [("say", "12000")],
    "Questo familiare lavora": [("press", "È in pensione")],
    "prima volta": [("press", "Sì")],
}


async def test_the_2021_cernusco_guidelines_in_2025_say_they_are_an_old_closed_notice(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 10))
    texts = await follow(s.family, ELIGIBLE_CERNUSCO, await begin(s.family))
    everything = "\n".join(texts)
    assert "Il bando è chiuso" in everything
    assert "È un bando vecchio: valeva fino al 31/03/2022" in everything
    assert "✅" not in everything.split("<b>Il risultato</b>")[-1]
    assert "potete chiederlo" not in everything
    assert "☑️ <b>Buono sociale mensile per il caregiver familiare</b>" in everything
    assert not any("Prepara" in b for b in s.family.buttons())
    await s.close()


async def test_the_2021_cernusco_guidelines_in_2021_still_say_they_give_no_dates(api, db_path):
    s = Session(api, db_path, dt.date(2021, 4, 20))
    texts = await follow(s.family, ELIGIBLE_CERNUSCO, await begin(s.family))
    everything = "\n".join(texts)
    assert "Il bando non indica le date" in everything
    assert "bando vecchio" not in everything
    await s.close()
