"""Bound predicates as indicator rows: `field kind values` plus how the comparison is made.

A `where` predicate is split into its top-level conjuncts; each conjunct becomes one or more `Predicate`s
(a disjunction gives one row per alternative). Parameters are already folded into literals by the binder,
so values come out resolved. Negations (`not(...)`, `!in`, `!has`, `!=`, ...) flip `negated` instead of
inventing kinds such as `not_in`: a reviewer reads "excluded: RemoteIPType in (...)", and de-duplication
across rules compares the positive form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kqlhunt.diagnostics import Span
from kqlhunt.semantic import bound as B

# Kusto's documented private ranges for ipv4_is_private() (ipv4-is-private-function.md): exactly these three.
# Loopback (127/8) and link-local (169.254/16) are *not* private for Kusto: ipv4_is_private("127.0.0.1")
# is false in the documentation's own example.
IPV4_PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

# Scalar functions a predicate is "seen through": the row is about the column inside them.
WRAPPERS = frozenset({
    "tolower", "toupper", "tostring", "toint", "tolong", "toreal", "todouble", "array_length", "strlen",
    "trim", "trim_start", "trim_end", "tohex", "toguid", "todatetime", "totimespan", "parse_json", "todynamic",
    "url_decode", "parse_path", "parse_url", "bin", "floor", "abs", "set_union", "array_sort_asc",
})

_COMPARE = {"==": "eq", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq"}
_STRING_OPS = ("has", "hasprefix", "hassuffix", "contains", "startswith", "endswith", "has_any", "has_all")
_TERM_KINDS = frozenset({"has", "hasprefix", "hassuffix", "has_any", "has_all"})
_NULL_TESTS = {"isnotempty": ("is_not_null", False), "isnotnull": ("is_not_null", False),
               "isempty": ("is_not_null", True), "isnull": ("is_not_null", True)}


@dataclass(frozen=True)
class Predicate:
    field: str  # column name; `a.b` for member access on dynamic; `*` for search terms
    kind: str  # eq, in, lt, le, gt, ge, between, has, contains, startswith, endswith, regex, cidr_match, ...
    values: tuple[str, ...] = ()
    negated: bool = False
    transforms: tuple[str, ...] = ()  # cased (case-sensitive), term (whole-term match)
    through: tuple[str, ...] = ()  # wrappers seen through, outermost first (tolower, array_length, ...)
    alternative: bool = False  # one branch of an `or`
    span: Span | None = None

    def key(self) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
        """What two rules must share to "check the same thing" (corpus counts, neighbours)."""
        return (self.field, self.kind, self.values, self.transforms)

    def to_dict(self) -> dict[str, object]:
        return {"field": self.field, "kind": self.kind, "values": list(self.values),
                "transforms": list(self.transforms), "through": list(self.through),
                "alternative": self.alternative}


@dataclass
class _Acc:
    rows: list[Predicate] = field(default_factory=list)


def conjuncts(e: B.BExpr) -> list[B.BExpr]:
    if isinstance(e, B.BCall) and e.fn == "and":
        return [c for a in e.args for c in conjuncts(a)]
    return [e]


def disjuncts(e: B.BExpr) -> list[B.BExpr]:
    if isinstance(e, B.BCall) and e.fn == "or":
        return [d for a in e.args for d in disjuncts(a)]
    return [e]


def classify(e: B.BExpr, negated: bool = False, alternative: bool = False) -> list[Predicate]:
    """The rows of one conjunct. Pushes `not` inward (De Morgan) so `not(a or b)` gives two exclusions."""
    if isinstance(e, B.BCall):
        if e.fn == "not" and len(e.args) == 1:
            return classify(e.args[0], not negated, alternative)
        if e.fn in ("and", "or"):
            # and under negation, or without it: alternatives; the other two: plain conjunctions.
            split = conjuncts(e) if e.fn == "and" else disjuncts(e)
            alt = alternative or (e.fn == "or") != negated
            return [p for part in split for p in classify(part, negated, alt)]
        row = _call(e, negated, alternative)
        if row is not None:
            return [row]
    if isinstance(e, B.BCol) and e.type.name == "bool":  # `where IsInternetFacing`
        return [Predicate(e.name, "eq", ("true",), negated, alternative=alternative, span=e.span)]
    return [Predicate("", "expression", (), negated, alternative=alternative, span=e.span)]


def _call(e: B.BCall, negated: bool, alternative: bool) -> Predicate | None:
    fn = e.fn
    neg = negated
    if fn.startswith("!") and fn not in ("!=",):
        fn, neg = fn[1:], not neg
    if fn in _NULL_TESTS and len(e.args) == 1:
        kind, flip = _NULL_TESTS[fn]
        column = _column(e.args[0])
        return None if column is None else _row(column, kind, (), neg != flip, (), alternative, e.span)
    if fn == "ipv4_is_private" and len(e.args) == 1:
        column = _column(e.args[0])
        return None if column is None else _row(column, "cidr_match", IPV4_PRIVATE_RANGES, neg, (), alternative,
                                                e.span)
    if fn in ("ipv4_is_in_range", "ipv4_is_in_any_range", "ipv6_is_in_range", "ipv6_is_in_any_range"):
        column = _column(e.args[0]) if e.args else None
        values = _literals(e.args[1:])
        if column is None or values is None:
            return None
        return _row(column, "cidr_match", values, neg, (), alternative, e.span)
    if fn in ("==", "!=", "<", "<=", ">", ">=", "=~", "!~"):
        return _compare(e, negated, alternative)
    if fn in ("in", "in~") and e.args:
        column = _column(e.args[0])
        if column is None:
            return None
        if len(e.args) == 2 and isinstance(e.args[1], B.BColumnSubquery):
            return _row(column, "in_subquery", (), neg, _cased(fn == "in"), alternative, e.span)
        values = _literals(e.args[1:])
        if values is None:
            return None
        kind = "eq" if len(values) == 1 else "in"
        return _row(column, kind, values, neg, _cased(fn == "in" and _textual(e.args[0])), alternative, e.span)
    if fn in ("between",) and len(e.args) == 3:
        column = _column(e.args[0])
        values = _literals(e.args[1:], keep_order=True)
        if column is None or values is None:
            return None
        return _row(column, "between", values, neg, (), alternative, e.span)
    if fn in ("matches regex", "regex"):
        column = _column(e.args[0])
        values = _literals(e.args[1:])
        if column is None or values is None:
            return None
        return _row(column, "regex", values, neg, (), alternative, e.span)
    base, cased = (fn[:-3], True) if fn.endswith("_cs") else (fn, False)
    if base in _STRING_OPS and e.args:
        column = _column(e.args[0])
        values = _literals(e.args[1:])
        if column is None or values is None:
            return None
        transforms = (("cased",) if cased else ()) + (("term",) if base in _TERM_KINDS else ())
        return _row(column, base, values, neg, transforms, alternative, e.span)
    if fn == "search_term" and e.args:
        values = _literals(e.args)
        return None if values is None else _row(("*", ()), "has", values, neg, ("term",), alternative, e.span)
    return None


def _compare(e: B.BCall, negated: bool, alternative: bool) -> Predicate | None:
    fn = e.fn
    if fn in ("!=", "!~"):
        negated = not negated
        fn = "==" if fn == "!=" else "=~"
    left, right = e.args
    cased = fn == "==" and _textual(left) and _textual(right)
    kind = _COMPARE.get(fn, "eq")
    lcol, rcol = _column(left), _column(right)
    if lcol is not None and rcol is not None:
        # Two columns compared: the "value" is the other field, and the operator says how.
        return Predicate(lcol[0], "cross_field_compare", (f"{_OP_TEXT[kind]} {rcol[0]}",), negated,
                         _cased(cased) if kind == "eq" else (), lcol[1], alternative, e.span)
    if lcol is None and rcol is not None:
        lcol, right, kind = rcol, left, _FLIP[kind]
    if lcol is None:
        return None
    values = _literals((right,))
    if values is None:
        return None
    return _row(lcol, kind, values, negated, _cased(cased) if kind == "eq" else (), alternative, e.span)


_OP_TEXT = {"eq": "==", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _textual(e: B.BExpr) -> bool:
    """Case only matters for strings (and dynamic values holding them)."""
    return e.type.name in ("string", "dynamic")


def _cased(flag: bool) -> tuple[str, ...]:
    return ("cased",) if flag else ()


def _row(column: tuple[str, tuple[str, ...]], kind: str, values: tuple[str, ...], negated: bool,
         transforms: tuple[str, ...], alternative: bool, span: Span) -> Predicate:
    return Predicate(column[0], kind, values, negated, transforms, column[1], alternative, span)


def _column(e: B.BExpr) -> tuple[str, tuple[str, ...]] | None:
    """(field, wrappers) when `e` is a column, possibly inside wrappers or a member access; else None."""
    through: list[str] = []
    while True:
        if isinstance(e, B.BCol):
            return e.name, tuple(through)
        if isinstance(e, B.BCall) and e.fn == "member" and len(e.args) == 2 and isinstance(e.args[1], B.BLit):
            inner = _column(e.args[0])
            if inner is None:
                return None
            return f"{inner[0]}.{e.args[1].value}", tuple(through) + inner[1]
        if isinstance(e, B.BCall) and e.fn in WRAPPERS and e.args:
            through.append(e.fn)
            e = e.args[0]
            continue
        return None


def _literals(args: tuple[B.BExpr, ...] | list[B.BExpr], keep_order: bool = False) -> tuple[str, ...] | None:
    """The values of literal arguments (dynamic arrays flattened), sorted and unique unless `keep_order`."""
    out: list[object] = []
    for a in args:
        if isinstance(a, B.BCall) and a.fn == "ago" and len(a.args) == 1 and isinstance(a.args[0], B.BLit):
            out.append(_Text(f"ago({value_text(a.args[0].value, a.args[0].type.name)})"))
            continue
        if not isinstance(a, B.BLit):
            return None
        if isinstance(a.value, list):
            out.extend(_Typed(v, "") for v in a.value)
        else:
            out.append(_Typed(a.value, a.type.name))
    texts = [value_text(v.value, v.kind) if isinstance(v, _Typed) else str(v) for v in out]
    if keep_order:
        return tuple(texts)
    numeric = [v for v in out if isinstance(v, _Typed) and isinstance(v.value, int | float)
               and not isinstance(v.value, bool)]
    if len(numeric) == len(out):
        pairs = sorted(set(zip((v.value for v in numeric), texts, strict=True)))
        return tuple(dict.fromkeys(t for _, t in pairs))
    return tuple(sorted(set(texts)))


@dataclass(frozen=True)
class _Typed:
    value: object
    kind: str


class _Text(str):
    pass


def value_text(value: object, kind: str = "") -> str:
    """A literal as a reviewer reads it: strings bare, timespans in KQL units, datetimes in ISO form."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "timespan" and isinstance(value, int):
        from kqlhunt.syntax.printer import _timespan_units

        return _timespan_units(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "") + "Z"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, list | dict):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)
