"""What the family reads about the signed form's pages, in their language: the pages here
by number, a page that does not seem signed, the pages still missing. Shared by the
signing step (`dialogs.signedpages`), the checklist and the last check
(`dialogs.paperwork`). Pure text."""

from __future__ import annotations

from collections.abc import Iterable

from dossier.checklist import ItemStatus

from .formats import esc
from .languages import Translate


def numbers(pages: Iterable[int]) -> str:
    return ", ".join(str(p) for p in pages)


def unsigned(_: Translate, page: int, label: str) -> str:
    """A page whose signature box (`label`: the words over it) showed no ink (escaped)."""
    return esc(
        _(
            "La pagina {page} non sembra firmata: firmate nel riquadro «{label}» e rifate la foto."
        ).format(page=page, label=label)
    )


def missing(_: Translate, s: ItemStatus, label: str) -> list[str]:
    """The pages still missing (every one: those not here and those not signed) and why
    each not signed one is (escaped lines)."""
    lines = []
    left = sorted({*s.pages_left, *s.unsigned})
    if left:
        text = _("Mancano le pagine: {pages}.").format(pages=numbers(left))
        lines.append(esc(text))
    return lines + [unsigned(_, page, label) for page in s.unsigned]


def held(s: ItemStatus) -> str:
    """The pages here by number, for the checklist and the last check: " (1, 2, 3)"."""
    if s.signed or not s.form_pages:
        return ""
    return f" ({numbers(s.form_pages)})"
