"""Sanity check that kqlhunt and the hand-written SQL returned the same result for a seed.

Same column names and kql types; same rows as a multiset (make_set columns compared as sets, floats to 10
significant digits, any() columns skipped); and the same sequence of sort-key values (rows tied on the
sort keys may come in any order).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pyarrow as pa


def compare(expected: pa.Table, actual: pa.Table, *, set_columns: frozenset[str],
            arbitrary_columns: frozenset[str], sort_keys: list[str]) -> tuple[bool, str]:
    """(equal?, explanation) for the hand-written result `expected` and kqlhunt's `actual`."""
    exp_schema = [(f.name, _kql_type(f)) for f in expected.schema]
    act_schema = [(f.name, _kql_type(f)) for f in actual.schema]
    if exp_schema != act_schema:
        return False, f"schema differs:\n  sql:     {exp_schema}\n  kqlhunt: {act_schema}"
    if expected.num_rows != actual.num_rows:
        return False, f"row count differs: sql {expected.num_rows}, kqlhunt {actual.num_rows}"
    compared = [c for c in expected.column_names if c not in arbitrary_columns]
    exp_rows = Counter(_rows(expected, compared, set_columns))
    act_rows = Counter(_rows(actual, compared, set_columns))
    if exp_rows != act_rows:
        only_sql = list((exp_rows - act_rows).elements())[:3]
        only_kql = list((act_rows - exp_rows).elements())[:3]
        return False, ("values differ (columns " + ", ".join(compared) + ")\n  only in sql:     "
                       + _show(only_sql) + "\n  only in kqlhunt: " + _show(only_kql))
    if _rows(expected, sort_keys, frozenset()) != _rows(actual, sort_keys, frozenset()):
        return False, f"same rows, but the order of the sort keys {sort_keys} differs"
    skipped = sorted(set(expected.column_names) - set(compared))
    note = f" (any() columns not compared: {skipped})" if skipped else ""
    return True, f"{expected.num_rows} rows equal{note}"


def _kql_type(field: pa.Field) -> str:
    meta = field.metadata or {}
    return meta.get(b"kql_type", b"?").decode()


def _rows(table: pa.Table, columns: list[str], set_columns: frozenset[str]) -> list[tuple]:
    cols = [[_norm(v, kind, c in set_columns) for v in table.column(c).to_pylist()]
            for c, kind in ((c, _kql_type(table.schema.field(c))) for c in columns)]
    return list(zip(*cols, strict=True)) if cols else [() for _ in range(table.num_rows)]


def _norm(value, kind: str, is_set: bool):
    if value is None:
        return None
    if kind == "dynamic":
        value = json.loads(value)
        if is_set and isinstance(value, list):
            value = sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
        return json.dumps(_round(value), sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    return _round(value)


def _round(value):
    if isinstance(value, float):
        return "NaN" if value != value else float(f"{value:.10g}")  # NaN must equal NaN
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _show(rows: list[tuple]) -> str:
    text = "; ".join(str(r) for r in rows) or "-"
    return text if len(text) < 600 else text[:600] + "…"
