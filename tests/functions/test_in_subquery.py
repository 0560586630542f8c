"""`in` / `!in` / `in~` / `!in~` with a tabular right-hand side: membership in the subquery's first column
(Kusto docs, in-operator: "a tabular expression whose first column is used"). Expected rows worked out by
hand below; Kusto's `in` is an OR of `==` and `!in` an AND of `!=`, where null == value is false."""

from __future__ import annotations

import pytest

import kqlhunt

T = "datatable(a:long, b:string)[1,'x', 2,'y', 3,'x', 2,'z', long(null),'w']"


@pytest.mark.parametrize(("query", "expected"), [
    # b in {x, z}
    (f"let bad = datatable(s:string)['x','z']; {T} | where b in (bad) | project a", [1, 3, 2]),
    # a > 1 gives b values {y, x, z}; only 'w' is not among them
    (f"let t = {T}; t | where b !in (t | where a > 1 | project b) | project b", ["w"]),
    # case-insensitive membership
    (f"{T} | where b in~ (datatable(v:string)['X', 'Y']) | project a", [1, 2, 3]),
    (f"{T} | where b !in~ (datatable(v:string)['X', 'Y']) | project b", ["z", "w"]),
    # numbers; the null a is in no list, so it passes !in and fails in
    (f"{T} | where a in (datatable(v:long)[1, 3, long(null)]) | project b", ["x", "x"]),
    (f"{T} | where a !in (datatable(v:long)[1, 3]) | project b", ["y", "z", "w"]),
    # the first column counts, whatever its name
    (f"{T} | where b in (datatable(v:string, w:string)['y', 'x']) | project a", [2]),
])
def test_in_subquery(query: str, expected: list) -> None:
    result = kqlhunt.query(query)
    assert sorted(result.column(0).to_pylist(), key=str) == sorted(expected, key=str)


def test_has_all_with_a_subquery_is_refused_by_name() -> None:
    with pytest.raises(kqlhunt.KqlError) as info:
        kqlhunt.query(f"{T} | where b has_all (datatable(v:string)['x'])")
    assert info.value.code.startswith("KH3")
