"""Refresh the gettext catalogs after changing any user-facing text.

Run: python scripts/update_catalogs.py
It extracts every message (code and notice files, plurals included) into
dialogs/locales/messages.pot, merges it into every catalog on disk, fills the Italian one
(Italian is the source language) and lists, per language, the messages still to translate.
`pip install -e .` compiles the catalogs; the tests fail while any message is untranslated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "dialogs" / "locales"


PYBABEL = str(Path(sys.executable).with_name("pybabel"))
# `_(message)` and `_(singular, plural, n)` (aiogram's gettext signature); `N_` marks.
KEYWORDS = ["-k", "N_", "-k", "_:1,1t", "-k", "_:1,2", "-k", "_fmt"]


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


def todo(catalog: Catalog) -> list[str]:
    """The messages of a catalog still to translate: empty, fuzzy, or a plural form missing."""
    left = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if (
            message.fuzzy
            or not all(strings)
            or len(strings) < (catalog.num_plurals if message.pluralizable else 1)
        ):
            left.append(message.id[0] if message.pluralizable else message.id)
    return left


def main() -> None:
    pot = LOCALES / "messages.pot"
    extract(pot)
    # every catalog on disk; Babel keeps the translations, marks nothing fuzzy (a changed
    # message is new, to translate again), drops what the code no longer says
    subprocess.run(
        [
            PYBABEL,
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
            message.string = message.id  # the source language: (singular, plural) for plurals
            message.flags.discard("fuzzy")
    with italian.open("wb") as f:
        write_po(f, catalog, width=100, ignore_obsolete=True)
    print(f"{len(catalog)} messages")
    for po in sorted(LOCALES.glob("*/LC_MESSAGES/messages.po")):
        language = po.parent.parent.name
        if language == "it":
            continue
        with po.open("rb") as f:
            left = todo(read_po(f, locale=language))
        print(f"{language}: {len(left)} to translate")
        for msgid in left[:40]:
            print(f"  {msgid!r}")
        if len(left) > 40:
            print(f"  … and {len(left) - 40} more")


if __name__ == "__main__":
    main()
