"""The application's personal details as a dossier keeps them, typed: who signs, the
person cared for, the bank account and the ISEE's dates.

Stored in the dossier's JSON as the chat asked them, one key per question
(`applicant.tax_code`, `beneficiary.address`, `bank.iban`, `isee.dsu_date`);
`Identity.from_dict` and `Identity.to_dict` are the one crossing between the two. A value
is None when it was not asked (or not yet answered), "" when the family had none (an
optional e-mail): the chat then knows what is still to ask. **Who signs is decided here
once** (`signs_for_self`, `beneficiary`); the form, the e-mail, the back-office and the
staff's search read it from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

SELF = "self"  # the role of a person who signs for themselves


@dataclass(frozen=True)
class PersonDetails:
    """One person's details, as typed."""

    given_name: str | None = None
    family_name: str | None = None
    tax_code: str | None = None  # codice fiscale
    address: str | None = None  # via e numero
    postcode: str | None = None  # CAP (the home of the person cared for)
    town: str | None = None  # "20089 Rozzano": where the signer lives, if not with them
    phone: str | None = None  # E.164: "+393331234567"
    email: str | None = None  # "" when they have none

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


@dataclass(frozen=True)
class BankAccount:
    """The account the payments go to, when the notice pays on one."""

    holder: str | None = None  # "beneficiary", "applicant", "other" or "joint"
    holder_name: str | None = None  # when "other"
    holder_tax_code: str | None = None  # when "other"
    iban: str | None = None  # compact: "IT60X0542811101000000123456"
    # "joint": the person cared for holds it with this second holder
    co_holder_name: str | None = None
    co_holder_tax_code: str | None = None


_PEOPLE = tuple(f.name for f in fields(PersonDetails))
_BANK = tuple(f.name for f in fields(BankAccount))


@dataclass(frozen=True)
class Identity:
    """Who signs the application (`applicant`), for whom, and what else the form says."""

    role: str | None = None  # self, child, spouse, parent, relative, legal_representative
    applicant: PersonDetails = field(default_factory=PersonDetails)
    # the `beneficiary.*` answers: the home always; the names only when someone else signs
    cared_for: PersonDetails = field(default_factory=PersonDetails)
    bank: BankAccount = field(default_factory=BankAccount)
    dsu_date: str | None = None  # ISO: the day the DSU for the ISEE was presented
    caf_date: str | None = None  # ISO: the day of the CAF appointment
    assistant_name: str | None = None  # the assistente familiare, when the notice pays for one

    @property
    def signs_for_self(self) -> bool:
        """The person cared for signs for themselves: their details are the applicant's."""
        return self.role == SELF

    @property
    def beneficiary(self) -> PersonDetails:
        """The person cared for: the signer's details when they sign for themselves, their
        own when somebody signs for them; their home either way."""
        if not self.signs_for_self:
            return self.cared_for
        home = self.cared_for
        return replace(self.applicant, address=home.address, postcode=home.postcode, town=None)

    @classmethod
    def from_dict(cls, flat: Mapping[str, Any] | None) -> Identity:
        """From the stored keys (`applicant.given_name`, ...); others are left out."""
        flat = flat or {}

        def text(key: str) -> str | None:
            value = flat.get(key)
            return None if value is None else str(value)

        return cls(
            role=text("role"),
            applicant=PersonDetails(**{f: text(f"applicant.{f}") for f in _PEOPLE}),
            cared_for=PersonDetails(**{f: text(f"beneficiary.{f}") for f in _PEOPLE}),
            bank=BankAccount(**{f: text(f"bank.{f}") for f in _BANK}),
            dsu_date=text("isee.dsu_date"),
            caf_date=text("isee.caf_date"),
            assistant_name=text("assistant.name"),
        )

    def to_dict(self) -> dict[str, str]:
        """As stored: one key per answer given, none for what was not asked."""
        flat: dict[str, str | None] = {"role": self.role}
        for prefix, part, names in (
            ("applicant", self.applicant, _PEOPLE),
            ("beneficiary", self.cared_for, _PEOPLE),
            ("bank", self.bank, _BANK),
        ):
            flat.update({f"{prefix}.{name}": getattr(part, name) for name in names})
        flat.update({"isee.dsu_date": self.dsu_date, "isee.caf_date": self.caf_date})
        flat["assistant.name"] = self.assistant_name
        return {k: v for k, v in flat.items() if v is not None}
