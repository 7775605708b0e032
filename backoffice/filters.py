"""The list's filters, read from its address and checked against what exists, the query
they make (`storage.worklist.Query`), and the list's address with them kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from storage import worklist
from storage.staff import Session

from .deps import Services, today
from .labels import STATUS_LABELS

SORT_LABELS = {
    "arrivo": "Arrivo",
    "nome": "Beneficiario",
    "comune": "Comune",
    "stato": "Stato",
    "protocollo": "Protocollo",
    "pratica": "Pratica",
}
KEPT = ("vista", "stato", "avviso", "comune", "cerca", "mie", "ordina", "verso")


def filters_of(
    q: Mapping[str, str], staff_comuni: tuple[str, ...], notices: list[str]
) -> dict[str, str]:
    """The list's filters from the address, each checked against what exists."""
    wanted = q.get("cerca") or q.get("cognome") or ""
    return {
        "vista": "tutte" if q.get("vista") == "tutte" else "da-fare",
        "stato": q.get("stato", "") if q.get("stato") in STATUS_LABELS else "",
        "avviso": q.get("avviso", "") if q.get("avviso") in notices else "",
        "comune": q.get("comune", "") if q.get("comune") in staff_comuni else "",
        "cerca": wanted.strip()[:100],
        "mie": "1" if q.get("mie") == "1" else "",
        "ordina": q.get("ordina", "") if q.get("ordina") in SORT_LABELS else "",
        "verso": "desc" if q.get("verso") == "desc" else "",
    }


def list_url(filters: dict[str, str], **changes: Any) -> str:
    values = {**filters, **changes}
    kept = {k: values[k] for k in KEPT if values.get(k)}
    if kept.get("vista") == "da-fare":
        kept.pop("vista")
    if "pagina" in changes and changes["pagina"] and changes["pagina"] != 1:
        kept["pagina"] = changes["pagina"]
    return "/pratiche" + ("?" + urlencode(kept) if kept else "")


def query_of(
    svc: Services, session: Session, query: Mapping[str, str], notice_ids: list[str] | None = None
) -> tuple[dict[str, str], worklist.Query]:
    """The list's filters from the address, and the query they make. A search looks in
    every dossier of her comuni, whatever the view: a name or a code is typed to find that
    dossier, and "Da fare" would hide one with an outcome."""
    comuni = tuple(session.staff.comuni)
    if notice_ids is None:
        notice_ids = worklist.notices_of(svc.db, comuni)
    filters = filters_of(query, comuni, notice_ids)
    return filters, worklist.Query(
        comuni=comuni,
        today=today(svc),
        todo=filters["vista"] == "da-fare" and not filters["cerca"],
        status=filters["stato"],
        notice=filters["avviso"],
        municipality=filters["comune"],
        text=filters["cerca"],
        assigned_to=session.staff.id if filters["mie"] else None,
        sort=filters["ordina"] or "arrivo",
        descending=filters["verso"] == "desc",
    )
