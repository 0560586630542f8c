"""Kusto types -> physical SQL types (DuckDB names; Spark overrides later).

timespan is a BIGINT of 100-ns ticks (exact, and the same on every engine); datetime a TIMESTAMP
(microseconds, UTC); dynamic is JSON text unless the binder knows it is an array of one scalar type,
then it is a native LIST of that type.
"""

from __future__ import annotations

from sqlglot import exp

from kqlhunt.semantic.types import KType

DUCKDB_TYPES = {
    "bool": "BOOLEAN", "int": "INTEGER", "long": "BIGINT", "real": "DOUBLE", "decimal": "DECIMAL(38, 18)",
    "string": "VARCHAR", "datetime": "TIMESTAMP", "timespan": "BIGINT", "guid": "VARCHAR", "dynamic": "JSON",
    "null": "JSON",
}


def physical(t: KType) -> str:
    if t.name == "dynamic" and t.elem is not None:
        return f"{DUCKDB_TYPES[t.elem.name]}[]"
    return DUCKDB_TYPES[t.name]


def data_type(t: KType) -> exp.DataType:
    from kqlhunt.sql.expressions import dtype

    return dtype(physical(t))
