"""A stand-in for the Telegram Bot API on loopback, speaking its wire format.

The real aiogram `Bot` talks to it over HTTP (`TelegramAPIServer.from_base`); it answers
like Telegram and records every call. `Family` plays a user: it types text, presses a
button by its label (building the callback update from the message the bot really sent)
and reads what the bot said.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Update
from aiohttp import web

TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Sportello B2",
    "username": "sportello_b2_bot",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = 0.0  # when it arrived, by the API's clock (a test may make it virtual)


@dataclass
class BotAPI:
    """The server side: messages by chat, every call in order."""

    calls: list[Call] = field(default_factory=list)
    messages: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)
    # the next N answers to a method are not JSON at all (a proxy's error page, a cut body)
    garble_next: dict[str, int] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # what users uploaded, by file_id
    download_delay: float = 0.0  # seconds each file download takes (a slow network)
    confirmed: int = 0  # getUpdates offsets confirm updates: Telegram forgets them
    clock: Callable[[], float] = time.monotonic
    documents: dict[int, list[tuple[str, bytes, str]]] = field(default_factory=dict)  # sent
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self.download)
        return app

    async def download(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != TOKEN or file_id not in self.files:
            return web.Response(status=404)
        self.calls.append(Call("download", {"file_id": file_id}))
        if self.download_delay:
            await asyncio.sleep(self.download_delay)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {
                k: (v.filename, v.file.read()) if isinstance(v, web.FileField) else _maybe_json(v)
                for k, v in form.items()
            }
        self.calls.append(Call(method, params, self.clock()))
        if self.fail_next.get(method):
            self.fail_next[method] -= 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        if self.garble_next.get(method):
            self.garble_next[method] -= 1
            return web.Response(text='{"ok": true, "result": {"message_id": ', status=200)
        if method == "getUpdates" and not self.answer(method, params):
            await asyncio.sleep(0.2)  # a short long-poll, so the client does not spin
        result = self.answer(method, params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    def answer(self, method: str, p: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in (
            "setMyCommands",
            "deleteWebhook",
            "answerCallbackQuery",
            "setWebhook",
            "deleteMessage",
            "sendChatAction",
            "setMyDescription",
            "setMyShortDescription",
            "setChatMenuButton",
        ):
            return True
        if method == "getUpdates":
            offset = int(p.get("offset") or 0)
            self.confirmed = max(self.confirmed, offset)
            return [u for u in self.updates if u["update_id"] >= self.confirmed]
        if method == "sendMessage":
            chat_id = int(p["chat_id"])
            message = {
                "message_id": next(self._ids),
                "date": int(dt.datetime.now().timestamp()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": p["text"],
            }
            if p.get("reply_markup"):
                message["reply_markup"] = p["reply_markup"]
            self.messages.setdefault(chat_id, {})[message["message_id"]] = message
            return message
        if method == "getFile":
            file_id = p["file_id"]
            if file_id not in self.files:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                    status=400,
                )
            return {
                "file_id": file_id,
                "file_unique_id": "u" + file_id,
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}",
            }
        if method == "sendDocument":
            chat_id = int(p["chat_id"])
            document = p["document"]
            if isinstance(document, str) and document.startswith("attach://"):
                document = p[document.removeprefix("attach://")]
            name, data = document
            self.documents.setdefault(chat_id, []).append((name, data, p.get("caption") or ""))
            message = {
                "message_id": next(self._ids),
                "date": int(dt.datetime.now().timestamp()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "document": {
                    "file_id": f"sent{len(self.files)}",
                    "file_unique_id": f"sentu{len(self.files)}",
                    "file_name": name,
                    "file_size": len(data),
                },
            }
            return message
        if method == "editMessageText":
            chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
            message = self.messages.get(chat_id, {}).get(message_id)
            if message is None:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message to edit not found",
                    },
                    status=400,
                )
            message["text"] = p["text"]
            message.pop("reply_markup", None)
            if p.get("reply_markup"):
                message["reply_markup"] = p["reply_markup"]
            return message
        if method == "editMessageReplyMarkup":  # an answered question loses its buttons
            chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
            message = self.messages.get(chat_id, {}).get(message_id)
            if message is None:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message to edit not found",
                    },
                    status=400,
                )
            message.pop("reply_markup", None)
            if p.get("reply_markup") and p["reply_markup"].get("inline_keyboard"):
                message["reply_markup"] = p["reply_markup"]
            return message
        return web.json_response(
            {"ok": False, "error_code": 404, "description": f"Not Found: method {method}"},
            status=404,
        )

    # -- reading what the bot said ----------------------------------------------------

    def sent(self, chat_id: int) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method in ("sendMessage", "editMessageText")
            and int(c.params["chat_id"]) == chat_id
        ]

    def last_keyboard_message(self, chat_id: int) -> dict[str, Any] | None:
        for message in reversed(list(self.messages.get(chat_id, {}).values())):
            if message.get("reply_markup"):
                return message
        return None


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def photo_update(
    api: BotAPI, update_id: int, chat: int, file_id: str, data: bytes, album: str | None = None
) -> dict[str, Any]:
    """A photo update as Telegram sends it from `chat` (first name Maria), its file held by
    `api`: for a bot in another process, where no `Family` feeds it."""
    api.files[file_id] = data
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1748000000,
        "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "Maria", "language_code": "it"},
        "photo": [
            {
                "file_id": file_id,
                "file_unique_id": "u" + file_id,
                "width": 1200,
                "height": 1600,
                "file_size": len(data),
            }
        ],
    }
    if album:
        message["media_group_id"] = album
    return {"update_id": update_id, "message": message}


class Family:
    """One Telegram user talking to the bot through the Dispatcher."""

    _update_ids = itertools.count(1)

    def __init__(
        self, api: BotAPI, bot: Bot, dp: Dispatcher, user_id: int = 4242, language_code: str = "it"
    ):
        self.api, self.bot, self.dp = api, bot, dp
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": "Maria",
            "language_code": language_code,
        }
        self.seen = 0

    async def feed(self, update: dict[str, Any]) -> None:
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self.api._ids),
                "date": int(dt.datetime.now().timestamp()),
                "chat": {"id": self.user["id"], "type": "private"},
                "from": self.user,
                **content,
            },
        }

    async def say(self, text: str) -> list[str]:
        """Type a message (commands included); return what the bot answered."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        await self.feed(self._message(**content))
        return self.new_texts()

    async def send_photo(self) -> list[str]:
        photo = [
            {
                "file_id": "AgAD",
                "file_unique_id": "AQAD",
                "width": 90,
                "height": 90,
                "file_size": 1000,
            }
        ]
        await self.feed(self._message(photo=photo))
        return self.new_texts()

    async def upload_album(self, photos: list[bytes], album: str) -> list[str]:
        """Send several photos together (an album, one media group): Telegram delivers
        them as separate updates at once, and the bot handles them as concurrent tasks,
        as it does when polling (each queues on the chat's lock)."""
        updates = [self._photo_update(data, album) for data in photos]
        await asyncio.gather(*(self.feed(update) for update in updates))
        return self.new_texts()

    def _photo_update(
        self, data: bytes, album: str | None = None, declared_size: int | None = None
    ) -> dict[str, Any]:
        file_id = f"photo{next(self.api._ids)}"
        self.api.files[file_id] = data
        photo = [
            {
                "file_id": file_id + "s",
                "file_unique_id": "u" + file_id + "s",
                "width": 90,
                "height": 120,
                "file_size": 2000,
            },
            {
                "file_id": file_id,
                "file_unique_id": "u" + file_id,
                "width": 1200,
                "height": 1600,
                "file_size": declared_size if declared_size is not None else len(data),
            },
        ]
        content: dict[str, Any] = {"photo": photo}
        if album:
            content["media_group_id"] = album
        return self._message(**content)

    async def upload_photo(
        self, data: bytes, album: str | None = None, declared_size: int | None = None
    ) -> list[str]:
        """Send a photo from the camera or gallery: Telegram keeps sizes, we offer the largest."""
        await self.feed(self._photo_update(data, album, declared_size))
        return self.new_texts()

    async def upload_document(
        self,
        data: bytes,
        name: str,
        mime: str = "application/pdf",
        album: str | None = None,
        declared_size: int | None = None,
        file_id: str | None = None,
    ) -> list[str]:
        """Send a file (a PDF, or a photo sent "as file", uncompressed)."""
        file_id = file_id or f"doc{next(self.api._ids)}"
        self.api.files[file_id] = data
        document = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_name": name,
            "mime_type": mime,
            "file_size": declared_size if declared_size is not None else len(data),
        }
        content: dict[str, Any] = {"document": document}
        if album:
            content["media_group_id"] = album
        await self.feed(self._message(**content))
        return self.new_texts()

    async def press(self, label: str, data: str | None = None) -> list[str]:
        """Press the button whose label contains `label` on the newest keyboard (or forge `data`)."""
        message = self.api.last_keyboard_message(self.user["id"])
        if data is not None and message is None:  # a forged press on whatever is on screen
            message = list(self.api.messages[self.user["id"]].values())[-1]
        assert message is not None, "no keyboard on screen"
        if data is None:
            buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
            matching = [b for b in buttons if label in b["text"]]
            assert matching, f"no button {label!r} in {[b['text'] for b in buttons]}"
            data = matching[0]["callback_data"]
        await self.feed(
            {
                "update_id": next(self._update_ids),
                "callback_query": {
                    "id": str(next(self.api._ids)),
                    "from": self.user,
                    "chat_instance": "ci",
                    "message": message,
                    "data": data,
                },
            }
        )
        return self.new_texts()

    def new_texts(self) -> list[str]:
        calls = self.api.sent(self.user["id"])
        texts = [c.params["text"] for c in calls[self.seen :]]
        self.seen = len(calls)
        return texts

    def buttons(self) -> list[str]:
        message = self.api.last_keyboard_message(self.user["id"])
        if message is None:
            return []
        return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def start_api(api: BotAPI) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(api.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def make_bot(base_url: str) -> Bot:
    """A bot as `bot.app.build_bot` makes it (Arabic marked right to left), on the stand-in."""
    from bot.polled import PolledUpdates
    from bot.rtl import install_right_to_left

    session = AiohttpSession(
        api=TelegramAPIServer.from_base(base_url), json_loads=PolledUpdates()
    )
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    install_right_to_left(bot)
    return bot
