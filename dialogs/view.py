"""What every view of the application starts from: the family's language, its gettext
and its formats (dates, money)."""

from __future__ import annotations

from .formats import Formats
from .languages import SOURCE, Translate


class View:
    def __init__(self, gettext: Translate, language: str = SOURCE):
        self._ = gettext
        self.fmt = Formats(language)
        # the words over the signature box of this family's form (Italian, as printed)
        self.signature = "Firma del/della richiedente"
