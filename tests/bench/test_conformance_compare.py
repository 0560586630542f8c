"""Unit tests for bench/conformance_compare.py (and the runner's per-case glue in bench/conformance.py).

Every expectation here is written by hand from the conformance README's rules and from values seen in the
frozen real-engine results (e.g. `2016-12-31T23:59:59.9999999Z`, `03:12:14.4000000`, `-12:00:00`, `"NaN"`).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pyarrow as pa
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import conformance_compare as cc  # noqa: E402

import conformance  # noqa: E402

DAY = cc.TICKS_PER_DAY
SEC = cc.TICKS_PER_SECOND


def result(columns, types, rows):
    return cc.KustoResult(list(columns), list(types), [list(r) for r in rows])


def expected(columns, types, rows):
    return {"columns": list(columns), "column_types": list(types), "rows": [list(r) for r in rows]}


# ------------------------------------------------------------------------------------------ types


@pytest.mark.parametrize(
    ("kql", "dotnet"),
    [
        ("bool", "SByte"),
        ("boolean", "SByte"),
        ("int", "Int32"),
        ("long", "Int64"),
        ("int64", "Int64"),
        ("real", "Double"),
        ("double", "Double"),
        ("decimal", "Decimal"),
        ("string", "String"),
        ("guid", "Guid"),
        ("uniqueid", "Guid"),
        ("datetime", "DateTime"),
        ("date", "DateTime"),
        ("timespan", "TimeSpan"),
        ("time", "TimeSpan"),
        ("dynamic", "Object"),
    ],
)
def test_dotnet_type_names(kql, dotnet):
    assert cc.dotnet_type(kql) == dotnet


def test_unknown_type_name_stays_visible():
    assert cc.dotnet_type("unknown") == "unknown"


# ------------------------------------------------------------------------------ datetime formatting


@pytest.mark.parametrize(
    "text",
    [
        "2017-08-01T00:00:00Z",
        "1930-01-01T00:00:00Z",  # before the epoch: negative ticks
        "2016-12-31T23:59:59.9999999Z",  # 7 fraction digits when needed
        "2026-08-01T04:32:02.4Z",  # trailing zeros trimmed
        "2017-10-01T12:11:00.1234567Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.9999999Z",
    ],
)
def test_datetime_round_trip_matches_kusto_text(text):
    assert cc.format_datetime(cc.parse_datetime(text)) == text


def test_datetime_parse_accepts_other_utc_spellings():
    base = cc.parse_datetime("2017-08-01T00:00:00.5Z")
    assert cc.parse_datetime("2017-08-01T00:00:00.5000000Z") == base
    assert cc.parse_datetime("2017-08-01T00:00:00.5+00:00") == base
    assert cc.parse_datetime("2017-08-01 00:00:00.5") == base
    assert base == (17379 * 86_400) * SEC + SEC // 2


def test_datetime_parse_rejects_garbage():
    with pytest.raises(ValueError):
        cc.parse_datetime("yesterday")


# ------------------------------------------------------------------------------ timespan formatting


@pytest.mark.parametrize(
    ("ticks", "text"),
    [
        (0, "00:00:00"),
        (-12 * 3600 * SEC, "-12:00:00"),
        (4 * DAY, "4.00:00:00"),
        ((3 * 3600 + 12 * 60 + 14) * SEC + 4_000_000, "03:12:14.4000000"),
        (DAY + (2 * 3600 + 3 * 60 + 4) * SEC + 5_000_000, "1.02:03:04.5000000"),
        (-(DAY + (2 * 3600 + 3 * 60 + 4) * SEC + 5_000_000), "-1.02:03:04.5000000"),
        (1, "00:00:00.0000001"),
        (-1, "-00:00:00.0000001"),
        (20 * SEC, "00:00:20"),
    ],
)
def test_timespan_format_and_parse(ticks, text):
    assert cc.format_timespan(ticks) == text
    assert cc.parse_timespan(text) == ticks


def test_timespan_parse_accepts_short_fraction():
    # The README spells it `1.02:03:04.5`; the engine prints 7 digits. Both mean the same value.
    assert cc.parse_timespan("1.02:03:04.5") == cc.parse_timespan("1.02:03:04.5000000")


# ---------------------------------------------------------------------------- Arrow -> Kusto JSON


def field(name, arrow_type, kql_type):
    return pa.field(name, arrow_type, metadata={b"kql_type": kql_type.encode()})


def test_arrow_to_kusto_converts_every_type():
    schema = pa.schema(
        [
            field("b", pa.bool_(), "bool"),
            field("i", pa.int32(), "int"),
            field("l", pa.int64(), "long"),
            field("r", pa.float64(), "real"),
            field("s", pa.string(), "string"),
            field("g", pa.string(), "guid"),
            field("t", pa.timestamp("us", tz="UTC"), "datetime"),
            field("d", pa.duration("ns"), "timespan"),
            field("j", pa.string(), "dynamic"),
        ]
    )
    t0 = 1_501_545_600_000_000  # 2017-08-01T00:00:00Z in microseconds
    table = pa.table(
        [
            [True, None],
            [1, None],
            [2**40, None],
            [math.nan, float("-inf")],
            ["x", ""],
            ["CCDF8F26-0DD9-42B8-9E69-25B2B19A3305", None],
            [t0 + 400_000, None],
            [-12 * 3600 * 10**9, 93_784_500_000_000],
            ['{"a":[1,2.5]}', "null"],
        ],
        schema=schema,
    )
    got = cc.arrow_to_kusto(table)
    assert got.columns == ["b", "i", "l", "r", "s", "g", "t", "d", "j"]
    assert got.column_types == [
        "SByte",
        "Int32",
        "Int64",
        "Double",
        "String",
        "Guid",
        "DateTime",
        "TimeSpan",
        "Object",
    ]
    assert got.rows[0] == [
        True,
        1,
        2**40,
        "NaN",
        "x",
        "ccdf8f26-0dd9-42b8-9e69-25b2b19a3305",
        "2017-08-01T00:00:00.4Z",
        "-12:00:00",
        {"a": [1, 2.5]},
    ]
    assert got.rows[1] == [None, None, None, "-Infinity", "", None, None, "1.02:03:04.5000000", None]
    assert got.notes == []


def test_arrow_to_kusto_notes_missing_metadata():
    got = cc.arrow_to_kusto(pa.table({"x": pa.array([1], pa.int64())}))
    assert got.column_types == ["Int64"]
    assert got.notes and "no kql_type metadata" in got.notes[0]


def test_arrow_to_kusto_empty_table_keeps_columns():
    table = pa.table([pa.array([], pa.int64())], schema=pa.schema([field("n", pa.int64(), "long")]))
    got = cc.arrow_to_kusto(table)
    assert (got.columns, got.column_types, got.rows) == (["n"], ["Int64"], [])


# --------------------------------------------------------------------------------- values & tolerance


def same(exp_value, act_value, dotnet, tol=cc.EXACT):
    return cc.values_equal(cc.normalize(exp_value, dotnet), cc.normalize(act_value, dotnet), dotnet, tol)


def test_nan_equals_nan_whatever_the_spelling():
    assert same("NaN", "NaN", "Double")
    assert same("NaN", math.nan, "Double")
    assert not same("NaN", 0.0, "Double")
    assert same("Infinity", math.inf, "Double")
    assert not same("Infinity", "-Infinity", "Double")


def test_two_point_zero_equals_two():
    assert same(2.0, 2, "Double")
    assert same(2, 2.0, "Int64")
    assert same(2.0, 2, "Object")


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [
        (1.0, 1.0 + 5e-10, True),  # within relative 1e-9
        (1.0, 1.0 + 5e-9, False),
        (1e6, 1e6 + 5e-4, True),
        (0.0, 5e-13, True),  # absolute 1e-12 near zero
        (0.0, 5e-12, False),
        (-3.5, 3.5, False),
    ],
)
def test_float_tolerance(a, b, ok):
    assert same(a, b, "Double") is ok


def test_integers_are_exact_unless_estimating():
    assert not same(100, 101, "Int64")
    assert same(100, 104, "Int64", cc.ESTIMATE)
    assert not same(100, 106, "Int64", cc.ESTIMATE)
    assert same(0.5, 0.524, "Double", cc.ESTIMATE)


def test_datetime_compares_at_microsecond_resolution():
    # CONVENTIONS: datetime results are timestamp[us]; the engine keeps 100-ns ticks.
    assert same("2016-12-31T23:59:59.9999999Z", "2016-12-31T23:59:59.999999Z", "DateTime")
    assert same("2017-10-01T12:11:00.1234567Z", "2017-10-01T12:11:00.123457Z", "DateTime")
    assert not same("2017-01-01T00:00:00Z", "2017-01-01T00:00:00.001Z", "DateTime")
    assert not same("2017-01-01T00:00:00Z", "2017-01-02T00:00:00Z", "DateTime")


def test_timespan_is_exact_to_the_tick():
    assert same("03:12:14.4000000", "03:12:14.4", "TimeSpan")
    assert not same("00:00:00", "00:00:00.0000001", "TimeSpan")


def test_bool_null_and_string_rules():
    assert same(True, True, "SByte")
    assert not same(True, False, "SByte")
    assert not same(True, 1.5, "Int64")  # a bool is not a number
    assert same(None, None, "Int64")
    assert not same(None, 0, "Int64")
    assert not same("", None, "String")  # Kusto strings are never null
    assert same("CCDF8F26-0DD9-42B8-9E69-25B2B19A3305", "ccdf8f26-0dd9-42b8-9e69-25b2b19a3305", "Guid")
    assert same("1.50", "1.5", "Decimal")


def test_wrong_shaped_values_are_unequal():
    assert not same("2017-01-01T00:00:00Z", 5, "DateTime")
    assert not same("00:01:00", "one minute", "TimeSpan")


def test_dynamic_deep_equality():
    assert same({"a": 1, "b": [1, 2]}, {"b": [1.0, 2], "a": 1.0}, "Object")  # key order, 2.0 == 2
    assert not same([1, 2], [2, 1], "Object")  # arrays are ordered
    assert not same({"a": 1}, {"a": 1, "b": None}, "Object")
    assert not same([True], [1], "Object")
    assert same([1.0000000001], [1.0], "Object")
    assert same(["NaN"], ["NaN"], "Object")
    assert same(["NaN"], [math.nan], "Object")
    assert not same("1", 1, "Object")
    assert same(None, None, "Object")


# --------------------------------------------------------------------------------------- multisets


def test_multiset_ignores_order_but_counts_duplicates():
    types = ["String", "Int64"]
    exp = [["a", 1], ["b", 2], ["a", 1]]
    miss, extra = cc.match_multiset(exp, [["a", 1], ["a", 1], ["b", 2]], types, cc.EXACT)
    assert (miss, extra) == ([], [])
    miss, extra = cc.match_multiset(exp, [["a", 1], ["b", 2], ["b", 2]], types, cc.EXACT)
    assert (miss, extra) == ([2], [2])


def test_multiset_matching_is_maximal_not_greedy():
    # Under 5 % tolerance expected 100 fits actual 100 and 104, expected 108 only fits 104: a greedy pass
    # that gave 104 to 100 would wrongly report a mismatch.
    exp = [[100.0], [108.0]]
    act = [[104.0], [100.5]]
    assert cc.match_multiset(exp, act, ["Double"], cc.ESTIMATE) == ([], [])


def test_compare_multiset_reports_missing_and_unexpected():
    e = expected(["x"], ["Int64"], [[1], [2]])
    v = cc.compare(e, result(["x"], ["Int64"], [[2], [3]]), cc.RowOrder("multiset"))
    assert not v.ok
    assert any("missing rows: [1]" in p for p in v.problems)
    assert any("unexpected rows: [3]" in p for p in v.problems)


def test_compare_column_names_and_types_must_match():
    e = expected(["a", "b"], ["Int64", "String"], [[1, "x"]])
    assert cc.compare(e, result(["a", "b"], ["Int64", "String"], [[1, "x"]]), cc.RowOrder("multiset")).ok
    v = cc.compare(e, result(["a", "c"], ["Int64", "String"], [[1, "x"]]), cc.RowOrder("multiset"))
    assert not v.ok and "column names" in v.problems[0]
    v = cc.compare(e, result(["a", "b"], ["Int32", "String"], [[1, "x"]]), cc.RowOrder("multiset"))
    assert not v.ok and v.problems == ["column 'a' type: expected Int64, got Int32"]
    v = cc.compare(e, result(["a"], ["Int64"], [[1]]), cc.RowOrder("multiset"))
    assert not v.ok


def test_compare_empty_results():
    e = expected(["a"], ["Int64"], [])
    assert cc.compare(e, result(["a"], ["Int64"], []), cc.RowOrder("multiset")).ok
    assert not cc.compare(e, result(["a"], ["Int64"], [[1]]), cc.RowOrder("multiset")).ok


# ------------------------------------------------------------------------------------ ordered rows


E_SORTED = expected(["k", "v"], ["Int64", "String"], [[1, "a"], [2, "b"], [2, "c"], [3, "d"]])


def test_ordered_tied_rows_compare_as_a_multiset():
    order = cc.RowOrder("ordered", ("k",))
    act = result(["k", "v"], ["Int64", "String"], [[1, "a"], [2, "c"], [2, "b"], [3, "d"]])
    v = cc.compare(E_SORTED, act, order)
    assert v.ok and v.mode == "ordered by k"


def test_ordered_key_sequence_must_match():
    order = cc.RowOrder("ordered", ("k",))
    act = result(["k", "v"], ["Int64", "String"], [[2, "b"], [1, "a"], [2, "c"], [3, "d"]])
    v = cc.compare(E_SORTED, act, order)
    assert not v.ok and v.problems[0].startswith("order: row 0")


def test_ordered_tie_group_content_must_match():
    order = cc.RowOrder("ordered", ("k",))
    act = result(["k", "v"], ["Int64", "String"], [[1, "a"], [2, "b"], [2, "x"], [3, "d"]])
    v = cc.compare(E_SORTED, act, order)
    assert not v.ok and "tied on the sort key" in v.problems[0]


def test_ordered_cut_last_group_only_needs_its_keys():
    # `sort by k | take 3`: which of the rows tied at the cut survive is the engine's choice.
    e = expected(["k", "v"], ["Int64", "String"], [[1, "a"], [2, "b"], [2, "c"]])
    act = result(["k", "v"], ["Int64", "String"], [[1, "a"], [2, "c"], [2, "z"]])
    assert cc.compare(e, act, cc.RowOrder("ordered", ("k",), truncated=True)).ok
    assert not cc.compare(e, act, cc.RowOrder("ordered", ("k",), truncated=False)).ok
    wrong_first = result(["k", "v"], ["Int64", "String"], [[1, "q"], [2, "b"], [2, "c"]])
    assert not cc.compare(e, wrong_first, cc.RowOrder("ordered", ("k",), truncated=True)).ok


def test_ordered_uses_the_longest_prefix_of_output_keys():
    # second key is an expression: order is checked on `k` only, ties on `k` as a multiset
    order = cc.RowOrder("ordered", ("k", None))
    act = result(["k", "v"], ["Int64", "String"], [[1, "a"], [2, "c"], [2, "b"], [3, "d"]])
    v = cc.compare(E_SORTED, act, order)
    assert v.ok and v.mode == "ordered by k"


def test_ordered_falls_back_to_multiset_when_leading_key_is_not_an_output_column():
    act = result(["k", "v"], ["Int64", "String"], [[3, "d"], [2, "c"], [2, "b"], [1, "a"]])
    for keys in ((None,), ("hidden",)):
        v = cc.compare(E_SORTED, act, cc.RowOrder("ordered", keys))
        assert v.ok and v.mode == "multiset"


def test_ordered_with_float_keys_uses_tolerance():
    e = expected(["k"], ["Double"], [[0.1], [0.2]])
    act = result(["k"], ["Double"], [[0.1 + 1e-12], [0.2]])
    assert cc.compare(e, act, cc.RowOrder("ordered", ("k",))).ok


def test_count_mode_checks_only_the_number_of_rows():
    e = expected(["x"], ["Int64"], [[1], [2]])
    assert cc.compare(e, result(["x"], ["Int64"], [[7], [8]]), cc.RowOrder("count")).ok
    assert not cc.compare(e, result(["x"], ["Int64"], [[7]]), cc.RowOrder("count")).ok


# ---------------------------------------------------------------------------- reading the query text


@pytest.mark.parametrize(
    ("kql", "mode", "keys", "truncated"),
    [
        ("T | where x > 1", "multiset", (), False),
        ("T | sort by x desc", "ordered", ("x",), False),
        ("T | order by a asc, b desc nulls last", "ordered", ("a", "b"), False),
        ("T | sort by strlen(s) asc, x", "ordered", (None, "x"), False),
        ("T | sort by ['my col']", "ordered", ("my col",), False),
        ("T | top 3 by x", "ordered", ("x",), True),
        ("T | sort by x | take 3", "ordered", ("x",), True),
        ("T | sort by x | extend y = 1 | project x, y", "ordered", ("x",), False),
        ("T | sort by x | summarize count() by x", "multiset", (), False),
        ("T | sort by x | join (U) on x", "multiset", (), False),
        ("T | sort by x | distinct x", "multiset", (), False),
        ("T | sort by x | count", "multiset", (), False),
        ("T | sort by x | union U", "multiset", (), False),
        ("T | take 3", "count", (), False),
        ("T | limit 3 | project x", "count", (), False),
        ("T | take 0 | make-series avg(m) on t step 1h", "multiset", (), False),
        ("T | take 5 | summarize count()", "multiset", (), False),
        ("let X = T | sort by x; X | where y", "multiset", (), False),
        ("T | mv-apply l on (top 1 by l)", "multiset", (), False),
        ("T | where s == 'a | sort by x' // | sort by y\n| project s", "multiset", (), False),
        (
            "T\n| sort by Airport asc, Departures desc\n| extend Rank=row_number()",
            "ordered",
            ("Airport", "Departures"),
            False,
        ),
        ("T | top-nested 2 of a by count()", "multiset", (), False),
    ],
)
def test_row_order(kql, mode, keys, truncated):
    order = cc.row_order(kql)
    assert (order.mode, order.keys, order.truncated) == (mode, keys, truncated)


def test_final_pipeline_skips_strings_comments_and_brackets():
    kql = "let a = \"x|y;z\"; // c | d\nT | where b in ('|') | extend c = @'\\' | f(x | y)"
    assert cc.final_pipeline(kql) == ["T", "where b in ('|')", "extend c = @'\\'", "f(x | y)"]


@pytest.mark.parametrize(
    ("kql", "reason"),
    [
        ("print now()", "depends on now()"),
        ("T | where t > ago(1d)", "depends on ago()"),
        ("print rand()", "depends on rand()"),
        ("T | sample 3", "depends on sample"),
        ("T | sample-distinct 3 of x", "depends on sample"),
        ("print cursor_current()", "depends on cursor_current()"),
        ("print 'now()' // ago(1d)", None),
        ("T | project sample = 1, snow = 2", None),
    ],
)
def test_nondeterministic_reason(kql, reason):
    assert cc.nondeterministic_reason(kql) == reason


@pytest.mark.parametrize(
    ("kql", "estimates"),
    [
        ("T | summarize dcount(x)", True),
        ("T | summarize dcountif(x, y)", True),
        ("T | summarize percentiles(x, 5, 50)", True),
        ("T | summarize percentilew(x, w, 50)", True),
        ("T | summarize tdigest(x)", True),
        ("T | summarize count_distinct(x), count()", False),
        ("T | project s = 'dcount(x)'", False),
    ],
)
def test_uses_estimates(kql, estimates):
    assert cc.uses_estimates(kql) is estimates


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("make_set", "aggregate"),
        ("arg_max", "aggregate"),
        ("percentiles", "aggregate"),
        ("series_stats", "series"),
        ("geo_point_to_s2cell", "geo"),
        ("ipv4_is_private", "ip"),
        ("datetime_diff", "datetime"),
        ("startofday", "datetime"),
        ("tostring", "conversion"),
        ("iff", "conditional"),
        ("array_length", "dynamic"),
        ("bag_pack", "dynamic"),
        ("strcat", "string"),
        ("dynamic", "literal"),
        ("row_number", "window"),
        ("bag_unpack", "plugin"),
        ("whatever", "other"),
    ],
)
def test_function_family(name, family):
    assert cc.function_family(name) == family


# ------------------------------------------------------------------------------- runner glue


class FakeKqlError(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def case(kql, rows, columns=("x",), types=("Int64",), **extra):
    return {
        "id": "c1",
        "kql": kql,
        "tags": {"operators": ["print"], "functions": []},
        "expected": expected(columns, types, rows),
        **extra,
    }


def long_table(values):
    return pa.table([pa.array(values, pa.int64())], schema=pa.schema([field("x", pa.int64(), "long")]))


def test_run_case_outcomes():
    def run(c, fn):
        return conformance.run_case(c, fn, FakeKqlError, "", timeout=0)

    assert run(case("print x = 1", [[1]]), lambda q: long_table([1])).status == "pass"
    wrong = run(case("print x = 1", [[1]]), lambda q: long_table([2]))
    assert wrong.status == "wrong" and wrong.detail

    def refuse(q):
        raise FakeKqlError("mv-apply is not supported", "KH-UNSUPPORTED-MVAPPLY")

    refused = run(case("print x = 1", [[1]]), refuse)
    assert refused.status == "refused" and refused.reason.startswith("KH-UNSUPPORTED-MVAPPLY")

    def crash(q):
        raise RuntimeError("boom")

    errored = run(case("print x = 1", [[1]]), crash)
    assert errored.status == "error" and "RuntimeError: boom" in errored.reason
    skipped = run(case("print x = now()", [[1]]), crash)
    assert skipped.status == "skipped"
    assert run(case("T", [[1]], inline_input=False), crash).status == "skipped"


def test_run_case_without_engine_is_an_error():
    out = conformance.run_case(
        case("print x = 1", [[1]]), None, FakeKqlError, "kqlhunt.query not available", timeout=0
    )
    assert (out.status, out.reason) == ("error", "kqlhunt.query not available")


def test_run_case_uses_estimate_tolerance():
    c = case("T | summarize x = dcount(y)", [[100]])
    out = conformance.run_case(c, lambda q: long_table([103]), FakeKqlError, "", timeout=0)
    assert out.status == "pass"


def test_main_without_cases_file_exits_zero(tmp_path, capsys):
    assert conformance.main(["--cases", str(tmp_path / "absent.json")]) == 0
    assert "no conformance cases" in capsys.readouterr().out


def test_main_writes_json_and_strict_exit(tmp_path, capsys, monkeypatch):
    cases = {"cases": [case("print x = 1", [[1]]), {**case("print x = now()", [[1]]), "id": "c2"}]}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    monkeypatch.setattr(conformance, "load_engine", lambda: (lambda q: long_table([1]), FakeKqlError, ""))
    out = tmp_path / "out" / "report.json"
    assert conformance.main(["--cases", str(path), "--json", str(out), "--strict", "--by-family"]) == 0
    report = json.loads(out.read_text())
    assert report["totals"]["pass"] == 1 and report["totals"]["skipped"] == 1
    assert [c["status"] for c in report["cases"]] == ["pass", "skipped"]
    monkeypatch.setattr(conformance, "load_engine", lambda: (lambda q: long_table([5]), FakeKqlError, ""))
    assert conformance.main(["--cases", str(path), "--strict"]) == 1
    assert conformance.main(["--cases", str(path), "--filter", "c2", "--strict"]) == 0
    capsys.readouterr()


# ------------------------------------------------- round trip over the frozen real-engine results

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "kusto-docs-dev.json"
ARROW_OF = {
    "SByte": (pa.bool_(), "bool"),
    "Int32": (pa.int32(), "int"),
    "Int64": (pa.int64(), "long"),
    "Double": (pa.float64(), "real"),
    "String": (pa.string(), "string"),
    "Guid": (pa.string(), "guid"),
    "DateTime": (pa.timestamp("us", tz="UTC"), "datetime"),
    "TimeSpan": (pa.duration("ns"), "timespan"),
    "Object": (pa.string(), "dynamic"),
}


def to_arrow_cell(value, dotnet):
    """A frozen JSON cell as the engine would return it under CONVENTIONS.md (independent of the code under
    test except for the text parsers, which have their own tests above)."""
    if value is None:
        return None
    if dotnet == "DateTime":
        return cc.parse_datetime(value) // 10  # microseconds: the API's resolution
    if dotnet == "TimeSpan":
        return cc.parse_timespan(value) * 100  # nanoseconds
    if dotnet == "Double":
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value, value)
    if dotnet == "Object":
        return json.dumps(value)
    return value


def expected_as_arrow(exp):
    arrays, fields = [], []
    for i, (name, dotnet) in enumerate(zip(exp["columns"], exp["column_types"], strict=True)):
        arrow_type, kql = ARROW_OF[dotnet]
        cells = [to_arrow_cell(row[i], dotnet) for row in exp["rows"]]
        arrays.append(
            pa.array(cells, pa.int64()).cast(arrow_type)
            if dotnet in ("DateTime", "TimeSpan")
            else pa.array(cells, arrow_type)
        )
        fields.append(field(name, arrow_type, kql))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


@pytest.fixture(scope="module")
def frozen_cases():
    if not CASES.is_file():
        pytest.skip(f"{CASES} not available")
    return json.loads(CASES.read_text(encoding="utf-8"))["cases"]


def test_every_frozen_result_agrees_with_itself_through_arrow(frozen_cases):
    """The real engine's own answer, shaped as kqlhunt would return it, must pass — in reverse row order
    too when the comparison is a multiset (a comparator that rejects the truth is worse than none)."""
    for c in frozen_cases:
        exp = c["expected"]
        tol = cc.ESTIMATE if cc.uses_estimates(c["kql"]) else cc.EXACT
        order = cc.row_order(c["kql"])
        actual = cc.arrow_to_kusto(expected_as_arrow(exp))
        verdict = cc.compare(exp, actual, order, tol)
        assert verdict.ok, (c["id"], verdict.problems)
        if order.mode == "multiset":
            flipped = cc.KustoResult(actual.columns, actual.column_types, actual.rows[::-1])
            assert cc.compare(exp, flipped, order, tol).ok, c["id"]


def test_a_changed_cell_is_caught_in_every_frozen_result(frozen_cases):
    """Flip one cell of the first row of each non-empty case: the comparison must fail (count-only cases
    excepted: there the values are deliberately not compared)."""
    checked = 0
    for c in frozen_cases:
        exp = c["expected"]
        order = cc.row_order(c["kql"])
        if not exp["rows"] or order.mode == "count":
            continue
        actual = cc.arrow_to_kusto(expected_as_arrow(exp))
        row = list(actual.rows[0])
        row[0] = "\u2620" if not isinstance(row[0], str) or row[0] == "" else row[0] + "\u2620"
        mutated = cc.KustoResult(actual.columns, actual.column_types, [row, *actual.rows[1:]])
        tol = cc.ESTIMATE if cc.uses_estimates(c["kql"]) else cc.EXACT
        assert not cc.compare(exp, mutated, order, tol).ok, c["id"]
        checked += 1
    assert checked > 300
