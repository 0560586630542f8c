"""The JSON-text functions the Spark target calls (engines/runtime/json_text.py) against DuckDB's own
json(), json_type(), json_extract() and json_extract_string() on the same text: the expected values come
from DuckDB, never from the code under test."""

from __future__ import annotations

import json

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kqlhunt.engines.runtime import json_text as J

CON = duckdb.connect()

numbers = st.one_of(st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([1e-7, 1e-6, 1.5e-6, 1e21, 1e20, 0.1, -0.0, 5e-324, 1.7976931348623157e308]))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                      max_leaves=12)


def _duck(sql: str, *args: object) -> object:
    return CON.execute(sql, list(args)).fetchone()[0]


@settings(max_examples=300, deadline=None)
@given(values, st.sampled_from(["", " ", "\n  "]))
def test_minify_and_type_match_duckdb(value: object, space: str) -> None:
    text = json.dumps(value, indent=space or None, ensure_ascii=False)
    assert J._minify(text) == _duck("SELECT json(?::VARCHAR)", text)
    assert J._type(text) == _duck("SELECT json_type(?::JSON)", text)


@pytest.mark.parametrize("text", ["1.50", "1e5", "1E+20", "1e-7", "-0.0", "12345678901234567890",
                                  "123456789012345678901234", '"\\u00e9\\n\\u0001"', "3.0", "1.0e2",
                                  '{"b": 1, "a" : [1 , 2.0, "x y"]}', "[true,false,null]"])
def test_written_forms(text: str) -> None:
    assert J._minify(text) == _duck("SELECT json(?::VARCHAR)", text)
    assert J._type(text) == _duck("SELECT json_type(?::JSON)", text)


DOC = '{"a":{"b c":[1,2,{"d":"x","e":null}]},"s":"t","n":null,"l":[1, 2.5]}'


@pytest.mark.parametrize("path", ["$", "$.a", '$.a."b c"', '$.a."b c"[2].d', '$.a."b c"[#-1]', '$.a."b c"[#-3]',
                                  '$.a."b c"[2].e', "$.s", "$.n", "$.l", "$.l[1]", "$.missing", "$.s.deeper",
                                  "$[0]", '$."a"'])
def test_extract_matches_duckdb(path: str) -> None:
    assert J._extract(DOC, path) == _duck("SELECT json_extract(?::JSON, ?)", DOC, path)
    assert J._extract_string(DOC, path) == _duck("SELECT json_extract_string(?::JSON, ?)", DOC, path)


@pytest.mark.parametrize("text", ["", "nope", "{", "01", "+1", ".5", "1.", "{'a': 1}", "NaN", "[-Infinity]"])
def test_validity_matches_duckdb(text: str) -> None:
    assert J._valid(text) == _duck("SELECT json_valid(?)", text)


@pytest.mark.parametrize("text", ["[1,]", '{"a":1,}', "nan", "[inf]", "INF"])
def test_duckdbs_lenient_forms_are_refused_not_guessed(text: str) -> None:
    assert _duck("SELECT json_valid(?)", text) is True
    with pytest.raises(J.UnknownAnswer):
        J._valid(text)
