"""Every worked example of shared/contract/examples passes through the real `sportello check`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eligibility.expectations import mismatches

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = (
    Path(os.environ.get("SPORTELLO_SHARED", ROOT.parent / "shared")) / "contract" / "examples"
)
FILES = sorted(EXAMPLES.glob("*.json"))


def sportello(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the installed console script, as a user would."""
    exe = Path(sys.executable).with_name("sportello")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_contract_examples_are_present():
    assert len(FILES) >= 8, f"expected the contract examples in {EXAMPLES}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_contract_example_passes_through_sportello_check(path: Path):
    example = json.loads(path.read_text(encoding="utf-8"))
    done = sportello("check", "-", stdin=json.dumps(example["facts"]))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    verdict = json.loads(done.stdout)
    assert mismatches(verdict, example["expect"]) == []
