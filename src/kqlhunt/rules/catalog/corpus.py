"""What a catalog knows across its rules: how many rules check each indicator, which rules are strict
subsets or supersets of each other, per-table and per-field counts, and ATT&CK coverage.

Everything works on explain documents (`rules.explain.explain_rule`), so the numbers match the pages.
A rule's predicate set is the union over its variants (a Defender and a Sentinel variant of one hunt
check the same things), each predicate keyed by field, kind, values, transforms and polarity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from kqlhunt.rules import mitre

PredKey = tuple[str, str, tuple[str, ...], tuple[str, ...], bool]


def predicate_key(p: dict[str, Any], excluded: bool) -> PredKey:
    return (p["field"], p["kind"], tuple(p["values"]), tuple(p["transforms"]), excluded)


def predicate_text(key: PredKey) -> str:
    fieldname, kind, values, transforms, excluded = key
    shown = ", ".join(values[:6]) + (f", … ({len(values)} values)" if len(values) > 6 else "")
    text = f"{fieldname} {kind}" + (f" ({shown})" if values else "")
    if transforms:
        text += f" [{', '.join(transforms)}]"
    return ("NOT " if excluded else "") + text


def rule_predicates(doc: dict[str, Any]) -> set[PredKey]:
    keys: set[PredKey] = set()
    for variant in doc["variants"]:
        a = variant.get("anatomy")
        if not a:
            continue
        keys.update(predicate_key(p, False) for p in a["indicators"] if p["kind"] != "expression")
        keys.update(predicate_key(p, True) for p in a["exclusions"] if p["kind"] != "expression")
    return keys


@dataclass
class Corpus:
    docs: dict[str, dict[str, Any]]  # rule id -> explain document
    predicates: dict[str, set[PredKey]] = field(default_factory=dict)
    users: dict[PredKey, set[str]] = field(default_factory=lambda: defaultdict(set))

    def __post_init__(self) -> None:
        for rid, doc in self.docs.items():
            self.predicates[rid] = rule_predicates(doc)
            for key in self.predicates[rid]:
                self.users[key].add(rid)

    def others(self, rid: str, key: PredKey) -> int:
        """How many *other* rules check the same thing."""
        return len(self.users.get(key, ())) - (1 if rid in self.users.get(key, ()) else 0)

    def neighbours(self, rid: str) -> dict[str, list[str]]:
        """Rules whose predicate set is a strict subset (broader hunts) or superset (narrower hunts)."""
        mine = self.predicates.get(rid, set())
        if not mine:
            return {"subset": [], "superset": []}
        candidates: set[str] = set()
        for key in mine:
            candidates |= self.users[key]
        candidates.discard(rid)
        subset = sorted(o for o in candidates if self.predicates[o] and self.predicates[o] < mine)
        superset = sorted(o for o in candidates if mine < self.predicates[o])
        return {"subset": subset, "superset": superset}

    def table_stats(self) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for doc in self.docs.values():
            counts.update(doc["rule"]["tables"])
        return counts.most_common()

    def field_stats(self) -> list[dict[str, Any]]:
        """Per field: rules that match on it, rules that exclude on it, the kinds used."""
        matched: dict[str, set[str]] = defaultdict(set)
        excluded: dict[str, set[str]] = defaultdict(set)
        kinds: dict[str, Counter[str]] = defaultdict(Counter)
        for rid, keys in self.predicates.items():
            for fieldname, kind, _, _, negated in keys:
                (excluded if negated else matched)[fieldname].add(rid)
                kinds[fieldname][kind] += 1
        names = sorted(set(matched) | set(excluded), key=lambda f: (-len(matched[f] | excluded[f]), f))
        return [{"field": f, "rules": len(matched[f] | excluded[f]), "matching": len(matched[f]),
                 "excluding": len(excluded[f]), "kinds": dict(kinds[f].most_common())} for f in names]

    def top_indicators(self, n: int = 50) -> list[tuple[PredKey, int]]:
        ranked = sorted(self.users.items(), key=lambda kv: (-len(kv[1]), predicate_text(kv[0])))
        return [(k, len(v)) for k, v in ranked[:n] if len(v) > 1]

    def attack(self) -> dict[str, dict[str, list[str]]]:
        """tactic -> technique id -> rule ids (valid techniques only), tactics in matrix order."""
        matrix: dict[str, dict[str, list[str]]] = {t: {} for t in mitre.TACTIC_ORDER}
        for rid, doc in self.docs.items():
            for t in doc["rule"]["techniques"]:
                if t["status"] != "ok":
                    continue
                for tactic in t["tactics"]:
                    matrix.setdefault(tactic, {}).setdefault(t["id"], []).append(rid)
        return matrix

    def technique_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for doc in self.docs.values():
            counts.update({t["id"] for t in doc["rule"]["techniques"] if t["status"] == "ok"})
        return dict(counts)
