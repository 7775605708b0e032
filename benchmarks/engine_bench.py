"""Evaluations per second of the eligibility engine on the real notices.

Run: python benchmarks/engine_bench.py [--seconds 3]
It replays every case of every notice's cases file (realistic facts, all notices),
after one warm-up pass, and prints the mean time per evaluation and the rate.
"""

from __future__ import annotations

import argparse
import statistics
import time

from eligibility import check, load_catalogue, validate
from eligibility.cases import case_files, load_cases


def workload() -> list:
    facts = []
    for path in case_files():
        _header, cases = load_cases(path)
        facts += [validate(raw) for _case, raw in cases]
    return facts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    catalogue = load_catalogue()
    facts = workload()
    for f in facts:
        check(f, catalogue)
    rounds: list[float] = []
    done = 0
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        for f in facts:
            check(f, catalogue)
        rounds.append((time.perf_counter() - start) / len(facts))
        done += len(facts)
    per_eval = statistics.mean(rounds)
    print(f"notices: {len(catalogue.notices)}  distinct facts: {len(facts)}  evaluations: {done}")
    print(f"mean per evaluation: {per_eval * 1e3:.3f} ms  (best round {min(rounds) * 1e3:.3f} ms)")
    print(f"evaluations per second: {1 / per_eval:,.0f}")
    print(f"target under 1 ms per evaluation: {'met' if per_eval < 1e-3 else 'NOT met'}")


if __name__ == "__main__":
    main()
