"""Value conversion and result comparison for the Kusto documentation conformance cases.

Input: a query result (a `pyarrow.Table` whose fields carry `kql_type` metadata, see docs/CONVENTIONS.md)
and a frozen expectation `{"columns", "column_types" (.NET names), "rows" (Kusto JSON values)}`.
Output: a `Verdict` saying whether they agree under the rules of ../shared/conformance/README.md:

- rows compare as a multiset, unless the query's final pipeline ends with sort/order by/top (and no later
  summarize/join/union/distinct/count discards the order): then rows compare in order of the sort keys,
  rows tied on the keys compare as a multiset; a trailing take/limit without a sort: row count only;
- floats: relative 1e-9 / absolute 1e-12, or 5 % when the query uses an estimating aggregate; NaN == NaN;
  2.0 == 2;
- column names must match; column types compare through the .NET type names;
- cases whose results depend on now()/ago()/rand()/sample/cursor_current() are skipped.

Everything here is pure Python over plain values (pyarrow only for reading the result table), so it can be
unit-tested with hand-written inputs.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

# --------------------------------------------------------------------------------------------- types

#: Kusto type name -> .NET type name used in the frozen expectations (bool travels as SByte).
DOTNET_TYPE = {
    "bool": "SByte",
    "int": "Int32",
    "long": "Int64",
    "real": "Double",
    "decimal": "Decimal",
    "string": "String",
    "guid": "Guid",
    "datetime": "DateTime",
    "timespan": "TimeSpan",
    "dynamic": "Object",
}

#: Spellings Kusto accepts for its types, folded onto the canonical names above.
KQL_TYPE_ALIASES = {
    "boolean": "bool",
    "int32": "int",
    "int64": "long",
    "double": "real",
    "date": "datetime",
    "time": "timespan",
    "uniqueid": "guid",
}


def dotnet_type(kql_type: str) -> str:
    """`long` -> `Int64`; unknown names come back unchanged so a mismatch stays visible."""
    name = kql_type.strip().lower()
    name = KQL_TYPE_ALIASES.get(name, name)
    return DOTNET_TYPE.get(name, kql_type)


# ------------------------------------------------------------------------------ datetime / timespan

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]00:?00)?$"
)
_TIMESPAN_RE = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$")


def format_datetime(ticks: int) -> str:
    """100-ns ticks since 1970-01-01 UTC -> Kusto's JSON text: `2017-08-01T00:00:00Z`, fraction trimmed
    (`...T04:32:02.4Z`, `...T23:59:59.9999999Z`), as the frozen real-engine results show."""
    days, rest = divmod(ticks, TICKS_PER_DAY)
    day = dt.date.fromordinal(_EPOCH_ORDINAL + days)
    seconds, frac = divmod(rest, TICKS_PER_SECOND)
    hh, rem = divmod(seconds, 3600)
    mm, ss = divmod(rem, 60)
    text = f"{day.isoformat()}T{hh:02d}:{mm:02d}:{ss:02d}"
    if frac:
        text += "." + f"{frac:07d}".rstrip("0")
    return text + "Z"


def parse_datetime(text: str) -> int:
    """Kusto/ISO-8601 UTC text -> ticks since the epoch. Accepts 1..7 fraction digits, `Z` or `+00:00`."""
    m = _DATETIME_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a Kusto datetime: {text!r}")
    year, month, day, hh, mm = (int(g) for g in m.groups()[:5])
    ss = int(m.group(6) or 0)
    frac = int((m.group(7) or "").ljust(7, "0") or 0)
    days = dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL
    return days * TICKS_PER_DAY + (hh * 3600 + mm * 60 + ss) * TICKS_PER_SECOND + frac


def format_timespan(ticks: int) -> str:
    """Ticks -> Kusto's timespan text (.NET "c" format): `-12:00:00`, `4.00:00:00`, `03:12:14.4000000`."""
    sign = "-" if ticks < 0 else ""
    days, rest = divmod(abs(ticks), TICKS_PER_DAY)
    seconds, frac = divmod(rest, TICKS_PER_SECOND)
    hh, rem = divmod(seconds, 3600)
    mm, ss = divmod(rem, 60)
    text = f"{sign}{f'{days}.' if days else ''}{hh:02d}:{mm:02d}:{ss:02d}"
    return text + (f".{frac:07d}" if frac else "")


def parse_timespan(text: str) -> int:
    """Kusto timespan text -> ticks; accepts both `1.02:03:04.5` and `1.02:03:04.5000000`."""
    m = _TIMESPAN_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a Kusto timespan: {text!r}")
    neg, days, hh, mm, ss, frac = m.groups()
    ticks = ((int(days or 0) * 24 + int(hh)) * 3600 + int(mm) * 60 + int(ss)) * TICKS_PER_SECOND
    ticks += int((frac or "").ljust(7, "0") or 0)
    return -ticks if neg else ticks


# ----------------------------------------------------------------------- Arrow result -> Kusto JSON

_FLOAT_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def kusto_float(value: float | None) -> float | str | None:
    """Kusto's JSON spells non-finite reals as strings (the frozen results hold `"NaN"`)."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


@dataclass(frozen=True)
class KustoResult:
    """A result table in the shape of the frozen expectations: names, .NET types, rows of JSON values."""

    columns: list[str]
    column_types: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


def _kql_type_of(arrow_field: Any) -> tuple[str, str | None]:
    """The field's `kql_type` metadata, else a guess from the Arrow type (with a note saying so)."""
    import pyarrow as pa

    meta = arrow_field.metadata or {}
    if b"kql_type" in meta:
        return meta[b"kql_type"].decode(), None
    t = arrow_field.type
    guesses = [
        (pa.types.is_boolean, "bool"),
        (pa.types.is_int32, "int"),
        (pa.types.is_integer, "long"),
        (pa.types.is_floating, "real"),
        (pa.types.is_decimal, "decimal"),
        (pa.types.is_timestamp, "datetime"),
        (pa.types.is_duration, "timespan"),
    ]
    guess = next((name for test, name in guesses if test(t)), "string")
    return guess, f"column {arrow_field.name!r} has no kql_type metadata (guessed {guess} from {t})"


def _column_values(column: Any, kql_type: str) -> list[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = column.type
    if kql_type in ("datetime", "timespan") and (pa.types.is_timestamp(t) or pa.types.is_duration(t)):
        # Integer arithmetic on the raw counts keeps full precision (no float or datetime rounding).
        fmt = format_datetime if kql_type == "datetime" else format_timespan
        raw = pc.cast(column, pa.int64()).to_pylist()
        return [None if v is None else fmt(_ticks(v, t.unit)) for v in raw]
    values = column.to_pylist()
    if kql_type == "dynamic":
        return [None if v is None else json.loads(v) if isinstance(v, str) else v for v in values]
    if kql_type == "real":
        return [kusto_float(v) for v in values]
    if kql_type == "decimal":
        return [None if v is None else str(v) for v in values]
    if kql_type == "guid":
        return [None if v is None else str(v).lower() for v in values]
    return values


def _ticks(raw: int, unit: str) -> int:
    """A raw Arrow timestamp/duration count in `unit` -> 100-ns ticks (nanoseconds floor to a tick)."""
    return raw // 100 if unit == "ns" else raw * {"s": TICKS_PER_SECOND, "ms": 10_000, "us": 10}[unit]


def arrow_to_kusto(table: Any) -> KustoResult:
    """pyarrow.Table (CONVENTIONS.md result shape) -> names, .NET types and Kusto JSON row values."""
    columns, types, cols, notes = [], [], [], []
    for i, arrow_field in enumerate(table.schema):
        kql_type, note = _kql_type_of(arrow_field)
        if note:
            notes.append(note)
        columns.append(arrow_field.name)
        types.append(dotnet_type(kql_type))
        cols.append(_column_values(table.column(i), KQL_TYPE_ALIASES.get(kql_type, kql_type)))
    rows = [list(r) for r in zip(*cols, strict=True)] if cols else []
    return KustoResult(columns, types, rows, notes)


# ------------------------------------------------------------------------------- value comparison


@dataclass(frozen=True)
class Tolerance:
    rel: float = 1e-9
    abs: float = 1e-12


EXACT = Tolerance()
ESTIMATE = Tolerance(rel=0.05, abs=1e-12)

#: Datetime results are timestamp[us] by convention while Kusto keeps 100-ns ticks, so datetimes compare
#: at the API's resolution: equal when less than one microsecond apart.
DATETIME_SLACK_TICKS = 10


class _Unparsable:
    """Stands for a value that could not be read as the column's type; equal only to itself."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"unparsable({self.raw!r})"


def normalize(value: Any, dotnet: str) -> Any:
    """One cell (Kusto JSON convention) -> a comparable Python value for its .NET column type."""
    if value is None:
        return None
    try:
        if dotnet == "DateTime":
            return parse_datetime(value) if isinstance(value, str) else _Unparsable(value)
        if dotnet == "TimeSpan":
            return parse_timespan(value) if isinstance(value, str) else _Unparsable(value)
        if dotnet == "Double":
            if isinstance(value, str):
                return _FLOAT_TEXT[value] if value in _FLOAT_TEXT else float(value)
            if isinstance(value, bool):
                return _Unparsable(value)
            return float(value)
        if dotnet in ("Int64", "Int32"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return _Unparsable(value)
            return value
        if dotnet == "SByte":
            if isinstance(value, bool):
                return value
            return value != 0 if isinstance(value, int) else _Unparsable(value)
        if dotnet == "Decimal":
            return Decimal(str(value))
        if dotnet == "Guid":
            return str(value).lower()
        if dotnet == "Object":
            return _dynamic_numbers(value)
    except (ValueError, KeyError, InvalidOperation, OverflowError):
        return _Unparsable(value)
    return value


def _dynamic_numbers(value: Any) -> Any:
    """Inside dynamic values, read the non-finite spellings as floats so NaN == NaN holds there too."""
    if isinstance(value, list):
        return [_dynamic_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _dynamic_numbers(v) for k, v in value.items()}
    return value


def numbers_close(a: float, b: float, tol: Tolerance) -> bool:
    if (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    if a == b:
        return True
    return abs(a - b) <= max(tol.rel * max(abs(a), abs(b)), tol.abs)


def values_equal(a: Any, b: Any, dotnet: str, tol: Tolerance) -> bool:
    """Two normalized cells of a column of type `dotnet`."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, _Unparsable) or isinstance(b, _Unparsable):
        return isinstance(a, _Unparsable) and isinstance(b, _Unparsable) and a.raw == b.raw
    if dotnet == "DateTime":
        return abs(a - b) < DATETIME_SLACK_TICKS
    if dotnet in ("Double", "Int64", "Int32", "Decimal"):
        if tol is EXACT and isinstance(a, int) and isinstance(b, int):
            return a == b
        return numbers_close(float(a), float(b), tol)
    if dotnet == "Object":
        return dynamic_equal(a, b, tol)
    return a == b


def dynamic_equal(a: Any, b: Any, tol: Tolerance) -> bool:
    """Deep JSON equality: objects by key set, arrays in order, numbers with tolerance, bool is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, int) and isinstance(b, int) and tol is EXACT:
            return a == b
        return numbers_close(float(a), float(b), tol)
    if isinstance(a, str) and isinstance(b, str) and (a in _FLOAT_TEXT or b in _FLOAT_TEXT):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(dynamic_equal(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(dynamic_equal(a[k], b[k], tol) for k in a)
    if isinstance(a, int | float) and isinstance(b, str) or isinstance(a, str) and isinstance(b, int | float):
        # A non-finite real inside a dynamic value may travel as "NaN" on one side and a float on the other.
        x, y = (b, a) if isinstance(a, str) else (a, b)
        return y in _FLOAT_TEXT and numbers_close(float(x), _FLOAT_TEXT[y], tol)
    return type(a) is type(b) and a == b


def _freeze(value: Any) -> Any:
    """Hashable exact form of a normalized cell, for the fast exact-match pass of the multiset compare."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, list):
        return ("list", tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _freeze(v)) for k, v in value.items())))
    if isinstance(value, _Unparsable):
        return ("unparsable", repr(value.raw))
    return value


# ------------------------------------------------------------------------------ reading the query

_OPERATOR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

#: One lexical piece of a query: (bracket depth, text, is a string literal). Comments are dropped.
_Piece = tuple[int, str, bool]


def _scan(kql: str) -> list[_Piece]:
    """Split a query into characters outside string literals and whole string literals, with the
    (), [] and {} nesting depth of each, so that separators inside strings or brackets are never seen."""
    out: list[_Piece] = []
    depth, i, n = 0, 0, len(kql)
    while i < n:
        ch = kql[i]
        if kql.startswith("//", i):
            j = kql.find("\n", i)
            i = n if j < 0 else j
            continue
        if kql.startswith("```", i) or kql.startswith("~~~", i):
            j = kql.find(kql[i : i + 3], i + 3)
            j = n if j < 0 else j + 3
            out.append((depth, kql[i:j], True))
            i = j
            continue
        verbatim = ch in "@hH" and i + 1 < n and kql[i + 1] in "'\"" and not (i and kql[i - 1].isalnum())
        if ch in "'\"" or verbatim:
            start = i
            if verbatim:
                i += 1
            quote, i = kql[i], i + 1
            while i < n and kql[i] != quote:
                i += 2 if kql[i] == "\\" and not verbatim else 1
            i += 1
            out.append((depth, kql[start:i], True))
            continue
        if ch in ")]}":
            depth = max(depth - 1, 0)
        out.append((depth, ch, False))
        if ch in "([{":
            depth += 1
        i += 1
    return out


def _split_top(pieces: list[_Piece], sep: str) -> list[list[_Piece]]:
    """Split at `sep` where it is outside brackets and strings."""
    parts: list[list[_Piece]] = [[]]
    for piece in pieces:
        if piece[0] == 0 and not piece[2] and piece[1] == sep:
            parts.append([])
        else:
            parts[-1].append(piece)
    return parts


def _text(pieces: list[_Piece]) -> str:
    return "".join(p[1] for p in pieces)


def code_text(kql: str) -> str:
    """The query without comments and with every string literal emptied to `''`."""
    return "".join("''" if is_str else text for _, text, is_str in _scan(kql))


def final_pipeline(kql: str) -> list[str]:
    """Top-level pipe segments of the query's last statement (the one that produces the result)."""
    statements = [s for s in _split_top(_scan(kql), ";") if _text(s).strip()]
    if not statements:
        return []
    return [_text(seg).strip() for seg in _split_top(statements[-1], "|")]


def operator_name(segment: str) -> str:
    """`sort by x desc` -> `sort`; `project-away *1` -> `project-away`; `top 3 by x` -> `top`."""
    m = _OPERATOR_RE.match(segment.strip())
    return m.group(0).lower() if m else ""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Operators after which the engine need not keep the input order (README list, plus their kin:
#: lookup is a join, make-series/top-nested/top-hitters aggregate like summarize, partition unions the
#: results of its sub-queries -- the frozen scan-operator-04 lists the users as 1, 3, 2).
ORDER_DISCARDING = _words("summarize join lookup union distinct count make-series top-nested top-hitters "
                          "partition")
#: Row-wise operators: they keep whatever order (or arbitrariness) their input had.
ROW_WISE = _words(
    "project project-away project-keep project-rename project-reorder extend where filter take limit render "
    "serialize as parse parse-where mv-expand mvexpand mv-apply invoke getschema"
)

_SORT_KEY_RE = re.compile(r"\s+(asc|desc)\b.*$|\s+nulls\s+(first|last)\s*$", re.IGNORECASE)
_IDENT_RE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|\[\s*'[^']*'\s*\]|\[\s*\"[^\"]*\"\s*\])$")


@dataclass(frozen=True)
class RowOrder:
    """How the rows of a case must be compared."""

    mode: Literal["multiset", "ordered", "count"]
    #: sort keys in order; None for a key that is an expression rather than a column name
    keys: tuple[str | None, ...] = ()
    #: a take/limit/top cut the sorted rows, so the last group of tied rows may be any of the ties
    truncated: bool = False


def _sort_keys(clause: str) -> tuple[str | None, ...]:
    """`a desc, strlen(b) asc nulls last` -> ('a', None)."""
    keys: list[str | None] = []
    for part in _split_top(_scan(clause), ","):
        expr = _SORT_KEY_RE.sub("", _text(part).strip()).strip()
        if _IDENT_RE.match(expr):
            keys.append(expr.strip("[]").strip().strip("'\"") if expr.startswith("[") else expr)
        else:
            keys.append(None)
    return tuple(keys)


def row_order(kql: str) -> RowOrder:
    """Decide between ordered, multiset and row-count-only comparison from the query's final pipeline."""
    segments = final_pipeline(kql)
    sort_at: int | None = None
    for i, seg in enumerate(segments):
        op = operator_name(seg)
        if op in ("sort", "order", "top"):
            sort_at = i
        elif op in ORDER_DISCARDING:
            sort_at = None
    if sort_at is None:
        # Unsorted rows cut by take/limit: which rows survive is the engine's choice.
        for i, seg in enumerate(segments):
            if operator_name(seg) in ("take", "limit") and all(
                operator_name(s) in ROW_WISE for s in segments[i + 1 :]
            ):
                return RowOrder("count")
        return RowOrder("multiset")
    seg = segments[sort_at]
    op = operator_name(seg)
    by = re.search(r"\bby\b", seg)
    keys = _sort_keys(seg[by.end() :]) if by else ()
    truncated = op == "top" or any(operator_name(s) in ("take", "limit") for s in segments[sort_at + 1 :])
    return RowOrder("ordered", keys, truncated)


_NONDETERMINISTIC = [
    (re.compile(r"\bnow\s*\("), "now()"),
    (re.compile(r"\bago\s*\("), "ago()"),
    (re.compile(r"\brand\s*\("), "rand()"),
    (re.compile(r"\bcursor_current\s*\("), "cursor_current()"),
    (re.compile(r"\|\s*sample(-distinct)?\b"), "sample"),
    # not in the README's list, but as random as rand(): a fresh guid per call
    (re.compile(r"\bnew_guid\s*\("), "new_guid()"),
]


def nondeterministic_reason(kql: str) -> str | None:
    """Why a case's result depends on the clock or chance (None when it does not)."""
    code = code_text(kql)
    for pattern, what in _NONDETERMINISTIC:
        if pattern.search(code):
            return f"depends on {what}"
    return None


_ESTIMATE_RE = re.compile(
    r"\b(dcount|dcountif|dcount_hll|percentiles?|percentilesw?|percentilew|percentiles_array|"
    r"percentilesw_array|tdigest|tdigest_merge|merge_tdigest|percentile_tdigest|percentile_array_tdigest)\s*\("
)


def uses_estimates(kql: str) -> bool:
    """Does the query call an estimating aggregate (README: dcount, dcountif, percentile(s), percentilew,
    tdigest; dcount_hll and the tdigest helpers are the same estimators)?"""
    return bool(_ESTIMATE_RE.search(code_text(kql)))


# ------------------------------------------------------------------------------ table comparison


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: list[str]
    mode: str


def _rows_equal(a: Sequence[Any], b: Sequence[Any], types: Sequence[str], tol: Tolerance) -> bool:
    return len(a) == len(b) and all(values_equal(x, y, t, tol) for x, y, t in zip(a, b, types, strict=True))


def match_multiset(
    expected: list[list[Any]], actual: list[list[Any]], types: Sequence[str], tol: Tolerance
) -> tuple[list[int], list[int]]:
    """Pair rows equal under `tol`; return indexes of unmatched expected and unmatched actual rows.

    Exact matches pair first (hashing); the rest pair by maximum bipartite matching, so a row that is
    close to two candidates cannot steal the only partner of another row."""
    exact: dict[Any, list[int]] = {}
    for j, row in enumerate(actual):
        exact.setdefault(tuple(_freeze(v) for v in row), []).append(j)
    left_e, used = [], set()
    for i, row in enumerate(expected):
        bucket = exact.get(tuple(_freeze(v) for v in row))
        if bucket:
            used.add(bucket.pop(0))
        else:
            left_e.append(i)
    left_a = [j for j in range(len(actual)) if j not in used]
    if not left_e or not left_a:
        return left_e, left_a
    edges = {i: [j for j in left_a if _rows_equal(expected[i], actual[j], types, tol)] for i in left_e}
    partner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                if j not in partner or augment(partner[j], seen):
                    partner[j] = i
                    return True
        return False

    unmatched_e = [i for i in left_e if not augment(i, set())]
    unmatched_a = [j for j in left_a if j not in partner]
    return unmatched_e, unmatched_a


def _fmt_rows(rows: Iterable[Sequence[Any]], limit: int = 5) -> str:
    rows = list(rows)
    shown = "; ".join(json.dumps(r, default=repr) for r in rows[:limit])
    return shown + (f"; ... ({len(rows) - limit} more)" if len(rows) > limit else "")


def _compare_ordered(
    exp: list[list[Any]],
    act: list[list[Any]],
    types: Sequence[str],
    key_idx: list[int],
    truncated: bool,
    tol: Tolerance,
    raw_exp: list[list[Any]],
    raw_act: list[list[Any]],
) -> list[str]:
    """Rows must follow the expected sequence of sort-key values; rows tied on the keys form a multiset.
    When a take/top cut the sorted rows, the last tie group only has to agree on its keys."""
    if len(exp) != len(act):
        return [f"row count: expected {len(exp)}, got {len(act)}"]
    key_types = [types[k] for k in key_idx]

    def key(row: Sequence[Any]) -> list[Any]:
        return [row[k] for k in key_idx]

    start = 0
    while start < len(exp):
        end = start + 1
        while end < len(exp) and _rows_equal(key(exp[end]), key(exp[start]), key_types, tol):
            end += 1
        for pos in range(start, end):
            if not _rows_equal(key(act[pos]), key(exp[start]), key_types, tol):
                return [
                    f"order: row {pos} has sort key {json.dumps(key(raw_act[pos]), default=repr)}, "
                    f"expected {json.dumps(key(raw_exp[start]), default=repr)}"
                ]
        last_cut_group = truncated and end == len(exp)
        if not last_cut_group:
            miss, extra = match_multiset(exp[start:end], act[start:end], types, tol)
            if miss or extra:
                return [
                    f"rows {start}..{end - 1} (tied on the sort key) differ: missing "
                    f"{_fmt_rows(raw_exp[start + i] for i in miss)} | unexpected "
                    f"{_fmt_rows(raw_act[start + j] for j in extra)}"
                ]
        start = end
    return []


def compare(expected: dict, actual: KustoResult, order: RowOrder, tol: Tolerance = EXACT) -> Verdict:
    """Compare a frozen expectation with a converted result under the conformance README's rules."""
    problems: list[str] = []
    e_cols, e_types = list(expected["columns"]), list(expected["column_types"])
    if actual.columns != e_cols:
        problems.append(f"column names: expected {e_cols}, got {actual.columns}")
    if len(actual.column_types) == len(e_types):
        for name, want, got in zip(e_cols, e_types, actual.column_types, strict=True):
            if want != got:
                problems.append(f"column {name!r} type: expected {want}, got {got}")
    if len(actual.columns) != len(e_cols):
        return Verdict(False, problems, order.mode)

    raw_exp, raw_act = expected["rows"], actual.rows
    exp = [[normalize(v, t) for v, t in zip(row, e_types, strict=True)] for row in raw_exp]
    act = [[normalize(v, t) for v, t in zip(row, e_types, strict=True)] for row in raw_act]
    mode = order.mode
    key_idx: list[int] = []
    if mode == "ordered":
        for k in order.keys:
            if k is None or k not in e_cols:
                break  # compare on the longest prefix of keys that are output columns
            key_idx.append(e_cols.index(k))
        if not key_idx:
            mode = "multiset"  # the leading key is not an output column: order cannot be checked

    if mode == "count":
        if len(exp) != len(act):
            problems.append(f"row count: expected {len(exp)}, got {len(act)}")
    elif mode == "ordered":
        problems += _compare_ordered(exp, act, e_types, key_idx, order.truncated, tol, raw_exp, raw_act)
    else:
        if len(exp) != len(act):
            problems.append(f"row count: expected {len(exp)}, got {len(act)}")
        miss, extra = match_multiset(exp, act, e_types, tol)
        if miss:
            problems.append(f"missing rows: {_fmt_rows(raw_exp[i] for i in miss)}")
        if extra:
            problems.append(f"unexpected rows: {_fmt_rows(raw_act[j] for j in extra)}")
    if mode == "ordered":
        mode = "ordered by " + ", ".join(e_cols[i] for i in key_idx) + (" (cut)" if order.truncated else "")
    return Verdict(not problems, problems, mode)


# ------------------------------------------------------------------------------ function families

#: Function name -> family, for the per-family totals (tags also hold literals and keywords: "syntax").
_FAMILY_NAMES: dict[str, str] = {
    "aggregate": (
        "any anyif arg_max arg_min avg avgif binary_all_and binary_all_or binary_all_xor buildschema "
        "clipped_average count count_distinct count_distinctif countif covariance covarianceif "
        "covariancep covariancepif dcount dcount_hll dcountif hll hll_if hll_merge make_bag make_bag_if "
        "make_list make_list_if make_list_with_nulls make_set make_set_if makelist makeset max maxif "
        "merge_tdigest min minif rank_tdigest stdev stdevif stdevp sum sumif take_any take_anyif tdigest "
        "tdigest_merge variance varianceif variancep variancepif"
    ),
    "window": ("next prev row_cumsum row_number row_rank_dense row_rank_min row_window_session"),
    "conditional": (
        "between case coalesce column_ifexists iff iif isempty isnotempty isnotnull isnull max_of min_of not"
    ),
    "conversion": (
        "gettype parse_json tobool toboolean todatetime todecimal todouble todynamic toguid toint tolong "
        "toobject toreal toscalar tostring totimespan typeof"
    ),
    "literal": (
        "bool boolean datatable date datetime decimal double dynamic guid int long real string time timespan"
    ),
    "math": (
        "abs acos asin atan atan2 beta_cdf beta_inv beta_pdf bin bin_at bin_auto bitset_count_ones "
        "ceiling cos cot degrees erf erfc exp exp10 exp2 floor gamma hash isfinite isinf isnan log log10 "
        "log2 loggamma pi pow power radians rand round sign sin sqrt tan welch_test"
    ),
    "string": (
        "base64_decode_toarray base64_decode_toguid base64_decode_tostring base64_encode_fromarray "
        "base64_encode_fromguid base64_encode_tostring countof extract extract_all extractjson "
        "format_bytes gzip_compress_to_base64_string gzip_decompress_from_base64_string has_any_index "
        "hash_combine hash_many hash_md5 hash_sha1 hash_sha256 hash_xxhash64 indexof indexof_regex "
        "isascii isutf8 make_string new_guid parse_command_line parse_csv punycode_from_string "
        "punycode_to_string replace replace_regex replace_string reverse split strcat strcat_array "
        "strcat_delim strcmp string_size strlen strrep substring tolower toupper translate trim trim_end "
        "trim_start zlib_compress_to_base64_string zlib_decompress_from_base64_string"
    ),
    "datetime": (
        "ago cursor_current dayofmonth dayofweek dayofyear format_datetime format_timespan getmonth "
        "getyear hourofday make_datetime make_timespan monthofyear now "
        "unixtime_microseconds_todatetime unixtime_milliseconds_todatetime "
        "unixtime_nanoseconds_todatetime unixtime_seconds_todatetime week_of_year weekofyear"
    ),
    "url-path": (
        "parse_path parse_url parse_urlquery parse_user_agent parse_version parse_xml url_decode "
        "url_encode url_encode_component"
    ),
    "plugin": (
        "activity_counts_metrics activity_engagement activity_metrics autocluster bag_unpack basket "
        "dcount_intersect diffpatterns funnel_sequence funnel_sequence_completion infer_storage_schema "
        "ipv4_lookup ipv6_lookup market_basket narrow new_activity_metrics pivot preview python r "
        "rolling_percentile schema_merge sequence_detect session_count sliding_window_counts sql_request"
    ),
    "syntax": (
        "and broadcast by declare extend false fork from in inner innerunique kind let materialize of on "
        "or outer range step to true union view where with"
    ),
}
_FAMILY_EXACT = {name: family for family, names in _FAMILY_NAMES.items() for name in _words(names)}
#: Prefix -> family, tried in order when the exact table has no entry.
_FAMILY_PREFIX = [
    ("series_", "series"),
    ("geo_", "geo"),
    ("ipv4_", "ip"),
    ("ipv6_", "ip"),
    ("parse_ipv", "ip"),
    ("format_ipv", "ip"),
    ("array_", "dynamic"),
    ("bag_", "dynamic"),
    ("set_", "dynamic"),
    ("pack", "dynamic"),
    ("zip", "dynamic"),
    ("repeat", "dynamic"),
    ("treepath", "dynamic"),
    ("jaccard", "dynamic"),
    ("dynamic_to_json", "dynamic"),
    ("startof", "datetime"),
    ("endof", "datetime"),
    ("datetime_", "datetime"),
    ("percentile", "aggregate"),
    ("unicode_", "string"),
    ("binary_", "math"),
    ("graph_", "graph"),
    ("make_graph", "graph"),
    ("hll", "aggregate"),
    ("tdigest", "aggregate"),
    ("has", "string"),
    ("countif", "aggregate"),
    ("regex", "string"),
    ("punycode_", "string"),
    ("convert_", "math"),
    ("unixtime", "datetime"),
    ("fromunixtime", "datetime"),
    ("tounixtime", "datetime"),
]


def function_family(name: str) -> str:
    """`make_set` -> aggregate, `series_stats` -> series, `datetime_diff` -> datetime; unknown -> other."""
    low = name.lower()
    if low in _FAMILY_EXACT:
        return _FAMILY_EXACT[low]
    for prefix, family in _FAMILY_PREFIX:
        if low.startswith(prefix):
            return family
    return "other"
