"""What one family can make the server do, bounded: «Mandami la copia» pressed again and
again, a pile of files sent at once, a document too heavy for one PEC message. Through
the real Dispatcher, the Bot API stand-in, a real SQLite file and the bounded processes."""

from __future__ import annotations

from typing import Any

from dialogs.buttons import Go, Stage
from dossier import bounded
from storage.dossiers import dossiers_of
from tests.test_bot_dossier import at_checklist, sign_the_form, upload_everything

COPY = Go(step=Stage.COPY).pack()


def count_assemblies(monkeypatch) -> list[str]:
    """Every dossier assembly started from now on (the heavy work), by name."""
    from dossier.assemble import assemble

    started: list[str] = []
    real = bounded.run_async

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is assemble:
            started.append(kwargs.get("dossier_id", "?"))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(bounded, "run_async", counting)
    return started


async def test_the_copy_pressed_again_and_again_is_sent_once_and_never_assembled_again(
    api, db_path, monkeypatch
):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await sign_the_form(s)
    f = s.family
    assemblies = count_assemblies(monkeypatch)
    await f.press("Controlla e invia")
    api.fail_next["sendDocument"] = 1  # the copy that comes with the send does not arrive
    texts = await f.press("Sì, invia")
    assert "Non sono riuscito a mandarvi la copia" in texts[-1]
    assert len(assemblies) == 1  # the send
    sent = s.db.execute("select count(*) from outbox").fetchone()[0]
    assert sent == 1
    # the family asks for it: the files as they left, read back from the queued message
    before = len(api.documents[4242])
    texts = await f.press("Mandami la copia")
    copy = api.documents[4242][before:]
    names = [name for name, _data, _caption in copy]
    assert names[0].startswith("01-") and names[-1] == "riepilogo-istanza.json"
    assert copy[0][2] == "La vostra copia."
    # then presses, real and forged, in a row: a kind word, no files, no assembly
    for _ in range(5):
        texts = await f.press("", data=COPY)
        assert len(texts) == 1 and "La copia vi è già stata mandata alle" in texts[0]
        assert "tra qualche minuto" in texts[0]
    assert len(api.documents[4242]) == before + len(copy)
    assert len(assemblies) == 1
    await s.close()


async def test_the_copy_is_the_very_files_that_left_in_the_pec(api, db_path, monkeypatch):
    import email
    import email.policy

    from dossier.copies import sent_copy

    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await sign_the_form(s)
    await s.family.press("Controlla e invia")
    await s.family.press("Sì, invia")
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    desk = s.dp["desk"]
    row = next(iter(s.db.query("select blob from outbox where dossier_id = ?", [dossier_id])))
    message = email.message_from_bytes(desk.blobs.get(row["blob"]), policy=email.policy.default)
    left = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
    copy = await sent_copy(s.db, desk.blobs.reader(), dossier_id)
    assert copy is not None
    assert {c.name: c.data for c in copy} == left
    # and the copy that came with «Sì, invia» held the same files
    with_send = {name: data for name, data, _c in api.documents[4242] if name in left}
    assert with_send == left
    await s.close()


async def test_telegram_answering_garbage_gets_the_family_a_kind_word_and_loses_nothing(
    api, db_path
):
    """aiogram's ClientDecodeError (an answer that is not JSON) is not a TelegramAPIError:
    a download, a document sent and a button's answer that meet it are handled like any
    failed call to Telegram."""
    from storage.dossiers import attachments
    from tests.documents import document_photo

    s = await at_checklist(api, db_path)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    api.garble_next["answerCallbackQuery"] = 1  # the spinner is not stopped: go on
    texts = await f.press("Attestazione ISEE")
    assert "Attestazione ISEE" in texts[-1]
    photo = document_photo(7)
    api.garble_next["getFile"] = 1
    texts = await f.upload_photo(photo)
    assert texts == ["Non riesco a scaricare il file. Riprovate tra poco."]
    assert attachments(s.db, dossier_id) == []
    texts = await f.upload_photo(photo)  # sent again, it is taken
    assert "Attestazione ISEE" in texts[-1]
    assert [a["item_id"] for a in attachments(s.db, dossier_id)] == ["isee_attestation"]
    await s.close()


async def test_a_copy_answered_with_garbage_can_be_asked_again_at_once(api, db_path):
    s = await at_checklist(api, db_path)
    await upload_everything(s)
    await sign_the_form(s)
    f = s.family
    await f.press("Controlla e invia")
    api.garble_next["sendDocument"] = 1
    texts = await f.press("Sì, invia")
    assert "in coda" in texts[0] and "Non sono riuscito a mandarvi la copia" in texts[-1]
    before = len(api.documents[4242])
    texts = await f.press("Mandami la copia")
    assert not any("già stata mandata" in t for t in texts)
    assert api.documents[4242][-1][0] == "riepilogo-istanza.json"
    assert len(api.documents[4242]) > before
    await s.close()


async def second_family(s, user_id: int):
    """Another family on the same bot process, at its checklist too."""
    import copy

    from tests.botapi import Family
    from tests.test_bot_dossier import fill_identity, to_result

    other = copy.copy(s)
    other.family = Family(s.family.api, s.bot, s.dp, user_id=user_id)
    await to_result(other)
    await fill_identity(other)
    return other


async def test_a_pile_of_files_from_one_chat_is_capped_and_others_are_not_held_up(api, db_path):
    import asyncio

    from bot.backlog import PER_CHAT
    from storage.dossiers import attachments
    from tests.documents import document_photo

    s = await at_checklist(api, db_path)
    other = await second_family(s, 5151)
    f = s.family
    await f.press("Verbale dell'accompagnamento")
    await other.family.press("Attestazione ISEE")
    photos = [document_photo(100 + i) for i in range(PER_CHAT + 15)]
    downloads = sum(c.method == "download" for c in api.calls)
    pile = [
        asyncio.create_task(f.upload_photo(photo, album=f"pile{i // 10}"))
        for i, photo in enumerate(photos)
    ]
    await asyncio.sleep(0)  # the pile is in: its files wait for the chat, one at a time
    theirs = await other.family.upload_photo(document_photo(999))
    await asyncio.gather(*pile)
    # the other family was answered while the pile was still being checked
    assert "Attestazione ISEE" in theirs[-1], theirs
    reply = next(c for c in reversed(api.sent(5151)) if "Attestazione ISEE" in c.params["text"])
    answered = api.calls.index(reply)
    last_download = max(i for i, c in enumerate(api.calls) if c.method == "download")
    assert answered < last_download
    # the chat's pile: PER_CHAT files taken, the rest not even downloaded, told once
    told = [
        c.params["text"] for c in api.sent(4242) if "Sto ancora controllando" in c.params["text"]
    ]
    assert told == [
        "Sto ancora controllando i file di prima: mandate il resto tra un minuto. Gli ultimi "
        "file non li ho presi; con /documenti vedete quelli già arrivati."
    ]
    mine = dossiers_of(s.db, 4242)[0]["id"]
    assert len(attachments(s.db, mine)) == PER_CHAT
    downloads = sum(c.method == "download" for c in api.calls) - downloads
    assert downloads == PER_CHAT + 1  # and the other family's one
    # nothing lost: a file not taken, sent again, is taken
    texts = await f.upload_photo(photos[-1], album="again")
    assert not any("Sto ancora" in t for t in texts)
    assert len(attachments(s.db, mine)) == PER_CHAT + 1
    await s.close()


class HeldDownloads:
    """The Bot API slow to hand files over: every file taken stays in hand (its chat's
    first one downloading, the others waiting their turn) until the test lets them go."""

    def __init__(self) -> None:
        import asyncio

        self.go = asyncio.Event()

    async def __call__(self, make_request: Any, bot: Any, method: Any) -> Any:
        from aiogram.methods import GetFile

        if isinstance(method, GetFile):
            await self.go.wait()
        return await make_request(bot, method)


NOT_TAKEN = (
    "Sto ancora controllando i file di prima: mandate il resto tra un minuto. Gli ultimi "
    "file non li ho presi; con /documenti vedete quelli già arrivati."
)


async def test_two_chats_sending_piles_do_not_keep_another_family_s_photo_out(api, db_path):
    """Two chats send more files than they may have in hand (together more than the
    process takes at once); a third family's photo, sent meanwhile, is still taken."""
    import asyncio

    from bot.backlog import PER_CHAT
    from storage.dossiers import attachments
    from tests.documents import document_photo

    s = await at_checklist(api, db_path)
    other = await second_family(s, 5151)
    her = await second_family(s, 6161)
    await s.family.press("Verbale dell'accompagnamento")
    await other.family.press("Verbale dell'accompagnamento")
    await her.family.press("Attestazione ISEE")
    held = HeldDownloads()
    s.bot.session.middleware(held)
    photos = [document_photo(100 + i) for i in range(PER_CHAT + 5)]
    piles = [
        asyncio.create_task(who.family.upload_photo(photo, album=f"{n}-{i // 10}"))
        for n, who in enumerate((s, other))
        for i, photo in enumerate(photos)
    ]
    await asyncio.sleep(0)  # both piles are in, every file taken held
    mine = asyncio.create_task(her.family.upload_photo(document_photo(999)))
    await asyncio.sleep(0.2)
    held.go.set()
    theirs = await mine
    await asyncio.gather(*piles)
    assert "Attestazione ISEE" in theirs[-1], theirs
    assert not any("non l'ho preso" in t or "non li ho presi" in t for t in theirs)
    her_dossier = dossiers_of(s.db, 6161)[0]["id"]
    assert len(attachments(s.db, her_dossier)) == 1
    # each pile's sender was told, once, that the last files were not taken
    for chat in (4242, 5151):
        told = [c.params["text"] for c in api.sent(chat) if "non li ho presi" in c.params["text"]]
        assert told == [NOT_TAKEN]
    await s.close()


async def test_a_family_whose_photo_is_not_taken_is_always_told_in_words_that_fit(
    api, db_path, monkeypatch
):
    """With the process's files in hand all taken, a family who sent nothing before is
    told her photo was not taken (not about «files of before»), each time she tries,
    and it is taken once there is room."""
    import asyncio

    from bot import backlog
    from storage.dossiers import attachments
    from tests.documents import document_photo

    for name, value in (("PER_CHAT", 3), ("IN_HAND", 4), ("RESERVE", 1), ("FEW", 1)):
        monkeypatch.setattr(backlog, name, value)
    monkeypatch.setattr(backlog, "WAIT", 0.0)  # no slot frees while she waits
    monkeypatch.setattr(backlog, "BURST", 0.3)
    s = await at_checklist(api, db_path)
    her = await second_family(s, 6161)
    third = await second_family(s, 7171)
    await s.family.press("Verbale dell'accompagnamento")
    await her.family.press("Attestazione ISEE")
    await third.family.press("Attestazione ISEE")
    held = HeldDownloads()
    s.bot.session.middleware(held)
    pile = [
        asyncio.create_task(s.family.upload_photo(document_photo(100 + i), album="pile"))
        for i in range(4)
    ]
    await asyncio.sleep(0)  # three taken, one not: the pile's sender is told
    first = asyncio.create_task(third.family.upload_photo(document_photo(500)))
    await asyncio.sleep(0.1)  # the last slot, kept for a family with nothing in hand
    nothing_pending = (
        "In questo momento ho molti file da controllare: questo non l'ho preso. Mandatelo di "
        "nuovo tra un minuto."
    )
    for attempt in range(2):
        texts = await her.family.upload_photo(document_photo(900 + attempt))
        assert texts == [nothing_pending], texts
        await asyncio.sleep(0.4)
    held.go.set()
    await asyncio.gather(*pile, first)
    told = [c.params["text"] for c in api.sent(4242) if "non li ho presi" in c.params["text"]]
    assert told == [NOT_TAKEN]
    texts = await her.family.upload_photo(document_photo(901))
    assert "Attestazione ISEE" in texts[-1], texts
    her_dossier = dossiers_of(s.db, 6161)[0]["id"]
    assert len(attachments(s.db, her_dossier)) == 1
    third_dossier = dossiers_of(s.db, 7171)[0]["id"]
    assert len(attachments(s.db, third_dossier)) == 1
    await s.close()


async def test_a_file_over_the_families_queue_is_refused_kindly_and_taken_when_sent_again(
    api, db_path, monkeypatch
):
    """When the families' checks already have `QUEUE_LIMIT` jobs waiting for a slot, a
    new upload check is not queued behind them: the family is told to send it again."""
    import asyncio
    import time

    from storage.dossiers import attachments
    from tests.documents import document_photo

    monkeypatch.setattr(bounded, "QUEUE_LIMIT", 2)
    s = await at_checklist(api, db_path)
    f = s.family
    await f.press("Attestazione ISEE")
    bounded.run(time.sleep, 0)  # the fork server, warm
    # other families' long checks: two running, two waiting
    others = [asyncio.create_task(bounded.run_async(time.sleep, 2.0, seconds=10)) for _ in range(4)]
    for _ in range(100):
        if bounded.waiting() >= 2:
            break
        await asyncio.sleep(0.05)
    assert bounded.waiting() == 2
    photo = document_photo(5)
    texts = await f.upload_photo(photo)
    assert texts == [
        "⚠️ Sto ancora controllando i file di prima: questo non l'ho preso. Mandatelo di "
        "nuovo tra un minuto."
    ]
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    assert attachments(s.db, dossier_id) == []
    await asyncio.gather(*others)
    assert bounded.waiting() == 0
    texts = await f.upload_photo(photo)
    assert "Attestazione ISEE" in texts[-1]
    assert len(attachments(s.db, dossier_id)) == 1
    await s.close()


async def test_a_document_too_heavy_for_one_pec_message_is_refused_when_sent_not_at_sending(
    api, db_path
):
    """An item becomes one PDF, and one PDF must fit one PEC message (25 MB, 18 MB of
    attachments once in base64): the file that would pass it is refused at upload, with
    the document's name and what to do, and the application still goes."""
    from storage.dossiers import attachments
    from tests.documents import document_photo
    from tests.test_bot_dossier import DOCUMENTS
    from tests.test_hostile_input import heavy_one_page_pdf

    s = await at_checklist(api, db_path)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    await f.press("Attestazione ISEE")
    texts = await f.upload_document(heavy_one_page_pdf(10, 1), "isee-1.pdf", album="isee")
    assert not any(t.startswith("⚠️") for t in texts)
    texts = await f.upload_document(heavy_one_page_pdf(10, 2), "isee-2.pdf", album="isee")
    assert texts == [
        "⚠️ «Attestazione ISEE» non entra in una PEC: arriverebbe a 21 MB, il massimo è 18 "
        "MB. Questo file non l'ho preso, gli altri restano. Mandate meno pagine, foto invece "
        "di file o una scansione più leggera; se no, portatelo ai servizi sociali del Comune."
    ]
    # photos weigh little in the item's PDF (they are made smaller to fit): they still go
    texts = await f.upload_photo(document_photo(77), album="isee")
    assert not any(t.startswith("⚠️") for t in texts)
    kept = [a for a in attachments(s.db, dossier_id) if a["item_id"] == "isee_attestation"]
    assert [a["kind"] for a in kept] == ["pdf", "jpeg"]  # the first PDF stays
    await f.press("Cosa manca")
    seed = 200
    for label, count in DOCUMENTS:
        if label != "Attestazione ISEE":
            await f.press(label)
            for _ in range(count):
                seed += 1
                await f.upload_photo(document_photo(seed))
    await sign_the_form(s)
    await f.press("Controlla e invia")
    texts = await f.press("Sì, invia")
    assert "in coda" in texts[0]  # before, «Sì, invia» said the ISEE was too heavy
    assert dossiers_of(s.db, 4242)[0]["status"] == "pronta"
    await s.close()


async def test_a_file_asked_about_or_moved_is_not_filed_where_it_would_not_fit_one_pec(
    api, db_path
):
    """The same rule when the family says which document a file is, or moves it there
    with «Sposta in»: refused with the document's name, and the file stays where it was."""
    from storage.dossiers import attachments
    from tests.test_hostile_input import heavy_one_page_pdf

    s = await at_checklist(api, db_path)
    f = s.family
    dossier_id = dossiers_of(s.db, 4242)[0]["id"]
    await f.press("Attestazione ISEE")
    await f.upload_document(heavy_one_page_pdf(10, 1), "isee.pdf")
    second = heavy_one_page_pdf(10, 2)
    # no tap: asked which document
    texts = await f.upload_document(second, "altro.pdf", file_id="second")
    assert any("Attestazione ISEE" in b for b in f.buttons()), texts
    isee = next(b for b in f.buttons() if "Attestazione ISEE" in b)
    texts = await f.press(isee)
    assert texts[-1].startswith("⚠️ «Attestazione ISEE» non entra in una PEC"), texts
    kept = {a["item_id"] for a in attachments(s.db, dossier_id)}
    assert kept == {"isee_attestation", "_unassigned"}  # still asked about
    texts = await f.press("Verbale dell'accompagnamento")
    assert not texts[-1].startswith("⚠️"), texts
    by_item = sorted(a["item_id"] for a in attachments(s.db, dossier_id))
    assert by_item == ["isee_attestation", "verbale_accompagnamento"]
    # sent again while the ID card is chosen (which has a 10 MB page already): «Sposta
    # in» is offered, and refused for the same reason
    await f.press("Cosa manca")
    await f.press("Carta d'identità di chi firma")
    await f.upload_document(heavy_one_page_pdf(10, 3), "ci.pdf")
    texts = await f.upload_document(second, "altro.pdf", file_id="second")
    assert "Questo file l'avete già mandato" in texts[-1], texts
    texts = await f.press("Sposta in")
    assert texts[-1].startswith("⚠️ «Carta d'identità di chi firma» non entra"), texts
    by_item = sorted(a["item_id"] for a in attachments(s.db, dossier_id))
    assert by_item == ["id_card_applicant", "isee_attestation", "verbale_accompagnamento"]
    await s.close()


async def test_a_family_is_served_while_twelve_chats_keep_every_slot_in_hand(api, db_path):
    """The red team's fourth pass (B2): two chats send piles (holding all but the
    reserve), ten more keep one file each in hand (the reserve): twelve accounts hold
    every slot. A family with nothing in hand sends a photo: it waits its turn, a file
    another of those chats sends meanwhile is not taken ahead of hers, and her photo is
    filed once a slot frees."""
    import asyncio

    from bot import backlog
    from storage.dossiers import attachments
    from tests.documents import document_photo

    s = await at_checklist(api, db_path)
    piles = [s, await second_family(s, 5151)]
    keepers = [await second_family(s, 7000 + n) for n in range(backlog.RESERVE)]
    her = await second_family(s, 6161)
    for who in (*piles, *keepers):
        await who.family.press("Verbale dell'accompagnamento")
    await her.family.press("Attestazione ISEE")
    held = HeldDownloads()
    s.bot.session.middleware(held)
    sent = [
        asyncio.create_task(
            who.family.upload_photo(document_photo(100 + i), album=f"{n}-{i // 10}")
        )
        for n, who in enumerate(piles)
        for i in range(backlog.PER_CHAT)
    ]
    await asyncio.sleep(0)
    sent += [
        asyncio.create_task(who.family.upload_photo(document_photo(300 + n)))
        for n, who in enumerate(keepers)
    ]
    await asyncio.sleep(0.1)
    mw = next(m for m in s.dp.update.outer_middleware if isinstance(m, backlog.Backlog))
    assert mw.total == backlog.IN_HAND  # every slot held, by twelve chats
    mine = asyncio.create_task(her.family.upload_photo(document_photo(999)))
    await asyncio.sleep(0.1)
    # a keeper sends one more meanwhile: not taken ahead of her
    extra = await keepers[0].family.upload_photo(document_photo(555))
    assert extra == [NOT_TAKEN], extra
    held.go.set()
    theirs = await mine
    await asyncio.gather(*sent)
    assert "Attestazione ISEE" in theirs[-1], theirs
    assert not any("non l'ho preso" in t for t in theirs)
    assert len(attachments(s.db, dossiers_of(s.db, 6161)[0]["id"])) == 1
    await s.close()
