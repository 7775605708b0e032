"""Refresh the gettext catalogs after changing any user-facing text.

Run: python scripts/update_catalogs.py
It extracts every message (code and notice files) into dialogs/locales/messages.pot,
merges it into the Italian and English catalogs, fills the Italian one (Italian is the
source language) and lists the English messages still to translate.
`pip install -e .` compiles the catalogs; the tests fail while any message is untranslated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "dialogs" / "locales"


PYBABEL = str(Path(sys.executable).with_name("pybabel"))
KEYWORDS = ["-k", "N_", "-k", "_", "-k", "_fmt"]


def extract(pot: Path) -> None:
    """Every message of the code and the notice files into `pot`: the one extraction command."""
    subprocess.run(
        [
            PYBABEL,
            "extract",
            "-F",
            "babel.cfg",
            *KEYWORDS,
            "--no-location",
            "--sort-output",
            "--project",
            "Sportello B2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def main() -> None:
    pybabel = PYBABEL
    pot = LOCALES / "messages.pot"
    extract(pot)
    subprocess.run(
        [
            pybabel,
            "update",
            "-i",
            str(pot),
            "-d",
            str(LOCALES),
            "-D",
            "messages",
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    italian = LOCALES / "it" / "LC_MESSAGES" / "messages.po"
    with italian.open("rb") as f:
        catalog = read_po(f, locale="it")
    for message in catalog:
        if message.id:
            message.string = message.id
    with italian.open("wb") as f:
        write_po(f, catalog, width=100, ignore_obsolete=True)
    with (LOCALES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        english = read_po(f, locale="en")
    todo = [m.id for m in english if m.id and not m.string]
    print(f"{len(catalog)} messages; {len(todo)} English translations missing")
    for msgid in todo:
        print(f"  {msgid}")


if __name__ == "__main__":
    main()
