"""Time functions and operators the seed hunts use: now(), ago(), between / !between (datetime bounds and the
datetime .. timespan form), datetime_diff (every period, boundary crossing, negative results).

Every query runs with now pinned to 2024-05-01T12:00:00Z (PINNED_NOW). Sources as in _harness.py."""

from __future__ import annotations

import pytest

from ._harness import case, params, run_case

DIFF_DOC = "docs:datetime-diff-function (example: year 17, quarter 2, month 13, week 5, day 29, hour 2, ...)"


def p(id: str, expr: str, type_: str, value, source: str, **kw):
    return case(id, f"print r = {expr}", ["r"], [type_], [(value,)], source, **kw)


def diff(id: str, period: str, d1: str, d2: str, value: int, source: str = DIFF_DOC, **kw):
    return p(id, f"datetime_diff('{period}', datetime({d1}), datetime({d2}))", "long", value, source, **kw)


NOW = [
    p("now_pinned", "now()", "datetime", "2024-05-01T12:00:00Z", "docs:now-function (current UTC time)"),
    p("now_offset", "now(-2d)", "datetime", "2024-04-29T12:00:00Z", "docs:now-function (now(-2d) example)"),
    p("ago_1d", "ago(1d)", "datetime", "2024-04-30T12:00:00Z", "docs:ago-function (now() minus the timespan)"),
    p("ago_30d", "ago(30d)", "datetime", "2024-04-01T12:00:00Z", "docs:ago-function; seed 000/003's ago(30d)"),
    p("ago_fraction", "ago(1.5h)", "datetime", "2024-05-01T10:30:00Z", "docs:scalar-data-types/timespan (1.5h)"),
    p("ago_negative_is_future", "ago(-1h)", "datetime", "2024-05-01T13:00:00Z", "docs:ago-function (subtracts)"),
    p("ago_sum_of_lets", "ago(1d + 1d)", "datetime", "2024-04-29T12:00:00Z", "docs:ago-function; seed 004 ago(starttime+1d)"),
    p("ago_same_instant_as_now", "ago(0s) == now()", "bool", True,
      "docs:ago-function ('the current UTC time being referenced is the same across all uses')"),
    case("ago_let_timespans_seed004",
         "let starttime = 1d;\nlet endtime = 1s;\nprint a = ago(starttime), b = ago(endtime)",
         ["a", "b"], ["datetime", "datetime"], [("2024-04-30T12:00:00Z", "2024-05-01T11:59:59Z")],
         "docs:ago-function; seed 004's let-bound timespans"),
    case("ago_filter",
         "datatable(t:datetime)[datetime(2024-05-01 11:00), datetime(2024-04-30 12:00), datetime(2024-04-30 11:59)]\n"
         "| where t > ago(1d)",
         ["t"], ["datetime"], [("2024-05-01T11:00:00Z",)], "docs:ago-function ('T | where Timestamp > ago(1h)')"),
]

BETWEEN = [
    case("between_docs", "range x from 1 to 100 step 1\n| where x between (50 .. 55)", ["x"], ["long"],
         [(i,) for i in range(50, 56)], "frozen:between-operator-00"),
    case("not_between_docs", "range x from 1 to 10 step 1\n| where x !between (5 .. 9)", ["x"], ["long"],
         [(1,), (2,), (3,), (4,), (10,)], "docs:not-between-operator"),
    p("between_reversed_range", "5 between (10 .. 1)", "bool", False,
      "docs:between-operator (expr >= left and expr <= right)"),
    p("between_real", "2.5 between (2.0 .. 3.0)", "bool", True, "docs:between-operator (real)"),
    case("between_datetimes_inclusive",
         "datatable(t:datetime)[datetime(2007-07-26 23:59:59), datetime(2007-07-27), datetime(2007-07-30),"
         " datetime(2007-07-30 00:00:01)]\n"
         "| where t between (datetime(2007-07-27) .. datetime(2007-07-30))",
         ["t"], ["datetime"], [("2007-07-27T00:00:00Z",), ("2007-07-30T00:00:00Z",)],
         "docs:between-operator (inclusive on both ends)"),
    case("between_datetime_timespan_upper",
         "datatable(t:datetime)[datetime(2007-07-26 23:59:59), datetime(2007-07-27), datetime(2007-07-29 23:59),"
         " datetime(2007-07-30), datetime(2007-07-30 00:00:01)]\n"
         "| where t between (datetime(2007-07-27) .. 3d)",
         ["t"], ["datetime"],
         [("2007-07-27T00:00:00Z",), ("2007-07-29T23:59:00Z",), ("2007-07-30T00:00:00Z",)],
         "docs:between-operator: `between (datetime(2007-07-27) .. 3d)` counts the same 476 rows as "
         "`.. datetime(2007-07-30)`, so the timespan is added to the left bound and the end is inclusive"),
    case("not_between_datetime_timespan_upper",
         "datatable(t:datetime)[datetime(2007-07-26 23:59:59), datetime(2007-07-27), datetime(2007-07-30),"
         " datetime(2007-07-30 00:00:01)]\n"
         "| where t !between (datetime(2007-07-27) .. 3d)",
         ["t"], ["datetime"], [("2007-07-26T23:59:59Z",), ("2007-07-30T00:00:01Z",)],
         "docs:not-between-operator (filter datetime using a timespan range, same 58590 as the datetime form)"),
    case("between_ago_ago_seed004",
         "datatable(t:datetime)[datetime(2024-04-30 11:59:59), datetime(2024-04-30 12:00), datetime(2024-05-01 00:00),"
         " datetime(2024-05-01 11:59:59), datetime(2024-05-01 11:59:59.5), datetime(2024-05-01 12:00)]\n"
         "| where t between (ago(1d) .. ago(1s))",
         ["t"], ["datetime"],
         [("2024-04-30T12:00:00Z",), ("2024-05-01T00:00:00Z",), ("2024-05-01T11:59:59Z",)],
         "docs:between-operator (inclusive), ago-function; seed 004's between (ago(starttime)..ago(endtime))"),
    case("between_ago_timespan_upper",
         "datatable(t:datetime)[datetime(2024-04-30 11:59), datetime(2024-04-30 12:00), datetime(2024-04-30 13:00),"
         " datetime(2024-04-30 13:00:01)]\n"
         "| where t between (ago(1d) .. 1h)",
         ["t"], ["datetime"], [("2024-04-30T12:00:00Z",), ("2024-04-30T13:00:00Z",)],
         "docs:between-operator: the right bound may be a timespan when expr and left are datetimes -> "
         "[ago(1d), ago(1d) + 1h]"),
    case("between_timespans_plain",
         "datatable(d:timespan)[7h, 3h]\n| where d between (2h .. 6h)",
         ["d"], ["timespan"], [("03:00:00",)],
         "docs:between-operator: the timespan-length form applies only to datetime expr/left; "
         "measured:test_between.py (7h between (2h .. 6h) is false)"),
    case("between_timespan_difference",
         "datatable(s:datetime, e:datetime)[datetime(2017-10-01 00:00), datetime(2017-10-01 00:01),"
         " datetime(2017-10-01 00:03), datetime(2017-10-01 00:02)]\n"
         "| where (e - s) between (0min .. 1min)",
         ["s", "e"], ["datetime", "datetime"], [("2017-10-01T00:00:00Z", "2017-10-01T00:01:00Z")],
         "frozen:join-time-window-00 (End - Start between (0min .. 1min))"),
    case("between_null_is_not_kept",
         "datatable(x:long)[1, 5, long(null)]\n| where x between (2 .. 10)",
         ["x"], ["long"], [(5,)], "docs:null-values (null in a binary operator is null; where drops it)"),
    case("not_between_null_not_kept",
         "datatable(x:long)[1, 5, long(null)]\n| where x !between (2 .. 10)",
         ["x"], ["long"], [(1,)],
         "docs:not-between-operator (expr < left or expr > right: null for a null expr); "
         "measured:test_between.py (x !between for a null x is null)"),
]

DATETIME_DIFF = [
    case("datetime_diff_docs",
         "print\n"
         "year = datetime_diff('year',datetime(2017-01-01),datetime(2000-12-31)),\n"
         "quarter = datetime_diff('quarter',datetime(2017-07-01),datetime(2017-03-30)),\n"
         "month = datetime_diff('month',datetime(2017-01-01),datetime(2015-12-30)),\n"
         "week = datetime_diff('week',datetime(2017-10-29 00:00),datetime(2017-09-30 23:59)),\n"
         "day = datetime_diff('day',datetime(2017-10-29 00:00),datetime(2017-09-30 23:59)),\n"
         "hour = datetime_diff('hour',datetime(2017-10-31 01:00),datetime(2017-10-30 23:59)),\n"
         "minute = datetime_diff('minute',datetime(2017-10-30 23:05:01),datetime(2017-10-30 23:00:59)),\n"
         "second = datetime_diff('second',datetime(2017-10-30 23:00:10.100),datetime(2017-10-30 23:00:00.900)),\n"
         "millisecond = datetime_diff('millisecond',datetime(2017-10-30 23:00:00.200100),"
         "datetime(2017-10-30 23:00:00.100900)),\n"
         "microsecond = datetime_diff('microsecond',datetime(2017-10-30 23:00:00.1009001),"
         "datetime(2017-10-30 23:00:00.1008009)),\n"
         "nanosecond = datetime_diff('nanosecond',datetime(2017-10-30 23:00:00.0000000),"
         "datetime(2017-10-30 23:00:00.0000007))",
         ["year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond",
          "nanosecond"], ["long"] * 11,
         [(17, 2, 13, 5, 29, 2, 5, 10, 100, 100, -700)], DIFF_DOC, may_refuse=True),
    diff("diff_year", "year", "2017-01-01", "2000-12-31", 17),
    diff("diff_quarter", "quarter", "2017-07-01", "2017-03-30", 2),
    diff("diff_month", "month", "2017-01-01", "2015-12-30", 13),
    diff("diff_week", "week", "2017-10-29 00:00", "2017-09-30 23:59", 5, may_refuse=True),
    diff("diff_day", "day", "2017-10-29 00:00", "2017-09-30 23:59", 29),
    diff("diff_hour", "hour", "2017-10-31 01:00", "2017-10-30 23:59", 2),
    diff("diff_minute", "minute", "2017-10-30 23:05:01", "2017-10-30 23:00:59", 5),
    diff("diff_second", "second", "2017-10-30 23:00:10.100", "2017-10-30 23:00:00.900", 10),
    diff("diff_millisecond", "millisecond", "2017-10-30 23:00:00.200100", "2017-10-30 23:00:00.100900", 100),
    diff("diff_microsecond", "microsecond", "2017-10-30 23:00:00.1009001", "2017-10-30 23:00:00.1008009", 100,
         may_refuse=True),
    diff("diff_nanosecond", "nanosecond", "2017-10-30 23:00:00.0000000", "2017-10-30 23:00:00.0000007", -700,
         may_refuse=True),
    # boundary crossing: a period counts when its boundary lies between the two instants
    diff("diff_year_same_year", "year", "2017-12-31", "2017-01-01", 0,
         "reasoning from the docs' year example (2017-01-01 vs 2000-12-31 is 17: calendar years crossed)"),
    diff("diff_year_one_day_apart", "year", "2018-01-01", "2017-12-31 23:59:59", 1,
         "reasoning from the docs' year example (boundary crossing)"),
    diff("diff_day_one_minute_apart", "day", "2017-01-02 00:00", "2017-01-01 23:59", 1,
         "reasoning from the docs' day example (10-29 00:00 vs 09-30 23:59 is 29, not 28)"),
    diff("diff_day_same_day", "day", "2017-01-01 23:59", "2017-01-01 00:00", 0, "reasoning (no midnight crossed)"),
    diff("diff_week_sunday_boundary", "week", "2017-10-29", "2017-10-28", 1,
         "reasoning from the docs' week example: 2017-10-29 is a Sunday and the docs count 5 weeks back to "
         "Saturday 2017-09-30 -- only true when weeks start on Sunday, so Sat -> Sun crosses one", may_refuse=True),
    diff("diff_week_within_week", "week", "2017-10-28", "2017-10-22", 0,
         "reasoning: Sunday 2017-10-22 .. Saturday 2017-10-28 is one Sunday-based week", may_refuse=True),
    diff("diff_second_fraction", "second", "2017-01-01 00:00:01.000", "2017-01-01 00:00:00.999", 1,
         "reasoning from the docs' second example (10.1 vs 0.9 is 10): whole seconds crossed"),
    diff("diff_second_same_second", "second", "2017-01-01 00:00:00.999", "2017-01-01 00:00:00.001", 0,
         "reasoning: no second boundary crossed"),
    diff("diff_negative_second_fraction", "second", "2017-01-01 00:00:00.500", "2017-01-01 00:00:01.200", -1,
         "reasoning from the docs' second example: one second boundary (00:00:01) lies between the two"),
    diff("diff_negative_day", "day", "2017-01-01", "2017-01-03", -2,
         "docs:datetime-diff-function (datetime1 - datetime2; the nanosecond example is negative)"),
    diff("diff_negative_second", "second", "2017-01-01 00:00:00", "2017-01-01 00:01:00", -60,
         "docs:datetime-diff-function (datetime1 - datetime2)"),
    diff("diff_negative_month", "month", "2015-12-30", "2017-01-01", -13, "docs:datetime-diff-function (swap)"),
    p("diff_period_case_insensitive", "datetime_diff('SECOND', datetime(2017-01-01 00:01), datetime(2017-01-01))",
      "long", 60, "docs:datetime-diff-function ('These values are case insensitive')"),
    p("diff_null_operand", "datetime_diff('second', datetime(null), datetime(2017-01-01))", "long", None,
      "docs:null-values (null is sticky); seed 004's last row, where next(Timestamp) is null"),
    case("diff_in_summarize_seed004",
         "datatable(t:datetime)[datetime(2024-01-01 00:00:00), datetime(2024-01-01 00:10:30)]\n"
         "| summarize mn = min(t), mx = max(t)\n"
         "| extend Duration = datetime_diff('second', mx, mn)",
         ["mn", "mx", "Duration"], ["datetime", "datetime", "long"],
         [("2024-01-01T00:00:00Z", "2024-01-01T00:10:30Z", 630)],
         "docs:datetime-diff-function; seed 004's Duration"),
]

CASES = NOW + BETWEEN + DATETIME_DIFF


@pytest.mark.parametrize("c", params(CASES))
def test_datetime_case(c):
    run_case(c)
