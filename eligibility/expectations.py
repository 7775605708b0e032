"""Compare a verdict document with an `expect` block (contract examples and cases files).

Keys of `expect`:
- a dotted path (`notice.source`, `submission.channel`): that value, exactly;
- `notice: null`: no notice covers the comune;
- `measures`: {measure id: verdict}; a measure mapped to `absent` must not be offered;
- `missing_includes` / `missing`: facts the questionnaire must still ask (top-level list),
  as a subset or exactly, in order;
- `measure_missing`: {measure id: [facts]}, exactly, in order;
- `incompatible` / `compatible` / `compatibility_unknown`: ids that must be listed there;
- `documents_include` / `documents_exclude`: document ids;
- `score`: components that must have these values (`null`: must be absent);
- `pending_includes`: {measure id: [substring]} found in that measure's pending lines;
- `reason_rules`: {measure id: [rule id]} that must appear among its reasons;
- `reason_sources`: {measure id: {rule id: source substring}};
- `amount_factor`: {measure id: factor or null};
- `suggestions`: comuni suggested for a near miss;
- `note`: free text, ignored.
"""

from __future__ import annotations

from typing import Any

from .cases import merge


def _path(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if doc is None:
            return None
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _measure(verdict: dict[str, Any], measure_id: str) -> dict[str, Any] | None:
    return next((m for m in verdict["measures"] if m["measure"] == measure_id), None)


def mismatches(verdict: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    """Every way the verdict differs from what is expected (empty when it matches)."""
    out: list[str] = []
    for key, want in expect.items():
        if key == "note":
            continue
        if key == "notice" and want is None:
            if verdict["notice"] is not None:
                out.append(f"notice: expected null, got {verdict['notice']['id']}")
        elif key == "measures":
            for mid, v in want.items():
                m = _measure(verdict, mid)
                got = m["verdict"] if m else "absent"
                if got != v:
                    reasons = [r["text"] for r in m["reasons"]] if m else []
                    out.append(
                        f"measures.{mid}: expected {v}, got {got} {m and m['missing']} {reasons}"
                    )
        elif key in ("missing", "missing_includes"):
            got = verdict.get("missing", [])
            if key == "missing" and got != want:
                out.append(f"missing: expected {want}, got {got}")
            if key == "missing_includes" and not set(want) <= set(got):
                out.append(f"missing: expected to include {want}, got {got}")
        elif key == "measure_missing":
            for mid, facts in want.items():
                m = _measure(verdict, mid)
                if m is None or m["missing"] != facts:
                    out.append(f"{mid}.missing: expected {facts}, got {m and m['missing']}")
        elif key in ("incompatible", "compatible", "compatibility_unknown"):
            got = [c["measure"] for c in verdict.get(key, [])]
            if sorted(got) != sorted(want):
                out.append(f"{key}: expected {sorted(want)}, got {sorted(got)}")
        elif key in ("documents_include", "documents_exclude"):
            got = {d["id"] for d in verdict["documents"]}
            wrong = set(want) - got if key == "documents_include" else set(want) & got
            if wrong:
                out.append(f"{key}: {sorted(wrong)} (documents: {sorted(got)})")
        elif key == "score" and want is None:
            if verdict.get("score") is not None:
                out.append(f"score: expected none, got {verdict['score']}")
        elif key == "score":
            score = verdict.get("score") or {}
            for comp, points in want.items():
                if score.get(comp) != points:
                    out.append(f"score.{comp}: expected {points}, got {score.get(comp)}")
        elif key == "pending_includes":
            for mid, parts in want.items():
                m = _measure(verdict, mid)
                lines = " | ".join(m["pending"]) if m else ""
                out += [f"{mid}.pending lacks {p!r}: {lines}" for p in parts if p not in lines]
        elif key == "reason_rules":
            for mid, rules in want.items():
                m = _measure(verdict, mid)
                got = {r["rule"] for r in m["reasons"]} if m else set()
                out += [f"{mid}: no reason {r!r} in {sorted(got)}" for r in rules if r not in got]
        elif key == "reason_sources":
            for mid, rules in want.items():
                m = _measure(verdict, mid)
                by_rule = {r["rule"]: r["source"] for r in m["reasons"]} if m else {}
                for rule, src in rules.items():
                    if src not in (by_rule.get(rule) or ""):
                        out.append(f"{mid}.{rule}: source {by_rule.get(rule)!r} lacks {src!r}")
        elif key == "amount_factor":
            for mid, factor in want.items():
                m = _measure(verdict, mid)
                got = (m or {}).get("amount", {}).get("factor")
                if got != factor:
                    out.append(f"{mid}.amount.factor: expected {factor}, got {got}")
        elif key == "suggestions":
            got = (verdict.get("municipality") or {}).get("suggestions", [])
            if not set(want) <= set(got):
                out.append(f"suggestions: expected {want} among {got}")
        else:
            got = _path(verdict, key)
            if not _subset(want, got):
                out.append(f"{key}: expected {want!r}, got {got!r}")
    return out


def _subset(want: Any, got: Any) -> bool:
    """Equal, where a dict only needs the keys that `want` names."""
    if isinstance(want, dict) and isinstance(got, dict):
        return all(_subset(v, got.get(k)) for k, v in want.items())
    return want == got


__all__ = ["merge", "mismatches"]
