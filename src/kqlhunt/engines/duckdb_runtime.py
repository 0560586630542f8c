"""The SQL macros and Python UDFs that compiled queries call on DuckDB (`kh_*`).

Macros hold Kusto's formatting and parsing rules (tostring of a timespan, datetimes in JSON, IPv4
parsing) once, instead of repeating large expressions in every query. Python UDFs cover what SQL
cannot express well: `series_outliers` (Kusto's Tukey test) and the offline geo-IP lookup.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import duckdb

from kqlhunt.engines.runtime.udfs import all_udfs
from kqlhunt.sql.macros import MACROS


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Settings and macros for one connection (Python UDFs are added on demand: `register_udfs`)."""
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws a progress bar on the process's stdout for slow queries, even into pipes and files
    con.execute("SET enable_progress_bar = false")
    # Kusto: integer division by zero is null, not an error
    con.execute("SET error_on_division_by_zero = false")
    for m in MACROS:
        con.execute(m)


def _with_arity(func: Any, n: int) -> Any:
    """DuckDB checks a UDF's parameter count against its SQL parameters: give variadic functions and
    partials an explicit n-parameter signature."""

    def call(*arrays: Any) -> Any:
        return func(*arrays)

    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"a{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(n)])
    return call


def register_udfs(con: duckdb.DuckDBPyConnection, names: set[str], options: dict[str, Any]) -> None:
    """Register the Python UDFs (engines/runtime/udfs.py) a query calls, on first use."""
    specs = all_udfs()
    for name in sorted(names):
        spec = specs[name]
        func = _with_arity(functools.partial(spec.func, options) if spec.needs_options else spec.func,
                           len(spec.params))
        con.create_function(name, func, [duckdb.sqltype(t) for t in spec.params], duckdb.sqltype(spec.returns),
                            type="arrow", null_handling="special", side_effects=False)
