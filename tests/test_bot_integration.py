"""The social services ask a family for more documents: the request reaches the chat,
the family sends what was asked, and the dossier comes back marked "integrata"."""

from __future__ import annotations

from bot.i18n import make_i18n
from bot.notify import tell_families
from dialogs.buttons import OpenRequest
from storage.dossiers import attachments, get_dossier, set_status
from storage.integrations import request_integration, requests_of
from tests.documents import document_photo, pdf_document
from tests.test_bot_conversation import Session
from tests.test_bot_dossier import TODAY, send_application


async def delivered_dossier(api, db_path) -> tuple[Session, str]:
    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    set_status(s.db, dossier_id, "consegnata", at="2025-06-12T10:41:00+02:00")
    await tell_families(s.bot, s.db, make_i18n())
    s.family.new_texts()
    return s, dossier_id


async def test_request_for_more_documents_reaches_the_family_and_comes_back_answered(api, db_path):
    s, dossier_id = await delivered_dossier(api, db_path)
    request_id = request_integration(
        s.db,
        dossier_id,
        staff_id=1,
        items=["isee_attestation:illeggibile", "payslip:mancante"],
        note="La foto dell'ISEE è sfocata.",
    )
    assert requests_of(s.db, dossier_id)[0]["status"] == "pending"  # stored first
    api.fail_next["sendMessage"] = 1  # Telegram refuses once (429): nothing is lost
    assert await tell_families(s.bot, s.db, make_i18n()) == 0
    assert requests_of(s.db, dossier_id)[0]["status"] == "pending"
    assert await tell_families(s.bot, s.db, make_i18n()) == 1
    told = s.family.new_texts()[-1]
    assert f"altri documenti per la domanda {dossier_id}" in told
    assert "Attestazione ISEE: non si legge, mandatelo di nuovo" in told
    assert "Busta paga dell'assistente: manca" in told
    assert "La foto dell&#x27;ISEE è sfocata." in told or "La foto dell'ISEE è sfocata." in told
    assert requests_of(s.db, dossier_id)[0]["status"] == "sent"
    f = s.family
    texts = await f.press("Mando i documenti")
    assert f.buttons() == ["📎 Attestazione ISEE", "📎 Busta paga dell'assistente"]
    before = len(attachments(s.db, dossier_id))
    await f.press("Attestazione ISEE")
    texts = await f.upload_document(pdf_document(2), "isee-nuovo.pdf")
    assert "Attestazione ISEE" in texts[-1]
    await f.press("Busta paga")
    texts = await f.upload_photo(document_photo(77))
    assert "✅ Ho mandato tutto" in f.buttons()
    texts = await f.press("Ho mandato tutto")
    assert "Grazie" in texts[-1]
    assert len(attachments(s.db, dossier_id)) == before + 2
    # the unreadable ISEE is replaced by the new copy; the old one is kept aside
    isee = [a for a in attachments(s.db, dossier_id) if a["item_id"] == "isee_attestation"]
    assert len(isee) == 1 and isee[0]["pages"] == 2
    assert [
        a for a in attachments(s.db, dossier_id) if a["item_id"] == "isee_attestation:sostituito"
    ]
    assert get_dossier(s.db, dossier_id)["status"] == "integrata"
    assert requests_of(s.db, dossier_id)[0]["status"] == "answered"
    assert request_id == requests_of(s.db, dossier_id)[0]["id"]
    await tell_families(s.bot, s.db, make_i18n())
    assert "arrivati ai servizi sociali" in s.family.new_texts()[-1]
    await s.close()


async def test_a_family_that_just_sends_the_file_is_understood(api, db_path):
    s, dossier_id = await delivered_dossier(api, db_path)
    request_integration(s.db, dossier_id, staff_id=1, items=["payslip:mancante"], note="Manca.")
    await tell_families(s.bot, s.db, make_i18n())
    texts = await s.family.upload_photo(document_photo(88))  # no button pressed
    assert "Busta paga dell'assistente" in texts[-1]
    texts = await s.family.press("Ho mandato tutto")
    assert get_dossier(s.db, dossier_id)["status"] == "integrata"
    await s.close()


async def test_a_forged_request_button_opens_nothing(api, db_path):
    s, dossier_id = await delivered_dossier(api, db_path)
    texts = await s.family.press("", data=OpenRequest(request=999).pack())
    assert "non vale più" in texts[-1]
    request_id = request_integration(
        s.db, dossier_id, staff_id=1, items=["payslip:mancante"], note="Manca."
    )
    stranger = Session(api, db_path, TODAY, user_id=5151)
    await stranger.family.say("/start")
    texts = await stranger.family.press("", data=OpenRequest(request=request_id).pack())
    assert "non vale più" in texts[-1]
    await stranger.close()
    await s.close()
