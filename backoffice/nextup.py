"""Working through dossiers one after another: the position the graduatoria computes for
a dossier (proposed, and checked, when its outcome is "in graduatoria"), and the next
dossier to open, in the order of the page she came from (the graduatoria, or the list
with its filters)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from storage import worklist
from storage.dossiers import beneficiary_names as names
from storage.dossiers import get_dossier
from storage.staff import Session

from .deps import Services
from .filters import query_of
from .ranking import notice, table


def computed_position(svc: Services, session: Session, dossier: dict[str, Any]) -> dict | None:
    """The dossier's place in the graduatoria she sees (her comuni; every comune for an
    admin): {"position": n or None, "missing": [...], "scope": "..."}; None when its
    notice ranks nobody."""
    found = notice(svc, dossier["notice_id"])
    if found is None or found.ranking is None:
        return None
    t = table(svc, found, session.staff)
    row = next((r for r in t.rows if r["id"] == dossier["id"]), None)
    scope = (
        "tutti i Comuni dell'avviso"
        if t.comuni is None
        else "Comuni " + ", ".join(sorted(t.comuni))
        if len(t.comuni) > 1
        else "Comune di " + t.comuni[0]
    )
    return {
        "position": row["position"] if row else None,
        "note": row["note"] if row else "",
        "scope": scope,
    }


def _after(order: list[str], current: str) -> str | None:
    if current in order:
        later = order[order.index(current) + 1 :]
        return later[0] if later else None
    return order[0] if order else None  # she left the list (an outcome): its top is next


def next_dossier(
    svc: Services, session: Session, dossier: dict[str, Any], back: str
) -> dict[str, str] | None:
    """{"url", "label"} of the dossier after this one on the page `back` (the graduatoria:
    the next row without an outcome; the list: the next row with the same filters)."""
    parts = urlsplit(back)
    current = dossier["id"]
    segments = parts.path.strip("/").split("/")
    if len(segments) == 3 and segments[0] == "avvisi" and segments[2] == "graduatoria":
        found = notice(svc, segments[1])
        if found is None or found.ranking is None:
            return None
        rows = table(svc, found, session.staff).rows
        order = [
            r["id"]
            for r in rows
            if r["link"] and (r["id"] == current or not (r["outcome"] or r["excluded"]))
        ]
    elif parts.path == "/pratiche":
        _filters, q = query_of(svc, session, dict(parse_qsl(parts.query)))
        order = worklist.ids(svc.db, q)
    else:
        return None
    chosen = _after(order, current)
    if chosen is None or chosen == current:
        return None
    found_dossier = get_dossier(svc.db, chosen)
    family, given = names(found_dossier["data"]) if found_dossier else ("", "")
    return {
        "url": f"/pratiche/{chosen}?" + urlencode({"da": back}),
        "label": f"{family} {given} ({chosen})".strip(),
    }
