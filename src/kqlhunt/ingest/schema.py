"""The DeviceNetworkEvents rows the lake stores, as SQL: one SELECT list in the documented column order
with the Parquet types of docs/CONVENTIONS.md, plus two provenance columns.

Every reader maps its source to a dict ``column -> SQL expression`` (VARCHAR-ish values are fine); this
module casts each to its Kusto type's physical type and fills what a source cannot give (strings ``''``,
everything else NULL), so all sources write files with one identical schema.
"""

from __future__ import annotations

from collections.abc import Mapping

from kqlhunt.demo.schema import KUSTO_COLUMNS, TABLE

__all__ = ["KUSTO_COLUMNS", "PROVENANCE", "TABLE", "json_bag", "select_list"]

# Provenance of each row: the input (path, or `archive.zip!member`) and the record in it (EVTX record
# number, line number, or `line#index` for an item of a `{"records": [...]}` envelope). They sit beside the
# Defender columns; queries through the built-in schema never see them, DuckDB/pyarrow readers do.
PROVENANCE: tuple[tuple[str, str], ...] = (("SourceFile", "VARCHAR"), ("SourceRecord", "VARCHAR"))

_SQL_TYPE = {"datetime": "TIMESTAMP", "string": "VARCHAR", "int": "INTEGER", "long": "BIGINT",
             "bool": "BOOLEAN", "dynamic": "VARCHAR"}


def _typed(expr: str, kusto: str) -> str:
    sql = _SQL_TYPE[kusto]
    if kusto in ("string", "dynamic"):
        return f"coalesce(CAST(({expr}) AS VARCHAR), '')"
    if kusto == "datetime":
        return f"CAST(({expr}) AS TIMESTAMP)"
    if kusto == "bool":
        return f"TRY_CAST(({expr}) AS BOOLEAN)"
    # ports and ids arrive as text in most sources; '-' and '' become NULL rather than an error
    return f"TRY_CAST(TRY_CAST(NULLIF(NULLIF(CAST(({expr}) AS VARCHAR), '-'), '') AS DOUBLE) AS {sql})"


def select_list(mapped: Mapping[str, str]) -> str:
    """SQL select items for every DeviceNetworkEvents column (in order) and the provenance columns."""
    unknown = set(mapped) - {c for c, _ in KUSTO_COLUMNS} - {c for c, _ in PROVENANCE}
    if unknown:
        raise ValueError(f"not DeviceNetworkEvents columns: {sorted(unknown)}")
    items = []
    for name, kusto in KUSTO_COLUMNS:
        if name in mapped:
            items.append(f'{_typed(mapped[name], kusto)} AS "{name}"')
        elif kusto in ("string", "dynamic"):
            items.append(f"'' AS \"{name}\"")
        else:
            items.append(f'CAST(NULL AS {_SQL_TYPE[kusto]}) AS "{name}"')
    for name, sql in PROVENANCE:
        items.append(f'CAST(({mapped.get(name, "NULL")}) AS {sql}) AS "{name}"')
    return ",\n  ".join(items)


def json_bag(pairs: Mapping[str, str]) -> str:
    """SQL for a JSON object text of the non-null values (key -> SQL expression): AdditionalFields.

    Concatenation with concat_ws (which skips NULLs) is 2x faster than json_object + json_merge_patch.
    """
    parts = [f"""CASE WHEN ({expr}) IS NOT NULL THEN '"{key}":' || CAST(to_json({expr}) AS VARCHAR) END"""
             for key, expr in pairs.items()]
    return f"'{{' || concat_ws(',', {', '.join(parts)}) || '}}'"
