"""Buttons answered or overtaken go (family trial 14, problem 2), through the real
Dispatcher and the Bot API stand-in: the result's after «Prepara la domanda», the form's
details after «Va bene così», every older checklist and "✅ …: n pagine" when a newer one
comes, «Controlla e invia» and «Sì, invia» after sending; an old one pressed after
sending is told so in words that fit."""

from __future__ import annotations

from dialogs.buttons import Go, Stage
from tests.test_bot_conversation import Session
from tests.test_bot_dossier import TODAY, fill_identity, sign_the_form, to_result, upload_everything


def live_buttons(api, chat_id: int = 4242) -> list[str]:
    """The labels of every button still on screen in the chat, in every message."""
    return [
        button["text"]
        for m in api.messages[chat_id].values()
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]


def live_messages(api, chat_id: int = 4242) -> int:
    return sum(1 for m in api.messages[chat_id].values() if m.get("reply_markup"))


async def test_only_the_newest_status_keeps_its_buttons_and_none_after_sending(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await fill_identity(s)  # «Prepara la domanda», then the form's details
    assert not any("Prepara la domanda" in b for b in live_buttons(api))
    await f.press("Correggi i dati del modulo")
    await f.press("Va bene così")
    assert not any("Va bene così" in b for b in live_buttons(api))
    assert live_messages(api) == 1  # the checklist only
    await upload_everything(s)
    assert live_buttons(api).count("🗑 Togli l'ultima pagina") == 1
    assert live_messages(api) == 1
    await sign_the_form(s)
    await f.press("Controlla e invia")
    assert live_buttons(api).count("📨 Sì, invia") == 1
    assert "✅ Controlla e invia" not in live_buttons(api)
    texts = await f.press("Sì, invia")
    assert "in coda" in texts[0]
    live = live_buttons(api)
    for gone in ("📨 Sì, invia", "✅ Controlla e invia", "🗑 Togli l'ultima pagina", "📋 Cosa manca"):
        assert gone not in live, live
    # a copy of the chat on another phone still shows «Sì, invia»: pressed, it says so
    texts = await f.press("", data=Go(step=Stage.SEND).pack())
    assert "già stata inviata" in texts[-1]
    assert "non si possono aggiungere file" not in texts[-1]
    await s.close()


async def test_after_si_invia_one_message_says_it_left_not_four(api, db_path):
    """Family trial 14, problem 10: "in coda", then not "pronta e sta per partire" and
    "Stiamo inviando" as well, a second apart: the one that says it left."""
    from bot.i18n import make_i18n
    from bot.notify import tell_families
    from tests.test_bot_dossier import deliver_by_smtp, send_application

    s = Session(api, db_path, TODAY)
    await send_application(s)
    await deliver_by_smtp(s, db_path)
    await tell_families(s.bot, s.db, make_i18n())
    texts = s.family.new_texts()
    assert len(texts) == 1 and "è partita per PEC" in texts[0], texts
    await s.close()


async def test_an_old_si_invia_after_files_changed_shows_the_last_check_again(api, db_path):
    """Family trial 16, problem 1: «Non ancora», a document sent again, then the older
    «📨 Sì, invia» (a phone not refreshed) sent at once what the family had not checked.
    Now the last check comes again; pressed from it, the application goes."""
    from storage.dossiers import dossiers_of
    from tests.documents import signed_page_photo

    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await fill_identity(s)
    await upload_everything(s)
    await sign_the_form(s)
    await f.press("Controlla e invia")
    await f.press("Non ancora")
    form = api.documents[4242][-1][1]  # page 1 photographed again: another file
    texts = await f.upload_photo(signed_page_photo(form, 0, angle=3, blur=0.5))
    assert "Pagina 1" in texts[0], texts
    texts = await f.press("", data=Go(step=Stage.SEND).pack())  # the old «Sì, invia»
    assert "Dopo l'ultimo controllo sono cambiati dei documenti" in texts[0], texts
    assert "Inviamo adesso?" in texts[-1]
    assert dossiers_of(s.db, 4242)[0]["status"] == "bozza"
    texts = await f.press("Sì, invia")
    assert "in coda" in texts[0], texts
    await s.close()


async def test_an_old_question_pressed_while_preparing_points_to_the_application(api, db_path):
    """Family trial 16, problem 7: a questionnaire message left behind (by /indietro)
    kept its buttons; pressed during the documents, or «No» at /cancella_dati, it showed
    the whole result again with «📝 Prepara la domanda»."""
    from dialogs.buttons import Answer, packed
    from dialogs.questions import BY_KEY

    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await fill_identity(s)
    old = packed(Answer, qid=BY_KEY["beneficiary.lives_at_home"].qid, option=0)
    texts = await f.press("", data=old)
    assert "non vale più" in texts[0] and "/documenti" in texts[-1], texts
    assert not any("Il risultato" in t for t in texts)
    assert not any("Prepara la domanda" in b for b in f.buttons())
    await f.say("/cancella_dati")
    texts = await f.press("No")
    assert "non cancelliamo nulla" in texts[0] and "/documenti" in texts[-1], texts
    assert not any("Il risultato" in t for t in texts)
    await s.close()
