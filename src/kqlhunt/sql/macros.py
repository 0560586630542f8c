"""The SQL macros compiled queries call (`kh_*`): Kusto's formatting and parsing rules (tostring of a
timespan, datetimes in JSON, IPv4 parsing) written once instead of repeated as large expressions in every
query. DuckDB installs them as macros (engines/duckdb_runtime.py); the Spark target inlines them
(sql/spark/translate.py), since Spark SQL has none.
"""

from __future__ import annotations

import re
from functools import cache

import sqlglot
from sqlglot import exp

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


_MACRO = re.compile(r"CREATE OR REPLACE MACRO (\w+)\(([^)]*)\) AS\s+(.*)", re.S)


@cache
def parsed_macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """name -> (parameters, body tree) of every macro."""
    out = {}
    for text in MACROS:
        m = _MACRO.match(text.strip())
        assert m, text[:60]
        params = [p.strip() for p in m.group(2).split(",") if p.strip()]
        out[m.group(1).lower()] = (params, sqlglot.parse_one(m.group(3), dialect="duckdb"))
    return out
