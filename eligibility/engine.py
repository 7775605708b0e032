"""Facts in, verdict document out, as shared/contract/eligibility.md says.

Pure: the filing date is a fact, there is no clock, and the only files read are the
package's own notices (through `catalogue`).
"""

from __future__ import annotations

from typing import Any

from common.i18n import N_

from .catalogue import Catalogue, load_catalogue
from .declarations import declarations
from .facts import ORDER, Facts
from .labels import CURRENT_MEASURE_NAMES, PRE_CHECK
from .rules import Money, Result, _fmt, age, evaluate, guard
from .schema import CompatibilityEntry, Guidance, Measure, Notice, Programme, Submission
from .score import score
from .window import iso, status

Verdict = dict[str, Any]
_ORDER_LAST = len(ORDER)


def _ordered(keys: set[str] | list[str]) -> list[str]:
    return sorted(set(keys), key=lambda k: (ORDER.get(k, _ORDER_LAST), k))


def check(facts: Facts, catalogue: Catalogue | None = None) -> Verdict:
    """The verdict document for these facts."""
    catalogue = catalogue or load_catalogue()
    empty: Verdict = {
        "notice": None,
        "measures": [],
        "incompatible": [],
        "compatible": [],
        "documents": [],
        "submission": None,
        "pre_check": PRE_CHECK,
    }
    needed = [k for k in ("municipality", "application_date") if not facts.known(k)]
    if needed:
        return {**empty, "missing": needed}
    match = catalogue.find(facts.get("municipality"), facts.get("application_date"))
    found: dict[str, Any] = {"input": facts.get("municipality"), "matched": match.name}
    if match.comune is not None:
        found |= {
            "province": match.comune.province,
            "lombardy": match.comune.lombard,
            "code": match.comune.code,
        }
    if match.entry is None:
        if match.comune is None:
            return {
                **empty,
                "municipality": {**found, "suggestions": match.suggestions},
                "missing": [],
                "advice": N_(
                    "Non troviamo questo Comune. Controllate il nome, o chiedete ai servizi "
                    "sociali del vostro Comune."
                ),
            }
        if not match.comune.lombard:
            return {**empty, "municipality": found, "missing": [], "outside_lombardy": True}
        programme = catalogue.pre_check_programme
        regional = _regional(programme, facts) if programme else None
        return {
            **empty,
            "municipality": found,
            "regional": regional,
            "missing": regional["missing"] if regional else [],
        }
    if isinstance(match.entry, Guidance):
        return {**empty, "municipality": found, "missing": [], "guidance": _guidance(match.entry)}
    notice = match.entry
    return _notice_verdict(notice, catalogue.programmes[notice.programme], facts, found)


def _notice_verdict(
    notice: Notice, programme: Programme, facts: Facts, found: dict[str, Any]
) -> Verdict:
    when = facts.get("application_date")
    entries = _compatibility(notice, programme)
    current = facts.get("current_measures")
    offered = {m.id for m in notice.measures}
    compatible, incompatible, unknown = [], [], []
    for measure_id in sorted(current or ()):
        entry, source = entries.get(measure_id, (None, None))
        if entry is None:
            text = _fmt(
                "Il bando e la delibera regionale non dicono se la B2 si può avere con "
                "{name}. Chiedete ai servizi sociali.",
                name=CURRENT_MEASURE_NAMES[measure_id],
            )
            unknown.append({"measure": measure_id, "text": text, "source": None} | _i18n(text))
            continue
        item = {"measure": measure_id, "text": entry.text, "source": source}
        if entry.condition:
            item["condition"] = entry.condition
        if entry.only_measures:
            item["only_measures"] = list(entry.only_measures)
        # Compatible only with measures this notice does not offer: it excludes them all.
        excludes_all = bool(entry.only_measures) and not offered.intersection(entry.only_measures)
        if entry.outcome == "incompatible" or excludes_all:
            incompatible.append(item)
        else:
            compatible.append(item)

    measures = [_measure(notice, m, facts, entries) for m in notice.measures]
    open_measures = {m["measure"] for m in measures if m["verdict"] != "not_eligible"}
    missing = _ordered(
        [k for m in measures if m["verdict"] == "undetermined" for k in m["missing"]]
    )
    optional = _ordered(
        [k for m in measures if m["verdict"] != "not_eligible" for k in m["_optional"]]
    )
    for m in measures:
        del m["_optional"]
    verdict: Verdict = {
        "notice": {
            "id": notice.id,
            "title": notice.title,
            "ambito": notice.ambito,
            "status": status(notice.window, when),
            "opens": iso(notice.window.opens),
            "closes": iso(notice.window.closes, closing=True),
            "until_funds_run_out": notice.window.until_funds_run_out,
            "valid_until": iso(notice.window.valid_until),
            "window_text": notice.window.text,
            "window_reading": notice.window.reading,
            "source": notice.citation,
            "bundled": notice.bundled,
        }
        | ({"document": notice.document.model_dump(mode="json")} if notice.document else {}),
        "municipality": found,
        "measures": measures,
        "incompatible": incompatible,
        "compatible": compatible,
        "compatibility_unknown": unknown,
        "documents": _documents(notice, facts, open_measures),
        "submission": _submission(notice, found["matched"]),
        "contacts": [{"text": c.text, "source": c.source} for c in notice.contacts],
        "missing": missing,
        "optional": optional,
        # what the form declares, for the measures within reach (DPR 445/2000)
        "declarations": [
            d.as_dict()
            for d in declarations(
                notice,
                facts,
                [m["measure"] for m in measures if m["verdict"] in ("eligible", "conditional")],
                entries,
            )
        ],
        "pre_check": PRE_CHECK,
    }
    if notice.ranking is not None:
        verdict["score"] = score(notice.ranking, facts)
    return verdict


def _compatibility(
    notice: Notice, programme: Programme
) -> dict[str, tuple[CompatibilityEntry, str]]:
    """The programme's list, with the notice's own entries taking precedence."""
    if notice.compatibility is None and notice.compatibility_source:
        # The notice restates the programme's list word for word: cite the notice.
        return {e.measure: (e, notice.compatibility_source) for e in programme.compatibility}
    entries = {e.measure: (e, f"{programme.title}: {e.source}") for e in programme.compatibility}
    for e in notice.compatibility or []:
        entries[e.measure] = (e, e.source)
    return entries


def _compatibility_results(
    measure: Measure, facts: Facts, entries: dict[str, tuple[CompatibilityEntry, str]]
) -> list[Result]:
    if not facts.known("current_measures"):
        return [Result("compatibility", "missing", "", missing=("current_measures",))]
    results = []
    for measure_id in sorted(facts.get("current_measures")):
        name = CURRENT_MEASURE_NAMES[measure_id]
        entry, source = entries.get(measure_id, (None, ""))
        rule = f"incompatible_{measure_id}"
        if entry is None:
            text = _fmt(
                "Non sappiamo se questo aiuto si può avere con {name}. "
                "Lo verificano i servizi sociali.",
                name=name,
            )
            results.append(Result(rule, "ask", "", text, pending=text))
        elif entry.outcome == "incompatible" or (
            entry.only_measures and measure.id not in entry.only_measures
        ):
            results.append(
                Result(
                    rule,
                    "failed",
                    source,
                    _fmt(
                        "Ricevete già {name}: non si può avere insieme a questo aiuto. "
                        "Per chiedere la B2 potete scegliere di lasciare quell'aiuto.",
                        name=name,
                    ),
                )
            )
        elif entry.condition:
            results.append(Result(f"compatible_{measure_id}", "met", source, entry.condition))
    if not results:
        results.append(
            Result(
                "compatibility",
                "met",
                "",
                N_("Gli altri aiuti che dichiarate si possono avere insieme.")
                if facts.get("current_measures")
                else N_("Non ricevete altri aiuti che escludono questo."),
            )
        )
    return results


def _measure(
    notice: Notice,
    measure: Measure,
    facts: Facts,
    entries: dict[str, tuple[CompatibilityEntry, str]],
) -> dict[str, Any]:
    own = {r.id for r in measure.requirements}
    rules = [r for r in notice.common_requirements if r.id not in own] + list(measure.requirements)
    results = [evaluate(r, facts) for r in rules]
    results += _compatibility_results(measure, facts, entries)
    out: dict[str, Any] = {
        "measure": measure.id,
        "name": measure.name,
        **_decide(results),
        "_optional": [],
    }
    verdict = out["verdict"]
    if measure.amount is not None:
        out["amount"] = _amount(measure, facts, out["_optional"])
    if measure.notes and verdict != "not_eligible":
        out["notes"] = [{"text": n.text, "source": n.source} for n in measure.notes]
    return out


def _decide(results: list[Result]) -> dict[str, Any]:
    """The verdict from each rule's result, with the reasons shown, pending and missing."""
    by_status: dict[str, list[Result]] = {}
    for r in results:
        by_status.setdefault(r.status, []).append(r)
    if "failed" in by_status:
        verdict = "not_eligible"
    elif "missing" in by_status:
        verdict = "undetermined"
    elif "pending" in by_status or "ask" in by_status:
        verdict = "conditional"
    else:
        verdict = "eligible"
    shown = [r for s in ("failed", "pending", "ask", "met") for r in by_status.get(s, [])]
    open_ = [r for r in results if r.status in ("pending", "ask") and r.pending]
    if verdict == "not_eligible":
        open_ = []
    return {
        "verdict": verdict,
        "reasons": [
            {"rule": r.rule, "outcome": r.status, "text": r.text, "source": r.source}
            | _i18n(r.text)
            | ({"before_applying": True} if r.before_applying else {})
            for r in shown
        ],
        "pending_i18n": [_i18n(r.pending) or {"msgid": r.pending, "params": {}} for r in open_],
        "pending": [r.pending for r in open_],
        "missing": _ordered([k for r in by_status.get("missing", []) for k in r.missing])
        if verdict == "undetermined"
        else [],
    }


def _regional(programme: Programme, facts: Facts) -> dict[str, Any]:
    """The regional pre-check: the programme's own requirements, where no notice is on file.
    Each sentence is the regional rule; the Ambito's notice decides."""
    decided = _decide([evaluate(r, facts) for r in programme.requirements])
    return {
        "programme": programme.id,
        "title": programme.title,
        **decided,
        "notes": [{"text": n.text, "source": n.source} for n in programme.pre_check_notes],
    }


def _i18n(text: str) -> dict[str, Any]:
    """For a filled-in sentence, its template and values, so a front end can translate it."""
    template = getattr(text, "template", None)
    if template is None or template == text:
        return {}
    params = {
        k: {"eur": v.amount} if isinstance(v, Money) else str(v) for k, v in text.params.items()
    }
    return {"msgid": template, "params": params}


def _amount(measure: Measure, facts: Facts, optional: list[str]) -> dict[str, Any]:
    amount = measure.amount
    assert amount is not None
    result: dict[str, Any] = {
        "min": amount.min,
        "max": amount.max,
        "period": amount.period,
        "text": amount.text,
        "source": amount.source,
    }
    for adj in measure.adjustments:
        if not facts.known(adj.fact):
            optional.append(adj.fact)
            continue
        value = facts.get(adj.fact)
        for band in adj.bands:  # the first band that holds the value wins
            if band.min <= value <= band.max:
                result["factor"] = band.points
                result["adjustment"] = {"text": adj.text, "source": adj.source}
                break
    return result


def _documents(notice: Notice, facts: Facts, open_measures: set[str]) -> list[dict[str, Any]]:
    if not open_measures:
        return []
    docs: list[dict[str, Any]] = []
    for doc in notice.documents:
        if doc.measures and not open_measures.intersection(doc.measures):
            continue
        if any(d["id"] == doc.id for d in docs):
            continue  # a variant of a document already listed (the ISEE of another kind)
        passed, _ = guard(doc.when, facts)
        if passed:
            entry = {"id": doc.id, "text": doc.text, "required": doc.required, "source": doc.source}
            if doc.annex:
                entry["annex"] = doc.annex
            if doc.filled_by:
                entry["filled_by"] = doc.filled_by
            docs.append(entry)
    return docs


def _submission_dict(sub: Submission) -> dict[str, Any]:
    return {
        "channel": sub.channel,
        "address": sub.address,
        "addressee": sub.addressee,
        "text": sub.text,
        "source": sub.source,
        "alternatives": [_submission_dict(a) for a in sub.alternatives],
    } | ({"max_message_mb": sub.max_message_mb} if sub.max_message_mb else {})


def _submission(notice: Notice, municipality: str | None) -> dict[str, Any]:
    for m in notice.municipalities:
        if m.name == municipality and m.submission is not None:
            return _submission_dict(m.submission)
    return _submission_dict(notice.submission)


def _guidance(entry: Guidance) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "issuer": entry.issuer,
        "source": entry.source,
        "applies_to": entry.applies_to.model_dump(),
        "kinds": [k.model_dump() for k in entry.kinds],
        "steps": [s.model_dump() for s in entry.steps],
        "notes": [n.model_dump() for n in entry.notes],
    }


__all__ = ["age", "check"]
