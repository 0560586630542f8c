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
from kqlhunt.sql.lowerings.conversions import REAL_TEXT_SQL

IPV4_RE = (r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}"
           r"(/([0-9]|[12][0-9]|3[0-2]))?$")

# Kusto's text forms: timespans [-][d.]hh:mm:ss[.fffffff]; datetimes in dynamic values always carry seven
# fractional digits; reals print without a trailing .0 when whole.
MACROS = [
    """CREATE OR REPLACE MACRO kh_timespan_str(t) AS CASE WHEN t IS NULL THEN NULL ELSE
        (CASE WHEN t < 0 THEN '-' ELSE '' END)
        || (CASE WHEN abs(t) >= 864000000000 THEN CAST(abs(t) // 864000000000 AS VARCHAR) || '.' ELSE '' END)
        || lpad(CAST((abs(t) // 36000000000) % 24 AS VARCHAR), 2, '0') || ':'
        || lpad(CAST((abs(t) // 600000000) % 60 AS VARCHAR), 2, '0') || ':'
        || lpad(CAST((abs(t) // 10000000) % 60 AS VARCHAR), 2, '0')
        || (CASE WHEN abs(t) % 10000000 <> 0 THEN '.' || lpad(CAST(abs(t) % 10000000 AS VARCHAR), 7, '0')
            ELSE '' END) END""",
    """CREATE OR REPLACE MACRO kh_datetime_json(ts) AS
        strftime(ts, '%Y-%m-%dT%H:%M:%S.%f') || '0Z'""",
    """CREATE OR REPLACE MACRO kh_datetime_str(ts) AS
        strftime(ts, '%Y-%m-%dT%H:%M:%S.%f') || '0Z'""",
    # .NET's text of a double, shared with tostring() (sql/lowerings/conversions.py)
    f"CREATE OR REPLACE MACRO kh_real_str(kh_r) AS {REAL_TEXT_SQL}",
    """CREATE OR REPLACE MACRO kh_json_str(j) AS CASE
        WHEN j IS NULL THEN ''
        WHEN json_type(j) = 'VARCHAR' THEN json_extract_string(j, '$')
        WHEN json_type(j) = 'NULL' THEN ''
        ELSE CAST(j AS VARCHAR) END""",
    # Kusto's `has` with a term known only at run time (has_any over a table or a dynamic array): the term
    # bounded by non-alphanumeric characters or the ends, a cheap `contains` first
    """CREATE OR REPLACE MACRO kh_has(x, t) AS CASE WHEN t IS NULL THEN NULL WHEN t = '' THEN true ELSE
        contains(lower(x), lower(t)) AND regexp_matches(x, '(?i)'
          || CASE WHEN regexp_matches(t, '^[\\p{L}\\p{N}]') THEN '(?:^|[^\\p{L}\\p{N}])' ELSE '' END
          || regexp_escape(t)
          || CASE WHEN regexp_matches(t, '[\\p{L}\\p{N}]$') THEN '(?:$|[^\\p{L}\\p{N}])' ELSE '' END) END""",
    """CREATE OR REPLACE MACRO kh_has_cs(x, t) AS CASE WHEN t IS NULL THEN NULL WHEN t = '' THEN true ELSE
        contains(x, t) AND regexp_matches(x,
          CASE WHEN regexp_matches(t, '^[\\p{L}\\p{N}]') THEN '(?:^|[^\\p{L}\\p{N}])' ELSE '' END
          || regexp_escape(t)
          || CASE WHEN regexp_matches(t, '[\\p{L}\\p{N}]$') THEN '(?:$|[^\\p{L}\\p{N}])' ELSE '' END) END""",
    # results print dynamic values minified, as Kusto does (json() re-serialises the text)
    """CREATE OR REPLACE MACRO kh_json_text(j) AS CAST(json(j) AS VARCHAR)""",
    f"""CREATE OR REPLACE MACRO kh_ipv4_to_int(s) AS CASE WHEN regexp_matches(s, '{IPV4_RE}') THEN
        CAST(split_part(s, '.', 1) AS BIGINT) * 16777216 + CAST(split_part(s, '.', 2) AS BIGINT) * 65536
        + CAST(split_part(s, '.', 3) AS BIGINT) * 256 + CAST(split_part(split_part(s, '.', 4), '/', 1) AS BIGINT)
        END""",
    """CREATE OR REPLACE MACRO kh_cidr_bits(s) AS
        CASE WHEN contains(s, '/') THEN CAST(split_part(s, '/', 2) AS BIGINT) ELSE 32 END""",
    """CREATE OR REPLACE MACRO kh_cidr_lo(s) AS
        (kh_ipv4_to_int(s) // CAST(pow(2, 32 - kh_cidr_bits(s)) AS BIGINT))
        * CAST(pow(2, 32 - kh_cidr_bits(s)) AS BIGINT)""",
    """CREATE OR REPLACE MACRO kh_cidr_hi(s) AS
        kh_cidr_lo(s) + CAST(pow(2, 32 - kh_cidr_bits(s)) AS BIGINT) - 1""",
    """CREATE OR REPLACE MACRO kh_url_member(v, name) AS CAST(to_json(v) AS JSON)""",
    """CREATE OR REPLACE MACRO kh_b64_decode(s) AS TRY(decode(from_base64(s)))""",
]


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
