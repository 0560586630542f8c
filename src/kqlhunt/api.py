"""The Python API: `query()` runs KQL over local data and returns a pyarrow Table; `compile()` shows
the stages (bound schema, plan, SQL) without running anything.

    >>> import kqlhunt
    >>> kqlhunt.query("T | summarize count() by b", tables={"T": df}).to_pandas()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from kqlhunt.diagnostics import KqlError, unsupported
from kqlhunt.engines.duckdb import DuckDBEngine
from kqlhunt.engines.external import ExternalResolver
from kqlhunt.plan.lower import lower
from kqlhunt.plan.nodes import Plan
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.bag_unpack import NeedsBagSchema, slot_type
from kqlhunt.semantic.binder import Binder
from kqlhunt.semantic.catalog import FLAVOURS, Catalog, choose_flavour
from kqlhunt.semantic.types import BY_NAME, KType
from kqlhunt.sql.compile import compile_plan
from kqlhunt.syntax.ast import Script
from kqlhunt.syntax.parser import parse


@dataclass
class CompiledQuery:
    kql: str
    bound: B.BoundQuery
    plan: Plan
    sql: str
    tables: list[str]

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(c.name, c.type.name) for c in self.bound.rel.schema]


def _normalise_now(now: datetime | str | None) -> datetime:
    if now is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if isinstance(now, str):
        from kqlhunt.syntax.literals import parse_datetime_text
        return parse_datetime_text(now)
    if now.tzinfo is not None:
        return now.astimezone(UTC).replace(tzinfo=None)
    return now


# discover(rel, column, binder) -> the (slot, type) pairs of a bag_unpack without an output schema
Discover = Callable[[B.BRel, str, Binder], list[tuple[str, KType]]]


# the Spark target's last step: DuckDB-flavoured tree -> Spark SQL (engines register the UDFs it names)
Translate = Callable[[exp.Expression], str]

ENGINES = ("duckdb", "spark")


def spark_translate(tree: exp.Expression) -> str:
    """Spark SQL without a session (compile only): every kqlhunt UDF counts as available."""
    from kqlhunt.engines.runtime.udfs import all_udfs
    from kqlhunt.sql.spark.translate import to_spark

    return to_spark(tree, frozenset(all_udfs())).sql


def compile_query(kql: str, catalog: Catalog, now: datetime, discover: Discover | None = None,
                  translate: Translate | None = None) -> CompiledQuery:
    """`translate` set: compile for Spark (the tree is tagged with KQL origins, then translated)."""
    try:
        script = parse(kql)
        bound = _bind(script, catalog, discover)
        plan = lower(bound.rel)
        compiled = compile_plan(plan, bound.now if isinstance(bound.now, datetime) else now,
                                "duckdb" if translate is None else "spark")
        sql = compiled.sql if translate is None else translate(compiled.tree)
    except KqlError as exc:
        raise exc.with_source(kql) from None
    return CompiledQuery(kql, bound, plan, sql, list(bound.tables))


def _bind(script: Script, catalog: Catalog, discover: Discover | None) -> B.BoundQuery:
    """Bind; a bag_unpack whose columns depend on the data has its input run first (`discover`), then the
    query is bound again knowing them."""
    slots: dict[int, list[tuple[str, KType]]] = {}
    while True:
        binder = Binder(catalog, bag_slots=dict(slots))
        try:
            return binder.bind_script(script)
        except NeedsBagSchema as need:
            if discover is None or need.key in slots:
                raise unsupported("bag_unpack without an output schema when no data is attached", need.span,
                                  "declare the columns: `evaluate bag_unpack(d) : (*, a:string, b:long)`") \
                    from None
            slots[need.key] = discover(need.rel, need.column, binder)


def compile(kql: str, *, schemas: Mapping[str, list[tuple[str, str]]] | None = None, schema: str = "auto",
            now: datetime | str | None = None, engine: str = "duckdb") -> CompiledQuery:
    """Parse, bind and compile without data: table schemas come from `schemas` ({name: [(col, kusto type)]})
    or the built-in tables (DeviceNetworkEvents). `engine` picks the SQL: "duckdb" or "spark"."""
    flavour = _flavour(kql, schema)
    tables = {name: tuple(B.Column(c, BY_NAME[t]) for c, t in cols) for name, cols in (schemas or {}).items()}
    return compile_query(kql, Catalog(tables, flavour), _normalise_now(now),
                         translate=spark_translate if _engine_name(engine) == "spark" else None)


def _engine_name(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; not {engine!r}")
    return engine


def _flavour(kql: str, schema: str) -> str:
    if schema == "auto":
        return choose_flavour(kql)
    if schema not in FLAVOURS:
        raise ValueError(f"schema must be auto, {' or '.join(FLAVOURS)}; not {schema!r}")
    return schema


def query(kql: str, tables: Mapping[str, Any] | None = None, lake: str | Path | None = None,
          now: datetime | str | None = None, *, schema: str = "auto", memory_limit: str | None = None,
          threads: int | None = None, geo_mmdb: str | None = None,
          externaldata: Mapping[str, str | Path] | None = None, fetch_external: bool = False,
          engine: str = "duckdb", spark_master: str | None = None, spark_remote: str | None = None,
          spark_conf: Mapping[str, str] | None = None) -> pa.Table:
    """Run a KQL query. `tables` maps names to files, folders, globs, DataFrames or Arrow tables;
    `lake` is a directory of `<Table>/**/*.parquet`; `now` pins now()/ago(). `externaldata` maps the URIs
    of `externaldata` operators to local files; http(s) URIs not mapped are fetched only when
    `fetch_external` is true. `engine="spark"` runs on Apache Spark: local (`local[*]`) unless
    `spark_master` or a Spark Connect `spark_remote` (sc://...) is given. Raises `KqlError`."""
    return run(kql, tables=tables, lake=lake, now=now, schema=schema, memory_limit=memory_limit,
               threads=threads, geo_mmdb=geo_mmdb, externaldata=externaldata, fetch_external=fetch_external,
               engine=engine, spark_master=spark_master, spark_remote=spark_remote, spark_conf=spark_conf)[0]


def run(kql: str, *, tables: Mapping[str, Any] | None = None, lake: str | Path | None = None,
        now: datetime | str | None = None, schema: str = "auto", memory_limit: str | None = None,
        threads: int | None = None, geo_mmdb: str | None = None,
        externaldata: Mapping[str, str | Path] | None = None, fetch_external: bool = False,
        resolver: ExternalResolver | None = None, engine: str = "duckdb", spark_master: str | None = None,
        spark_remote: str | None = None, spark_conf: Mapping[str, str] | None = None,
        ) -> tuple[pa.Table, CompiledQuery]:
    resolver = resolver or ExternalResolver(dict(externaldata or {}), fetch=fetch_external)
    try:
        target = _make_engine(_engine_name(engine), memory_limit=memory_limit, threads=threads,
                              geo_mmdb=geo_mmdb, spark_master=spark_master, spark_remote=spark_remote,
                              spark_conf=spark_conf)
    except KqlError as exc:
        raise exc.with_source(kql) from None
    try:
        return _run_on(target, kql, tables, lake, now, schema, resolver)
    finally:
        target.close()


def _make_engine(name: str, *, memory_limit: str | None, threads: int | None, geo_mmdb: str | None,
                 spark_master: str | None, spark_remote: str | None,
                 spark_conf: Mapping[str, str] | None) -> Any:
    if name == "spark":
        from kqlhunt.engines.spark import SparkEngine

        conf = dict(spark_conf or {})
        if memory_limit:
            conf.setdefault("spark.driver.memory", memory_limit)
        return SparkEngine(master=spark_master, remote=spark_remote, conf=conf, geo_mmdb=geo_mmdb)
    return DuckDBEngine(memory_limit=memory_limit, threads=threads, geo_mmdb=geo_mmdb)


def _run_on(engine: Any, kql: str, tables: Mapping[str, Any] | None, lake: str | Path | None,
            now: datetime | str | None, schema: str, resolver: ExternalResolver) -> tuple[pa.Table, CompiledQuery]:
    dialect = getattr(engine, "name", "duckdb")
    translate = engine.translate if dialect == "spark" else None
    try:
        if lake is not None:
            engine.register_lake(lake)
        for name, source in (tables or {}).items():
            engine.register(name, source)
        catalog = engine.catalog(_flavour(kql, schema))
        pinned = _normalise_now(now)

        def discover(rel: B.BRel, column: str, binder: Binder) -> list[tuple[str, KType]]:
            engine.register_externals(binder.externals, resolver)
            engine.prepare_views(catalog, binder.tables, binder.externals)
            select = compile_plan(lower(rel), pinned, dialect).tree
            return [(k, slot_type(set(types))) for k, types in engine.bag_slots(select, column)]

        compiled = compile_query(kql, catalog, pinned, discover, translate)
        engine.register_externals(compiled.bound.externals, resolver)
        engine.prepare_views(catalog, compiled.tables, compiled.bound.externals)
        result = engine.run(compiled.sql, compiled.bound.rel.schema)
    except KqlError as exc:
        raise exc.with_source(kql) from None
    return result, compiled
