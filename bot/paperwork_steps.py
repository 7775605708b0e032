"""What each step of preparing the application does: identity answers, button presses,
uploads, the form, sending, and answering the social services' requests."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable
from typing import Any

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from dialogs.flow import Dialog, Reply
from dialogs.identity import choose, next_question
from dossier import bounded
from dossier.checklist import ItemStatus, missing
from dossier.clock import moment
from dossier.desk import bounded_check_async
from dossier.files import FileRefused, check_declared_size

from .paper import Paper

log = logging.getLogger(__name__)
Clock = Callable[[], dt.date]


def current_step(paper: Paper) -> list[Reply]:
    """What the family is asked now: an identity question, the requested documents, or
    the checklist."""
    if paper.data.get("stage") == "identity":
        return next_identity(paper)
    if paper.data.get("stage") == "integration":
        return [paper.view.integration_start(_asked(paper, paper.statuses()))]
    return [paper.checklist()]


def int_at(parts: list[str], at: int) -> int:
    try:
        return int(parts[at])
    except (IndexError, ValueError):
        return 0


def _asked(paper: Paper, statuses: list[ItemStatus]) -> list[tuple[int, ItemStatus]]:
    """The items the social services asked for, with their index in the checklist."""
    wanted = set(paper.data.get("asked") or [])
    return [(i, s) for i, s in enumerate(statuses) if s.item.id in wanted]


def start_integration(paper: Paper, request_id: int, user_id: int) -> list[Reply]:
    """Open the request's dossier in this chat, to receive the documents asked for."""
    request = paper.desk.integration_request(request_id) if request_id else None
    if request is None or paper.desk.get(request["dossier_id"])["user_id"] != user_id:
        return [Reply(paper._("Questo pulsante non vale più."))]
    asked = [str(i).partition(":")[0] for i in request["items"]]
    unreadable = [
        str(i).partition(":")[0] for i in request["items"] if str(i).endswith(":illeggibile")
    ]
    paper.data = {
        "dossier": request["dossier_id"],
        "stage": "integration",
        "request": request["id"],
        "asked": asked,
        "unreadable": unreadable,
        "first_new": paper.desk.next_attachment_id(request["dossier_id"]),
        "item": asked[0] if len(asked) == 1 else None,
        "albums": {},
        "sendable": paper.data.get("sendable", True),
    }
    return [paper.view.integration_start(_asked(paper, paper.statuses()))]


def next_identity(paper: Paper) -> list[Reply]:
    q = next_question(paper.data["identity"], paper.needs())
    if q is not None:
        return [paper.view.question(q, paper.data["identity"])]
    replies = [Reply(paper._("Grazie. Ora i documenti."))]
    if paper.desk.set_identity(paper.dossier_id, paper.data["identity"]):
        replies.append(paper.view.form_reset())
    if paper.data.get("stage") == "identity":
        paper.data["stage"] = "documents"
        paper.data["item"] = None
    return [*replies, paper.checklist()]


def _index(parts: list[str], at: int, size: int) -> int:
    """A list index from button data; a forged one (negative, too big, not a number)
    raises, and the press only shows the checklist again."""
    value = int(parts[at])
    if not 0 <= value < size:
        raise IndexError(value)
    return value


def _notice(paper: Paper) -> dict[str, Any]:
    """The notice as the engine sees it today: its status, its deadline."""
    answers = paper.dialog.get("answers") or {}
    dialog = Dialog(paper.catalogue, paper.clock(), paper._, paper.locale)
    return dialog.verdict(answers).get("notice") or {}


def _window_closed(paper: Paper) -> Reply | None:
    """The notice's window, checked again at the moment of sending (it may have closed
    while the family gathered the documents)."""
    notice = _notice(paper)
    if notice.get("status") in ("open", None):
        return None
    return paper.view.window_closed(notice)


async def on_press(
    paper: Paper, parts: list[str], callback: CallbackQuery, settings: Any
) -> list[Reply]:
    _ = paper._
    stage = paper.data.get("stage")
    action = parts[1]
    if stage == "identity":
        q = next_question(paper.data["identity"], paper.needs())
        if action in ("opt", "role") and q is not None and q.kind == "choice":
            label = choose(q, paper.data["identity"], int(parts[2]))
            return [Reply(f"✓ {_(label)}"), *next_identity(paper)]
        if action == "skip" and q is not None and q.optional:
            paper.data["identity"][q.key] = ""
            return next_identity(paper)
        return [Reply(_("Questo pulsante non vale più.")), *next_identity(paper)]
    if stage == "sent":
        if action == "copy":
            return await _copy_again(paper, callback, settings)
        return [paper.view.closed_for_changes()]
    statuses = paper.statuses()
    if stage == "integration":
        return _press_integration(paper, action, parts, statuses)
    if action == "list":
        return [paper.checklist()]
    if action == "ident":
        paper.data["stage"] = "identity"
        paper.data["identity"] = {}
        return [Reply(_("Riscriviamo i dati del modulo.")), *next_identity(paper)]
    if action == "item" and stage == "documents":
        s = statuses[_index(parts, 2, len(statuses))]
        paper.data["item"] = s.item.id
        return [paper.view.send_now(s)]
    if action == "as":
        attachment_id, index = int(parts[2]), _index(parts, 3, len(statuses))
        item = statuses[index].item
        asked: dict[str, Any] = paper.data.get("ask") or {}
        if str(attachment_id) not in asked:
            raise ValueError("not waiting for this file")
        album = asked.pop(str(attachment_id))
        together = [attachment_id] + [
            int(other) for other, a in list(asked.items()) if album and a == album
        ]
        for other in together:  # the rest of its album goes with it
            paper.desk.assign(paper.dossier_id, other, item.id)
            asked.pop(str(other), None)
        paper.data["ask"] = asked
        paper.data["last_item"] = item.id
        if album:
            paper.data.setdefault("albums", {})[album] = item.id
        statuses = paper.statuses()
        return [paper.view.filed(statuses[index], statuses, album=False)]
    if action == "redo":
        if len(parts) == 2:
            return [paper.view.redo_menu(statuses)]
        s = statuses[_index(parts, 2, len(statuses))]
        paper.desk.take_back(paper.dossier_id, s.item.id)
        if s.item.signed_form:
            paper.data["stage"] = "signing"
        else:
            paper.data["stage"] = "documents"
            paper.data["item"] = s.item.id
        return [Reply(_("Cancellato. Mandate di nuovo i file.")), paper.view.send_now(s)]
    if action in ("form", "review", "send"):
        closed = _window_closed(paper)
        if closed is not None:
            return [closed]
    if action == "form":
        if missing(statuses):
            return [paper.checklist()]
        return await _send_form(paper, callback)
    if action == "review":
        return [paper.view.review(paper.dossier_id, statuses, paper.submission(), paper.sendable())]
    if action in ("send", "bundle"):
        return await _finish(paper, callback, settings, send=action == "send")
    return [Reply(_("Questo pulsante non vale più.")), paper.checklist()]


def _press_integration(
    paper: Paper, action: str, parts: list[str], statuses: list[ItemStatus]
) -> list[Reply]:
    asked = _asked(paper, statuses)
    if action == "item":
        index = _index(parts, 2, len(statuses))
        if statuses[index].item.id not in (paper.data.get("asked") or []):
            raise ValueError("not asked")
        paper.data["item"] = statuses[index].item.id
        return [paper.view.send_now(statuses[index])]
    if action == "as":
        attachment_id, index = int(parts[2]), _index(parts, 3, len(statuses))
        if statuses[index].item.id not in (paper.data.get("asked") or []):
            raise ValueError("not asked")
        waiting: dict[str, Any] = paper.data.get("ask") or {}
        if str(attachment_id) not in waiting:
            raise ValueError("not waiting for this file")
        album = waiting.pop(str(attachment_id))
        for other in [attachment_id] + [
            int(k) for k, a in list(waiting.items()) if album and a == album
        ]:
            paper.desk.assign(paper.dossier_id, other, statuses[index].item.id)
            waiting.pop(str(other), None)
        paper.data["ask"] = waiting
        statuses = paper.statuses()
        others = [(i, s) for i, s in _asked(paper, statuses) if i != index]
        return [paper.view.integration_filed(statuses[index], others)]
    if action == "intdone":
        if not any(s.files for _i, s in asked):
            return [paper.view.integration_start(asked)]
        paper.desk.answer_request(int(paper.data["request"]), paper.dossier_id)
        paper.data["stage"] = "sent"
        return [Reply(paper._("Grazie! Li passiamo ai servizi sociali."))]
    return [paper.view.integration_start(asked)]


async def _send_form(paper: Paper, callback: CallbackQuery) -> list[Reply]:
    from dossier.form import application_form_pdf

    form = paper.desk.form_data(paper.dossier_id, paper.clock())
    pdf = await asyncio.to_thread(application_form_pdf, form)
    pages = _pdf_pages(pdf)
    paper.desk.set_form_pages(paper.dossier_id, pages, hashlib.sha256(pdf).hexdigest())
    paper.data["stage"] = "signing"
    paper.data["item"] = "application_form"
    await callback.bot.send_document(
        callback.from_user.id,
        BufferedInputFile(pdf, filename=f"domanda-{paper.dossier_id}.pdf"),
        caption=paper.view.form_caption(),
    )
    return [paper.view.sign_instructions(pages, form.all_declarations, form.bank is not None)]


def _pdf_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


async def _finish(
    paper: Paper, callback: CallbackQuery, settings: Any, *, send: bool
) -> list[Reply]:
    _ = paper._
    statuses = paper.statuses()
    if missing(statuses, include_form=True) or (send and not paper.sendable()):
        return [paper.view.review(paper.dossier_id, statuses, paper.submission(), paper.sendable())]
    from dossier.assemble import TooLarge, assemble

    now = moment(paper.clock())  # one clock: the form's day, the manifest, the Date
    inputs = paper.desk.assembly_inputs(paper.dossier_id, now, settings.sportello_message_budget_mb)
    try:
        built = await bounded.run_async(assemble, seconds=bounded.ASSEMBLY_SECONDS, **inputs)
    except TooLarge as exc:
        title = next((s.item.title for s in statuses if s.item.id == exc.item_id), "")
        return [paper.view.too_large(title)]
    except bounded.Overrun as overrun:
        log.warning("assembly of %s over its limit: %s", paper.dossier_id, overrun.why)
        return [paper.view.too_heavy()]
    if send:
        paper.desk.submit(paper.dossier_id, built, settings)
        paper.data["stage"] = "sent"
        await paper.save()  # queued: whatever happens to the copy, this is not undone
        replies = [paper.view.queued()]
        caption = _("La vostra copia.")
    else:
        replies = [paper.view.bundle_directions(paper.submission(), _notice(paper))]
        caption = ""
    if not await _send_copy(paper, callback, built, caption):
        replies.append(paper.view.copy_failed())
    return replies


async def _send_copy(paper: Paper, callback: CallbackQuery, built: Any, caption: str) -> bool:
    """The dossier's files to the family's chat; False if Telegram would not take them
    (the family can ask again with a button)."""
    try:
        for f in built.files:
            await callback.bot.send_document(
                callback.from_user.id, BufferedInputFile(f.data, filename=f.name), caption=caption
            )
            caption = ""
        await callback.bot.send_document(
            callback.from_user.id,
            BufferedInputFile(built.manifest.data, filename=built.manifest.name),
            caption=paper.view.manifest_caption(),
        )
    except (TelegramAPIError, OSError) as exc:
        log.warning("copy of %s not delivered: %s", paper.dossier_id, type(exc).__name__)
        return False
    return True


async def _copy_again(paper: Paper, callback: CallbackQuery, settings: Any) -> list[Reply]:
    from dossier.assemble import TooLarge, assemble

    now = moment(paper.clock())  # one clock: the form's day, the manifest, the Date
    inputs = paper.desk.assembly_inputs(paper.dossier_id, now, settings.sportello_message_budget_mb)
    try:
        built = await bounded.run_async(assemble, seconds=bounded.ASSEMBLY_SECONDS, **inputs)
    except (TooLarge, bounded.Overrun):
        return [paper.view.copy_failed()]
    if await _send_copy(paper, callback, built, paper._("La vostra copia.")):
        return []
    return [paper.view.copy_failed()]


async def on_upload(paper: Paper, message: Message) -> list[Reply]:
    _ = paper._
    if message.photo:
        media = message.photo[-1]  # the largest size Telegram made
        size, file_id, unique = media.file_size, media.file_id, media.file_unique_id
    else:
        doc = message.document
        assert doc is not None
        size, file_id, unique = doc.file_size, doc.file_id, doc.file_unique_id
    try:
        check_declared_size(size)
    except FileRefused as refusal:
        return [paper.view.refused(refusal)]
    known = paper.desk.known_upload(paper.dossier_id, unique)
    if known is not None:
        return [paper.view.duplicate(_status_of(paper.statuses(), known["item_id"]))]
    buffer = io.BytesIO()
    try:
        await message.bot.download(file_id, destination=buffer, timeout=120)
    except (TimeoutError, TelegramBadRequest, OSError) as exc:
        log.warning("download failed: %s", type(exc).__name__)
        return [Reply(_("Non riesco a scaricare il file. Riprovate tra poco."))]
    album = message.media_group_id
    albums: dict[str, Any] = paper.data.setdefault("albums", {})
    if paper.data.get("stage") == "signing":
        item_id: str | None = "application_form"
    elif paper.data.get("stage") == "integration":
        chosen = paper.data.get("item")
        item_id = chosen if chosen in (paper.data.get("asked") or []) else None
    elif album and album in albums:
        item_id = albums[album]  # None while the family is asked about this album
    else:
        item_id = paper.data.get("item")
    data = buffer.getvalue()
    options = paper.desk.check_options(paper.dossier_id, item_id)
    checked = await bounded_check_async(data, *options)
    filed = paper.desk.file(
        paper.dossier_id, data, item_id=item_id, file_unique_id=unique, checked=checked
    )
    if filed.outcome == "refused":
        assert filed.refusal is not None
        return [paper.view.refused(filed.refusal)]
    assert filed.attachment is not None
    statuses = filed.statuses
    if filed.outcome == "duplicate":
        return [paper.view.duplicate(_status_of(statuses, filed.attachment["item_id"]))]
    if album:
        albums[album] = item_id
    if filed.outcome == "ask_item":
        asked = paper.data.get("ask")
        if not isinstance(asked, dict):
            asked = {}
        if album and album in asked.values():
            asked[str(filed.attachment["id"])] = album
            paper.data["ask"] = asked
            return []  # the question is already on screen for this album
        asked[str(filed.attachment["id"])] = album
        paper.data["ask"] = asked
        if album:
            albums[album] = None
        if paper.data.get("stage") == "integration":
            return [
                _which_asked(paper, filed.attachment["id"], statuses, filed.attachment["pages"])
            ]
        return [
            paper.view.which_item(
                filed.attachment["id"],
                statuses,
                filed.attachment["pages"],
                last=paper.data.get("last_item"),
            )
        ]
    s = _status_of(statuses, item_id)
    assert s is not None
    if paper.data.get("stage") == "integration":
        if s.item.id in (paper.data.get("unreadable") or []):
            # the new copy replaces the one the social worker could not read
            paper.desk.retire(paper.dossier_id, s.item.id, before_id=paper.data["first_new"])
            statuses = paper.statuses()
            s = _status_of(statuses, item_id) or s
        others = [(i, o) for i, o in _asked(paper, statuses) if o.item.id != s.item.id]
        return [paper.view.integration_filed(s, others)]
    if s.item.signed_form:
        return [
            paper.view.signed_progress(s, paper.desk.form_pages(paper.dossier_id), paper.sendable())
        ]
    paper.data["last_item"] = s.item.id
    if not album and (s.done or s.item.pages is None):
        # one file, one document: the next file without a tap is asked about, with
        # "another page of this" as its first answer
        paper.data["item"] = None
    return [paper.view.filed(s, statuses, album=bool(album) and not s.done)]


def _which_asked(paper: Paper, attachment_id: int, statuses: list[ItemStatus], pages: int) -> Reply:
    reply = paper.view.which_item(attachment_id, statuses, pages)
    asked = {f"p:as:{attachment_id}:{i}" for i, _s in _asked(paper, statuses)}
    reply.buttons = [row for row in reply.buttons if row[0].data in asked]
    return reply


def _status_of(statuses: list[ItemStatus], item_id: str | None) -> ItemStatus | None:
    return next((s for s in statuses if s.item.id == item_id), None)
