"""Heavy work on files, with a ceiling: every upload check, staff preview and dossier
assembly runs in a process of its own, off the event loop, at most `CONCURRENT` at once.

Each job gets a fresh process forked from a small server that has already imported
Pillow and pypdf (multiprocessing's "forkserver": about 30 ms a job), with a limit on the
memory it may allocate (RLIMIT_DATA) and a time limit after which it is killed. A file
that would take more, or that crashes a decoder, costs one short-lived process and
becomes a kind refusal; the bot and the back-office never notice.

The workers are thread pools, each thread starting one process and waiting for it; the
pools' queues are the limit, for asynchronous and plain callers alike. There are two
lanes: families' uploads and assemblies (`CONCURRENT` at once) and the staff's previews,
thumbnails and ZIPs (`STAFF_CONCURRENT`), so neither waits behind the other. In the
families' lane each chat has one job at a time (`OWNER`, set by the bot for the update
it handles): a chat sending a pile of costly files holds one slot, not all of them. And
the families' queue is capped: an upload check that would wait behind `QUEUE_LIMIT`
others is refused at once (`Busy`, the family sends it again in a minute) rather than
left to wait for minutes; the bot also caps the files one chat has in hand
(`bot.backlog`).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
import signal
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from multiprocessing import spawn
from multiprocessing.connection import Connection
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
MB = 1024 * 1024
CONCURRENT = 2  # the machine has two cores; a third job would only wait for one
STAFF_CONCURRENT = 1  # the staff's lane: a preview never waits behind families' uploads
# Upload checks waiting for a slot in the families' lane, at most: with checks of 0.3-2 s
# two at a time, the last one waits some 10 s, not minutes.
QUEUE_LIMIT = 12
# Which lane and whose job, for the caller's task: the back-office sets LANE to "staff",
# the bot sets OWNER to the chat whose update it handles.
LANE: ContextVar[str] = ContextVar("bounded_lane", default="family")
OWNER: ContextVar[int | str | None] = ContextVar("bounded_owner", default=None)
MEMORY = 450 * MB  # what one job may allocate beyond the forked server's own memory
CHECK_SECONDS = 8.0  # an upload check: the worst file we take needs about 2 s
ASSEMBLY_SECONDS = 120.0  # a whole dossier, dozens of photos re-encoded
STARTUP_SECONDS = 120.0  # the first job waits for the fork server to import its modules
PRELOAD = ["dossier.bounded", "dossier.files", "dossier.assemble", "dossier.signedpdf"]


class Busy(Exception):
    """The families' queue is full: the job was not started (try again in a minute)."""


class Overrun(Exception):
    """The job went over its time or memory, or its process died; `why` says which."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


_pools: dict[str, ThreadPoolExecutor] = {}
_context: Any = None
_lock = threading.Lock()
_owners: weakref.WeakValueDictionary[Any, asyncio.Lock] = weakref.WeakValueDictionary()
_waiting: dict[str, int] = {"family": 0, "staff": 0}  # submitted, not started yet


def _ctx() -> Any:
    global _context
    with _lock:
        if _context is None:
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(PRELOAD)
        return _context


def _lane(lane: str | None = None) -> str:
    return "staff" if (lane or LANE.get()) == "staff" else "family"


def _executor(lane: str | None = None) -> ThreadPoolExecutor:
    lane = _lane(lane)
    with _lock:
        if lane not in _pools:
            workers = STAFF_CONCURRENT if lane == "staff" else CONCURRENT
            _pools[lane] = ThreadPoolExecutor(workers, thread_name_prefix=f"bounded-{lane}")
        return _pools[lane]


def _vm(field: str) -> int:
    """A field of /proc/self/status, in bytes (0 where there is no /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(
    conn: Connection, fn: Callable[..., Any], args: tuple, kwargs: dict, memory: int
) -> None:
    # Ctrl-C in a terminal (the console) is the parent's to handle: the job ends by itself
    # or by its time limit, with no traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(("started",))  # the clock starts now, not while the fork server warms up
    start_rss = _vm("VmRSS")
    data = _vm("VmData")
    if data and memory:
        limit = data + memory
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    try:
        import pillow_heif

        pillow_heif.options.DECODE_THREADS = 2  # the two cores; other jobs wait their turn
    except ImportError:
        pass
    try:
        result: tuple[str, Any] = ("ok", fn(*args, **kwargs))
    except MemoryError:
        result = ("overrun", "memory")
    except BaseException as error:  # handed back to the caller, raised there
        result = ("error", error)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - start_rss
    try:
        conn.send((*result, peak))
    except MemoryError:
        conn.send(("overrun", "memory", peak))
    conn.close()


def _without_main(prepare: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    def prepared(name: str) -> dict[str, Any]:
        data = prepare(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    return prepared


def _run(
    fn: Callable[..., T], args: tuple, kwargs: dict, seconds: float, memory: int
) -> tuple[T, int]:
    ctx = _ctx()
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, fn, args, kwargs, memory), daemon=True)
    with _lock:
        # multiprocessing makes every child import the parent's main module again (the
        # `sportello` script: aiogram, FastAPI, seconds of imports) to find the target;
        # ours lives in this module, so the child is told of no main module at all.
        # (Preloading "__main__" in the fork server does not work on Python 3.11.)
        prepare = spawn.get_preparation_data
        spawn.get_preparation_data = _without_main(prepare)
        try:
            process.start()
        finally:
            spawn.get_preparation_data = prepare
    child.close()
    try:
        if not parent.poll(STARTUP_SECONDS) or parent.recv() != ("started",):
            raise Overrun("start")
        if not parent.poll(seconds):
            raise Overrun("time")
        status, value, peak = parent.recv()
    except (EOFError, OSError):
        raise Overrun("died") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        parent.close()
    if status == "overrun":
        raise Overrun(value)
    if status == "error":
        raise value
    return value, peak


def warm_up() -> None:
    """Start the fork server now (it imports Pillow, pypdf and the main module once), so
    that the first family's upload does not wait for it. Safe to call more than once."""
    run(_nothing)


def _nothing() -> None:
    return None


def run(
    fn: Callable[..., T],
    *args: Any,
    seconds: float = CHECK_SECONDS,
    memory: int = MEMORY,
    **kwargs: Any,
) -> T:
    """`fn(*args, **kwargs)` in a bounded process, waiting for a free slot; its result,
    or its exception raised here, or Overrun. `fn` and its arguments must pickle."""
    return run_measured(fn, *args, seconds=seconds, memory=memory, **kwargs)[0]


def run_measured(
    fn: Callable[..., T],
    *args: Any,
    seconds: float = CHECK_SECONDS,
    memory: int = MEMORY,
    **kwargs: Any,
) -> tuple[T, int]:
    """`run`, with the job's peak memory beyond its process's start (bytes)."""
    return _submit(fn, args, kwargs, seconds, memory).result()


def waiting(lane: str = "family") -> int:
    """Jobs of that lane waiting for a free slot (not started)."""
    with _lock:
        return _waiting[lane]


def _submit(
    fn: Callable[..., T],
    args: tuple,
    kwargs: dict,
    seconds: float,
    memory: int,
    limit: int | None = None,
) -> Future[tuple[T, int]]:
    """Hand the job to its lane's pool, counted as waiting until a thread takes it; with
    `limit`, refused (`Busy`) when that many already wait."""
    lane = _lane()
    with _lock:
        if limit is not None and _waiting[lane] >= limit:
            raise Busy(lane)
        _waiting[lane] += 1

    def started() -> tuple[T, int]:
        with _lock:
            _waiting[lane] -= 1
        return _run(fn, args, kwargs, seconds, memory)

    try:
        return _executor(lane).submit(started)
    except BaseException:
        with _lock:
            _waiting[lane] -= 1
        raise


async def run_async(
    fn: Callable[..., T],
    *args: Any,
    seconds: float = CHECK_SECONDS,
    memory: int = MEMORY,
    queue_limit: int | None = None,
    **kwargs: Any,
) -> T:
    """`run`, awaited: the event loop goes on serving other families meanwhile. In the
    families' lane, one job at a time per `OWNER` (the others of that chat wait here).
    With `queue_limit` (an upload check: `QUEUE_LIMIT`), `Busy` rather than waiting
    behind that many jobs."""
    owner = OWNER.get()
    if owner is None or LANE.get() == "staff":
        future = _submit(fn, args, kwargs, seconds, memory, queue_limit)
        return (await asyncio.wrap_future(future))[0]
    lock = _owners.setdefault(owner, asyncio.Lock())
    async with lock:
        future = _submit(fn, args, kwargs, seconds, memory, queue_limit)
        return (await asyncio.wrap_future(future))[0]
