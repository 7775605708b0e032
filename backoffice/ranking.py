"""The graduatoria of a notice, as the back-office shows and exports it: one row per
dossier that reached the comune, with protocol, names, ISEE, the points of each of the
notice's tables (ISEE computed from the family's answers; ADL, IADL and CBI from the home
assessment the social worker enters), total, tie-breaks and outcome.

Who sees what: a social worker sees the dossiers of their comuni; an admin (the Ufficio di
Piano of the Ambito) sees every comune of the notice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from dossier.record import record_of
from eligibility.ranking import Candidate, Ranked, points_of, rank, scale
from eligibility.schema import Notice, Ranking
from storage import dossiers as store
from storage import outcomes, worklist
from storage.staff import Staff

from . import formatting
from .deps import Services, checked_on
from .labels import COMPONENT_NAMES, ENTRY_HINTS, OUTCOME_NAMES

ISEE_KINDS = {
    "ordinario": "ordinario",
    "sociosanitario": "socio-sanitario",
    "ristretto": "socio-sanitario ristretto",
    "minorenni": "per minorenni",
}


def notice(svc: Services, notice_id: str) -> Notice | None:
    return next((n for n in svc.catalogue.notices if n.id == notice_id), None)


def _arrival(dossier: dict[str, Any]) -> dt.datetime:
    text = dossier.get("sent_at") or dossier["created_at"]
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def candidate(
    svc: Services, dossier: dict[str, Any], assessment: dict[str, Any] | None
) -> Candidate:
    facts = record_of(dossier).answers.facts_on(checked_on(svc, dossier))
    assessment = assessment or {}
    if assessment.get("adl") is not None:
        facts = facts.with_fact("assessment.adl_functions_kept", int(assessment["adl"]))
    if assessment.get("iadl") is not None:
        facts = facts.with_fact("assessment.iadl_functions_kept", int(assessment["iadl"]))
    cbi = assessment.get("cbi")
    return Candidate(
        id=dossier["id"],
        facts=facts,
        arrival=_arrival(dossier),
        cbi=None if cbi is None else float(cbi),
    )


def entry_fields(ranking: Ranking) -> list[dict[str, Any]]:
    """The components the social worker types, with the notice's scale."""
    out = []
    for name, comp in ranking.components.items():
        if name not in ENTRY_HINTS:
            continue
        low, high = scale(comp, name)
        out.append(
            {
                "name": name,
                "label": f"{ENTRY_HINTS[name]} (da {low:g} a {high:g})",
                "short": COMPONENT_NAMES[name],
                "min": low,
                "max": high,
                "text": comp.text,
                "integer": name != "cbi",
            }
        )
    return out


def dossier_points(svc: Services, dossier: dict[str, Any]) -> dict[str, Any] | None:
    """The dossier's points on its notice's tables, or None when the notice ranks nobody."""
    found = notice(svc, dossier["notice_id"])
    if found is None or found.ranking is None:
        return None
    ranked = points_of(
        found.ranking, candidate(svc, dossier, outcomes.assessment(svc.db, dossier["id"]))
    )
    return {
        "source": found.ranking.source,
        "fields": entry_fields(found.ranking),
        "components": [
            {
                "name": COMPONENT_NAMES[name],
                "points": ranked.points.get(name),
                "max": comp.max,
                "text": comp.text,
            }
            for name, comp in found.ranking.components.items()
        ],
        "total": ranked.total,
        "missing": [COMPONENT_NAMES[m] for m in ranked.missing],
    }


@dataclass
class Table:
    notice: Notice
    columns: list[str]  # component names, in the notice's order
    rows: list[dict[str, Any]]
    comuni: tuple[str, ...] | None  # None: every comune of the notice
    fields: list[dict[str, Any]] = dataclass_field(default_factory=list)  # typed scales


def visible_comuni(staff: Staff) -> tuple[str, ...] | None:
    return None if staff.is_admin else staff.comuni


def table(svc: Services, found: Notice, staff: Staff) -> Table:
    """The graduatoria as rows, in order: ranked first, then the incomplete, then the
    excluded."""
    assert found.ranking is not None
    comuni = visible_comuni(staff)
    dossiers = {d["id"]: d for d in worklist.of_notice(svc.db, found.id, comuni)}
    scores = outcomes.assessments(svc.db, list(dossiers))
    excluded = [d for d in dossiers.values() if d.get("outcome") == "esclusa"]
    ranked = rank(
        found.ranking,
        [
            candidate(svc, d, scores.get(i))
            for i, d in dossiers.items()
            if d.get("outcome") != "esclusa"
        ],
    )
    columns: list[str] = list(found.ranking.components)
    rows = [_row(dossiers[r.id], r, columns, staff, scores.get(r.id)) for r in ranked]
    for d in excluded:
        c = candidate(svc, d, scores.get(d["id"]))
        rows.append(_row(d, points_of(found.ranking, c), columns, staff, scores.get(d["id"])))
    return Table(
        notice=found,
        columns=columns,
        rows=rows,
        comuni=comuni,
        fields=entry_fields(found.ranking),
    )


def _row(
    dossier: dict[str, Any],
    r: Ranked,
    columns: list[str],
    staff: Staff,
    assessment: dict[str, Any] | None,
) -> dict[str, Any]:
    record = record_of(dossier)
    family, given = store.beneficiary_names(dossier["data"])
    kind = record.answers.isee_kind
    outcome = dossier.get("outcome") or ""
    if outcome == "esclusa":
        note = f"Esclusa: {dossier.get('outcome_reason') or ''}".strip(": ")
    elif r.missing:
        note = "Punteggio incompleto: manca " + ", ".join(COMPONENT_NAMES[m] for m in r.missing)
    else:
        note = r.tie or ""
    return {
        "id": dossier["id"],
        "link": staff.sees(dossier["municipality"]),
        "position": r.position if outcome != "esclusa" else None,
        "protocol_number": dossier.get("protocol_number") or "",
        "protocol_date": dossier.get("protocol_date") or "",
        "family_name": family,
        "given_name": given,
        "tax_code": record.identity.beneficiary.tax_code or "",
        "municipality": dossier["municipality"],
        "isee_kind": ISEE_KINDS.get(kind, kind),
        "isee_value": r.isee,
        "points": [r.points.get(c) for c in columns],
        "by_component": {c: r.points.get(c) for c in columns},
        # the values typed after the home visit (functions kept, CBI points)
        "scales": {k: (assessment or {}).get(k) for k in ENTRY_HINTS},
        "status": dossier["status"],
        "total": r.total,
        "arrival": r.arrival,
        "note": note,
        "outcome": OUTCOME_NAMES.get(outcome, ""),
        "excluded": outcome == "esclusa",
    }


HEADERS = [
    "Posizione",
    "Protocollo",
    "Data protocollo",
    "Cognome",
    "Nome",
    "Codice fiscale",
    "Comune",
    "Tipo ISEE",
    "Valore ISEE",
]


def sheet(t: Table) -> tuple[list[str], list[list[Any]]]:
    """The table for a spreadsheet: headers and plain values (numbers stay numbers, dates
    stay dates). For ADL, IADL and CBI the value typed after the home visit comes before
    its points."""
    typed = {f["name"] for f in t.fields}
    parts: list[str] = []
    for c in t.columns:
        if c in typed:
            parts.append(f"{COMPONENT_NAMES[c]} (valore)")
        parts.append(f"Punti {COMPONENT_NAMES[c]}")
    headers = [*HEADERS, *parts, "Totale", "Arrivo", "Parità e note", "Esito"]
    rows = []
    for r in t.rows:
        values: list[Any] = []
        for c in t.columns:
            if c in typed:
                values.append(r["scales"].get(c))
            values.append(r["by_component"].get(c))
        rows.append(
            [
                r["position"],
                r["protocol_number"],
                dt.date.fromisoformat(r["protocol_date"]) if r["protocol_date"] else None,
                r["family_name"],
                r["given_name"],
                r["tax_code"],
                r["municipality"],
                r["isee_kind"],
                r["isee_value"],
                *values,
                r["total"],
                formatting.local(r["arrival"]),
                r["note"],
                r["outcome"],
            ]
        )
    return headers, rows


def kinds_of(headers: list[str]) -> list[str]:
    """How each column's numbers are shown in a spreadsheet (`backoffice.exports`)."""
    return [
        "money"
        if h == "Valore ISEE"
        else "number"
        if h in ("Posizione", "Totale") or h.startswith("Punti ") or h.endswith("(valore)")
        else ""
        for h in headers
    ]
