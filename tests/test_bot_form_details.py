"""The form's details as the family types them, through the real Dispatcher and the Bot
API stand-in: the street written with sensible capitals on the form, the CAP checked
against Lombardy and the comune's province."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.test_bot_conversation import Session
from tests.test_bot_dossier import (
    APPLICANT_CF,
    ASSISTANT,
    BENEFICIARY_CF,
    IBAN,
    TODAY,
    to_result,
    upload_everything,
)


async def for_myself(api, db_path) -> Session:
    """Giuseppe Rossi of Opera signs for himself: his names, codice fiscale and phone
    given, no e-mail; his street is asked next."""
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Io, per me stesso")
    for line in ("Giuseppe", "Rossi", BENEFICIARY_CF, "3331234567"):
        await f.say(line)
    await f.press("Non ce l'ho")
    return s


async def test_street_in_lower_case_and_a_wrong_cap_are_put_right_before_the_form(api, db_path):
    s = Session(api, db_path, TODAY)
    await to_result(s)  # a family of Opera (MI)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Il figlio o la figlia")
    for line in ("Maria", "Rossi", APPLICANT_CF):
        await f.say(line)
    texts = await f.say("VIA GIOVANNI XXIII, 15")
    assert texts[0] == "✓ Via Giovanni XXIII, 15"
    texts = await f.say("24100 Rozzano")  # Bergamo's CAP for a comune of Milan
    assert "Questo CAP non sembra di Rozzano: lì i CAP cominciano con 20" in texts[0]
    texts = await f.say("20089 Rozzano")
    assert texts[0] == "✓ 20089 Rozzano"
    await f.say("333 123 4567")
    await f.press("Non ce l'ho")
    for line in ("Giuseppe", "Rossi", BENEFICIARY_CF):
        await f.say(line)
    texts = await f.say("via dei mille 5")
    assert texts[0] == "✓ Via dei Mille 5"
    # the CAP's first digits in Opera, not another comune's CAP as an example (trial 15)
    assert "A Opera il CAP comincia con 20." in texts[-1] and "20073" not in texts[-1]
    texts = await f.say("2007")
    assert "Il CAP sono 5 cifre" in texts[0]
    texts = await f.say("10121")  # Turin
    assert "Questo CAP non è della Lombardia" in texts[0]
    texts = await f.say("25121")  # Brescia's
    assert "Questo CAP non sembra di Opera: lì i CAP cominciano con 20" in texts[0]
    texts = await f.say("20073")
    assert texts[0] == "✓ 20073"
    await f.say("15/01/2025")
    await f.press("La persona assistita")
    await f.say(IBAN)
    texts = await f.say(ASSISTANT)
    assert "Documenti della domanda" in texts[-1]
    await upload_everything(s)
    await f.press("Prepara il modulo da firmare")
    form = PdfReader(io.BytesIO(api.documents[4242][-1][1]))
    text = " ".join(" ".join(page.extract_text().split()) for page in form.pages)
    assert "Via dei Mille 5" in text and "20073" in text
    assert "Via Giovanni XXIII, 15" in text
    assert "via dei mille" not in text
    # Maria signs (family trial 14, problem 9): the box says so; the Ambito's name whole
    assert "Firma della richiedente" in text and "Firma del richiedente" not in text
    lines = form.pages[0].extract_text().splitlines()
    assert "capofila dell'Ambito" in lines and "distrettuale Visconteo Sud Milano" in lines
    await s.close()


async def test_a_cap_typed_again_the_same_is_kept(api, db_path):
    """The family knows their own address: a CAP of another province, typed twice, stays."""
    s = await for_myself(api, db_path)
    f = s.family
    await f.say("Via Roma 12")
    texts = await f.say("24100")
    assert "scrivetelo di nuovo uguale" in texts[0]
    texts = await f.say("24100")
    assert texts[0] == "✓ 24100"
    await s.close()


async def test_a_joint_account_and_the_assistant_are_named_on_the_form(api, db_path):
    """A man signing for himself (Opera, an assistant 30 h a week), his account held jointly
    with his daughter: the bank page says "per la propria domanda", names both holders,
    and the form names the assistant."""
    s = await for_myself(api, db_path)
    f = s.family
    await f.say("Via Roma 12")
    await f.say("20073")
    await f.say("15/01/2025")
    texts = await f.press("Cointestato")
    assert "l'altra persona che ha il conto" in texts[-1]
    await f.say("Maria Rossi")
    texts = await f.say("RSSMRA70A41F205X")  # a wrong check letter
    assert "l'ultima lettera, di controllo, non va" in texts[0]
    await f.say(APPLICANT_CF)
    texts = await f.say(IBAN)
    assert "assistente familiare (badante)" in texts[-1]
    texts = await f.say("ana popescu")
    assert texts[0] == "✓ Ana Popescu"
    assert "Documenti della domanda" in texts[-1]
    await upload_everything(s)
    await f.press("Prepara il modulo da firmare")
    form = PdfReader(io.BytesIO(api.documents[4242][-1][1]))
    pages = [" ".join(page.extract_text().split()) for page in form.pages]
    text = " ".join(pages)
    assert "che il nominativo dell'assistente familiare è Ana Popescu" in text
    assert "che l'assistente familiare presta servizio con regolare contratto" in text
    assert "assunto" not in text and "beneficia" not in text
    assert "non riceve nessuna delle misure incompatibili" in text
    assert "Firma del richiedente" in text  # Giuseppe
    bank = next(p for p in pages if "che il contributo eventualmente riconosciuto" in p)
    assert "per la propria domanda di accesso alla Misura B2" in bank
    assert "a favore di" not in bank
    assert "Intestatario del conto Giuseppe Rossi" in bank
    assert "Cointestatario del conto Maria Rossi" in bank
    assert f"Codice fiscale del cointestatario {APPLICANT_CF}" in bank
    await s.close()


async def test_the_result_says_the_form_is_made_here_not_all_a_and_all_e_to_fetch(api, db_path):
    s = Session(api, db_path, TODAY)
    texts = await to_result(s)
    documents = next(t for t in texts if "Documenti da preparare" in t)
    block = documents[documents.index("Documenti da preparare") :]
    assert "📝 Il modulo della domanda: lo prepariamo noi, con le vostre risposte." in block
    assert "📝 Il conto per il buono: vi chiediamo l'IBAN e lo mettiamo nel modulo." in block
    assert "All. A" not in block and "All. E" not in block
    assert "📄 Attestazione ISEE" in block or "ISEE" in block  # the family's own documents stay
    await s.close()


async def test_hours_and_a_date_typed_in_words_are_understood(api, db_path):
    """ "trenta" for the assistant's hours, "15 gennaio" (no year) for the DSU: read, and
    carried to the form."""
    from tests.test_bot_conversation import OPERA, begin, follow

    script = dict(OPERA)
    script["Quante ore a settimana lavora l'assistente"] = [("say", "trenta")]
    s = Session(api, db_path, TODAY)
    texts = await follow(s.family, script, await begin(s.family))
    assert any("30 ore" in t for t in texts)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Io, per me stesso")
    for line in ("Giuseppe", "Rossi", BENEFICIARY_CF, "3331234567"):
        await f.say(line)
    await f.press("Non ce l'ho")
    await f.say("Via Roma 12")
    await f.say("20073")
    texts = await f.say("15 gennaio")  # the last 15 January before today (02/06/2025)
    assert texts[0] == "✓ 15/01/2025"
    await f.press("Il mio conto")
    await f.say(IBAN)
    await f.say(ASSISTANT)
    await upload_everything(s)
    await f.press("Prepara il modulo da firmare")
    form = PdfReader(io.BytesIO(api.documents[4242][-1][1]))
    text = " ".join(" ".join(page.extract_text().split()) for page in form.pages)
    assert "lavora 30 ore settimanali" in text
    assert "15/01/2025" in text
    await s.close()


def live_keyboards(api, chat_id: int = 4242) -> list[str]:
    """The texts of the messages in the chat that still have buttons."""
    return [m["text"] for m in api.messages[chat_id].values() if m.get("reply_markup")]


async def test_a_question_answered_by_typing_loses_its_buttons_as_a_tap_does(api, db_path):
    from tests.test_bot_conversation import OPERA, begin, follow

    script = dict(OPERA)
    script["Vive a casa"] = [("say", "sì")]  # a yes/no question answered by typing
    s = Session(api, db_path, TODAY)
    await follow(s.family, script, await begin(s.family))
    live = live_keyboards(api)
    assert len(live) == 1 and "Prepara la domanda" in str(s.family.buttons()), live
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Io, per me stesso")
    for line in ("Giuseppe", "Rossi", BENEFICIARY_CF, "3331234567"):
        await f.say(line)
    assert any("Un indirizzo e-mail" in t for t in live_keyboards(api))  # "Non ce l'ho"
    await f.say("giuseppe.rossi@example.it")  # typed instead of tapping "Non ce l'ho"
    assert not any("Un indirizzo e-mail" in t for t in live_keyboards(api))
    await s.close()


async def test_a_name_corrected_under_its_tax_code_asks_the_code_again(api, db_path):
    from tests.test_bot_dossier import at_checklist, tax_code

    s = await at_checklist(api, db_path)  # Maria Rossi, RSSMRA70A41F205…
    f = s.family
    await f.press("Correggi i dati del modulo")
    await f.press("✏️ Cognome di chi firma")
    texts = await f.say("Bianchi")
    assert "Il codice fiscale non va più con il nome cambiato" in texts[-2]
    assert "Il codice fiscale di chi firma" in texts[-1]
    texts = await f.say(tax_code("BNCMRA70A41F205"))
    assert "I dati del modulo" in texts[-1] and "Cognome di chi firma: <b>Bianchi</b>" in texts[-1]
    # a name that still goes with the code: straight back to the summary
    await f.press("✏️ Nome di chi firma")
    texts = await f.say("Maria")
    assert len(texts) == 2 and "I dati del modulo" in texts[-1]
    await s.close()


async def test_who_signs_for_themselves_is_spoken_to_as_voi_not_as_a_carer(api, db_path):
    """Family trial 14, problem 5: "Io, per me stesso" hears "Il vostro nome", "dove
    vivete", «Il mio conto», and signing lines about themselves, not "la persona
    assistita"."""
    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    texts = await f.press("Io, per me stesso")
    assert "Il vostro nome." in texts[-1] and "di chi firma" not in texts[-1]
    texts = await f.say("Giuseppe")
    assert "Il vostro cognome." in texts[-1]
    texts = await f.say("Rossi")
    assert "Il vostro codice fiscale." in texts[-1]
    for line in (BENEFICIARY_CF, "3331234567"):
        await f.say(line)
    texts = await f.press("Non ce l'ho")
    assert "L'indirizzo dove vivete" in texts[-1] and "persona assistita" not in texts[-1]
    for line in ("Via Roma 12", "20073"):
        await f.say(line)
    await f.say("15/01/2025")
    labels = f.buttons()
    assert "Il mio conto" in labels and "Cointestato: io e un'altra persona" in labels
    assert not any("persona assistita" in b for b in labels)
    await f.press("Cointestato")
    await f.say("Maria Rossi")
    await f.say(APPLICANT_CF)
    await f.say(IBAN)
    await f.say(ASSISTANT)
    texts = await f.press("Correggi i dati del modulo")
    assert "Intestatario del conto: <b>Cointestato: io e un'altra persona</b>" in texts[-1]
    await f.press("Va bene così")
    await upload_everything(s)
    texts = await f.press("Prepara il modulo da firmare")
    signing = next(t for t in texts if "Ultimo passo: la firma" in t)
    assert "persona assistita" not in signing
    assert "• Abitate in un Comune del bando." in signing
    assert "• Il Comune può usare i vostri dati, anche sulla salute." in signing
    await s.close()


async def test_a_cap_then_its_comune_in_two_answers_and_va_bene_typed_at_the_summary(api, db_path):
    """Family trial 14, problem 10: "20127" then "Milano" is one answer; "va bene così"
    typed at the summary is its button; the last document's reply does not both ask for
    the next one and say they are all here."""
    from tests.test_bot_dossier import fill_identity

    s = Session(api, db_path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press("Il figlio o la figlia")
    for line in ("Maria", "Rossi", APPLICANT_CF, "Via Verdi 5"):
        await f.say(line)
    texts = await f.say("20127")
    assert "Ho il CAP 20127. Ora scrivete il Comune" in texts[0]
    texts = await f.say("Milano")
    assert texts[0] == "✓ 20127 Milano"
    assert "telefono" in texts[-1]
    await s.close()
    s = Session(api, db_path, TODAY, user_id=4343)
    await to_result(s)
    await fill_identity(s)
    f = s.family
    await f.press("Correggi i dati del modulo")
    texts = await f.say("va bene così")
    assert "Documenti della domanda" in texts[-1] and "foto o PDF" not in texts[0]
    await s.close()


async def test_the_last_document_says_they_are_all_here_without_asking_for_the_next(api, db_path):
    from tests.test_bot_dossier import at_checklist

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    last = [m["text"] for m in api.messages[4242].values()][-1]
    assert "Ci sono tutti i documenti" in last
    assert "scegliete il prossimo" not in last
    await s.close()


async def test_the_questions_own_example_iban_is_refused_kindly(api, db_path):
    s = await for_myself(api, db_path)
    f = s.family
    for line in ("Via Roma 12", "20073", "15/01/2025"):
        await f.say(line)
    texts = await f.press("Il mio conto")
    example = texts[-1].split("Per esempio: ")[1].strip()
    texts = await f.say(example)
    assert "Questo è l'IBAN dell'esempio" in texts[0]
    texts = await f.say(IBAN)
    assert texts[0].startswith("✓ ")
    await s.close()


async def at_the_person_s_address(api, path, role: str, town: str) -> tuple[Session, list[str]]:
    """Who signs (`role`, living in `town`) has given their details and Giuseppe's names
    and codice fiscale (Opera): his address is asked; what the last answer got."""
    s = Session(api, path, TODAY)
    await to_result(s)
    f = s.family
    await f.press("Prepara la domanda")
    await f.press(role)
    for line in ("Maria", "Rossi", APPLICANT_CF, "via verdi 5", town, "333 123 4567"):
        await f.say(line)
    await f.press("Non ce l'ho")
    for line in ("Giuseppe", "Rossi"):
        await f.say(line)
    return s, await f.say(BENEFICIARY_CF)


async def test_a_wife_in_the_same_comune_gives_the_address_once(api, db_path):
    """Family trial 16: Maria applies for her husband; they live together. At his address
    a button offers hers (she lives in his comune), and «lo stesso» typed does the same:
    the CAP is not asked again, and the form has it for both. A daughter living in
    another comune gets no such button."""

    def newest_buttons() -> list[str]:
        with_buttons = [m for m in api.messages[4242].values() if m.get("reply_markup")]
        rows = with_buttons[-1]["reply_markup"]["inline_keyboard"] if with_buttons else []
        return [b["text"] for row in rows for b in row]

    wife = "Il marito, la moglie o il convivente"
    s, texts = await at_the_person_s_address(api, db_path, wife, "20073 Opera")
    f = s.family
    assert "L'indirizzo dove vive la persona assistita" in texts[-1]
    assert newest_buttons() == ["🏠 Lo stesso di chi firma: Via Verdi 5"], newest_buttons()
    texts = await f.press("🏠 Lo stesso di chi firma")
    assert texts[0] == "✓ Via Verdi 5, 20073", texts
    assert "DSU" in texts[-1], texts  # the CAP is not asked: the next question
    await f.say("15/01/2025")
    await f.press("La persona assistita")
    await f.say(IBAN)
    await f.say(ASSISTANT)
    await upload_everything(s)
    await f.press("Prepara il modulo da firmare")
    form = PdfReader(io.BytesIO(api.documents[4242][-1][1]))
    text = " ".join(" ".join(page.extract_text().split()) for page in form.pages)
    assert text.count("Via Verdi 5") >= 2 and "20073" in text
    await s.close()

    typed, _texts = await at_the_person_s_address(
        api, db_path.with_name("typed.sqlite3"), wife, "20073 Opera"
    )
    texts = await typed.family.say("è lo stesso")
    assert texts[0] == "✓ Via Verdi 5, 20073", texts
    await typed.close()

    daughter, texts = await at_the_person_s_address(
        api, db_path.with_name("daughter.sqlite3"), "Il figlio o la figlia", "20089 Rozzano"
    )
    assert "L'indirizzo dove vive la persona assistita" in texts[-1]
    assert not any("Lo stesso" in b for b in newest_buttons()), newest_buttons()
    await daughter.close()
