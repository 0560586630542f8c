"""The DuckDB engine: registers data sources as tables with Kusto's physical types, runs compiled SQL,
and returns Arrow tables typed as Kusto types.

Sources: Parquet / CSV / JSON-lines files, folders and globs, pandas or polars DataFrames, Arrow
tables, and a lake directory (`<lake>/<Table>/**/*.parquet`). Each source becomes a raw view
(`kh_raw_<T>`) and a typed view (`kh_t_<T>`) in which strings are never null, timespans are ticks and
dynamic values are JSON; for a built-in table (DeviceNetworkEvents) the documented schema decides the
column types, and columns the data lacks read as empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from kqlhunt.diagnostics import RUNTIME_REFUSAL_MARK, error
from kqlhunt.engines.duckdb_runtime import install, register_udfs
from kqlhunt.engines.external import ExternalResolver, read_external
from kqlhunt.engines.runtime.udfs import all_udfs
from kqlhunt.semantic.bound import Column, ExternalSource, Schema
from kqlhunt.semantic.catalog import Catalog, builtin_schema
from kqlhunt.semantic.types import BY_NAME, KType
from kqlhunt.sql.compile import table_view
from kqlhunt.sql.expressions import fn, string
from kqlhunt.sql.lowerings.timex import text_to_datetime, text_to_timespan
from kqlhunt.sql.types import physical

RAW_PREFIX = "kh_raw_"


@dataclass
class Source:
    name: str
    raw_columns: list[tuple[str, str]]  # (name, DuckDB type)
    non_null: frozenset[str] = frozenset()  # columns known to hold no nulls (skips COALESCE: 2x on scans)


def _quote(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def kusto_type_of(duck_type: str) -> KType:
    """The Kusto type a column of this DuckDB type is read as (tables without a built-in schema)."""
    t = duck_type.upper()
    if t in ("VARCHAR", "CHAR", "TEXT", "ENUM") or t.startswith("VARCHAR") or t.startswith("ENUM"):
        return BY_NAME["string"]
    if t in ("INTEGER", "SMALLINT", "TINYINT", "USMALLINT", "UTINYINT"):
        return BY_NAME["int"]
    if t in ("BIGINT", "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT"):
        return BY_NAME["long"]
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return BY_NAME["real"]
    if t == "BOOLEAN":
        return BY_NAME["bool"]
    if t.startswith("DECIMAL"):
        return BY_NAME["decimal"]
    if t.startswith("TIMESTAMP") or t == "DATE":
        return BY_NAME["datetime"]
    if t == "INTERVAL":
        return BY_NAME["timespan"]
    if t == "UUID":
        return BY_NAME["guid"]
    return BY_NAME["dynamic"]


def convert_column(raw: str | None, duck_type: str | None, target: KType, non_null: bool = False) -> exp.Expression:
    """Raw column (or absent) -> value of the Kusto type's physical representation."""
    if raw is None or duck_type is None:
        if target.name == "string":
            return string("")
        return exp.Cast(this=exp.Null(), to=exp.DataType.build(physical(target), dialect="duckdb"))
    c = exp.column(raw, quoted=True)
    t = duck_type.upper()

    def try_cast(to: str) -> exp.Expression:
        return exp.TryCast(this=c, to=exp.DataType.build(to, dialect="duckdb"))

    match target.name:
        case "string" | "guid":
            if t == "VARCHAR" and non_null:
                return c
            value = c if t == "VARCHAR" else try_cast("VARCHAR")
            return exp.Coalesce(this=value, expressions=[string("")])
        case "int" | "long" | "real" | "bool" | "decimal":
            return c if physical(target) == t else try_cast(physical(target))
        case "datetime":
            if t == "TIMESTAMP":
                return c
            if t.startswith("TIMESTAMP") or t == "DATE":
                return try_cast("TIMESTAMP")
            if t == "VARCHAR":
                return text_to_datetime(c)  # every text form Kusto reads (ISO, RFC 822/850, ...)
            return exp.Cast(this=exp.Null(), to=exp.DataType.build("TIMESTAMP"))
        case "timespan":
            if t == "VARCHAR":
                return text_to_timespan(c)  # "01:00:00", "1.02:03:04.5", ...
            if t == "INTERVAL":
                seconds = fn("epoch", c)
                return exp.Cast(this=fn("round", exp.Mul(this=seconds, expression=exp.Literal.number(10_000_000))),
                                to=exp.DataType.build("BIGINT"))
            return try_cast("BIGINT")
        case "dynamic":
            if t == "JSON":
                return c
            if t == "VARCHAR":
                parsed = exp.Case().when(fn("json_valid", c), exp.Cast(this=c, to=exp.DataType.build("JSON")))
                parsed = parsed.else_(exp.Cast(this=fn("to_json", c), to=exp.DataType.build("JSON")))
                empty = exp.Or(this=exp.Is(this=c, expression=exp.Null()), expression=exp.EQ(this=c, expression=string("")))
                return exp.Case().when(empty, exp.Cast(this=exp.Null(), to=exp.DataType.build("JSON"))).else_(parsed)
            return exp.Cast(this=fn("to_json", c), to=exp.DataType.build("JSON"))
    raise error("KH400", f"cannot read a {duck_type} column as {target}")


def typed_view(src: Source | None, name: str, catalog: Catalog,
               externals: Mapping[str, ExternalSource] | None) -> exp.Select:
    """SELECT of a table's typed view: each column of its schema converted from the raw source (or empty)."""
    schema = externals[name].schema if externals and name in externals else catalog.schema(name)
    assert schema is not None
    raw = dict(src.raw_columns) if src else {}
    items = []
    for c in schema:
        present = c.name if c.name in raw else None
        if present is None and c.name == "TimeGenerated" and "Timestamp" in raw:
            present = "Timestamp"  # Sentinel's ingestion time stands in for the event time
        known = src is not None and present in src.non_null
        items.append(exp.alias_(convert_column(present, raw.get(present) if present else None, c.type,
                                               non_null=known), c.name, quoted=True))
    select = exp.select(*items)
    if src is not None:
        return select.from_(exp.Table(this=exp.to_identifier(RAW_PREFIX + name, quoted=True)))
    return select.where(exp.false())


def catalog_of(sources: Mapping[str, Source], flavour: str) -> Catalog:
    """Tables without a built-in schema are read with the types their data has."""
    tables: dict[str, Schema] = {}
    for name, src in sources.items():
        if builtin_schema(name, flavour) is None:
            tables[name] = tuple(Column(c, kusto_type_of(t)) for c, t in src.raw_columns)
    return Catalog(tables, flavour)


def lake_tables(lake: str | Path) -> list[tuple[str, Path]]:
    """The tables of a lake directory: each sub-directory holding Parquet files."""
    root = Path(lake)
    if not root.is_dir():
        raise error("KH401", f"lake directory not found: {root}")
    return [(sub.name, sub) for sub in sorted(p for p in root.iterdir() if p.is_dir()) if any(sub.rglob("*.parquet"))]


class SourceTables:
    """What every engine does the same with its sources: lakes, the catalog, externaldata. An engine
    provides `register(name, source)` and `sources`."""

    sources: dict[str, Source]

    def register(self, name: str, source: Any) -> None:
        raise NotImplementedError

    def register_lake(self, lake: str | Path) -> list[str]:
        tables = lake_tables(lake)
        for name, sub in tables:
            self.register(name, sub)
        return [name for name, _ in tables]

    def catalog(self, flavour: str) -> Catalog:
        return catalog_of(self.sources, flavour)

    def register_externals(self, externals: Mapping[str, ExternalSource], resolver: ExternalResolver) -> None:
        """Read each `externaldata` source (engines/external.py) and register it under its table name."""
        for name, source in externals.items():
            self.register(name, read_external(source, resolver))


class DuckDBEngine(SourceTables):
    name = "duckdb"

    def __init__(self, *, memory_limit: str | None = None, threads: int | None = None,
                 geo_mmdb: str | None = None, temp_directory: str | None = None):
        self.con = duckdb.connect(config={"allow_unsigned_extensions": False})
        if memory_limit:
            self.con.execute(f"SET memory_limit = {exp.Literal.string(memory_limit).sql('duckdb')}")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if temp_directory:
            self.con.execute(f"SET temp_directory = {exp.Literal.string(temp_directory).sql('duckdb')}")
        install(self.con)
        self.geo_mmdb = geo_mmdb
        self.udfs: set[str] = set()
        self.sources: dict[str, Source] = {}

    # ------------------------------------------------------------ sources

    def register(self, name: str, source: Any) -> None:
        raw = RAW_PREFIX + name
        non_null: frozenset[str] = frozenset()
        if isinstance(source, str | Path):
            relation = self._file_relation(Path(source) if not _is_glob(str(source)) else str(source), name)
            self.con.execute(f"CREATE OR REPLACE VIEW {_quote(raw)} AS SELECT * FROM {relation.sql('duckdb')}")
            non_null = self._required_parquet_columns(relation)
        else:
            data = _as_arrow_or_frame(source)
            self.con.register(raw, data)
            non_null = _null_free_columns(data)
        described = self.con.execute(f"DESCRIBE SELECT * FROM {_quote(raw)}").fetchall()
        self.sources[name] = Source(name, [(r[0], str(r[1])) for r in described], non_null)

    def _required_parquet_columns(self, relation: exp.Expression) -> frozenset[str]:
        """Columns every Parquet file declares REQUIRED (no nulls possible)."""
        if not (isinstance(relation, exp.Anonymous) and str(relation.this).lower() == "read_parquet"):
            return frozenset()
        files = relation.expressions[0]
        query = (f"SELECT name, count(*) FROM parquet_schema({files.sql('duckdb')}) "
                 "WHERE repetition_type = 'REQUIRED' GROUP BY name")
        counts = dict(self.con.execute(query).fetchall())
        total = self.con.execute(f"SELECT count(DISTINCT file_name) FROM parquet_schema({files.sql('duckdb')})"
                                 ).fetchone()[0]
        return frozenset(n for n, k in counts.items() if k == total)

    def _file_relation(self, path: Path | str, name: str) -> exp.Expression:
        if isinstance(path, str):  # a glob
            files = path
            suffix = Path(path).suffix.lower()
        elif path.is_dir():
            parquet = sorted(str(p) for p in path.rglob("*.parquet"))
            if not parquet:
                raise error("KH401", f"no Parquet files under {path} (table `{name}`)")
            return fn("read_parquet", exp.Array(expressions=[string(p) for p in parquet]),
                       exp.EQ(this=exp.column("union_by_name"), expression=exp.true()),
                       exp.EQ(this=exp.column("hive_partitioning"), expression=exp.false()))
        else:
            if not path.exists():
                raise error("KH401", f"file not found: {path} (table `{name}`)")
            files = str(path)
            suffix = path.suffix.lower()
        if suffix == ".parquet":
            return fn("read_parquet", string(files), exp.EQ(this=exp.column("union_by_name"), expression=exp.true()))
        if suffix in (".csv", ".tsv", ".txt"):
            return fn("read_csv", string(files), exp.EQ(this=exp.column("auto_detect"), expression=exp.true()))
        if suffix in (".json", ".jsonl", ".ndjson"):
            return fn("read_json", string(files), exp.EQ(this=exp.column("auto_detect"), expression=exp.true()))
        raise error("KH401", f"unknown file type `{suffix}` for table `{name}` "
                                      "(use .parquet, .csv or .json/.jsonl)")

    # ------------------------------------------------------------ catalog and views

    def prepare_views(self, catalog: Catalog, tables: list[str],
                      externals: Mapping[str, ExternalSource] | None = None) -> None:
        """Create the typed view of every table the query reads."""
        for name in tables:
            view_sql = typed_view(self.sources.get(name), name, catalog, externals).sql("duckdb")
            self.ensure_udfs(view_sql)  # DuckDB binds a view's functions when it is created
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(table_view(name))} AS {view_sql}")

    # ------------------------------------------------------------ execution

    def ensure_udfs(self, sql: str) -> None:
        """Register the Python UDFs the SQL calls (once per connection)."""
        lowered = sql.lower()  # sqlglot prints function names in upper case
        needed = {name for name in all_udfs() if name in lowered} - self.udfs
        if needed:
            register_udfs(self.con, needed, {"geo_mmdb": self.geo_mmdb})
            self.udfs |= needed

    def run(self, sql: str, columns: tuple[Column, ...]) -> pa.Table:
        self.ensure_udfs(sql)
        try:
            relation = self.con.sql(sql)
            # duckdb 2.x: to_arrow_table(); 1.x: arrow()
            table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
        except duckdb.Error as exc:
            refusal = RUNTIME_REFUSAL.search(str(exc))
            if refusal:
                # a lowering met a value whose Kusto answer kqlhunt does not know (SQL error() / a UDF raised)
                raise error("KH301", f"{refusal.group(1).rstrip('.')} (met in the data while running the query)") \
                    from None
            raise error("KH410", f"the engine failed to run the query: {_first_line(str(exc))}") from None
        return to_kusto_arrow(table, columns)

    def bag_slots(self, select: exp.Expression, column: str) -> list[tuple[str, list[str]]]:
        """The top-level keys of the property bags in `column` of the query's result, each with the JSON
        types (json_type names) of its values: what bag_unpack turns into columns."""
        bag = exp.TryCast(this=exp.TryCast(this=exp.column(column, quoted=True), to=exp.DataType.build("JSON")),
                          to=exp.DataType.build("MAP(VARCHAR, JSON)", dialect="duckdb"))
        entries = exp.select(exp.alias_(fn("unnest", fn("map_entries", bag)), "e")).from_(
            exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier("q"))))
        key = fn("struct_extract", exp.column("e"), string("key"))
        kind = fn("json_type", fn("struct_extract", exp.column("e"), string("value")))
        query = exp.select(key, exp.Anonymous(this="list", expressions=[exp.Distinct(expressions=[kind])])).from_(
            exp.Subquery(this=entries, alias=exp.TableAlias(this=exp.to_identifier("u")))).group_by(key)
        try:
            rows = self.con.execute(query.sql("duckdb")).fetchall()
        except duckdb.Error as exc:
            raise error("KH410", f"the engine failed to find bag_unpack's columns: {_first_line(str(exc))}") \
                from None
        return [(str(k), [str(t) for t in types]) for k, types in rows]

    def explain(self, sql: str) -> str:
        rows = self.con.execute("EXPLAIN " + sql).fetchall()
        return "\n".join(str(r[1]) for r in rows)

    def close(self) -> None:
        self.con.close()


def _null_free_columns(data: Any) -> frozenset[str]:
    if isinstance(data, pa.Table | pa.RecordBatch):
        return frozenset(f.name for f, col in zip(data.schema, data.columns, strict=True) if col.null_count == 0)
    if type(data).__module__.startswith("pandas"):
        return frozenset(str(c) for c in data.columns if not data[c].isna().any())
    return frozenset()


# how the lowerings and UDFs word a refusal that depends on the data (see sql/lowerings/*.py)
RUNTIME_REFUSAL = re.compile("(" + re.escape(RUNTIME_REFUSAL_MARK) + r" [^\n]*)")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _as_arrow_or_frame(source: Any) -> Any:
    if isinstance(source, pa.Table | pa.RecordBatch):
        return source
    module = type(source).__module__
    if module.startswith("pandas") or module.startswith("polars"):
        return source
    if isinstance(source, Mapping):
        return pa.table(dict(source))
    raise error("KH402", f"cannot use a {type(source).__name__} as a table: pass a file path, "
                                  "a pandas/polars DataFrame or a pyarrow Table")


ARROW_TYPES = {
    "bool": pa.bool_(), "int": pa.int32(), "long": pa.int64(), "real": pa.float64(),
    "decimal": pa.decimal128(38, 18), "string": pa.string(), "guid": pa.string(),
    "datetime": pa.timestamp("us", tz="UTC"), "timespan": pa.duration("ns"), "dynamic": pa.string(),
}


def to_kusto_arrow(table: pa.Table, columns: tuple[Column, ...]) -> pa.Table:
    """Engine result -> the documented result types, each field tagged with its Kusto type."""
    arrays = []
    fields = []
    for i, c in enumerate(columns):
        arr = table.column(i)
        target = ARROW_TYPES[c.type.name]
        if c.type.name == "timespan":
            ticks = arr.cast(pa.int64())
            import pyarrow.compute as pc

            arr = pc.multiply(ticks, 100).cast(pa.duration("ns"))
        elif c.type.name == "datetime":
            arr = arr.cast(pa.timestamp("us")).cast(target) if arr.type != target else arr
        elif arr.type != target:
            arr = arr.cast(target)
        arrays.append(arr)
        fields.append(pa.field(c.name, target, metadata={b"kql_type": c.type.name.encode()}))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
