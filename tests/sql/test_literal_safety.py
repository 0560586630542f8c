"""User text never escapes into SQL: string literals and identifiers with quotes, backslashes, NULs and
unicode come back exactly, and the generated SQL stays one statement of the same shape."""

from __future__ import annotations

import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kqlhunt

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


def kql_string(value: str) -> str:
    """A KQL double-quoted literal for `value` (escapes as the KQL lexer reads them)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped + '"'


def kql_name(value: str) -> str:
    return "['" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r") + "']"


@SETTINGS
@given(TEXT)
def test_string_literal_round_trips(value: str) -> None:
    result = kqlhunt.query(f"print x = {kql_string(value)}")
    assert result.column("x").to_pylist() == [value]


@SETTINGS
@given(TEXT.filter(lambda s: s.strip() != ""))
def test_identifier_round_trips(name: str) -> None:
    result = kqlhunt.query(f"print {kql_name(name)} = 1")
    assert result.column_names == [name]


@SETTINGS
@given(TEXT)
def test_literal_does_not_change_the_sql_shape(value: str) -> None:
    reference = kqlhunt.compile('DeviceNetworkEvents | where RemoteUrl has "x" | project RemoteUrl').sql
    probe = kqlhunt.compile(f"DeviceNetworkEvents | where RemoteUrl has {kql_string(value)} | project RemoteUrl").sql
    assert len(sqlglot.parse(probe, read="duckdb")) == 1

    def shape(sql: str) -> list[str]:
        tree = sqlglot.parse_one(sql, read="duckdb")
        # literals and the LIKE ESCAPE clause (present only when the value holds % _ or \\) may differ
        skip = (sqlglot.exp.Literal, sqlglot.exp.Escape)
        return [type(node).__name__ for node in tree.walk(bfs=False) if not isinstance(node, skip)]

    assert shape(probe) == shape(reference) or value == ""
