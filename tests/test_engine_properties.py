"""Properties that hold for any facts: no crash, and more facts never undo a verdict."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import FACTS, check, load_catalogue, validate
from eligibility.facts import ISEE_KINDS, ISEE_STATUSES, Fact, Facts
from eligibility.reach import asking, facts_still_asked

CATALOGUE = load_catalogue()
COMUNI = [*CATALOGUE.municipality_names(), "Bergamo", "Rozano", "PIEVE EMANUELE", "cassano d adda"]
VERDICTS = {"eligible", "conditional", "not_eligible", "undetermined"}
OPTIONAL_KEYS = [f.key for f in FACTS if f.key not in ("municipality", "application_date")]


def value_of(fact: Fact) -> st.SearchStrategy[Any]:
    if fact.kind == "bool":
        return st.booleans()
    if fact.kind == "choice":
        return st.sampled_from(fact.options)
    if fact.kind == "multi":
        return st.frozensets(st.sampled_from(fact.options))
    if fact.kind == "number":
        return st.floats(min_value=fact.minimum, max_value=fact.maximum, allow_nan=False)
    if fact.kind == "integer":
        return st.integers(min_value=int(fact.minimum), max_value=int(fact.maximum))
    if fact.kind == "date":
        return st.dates(min_value=dt.date(1905, 1, 1), max_value=dt.date(2020, 12, 31))
    if fact.kind == "isee":
        return st.one_of(
            st.builds(
                lambda k, v: {"kind": k, "value": round(v, 2)},
                st.sampled_from(ISEE_KINDS),
                st.floats(min_value=0, max_value=60000, allow_nan=False),
            ),
            st.builds(lambda s: {"status": s}, st.sampled_from(ISEE_STATUSES)),
        )
    raise AssertionError(fact.kind)


VALUES = {f.key: value_of(f) for f in FACTS if f.key in OPTIONAL_KEYS}


@st.composite
def partial_facts(draw) -> Facts:
    values: dict[str, Any] = {
        "municipality": draw(st.sampled_from(COMUNI)),
        "application_date": draw(
            st.dates(min_value=dt.date(2021, 1, 1), max_value=dt.date(2027, 1, 1))
        ),
    }
    for key in draw(st.lists(st.sampled_from(OPTIONAL_KEYS), unique=True)):
        values[key] = draw(VALUES[key])
    return Facts(values)


def verdicts(facts: Facts) -> dict[str, str]:
    return {m["measure"]: m["verdict"] for m in check(facts, CATALOGUE)["measures"]}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_facts())
def test_random_facts_never_crash_and_keep_the_contract_shape(facts):
    doc = check(facts, CATALOGUE)
    assert set(doc) >= {
        "notice",
        "measures",
        "incompatible",
        "compatible",
        "documents",
        "submission",
    }
    for m in doc["measures"]:
        assert m["verdict"] in VERDICTS
        assert bool(m["missing"]) == (m["verdict"] == "undetermined")
        if m["verdict"] == "not_eligible":
            assert any(r["outcome"] == "failed" for r in m["reasons"])
        if m["verdict"] == "conditional":
            assert m["pending"]
        for r in m["reasons"]:
            assert r["text"] and "{" not in r["text"], r
    # The JSON the command line prints goes back through the contract validator.
    assert validate(facts.to_json()).values.keys() == facts.values.keys()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_facts(), st.data())
def test_adding_a_fact_never_undoes_a_settled_verdict(facts, data):
    before = verdicts(facts)
    unknown = [k for k in OPTIONAL_KEYS if not facts.known(k)]
    if not unknown or not before:
        return
    key = data.draw(st.sampled_from(unknown))
    after = verdicts(facts.with_fact(key, data.draw(VALUES[key])))
    for measure, verdict in before.items():
        if verdict == "not_eligible":
            assert after[measure] == "not_eligible", (measure, key)
        if verdict == "eligible":
            assert after[measure] == "eligible", (measure, key)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_facts(), st.data())
def test_answering_every_missing_fact_settles_the_verdict(facts, data):
    """Ask what `missing` says, again and again: the questionnaire always ends."""
    for _ in range(len(FACTS)):
        doc = check(facts, CATALOGUE)
        if not doc.get("missing"):
            break
        key = doc["missing"][0]
        assert not facts.known(key), f"{key} asked again"
        facts = facts.with_fact(key, data.draw(VALUES[key]))
    assert not check(facts, CATALOGUE).get("missing")


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_facts())
def test_the_questionnaire_asks_what_the_verdict_is_missing(facts):
    """While the questions go on the dialog asks `asking`, not the whole verdict: it
    names the same missing facts, in the same order, and the same notice."""
    doc = check(facts, CATALOGUE)
    found = asking(facts, CATALOGUE)
    assert list(found.missing) == doc["missing"]
    assert (found.notice.id if found.notice else None) == (doc["notice"] or {}).get("id")
    if found.notice is not None:
        assert found.still_asked == facts_still_asked(found.notice, facts, doc)
