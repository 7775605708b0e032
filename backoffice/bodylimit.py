"""A ceiling on the body of every request, enforced before anything parses it.

The staff's forms are small (a note, a protocol number, a list of documents): 64 KB is
plenty. A bigger body is refused with 413 and a short Italian page, from its declared
length, before a byte of it is read; a body without a declared length (chunked) is read
up to the ceiling and refused past it. Paths with their own limit (the Telegram webhook,
the notice upload) get theirs instead. Pure ASGI: nothing else is buffered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FORM_LIMIT = 64 * 1024

_PAGE = (
    "<!doctype html><html lang=it><meta charset=utf-8><title>Modulo troppo grande</title>"
    "<p>Il modulo inviato è troppo grande: il limite è {limit} KB. Accorciate il testo "
    "e inviatelo di nuovo. <a href=/>Torna alla pagina iniziale</a>.</p></html>"
)


class BodyLimit:
    """Refuse request bodies over `limit` bytes (413), or over `limits[path]` for the
    paths listed there."""

    def __init__(self, app: ASGIApp, limit: int = FORM_LIMIT, limits: dict[str, int] | None = None):
        self.app = app
        self.limit = limit
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        if declared is not None:
            await self.app(scope, _capped(receive, limit), send)
            return
        # no declared length: read it here, up to the limit, then hand it on
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _refuse(send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else 1 << 62
    return None


def _capped(receive: Receive, limit: int) -> Receive:
    """A receive that stops at `limit` bytes (the server holds a client to its declared
    length already; this is the belt to those braces)."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return capped


async def _refuse(send: Send, limit: int) -> None:
    body = _PAGE.format(limit=limit // 1024).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
