"""Peak memory and time of the bulk download of 20 dossiers ("Scarica le pratiche
scelte"): the ZIP of each dossier built and streamed one after another, then the summary.

Run: python benchmarks/archive_bench.py [--dossiers 20]
It builds a back-office world as the tests do (`tests.backoffice_fixtures`: every checklist
item uploaded, as photos and PDFs; sent by PEC and delivered with its receipts), on a
temporary folder; building it is not measured. Then it reads `stream_archive` to the end,
as the web server does, and prints: the time, the size of the ZIP, the peak of Python's
own allocations while streaming (tracemalloc), the peak resident memory of this process
and of the assembly's worker processes (getrusage). Target: memory holds one dossier at a
time, so the peak does not grow with the number of dossiers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backoffice.archive import stream_archive
from dossier.desk import Desk
from tests.backoffice_fixtures import (
    VISCONTEO,
    Clock,
    World,
    identity,
    make_app,
    make_services,
    open_dossier,
    send_and_deliver,
    upload_everything,
)

MB = 1024 * 1024
SURNAMES = [
    "Rossi", "Bianchi", "Colombo", "Ferrari", "Galli", "Brambilla", "Fumagalli", "Sala",
    "Villa", "Fontana", "Riva", "Cattaneo", "Longoni", "Mariani", "Barzaghi", "Ronchi",
    "Pirovano", "Airoldi", "Mauri", "Molteni", "Redaelli", "Crippa", "Arosio", "Radaelli",
]  # fmt: skip


def build(root: Path, count: int) -> tuple[World, list[str]]:
    clock = Clock()
    services = make_services(root, clock)
    world = World(services=services, app=make_app(services), clock=clock)
    world.desk = Desk(services.db, services.blobs, services.catalogue)
    day = dt.datetime(2025, 6, 2, 9, 30, tzinfo=dt.UTC)
    ids = []
    for n in range(count):
        name = SURNAMES[n % len(SURNAMES)]
        code = (name.upper() + "XXX")[:3] + "GPP" + f"39E{20 + n % 10}F205"
        dossier_id = open_dossier(
            world,
            municipality="Opera" if n % 2 else "Rozzano",
            answers=VISCONTEO,
            ident=identity(
                ("Maria", name, "RSSMRA70A41F205"), ("Giuseppe", name, code), "child", "Via Roma 12"
            ),
            created=day,
            user_id=6000 + n,
        )
        upload_everything(world, dossier_id, 10 + n * 40)
        send_and_deliver(world, dossier_id, day + dt.timedelta(hours=1 + n))
        ids.append(dossier_id)
    return world, ids


async def download(world: World, ids: list[str]) -> int:
    size = 0
    async for chunk in stream_archive(world.services, ids):
        size += len(chunk)
    return size


def measure(root: Path, ids: list[str]) -> None:
    """In a fresh process (so that building the dossiers does not count): the download,
    with the peak memory of each dossier's assembly job (dossier.bounded reports it)."""
    from dossier import bounded

    peaks: list[int] = []
    original = bounded._run

    def recorded(*args: object) -> object:
        value, peak = original(*args)  # type: ignore[arg-type]
        peaks.append(peak)
        return value, peak

    bounded._run = recorded  # type: ignore[assignment]
    clock = Clock()
    services = make_services(root, clock)
    world = World(services=services, app=make_app(services), clock=clock)
    bounded.warm_up()
    peaks.clear()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started = time.perf_counter()
    size = asyncio.run(download(world, ids))
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bulk ZIP of {len(ids)} dossiers: {size / MB:.1f} MB in {seconds:.1f} s "
          f"({seconds / len(ids):.2f} s a dossier)")  # fmt: skip
    print(f"peak of Python allocations while streaming (tracemalloc): {peak / MB:.1f} MB")
    print(f"peak resident memory of the serving process: {after:.0f} MB "
          f"({before:.0f} MB before the download)")  # fmt: skip
    if peaks:
        print(f"assembly of each dossier (a bounded process of its own): peak "
              f"{max(peaks) / MB:.0f} MB beyond its start, median "
              f"{sorted(peaks)[len(peaks) // 2] / MB:.0f} MB, {len(peaks)} jobs")  # fmt: skip
    world.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=20)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure[0]), args.measure[1:])
        return
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        root = Path(folder) / "var"
        world, ids = build(root, args.dossiers)
        world.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        world.db.close()
        print(f"built {len(ids)} delivered dossiers in {time.perf_counter() - started:.1f} s")
        subprocess.run([sys.executable, __file__, "--measure", str(root), *ids], check=True)


if __name__ == "__main__":
    main()
