"""The example notice of docs/examples, as the tests publish it: a copy without its
`before_publishing` marker (the example itself is refused until the operator removes it)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SOURCE = ROOT / "docs" / "examples" / "esempio-brianza-2027.yaml"
MARKER = re.compile(r"\n(?:#.*\n)*before_publishing:\n(?:[ \t]+.*\n)+")


def without_marker(text: str) -> str:
    """The example's text as an operator leaves it after removing the marker field."""
    cleaned = MARKER.sub("", text)
    assert cleaned != text, "the example has lost its before_publishing marker"
    return cleaned


def _publishable_copy() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="esempio-"))
    path = folder / EXAMPLE_SOURCE.name
    path.write_text(without_marker(EXAMPLE_SOURCE.read_text(encoding="utf-8")), "utf-8")
    cases = EXAMPLE_SOURCE.with_name("esempio-brianza-2027.cases.yaml")
    shutil.copy(cases, folder / cases.name)
    return path


EXAMPLE = _publishable_copy()
