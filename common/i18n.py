"""The gettext marker, for messages defined in one place and translated where shown."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction (Babel's `-k N_`); it is translated where it is shown."""
    return message
