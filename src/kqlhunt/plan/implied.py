"""Which equalities hold for every row that reaches a `search` — so its terms can be dropped.

`search in (T) "tcp" and "public" | ... | where Protocol == "Tcp" and RemoteIPType == "Public"` (seed 000)
tests every column for each term, which costs seconds per million rows, yet every row that survives the
later `where` has a column with those terms. A term is redundant when a filter further up the pipeline
requires `Col == "value"` (or `=~`) with the term inside "value", and nothing in between changes `Col` or
which rows are kept in a way that depends on the dropped filter (take, summarize, innerunique joins).
Dropping it never changes the result; it only saves work.
"""

from __future__ import annotations

import re

from kqlhunt.semantic import bound as B

Fact = tuple[str, str]  # (column, value it equals, compared case-insensitively for `has`)


def equality_facts(pred: B.BExpr) -> set[Fact]:
    if isinstance(pred, B.BCall) and pred.fn == "and":
        return equality_facts(pred.args[0]) | equality_facts(pred.args[1])
    if isinstance(pred, B.BCall) and pred.fn in ("==", "=~"):
        a, b = pred.args
        if isinstance(b, B.BCol):
            a, b = b, a
        if isinstance(a, B.BCol) and isinstance(b, B.BLit) and isinstance(b.value, str) and a.type.name == "string":
            return {(a.name, b.value)}
    return set()


def implied_facts(root: B.BRel) -> dict[int, frozenset[Fact]]:
    """For each BSearch (by id): the facts that hold on every path from it to the result."""
    found: dict[int, frozenset[Fact]] = {}

    def walk(rel: B.BRel, facts: frozenset[Fact]) -> None:
        match rel:
            case B.BFilter(input=inp, predicate=pred):
                walk(inp, facts | equality_facts(pred))
            case B.BProject(input=inp, items=items):
                same = {n for n, x in items if isinstance(x, B.BCol) and x.name == n}
                walk(inp, frozenset(f for f in facts if f[0] in same))
            case B.BSort(input=inp) | B.BRender(input=inp) | B.BSerialize(input=inp) | B.BMaterialize(input=inp):
                walk(inp, facts)
            case B.BIpv4Lookup(input=inp, lookup=lookup):
                names = {c.name for c in inp.schema}
                walk(inp, frozenset(f for f in facts if f[0] in names))
                walk(lookup, frozenset())
            case B.BJoin(left=left, right=right, kind=kind):
                keep = kind in ("inner", "leftouter", "leftsemi", "leftanti", "leftantisemi")
                names = {c.name for c in left.schema}
                walk(left, frozenset(f for f in facts if f[0] in names) if keep else frozenset())
                walk(right, frozenset())
            case B.BSearch(input=inp):
                found[id(rel)] = found[id(rel)] & facts if id(rel) in found else facts
                walk(inp, frozenset())
            case _:
                for child in _children(rel):
                    walk(child, frozenset())

    walk(root, frozenset())
    return found


def _children(rel: B.BRel) -> list[B.BRel]:
    out = []
    for name in rel.__dataclass_fields__:
        value = getattr(rel, name)
        if isinstance(value, B.BRel):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, B.BRel))
    return out


def term_in(value: str, term: str) -> bool:
    """Kusto's `has`: `term` occurs in `value` bounded by non-alphanumerics, case-insensitively."""
    body = re.escape(term.lower())
    if term[:1].isalnum():
        body = r"(?:^|[^\w]|_)" + body
    if term[-1:].isalnum():
        body = body + r"(?:$|[^\w]|_)"
    return re.search(body, value.lower()) is not None


def drop_implied_terms(predicate: B.BExpr, facts: frozenset[Fact]) -> B.BExpr:
    """Replace `search_term(t)` conjuncts implied by the facts with true."""
    if isinstance(predicate, B.BCall) and predicate.fn == "and":
        left, right = (drop_implied_terms(a, facts) for a in predicate.args)
        if isinstance(left, B.BLit) and left.value is True:
            return right
        if isinstance(right, B.BLit) and right.value is True:
            return left
        return B.BCall(predicate.type, predicate.span, "and", (left, right))
    if isinstance(predicate, B.BCall) and predicate.fn == "search_term":
        term = str(predicate.args[0].value)  # type: ignore[attr-defined]
        if term and "*" not in term and any(term_in(value, term) for _, value in facts):
            return B.BLit(predicate.type, predicate.span, True)
    return predicate
