"""Webhook throughput and latency through the real server.

Run: python benchmarks/webhook_bench.py [--seconds 10] [--connections 16] [--workers 1]
[--no-wrk]

A real uvicorn (in a subprocess, so the load generator does not share its interpreter)
serves `create_app` with the webhook route, the real Dispatcher, its SQLite file and the
update-id ledger; with `--workers 2`, two uvicorn worker processes on the one port and the
one database file (as `sportello serve --workers 2`), each chat locked across them.
The Bot's HTTP session answers every Bot API call at once (as in bot_bench.py), so the
figures are our side only: HTTP, the secret check, parsing, the ledger, the Dispatcher,
the questionnaire. The load: N concurrent keep-alive connections (aiohttp) posting
distinct updates for `--seconds`: plain text messages from ever new users, and a /start
in every 20. Then the same ids again (all duplicates: the cost of the HTTP stack, the
secret, parsing and the ledger without the Dispatcher). Then, when `wrk` is installed,
new updates again with wrk and a Lua script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request  # resolved at run time by FastAPI (bench_app)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
HEADER = "X-Telegram-Bot-Api-Secret-Token"

WRK_SCRIPT = """
-- distinct update ids and users per thread and request: none is a duplicate
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  n = 0
end
request = function()
  n = n + 1
  local id = 2000000000 + tid * 10000000 + n
  local body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":1748000000,' ..
    '"chat":{"id":%d,"type":"private"},' ..
    '"from":{"id":%d,"is_bot":false,"first_name":"U","language_code":"it"},' ..
    '"text":"buongiorno"}}', id, id, id, id)
  return wrk.format("POST", "/telegram/webhook",
    {["Content-Type"] = "application/json", ["HEADER"] = "SECRET"}, body)
end
""".replace('["HEADER"] = "SECRET"', f'["{HEADER}"] = "{SECRET}"')


# -- the server (subprocess) -----------------------------------------------------------


def bench_app() -> Any:
    """The app of one worker process: everything opened afresh in the process."""
    import datetime as dt

    from aiogram import Bot
    from bot_bench import InstantSession  # type: ignore[import-not-found]

    from backoffice.app import create_app
    from backoffice.deps import Services
    from bot.app import blob_store_beside, build_dispatcher
    from bot.webhook import webhook_router
    from common.settings import Settings
    from eligibility import load_catalogue
    from storage.db import open_db

    settings = Settings(sportello_data_dir=Path(os.environ["WEBHOOK_BENCH_DATA"]))
    db = open_db(settings.db_path)
    blobs = blob_store_beside(db, settings)
    catalogue = load_catalogue()
    bot = Bot("1:bench", session=InstantSession())
    dp = build_dispatcher(
        db, catalogue, clock=lambda: dt.date(2025, 6, 2), settings=settings, blobs=blobs
    )
    services = Services(db=db, blobs=blobs, catalogue=catalogue, settings=settings)
    return create_app(services, routers=[webhook_router(dp, bot, SECRET), counters_router()])


def counters_router() -> Any:
    """`GET /bench/counters`: this worker's counters with its pid, so that the load side
    can add up every worker's (a request reaches one worker; /metrics is per process)."""
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/bench/counters", include_in_schema=False)
    async def counters(request: Request) -> dict[str, Any]:
        figures = dict(request.app.state.services.counters)
        return {"pid": os.getpid(), "counters": figures}

    return router


def serve(port: int, data: Path, workers: int) -> None:
    import uvicorn

    sys.path.insert(0, str(Path(__file__).parent))
    os.environ["WEBHOOK_BENCH_DATA"] = str(data)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), str(ROOT)])
    uvicorn.run(
        "webhook_bench:bench_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


# -- the load (this process) -----------------------------------------------------------


def update(n: int) -> bytes:
    user = 1_000_000 + n
    text = "/start" if n % 20 == 0 else "buongiorno"
    message: dict[str, Any] = {
        "message_id": n,
        "date": 1748000000,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "U", "language_code": "it"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return json.dumps({"update_id": n, "message": message}).encode()


async def load(
    url: str, seconds: float, connections: int, first_id: int, count: int = 10**8
) -> dict[str, Any]:
    """Post updates `first_id`, `first_id + 1`, ... until `seconds` pass or `count` went."""
    import aiohttp

    ids = iter(range(first_id, first_id + count))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    headers = {HEADER: SECRET, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=connections)

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            n = next(ids, None)
            if n is None:
                return
            body = update(n)
            start = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
                    key = str(response.status)
            except aiohttp.ClientError as exc:
                ok, key = False, type(exc).__name__
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors[key] = errors.get(key, 0) + 1

    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1e3 if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1e3 if latencies else float("nan"),
        "errors": errors,
    }


async def scrape_all(base: str, workers: int) -> dict[str, float]:
    """The counters of every worker, added up: each request reaches one worker process
    (the kernel picks it), so ask on fresh connections until each pid has answered."""
    import aiohttp

    seen: dict[int, dict[str, float]] = {}
    async with aiohttp.ClientSession() as session:
        for _ in range(500):
            async with session.get(
                f"{base}/bench/counters", headers={"Connection": "close"}
            ) as r:
                answer = await r.json()
            seen[answer["pid"]] = answer["counters"]
            if len(seen) >= workers:
                break
    if len(seen) < workers:
        print(f"(counters of {len(seen)} of {workers} workers only)")
    total: dict[str, float] = {}
    for figures in seen.values():
        for name, value in figures.items():
            total[f"sportello_{name}_total"] = total.get(f"sportello_{name}_total", 0) + value
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    import aiohttp

    deadline = time.monotonic() + 120  # two workers starting on a busy machine: slow
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit("the server did not start")
            try:
                async with session.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not answer /healthz")


def run_wrk(base: str, seconds: float, connections: int) -> str | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        done = subprocess.run(
            [
                *(wrk, "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency"),
                *("-s", script.name, f"{base}/telegram/webhook"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(script.name)
    return done.stdout + done.stderr


async def main(seconds: float, connections: int, workers: int, use_wrk: bool) -> None:
    data = Path(tempfile.mkdtemp())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"{workers} worker process(es) on one database file")
    server = subprocess.Popen(
        [
            *(sys.executable, __file__, "--serve", str(port)),
            *("--data", str(data), "--workers", str(workers)),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        await wait_up(base, server)
        await load(f"{base}/telegram/webhook", 1.0, connections, first_id=1)  # warm up
        before = await scrape_all(base, workers)
        result = await load(f"{base}/telegram/webhook", seconds, connections, 10_000_000)
        middle = await scrape_all(base, workers)
        handled = middle.get("sportello_updates_handled_total", 0) - before.get(
            "sportello_updates_handled_total", 0
        )
        print(
            f"aiohttp, {connections} connections, {seconds:.0f} s: "
            f"{result['rps']:,.0f} requests/s, p50 {result['p50']:.1f} ms, "
            f"p99 {result['p99']:.1f} ms, {result['requests']:,} ok, "
            f"errors {result['errors'] or 0}; server handled {handled:,.0f}, "
            f"failed {middle.get('sportello_updates_failed_total', 0):.0f}, "
            f"duplicates {middle.get('sportello_updates_duplicate_total', 0):.0f}"
        )
        # the same ids again: all duplicates, so this is the cost without the Dispatcher
        sent = result["requests"] + sum(result["errors"].values())
        replay = await load(f"{base}/telegram/webhook", seconds, connections, 10_000_000, sent)
        after = await scrape_all(base, workers)
        dup = after.get("sportello_updates_duplicate_total", 0) - middle.get(
            "sportello_updates_duplicate_total", 0
        )
        again = after.get("sportello_updates_handled_total", 0) - middle.get(
            "sportello_updates_handled_total", 0
        )
        print(
            f"replayed (duplicates: HTTP, secret, parsing, ledger, no Dispatcher): "
            f"{replay['rps']:,.0f} requests/s, p50 {replay['p50']:.1f} ms, "
            f"p99 {replay['p99']:.1f} ms, errors {replay['errors'] or 0}; server skipped "
            f"{dup:,.0f}, handled again {again:.0f}"
        )
        if use_wrk:
            report = run_wrk(base, seconds, connections)
            if report is None:
                print("wrk: not installed (apt-get install -y wrk)")
            else:
                print("wrk, 2 threads, same connections:")
                print("\n".join("  " + line for line in report.strip().splitlines()))
                final = await scrape_all(base, workers)
                delta = {k: v - after.get(k, 0) for k, v in final.items()}
                print(
                    f"  server, during wrk: handled "
                    f"{delta.get('sportello_updates_handled_total', 0):,.0f}, failed "
                    f"{delta.get('sportello_updates_failed_total', 0):.0f}, duplicates "
                    f"{delta.get('sportello_updates_duplicate_total', 0):.0f}"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.data, args.workers)
    else:
        asyncio.run(main(args.seconds, args.connections, args.workers, not args.no_wrk))
