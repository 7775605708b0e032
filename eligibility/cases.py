"""A notice's cases file: facts and expected verdicts, kept beside the notice as data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .catalogue import DATA_DIR


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`, recursively; a null in `over` removes that key."""
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and key != "isee":
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def case_files(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted((data_dir / "notices").glob("*.cases.yaml"))


def load_cases(
    path: Path,
) -> tuple[dict[str, Any], Iterator[tuple[dict[str, Any], dict[str, Any]]]]:
    """The file's header, and each case with its facts already laid over the base."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = data.get("base", {})
    return data, ((case, merge(base, case["facts"])) for case in data["cases"])
