"""The back-office in a real browser: the app served by real uvicorn on loopback, and
Debian's Chromium driven by Playwright.

- `template`: the back-office world of `tests.backoffice_fixtures`, built once per module
  and closed (its files are copied for each test).
- `served`: a copy of that world served by the real app (`backoffice.app.create_app`)
  with uvicorn on 127.0.0.1, on a free port, in a background thread with its own event
  loop. SQLite connections belong to the thread that opened them, so the database and
  the services are opened *inside* the server thread; the test opens its own connection
  to the same file (`served.open_db()`) to look at what the pages changed.
- `browser`: one headless Chromium for the whole session (skipped, with the reason, when
  /usr/bin/chromium is missing: `.ci/run` installs it); `context` and `page`: fresh per
  test, so no cookie leaks from one test to the next.

The browser tests use a session-wide event loop (the browser lives in it): mark them
`pytest.mark.asyncio(loop_scope="session")`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from sqlite_utils import Database

from backoffice.app import create_app
from storage import staff as accounts
from storage.blobs import BlobStore
from storage.db import open_db
from storage.staff import Staff
from tests.backoffice_fixtures import (
    PASSWORD,
    TEST_HASHER,
    Clock,
    build_world,
    make_services,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
FILE_KEY = b"backoffice-tests-file-key-32byte"  # the key of make_services' blob store
DB_NAME = "sportello.sqlite3"
ROME = ZoneInfo("Europe/Rome")
START_TIMEOUT = 15.0
DESKTOP = {"width": 1280, "height": 900}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


# -- the world, built once -----------------------------------------------------------------


@dataclass
class Template:
    """What the tests need to know of the world (its database is closed: copy `root`)."""

    root: Path
    staff: dict[str, Staff]
    dossiers: dict[str, str]  # label -> dossier id
    uploads: dict[int, bytes]  # attachment id -> the bytes the family sent


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """The back-office world, built once for the module; the cheap argon2 parameters stay
    in force while the module runs (the server thread logs in with them)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "hasher", TEST_HASHER)
        world = build_world(tmp_path_factory.mktemp("browser-world") / "var")
        world.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        world.db.close()
        yield Template(
            root=world.services.settings.sportello_data_dir,
            staff=dict(world.staff),
            dossiers=dict(world.dossiers),
            uploads=dict(world.uploads),
        )


# -- the server ----------------------------------------------------------------------------


class ServerThread(threading.Thread):
    """Real uvicorn in a thread of its own, with its own event loop. `build` runs in that
    thread and returns the app and a function closing what it opened."""

    def __init__(self, build: Callable[[], tuple[FastAPI, Callable[[], None]]]):
        super().__init__(name="backoffice-uvicorn", daemon=True)
        self.build = build
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))  # a free port, held until uvicorn takes it
        self.port: int = self.sock.getsockname()[1]
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test by start_and_wait()
            self.error = exc
        finally:
            self.ready.set()

    async def _serve(self) -> None:
        app, close = self.build()  # the database is opened here, in the server's thread
        try:
            config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
            self.server = uvicorn.Server(config)
            self.ready.set()
            await self.server.serve(sockets=[self.sock])
        finally:
            close()

    def start_and_wait(self) -> None:
        self.start()
        if not self.ready.wait(START_TIMEOUT):
            raise RuntimeError("the back-office server thread did not start")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.error is not None:
                raise RuntimeError("the back-office server failed to start") from self.error
            if self.server is not None and self.server.started:
                return
            if not self.is_alive():
                raise RuntimeError("the back-office server thread ended before starting")
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"uvicorn did not start within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.join(timeout=10)
        self.sock.close()
        if self.is_alive():
            raise RuntimeError("the back-office server thread did not stop")


@dataclass
class Served:
    """A running back-office on its own copy of the world."""

    url: str
    root: Path
    clock: Clock
    staff: dict[str, Staff]
    dossiers: dict[str, str]
    uploads: dict[int, bytes]
    _opened: list[Database] = field(default_factory=list)

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def open_db(self) -> Database:
        """A connection of the test's own thread to the server's database file."""
        db = open_db(self.db_path)
        self._opened.append(db)
        return db

    def blobs(self) -> BlobStore:
        return BlobStore(self.root / "files", FILE_KEY)

    def email(self, label: str) -> str:
        return self.staff[label].email

    def close(self) -> None:
        for db in self._opened:
            db.close()


@pytest.fixture
def served(template: Template, tmp_path: Path) -> Iterator[Served]:
    root = tmp_path / "var"
    shutil.copytree(template.root, root, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    clock = Clock()

    def build() -> tuple[FastAPI, Callable[[], None]]:
        services = make_services(root, clock)
        return create_app(services), services.db.close

    thread = ServerThread(build)
    thread.start_and_wait()
    served = Served(
        url=f"http://127.0.0.1:{thread.port}",
        root=root,
        clock=clock,
        staff=template.staff,
        dossiers=template.dossiers,
        uploads=template.uploads,
    )
    try:
        yield served
    finally:
        served.close()
        thread.stop()


# -- the browser ---------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (`.ci/run` installs Debian's "
            "package: apt-get install chromium)"
        )
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_context(browser: Any, served: Served, **options: Any) -> Any:
    """A fresh context (no cookies) on the served app, Italian, Rome's time zone."""
    options.setdefault("viewport", DESKTOP)
    context = await browser.new_context(
        base_url=served.url,
        locale="it-IT",
        timezone_id="Europe/Rome",
        accept_downloads=True,
        **options,
    )
    context.set_default_timeout(10_000)
    return context


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Any, served: Served) -> AsyncIterator[Any]:
    ctx = await new_context(browser, served)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: Any) -> AsyncIterator[Any]:
    yield await context.new_page()


# -- what a social worker does -------------------------------------------------------------


async def submit(page: Any, button: Any, *, tap: bool = False) -> None:
    """Press a form's button and wait for the page it brings (the same URL included:
    a refused login answers on /login again)."""
    async with page.expect_navigation():
        await (button.tap() if tap else button.click())


async def log_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person does; ends on the list of dossiers."""
    await page.goto("/login")
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.get_by_role("button", name="Entra").click()
    await page.wait_for_url("**/pratiche")


_OVERFLOW_JS = """() => {
  const root = document.documentElement;
  const screen = root.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll("body *")) {
    if (e.closest(".visually-hidden")) continue;
    const box = e.getBoundingClientRect();
    if (box.width > 0 && box.right > screen + 1) {
      out.push(`${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""} to ${Math.round(box.right)}px`);
    }
  }
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || n.parentElement.closest(".visually-hidden")) continue;
    range.selectNodeContents(n);
    const box = range.getBoundingClientRect();
    if (box.right > screen + 1) out.push(`text "${n.textContent.trim().slice(0, 50)}" to ${Math.round(box.right)}px`);
  }
  return {scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, screen, culprits: out.slice(0, 8)};
}"""


async def horizontal_overflow(page: Any) -> str | None:
    """None when nothing sticks out sideways, else what does.

    `document.documentElement.scrollWidth <= window.innerWidth` alone proves nothing on
    an emulated phone: Chromium widens the layout viewport to the content (innerWidth
    becomes 523 on a 390 px screen), so both grow together. The page fits when neither
    exceeds the width of the screen (`clientWidth`, the viewport without a scroll bar)."""
    m = await page.evaluate(_OVERFLOW_JS)
    if max(m["scrollWidth"], m["innerWidth"]) <= m["screen"]:
        return None
    return (
        f"{page.url}: {m['scrollWidth']} px wide (innerWidth {m['innerWidth']}) on a "
        f"{m['screen']} px screen; sticking out: {'; '.join(m['culprits']) or '?'}"
    )


_BROKEN_WORDS_JS = """root => {
  const broken = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(".visually-hidden")) continue;
    for (const m of n.textContent.matchAll(/[^\\s\\-–]+/g)) {
      const range = document.createRange();
      range.setStart(n, m.index);
      range.setEnd(n, m.index + m[0].length);
      const lines = new Set(
        [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))
      );
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""


async def words_broken(locator: Any) -> list[str]:
    """The words inside `locator` that the layout splits across two lines (mid-word:
    "Rozza-no", "08/06/2-025"); breaking at spaces and hyphens is fine."""
    return await locator.evaluate(_BROKEN_WORDS_JS)


def today_in_rome(served: Served) -> dt.date:
    return served.clock().astimezone(ROME).date()
