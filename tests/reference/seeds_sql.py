"""The seed hunts written by hand in DuckDB SQL: an independent expectation for kqlhunt's results.

`run_seed(name, con, lake, now)` runs `bench/handwritten/seed<name>.sql` over `<lake>/DeviceNetworkEvents`
with `now()` pinned to `now`, and returns a pyarrow Table typed like `kqlhunt.query` results (Kusto column
names and order as the Kusto.Language oracle reports them; Arrow types and `kql_type` field metadata as in
docs/CONVENTIONS.md). The SQL needs two scalar functions that plain DuckDB lacks, `series_outliers` and
`geo_info_from_ip_address`; they come from `kqlhunt.engines.runtime` and are registered as Arrow UDFs.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

REPO = Path(__file__).resolve().parents[2]
HANDWRITTEN = REPO / "bench" / "handwritten"
SEEDS_DIR = REPO.parent / "shared" / "seeds"

SEEDS = ("000", "000_sentinel", "000_search", "003", "004")
# Variants of seed 000: the Sentinel text filters TimeGenerated instead of Timestamp (same SQL otherwise);
# 000_search keeps the `search` literally (seed000_search.sql) to check that seed000.sql may drop it.
_SQL_FILE = {"000_sentinel": "seed000.sql"}
_SQL_EDITS = {"000_sentinel": [("AND Timestamp > {{now}}", "AND TimeGenerated > {{now}}")]}

# Result schemas as answered by the Kusto.Language oracle (/work/shared/kql-oracle) for the seed texts.
_S = "string"
RESULT_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "000": [("InitiatingProcessFileName", _S), ("Hashes", "dynamic"), ("DeviceCount", "long"),
            ("SampleProcess", _S), ("SampleRemoteIP", _S), ("Ports", "dynamic"), ("RemoteIP_country", _S)],
    "003": [("RemoteUrl", _S), ("ConnectionCount", "long"), ("DistinctHostCount", "long"),
            ("set_DeviceName", "dynamic"), ("set_RemoteIPType", "dynamic"), ("set_RemotePort", "dynamic"),
            ("set_InitiatingProcessParentFileName", "dynamic"), ("set_InitiatingProcessFileName", "dynamic"),
            ("set_RemoteIP", "dynamic"), ("set_InitiatingProcessCommandLine", "dynamic")],
    "004": [("InitiatingProcessFileName", _S), ("RemoteIP", _S), ("RemotePort", "int"),
            ("dcount_DeviceId", "long"), ("DeviceId", _S), ("DeviceName", _S),
            ("InitiatingProcessAccountName", _S), ("InitiatingProcessAccountDomain", _S), ("RemoteIP2", _S),
            ("count_", "long"), ("min_Timestamp", "datetime"), ("max_Timestamp", "datetime"),
            ("Duration", "long"), ("percentile_TimeDeltaInSeconds_5", "long"),
            ("percentile_TimeDeltaInSeconds_25", "long"), ("percentile_TimeDeltaInSeconds_50", "long"),
            ("percentile_TimeDeltaInSeconds_75", "long"), ("percentile_TimeDeltaInSeconds_95", "long"),
            ("TimeDeltaList", "dynamic"), ("TimeDeltaInSeconds_min", "real"),
            ("TimeDeltaInSeconds_min_index", "long"), ("TimeDeltaInSeconds_max", "real"),
            ("TimeDeltaInSeconds_max_index", "long"), ("TimeDeltaInSeconds_avg", "real"),
            ("TimeDeltaInSeconds_stdev", "real"), ("TimeDeltaInSeconds_variance", "real"), ("Jitter", "real"),
            ("BeaconSleepMin", "real"), ("BeaconSleepMax", "real"), ("Domains", "dynamic"),
            ("Timestamp", "datetime")],
}
RESULT_COLUMNS["000_sentinel"] = RESULT_COLUMNS["000_search"] = RESULT_COLUMNS["000"]

# Columns whose values Kusto leaves open: make_set order is unspecified (compare as sets), any() picks an
# arbitrary row (and RemoteIP_country follows SampleRemoteIP).
SET_COLUMNS: dict[str, frozenset[str]] = {
    "000": frozenset({"Hashes", "Ports"}),
    "003": frozenset(c for c, t in RESULT_COLUMNS["003"] if t == "dynamic"),
    "004": frozenset({"Domains"}),
}
SET_COLUMNS["000_sentinel"] = SET_COLUMNS["000_search"] = SET_COLUMNS["000"]
ARBITRARY_COLUMNS: dict[str, frozenset[str]] = {
    "000": frozenset({"SampleProcess", "SampleRemoteIP", "RemoteIP_country"}),
    "003": frozenset(),
    "004": frozenset(),
}
ARBITRARY_COLUMNS["000_sentinel"] = ARBITRARY_COLUMNS["000_search"] = ARBITRARY_COLUMNS["000"]
# Sort keys of each seed's final `sort`/`order by` (rows tied on them may come in any order).
SORT_KEYS: dict[str, list[str]] = {
    "000": ["DeviceCount"], "000_sentinel": ["DeviceCount"], "000_search": ["DeviceCount"],
    "003": ["ConnectionCount"],
    "004": ["Jitter", "TimeDeltaInSeconds_avg"],
}

ARROW_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(), "int": pa.int32(), "long": pa.int64(), "real": pa.float64(),
    "decimal": pa.decimal128(38, 18), "string": pa.string(), "guid": pa.string(),
    "datetime": pa.timestamp("us", tz="UTC"), "timespan": pa.duration("ns"), "dynamic": pa.string(),
}


class MissingRuntime(RuntimeError):
    """A UDF the seed needs is not importable from kqlhunt.engines.runtime (yet)."""


def sql_source(name: str) -> str:
    """The seed's SQL script, placeholders {{lake}} and {{now}} still in."""
    text = (HANDWRITTEN / _SQL_FILE.get(name, f"seed{name}.sql")).read_text(encoding="utf-8")
    for old, new in _SQL_EDITS.get(name, []):
        if old not in text:
            raise AssertionError(f"seed {name}: {old!r} not found in the SQL it is derived from")
        text = text.replace(old, new)
    return text


def sql_text(name: str, lake: Path, now: datetime) -> str:
    """The seed's SQL script with the lake path and `now` substituted."""
    text = sql_source(name)
    lake_literal = str(Path(lake).resolve()).replace("'", "''")
    return text.replace("{{lake}}", lake_literal).replace("{{now}}", timestamp_literal(now))


def timestamp_literal(now: datetime) -> str:
    """A naive-UTC DuckDB TIMESTAMP literal (the lake stores datetimes as UTC without a zone)."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return f"TIMESTAMP '{now.isoformat(sep=' ', timespec='microseconds')}'"


def needed_udfs(name: str) -> list[str]:
    text = sql_source(name)
    return [f for f in ("series_outliers", "geo_info_from_ip_address") if f + "(" in text]


def register_udfs(con: duckdb.DuckDBPyConnection, names: list[str], *,
                  stub_missing: bool = False) -> list[str]:
    """Register the named UDFs from kqlhunt.engines.runtime; return the names that were stubbed.

    With stub_missing, a function whose module is not importable yet is replaced by a stub (geo → null,
    series_outliers → all zeros) so the rest of the SQL can be developed and timed; results are then not
    Kusto's.
    """
    stubbed = []
    for fn in names:
        try:
            impl = _udf(fn)
        except ImportError as exc:
            if not stub_missing:
                raise MissingRuntime(f"{fn}: {exc}") from exc
            impl, stubbed = _stub(fn), [*stubbed, fn]
        params, ret = _UDF_TYPES[fn]
        _drop_function(con, fn)
        # geo_info_from_ip_address answers null for addresses it does not know
        nulls = "special" if fn == "geo_info_from_ip_address" else "default"
        con.create_function(fn, impl, params, ret, type="arrow", null_handling=nulls)
    return stubbed


_UDF_TYPES = {
    "series_outliers": ([duckdb.list_type("DOUBLE")], duckdb.list_type("DOUBLE")),
    "geo_info_from_ip_address": (["VARCHAR"], "VARCHAR"),
}


def _udf(fn: str):
    if fn == "series_outliers":
        from kqlhunt.engines.runtime.series import series_outliers_arrow

        return lambda arr: series_outliers_arrow(_one_chunk(arr))
    from kqlhunt.engines.runtime.geoip import GeoDatabase, geo_info_arrow

    db = GeoDatabase.bundled()
    return lambda arr: geo_info_arrow(db, _one_chunk(arr))


def _stub(fn: str):
    if fn == "series_outliers":
        def zeros(arr):
            return pa.array([None if v is None else [0.0] * len(v) for v in _one_chunk(arr).to_pylist()],
                            pa.list_(pa.float64()))

        return zeros
    return lambda arr: pa.nulls(len(arr), pa.string())


def _one_chunk(arr):
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _drop_function(con: duckdb.DuckDBPyConnection, fn: str) -> None:
    with contextlib.suppress(Exception):  # not registered yet
        con.remove_function(fn)


def run_seed(name: str, con: duckdb.DuckDBPyConnection, lake: Path, now: datetime, *,
             stub_missing: bool = False) -> pa.Table:
    """Run the hand-written SQL of seed `name` (one of SEEDS) on `lake`."""
    register_udfs(con, needed_udfs(name), stub_missing=stub_missing)
    return conform(execute_script(con, sql_text(name, lake, now)), RESULT_COLUMNS[name])


def execute_script(con: duckdb.DuckDBPyConnection, script: str) -> pa.Table:
    """Run every statement of `script`; the last one's rows come back as Arrow."""
    *setup, last = con.extract_statements(script)
    for statement in setup:
        con.execute(statement.query)
    return con.sql(last.query).to_arrow_table()


def conform(table: pa.Table, columns: list[tuple[str, str]]) -> pa.Table:
    """Cast to the Arrow types of kqlhunt results and attach `kql_type` metadata, checking the names."""
    if table.column_names != [c for c, _ in columns]:
        raise AssertionError(f"columns {table.column_names} != {[c for c, _ in columns]}")
    fields = [pa.field(c, ARROW_TYPES[t], metadata={b"kql_type": t.encode()}) for c, t in columns]
    arrays = [_cast(table.column(i), f.type) for i, f in enumerate(fields)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _cast(col: pa.ChunkedArray, to: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_timestamp(to) and pa.types.is_timestamp(col.type) and col.type.tz is None:
        col = col.cast(pa.timestamp("us"))
        return pa.chunked_array([c.view(pa.timestamp("us", tz="UTC")) for c in col.chunks], to)
    return col.cast(to)


def seed_kql(name: str, seeds_dir: Path = SEEDS_DIR) -> str:
    """The KQL text of a seed, verbatim from its source document in /work/shared/seeds."""
    def doc(prefix: str) -> str:
        (path,) = seeds_dir.glob(f"{prefix}_*.txt")
        return path.read_text(encoding="utf-8")

    if name in ("000", "000_search", "000_sentinel"):
        blocks = re.findall(r"```KQL\n(.*?)```", doc("000"), re.S)
        return blocks[1] if name == "000_sentinel" else blocks[0]
    if name == "003":
        return doc("003").split("```kql\n", 1)[1].split("```", 1)[0]
    if name == "004":
        return doc("004").split("Rule body kusto\n", 1)[1].split("\nStages and Predicates", 1)[0]
    raise KeyError(name)
