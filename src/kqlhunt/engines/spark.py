"""The Apache Spark engine: the same plan as DuckDB's, translated to Spark SQL (sql/spark/), run with
PySpark in local mode, on a cluster (`master`) or through Spark Connect (`remote`), results back as Arrow.

Sources become the same raw and typed temp views as on DuckDB (`kh_raw_<T>`, `kh_t_<T>`), built from the
same conversion trees. The session is configured for Kusto's semantics: UTC, case-sensitive names (KQL
columns differ by case), non-ANSI arithmetic (an integer division by zero is null, as in Kusto) and the
Python UDFs kqlhunt declares (engines/runtime) registered as Arrow UDFs on first use.

PySpark is an optional extra: `pip install 'kqlhunt[spark]'`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import re
import sys
import warnings
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from kqlhunt.diagnostics import RUNTIME_REFUSAL_MARK, error
from kqlhunt.engines.duckdb import (
    RAW_PREFIX,
    Source,
    SourceTables,
    _as_arrow_or_frame,
    _first_line,
    _is_glob,
    to_kusto_arrow,
    typed_view,
)
from kqlhunt.engines.runtime.udfs import all_udfs
from kqlhunt.semantic.bound import Column, ExternalSource
from kqlhunt.semantic.catalog import Catalog
from kqlhunt.sql.compile import table_view
from kqlhunt.sql.spark.translate import tag, to_spark

INSTALL_HINT = "install the Spark extra: pip install 'kqlhunt[spark]' (and a Java 17+ runtime)"

# Spark's type names -> the DuckDB spelling the shared conversion code reads (engines/duckdb.convert_column)
_SPARK_TO_DUCK = {
    "string": "VARCHAR", "int": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT", "bigint": "BIGINT",
    "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP", "date": "DATE", "binary": "BLOB",
}

# DuckDB type strings of the UDF declarations -> Spark DDL
_UDF_TYPES = {
    "VARCHAR": "string", "JSON": "string", "DOUBLE": "double", "BIGINT": "bigint", "INTEGER": "int",
    "BOOLEAN": "boolean", "TIMESTAMP": "timestamp_ntz", "UUID": "string",
}


def _udf_type(duck: str) -> str:
    if duck.endswith("[]"):
        return f"array<{_udf_type(duck[:-2])}>"
    if duck not in _UDF_TYPES:
        raise error("KH302", f"a UDF type {duck} has no Spark equivalent in kqlhunt yet")
    return _UDF_TYPES[duck]


def _duck_type(spark_type: str) -> str:
    t = spark_type.lower()
    if t.startswith("decimal"):
        return t.upper()
    return _SPARK_TO_DUCK.get(t, "STRUCT")  # arrays, maps and structs read as dynamic (to_json)


def spark_session(master: str | None = None, remote: str | None = None,
                  conf: Mapping[str, str] | None = None) -> Any:
    """The process's Spark session (created on first use, shared: starting Spark takes seconds)."""
    # PySpark warns about pandas versions on first use; kqlhunt exchanges Arrow with it, not pandas
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    # PySpark logs every failed query's plan as JSON on stderr; kqlhunt renders the error once, at the edge
    logging.getLogger("SQLQueryContextLogger").disabled = True
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise error("KH403", f"the Spark engine needs PySpark: {INSTALL_HINT}") from None
    # the Python workers that run kqlhunt's UDFs must be this interpreter (it has kqlhunt installed)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("kqlhunt")
    if remote:
        builder = builder.remote(remote)
    else:
        builder = builder.master(master or "local[*]")
        builder = builder.config("spark.ui.enabled", "false")
        log_config = resources.files("kqlhunt.data").joinpath("spark-log4j2.properties")
        builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}")
        if (master or "local").startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no warning about the host's address
        if (master or "local").startswith("local"):
            # a handful of partitions after a shuffle: Spark's default 200 costs seconds on small data
            builder = builder.config("spark.sql.shuffle.partitions", str(max(2, os.cpu_count() or 2) * 2))
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.caseSensitive": "true",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.legacy.timeParserPolicy": "CORRECTED",
        "spark.sql.legacy.sizeOfNull": "false",  # size(NULL) is NULL, not -1
        # compiled hunts nest deeply (seed 004: ~40 steps); Spark's default 100 rule passes run out
        "spark.sql.analyzer.maxIterations": "1000",
        "spark.sql.optimizer.maxIterations": "1000",
        "spark.ui.showConsoleProgress": "false",  # no stage bars on the terminal kqlhunt prints results to
    }
    settings.update(conf or {})
    for k, v in settings.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    if not remote:
        session.sparkContext.setLogLevel("OFF")  # failures reach the caller as exceptions
    for k, v in settings.items():  # getOrCreate returns an existing session as it is
        # static settings of a running session cannot change; the rest do
        with contextlib.suppress(Exception):
            session.conf.set(k, v)
    return session


class SparkEngine(SourceTables):
    name = "spark"

    def __init__(self, *, master: str | None = None, remote: str | None = None,
                 conf: Mapping[str, str] | None = None, geo_mmdb: str | None = None):
        self.spark = spark_session(master, remote, conf)
        self.geo_mmdb = geo_mmdb
        self.udfs: set[str] = set()
        self.sources: dict[str, Source] = {}
        self.views: list[str] = []

    # ------------------------------------------------------------ sources

    def register(self, name: str, source: Any) -> None:
        if isinstance(source, str | Path):
            df = self._read_files(source, name)
        else:
            data = _as_arrow_or_frame(source)
            if not isinstance(data, pa.Table | pa.RecordBatch):
                data = pa.Table.from_pandas(data, preserve_index=False) if hasattr(data, "iloc") else data.to_arrow()
            if isinstance(data, pa.RecordBatch):
                data = pa.Table.from_batches([data])
            df = self.spark.createDataFrame(data)
        raw = RAW_PREFIX + name
        df.createOrReplaceTempView(raw)
        self.views.append(raw)
        self.sources[name] = Source(name, [(f.name, _duck_type(f.dataType.simpleString())) for f in df.schema.fields])

    def _read_files(self, source: str | Path, name: str) -> Any:
        text = str(source)
        path = Path(text)
        reader = self.spark.read
        if not _is_glob(text):
            if not path.exists():
                raise error("KH401", f"file not found: {path} (table `{name}`)")
            if path.is_dir():
                if not any(path.rglob("*.parquet")):
                    raise error("KH401", f"no Parquet files under {path} (table `{name}`)")
                # lake tables are partitioned by day: read every file, the partition folders add no column
                return reader.option("recursiveFileLookup", "true").option("mergeSchema", "true").parquet(text)
        suffix = Path(text).suffix.lower()
        if suffix == ".parquet":
            return reader.option("mergeSchema", "true").parquet(text)
        if suffix in (".csv", ".tsv", ".txt"):
            sep = "\t" if suffix == ".tsv" else ","
            return reader.option("header", "true").option("inferSchema", "true").option("sep", sep).csv(text)
        if suffix in (".json", ".jsonl", ".ndjson"):
            return reader.json(text)
        raise error("KH401", f"unknown file type `{suffix}` for table `{name}` (use .parquet, .csv or .json/.jsonl)")

    def prepare_views(self, catalog: Catalog, tables: list[str],
                      externals: Mapping[str, ExternalSource] | None = None) -> None:
        for name in tables:
            select = typed_view(self.sources.get(name), name, catalog, externals)
            for item in select.expressions:  # a refusal names the column whose conversion Spark lacks
                tag(item, f"reading column `{item.alias_or_name}` of table `{name}`", None)
            spark_sql = self.translate(select)
            view = exp.to_identifier(table_view(name), quoted=True).sql("spark")
            self._sql(f"CREATE OR REPLACE TEMP VIEW {view} AS {spark_sql}")
            self.views.append(table_view(name))

    # ------------------------------------------------------------ execution

    def translate(self, tree: exp.Expression) -> str:
        translated = to_spark(tree, frozenset(all_udfs()))
        self.ensure_udfs(translated.udfs)
        return translated.sql

    def ensure_udfs(self, names: frozenset[str] | set[str]) -> None:
        from pyspark.sql.functions import arrow_udf

        specs = all_udfs()
        for name in sorted(set(names) - self.udfs):
            spec = specs[name]
            func = functools.partial(spec.func, {"geo_mmdb": self.geo_mmdb}) if spec.needs_options else spec.func
            self.spark.udf.register(name, arrow_udf(_arrow_call(func, len(spec.params)), _udf_type(spec.returns)))
            self.udfs.add(name)

    def _sql(self, sql: str) -> Any:
        try:
            return self.spark.sql(sql)
        except Exception as exc:
            raise _engine_error(exc) from None

    def run(self, sql: str, columns: tuple[Column, ...]) -> pa.Table:
        self.ensure_udfs({n for n in all_udfs() if n in sql.lower()})
        try:
            table = self.spark.sql(sql).toArrow()
        except Exception as exc:
            raise _engine_error(exc) from None
        return to_kusto_arrow(table, columns)

    def bag_slots(self, select: exp.Expression, column: str) -> list[tuple[str, list[str]]]:
        """bag_unpack's columns: the keys of the bags in `column`, each with the JSON types of its values
        (named as DuckDB's json_type names them, which the binder reads)."""
        inner = self.translate(select)
        quoted = exp.to_identifier(column, quoted=True).sql("spark")
        query = (f"SELECT e.key, collect_set(schema_of_variant(e.value)) FROM ({inner}) q, "
                 f"LATERAL variant_explode(try_parse_json(q.{quoted})) e GROUP BY e.key")
        rows = self._sql(query).collect()
        return [(str(r[0]), sorted({_json_type_name(t) for t in r[1]})) for r in rows]

    def explain(self, sql: str) -> str:
        rows = self._sql("EXPLAIN FORMATTED " + sql).collect()
        return "\n".join(str(r[0]) for r in rows)

    def close(self) -> None:
        """Drop this run's views and UDF names (the session itself stays up for the next query)."""
        for view in self.views:
            with contextlib.suppress(Exception):
                self.spark.catalog.dropTempView(view)
        self.views.clear()


def _json_type_name(schema: str) -> str:
    s = schema.upper()
    for prefix, name in (("OBJECT", "OBJECT"), ("ARRAY", "ARRAY"), ("STRING", "VARCHAR"), ("BOOLEAN", "BOOLEAN"),
                         ("BIGINT", "BIGINT"), ("INT", "BIGINT"), ("DOUBLE", "DOUBLE"), ("FLOAT", "DOUBLE"),
                         ("DECIMAL", "DOUBLE"), ("VOID", "NULL"), ("NULL", "NULL")):
        if s.startswith(prefix):
            return name
    return "VARCHAR"


def _arrow_call(func: Any, arity: int) -> Any:
    """Spark hands Arrow UDFs pyarrow Arrays and reads the parameter count from the signature; kqlhunt's
    UDFs may answer with a ChunkedArray."""

    def call(*arrays: Any) -> Any:
        out = func(*arrays)
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks()
        return out

    # typed parameters: Spark infers the UDF kind (Arrow array in, Arrow array out) from the annotations
    call.__annotations__ = {}  # Spark reads these before the signature: `Any` would mean an aggregate
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"a{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=pa.Array) for i in range(arity)],
        return_annotation=pa.Array)
    return call


_REFUSAL = re.compile("(" + re.escape(RUNTIME_REFUSAL_MARK) + r" [^\n]*?)(?:\. SQLSTATE|\n|$)")


def _engine_error(exc: Exception) -> Exception:
    text = str(exc)
    # only a raise_error() that ran: an analysis error also quotes the plan, refusal texts included
    raised = "USER_RAISED_EXCEPTION" in text[:200] or "UnknownAnswer" in text or not text.startswith("[")
    refusal = _REFUSAL.search(text) if raised else None
    if refusal:
        return error("KH301", f"{refusal.group(1).rstrip('.')} (met in the data while running the query)")
    return error("KH410", f"Spark failed to run the query: {_first_line(text)}")
