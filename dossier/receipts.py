"""What a PEC receipt means for the outbox and the dossier (the queries are
`storage.receipts`).

Each message (outbox row) is delivered once it has an avvenuta-consegna; otherwise the
latest of its acceptance and error receipts decides whether it is accepted or failed (an
error read late but dated before an acceptance does not undo it; the same message sent
again after a refusal can still be accepted). An acceptance or a delivery also settles an
outbox row left `sending` or `uncertain` as `sent`.

The dossier then moves, forward only (receipts arrive in any order), on all its parts (a
dossier over the size budget travels as several messages):

- consegnata when every part is delivered;
- errore when a part failed (non-accettazione, errore-consegna,
  preavviso-errore-consegna, rilevazione-virus) and was not delivered;
- accettata when every part is accepted or delivered;
- presa-in-carico changes nothing.

Recording the same receipt again changes nothing, so reading a mailbox twice (or two
processes reading it) is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlite_utils import Database

from common.clock import parse_iso
from storage import receipts as store
from storage.blobs import BlobStore
from storage.db import immediate
from storage.dossiers import set_status

from .pec import ACCETTAZIONE, AVVENUTA_CONSEGNA, ERROR_KINDS, Receipt, normalize_message_id

log = logging.getLogger(__name__)

NONE, FAILED, ACCEPTED, DELIVERED = 0, 1, 2, 3  # a part's state, best last


def record_receipt(db: Database, blobs: BlobStore, raw: bytes, receipt: Receipt) -> str | None:
    """Keep `receipt` (its bytes `raw` as proof) and apply it to the outbox and dossier.

    Returns the dossier it belongs to, or None when it refers to no message of ours.
    Idempotent: the same receipt twice is kept once and moves nothing the second time.
    """
    ident = normalize_message_id(receipt.refers_to)
    if ident and store.outbox_message(db, ident) is None and store.was_erased(db, ident):
        log.info("PEC receipt %s for an application erased since: dropped", receipt.kind)
        return None
    sha256 = blobs.put(raw)  # content-addressed: writing the same bytes again is a no-op
    key = receipt.message_id or f"sha256:{sha256}"
    with immediate(db):
        row = store.outbox_message(db, ident) if ident else None
        dossier_id = row["dossier_id"] if row else None
        store.keep(
            db,
            key,
            dossier_id,
            {
                "refers_to": row["message_id"] if row else receipt.refers_to,
                "kind": receipt.kind,
                "at": receipt.at.isoformat() if receipt.at else None,
                "recipient": receipt.recipient,
                "error": receipt.error,
                "blob": sha256,
            },
        )
        if row is None:
            log.info("PEC receipt %s matches no message of ours: kept unmatched", receipt.kind)
            return None
        if receipt.kind in (ACCETTAZIONE, AVVENUTA_CONSEGNA):
            store.settle_sent(db, row["id"], receipt.at.isoformat() if receipt.at else None)
        changed = _apply_to_dossier(db, row, receipt)
    log.info(
        "PEC receipt %s for dossier %s%s",
        receipt.kind,
        dossier_id,
        " (status changed)" if changed else "",
    )
    return dossier_id


def _moment(row: dict[str, Any]) -> dt.datetime:
    """When a receipt happened: the provider's time, else when we received it."""
    for text in (row.get("at"), row.get("created_at")):
        if not text:
            continue
        try:
            return parse_iso(text)
        except ValueError:
            continue
    return dt.datetime.min.replace(tzinfo=dt.UTC)


def _latest(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest receipt of `rows` (by time, then by arrival)."""
    return max(rows, key=lambda r: (_moment(r), r["id"]), default=None)


def _message_state(receipts: list[dict[str, Any]]) -> int:
    """One message: delivered once any delivery came; else its latest acceptance or error
    decides (the same message sent again after a refusal can still be accepted)."""
    if any(r["kind"] == AVVENUTA_CONSEGNA for r in receipts):
        return DELIVERED
    latest = _latest([r for r in receipts if r["kind"] == ACCETTAZIONE or r["kind"] in ERROR_KINDS])
    if latest is None:
        return NONE
    return FAILED if latest["kind"] in ERROR_KINDS else ACCEPTED


def _apply_to_dossier(db: Database, row: dict[str, Any], receipt: Receipt) -> bool:
    """Move the dossier as far as the receipts of all its parts allow. True if it moved."""
    dossier_id = row["dossier_id"]
    parts = row["parts"] or 1
    by_message: dict[int, list[dict[str, Any]]] = {}
    part_of: dict[int, int] = {}
    for r in store.of_parts(db, dossier_id, parts):
        part_of[r["outbox_id"]] = r["part"]
        by_message.setdefault(r["outbox_id"], [])
        if r["kind"] is not None:
            by_message[r["outbox_id"]].append(r)

    state = dict.fromkeys(range(1, parts + 1), NONE)
    errors: dict[int, list[dict[str, Any]]] = {}  # part → error receipts of failed messages
    for outbox_id, receipts in by_message.items():
        part = part_of[outbox_id]
        message = _message_state(receipts)
        if part in state:
            state[part] = max(state[part], message)
        if message == FAILED:
            errors.setdefault(part, []).extend(r for r in receipts if r["kind"] in ERROR_KINDS)
    flat = [r for receipts in by_message.values() for r in receipts]

    if all(s == DELIVERED for s in state.values()):
        latest = _latest([r for r in flat if r["kind"] == AVVENUTA_CONSEGNA])
        at = latest["at"] if latest else None
        detail = {
            "recipient": latest["recipient"] if latest else receipt.recipient,
            "at": at,
            "provider": receipt.provider if receipt.kind == AVVENUTA_CONSEGNA else None,
        }
        return set_status(db, dossier_id, "consegnata", detail, at=at, forward_only=True)
    if any(s == FAILED for s in state.values()):
        latest = _latest([r for p, s in state.items() if s == FAILED for r in errors.get(p, [])])
        detail = {"kind": latest["kind"], "error": latest["error"]} if latest else {}
        at = latest["at"] if latest else None
        return set_status(db, dossier_id, "errore", detail, at=at, forward_only=True)
    if all(s >= ACCEPTED for s in state.values()):
        latest = _latest([r for r in flat if r["kind"] == ACCETTAZIONE])
        at = latest["at"] if latest else None
        detail = {
            "at": at,
            "provider": receipt.provider if receipt.kind == ACCETTAZIONE else None,
        }
        return set_status(db, dossier_id, "accettata", detail, at=at, forward_only=True)
    return False
