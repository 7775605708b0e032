"""The architecture as CI keeps it: each package imports only those below it (the
import-linter contract in pyproject.toml), no circle of modules anywhere (grimp, the
library import-linter reads the imports with), and the packages type-check (mypy)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "eligibility", "storage", "dossier", "dialogs", "backoffice", "bot")

def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def circles(graph: grimp.ImportGraph, skip: set[tuple[str, str]]) -> list[list[str]]:
    """The circles of modules (strongly connected groups of more than one module, or a
    module importing itself), leaving out the imports in `skip`."""
    edges = {
        m: sorted(i for i in graph.find_modules_directly_imported_by(m) if (m, i) not in skip)
        for m in graph.modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]  # iterative Tarjan: (module, next edge to look at)
        while work:
            node, at = work.pop()
            if at == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if at < len(targets):
                work.append((node, at + 1))
                target = targets[at]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges.get(node, []):
                    found.append(sorted(group))
    return found


def test_no_circle_of_modules_anywhere():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    found = circles(graph, set())
    assert not found, "modules importing each other in a circle: " + "; ".join(
        " <-> ".join(group) for group in found
    )


def test_circles_are_found():
    """The check above can fail: a circle in a throwaway graph is found."""
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    assert circles(graph, set()) == [["a.x", "a.y", "a.z"]]
    assert circles(graph, {("a.z", "a.x")}) == []


def test_each_package_imports_only_those_below_it():
    done = subprocess.run(
        [_bin("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


BASELINE = Path(__file__).with_name("mypy-baseline.txt")
_ERROR = re.compile(r"^(?P<path>[\w/.-]+\.py):\d+: error: (?P<message>.*)$")


def type_errors(output: str) -> Counter[str]:
    """mypy's errors without their line numbers (`path: message  [code]`), counted: a
    line added above an old error does not make it new."""
    found: Counter[str] = Counter()
    for line in output.splitlines():
        match = _ERROR.match(line)
        if match:
            found[f"{match['path']}: {match['message']}"] += 1
    return found


def mypy_output() -> subprocess.CompletedProcess[str]:
    """mypy over every package (its settings are in pyproject.toml)."""
    return subprocess.run(
        [_bin("mypy"), "--no-pretty", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_the_packages_type_check_with_no_new_error():
    """The errors the code had when the check came in are in tests/mypy-baseline.txt;
    any other fails. To write the baseline again after fixing some:
    `python tests/test_layers.py`."""
    done = mypy_output()
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr  # 2: mypy broke
    new = type_errors(done.stdout) - type_errors(BASELINE.read_text(encoding="utf-8"))
    assert not new, "new type errors:\n" + "\n".join(sorted(new.elements()))


def test_new_type_errors_are_found():
    old = "a.py:3: error: Bad  [misc]\n"
    assert not type_errors("a.py:9: error: Bad  [misc]") - type_errors(old)  # moved down
    assert type_errors(old + "a.py:9: error: Bad  [misc]") - type_errors(old)  # one more
    assert type_errors("b.py:1: error: Worse  [misc]") - type_errors(old)


if __name__ == "__main__":  # write the baseline: the errors mypy finds today
    lines = sorted(
        f"{m['path']}:0: error: {m['message']}"
        for m in map(_ERROR.match, mypy_output().stdout.splitlines())
        if m
    )
    BASELINE.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{len(lines)} errors in {BASELINE}")
