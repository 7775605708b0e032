"""What the result says, from the engine's verdict on the contract's worked examples."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dialogs.render import render_result
from eligibility import check, load_catalogue, validate

EXAMPLES = Path(os.environ.get("SPORTELLO_SHARED", Path(__file__).parents[2] / "shared")) / (
    "contract/examples"
)


def result_of(example: str) -> str:
    facts = json.loads((EXAMPLES / example).read_text())["facts"]
    verdict = check(validate(facts), load_catalogue())
    return "\n\n".join(render_result(verdict, lambda s: s))


def test_a_family_with_nothing_to_apply_for_is_sent_to_the_social_services():
    text = result_of("rozzano-too-young.json")
    assert "❌" in text
    assert "Come fare domanda" not in text and "Documenti da preparare" not in text
    assert "I servizi sociali del Comune possono dirvi quali altri aiuti ci sono" in text


def test_a_measure_shows_the_notices_note_on_who_it_is_for():
    text = result_of("melzo-l104-pending.json")
    assert "ℹ️ Il buono compensa l'aiuto dato solo dal caregiver familiare" in text
    assert "(Strumento 1 e 2)" in text
    assert "Come fare domanda" in text
