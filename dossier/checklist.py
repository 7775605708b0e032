"""The checklist: the documents this family's application needs, from the engine's verdict.

The notice says which documents (with its article); this module adds what a person needs
to know to send them from a phone: a short name, how many pages to expect (an ID card
has a front and a back), and whether a digitally signed file is taken as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.i18n import N_

SENDABLE = ("pec", "email")
CAD_ART_65 = "D.lgs. 82/2005 (CAD) art. 65 c. 1 lett. c"

# Short names, for buttons and "Carta d'identità del beneficiario: 2 pagine ✓".
SHORT = {
    "application_form": N_("Domanda firmata"),
    "bank_account_declaration": N_("Dichiarazione del conto corrente"),
    "id_card_applicant": N_("Carta d'identità di chi firma"),
    "id_card_beneficiary": N_("Carta d'identità del beneficiario"),
    "verbale_accompagnamento": N_("Verbale dell'accompagnamento"),
    "verbale_invalidita": N_("Verbale di invalidità"),
    "verbale_l104": N_("Verbale L. 104"),
    "verbale_frequenza": N_("Verbale di frequenza"),
    "l104_application_receipt": N_("Ricevuta della domanda L. 104"),
    "isee_attestation": N_("Attestazione ISEE"),
    "dsu_receipt": N_("Ricevuta della DSU"),
    "caf_appointment": N_("Appuntamento al CAF"),
    "employment_contract": N_("Contratto dell'assistente"),
    "payslip": N_("Busta paga dell'assistente"),
    "contributions_receipt": N_("Ricevuta dei contributi INPS"),
    "residence_permit": N_("Permesso di soggiorno"),
    "legal_representative_appointment": N_("Nomina del tutore o amministratore"),
    "medical_records": N_("Documentazione sanitaria"),
    "caregiver_self_declaration": N_("Autodichiarazione del caregiver"),
    "quote": N_("Preventivo"),
}


def can_prepare(verdict: dict[str, Any]) -> bool:
    """A dossier makes sense: an open notice and at least one measure within reach, with
    nothing to do before applying (an ISEE not asked for yet: a CAF appointment first)."""
    notice = verdict.get("notice") or {}
    return notice.get("status") == "open" and any(
        m["verdict"] in ("eligible", "conditional")
        and not any(r.get("before_applying") for r in m["reasons"])
        for m in verdict.get("measures", [])
    )


def can_send(verdict: dict[str, Any]) -> bool:
    """We can deliver it ourselves: the notice takes applications by PEC or e-mail."""
    sub = verdict.get("submission") or {}
    return can_prepare(verdict) and sub.get("channel") in SENDABLE and bool(sub.get("address"))


TWO_SIDED = {"id_card_applicant", "id_card_beneficiary", "residence_permit"}


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    title: str  # short name (Italian msgid)
    text: str  # the notice's sentence (Italian)
    source: str
    required: bool
    pages: int | None  # pages expected (front and back), None when any number will do
    signed_form: bool = False  # the application itself: signed on paper or digitally
    annex: str | None = None  # the notice's own form for it ("All. E – ...")
    # Our form carries it: "form" (the istanza, every declaration the notice asks) or
    # "bank_details" (a page of the form declares the account): nothing to upload.
    filled_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "source": self.source,
            "required": self.required,
            "pages": self.pages,
            "signed_form": self.signed_form,
            "annex": self.annex,
            "filled_by": self.filled_by,
        }

    @property
    def in_form(self) -> bool:
        """A page of our form stands for it (not the signed form itself)."""
        return bool(self.filled_by) and not self.signed_form

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChecklistItem:
        return cls(**data)


def build_checklist(
    verdict: dict[str, Any], *, applicant_is_beneficiary: bool
) -> list[ChecklistItem]:
    """The documents of this case, the signed application first.

    An application sent by e-mail and signed by hand is valid with a copy of the signer's
    ID (CAD art. 65): that item is added when the notice does not list it already.
    """
    documents = list(verdict.get("documents") or [])
    ids = {d["id"] for d in documents}
    items: list[ChecklistItem] = []
    form = next((d for d in documents if d["id"] == "application_form"), None)
    items.append(
        ChecklistItem(
            id="application_form",
            title=SHORT["application_form"],
            text=form["text"] if form else N_("La domanda compilata e firmata."),
            source=form["source"] if form else CAD_ART_65,
            required=True,
            pages=None,
            signed_form=True,
            annex=form.get("annex") if form else None,
            filled_by=form.get("filled_by") if form else None,
        )
    )
    if "id_card_applicant" not in ids:
        documents.insert(
            0,
            {
                "id": "id_card_applicant",
                "text": N_("Carta d'identità di chi firma la domanda."),
                "required": True,
                "source": CAD_ART_65,
            },
        )
    for d in documents:
        if d["id"] == "application_form":
            continue
        if d["id"] == "id_card_beneficiary" and applicant_is_beneficiary:
            continue  # one card: the person signs for themselves
        items.append(
            ChecklistItem(
                id=d["id"],
                title=SHORT.get(d["id"], d["text"]),
                text=d["text"],
                source=d.get("source") or "",
                required=bool(d.get("required", True)),
                pages=2 if d["id"] in TWO_SIDED else None,
                annex=d.get("annex"),
                filled_by=d.get("filled_by"),
            )
        )
    return items


@dataclass(frozen=True)
class ItemStatus:
    item: ChecklistItem
    files: int
    pages: int
    signed: bool
    # the same document as another item's (one INPS verbale covers two): its id
    same_as: str | None = None
    # The signed form's pages here, by number (one file each), and those whose signature
    # box showed no ink: until they are sent again signed, the form is not done.
    form_pages: tuple[int, ...] = ()
    unsigned: tuple[int, ...] = ()
    # The file filed last under this item itself (its last page): what "🗑 Togli l'ultima
    # pagina" takes away, named in the button so an old button cannot take a newer page.
    last: int | None = None
    last_digest: str = ""  # the start of its SHA-256: a row id is reused after a delete

    @property
    def done(self) -> bool:
        if self.item.in_form:
            return True  # a page of the form we make: signed with it
        if self.files == 0:
            return False
        if self.signed:
            return True
        if self.unsigned:
            return False
        return self.item.pages is None or self.pages >= self.item.pages

    @property
    def pages_left(self) -> list[int]:
        """The signed form's page numbers not here yet."""
        return [p for p in range(1, (self.item.pages or 0) + 1) if p not in self.form_pages]

    @property
    def pages_missing(self) -> int:
        if self.item.pages is None or self.signed:
            return 0
        return max(self.item.pages - self.pages, 0)


def status(
    items: list[ChecklistItem],
    attachments: list[dict[str, Any]],
    same_as: Mapping[str, str] | None = None,
) -> list[ItemStatus]:
    """Each item with what has been filed under it; an item the family said is the same
    document as another (`same_as`: item id -> the item its file is filed under) counts
    that item's files too (kept and sent once)."""
    same_as = same_as or {}
    out = []
    for item in items:
        target = same_as.get(item.id)
        mine = [a for a in attachments if a["item_id"] in (item.id, target)]
        numbered = [a for a in mine if a.get("form_page")]
        own = [a for a in mine if a["item_id"] == item.id and a.get("id") is not None]
        last = max(own, key=lambda a: (a.get("seq") or 0, a["id"])) if own else None
        out.append(
            ItemStatus(
                item=item,
                files=len(mine),
                pages=sum(int(a["pages"] or 1) for a in mine),
                signed=any(a["signed"] for a in mine),
                same_as=target,
                form_pages=tuple(sorted({int(a["form_page"]) for a in numbered})),
                unsigned=tuple(sorted(int(a["form_page"]) for a in numbered if a.get("ink") == 0)),
                last=None if last is None else int(last["id"]),
                last_digest=str(last.get("sha256") or "")[:12] if last else "",
            )
        )
    return out


def missing(statuses: list[ItemStatus], *, include_form: bool = False) -> list[ItemStatus]:
    """Required items not complete yet (the signed form only when asked: it comes last)."""
    return [
        s
        for s in statuses
        if s.item.required and not s.done and (include_form or not s.item.signed_form)
    ]
