"""Tabular operators the seed hunts use: join kinds (innerunique default, inner, leftouter, leftanti /
leftantisemi, rightanti), project-away *1, mv-expand, mv-apply with next(), next / prev, sort (default order,
nulls), take, top, count, distinct, union, print, range. Sources as in _harness.py."""

from __future__ import annotations

import pytest

from ._harness import KUSTO_ERROR, NAN, case, params, run_case

XY = (
    "let X = datatable(Key:string, Value1:long)\n[\n    'a',1,\n    'b',2,\n    'b',3,\n    'c',4\n];\n"
    "let Y = datatable(Key:string, Value2:long)\n[\n    'b',10,\n    'c',20,\n    'c',30,\n    'd',40\n];\n"
)


def _innerunique_xy(table, rows):
    """docs:join-innerunique: the left side is deduplicated on the key, and either duplicate may be kept."""
    assert len(rows) == 3, rows
    by_key = {}
    for key, v1, key1, v2 in rows:
        assert key == key1
        by_key.setdefault(key, []).append((v1, v2))
    assert set(by_key) == {"b", "c"}, rows
    ((v1_b, v2_b),) = by_key["b"]
    assert v1_b in (2, 3) and v2_b == 10, rows
    assert sorted(by_key["c"]) == [(4, 20), (4, 30)], rows


def _innerunique_t1t2(table, rows):
    """docs:join-innerunique: both 'two possible outputs' are correct -- one left row, both right rows."""
    assert len(rows) == 2, rows
    left_values = {r[1] for r in rows}
    assert len(left_values) == 1 and left_values <= {"val1.1", "val1.2"}, rows
    assert sorted(r[3] for r in rows) == ["val1.3", "val1.4"], rows


JOINS = [
    case("join_inner_frozen",
         "let X = datatable(Key:string, Value1:long)\n[\n    'a',1,\n    'b',2,\n    'b',3,\n    'k',5,\n    'c',4\n];\n"
         "let Y = datatable(Key:string, Value2:long)\n[\n    'b',10,\n    'c',20,\n    'c',30,\n    'd',40,\n    'k',50\n];\n"
         "X | join kind=inner Y on Key",
         ["Key", "Value1", "Key1", "Value2"], ["string", "long", "string", "long"],
         [("b", 3, "b", 10), ("b", 2, "b", 10), ("c", 4, "c", 20), ("c", 4, "c", 30), ("k", 5, "k", 50)],
         "frozen:join-inner-00"),
    case("join_default_is_innerunique", XY + "X | join Y on Key",
         ["Key", "Value1", "Key1", "Value2"], ["string", "long", "string", "long"], _innerunique_xy,
         "docs:join-innerunique ('By default, the innerunique join flavor is used'; 'deduplicating the left "
         "side based on the join key')"),
    case("join_innerunique_frozen",
         "let t1 = datatable(key: long, value: string)  \n    [\n    1, \"val1.1\",  \n    1, \"val1.2\"  \n];\n"
         "let t2 = datatable(key: long, value: string)  \n    [  \n    1, \"val1.3\",\n    1, \"val1.4\"  \n];\n"
         "t1\n| join kind = innerunique\n    t2\n    on key",
         ["key", "value", "key1", "value1"], ["long", "string", "long", "string"], _innerunique_t1t2,
         "frozen:join-innerunique-01 (val1.1 kept); docs:join-innerunique (val1.2 is equally correct)"),
    case("join_leftouter_docs", XY + "X | join kind=leftouter Y on Key",
         ["Key", "Value1", "Key1", "Value2"], ["string", "long", "string", "long"],
         [("a", 1, "", None), ("b", 2, "b", 10), ("b", 3, "b", 10), ("c", 4, "c", 20), ("c", 4, "c", 30)],
         "docs:join-leftouter (output table); the unmatched string key is '' and the long null, as in "
         "frozen:join-rightouter-00 (['', null, 'd', 40])"),
    case("join_rightouter_frozen", XY + "X | join kind=rightouter Y on Key",
         ["Key", "Value1", "Key1", "Value2"], ["string", "long", "string", "long"],
         [("b", 3, "b", 10), ("b", 2, "b", 10), ("c", 4, "c", 20), ("c", 4, "c", 30), ("", None, "d", 40)],
         "frozen:join-rightouter-00", may_refuse=True),
    case("join_leftanti_frozen", XY + "X | join kind=leftanti Y on Key", ["Key", "Value1"], ["string", "long"],
         [("a", 1)], "frozen:join-leftanti-00"),
    case("join_leftantisemi_alias", XY + "X | join kind=leftantisemi Y on Key", ["Key", "Value1"],
         ["string", "long"], [("a", 1)], "docs:join-leftanti ('Aliases: anti, leftantisemi'); seed 004"),
    case("join_anti_alias", XY + "X | join kind=anti Y on Key", ["Key", "Value1"], ["string", "long"], [("a", 1)],
         "docs:join-leftanti (alias anti)", may_refuse=True),
    case("join_leftantisemi_multi_key_seed004",
         "let P = datatable(DeviceId:string, RemoteIP:string, RemotePort:int, Jitter:real)"
         "['d1', '1.1.1.1', 443, 5.0, 'd1', '1.1.1.1', 8443, 7.0, 'd2', '1.1.1.1', 443, 9.0];\n"
         "let Impossible = datatable(DeviceId:string, RemoteIP:string, RemotePort:int, count_:long)"
         "['d1', '1.1.1.1', 443, 9, 'd2', '2.2.2.2', 443, 9];\n"
         "P\n| join kind=leftantisemi Impossible on DeviceId, RemoteIP, RemotePort\n| order by Jitter asc",
         ["DeviceId", "RemoteIP", "RemotePort", "Jitter"], ["string", "string", "int", "real"],
         [("d1", "1.1.1.1", 8443, 7.0), ("d2", "1.1.1.1", 443, 9.0)],
         "docs:join-leftanti (all keys must match for a row to be removed; left columns only); seed 004's "
         "final join", ordered=True),
    case("join_rightanti_frozen", XY + "X | join kind=rightanti Y on Key", ["Key", "Value2"], ["string", "long"],
         [("d", 40)], "frozen:join-rightanti-00"),
    case("join_leftsemi", XY + "X | join kind=leftsemi Y on Key", ["Key", "Value1"], ["string", "long"],
         [("b", 2), ("b", 3), ("c", 4)], "docs:join-operator (leftsemi: all left records that match)",
         may_refuse=True),
    case("join_project_away_star1",
         "let L = datatable(a:string, b:long, c:long)['x', 1, 100, 'y', 2, 200];\n"
         "let R = datatable(a:string, b:long, d:long, c:long)['x', 1, 7, 999];\n"
         "L | join kind=inner R on a, b\n| project-away *1",
         ["a", "b", "c", "d"], ["string", "long", "long", "long"], [("x", 1, 100, 7)],
         "docs:join-operator (right columns whose names clash get the suffix 1), project-away-operator "
         "(column name patterns; order of the remaining columns kept); seed 004's join ... | project-away *1"),
    case("join_multi_key_leftouter_seed004",
         "let L = datatable(ip:string, d:string)['1.1.1.1', 'x', '2.2.2.2', 'y'];\n"
         "let R = datatable(RemoteIP:string, dom:string)['1.1.1.1', 'a.com', '1.1.1.1', 'b.com'];\n"
         "L | join kind=leftouter (R | summarize Domains = make_set(dom) by RemoteIP) on $left.ip == $right.RemoteIP\n"
         "| project ip, n = array_length(Domains)",
         ["ip", "n"], ["string", "long"], [("1.1.1.1", 2), ("2.2.2.2", None)],
         "docs:join-leftouter (unmatched right columns are null; array_length(null) is null)", may_refuse=True),
    case("join_leftouter_on_same_name_seed004",
         "let L = datatable(RemoteIP:string, d:string)['1.1.1.1', 'x', '2.2.2.2', 'y'];\n"
         "let R = datatable(RemoteIP:string, dom:string)['1.1.1.1', 'a.com', '1.1.1.1', 'b.com'];\n"
         "L | join kind=leftouter (R | summarize Domains = make_set(dom) by RemoteIP) on RemoteIP\n"
         "| project RemoteIP, RemoteIP1, n = array_length(Domains)",
         ["RemoteIP", "RemoteIP1", "n"], ["string", "string", "long"],
         [("1.1.1.1", "1.1.1.1", 2), ("2.2.2.2", "", None)],
         "docs:join-leftouter; unmatched string key is '' (frozen:join-rightouter-00); seed 004's enrichment"),
]

MV = [
    case("mv_expand_array_docs",
         "datatable (a: int, b: dynamic)\n[\n    1, dynamic([10, 20]),\n    2, dynamic(['a', 'b'])\n]\n| mv-expand b",
         ["a", "b"], ["int", "dynamic"], [(1, 10), (1, 20), (2, "a"), (2, "b")], "docs:mv-expand-operator"),
    case("mv_expand_zip_frozen",
         "datatable (a: int, b: dynamic, c: dynamic)[\n    1, dynamic({\"prop1\": \"a\", \"prop2\": \"b\"}),"
         " dynamic([5, 4, 3])\n]\n| mv-expand b, c",
         ["a", "b", "c"], ["int", "dynamic", "dynamic"], [(1, {"prop1": "a"}, 5), (1, {"prop2": "b"}, 4), (1, None, 3)],
         "frozen:mv-expand-operator-03 (expanded in parallel, missing values are null)", may_refuse=True),
    case("mv_expand_two_arrays_typed_seed004",
         "datatable (k: string, TimeDeltaList: dynamic, outliers: dynamic)['x', dynamic([60, 61, 300]),"
         " dynamic([0.0, 0.1, 5.5])]\n| mv-expand TimeDeltaList, outliers to typeof(double)",
         ["k", "TimeDeltaList", "outliers"], ["string", "dynamic", "real"],
         [("x", 60, 0.0), ("x", 61, 0.1), ("x", 300, 5.5)],
         "docs:mv-expand-operator (in parallel; only the column with to typeof() changes type -- frozen "
         "mv-expand-operator-05 shows b stays dynamic); seed 004"),
    case("mv_expand_uneven_lengths",
         "datatable (a: dynamic, b: dynamic)[dynamic([1, 2, 3]), dynamic(['x'])]\n| mv-expand a, b",
         ["a", "b"], ["dynamic", "dynamic"], [(1, "x"), (2, None), (3, None)],
         "docs:mv-expand-operator ('All arrays ... are expanded in parallel so that missing values are "
         "replaced by null values')"),
    case("mv_expand_to_typeof_int",
         "datatable (a: string, b: dynamic, c: dynamic)[\n    \"Constant\", dynamic([1, 2, 3, 4]), dynamic([6, 7, 8, 9])\n]\n"
         "| mv-expand b, c to typeof(int)",
         ["a", "b", "c"], ["string", "dynamic", "int"],
         [("Constant", 1, 6), ("Constant", 2, 7), ("Constant", 3, 8), ("Constant", 4, 9)],
         "frozen:mv-expand-operator-05 (getschema: b dynamic, c int)"),
    case("mv_expand_empty_array_no_rows",
         "datatable (a: int, b: dynamic)[1, dynamic([]), 2, dynamic([7])]\n| mv-expand b",
         ["a", "b"], ["int", "dynamic"], [(2, 7)],
         "docs:mv-expand-operator ('If the dynamic value is an empty array ... no record is produced')"),
    case("mv_expand_null_one_row",
         "datatable (a: int, b: dynamic)[1, dynamic(null), 2, dynamic([7])]\n| mv-expand b",
         ["a", "b"], ["int", "dynamic"], [(1, None), (2, 7)],
         "docs:mv-expand-operator ('If the dynamic value is null, then a single record is produced')"),
    case("mv_expand_nonconforming_is_null",
         "datatable (b: dynamic)[dynamic(['x', 5])]\n| mv-expand b to typeof(long)",
         ["b"], ["long"], [(None,), (5,)],
         "docs:mv-expand-operator ('Array elements that don't conform with the declared type become null')"),
    case("mv_expand_with_itemindex",
         "range x from 1 to 4 step 1\n| summarize x = make_list(x)\n| mv-expand with_itemindex=Index x",
         ["x", "Index"], ["dynamic", "long"], [(1, 0), (2, 1), (3, 2), (4, 3)],
         "docs:mv-expand-operator (with_itemindex example)", may_refuse=True),
    case("mv_expand_datetimes",
         "datatable(id:long, ts:datetime)[1, datetime(2024-01-01), 1, datetime(2024-01-02 03:04:05)]\n"
         "| summarize l = make_list(ts) by id\n| mv-expand l to typeof(datetime)\n| project l",
         ["l"], ["datetime"], [("2024-01-01T00:00:00Z",), ("2024-01-02T03:04:05Z",)],
         "docs:mv-expand-operator (to typeof(datetime)); frozen:join-time-window-01 expands datetimes this way"),
    case("mv_apply_take_frozen",
         "let data = datatable (index: int, Arr: dynamic)\n[\n    0, dynamic([7]),\n    1, dynamic([6, 11, 7])\n];\n"
         "data\n| mv-apply Arr2=Arr to typeof(long) on \n    (\n       take 100\n    )",
         ["index", "Arr", "Arr2"], ["int", "dynamic", "long"],
         [(0, [7], 7), (1, [6, 11, 7], 6), (1, [6, 11, 7], 11), (1, [6, 11, 7], 7)], "frozen:mv-apply-operator-01"),
    case("mv_apply_top_frozen",
         "let data = datatable (index: int, Arr: dynamic)\n[\n    0, dynamic([1, 5, 3]),\n    1, dynamic([10, 2, 5, 7])\n];\n"
         "data\n| mv-apply topElem=Arr to typeof(long) on \n    (\n    top 1 by topElem\n    )",
         ["index", "Arr", "topElem"], ["int", "dynamic", "long"], [(0, [1, 5, 3], 5), (1, [10, 2, 5, 7], 10)],
         "frozen:mv-apply-operator-02"),
    case("mv_apply_next_stays_in_subtable",
         "datatable(k:string, a:dynamic)['x', dynamic([1, 5, 7]), 'y', dynamic([100, 200])]\n"
         "| mv-apply v = a to typeof(long) on (extend n = next(v))\n| project k, v, n",
         ["k", "v", "n"], ["string", "long", "long"],
         [("x", 1, 5), ("x", 5, 7), ("x", 7, None), ("y", 100, 200), ("y", 200, None)],
         "docs:mv-apply-operator (the subquery runs on each record's subtable, order preserved); "
         "docs:next-function (null when there is no next row) -- next() never reaches the next record's "
         "elements; seed 004's mv-apply ... next(Timestamp, 1)"),
    case("mv_apply_seed004_shape",
         "datatable(DeviceId:string, Timestamp:dynamic)['d1', dynamic(['2024-01-01T00:00:00Z', '2024-01-01T00:01:00Z',"
         " '2024-01-01T00:03:00Z']), 'd2', dynamic(['2024-01-01T00:00:00Z', '2024-01-01T00:00:30Z'])]\n"
         "| mv-apply Timestamp to typeof(datetime) on\n(\n"
         "extend nextTimestamp = next(Timestamp, 1), nextDeviceId = next(DeviceId, 1)\n"
         "| extend TimeDeltaInSeconds = datetime_diff('second', nextTimestamp, Timestamp)\n"
         "| where nextDeviceId == DeviceId\n"
         "| summarize TimeDeltaList = make_list(TimeDeltaInSeconds), count() by DeviceId\n)\n"
         "| project DeviceId, TimeDeltaList, count_",
         ["DeviceId", "TimeDeltaList", "count_"], ["string", "dynamic", "long"],
         [("d1", [60, 120], 2), ("d2", [30], 1)],
         "docs:mv-apply-operator, next-function (last element: next() is null -> nextDeviceId is '' for a "
         "string, the where drops it), datetime-diff-function; the shape of seed 004's BeaconCandidates"),
    case("mv_apply_summarize_frozen",
         "datatable (Val: int, Arr1: dynamic, Arr2: dynamic)\n[\n    1, dynamic(['A1', 'A2']), dynamic(['B1', 'B2', 'B3']), \n"
         "    5, dynamic(['C1', 'C2']), dynamic(['D1'])\n] \n"
         "| mv-apply T1=Arr1, T2=Arr2 on (\n    extend Out = strcat(T1, \"_\", T2)\n    | summarize Out= make_list(Out)\n  )",
         ["Val", "Arr1", "Arr2", "Out"], ["int", "dynamic", "dynamic", "dynamic"],
         [(1, ["A1", "A2"], ["B1", "B2", "B3"], ["A1_B1", "A2_B2", "_B3"]), (5, ["C1", "C2"], ["D1"], ["C1_D1", "C2_"])],
         "frozen:mv-apply-operator-06", may_refuse=True),
]

WINDOW = [
    case("next_after_range", "range x from 1 to 5 step 1\n| extend n = next(x)", ["x", "n"], ["long", "long"],
         [(1, 2), (2, 3), (3, 4), (4, 5), (5, None)],
         "docs:next-function (null default); docs:serialize-operator (range output is serialized)", ordered=True),
    case("prev_after_range", "range x from 1 to 5 step 1\n| extend p = prev(x)", ["x", "p"], ["long", "long"],
         [(1, None), (2, 1), (3, 2), (4, 3), (5, 4)], "docs:prev-function", ordered=True),
    case("next_offset_2", "range x from 1 to 5 step 1\n| extend n = next(x, 2)", ["x", "n"], ["long", "long"],
         [(1, 3), (2, 4), (3, 5), (4, None), (5, None)], "docs:next-function (offset)", ordered=True),
    case("next_default_value", "range x from 1 to 3 step 1\n| extend n = next(x, 1, -1)", ["x", "n"],
         ["long", "long"], [(1, 2), (2, 3), (3, -1)], "docs:next-function (default_value)", ordered=True),
    case("prev_default_value", "range x from 1 to 3 step 1\n| extend p = prev(x, 1, 0)", ["x", "p"],
         ["long", "long"], [(1, 0), (2, 1), (3, 2)], "docs:prev-function (default_value)", ordered=True),
    case("next_after_sort",
         "datatable(t:long, s:string)[3, 'c', 1, 'a', 2, 'b']\n| sort by t asc\n| extend n = next(s)",
         ["t", "s", "n"], ["long", "string", "string"], [(1, "a", "b"), (2, "b", "c"), (3, "c", "")],
         "docs:next-function / window-functions (sort emits a serialized row set); a string has no null, so "
         "the missing next value is '' (docs:prev-function: 'the column is empty in the first row')", ordered=True),
    case("prev_string_first_row_empty",
         "datatable(t:long, s:string)[2, 'b', 1, 'a']\n| sort by t asc\n| extend p = prev(s)",
         ["t", "s", "p"], ["long", "string", "string"], [(1, "a", ""), (2, "b", "a")],
         "docs:prev-function ('Since there was no session prior to the first session, the column is empty in "
         "the first row')", ordered=True),
    case("next_after_serialize",
         "range x from 1 to 3 step 1\n| serialize n = next(x)", ["x", "n"], ["long", "long"],
         [(1, 2), (2, 3), (3, None)], "docs:serialize-operator (serialize Name = Expr)", ordered=True),
    case("next_datetime_diff",
         "datatable(Timestamp:datetime)[datetime(2024-01-01 00:00:00), datetime(2024-01-01 00:01:00),"
         " datetime(2024-01-01 00:01:30)]\n| sort by Timestamp asc\n"
         "| extend d = datetime_diff('second', next(Timestamp, 1), Timestamp)",
         ["Timestamp", "d"], ["datetime", "long"],
         [("2024-01-01T00:00:00Z", 60), ("2024-01-01T00:01:00Z", 30), ("2024-01-01T00:01:30Z", None)],
         "docs:next-function (first example: datetime_diff('millisecond', next(Timestamp, 1), Timestamp))",
         ordered=True),
    case("next_after_summarize_rejected", "range x from 1 to 3 step 1\n| summarize by x\n| extend n = next(x)",
         None, None, KUSTO_ERROR,
         "docs:window-functions ('Window functions can only be used on serialized sets') and "
         "serialize-operator (summarize output is nonserialized): Kusto rejects the query"),
]

SORT_TAKE = [
    case("sort_default_desc", "datatable(x:long)[3, 1, 2]\n| sort by x", ["x"], ["long"], [(3,), (2,), (1,)],
         "docs:sort-operator ('Default is desc')", ordered=True),
    case("sort_asc_nulls_first", "datatable(x:long)[3, long(null), 1]\n| sort by x asc", ["x"], ["long"],
         [(None,), (1,), (3,)], "docs:sort-operator ('Default for asc is nulls first')", ordered=True),
    case("sort_desc_nulls_last", "datatable(x:long)[3, long(null), 1]\n| sort by x desc", ["x"], ["long"],
         [(3,), (1,), (None,)], "docs:sort-operator ('Default for desc is nulls last')", ordered=True),
    case("sort_default_nulls_last", "datatable(x:long)[long(null), 3, 1]\n| sort by x", ["x"], ["long"],
         [(3,), (1,), (None,)], "docs:sort-operator (default desc, so nulls last)", ordered=True),
    case("sort_explicit_nulls_last_asc", "datatable(x:long)[3, long(null), 1]\n| sort by x asc nulls last",
         ["x"], ["long"], [(1,), (3,), (None,)], "docs:sort-operator (nulls last)", ordered=True),
    case("sort_explicit_nulls_first_desc", "datatable(x:long)[3, long(null), 1]\n| order by x desc nulls first",
         ["x"], ["long"], [(None,), (3,), (1,)], "docs:sort-operator (order is an alias; nulls first)", ordered=True),
    case("sort_special_floats_asc",
         "datatable(x:real)[5.0, real(null), real(nan), real(-inf), 0.0, -5.0, real(+inf)]\n| sort by x asc",
         ["x"], ["real"], [(None,), (NAN,), (float("-inf"),), (-5.0,), (0.0,), (5.0,), (float("inf"),)],
         "docs:sort-operator (special floating-point values, 'Nulls first' ascending row)", ordered=True),
    case("sort_special_floats_desc",
         "datatable(x:real)[5.0, real(null), real(nan), real(-inf), 0.0, -5.0, real(+inf)]\n| sort by x desc",
         ["x"], ["real"], [(float("inf"),), (5.0,), (0.0,), (-5.0,), (float("-inf"),), (NAN,), (None,)],
         "docs:sort-operator (special floating-point values, 'Nulls last' descending row)", ordered=True),
    case("sort_two_keys",
         "datatable(a:string, b:long)['x', 1, 'y', 5, 'x', 3]\n| sort by a asc, b desc",
         ["a", "b"], ["string", "long"], [("x", 3), ("x", 1), ("y", 5)], "docs:sort-operator (several columns)",
         ordered=True),
    case("take_after_sort", "datatable(x:long)[3, 1, 2]\n| sort by x asc\n| take 2", ["x"], ["long"],
         [(1,), (2,)], "docs:take-operator ('If the data is sorted, then the top values will be returned')",
         ordered=True),
    case("take_count_only", "range x from 1 to 10 step 1\n| take 3\n| count", ["Count"], ["long"], [(3,)],
         "docs:take-operator (up to the number of rows)"),
    case("take_more_than_rows", "datatable(x:long)[1, 2]\n| take 5", ["x"], ["long"], [(1,), (2,)],
         "docs:take-operator ('Return up to the specified number of rows')"),
    case("take_zero", "datatable(x:long)[1, 2]\n| take 0", ["x"], ["long"], [], "docs:take-operator"),
    case("top_default_desc", "datatable(x:long)[3, 1, 2, 5]\n| top 2 by x", ["x"], ["long"], [(5,), (3,)],
         "docs:top-operator (default desc)", ordered=True),
    case("top_asc", "datatable(x:long)[3, 1, 2, 5]\n| top 2 by x asc", ["x"], ["long"], [(1,), (2,)],
         "docs:top-operator", ordered=True),
    case("top_desc_null_last", "datatable(x:long)[long(null), 1, 2]\n| top 1 by x", ["x"], ["long"], [(2,)],
         "docs:top-operator ('Default for desc is nulls last')", ordered=True),
    case("top_asc_null_first", "datatable(x:long)[2, long(null), 1]\n| top 1 by x asc", ["x"], ["long"],
         [(None,)], "docs:top-operator ('Default for asc is nulls first')", ordered=True),
]

MISC = [
    case("count_operator", "range x from 1 to 7 step 1\n| count", ["Count"], ["long"], [(7,)], "docs:count-operator"),
    case("count_operator_empty", "datatable(x:long)[]\n| count", ["Count"], ["long"], [(0,)],
         "docs:count-operator (a single record with the number of records)"),
    case("distinct_two_columns", "datatable(a:string, b:long)['x', 1, 'x', 1, 'x', 2, 'y', 1]\n| distinct a, b",
         ["a", "b"], ["string", "long"], [("x", 1), ("x", 2), ("y", 1)], "docs:distinct-operator"),
    case("distinct_star", "datatable(a:string, b:long)['x', 1, 'x', 1]\n| distinct *", ["a", "b"],
         ["string", "long"], [("x", 1)], "docs:distinct-operator (distinct *)"),
    case("distinct_keeps_empty_and_null", "datatable(s:string, n:long)['', long(null), '', long(null), 'a', 1]\n"
         "| distinct s, n",
         ["s", "n"], ["string", "long"], [("", None), ("a", 1)], "docs:distinct-operator (nulls form one value)"),
    case("union_frozen", "let Range1 = range Time from datetime(2024-01-01) to datetime(2024-01-05) step 1d;\n"
         "let Range2 = range Time from datetime(2024-01-06) to datetime(2024-01-10) step 1d;\n"
         "union Range1, Range2\n| order by Time asc",
         ["Time"], ["datetime"], [(f"2024-01-{d:02d}T00:00:00Z",) for d in range(1, 11)], "frozen:range-operator-01",
         ordered=True),
    case("union_different_columns",
         "union (datatable(a:long)[1]), (datatable(b:string)['x'])",
         ["a", "b"], ["long", "string"], [(1, ""), (None, "x")],
         "docs:union-operator (columns of all inputs; missing cells are null -- '' for a string, "
         "cf. frozen:join-rightouter-00)"),
    case("union_same_name_different_types", "let View_1 = view () { print x=1 };\n"
         "let View_2 = view () { print x=toint(2) };\nunion withsource=TableName View_1, View_2",
         ["TableName", "x_long", "x_int"], ["string", "long", "int"], [("View_2", None, 2), ("View_1", 1, None)],
         "frozen:union-operator-05", may_refuse=True),
    case("print_unnamed", "print 1, 'a'", ["print_0", "print_1"], ["long", "string"], [(1, "a")],
         "frozen:array-length-function-00 (print_0); the n-th unnamed print column is print_n"),
    case("print_named_and_types",
         "print a = 1, b = 2.5, c = 'x', d = true, e = datetime(2017-01-01), f = 1h, g = toint(3),"
         " h = dynamic([1]), i = guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
         ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
         ["long", "real", "string", "bool", "datetime", "timespan", "int", "dynamic", "guid"],
         [(1, 2.5, "x", True, "2017-01-01T00:00:00Z", "01:00:00", 3, [1], "74be27de-1e4e-49d9-b579-fe0b331d3642")],
         "docs:scalar-data-types (literal types); docs/CONVENTIONS.md (Arrow types)"),
    case("range_step_frozen", "range Steps from 1 to 8 step 3", ["Steps"], ["long"], [(1,), (4,), (7,)],
         "frozen:range-operator-03"),
    case("range_negative_step", "range x from 3 to 1 step -1", ["x"], ["long"], [(3,), (2,), (1,)],
         "docs:range-operator (step may be negative)", may_refuse=True),
    case("range_empty", "range x from 1 to 0 step 1", ["x"], ["long"], [],
         "docs:range-operator (no value between start and stop)"),
    case("range_datetime_step", "range t from datetime(2024-01-01) to datetime(2024-01-01 02:00) step 1h",
         ["t"], ["datetime"], [("2024-01-01T00:00:00Z",), ("2024-01-01T01:00:00Z",), ("2024-01-01T02:00:00Z",)],
         "frozen:range-operator-01 (datetime range with a timespan step)"),
    case("materialize_let", "let T = materialize(range x from 1 to 3 step 1);\nT | summarize s = sum(x)",
         ["s"], ["long"], [(6,)], "docs:materialize-function (a cached copy of the same rows); seeds 004"),
    case("project_away_plain", "datatable(a:long, b:long, c:long)[1, 2, 3]\n| project-away b",
         ["a", "c"], ["long", "long"], [(1, 3)], "docs:project-away-operator"),
    case("extend_replaces_in_place", "datatable(a:long, b:long, c:long)[1, 2, 3]\n| extend a = 99",
         ["a", "b", "c"], ["long", "long", "long"], [(99, 2, 3)],
         "measured:test_column_order_and_null_sort.py (extend keeps a replaced column's position); seed 000's "
         "extend InitiatingProcessFileName=tolower(...)"),
]

CASES = JOINS + MV + WINDOW + SORT_TAKE + MISC


@pytest.mark.parametrize("c", params(CASES))
def test_tabular_case(c):
    run_case(c)
