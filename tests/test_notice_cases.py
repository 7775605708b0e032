"""Each notice's cases file (beside the notice) is run against the engine.

A cases file is data, like the notice: `notice` (its id), an optional `base` of facts,
and `cases`, each with a `name`, the `seed` line it proves, `facts` laid over `base`,
and `expect` (see tests/expectations.py).
"""

from __future__ import annotations

import pytest
import yaml

from eligibility import check, load_catalogue, validate
from eligibility.cases import case_files, load_cases
from eligibility.expectations import mismatches

CASE_FILES = case_files()


def _cases():
    for path in CASE_FILES:
        data, cases = load_cases(path)
        for case, raw in cases:
            yield pytest.param(data, case, raw, id=f"{data['notice']}: {case['name']}")


def test_every_notice_has_at_least_15_cases():
    catalogue = load_catalogue()
    counts = {}
    for path in CASE_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.name == f"{data['notice']}.cases.yaml"
        counts[data["notice"]] = len(data["cases"])
    for notice in catalogue.notices:
        assert counts.get(notice.id, 0) >= 15, f"{notice.id} has {counts.get(notice.id, 0)} cases"


@pytest.mark.parametrize(("data", "case", "raw"), list(_cases()))
def test_notice_case(data, case, raw):
    facts = validate(raw)
    verdict = check(facts)
    if case["expect"].get("notice", "") is not None:
        assert verdict["notice"] is not None, "no notice matched"
        assert verdict["notice"]["id"] == data["notice"]
    assert mismatches(verdict, case["expect"]) == []
