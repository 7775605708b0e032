"""Instructions per update of the question step and both echoes of `bot_bench.py`, counted
by Valgrind's callgrind: a figure that other work on a shared machine does not inflate
(the CPU time does, by a lot on two busy cores).

Run: python benchmarks/bot_instructions.py [--updates 100]   (needs valgrind; 3-5 min)

Each of the three runs in a process of its own under callgrind, with counting switched on
(`callgrind_control`) only while its updates are fed: the same families, updates and
handlers as `bot_bench.py`. The commits' writes and other system calls are not counted,
so these ratios come out lower than the CPU time's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("step", "stateful", "bare")


def counting(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
        capture_output=True,
        check=True,
    )


async def feed(kind: str, n: int) -> None:
    """Inside callgrind: `n` birth dates through `kind`, counted."""
    sys.path.insert(0, str(HERE))
    import bot_bench as b
    from aiogram import Bot

    from bot.app import build_dispatcher
    from bot.polled import PolledUpdates
    from storage.db import open_db

    tmp = Path(tempfile.mkdtemp())
    bot = Bot("1:bench", session=b.InstantSession(json_loads=PolledUpdates()))
    db = open_db(tmp / "bench.sqlite3")
    dp = build_dispatcher(db, clock=lambda: dt.date(2025, 6, 2))
    users = list(range(10_000, 10_000 + n + 20))
    for user in users:
        await b.prepare(dp, bot, user)
    target = dp
    if kind != "step":
        target = b.echo_dispatcher(
            tmp / f"{kind}.sqlite3", b.bare_echo() if kind == "bare" else b.stateful_echo()
        )
        b.copy_states(db.conn, target.storage.db.conn)  # type: ignore[attr-defined]
    for user in users[:20]:  # warm
        await target.feed_update(bot, b.text_update(bot, user, "1/3/1940"))
    updates = [b.text_update(bot, user, "1/3/1940") for user in users[20:]]
    counting(True)
    for update in updates:
        await target.feed_update(bot, update)
    counting(False)


def measure(kind: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--kind",
                kind,
                "--updates",
                str(n),
            ],
            capture_output=True,
            check=True,
        )
        found = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        assert found is not None, "no totals in callgrind's output"
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--kind", choices=KINDS)
    args = parser.parse_args()
    if args.kind:
        asyncio.run(feed(args.kind, args.updates))
        return
    counts = {kind: measure(kind, args.updates) / args.updates for kind in KINDS}
    print(
        f"instructions per update: question step {counts['step'] / 1e6:.2f} M, "
        f"stateful echo {counts['stateful'] / 1e6:.2f} M, bare echo {counts['bare'] / 1e6:.2f} M"
    )
    print(
        f"step/stateful echo {counts['step'] / counts['stateful']:.2f}x, "
        f"step/bare echo {counts['step'] / counts['bare']:.2f}x"
    )


if __name__ == "__main__":
    main()
