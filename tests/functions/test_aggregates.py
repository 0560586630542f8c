"""Aggregations the seed hunts use and the names summarize gives them: count, countif, count_distinct, dcount,
make_set, make_list, any, min, max, avg, sum, percentile / percentiles, series_stats (tuple and unnamed forms)
and series_outliers. Sources as in _harness.py."""

from __future__ import annotations

import pytest

from ._harness import NAN, case, params, run_case

SUMMARIZE = "docs:summarize-operator"
T3 = "datatable(k:string, x:long, r:real, s:string)['a', 1, 1.5, 'p', 'a', 2, real(null), '', 'b', long(null), 4.0, 'q']\n"
SHAPES = (
    "let shapes = datatable (name: string, sideCount: int)\n[\n"
    '    "triangle", 3,\n    "square", 4,\n    "rectangle", 4,\n    "pentagon", 5,\n    "hexagon", 6,\n'
    '    "heptagon", 7,\n    "octagon", 8,\n    "nonagon", 9,\n    "decagon", 10\n];\n'
)


def _set_check(expected: dict[str, set]):
    """make_set's order is undefined (docs:make-set-aggregation-function): compare as sets, and no duplicates."""
    def check(table, rows):
        got = {}
        for key, values in rows:
            assert isinstance(values, list), values
            assert len(values) == len({repr(v) for v in values}), f"duplicates in a set: {values}"
            got[key] = {v for v in values}
        assert got == expected, f"got {got}, expected {expected}"
    return check


COUNTS = [
    case("count_rows", T3 + "| summarize count()", ["count_"], ["long"], [(3,)],
         "docs:count-aggregation-function; summarize naming count_ (frozen:bin-auto-function-00)"),
    case("count_by", T3 + "| summarize count() by k", ["k", "count_"], ["string", "long"], [("a", 2), ("b", 1)],
         SUMMARIZE + " (group keys first)"),
    case("count_named", T3 + "| summarize ConnectionCount = count() by k", ["k", "ConnectionCount"], None,
         [("a", 2), ("b", 1)], SUMMARIZE + "; seed 003"),
    case("count_expr_counts_nulls",
         "range x from 1 to 2 step 1\n| extend y = iff(x == 1, real(null), real(5))\n| summarize count(y)",
         ["count_y"], ["long"], [(2,)], "frozen:summarize-operator-08 (count(y) counts the null row too)"),
    case("count_empty_no_groups", "datatable(x:long)[]\n| summarize count()", ["count_"], ["long"], [(0,)],
         SUMMARIZE + " (no group keys: one row of default values; count() default 0)"),
    case("count_empty_with_groups", "datatable(k:string, x:long)[]\n| summarize count() by k",
         ["k", "count_"], ["string", "long"], [], SUMMARIZE + " (group keys on empty input: no rows)"),
    case("empty_defaults_counts",
         "datatable(x:long)[]\n| summarize  count(x), countif(x > 0) , dcount(x), dcountif(x, x > 0)",
         ["count_x", "countif_", "dcount_x", "dcountif_x"], ["long"] * 4, [(0, 0, 0, 0)],
         "frozen:summarize-operator-05", may_refuse=True),
    case("countif_docs",
         'let T = datatable(name:string, day_of_birth:long)\n[\n   "John", 9,\n   "Paul", 18,\n'
         '   "George", 25,\n   "Ringo", 7\n];\nT\n| summarize countif(strlen(name) > 4)',
         ["countif_"], ["long"], [(2,)], "frozen:countif-aggregation-function-01"),
    case("countif_null_predicate", T3 + "| summarize countif(x > 1)", ["countif_"], ["long"], [(1,)],
         "docs:countif-aggregation-function (counts rows where the predicate is true; null is not true)"),
    case("count_distinct_strings_with_empty",
         "datatable(s:string)['a', 'b', 'a', '', '']\n| summarize n = count_distinct(s)", ["n"], ["long"], [(3,)],
         "docs:count-distinct-aggregation-function (unique values); reasoning: '' is a value, not null "
         "(docs:isnull-function)"),
    case("count_distinct_by", "datatable(k:string, d:string)['x', 'd1', 'x', 'd1', 'x', 'd2', 'y', 'd3']\n"
         "| summarize DeviceCount = count_distinct(d) by k",
         ["k", "DeviceCount"], ["string", "long"], [("x", 2), ("y", 1)],
         "docs:count-distinct-aggregation-function ('Long integer value'); seed 000's DeviceCount"),
    case("dcount_small_exact", "datatable(k:string, d:string)['x', 'd1', 'x', 'd1', 'x', 'd2', 'y', 'd3']\n"
         "| summarize dcount(d) by k",
         ["k", "dcount_d"], ["string", "long"], [("x", 2), ("y", 1)],
         "docs:dcount-aggregation-function (an estimate -- exact at this size, within the 5% the frozen "
         "comparisons allow); naming dcount_x as in seed 004's dcount_DeviceId", rel_tol=0.05),
    case("dcount_ignores_nulls", "datatable(x:long)[1, long(null), 3, 3]\n| summarize dcount(x)",
         ["dcount_x"], ["long"], [(2,)], "docs:dcount-aggregation-function ('Null values are ignored')"),
]

SETS_LISTS = [
    case("make_set_ignores_nulls",
         "range x from 1 to 2 step 1\n| extend y = iff(x == 1, real(null), real(5))\n| summarize make_set(y), make_set(y)",
         ["set_y", "set_y1"], ["dynamic", "dynamic"], [([5.0], [5.0])], "frozen:summarize-operator-09"),
    case("make_set_list_empty_input", "datatable(x:long)[]\n| summarize  make_set(x), make_list(x)",
         ["set_x", "list_x"], ["dynamic", "dynamic"], [([], [])], "frozen:summarize-operator-06"),
    case("make_set_distinct_by", "datatable(k:string, p:long)['a', 80, 'a', 80, 'a', 8080, 'b', 22]\n"
         "| summarize Ports = make_set(p) by k",
         ["k", "Ports"], ["string", "dynamic"], _set_check({"a": {80, 8080}, "b": {22}}),
         "docs:make-set-aggregation-function (distinct values; order undefined); seed 000's Ports"),
    case("make_set_keeps_empty_string", "datatable(k:string, s:string)['a', 'x', 'a', '', 'a', 'x']\n"
         "| summarize set_s = make_set(s) by k",
         ["k", "set_s"], ["string", "dynamic"], _set_check({"a": {"x", ""}}),
         "reasoning: make_set ignores nulls (docs:make-set-aggregation-function) and '' is not null "
         "(docs:isnull-function: isnull(\"\") is false), so '' is one of the distinct values"),
    case("make_set_default_name", "datatable(DeviceName:string)['h1', 'h2', 'h1']\n| summarize make_set(DeviceName)",
         ["set_DeviceName"], ["dynamic"], lambda t, rows: _same_set(rows, {"h1", "h2"}),
         "docs:summarize-operator (set_x naming, frozen:summarize-operator-06); seed 003's make_set(DeviceName)"),
    case("make_set_of_arrays_flattens",
         "datatable (Val: int, Arr1: dynamic)\n[\n    1, dynamic(['A1', 'A2', 'A3']), \n"
         "    5, dynamic(['A2', 'C1']),\n    7, dynamic(['C2', 'A3']),\n    5, dynamic(['C2', 'A1'])\n] \n"
         "| summarize Val_set=make_set(Val), Arr1_set=make_set(Arr1)",
         ["Val_set", "Arr1_set"], ["dynamic", "dynamic"],
         lambda t, rows: (_same_set([(rows[0][0],)], {1, 5, 7}),
                          _same_set([(rows[0][1],)], {"A1", "A2", "A3", "C1", "C2"})),
         "docs:make-set-aggregation-function (set from array column)", may_refuse=True),
    case("make_list_docs", SHAPES + "shapes\n| summarize mylist = make_list(name) by isEvenSideCount = sideCount % 2 == 0",
         ["isEvenSideCount", "mylist"], ["bool", "dynamic"],
         lambda t, rows: _same_multiset_lists(rows, {
             False: ["triangle", "pentagon", "heptagon", "nonagon"],
             True: ["square", "rectangle", "hexagon", "octagon", "decagon"]}),
         "frozen:make-list-aggregation-function-01 (element order is undefined without a sort, "
         "docs:make-list-aggregation-function, so compared as multisets)"),
    case("make_list_sorted_input_order",
         "datatable(t:long)[3, 1, 2]\n| sort by t asc\n| summarize l = make_list(t)",
         ["l"], ["dynamic"], [([1, 2, 3],)],
         "docs:make-list-aggregation-function ('If the input ... is sorted, the order of elements tracks "
         "that of the input')"),
    case("make_list_skips_nulls", "datatable(x:long)[1, long(null), 3]\n| summarize l = make_list(x)",
         ["l"], ["dynamic"], lambda t, rows: _same_multiset_lists([(None, rows[0][0])], {None: [1, 3]}),
         "docs:make-list-aggregation-function ('Null values are ignored')"),
    case("make_list_default_name", "datatable(x:long)[1]\n| summarize make_list(x)", ["list_x"], ["dynamic"],
         [([1],)], "frozen:stdev-aggregation-function-00 (list_x)"),
]


def _same_set(rows, expected):
    ((values,),) = rows
    assert isinstance(values, list) and len(values) == len(set(map(repr, values))), values
    assert set(values) == expected, values


def _same_multiset_lists(rows, expected):
    got = {key: sorted(values, key=repr) for key, values in rows}
    assert got == {k: sorted(v, key=repr) for k, v in expected.items()}, got


ANY_MIN_MAX = [
    case("any_default_name_prefers_non_empty",
         "datatable(k:string, s:string)['a', '', 'a', 'cmd.exe /c x', 'a', '']\n| summarize any(s) by k",
         ["k", "any_s"], ["string", "string"], [("a", "cmd.exe /c x")],
         "docs:take-any-aggregation-function ('The deprecated version adds any_ prefix'; with a single column "
         "reference it 'will attempt to return a non-null/non-empty value')"),
    case("any_prefers_non_null", "datatable(k:string, x:long)['a', long(null), 'a', 7]\n| summarize SampleX = any(x) by k",
         ["k", "SampleX"], ["string", "long"], [("a", 7)],
         "docs:take-any-aggregation-function (non-null value preferred); seed 000's SampleProcess"),
    case("any_single_value", "datatable(k:string, ip:string)['a', '1.2.3.4', 'a', '1.2.3.4']\n"
         "| summarize SampleRemoteIP = any(ip) by k",
         ["k", "SampleRemoteIP"], ["string", "string"], [("a", "1.2.3.4")], "docs:take-any-aggregation-function"),
    case("min_max_long", T3 + "| summarize min(x), max(x)", ["min_x", "max_x"], ["long", "long"], [(1, 2)],
         "docs:min-aggregation-function, max-aggregation-function (nulls ignored, cf. docs:summarize-operator)"),
    case("min_max_int_keeps_type", "datatable(i:int)[3, 1, 2]\n| summarize min(i), max(i)", ["min_i", "max_i"],
         ["int", "int"], [(1, 3)], "reasoning: min/max return a value of the input (docs: 'Returns the minimum value')"),
    case("min_max_datetime",
         "datatable(Timestamp:datetime)[datetime(2024-01-02), datetime(2024-01-01 10:00), datetime(null)]\n"
         "| summarize min(Timestamp), max(Timestamp)",
         ["min_Timestamp", "max_Timestamp"], ["datetime", "datetime"],
         [("2024-01-01T10:00:00Z", "2024-01-02T00:00:00Z")],
         "docs:min-aggregation-function (min(StartTime) example); seed 004's min_Timestamp"),
    case("min_empty_is_null", "datatable(x:long)[]\n| summarize min(x)", ["min_x"], ["long"], [(None,)],
         SUMMARIZE + " (Default values: 'All others | null')"),
]

NUMERIC = [
    case("sum_avg_ignore_nulls",
         "range x from 1 to 4 step 1\n| extend y = iff(x == 1, real(null), real(5))\n| summarize sum(y), avg(y)",
         ["sum_y", "avg_y"], ["real", "real"], [(15.0, 5.0)], "frozen:summarize-operator-07"),
    case("sum_int_is_long", "datatable(i:int)[2147483647, 1]\n| summarize sum(i)", ["sum_i"], ["long"],
         [(2147483648,)], "reasoning: Kusto widens int sums to long (no 32-bit overflow)"),
    case("sum_long", T3 + "| summarize sum(x)", ["sum_x"], ["long"], [(3,)], "docs:sum-aggregation-function"),
    case("avg_int_is_real", "datatable(i:int)[1, 2]\n| summarize avg(i)", ["avg_i"], ["real"], [(1.5,)],
         "docs:avg-aggregation-function (arithmetic mean; frozen:invoke-operator-00 avg of long is Double)"),
    case("avg_empty_is_nan", "datatable(x:long)[]\n| summarize avg(x)", ["avg_x"], ["real"], [(NAN,)],
         SUMMARIZE + " ('The result of avg_x(x) is NaN due to dividing by 0')"),
    case("sum_empty_is_zero", "datatable(x:long)[]\n| summarize sum(x)", ["sum_x"], ["long"], [(0,)],
         SUMMARIZE + " (Default values: sum() is 0)"),
    case("percentile_naming_docs_shape", "range x from 1 to 10 step 1\n| summarize percentile(x, 95)",
         ["percentile_x_95"], ["long"], [(10,)],
         "docs:percentiles-aggregation-function (percentile_DamageProperty_95 naming; nearest rank: the "
         "smallest value with 95% of the data <= it is the 10th of 10)"),
    case("percentiles_nearest_rank",
         "range x from 1 to 10 step 1\n| summarize percentiles(x, 5, 25, 50, 75, 95)",
         ["percentile_x_5", "percentile_x_25", "percentile_x_50", "percentile_x_75", "percentile_x_95"],
         ["long"] * 5, [(1, 3, 5, 8, 10)],
         "docs:percentiles-aggregation-function (Nearest-rank percentile: ceil(P/100 * 10)-th value; "
         "P=50 is not the interpolated median 5.5); seed 004's percentiles(TimeDeltaInSeconds, 5, 25, 50, 75, 95)"),
    case("percentile_0_and_100", "range x from 1 to 10 step 1\n| summarize percentiles(x, 0, 100)",
         ["percentile_x_0", "percentile_x_100"], ["long"] * 2, [(1, 10)],
         "docs:percentiles-aggregation-function ('Percentiles 0 and 100 are the exact minimum and maximum')"),
    case("percentiles_by_group_frozen_shape",
         "range x from 1 to 100 step 1\n| summarize percentiles(x, 5, 99)",
         ["percentile_x_5", "percentile_x_99"], ["long"] * 2, [(5, 99)],
         "frozen:invoke-operator-00 (the clipped average over 1..100 between percentiles 5 and 99 is 52.0, "
         "which needs exactly 5 and 99)"),
    case("percentile_decimal_name", "range x from 1 to 10 step 1\n| summarize percentiles(x, 99.9)",
         ["percentile_x_99_9"], ["long"], [(10,)],
         "docs:percentilesw-aggregation-function (percentile_LatencyBucket_99_9: the dot becomes '_')"),
    case("percentiles_real_input", "datatable(v:real)[10.0, 20.0, 30.0, 40.0]\n| summarize percentile(v, 50)",
         ["percentile_v_50"], ["real"], [(20.0,)], "docs:percentiles-aggregation-function (nearest rank: 2nd of 4)"),
]

SERIES_X = "dynamic([23, 46, 23, 87, 4, 8, 3, 75, 2, 56, 13, 75, 32, 16, 29])"
SERIES = [
    case("series_stats_unnamed_docs", f"print x={SERIES_X} \n| project series_stats(x)",
         ["series_stats_x_min", "series_stats_x_min_idx", "series_stats_x_max", "series_stats_x_max_idx",
          "series_stats_x_avg", "series_stats_x_stdev", "series_stats_x_variance"], None,
         [(2, 8, 87, 3, 32.8, 28.5036338535483, 812.457142857143)],
         "docs:series-stats-function (example output, printed to 15 significant digits)"),
    case("series_stats_tuple_seed004",
         f"print x={SERIES_X}\n"
         "| extend (TimeDeltaInSeconds_min,TimeDeltaInSeconds_min_index,TimeDeltaInSeconds_max,"
         "TimeDeltaInSeconds_max_index,TimeDeltaInSeconds_avg,TimeDeltaInSeconds_stdev,"
         "TimeDeltaInSeconds_variance)=series_stats(x)\n| project-away x",
         ["TimeDeltaInSeconds_min", "TimeDeltaInSeconds_min_index", "TimeDeltaInSeconds_max",
          "TimeDeltaInSeconds_max_index", "TimeDeltaInSeconds_avg", "TimeDeltaInSeconds_stdev",
          "TimeDeltaInSeconds_variance"], None,
         [(2, 8, 87, 3, 32.8, 28.5036338535483, 812.457142857143)],
         "docs:series-stats-function (names in the docs' statistic order min, min_idx, max, max_idx, avg, "
         "variance/stdev as in the example header); seed 004's tuple"),
    case("series_stats_sample_stdev", "print x=dynamic([1, 2, 3, 4])\n| extend (mn, mni, mx, mxi, a, sd, v) = series_stats(x)"
         "\n| project a, sd, v",
         ["a", "sd", "v"], ["real", "real", "real"], [(2.5, 1.2909944487358056, 1.6666666666666667)],
         "docs:series-stats-function ('The sample standard deviation' / 'sample variance': divide by n-1)"),
    case("series_stats_first_min_idx", "print x=dynamic([5, 1, 9, 1, 9])\n"
         "| extend (mn, mni, mx, mxi) = series_stats(x)\n| project mn, mni, mx, mxi",
         ["mn", "mni", "mx", "mxi"], None, [(1, 1, 9, 2)],
         "docs:series-stats-function ('The first position of the minimum value'; 0-based as in the example)"),
    case("series_stats_fewer_names", "print x=dynamic([5, 1, 9])\n| extend (a, b) = series_stats(x)",
         ["x", "a", "b"], ["dynamic", None, None], [([5, 1, 9], 1, 1)],
         "docs:series-stats-function ('If you provide a limited number of names, the table will show only "
         "those columns')", may_refuse=True),
    case("series_stats_null_element", "print x=dynamic([1, null, 3])\n| extend (mn, mni, mx, mxi, a) = series_stats(x)"
         "\n| project a",
         ["a"], ["real"], [(None,)],
         "docs:series-stats-function (ignore_nonfinite defaults to false, 'which will result in null if "
         "non-finite values are present')", may_refuse=True),
    case("series_outliers_docs_shape",
         "range x from 0 to 364 step 1\n"
         "| extend t = datetime(2023-01-01) + 1d*x\n"
         "| extend y = toreal((x * 37) % 10)\n"
         "| extend y = iff(x in (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334), y + 40, y)\n"
         "| order by x asc\n"
         "| summarize t = make_list(t), series = make_list(y)\n"
         "| extend outliers = series_outliers(series)\n"
         "| mv-expand t to typeof(datetime), outliers to typeof(double)\n"
         "| where outliers > 1.5\n| project t",
         ["t"], ["datetime"],
         [(f"2023-{m:02d}-01T00:00:00Z",) for m in range(1, 13)],
         "docs:series-outliers-function (the docs' example with rand() replaced by a fixed 0..9 pattern and "
         "the first of each month raised by 40: ctukey uses the 10th/90th percentiles, so a normal point's score "
         "stays below 1.5 and every raised point is far above it whatever the percentile interpolation)"),
    case("series_outliers_same_length",
         "print s = dynamic([1, 2, 3, 2, 1, 2, 3, 2, 1, 100])\n| extend o = series_outliers(s)\n"
         "| project n = array_length(o), last_is_rise = todouble(o[9]) > 1.5, first_small = abs(todouble(o[0])) < 1.5",
         ["n", "last_is_rise", "first_small"], ["long", "bool", "bool"], [(10, True, True)],
         "docs:series-outliers-function ('a dynamic numeric array of the same length'; > 1.5 is a rise anomaly)"),
]

NAMING = [
    case("naming_seed004_candidates",
         "datatable(DeviceId:string, Timestamp:datetime)['d1', datetime(2024-01-01), 'd1', datetime(2024-01-02)]\n"
         "| summarize hint.strategy=shuffle make_set(Timestamp) by DeviceId\n"
         "| project DeviceId, n = array_length(set_Timestamp)",
         ["DeviceId", "n"], ["string", "long"], [("d1", 2)],
         "docs:summarize-operator (hint.strategy=shuffle changes nothing semantically; set_x naming)"),
    case("naming_count_min_max",
         "datatable(k:string, Timestamp:datetime)['a', datetime(2024-01-01), 'a', datetime(2024-01-03)]\n"
         "| summarize count(), min(Timestamp), max(Timestamp) by k",
         ["k", "count_", "min_Timestamp", "max_Timestamp"], ["string", "long", "datetime", "datetime"],
         [("a", 2, "2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z")],
         SUMMARIZE + " (default names); seed 004 reads count_ and min_Timestamp"),
    case("naming_dcount_then_filter",
         "datatable(f:string, DeviceId:string)['x', 'd1', 'x', 'd2', 'y', 'd1']\n"
         "| summarize dcount(DeviceId) by f\n| where dcount_DeviceId <= 1",
         ["f", "dcount_DeviceId"], ["string", "long"], [("y", 1)], SUMMARIZE + "; seed 004's dcount_DeviceId"),
    case("naming_make_list_named", "datatable(k:string, v:long)['a', 1, 'a', 2]\n"
         "| summarize TimeDeltaList = make_list(v) by k\n| project k, n = array_length(TimeDeltaList)",
         ["k", "n"], ["string", "long"], [("a", 2)], SUMMARIZE),
    case("naming_duplicate_default", "datatable(x:long)[1]\n| summarize count(), count()", ["count_", "count_1"],
         ["long", "long"], [(1, 1)],
         "frozen:summarize-operator-09 (a repeated default name gets the suffix 1: set_y, set_y1)"),
    case("summarize_by_only", "datatable(k:string, x:long)['a', 1, 'a', 2, 'b', 3]\n| summarize by k",
         ["k"], ["string"], [("a",), ("b",)], SUMMARIZE + " (no aggregation: distinct group keys)"),
]

CASES = COUNTS + SETS_LISTS + ANY_MIN_MAX + NUMERIC + SERIES + NAMING


@pytest.mark.parametrize("c", params(CASES))
def test_aggregate_case(c):
    run_case(c)
