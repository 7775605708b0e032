"""The shape of a notice file and of a programme file, checked when they are loaded.

A notice is data: comuni, window, measures with their requirements, documents, ranking,
submission channel. Every rule carries `source`, the article or section of the seed it
comes from; the notice carries the seed file name. A wrong field fails at load, naming
the file and the field (see `catalogue.load_file`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .facts import (
    CERTIFICATIONS,
    CURRENT_MEASURES,
    FACTS_BY_KEY,
    ISEE_KINDS,
    ISEE_STATUSES,
    MEASURES,
)

MeasureId = Literal[
    "buono_caregiver",
    "buono_assistente_familiare",
    "assegno_autonomia",
    "voucher_minori",
    "interventi_integrativi",
]
assert set(MeasureId.__args__) == set(MEASURES)  # type: ignore[attr-defined]
Channel = Literal["pec", "email", "office", "online_platform", "unknown"]
Outcome = Literal["compatible", "compatible_with_condition", "incompatible"]
Moment = dt.datetime | dt.date


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Note(Strict):
    """A piece of the notice kept as plain text, with where it comes from."""

    text: str
    source: str


class Condition(Strict):
    """A test on one fact: used as a guard (`when`) on rules and documents. `empty`: the
    fact is a list, and it is empty (true) or not (false); `contains`/`lacks`: the list
    has that item, or has not ("the invalidity verbale, unless the accompagnamento's
    already meets the requirement")."""

    fact: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    contains: str | None = None
    lacks: str | None = None
    empty: bool | None = None
    min: float | None = None
    max: float | None = None

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, value: str) -> str:
        if value not in FACTS_BY_KEY and value not in ("age", "isee.kind", "isee.status"):
            raise ValueError(f"unknown fact {value!r}")
        return value


class Texts(Strict):
    """The plain-Italian sentences a rule can say about this family."""

    met: str
    failed: str
    pending: str | None = None
    ask: str | None = None
    wrong_kind: str | None = None
    no_attestation: str | None = None
    # The requirement itself, without the family's values, for the notice as a whole
    # (`sportello notice`): needed only when `failed` has a {value} the rule cannot state.
    rule: str | None = None


DeclarationKind = Literal[
    "residence",
    "age",
    "at_home",
    "citizenship",
    "certifications",
    "disability",
    "independent_living",
    "isee",
    "benefits",
    "first_application",
    "caregiver",
    "assistant",
    "day_service",
    "report_changes",
    "truthful",
]


# Every placeholder a declaration may use (`eligibility.declarations` fills them): the
# family's values, and how the sentence names the beneficiary and the ISEE's date.
DECLARATION_PLACEHOLDERS = frozenset(
    {
        "municipality",
        "age",
        "birth_date",
        "certifications",
        "isee_kind",
        "isee_value",
        "isee_status",
        "limit",
        "value",
        "benefits",
        "incompatible",
        "citizenship",
        "disability",
        "assistant_contract",
        "assistant_hours",
        "caregiver_relationship",
        "caregiver_employment",
        "caregiver_hours",
        "day_service_hours",
        "beneficiario",
        "del_beneficiario",
        "isee_date",
    }
)


def _known_placeholders(text: str | None) -> str | None:
    unknown = set(re.findall(r"\{(\w+)\}", text or "")) - DECLARATION_PLACEHOLDERS
    if unknown:
        raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}")
    return text


class Declares(Strict):
    """What the applicant declares (DPR 445/2000) when a requirement is met: one sentence
    of the form after "DICHIARA", in the form's Italian, never translated. `{placeholders}`
    take the family's values (see `eligibility.declarations.PLACEHOLDERS`). `pending` is
    said instead when the notice lets the requirement follow later (L. 104 in attesa, a
    DSU without its attestation). `source` is the article, when not the rule's own."""

    kind: DeclarationKind
    says: str
    pending: str | None = None
    source: str | None = None

    _placeholders = field_validator("says", "pending")(_known_placeholders)


class NoticeDeclaration(Strict):
    """A declaration of the notice that belongs to no single requirement (residence in
    the Ambito, the other benefits, changes to report), said when `when` holds."""

    kind: DeclarationKind
    says: str
    when: list[Condition] = []
    source: str

    _placeholders = field_validator("says")(_known_placeholders)


class RuleBase(Strict):
    id: str
    source: str
    when: list[Condition] = []
    texts: Texts
    declaration: Declares | None = None


class FactRule(RuleBase):
    """A requirement on one fact: a value, a set of values, or a range."""

    type: Literal["fact"]
    fact: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    min: float | None = None
    max: float | None = None
    pending_values: list[Any] = []
    ask_values: list[Any] = []
    # The question as this notice means the fact, where the usual wording would mislead
    # (Art. 3 of 001: only a B2 with a care worker in 2024 is "not the first time").
    question: str | None = None

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, value: str) -> str:
        if value not in FACTS_BY_KEY:
            raise ValueError(f"unknown fact {value!r}")
        return value

    @model_validator(mode="after")
    def _has_test(self) -> FactRule:
        if self.equals is None and self.in_ is None and self.min is None and self.max is None:
            raise ValueError("a fact rule needs equals, in, min or max")
        return self


class AgeRule(RuleBase):
    """Age in completed years on the filing day."""

    type: Literal["age"]
    min_years: int | None = None
    below_years: int | None = None
    on_fail: Literal["fail", "ask"] = "fail"


class Followup(Strict):
    """Something a notice lets the family complete after applying, and by when."""

    by: dt.date | None = None
    text: str
    source: str


CertificationId = Literal[
    "indennita_accompagnamento",
    "invalidita_100",
    "legge104_art3c3",
    "indennita_frequenza",
]
assert set(CertificationId.__args__) <= set(CERTIFICATIONS)  # type: ignore[attr-defined]


class CertificationsRule(RuleBase):
    """Certifications: any one of the groups, each group needing all of its items."""

    type: Literal["certifications"]
    any_age: list[list[CertificationId]] | None = None
    adult: list[list[CertificationId]] | None = None
    minor: list[list[CertificationId]] | None = None
    l104_pending: Followup | None = None

    @model_validator(mode="after")
    def _groups(self) -> CertificationsRule:
        if self.any_age is None and (self.adult is None or self.minor is None):
            raise ValueError("give any_age, or both adult and minor")
        return self


class IseeLimit(Strict):
    kinds: list[Literal[ISEE_KINDS]]  # type: ignore[valid-type]
    max: float
    who: Literal["any", "adult", "minor"] = "any"


class IseeRule(RuleBase):
    """ISEE kind and ceiling by age group; what may follow when only a DSU exists."""

    type: Literal["isee"]
    limits: list[IseeLimit]
    ask_kinds: list[Literal[ISEE_KINDS]] = []  # type: ignore[valid-type]
    followups: dict[Literal[ISEE_STATUSES], Followup] = {}  # type: ignore[valid-type]


Rule = Annotated[FactRule | AgeRule | CertificationsRule | IseeRule, Field(discriminator="type")]


class Amount(Strict):
    min: float | None = None
    max: float | None = None
    period: Literal["month", "total"] | None = None
    text: str
    source: str


class Band(Strict):
    min: float
    max: float
    points: float


class Adjustment(Strict):
    """A change to the amount that depends on a fact (day-centre attendance, 004)."""

    fact: str
    bands: list[Band]
    text: str
    source: str


class Measure(Strict):
    id: MeasureId
    name: str
    purpose: str
    source: str | None = None  # where the notice describes it, cited by the form's CHIEDE
    requirements: list[Rule] = []
    amount: Amount | None = None
    adjustments: list[Adjustment] = []
    notes: list[Note] = []


class Submission(Strict):
    channel: Channel
    address: str | None = None
    # Whom the application (istanza) is addressed to, as the form prints it; `{municipality}`
    # stands for the family's comune ("Comune di {municipality} – Servizio sociale").
    addressee: str | None = None
    text: str
    source: str
    alternatives: list[Submission] = []
    # The largest e-mail the destination takes, when the notice or the comune says so.
    max_message_mb: float | None = None


class Municipality(Strict):
    name: str
    submission: Submission | None = None


class Window(Strict):
    opens: Moment | None = None
    closes: Moment | None = None
    until_funds_run_out: bool = False
    # A notice with no dates whose period is over (guidelines whose funds were all
    # assigned by a date): after it, the notice is closed, an old one, never "open".
    valid_until: Moment | None = None
    text: str
    source: str
    # Where a date above is our reading of the notice, not its words: one short clause
    # that says so, shown with the dates.
    reading: str | None = None


class CompatibilityEntry(Strict):
    measure: Literal[CURRENT_MEASURES]  # type: ignore[valid-type]
    outcome: Outcome
    text: str
    condition: str | None = None
    only_measures: list[MeasureId] = []
    source: str


class Document(Strict):
    """A document to attach. One id may appear more than once, each with its own `when`
    (the ISEE attestation of the kind this family has): the first that applies is used.
    `annex`: the notice's own form for it ("All. A"); `filled_by`: our form carries it
    (`form`: the istanza itself, with every declaration the notice asks; `bank_details`:
    a page with the account for the payments)."""

    id: str
    text: str
    required: bool = True
    when: list[Condition] = []
    measures: list[MeasureId] = []
    source: str
    annex: str | None = None
    filled_by: Literal["form", "bank_details"] | None = None


class ScoreComponent(Strict):
    fact: str | None = None
    bands: list[Band] = []
    minor_bands: list[Band] | None = None
    minor_points: float | None = None
    alone_adult_points: float | None = None
    max: float
    text: str


class TieBreak(Strict):
    """How equal totals are ordered: `isee` (the lower ISEE first) or `arrival` (the
    application that arrived first); `same_day` when the notice applies it only to
    applications delivered on the same day (004 sec. 6 c)."""

    by: Literal["isee", "arrival"]
    same_day: bool = False
    text: str
    source: str


class Ranking(Strict):
    source: str
    components: dict[Literal["adl", "iadl", "cbi", "isee"], ScoreComponent]
    intensity: list[Note] = []
    tie_breaks: list[TieBreak] = []


class Published(Strict):
    """The notice's own document, for a notice an operator publishes: what the family
    can look up (title, date, where it is published)."""

    title: str
    date: dt.date
    address: str


class Notice(Strict):
    id: str
    kind: Literal["notice"]
    title: str
    ambito: str
    programme: str
    source: str | None = None  # a seed file, for the bundled notices
    document: Published | None = None  # the notice's own document, for a published one
    year: str
    municipalities: list[Municipality]
    municipalities_source: str
    municipalities_note: str | None = None
    window: Window
    submission: Submission
    common_requirements: list[Rule] = []
    measures: list[Measure]
    compatibility: list[CompatibilityEntry] | None = None
    compatibility_source: str | None = None
    # What the notice adds to its list: projects that "possono ritenersi compatibili".
    compatibility_notes: list[Note] = []
    contacts: list[Note] = []  # offices, phones, e-mails the notice gives for questions
    # The data protection officer the notice names: for the privacy notice and staff
    # (`sportello notice`), never among the family's contacts (not who answers questions).
    data_protection: Note | None = None
    documents: list[Document] = []
    ranking: Ranking | None = None
    caps: list[Note] = []
    revocation: list[Note] = []
    notes: list[Note] = []
    # What the form declares beyond the single requirements, and how it cites the notice
    # ("Avviso, Art. 2"; "Linee guida, sez. 3"); where its privacy notice is.
    declarations: list[NoticeDeclaration] = []
    cited_as: str = "Avviso"
    privacy_source: str | None = None
    # What must be done before the file may be published (an example to rewrite, a
    # sentence "Nuovo avviso da uno esistente" could not bring up to date): the check
    # refuses the file while this field is there.
    before_publishing: list[str] = []

    @property
    def citation(self) -> str:
        """Where the notice's words come from: the seed file, or its own document."""
        if self.document is not None:
            d = self.document
            return f"{d.title}, {d.date.strftime('%d/%m/%Y')}, {d.address}"
        return self.source or ""

    @property
    def bundled(self) -> bool:
        """Shipped with the package (a seed file behind it), not published by an operator."""
        return self.document is None

    @model_validator(mode="after")
    def _consistent(self) -> Notice:
        ids = [m.id for m in self.measures]
        if len(ids) != len(set(ids)):
            raise ValueError("a measure is listed twice")
        if self.compatibility is not None and not self.compatibility_source:
            raise ValueError("compatibility needs compatibility_source")
        seen: set[str] = set()
        for doc in self.documents:
            twice = doc.id in seen or sum(d.id == doc.id for d in self.documents) > 1
            if twice and not doc.when:
                raise ValueError(
                    f"the document {doc.id!r} is listed more than once: "
                    "give each a different `when`, or one id each"
                )
            seen.add(doc.id)
        if self.source is None and self.document is None:
            raise ValueError("give `source` (a seed file) or `document` (the notice itself)")
        return self


class Guidance(Strict):
    """A note that explains a procedure and gives no verdict (000, Comune di Milano)."""

    id: str
    kind: Literal["guidance"]
    title: str
    issuer: str
    programme: str
    source: str
    year: str
    municipalities: list[Municipality]
    municipalities_source: str
    applies_to: Note
    kinds: list[Note] = []  # what the interventions can be, as the note lists them
    steps: list[Note]
    notes: list[Note] = []


class Programme(Strict):
    id: str
    title: str
    source: str
    caregiver_definition: Note | None = None
    compatibility: list[CompatibilityEntry]
    compatibility_notes: list[Note] = []
    # Requirements the regional act sets for every notice (certifications, ISEE ceilings),
    # as the seeds quote it: the pre-check where no notice is on file.
    requirements: list[Rule] = []
    pre_check_notes: list[Note] = []
    pre_check_default: bool = False  # the programme whose rules a comune with no notice gets
    inheritance: str
