"""Several processes on one database file (`sportello serve --workers N`, or the old and
the new process during a restart): every process handles updates and pages, and one at
a time runs the background jobs (outbox, PEC receipts, status messages, alerts and
reminders, retention, expiry, integration reminders, the crash journal's replay).

Each process renews a lease saying it is alive (`process:<owner>`) and tries to take the
`jobs` lease; the one holding it starts the jobs and renews it while they run. If it
cannot renew (the database was out of reach past the lease), it stops its jobs before
another process may take over. A process that dies loses both leases when they expire,
or at once when a process of the same machine finds its pid gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlite_utils import Database

from storage import leases

log = logging.getLogger(__name__)

JOBS = "jobs"
StartJobs = Callable[[asyncio.Event], list[asyncio.Task[None]]]


async def _stop_jobs(inner: asyncio.Event, tasks: list[asyncio.Task[None]], grace: float) -> None:
    inner.set()
    if not tasks:
        return
    _done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        log.warning("job %s did not stop in time: cancelled", task.get_name())
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def lead_jobs(
    db: Database,
    owner: str,
    start_jobs: StartJobs,
    stop: asyncio.Event,
    *,
    each_round: Callable[[], Awaitable[object]] | None = None,
    on_change: Callable[[bool], None] | None = None,
    lease: float = 20.0,
    every: float = 2.0,
    grace: float = 30.0,
) -> None:
    """Until `stop`: keep this process's lease alive and run the jobs while it holds the
    `jobs` lease; `each_round` runs every `every` seconds while leading (the journal's
    replay), `on_change(leading)` is told when this process starts or stops leading."""
    from .journal import PROCESS  # here: the console takes `JOBS` without aiogram

    inner: asyncio.Event | None = None
    tasks: list[asyncio.Task[None]] = []
    try:
        while not stop.is_set():
            try:
                leases.hold(db, PROCESS + owner, owner, lease)
                holding = leases.hold(db, JOBS, owner, lease)
            except Exception as exc:  # locked past busy_timeout, disk gone: try again
                log.warning("leases not renewed: %s", type(exc).__name__)
                holding = False
            if holding and inner is None:
                log.info("this process runs the background jobs")
                inner = asyncio.Event()
                tasks = start_jobs(inner)
                if on_change:
                    on_change(True)
            elif not holding and inner is not None:
                log.error("lost the jobs' lease: stopping the jobs here")
                await _stop_jobs(inner, tasks, grace)
                inner, tasks = None, []
                if on_change:
                    on_change(False)
            if inner is not None and each_round is not None:
                try:
                    await each_round()
                except Exception as exc:
                    log.error("a leader's round failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
    finally:
        if inner is not None:
            await _stop_jobs(inner, tasks, grace)
        with contextlib.suppress(Exception):
            leases.release(db, JOBS, owner)
            leases.release(db, PROCESS + owner, owner)
