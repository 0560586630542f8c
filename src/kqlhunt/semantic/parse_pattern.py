"""`parse` and `parse-where`: a `with` pattern turned into one anchored RE2 regex and typed columns.

Kusto's three kinds, as the parse-operator documentation and its examples show them:

* `simple` (default): string constants match literally; a column takes the shortest text up to the next
  constant (the first occurrence), the last column the rest; `*` skips text. Numeric columns must look
  like numbers (`-?digits`); other typed columns must convert (todatetime, ...). If any column fails, the
  row's parse fails as a whole: every extracted column is null.
* `relaxed`: like simple, but a column that does not convert is null on its own; the others keep values.
* `regex`: the constants are regular expressions; a string column is greedy (`.*`, the documented
  example captures up to the *last* delimiter) unless the `U` flag swaps greediness; flags `i m s U`.

The pattern is anchored at both ends (`\\A ... \\z`): that is why Kusto's examples end with `*` when text
follows the last delimiter. `parse-where` keeps only rows whose parse succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from kqlhunt.diagnostics import Span, error, unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import BOOL, BY_NAME, LONG, STRING, KType
from kqlhunt.syntax import ast as A

KINDS = ("simple", "regex", "relaxed")
FLAGS = set("imsU")
_RE2_SPECIAL = set("\\.+*?()|[]{}^$#&-~")
_NUMBER = {"int": r"-?\d+", "long": r"-?\d+", "real": r"-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"}
# Kusto's conversion function for each type
CONVERTERS = {"string": "tostring", "int": "toint", "long": "tolong", "real": "toreal", "decimal": "todecimal", "bool": "tobool",
            "datetime": "todatetime", "timespan": "totimespan", "guid": "toguid", "dynamic": "todynamic"}


@dataclass(frozen=True, slots=True)
class ParseColumn:
    name: str
    type: KType
    group: int  # the number of the capture group holding its text
    span: Span


@dataclass(frozen=True, slots=True)
class ParsePlan:
    pattern: str
    columns: tuple[ParseColumn, ...]
    kind: str


def re2_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def count_groups(regex: str) -> int:
    """Capture groups in an RE2 pattern: `(` not followed by `?`, or a named group `(?P<` / `(?<`."""
    n, i, in_class = 0, 0, False
    while i < len(regex):
        ch = regex[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if regex[i + 1:i + 2] == "]":
                i += 1  # a leading `]` is a literal inside the class
        elif ch == "(" and (regex[i + 1:i + 2] != "?" or regex[i + 2:i + 4] in ("P<", "<") or
                            regex[i + 2:i + 3] == "<" and regex[i + 3:i + 4] not in ("=", "!")):
            n += 1
        i += 1
    return n


def plan_parse(op: A.Parse) -> ParsePlan:
    kind, flags = "simple", ""
    for opt in op.options:
        value = opt.value.value if isinstance(opt.value, A.Literal) else None
        if opt.name == "kind":
            if value not in KINDS:
                raise error("KH220", f"parse kind must be one of {', '.join(KINDS)}", opt.span)
            kind = str(value)
        elif opt.name == "flags":
            flags = str(value)
            if not set(flags) <= FLAGS:
                raise unsupported(f"regex flags `{flags}` in parse (kqlhunt knows i, m, s and U)", opt.span)
    if flags and kind != "regex":
        raise error("KH220", "parse flags= needs kind=regex", op.span)

    pieces: list[str] = []
    columns: list[ParseColumn] = []
    groups = 0  # capture groups so far (regex-mode constants may bring their own)
    for i, part in enumerate(op.parts):
        if part.kind == "star":
            if i > 0 and op.parts[i - 1].kind == "column" and (op.parts[i - 1].type_name or "string") == "string":
                raise error("KH220", "`*` cannot follow a string column in a parse pattern", part.span)
            pieces.append(".*?")
        elif part.kind == "text":
            if kind == "regex":
                pieces.append(f"(?:{part.value})")
                groups += count_groups(part.value)
            else:
                pieces.append(re2_escape(part.value))
        else:
            type_name = part.type_name or "string"
            if any(c.name == part.value for c in columns):
                raise error("KH213", f"column `{part.value}` appears twice in the parse pattern", part.span)
            groups += 1
            if kind == "relaxed" or type_name not in _NUMBER:
                body = ".*" if kind == "regex" else ".*?"
            else:
                body = _NUMBER[type_name]
            pieces.append(f"({body})")
            columns.append(ParseColumn(part.value, BY_NAME[type_name], groups, part.span))
    if not columns:
        raise error("KH220", "a parse pattern needs at least one column", op.span)
    prefix = f"(?{flags})" if flags else ""
    return ParsePlan(prefix + r"\A" + "".join(pieces) + r"\z", tuple(columns), kind)


def parse_items(plan: ParsePlan, text: B.BExpr, span: Span) -> tuple[B.BExpr, list[tuple[str, B.BExpr]]]:
    """The row's success predicate and each extracted column's expression.

    `$parse_match(text, pattern)` and `$parse_group(text, pattern, group)` are internal functions (names no
    query can spell); typed columns go through Kusto's own conversion functions.
    """
    if text.type.name != "string":
        text = B.BCall(STRING, text.span, "tostring", (text,))
    pattern = B.BLit(STRING, span, plan.pattern)
    matched: B.BExpr = B.BCall(BOOL, span, "$parse_match", (text, pattern))
    values: list[tuple[str, B.BExpr]] = []
    for c in plan.columns:
        raw: B.BExpr = B.BCall(STRING, c.span, "$parse_group", (text, pattern, B.BLit(LONG, c.span, c.group)))
        value = raw if c.type.name == "string" else B.BCall(c.type, c.span, CONVERTERS[c.type.name], (raw,))
        values.append((c.name, value))
    if plan.kind != "relaxed":
        for (_, value), c in zip(values, plan.columns, strict=True):
            if c.type.name not in ("string", *_NUMBER):
                matched = B.BCall(BOOL, span, "and", (matched, B.BCall(BOOL, span, "isnotnull", (value,))))
    out = []
    for name, value in values:
        empty = B.BLit(value.type, span, "" if value.type.name == "string" else None)
        out.append((name, B.BCall(value.type, span, "iif", (matched, value, empty))))
    return matched, out


__all__ = ["plan_parse", "parse_items", "ParsePlan", "re2_escape"]
