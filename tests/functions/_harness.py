"""Data-driven edge-case checks for the functions and operators the three seed hunts use.

Every case is a self-contained KQL query (`print`, `datatable`, `range`) with the answer Microsoft's Kusto
engine gives, taken from (in order of preference):

* ``frozen``: /work/shared/conformance/kusto-docs-dev.json (real-engine results, cited by case id);
* ``docs``: the Kusto documentation (MicrosoftDocs/dataexplorer-docs, cited by page);
* ``measured``: results the duckdb-kql project (github.com/mmaitre314/duckdb-kql, the same project the frozen
  file comes from) states it measured on the Kusto Emulator, cited by test file;
* ``reasoning``: written out in the case where the docs are silent.

Never from running kqlhunt. An expectation is one of

* rows (a list of tuples; values in the Python form described in `_norm_expected`);
* `REFUSED`: kqlhunt must raise `KqlError` with a ``KH3..`` (unsupported) code;
* `KUSTO_ERROR`: Kusto itself rejects the query, so kqlhunt must raise `KqlError` (any code) -- never answer;
* a callable `check(table, rows) -> None` for answers with documented freedom (e.g. `innerunique`).

Cases marked `may_refuse=True` cover constructs the seed hunts do not use: for them a ``KH3..`` refusal is
as good as the right answer (any other answer still fails). Everything else must be answered correctly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

import kqlhunt

PINNED_NOW = "2024-05-01T12:00:00Z"

ARROW_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "real": pa.float64(),
    "decimal": pa.decimal128(38, 18),
    "string": pa.string(),
    "guid": pa.string(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "timespan": pa.duration("ns"),
    "dynamic": pa.string(),
}


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REFUSED = _Sentinel("REFUSED")  # kqlhunt does not implement it: must raise KqlError KH3xx
KUSTO_ERROR = _Sentinel("KUSTO_ERROR")  # Kusto rejects the query: kqlhunt must raise KqlError
NAN = float("nan")


@dataclass(frozen=True)
class Case:
    id: str
    kql: str
    columns: Sequence[str] | None
    types: Sequence[str | None] | None
    expected: Any  # rows | REFUSED | KUSTO_ERROR | callable(table)
    source: str
    ordered: bool = False
    now: str | None = PINNED_NOW
    rel_tol: float = 1e-9
    xfail: str | None = None
    may_refuse: bool = False  # not needed by the seeds: a KH3xx refusal is an acceptable outcome too
    marks: tuple = field(default=())


def case(id: str, kql: str, columns, types, expected, source: str, **kw: Any) -> Case:
    return Case(id, kql, columns, types, expected, source, **kw)


def params(cases: Sequence[Case]) -> list:
    ids = [c.id for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate case ids: {dupes}"
    out = []
    for c in cases:
        marks = list(c.marks)
        if c.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=c.xfail))
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


# ------------------------------------------------------------------------------------ value normalisation

_TS_RE = re.compile(
    r"^(?:(?P<sign>-))?(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d{1,7}))?$"
)


def timespan_ns(text: str) -> int:
    """Kusto's printed timespan (`-1.02:03:04.5000000`) as nanoseconds."""
    m = _TS_RE.match(text)
    assert m, f"bad timespan literal in test data: {text!r}"
    frac = (m["frac"] or "").ljust(7, "0")
    ticks = ((int(m["days"] or 0) * 24 + int(m["h"])) * 60 + int(m["m"])) * 60 + int(m["s"])
    ticks = ticks * 10_000_000 + int(frac)
    return (-ticks if m["sign"] else ticks) * 100


def datetime_us(text: str) -> int:
    """ISO-8601 UTC text (`2017-01-01T00:00:00Z`, optional fraction) as microseconds since the epoch."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?Z?$", text)
    assert m, f"bad datetime literal in test data: {text!r}"
    frac = (m[5] or "").ljust(7, "0")
    assert frac[6] == "0", "sub-microsecond datetimes cannot be represented in timestamp[us]"
    base = datetime.fromisoformat(m[1]).replace(tzinfo=UTC)
    secs = int(base.timestamp()) + int(m[2] or 0) * 3600 + int(m[3] or 0) * 60 + int(m[4] or 0)
    return secs * 1_000_000 + int(frac[:6])


def _column_values(col: pa.ChunkedArray) -> list:
    t = col.type
    if pa.types.is_timestamp(t):
        return col.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()
    if pa.types.is_duration(t):
        return col.cast(pa.duration("ns")).cast(pa.int64()).to_pylist()
    return col.to_pylist()


def _kind(field_: pa.Field) -> str:
    meta = field_.metadata or {}
    return meta.get(b"kql_type", b"").decode()


def actual_rows(table: pa.Table) -> list[tuple]:
    cols = []
    for i, f in enumerate(table.schema):
        values = _column_values(table.column(i))
        if _kind(f) == "dynamic":
            values = [None if v is None else json.loads(v) for v in values]
        cols.append(values)
    return list(zip(*cols, strict=True)) if cols else []


def _norm_expected(value: Any, kind: str) -> Any:
    """Expected values are written as Kusto prints them: datetime / timespan as text, dynamic as Python."""
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, str):
        return datetime_us(value)
    if kind == "timespan" and isinstance(value, str):
        return timespan_ns(value)
    return value


def same(expected: Any, actual: Any, rel_tol: float) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if isinstance(expected, float) and math.isnan(expected):
            return isinstance(actual, float) and math.isnan(actual)
        if isinstance(actual, float) and math.isnan(actual):
            return False
        if math.isinf(expected) or math.isinf(actual):
            return expected == actual
        return math.isclose(expected, actual, rel_tol=rel_tol, abs_tol=1e-12)
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and list(expected) == list(actual)
                and all(same(expected[k], actual[k], rel_tol) for k in expected))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(same(e, a, rel_tol) for e, a in zip(expected, actual, strict=True)))
    return type(expected) is type(actual) and expected == actual


def _rows_equal(expected: tuple, actual: tuple, rel_tol: float) -> bool:
    return len(expected) == len(actual) and all(
        same(e, a, rel_tol) for e, a in zip(expected, actual, strict=True))


def match_rows(expected: list[tuple], actual: list[tuple], ordered: bool, rel_tol: float) -> str | None:
    """None when equal; otherwise a description of the difference."""
    if len(expected) != len(actual):
        return f"{len(actual)} rows, expected {len(expected)}"
    if ordered:
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if not _rows_equal(e, a, rel_tol):
                return f"row {i}: got {a!r}, expected {e!r}"
        return None
    unused = list(actual)
    for e in expected:
        for j, a in enumerate(unused):
            if _rows_equal(e, a, rel_tol):
                del unused[j]
                break
        else:
            return f"no actual row matches expected {e!r}"
    return None


# ------------------------------------------------------------------------------------ running


class EngineRefused(Exception):
    """The engine under test refused the case (KH302): honest, and counted apart from the passes."""


def run_query(c: Case, engine: str = "duckdb") -> pa.Table:
    return kqlhunt.query(c.kql, now=c.now, engine=engine)


def check_types(table: pa.Table) -> None:
    """Conventions (docs/CONVENTIONS.md): every field has `kql_type` metadata and the matching Arrow type."""
    for f in table.schema:
        kind = _kind(f)
        assert kind in ARROW_TYPES, f"column {f.name!r}: missing or unknown kql_type metadata {f.metadata!r}"
        assert f.type == ARROW_TYPES[kind], f"column {f.name!r}: kql_type {kind} but Arrow type {f.type}"


def run_case(c: Case, engine: str = "duckdb") -> None:
    """Check one case; on another engine than DuckDB a KH302 refusal (not on that engine yet) also passes."""
    if c.expected is REFUSED or c.expected is KUSTO_ERROR:
        with pytest.raises(kqlhunt.KqlError) as info:
            table = run_query(c, engine)
            pytest.fail(f"expected a KqlError, got an answer: columns {table.column_names}, "
                        f"rows {actual_rows(table)!r}")
        if c.expected is REFUSED:
            assert info.value.code.startswith("KH3"), f"refused with {info.value.code}, expected KH3xx"
        return

    try:
        table = run_query(c, engine)
    except kqlhunt.KqlError as exc:
        if c.may_refuse and exc.code.startswith("KH3"):
            return  # an honest refusal of something the seeds do not need
        if engine != "duckdb" and exc.code == "KH302":
            raise EngineRefused(str(exc)) from None
        raise
    check_types(table)
    if c.columns is not None:
        assert table.column_names == list(c.columns), (
            f"columns {table.column_names}, expected {list(c.columns)}  [{c.source}]")
    kinds = [_kind(f) for f in table.schema]
    if c.types is not None:
        got = [k if t is not None else None for k, t in zip(kinds, c.types, strict=False)]
        assert got == list(c.types), f"kql types {kinds}, expected {list(c.types)}  [{c.source}]"
    rows = actual_rows(table)
    if callable(c.expected):
        c.expected(table, rows)
        return
    expected = [tuple(_norm_expected(v, k) for v, k in zip(r, kinds, strict=False)) for r in c.expected]
    problem = match_rows(expected, rows, c.ordered, c.rel_tol)
    assert problem is None, (
        f"{problem}\n  query: {c.kql}\n  actual rows: {rows!r}\n  expected:    {list(c.expected)!r}\n"
        f"  source: {c.source}")

