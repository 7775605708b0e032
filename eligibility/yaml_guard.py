"""A YAML text from outside (an operator's upload) read without surprises: at most so many
bytes, so many levels deep and so many values *once every alias is expanded*, before
anything builds it.

PyYAML's `safe_load` makes an alias a shared reference, so a "billion laughs" file loads
small; but whatever walks the result afterwards (the schema, the cases' merge) sees every
reference again, and a file of a few lines becomes billions of values. The composer is
recursive too: a few thousand nested brackets are a RecursionError. The event stream
(`yaml.parse`) is read without recursion and without building anything, so it is where
the sizes are counted. Pure: text in, a problem (line, message) or None out.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

# libyaml when PyYAML has it (ten times faster); the same safe constructor either way
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 256 * 1024  # a real notice is 10-30 KB, its cases file up to 40 KB
MAX_DEPTH = 40  # a notice nests about 8 levels
MAX_VALUES = 50_000  # values once the aliases are expanded; a notice has about 2,000


@dataclass(frozen=True)
class TooMuch:
    line: int | None
    message: str


def oversized(
    text: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_values: int = MAX_VALUES,
) -> TooMuch | None:
    """Why this text is too big to read (size, depth, expanded values), or None. A text
    that is not valid YAML is left to the reader, which says where."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return TooMuch(
            None,
            f"il file è troppo grande ({size // 1024} KB): un avviso sta in {max_bytes // 1024} KB",
        )
    expanded: dict[str, int] = {}  # anchor -> values under it, its aliases expanded
    open_: list[tuple[str | None, int]] = []  # collections being read: anchor, count at start
    count = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                count += expanded.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                count += 1
                if event.anchor:
                    expanded[event.anchor] = 1
            elif isinstance(event, yaml.CollectionStartEvent):
                count += 1
                open_.append((event.anchor, count - 1))
                if len(open_) > max_depth:
                    return TooMuch(_line(event), _too_deep(max_depth))
            elif isinstance(event, yaml.CollectionEndEvent) and open_:
                anchor, start = open_.pop()
                if anchor:
                    expanded[anchor] = count - start
            if count > max_values:
                return TooMuch(
                    _line(event),
                    f"il file ha più di {max_values:,} valori".replace(",", ".")
                    + " (contando le ripetizioni fatte con & e *): non è un avviso",
                )
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own ceiling (1000), met while scanning
            mark = getattr(exc, "problem_mark", None)
            return TooMuch(mark.line + 1 if mark else None, _too_deep(max_depth))
        return None  # the reader says what and where
    return None


def _too_deep(depth: int) -> str:
    return f"il file ha più di {depth} livelli uno dentro l'altro: un avviso non ne ha bisogno"


def _line(event: yaml.Event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def load(text: str) -> tuple[yaml.Node | None, object]:
    """The text's node tree (for lines) and its data, read once, safely; YAMLError as
    PyYAML raises it. Call `oversized` first for a text from outside."""
    loader = SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, data


# What the YAML reader says (in English), said plainly in Italian: the start of its message.
_PLAIN = [
    (
        "did not find expected '-' indicator",
        "qui ci si aspettava un'altra riga dell'elenco, che comincia con «- » allineata alle "
        "altre: controllate gli spazi all'inizio della riga",
    ),
    (
        "did not find expected key",
        "gli spazi all'inizio di questa riga non tornano con quelli delle righe sopra: "
        "allineatela al suo gruppo",
    ),
    (
        "mapping values are not allowed",
        "c'è un «:» dove non può stare: se il testo contiene «: », mettetelo tra virgolette",
    ),
    (
        "found a tab character",
        "c'è un tabulatore all'inizio della riga: per i rientri usate solo spazi",
    ),
    (
        "found character that cannot start any token",
        "questo carattere non può stare qui (un tabulatore? per i rientri usate solo spazi; "
        "un testo che comincia con @ o ` va tra virgolette)",
    ),
    (
        "found unexpected end of stream",
        "il file finisce dentro un testo tra virgolette: chiudete le virgolette aperte",
    ),
    (
        "found unknown escape character",
        "dentro le virgolette doppie c'è una «\\» seguita da un carattere che non vale: "
        "usate le virgolette semplici o togliete la «\\»",
    ),
    (
        "could not find expected ':'",
        "manca «:» dopo il nome del campo, o un testo su più righe non è tra virgolette",
    ),
    (
        "found undefined alias",
        "c'è un riferimento «*nome» a un «&nome» che non esiste",
    ),
    (
        "found duplicate anchor",
        "lo stesso «&nome» è usato due volte",
    ),
    (
        "expected <block end>, but found",
        "gli spazi all'inizio di questa riga non tornano con quelli delle righe sopra: "
        "allineatela al suo gruppo",
    ),
    (
        "did not find expected ',' or ']'",
        "un elenco tra [ ] non è chiuso bene: separate i valori con virgole e chiudete con ]",
    ),
    (
        "did not find expected ',' or '}'",
        "un gruppo tra { } non è chiuso bene: separate i campi con virgole e chiudete con }",
    ),
]


def italian(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """(line, the problem in Italian, with the column) of a YAML syntax error; never the
    reader's English."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    said = str(getattr(exc, "problem", None) or "")
    plain = next((it for en, it in _PLAIN if said.startswith(en)), None)
    if plain is None:
        plain = (
            "la struttura del file qui non si legge: controllate gli spazi all'inizio "
            "delle righe, le virgolette e i «:»"
        )
    where = f"riga {line}, colonna {mark.column + 1}" if mark is not None else "nel file"
    return line, f"il file non si legge ({where}): {plain}"
