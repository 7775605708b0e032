"""For "Nuovo avviso da uno esistente": the names the old notice carries (its Ambito, the
addressee of the applications, the comuni it no longer covers) brought up to date in
every sentence of the new file, or written into `before_publishing`, which the check
refuses until the operator has looked: a declaration signed under DPR 445/2000 naming
the wrong Ambito must never be publishable without a word. And the ranking's ISEE
points, moved with a changed ISEE ceiling.

Pure: works on the round-trip document of `eligibility.notice_derive`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .rules import euro as money
from .schema import Notice

# "Ambito distrettuale Visconteo Sud Milano (capofila Rozzano)" → "Visconteo Sud Milano"
_LEADING = re.compile(
    r"^(?:l'|L')?(?:ambito|distretto)(?:\s+(?:distrettuale|territoriale|sociale))?"
    r"(?:\s+(?:di|del|della|dell'|n\.|n°))?\s*",
    re.IGNORECASE,
)
_NOT_NAMES = {"", "ambito", "distretto"}


def euro(value: float) -> str:
    """25.000,00 € with a plain space, as the operator's messages write it."""
    return money(value).replace("\xa0", " ")


def without_note(name: str) -> str:
    """The name without what is in brackets: «… (capofila Rozzano)» → «…»."""
    return re.sub(r"\s*\([^)]*\)", "", name).strip()


def core(name: str) -> str:
    """The Ambito's own name, without «Ambito distrettuale» and the brackets."""
    return _LEADING.sub("", without_note(name)).strip(" -–")


def children(node: Any) -> list[tuple[Any, Any]]:
    """(key, value) of a mapping's entries or a list's items; none for anything else."""
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list):
        return list(enumerate(node))
    return []


def strings(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """(path, parent, key) of every string of a round-trip document."""
    for key, value in children(node):
        if isinstance(value, dict | list):
            yield from strings(value, (*path, key))
        elif isinstance(value, str):
            yield (*path, key), node, key


def _mentions(text: str, name: str) -> bool:
    return (
        bool(name)
        and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None
    )


def replace_names(doc: Any, pairs: list[tuple[str, str]], skip: set[str]) -> None:
    """Each old name replaced by the new one in every sentence (longest first), keeping
    a string's type (its quotes, its folded block)."""
    pairs = sorted(
        ((o, n) for o, n in pairs if o and n and o != n and o not in n), key=lambda p: -len(p[0])
    )
    if not pairs:
        return
    for path, parent, key in strings(doc):
        if ".".join(str(p) for p in path) in skip:
            continue
        text = parent[key]
        new = text
        for old, fresh in pairs:
            new = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", fresh.replace("\\", "\\\\"), new)
        if new != text:
            parent[key] = type(text)(new) if type(text) is not str else new


def stale_names(
    doc: Any, original: Notice, ambito: str, comuni: list[str], skip: set[str]
) -> list[tuple[str, str]]:
    """(field, what to do) for each sentence that still names what the new notice is
    not: a comune no longer among its comuni, the old Ambito after the Ambito changed,
    or the Ambito when the comuni changed and the Ambito did not."""
    old_comuni = [m.name for m in original.municipalities]
    gone = [c for c in old_comuni if c not in comuni]
    same_ambito = " ".join(ambito.split()) == " ".join(original.ambito.split())
    old_names = [
        n
        for n in {without_note(original.ambito), core(original.ambito)}
        if n.lower() not in _NOT_NAMES
    ]
    comuni_changed = sorted(old_comuni) != sorted(comuni)
    out: list[tuple[str, str]] = []
    if same_ambito and comuni_changed:
        out.append(
            (
                "ambito",
                f"I Comuni sono cambiati ma l'Ambito è ancora «{original.ambito}». Se l'avviso è "
                "di un altro Ambito, scrivetene il nome nel modulo o nel campo `ambito`, e "
                "correggete ogni frase che nomina quello di prima.",
            )
        )
    for path, parent, key in strings(doc):
        where = ".".join(str(p) for p in path)
        if where in skip or where == "ambito" or where.startswith("before_publishing"):
            continue
        text = parent[key]
        named = [c for c in gone if _mentions(text, c)]
        if named:
            out.append(
                (
                    where,
                    f"La frase nomina ancora {', '.join(named)}, che non è più tra i Comuni "
                    f"dell'avviso: «{_short(text)}». Correggetela.",
                )
            )
            continue
        ambito_named = next((n for n in old_names if _mentions(text, n)), None)
        if ambito_named and (not same_ambito or comuni_changed):
            why = (
                "l'Ambito è cambiato."
                if not same_ambito
                else "i Comuni sono cambiati: è ancora lo stesso Ambito?"
            )
            out.append(
                (
                    where,
                    f"La frase «{_short(text)}» nomina l'Ambito «{ambito_named}», ma {why} "
                    "Correggetela: se è una dichiarazione, la famiglia la firma.",
                )
            )
    return out


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _euro_forms(value: float) -> list[str]:
    whole = int(value)
    return [f"{whole:,}".replace(",", "."), str(whole)] if whole >= 1000 else [str(whole)]


def move_isee_points(
    doc: Any, old_ceilings: dict[str, float], new_ceilings: dict[str, float]
) -> list[str]:
    """Where the ranking's ISEE points ended at the old ceiling, they end at the new one
    (the last band moved, its sentence too); what was moved, for the operator to read."""
    ranking = doc.get("ranking") or {}
    component = (ranking.get("components") or {}).get("isee")
    if not component:
        return []
    moved: list[str] = []
    for who in ("adult", "minor"):
        old, new = old_ceilings.get(who), new_ceilings.get(who)
        if old is None or new is None or old == new:
            continue
        key = "minor_bands" if who == "minor" and component.get("minor_bands") else "bands"
        bands = component.get(key) or []
        if not bands:
            continue
        last = max(bands, key=lambda b: b["max"])
        if float(last["max"]) != float(old):
            continue  # the table did not end at the ceiling: the check says what is left out
        last["max"] = int(new) if float(new).is_integer() else new
        text = str(component.get("text", ""))
        for before, after in zip(_euro_forms(old), _euro_forms(new), strict=True):
            text = re.sub(rf"(?<![\d.]){re.escape(before)}(?![\d])", after, text)
        if text != component.get("text"):
            component["text"] = (
                type(component["text"])(text) if type(component["text"]) is not str else text
            )
        moved.append(
            f"l'ultima fascia dei punti ISEE ({key}) ora arriva a {euro(new)} come il limite "
            f"(prima {euro(old)}): controllate i punti con l'avviso nuovo"
        )
    return moved


def apply(mapping: Any, key: str, value: str, put: Callable[[Any, str, Any], None]) -> None:
    """A typed value written only when it is not what the file already says."""
    if " ".join(value.split()) != " ".join(str(mapping.get(key) or "").split()):
        put(mapping, key, value or None)
