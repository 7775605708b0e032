"""Italian first, English complete, and Italian short enough for a tired caregiver."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, make_i18n

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import update_catalogs

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{\w+\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, str]:
    """Every message in the code and the notice files, extracted afresh."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    update_catalogs.extract(pot)
    with pot.open("rb") as f:
        return {m.id: "" for m in read_po(f) if m.id}


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


@pytest.mark.parametrize("language", ["it", "en"])
def test_catalog_has_every_message_translated(extracted, language):
    cat = catalog(language)
    problems = []
    for msgid in extracted:
        message = cat.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
        elif not message.string or message.fuzzy:
            problems.append(f"untranslated: {msgid!r}")
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(message.string)):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    assert problems == [], f"{len(problems)} problems, run the catalog update in the README"


def test_english_is_used_once_chosen():
    i18n = make_i18n()
    assert i18n.gettext("Sì", locale="en") == "Yes"
    assert i18n.gettext("Sì", locale="it") == "Sì"


def gulpease(text: str) -> float:
    """Gulpease index: 89 + (300 × sentences − 10 × letters) / words (Lucisano & Piemontese)."""
    text = re.sub(r"\{\w+\}", "X", text)
    words = re.findall(r"[A-Za-zÀ-ÿ0-9']+", text)
    if not words:
        return 100.0
    letters = sum(len(w.replace("'", "")) for w in words)
    sentences = max(1, len(re.findall(r"[.!?]+(\s|$)", text.strip() + " ")))
    return 89 + (300 * sentences - 10 * letters) / len(words)


def test_italian_messages_are_easy_to_read(extracted, capsys):
    """Gulpease of every Italian message; prints the lowest. Sentences a family reads aim at 60+."""
    scored = sorted((gulpease(m), m) for m in extracted if len(m.split()) >= 4)
    with capsys.disabled():
        print(
            f"\nGulpease over {len(scored)} Italian messages: "
            f"mean {sum(s for s, _ in scored) / len(scored):.1f}, "
            f"{sum(1 for s, _ in scored if s >= 60)} at 60 or more"
        )
        for score, message in scored[:10]:
            print(f"  {score:5.1f}  {message[:90]}")
    assert gulpease("Il bando è aperto.") > 80
    below = [(round(s), m) for s, m in scored if s < 45]
    assert below == [], "messages too hard to read (Gulpease < 45): rewrite them in short sentences"
    # Official names and titles are the only ones allowed under 60.
    assert sum(1 for s, _ in scored if s >= 60) >= 0.98 * len(scored)
