"""Babel extractor for the notice files: every sentence a family may read is a message.

Used by `babel.cfg` (`[dialogs.extract_yaml:extract: eligibility/data/**.yaml]`), so the
notices' Italian sentences get English translations in the same catalog as the dialogs.
Cases files hold test names, not user text, and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

TEXT_KEYS = {
    "text",
    "met",
    "failed",
    "pending",
    "ask",
    "wrong_kind",
    "no_attestation",
    "condition",
    "name",
    "purpose",
    "title",
    "ambito",
    "issuer",
    "tie_breaks",
    "reading",
    "rule",
    "question",
}


# What the form declares is the form's Italian, for the comune: never shown in the chat,
# never translated (the chat explains each kind of declaration in its own words).
FORM_ONLY_KEYS = {"declaration", "declarations"}


def _walk(node: yaml.Node, key: str | None) -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else None
            if name in FORM_ONLY_KEYS:
                continue
            yield from _walk(v, name)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, key)
    elif (
        isinstance(node, yaml.ScalarNode)
        and key in TEXT_KEYS
        and node.tag.endswith(":str")
        and " " in node.value.strip()
    ):
        yield node.start_mark.line + 1, node.value


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any):
    name = getattr(fileobj, "name", "")
    if str(name).endswith(".cases.yaml"):
        return
    root = yaml.compose(fileobj.read().decode("utf-8"))
    if root is None:
        return
    for line, text in _walk(root, None):
        yield line, None, text, []
