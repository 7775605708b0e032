"""A dossier's own data, typed: what the family answered (`StoredAnswers`), who signs and
for whom (`Identity`), the notice and the measures the pre-check found within reach, and
the checklist. `DossierData.from_dict` reads the JSON the dossier row keeps
(`storage.dossiers`), `to_dict` writes it back as it was: the one crossing between the
two. The form, the e-mail, the back-office and the checks read these objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from storage.records import Identity

from .answers import StoredAnswers
from .checklist import ChecklistItem

_OWN = (
    *StoredAnswers().to_dict(),
    "facts",
    "lines",
    "identity",
    "notice",
    "submission",
    "measures",
    "documents",
    "declarations",
    "checklist",
)


@dataclass(frozen=True)
class NoticeRef:
    """The notice the dossier is for, as it was when the dossier was opened."""

    id: str
    title: str = ""
    ambito: str = ""
    source: str | None = None


@dataclass(frozen=True)
class ChosenMeasure:
    """A measure the pre-check found eligible or conditional: what the family asks for."""

    id: str
    name: str
    verdict: str


@dataclass(frozen=True)
class DossierData:
    answers: StoredAnswers
    identity: Identity
    notice: NoticeRef
    submission: Mapping[str, Any] = field(default_factory=dict)  # channel, address, ...
    measures: tuple[ChosenMeasure, ...] = ()
    documents: tuple[Mapping[str, Any], ...] = ()  # the engine's, for the checklist
    declarations: tuple[Mapping[str, Any], ...] = ()  # the engine's, for the form
    checklist: tuple[ChecklistItem, ...] = ()
    others: Mapping[str, Any] = field(default_factory=dict)  # form_sha256, form_reset, ...

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], notice_id: str = "") -> DossierData:
        notice = data.get("notice") or {}
        return cls(
            answers=StoredAnswers.from_dict(data),
            identity=Identity.from_dict(data.get("identity")),
            notice=NoticeRef(
                id=notice.get("id") or notice_id,
                title=notice.get("title") or "",
                ambito=notice.get("ambito") or "",
                source=notice.get("source"),
            ),
            submission=dict(data.get("submission") or {}),
            measures=tuple(
                ChosenMeasure(m["id"], m["name"], m["verdict"]) for m in data.get("measures") or []
            ),
            documents=tuple(data.get("documents") or ()),
            declarations=tuple(data.get("declarations") or ()),
            checklist=tuple(ChecklistItem.from_dict(i) for i in data.get("checklist") or []),
            others={k: v for k, v in data.items() if k not in _OWN},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.answers.to_dict(),
            "identity": self.identity.to_dict(),
            "notice": {
                "id": self.notice.id,
                "title": self.notice.title,
                "ambito": self.notice.ambito,
                "source": self.notice.source,
            },
            "submission": dict(self.submission) or None,
            "measures": [{"id": m.id, "name": m.name, "verdict": m.verdict} for m in self.measures],
            "documents": [dict(d) for d in self.documents],
            "declarations": [dict(d) for d in self.declarations],
            "checklist": [i.as_dict() for i in self.checklist],
            **self.others,
        }

    def with_form_pages(self, pages: int | None) -> DossierData:
        """The signed form needs `pages` pages (None: any number, as before a form is
        made or once it is taken back)."""
        return replace(
            self,
            checklist=tuple(
                replace(item, pages=pages) if item.id == "application_form" else item
                for item in self.checklist
            ),
        )

    def with_others(self, **changes: Any) -> DossierData:
        """The dossier's other keys (`form_sha256`, `form_layout`, `form_reset`, ...)
        changed; None removes one."""
        others = {**self.others, **changes}
        return replace(self, others={k: v for k, v in others.items() if v is not None})

    @property
    def pays_on_account(self) -> bool:
        """The notice pays on a bank account, which a page of our form declares."""
        return any(item.filled_by == "bank_details" for item in self.checklist)


def record_of(dossier: Mapping[str, Any]) -> DossierData:
    """The typed data of a dossier row (`storage.dossiers.get_dossier`)."""
    return DossierData.from_dict(dossier["data"], dossier.get("notice_id") or "")
