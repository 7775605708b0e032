"""ZIP archives of dossiers: one dossier (its files as the comune received them, the
manifest, the PEC receipts), or several in one download, streamed: each dossier's ZIP is
built and sent before the next one is read, so memory holds one dossier at a time. The
download of several ends with `riepilogo-pratiche.csv`: one row per dossier with its
protocol, ISEE, scales and points, integrations and outcome (the team's internal notes are
not in it: they stay in the back-office)."""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from collections.abc import AsyncIterator

from dossier import bounded
from dossier.assemble import MANIFEST_NAME, assemble
from dossier.desk import Desk
from dossier.record import record_of
from storage import dossiers as store
from storage import integrations, outcomes, receipts
from storage.blobs import BlobError

from . import formatting
from .deps import Services
from .exports import csv_bytes
from .labels import OUTCOME_NAMES, STATUS_LABELS, ZIP_BUDGET
from .ranking import ISEE_KINDS, dossier_points

SUMMARY_NAME = "riepilogo-pratiche.csv"
SUMMARY_HEADERS = [
    "Pratica", "Cognome", "Nome", "Codice fiscale", "Comune", "Avviso", "Stato", "Arrivo",
    "Protocollo", "Data protocollo", "Tipo ISEE", "Valore ISEE", "ADL (valore)",
    "IADL (valore)", "CBI (valore)", "Punti totali", "Integrazioni chieste", "Esito",
    "Posizione", "Motivo dell'esclusione", "Nel file ZIP",
]  # fmt: skip

log = logging.getLogger(__name__)


def zip_bytes(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files:
            packed = name.endswith((".pdf", ".p7m", ".zip"))  # already compressed
            z.writestr(name, data, zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED)
    return out.getvalue()


async def dossier_zip(svc: Services, dossier_id: str) -> tuple[bytes, int, int]:
    """The dossier's ZIP, with how many files and receipts it holds. Raises BlobError
    when a stored file is missing or does not decrypt, bounded.Overrun when putting it
    together goes over its time or memory."""
    now = svc.clock()
    inputs = Desk(svc.db, svc.blobs, svc.catalogue).assembly_inputs(
        dossier_id, now, svc.settings.sportello_message_budget_mb
    )
    eml = [
        (f"ricevute-pec/{n:02d}-{r['kind']}.eml", svc.blobs.get(r["blob"]))
        for n, r in enumerate(receipts.receipts_of(svc.db, dossier_id), start=1)
        if r["blob"]
    ]
    inputs["budget"] = ZIP_BUDGET
    # in a bounded process (dossier.bounded): time, memory, two at once
    built = await bounded.run_async(assemble, seconds=bounded.ASSEMBLY_SECONDS, **inputs)
    files = [(f.name, f.data) for f in built.files]
    files.append((MANIFEST_NAME, built.manifest.data))
    files += eml
    return await asyncio.to_thread(zip_bytes, files), len(built.files), len(eml)


class _Sink:
    """Where the outer ZIP writes: chunks taken away as soon as they are written (not
    seekable, so zipfile writes each entry's sizes after its data)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def summary_row(svc: Services, dossier_id: str, packed: bool) -> list[object]:
    """A dossier's line of the summary (what the office's spreadsheet has), without the
    team's internal notes."""
    dossier = store.get_dossier(svc.db, dossier_id)
    if dossier is None:
        return [dossier_id, *[""] * (len(SUMMARY_HEADERS) - 2), "no"]
    record = record_of(dossier)
    family, given = store.beneficiary_names(dossier["data"])
    scales = outcomes.assessment(svc.db, dossier_id) or {}
    points = dossier_points(svc, dossier)
    isee = record.answers.isee_value
    kind = record.answers.isee_kind
    outcome = dossier.get("outcome") or ""
    return [
        dossier_id,
        family,
        given,
        record.identity.beneficiary.tax_code or "",
        dossier["municipality"],
        record.notice.title or dossier["notice_id"],
        STATUS_LABELS.get(dossier["status"], dossier["status"]),
        formatting.moment(dossier.get("sent_at")) if dossier.get("sent_at") else "",
        dossier.get("protocol_number") or "",
        formatting.day(dossier.get("protocol_date")) if dossier.get("protocol_date") else "",
        ISEE_KINDS.get(kind, kind),
        isee if isee is not None else "",
        scales.get("adl"),
        scales.get("iadl"),
        scales.get("cbi"),
        points["total"] if points else None,
        len(integrations.requests_of(svc.db, dossier_id)),
        OUTCOME_NAMES.get(outcome, ""),
        dossier.get("outcome_position"),
        dossier.get("outcome_reason") if outcome == "esclusa" else "",
        "sì" if packed else "no",
    ]


async def stream_archive(svc: Services, dossier_ids: list[str]) -> AsyncIterator[bytes]:
    """One ZIP holding `pratica-<id>.zip` for each dossier, streamed dossier by dossier,
    then the summary (`riepilogo-pratiche.csv`). A dossier whose files cannot be read gets
    a text file saying so instead."""
    sink = _Sink()
    outer = zipfile.ZipFile(sink, "w")
    summary: list[list[object]] = []
    for dossier_id in dossier_ids:
        try:
            inner, _files, _receipts = await dossier_zip(svc, dossier_id)
        except (BlobError, bounded.Overrun):
            log.error(
                "a file of dossier %s is missing, does not decrypt or weighs too much", dossier_id
            )
            outer.writestr(
                f"pratica-{dossier_id}-NON-DISPONIBILE.txt",
                "Un file di questa pratica non si legge: scaricatela dalla sua pagina o "
                "avvisate l'operatore dello sportello.\n",
            )
            summary.append(summary_row(svc, dossier_id, False))
        else:
            outer.writestr(f"pratica-{dossier_id}.zip", inner, zipfile.ZIP_STORED)
            summary.append(summary_row(svc, dossier_id, True))
        yield sink.take()
    outer.writestr(SUMMARY_NAME, csv_bytes(SUMMARY_HEADERS, summary))
    outer.close()
    yield sink.take()
