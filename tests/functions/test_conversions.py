"""Conversions and scalar helpers the seed hunts use: toint, tolong, tostring (of every type), totimespan,
make_timespan, iif / iff, isempty / isnotempty / isnull / isnotnull, parse_json, parse_url, array_length,
array_sort_asc / array_sort_desc. Sources as in _harness.py."""

from __future__ import annotations

import pytest

from ._harness import case, params, run_case


def p(id: str, expr: str, type_: str, value, source: str, **kw):
    """`print r = <expr>` gives one value of one type."""
    return case(id, f"print r = {expr}", ["r"], [type_], [(value,)], source, **kw)


NULLS = [
    # --- the docs' tables ---------------------------------------------------------------------------------
    p("isempty_empty_string", 'isempty("")', "bool", True, "docs:isempty-function (table)"),
    p("isempty_x", 'isempty("x")', "bool", False, "docs:isempty-function (table)"),
    p("isempty_parse_json_empty", 'isempty(parse_json(""))', "bool", True, "docs:isempty-function (table)"),
    p("isempty_empty_array", 'isempty(parse_json("[]"))', "bool", False, "docs:isempty-function (table)"),
    p("isempty_empty_bag", 'isempty(parse_json("{}"))', "bool", False, "docs:isempty-function (table)"),
    p("isnull_empty_string", 'isnull("")', "bool", False, "docs:isnull-function (table)"),
    p("isnull_x", 'isnull("x")', "bool", False, "docs:isnull-function (table)"),
    p("isnull_parse_json_empty", 'isnull(parse_json(""))', "bool", True, "docs:isnull-function (table)"),
    p("isnull_empty_array", 'isnull(parse_json("[]"))', "bool", False, "docs:isnull-function (table)"),
    p("isnull_empty_bag", 'isnull(parse_json("{}"))', "bool", False, "docs:isnull-function (table)"),
    # --- per type -------------------------------------------------------------------------------------------
    p("isnull_int_null", "isnull(int(null))", "bool", True, "docs:isnull-function"),
    p("isnull_zero", "isnull(0)", "bool", False, "docs:isnull-function"),
    p("isnull_datetime_null", "isnull(datetime(null))", "bool", True, "docs:isnull-function"),
    p("isnull_timespan_null", "isnull(timespan(null))", "bool", True, "docs:isnull-function"),
    p("isnull_real_null", "isnull(real(null))", "bool", True, "docs:isnull-function"),
    p("isnull_bool_null", "isnull(bool(null))", "bool", True, "docs:isnull-function"),
    p("isnull_guid_null", "isnull(guid(null))", "bool", True, "docs:isnull-function"),
    p("isnotnull_long", "isnotnull(5)", "bool", True, "docs:isnotnull-function"),
    p("isnotnull_null", "isnotnull(long(null))", "bool", False, "docs:isnotnull-function"),
    p("isnotnull_empty_string", 'isnotnull("")', "bool", True,
      "docs:isnull-function (empty strings are never null) -> isnotnull is true"),
    p("isempty_int_null", "isempty(int(null))", "bool", True,
      "docs:isempty-function ('true if the argument is an empty string or is null')"),
    p("isempty_zero", "isempty(0)", "bool", False, "docs:isempty-function"),
    p("isnotempty_x", 'isnotempty("x")', "bool", True, "docs:isnotempty-function"),
    p("isnotempty_empty", 'isnotempty("")', "bool", False, "docs:isnotempty-function"),
    p("isnotempty_int_null", "isnotempty(int(null))", "bool", False, "docs:isnotempty-function"),
    p("isnull_tostring_null", "isnull(tostring(long(null)))", "bool", False,
      "docs:tostring-function (null -> empty string, and strings are never null)"),
    case("isempty_filter_seed000",
         'datatable(RemoteUrl:string, RemoteIP:string)["", "1.2.3.4", "bing.com", "5.6.7.8"]\n'
         "| where isempty(RemoteUrl)",
         ["RemoteUrl", "RemoteIP"], ["string", "string"], [("", "1.2.3.4")],
         "docs:isempty-function; seed 000's where isempty(RemoteUrl)"),
    case("isnotempty_filter_seed004",
         'datatable(RemoteIP:string)["", "1.2.3.4", "0.0.0.0"]\n'
         '| where isnotempty(RemoteIP) and RemoteIP !in ("0.0.0.0")',
         ["RemoteIP"], ["string"], [("1.2.3.4",)], "docs:isnotempty-function; seed 004"),
]

IFF = [
    p("iff_true", "iff(true, 1, 2)", "long", 1, "docs:iff-function"),
    p("iff_false", "iff(false, 1, 2)", "long", 2, "docs:iff-function"),
    p("iff_null_condition", "iff(bool(null), 1, 2)", "long", 2,
      "docs:iff-function: the then-value only when the condition evaluates to true, otherwise the else-value"),
    p("iif_alias", 'iif(1 > 2, "a", "b")', "string", "b", "docs:iff-function ('iff() and iif() are equivalent')"),
    p("iif_null_condition_strings", 'iif(long(null) > 2, "a", "b")', "string", "b",
      "docs:iff-function; null-values (long(null) > 2 is null)"),
    case("iif_seed004_url",
         'datatable(RemoteUrl:string)["login.live.com", "https://bing.com/x", "HTTP://A.B", ""]\n'
         "| extend u = iif(RemoteUrl !startswith \"http\", strcat(@'http://', RemoteUrl), RemoteUrl)",
         ["RemoteUrl", "u"], ["string", "string"],
         [("login.live.com", "http://login.live.com"), ("https://bing.com/x", "https://bing.com/x"),
          ("HTTP://A.B", "HTTP://A.B"), ("", "http://")],
         "docs:iff-function, not-startswith-operator (case-insensitive), strcat-function; seed 004"),
]

TOINT = [
    p("toint_docs_string", 'toint("123") == 123', "bool", True, "frozen:toint-function-00"),
    p("toint_docs_truncate", "toint(2.3)", "int", 2, "docs:toint-function ('truncate to only the integer portion')"),
    p("toint_truncate_not_round", "toint(2.9)", "int", 2, "docs:toint-function (truncation, not rounding)"),
    p("toint_truncate_negative", "toint(-2.9)", "int", -2,
      "docs:toint-function: the integer portion of -2.9 is -2 (towards zero); measured:test_type_conversions.py"),
    p("toint_string", 'toint("42")', "int", 42, "docs:toint-function"),
    p("toint_bad_string", 'toint("abc")', "int", None, "docs:toint-function ('Otherwise, the result is null')"),
    p("toint_empty_string", 'toint("")', "int", None, "docs:toint-function"),
    p("toint_decimal_string", 'toint("5.7")', "int", None,
      "measured:test_type_conversions.py (a string converts only in integer syntax)"),
    p("toint_string_out_of_range", 'toint("9999999999")', "int", None,
      "measured:test_type_conversions.py (a string that overflows int is null)"),
    p("toint_long_wraps", "toint(9999999999)", "int", 1410065407,
      "measured:test_type_conversions.py (a long is wrapped to 32 bits)"),
    case("toint_real_column_saturates", "datatable(r:real)[1e10, -1e10]\n| project i = toint(r)",
         ["i"], ["int"], [(2147483647,), (-2147483648,)],
         "measured:test_type_conversions.py (over rows a real saturates)", may_refuse=True),
    p("toint_type", "toint(7)", "int", 7, "docs:toint-function (signed 32-bit)"),
    p("toint_seed004_threshold", "toint(((totimespan(1d) - totimespan(1s))/make_timespan(0,0,0.001)))", "int",
      86399000,
      "docs:scalar-data-types/timespan (timespan / timespan is a real), make-timespan-function; "
      "86399 s / 1 ms = 86399000 -- seed 004's TotalEventsThresholdMax"),
    p("tolong_docs", 'tolong("123") == 123', "bool", True, "docs:tolong-function"),
    p("tolong_string", 'tolong("9999999999")', "long", 9999999999, "docs:tolong-function (64-bit)"),
    p("tolong_real_truncates", "tolong(5.7)", "long", 5, "measured:test_type_conversions.py"),
    p("tolong_negative_real_truncates", "tolong(-5.7)", "long", -5, "measured:test_type_conversions.py"),
    p("tolong_decimal_string", 'tolong("5.7")', "long", None, "measured:test_type_conversions.py"),
    p("tolong_bad_string", 'tolong("x1")', "long", None, "docs:tolong-function ('isn't successful ... null')"),
    p("tolong_timespan_ticks", "tolong(1d)", "long", 864000000000,
      "measured:test_type_conversions.py (a timespan converts to its 100 ns ticks)", may_refuse=True),
]

TOSTRING = [
    p("tostring_long", "tostring(123)", "string", "123", "docs:tostring-function"),
    p("tostring_negative_long", "tostring(-5)", "string", "-5", "docs:tostring-function"),
    p("tostring_int", "tostring(toint(7))", "string", "7", "docs:tostring-function"),
    p("tostring_real", "tostring(123.45)", "string", "123.45", "frozen:reverse-function-01 (reverse(123.45))"),
    p("tostring_real_whole", "tostring(2.0)", "string", "2",
      "reasoning: Kusto prints reals with .NET's shortest round-trip form (frozen: 123.45 -> '123.45'), "
      "which writes 2.0 as '2'"),
    p("tostring_real_small", "tostring(0.5)", "string", "0.5", "reasoning: shortest round-trip form"),
    p("tostring_bool_true", "tostring(true)", "string", "True",
      "measured:test_tostring.py (a bool is .NET-capitalised True/False)"),
    p("tostring_bool_false", "tostring(1 > 2)", "string", "False", "measured:test_tostring.py"),
    p("tostring_datetime", "tostring(datetime(2017-10-15 12:00))", "string", "2017-10-15T12:00:00.0000000Z",
      "frozen:reverse-function-01 (reverse of this datetime is Z0000000.00:00:21T51-01-7102)"),
    p("tostring_datetime_fraction", "tostring(datetime(2020-01-02 03:04:05.6))", "string",
      "2020-01-02T03:04:05.6000000Z", "measured:test_tostring.py"),
    p("tostring_timespan_hours", "tostring(3h)", "string", "03:00:00", "frozen:reverse-function-01 (reverse(3h))"),
    p("tostring_timespan_days", "tostring(4d)", "string", "4.00:00:00",
      "frozen:totimespan-function-00 (4d prints as 4.00:00:00); measured:test_type_conversions.py"),
    p("tostring_timespan_negative", "tostring(-2h)", "string", "-02:00:00", "measured:test_type_conversions.py"),
    p("tostring_timespan_fraction", "tostring(1.5s)", "string", "00:00:01.5000000",
      "frozen:range-operator-02 (04:32:02.4000000 form); measured:test_type_conversions.py"),
    p("tostring_timespan_ms", "tostring(make_timespan(0,0,0.001))", "string", "00:00:00.0010000",
      "measured:test_type_conversions.py (tostring(1ms))"),
    p("tostring_dynamic_string", 'tostring(dynamic("x"))', "string", "x",
      "frozen:parse-json-function-02 (tostring of a dynamic string is its text, not JSON)"),
    p("tostring_dynamic_array", 'tostring(dynamic([1, "a"]))', "string", '[1,"a"]',
      "measured:test_dynamic_strings.py (compact JSON text)"),
    p("tostring_dynamic_bag", 'tostring(dynamic({"a": 1}))', "string", '{"a":1}', "measured:test_dynamic_strings.py"),
    p("tostring_dynamic_real_array", "tostring(dynamic([1.5, 2.0]))", "string", "[1.5,2.0]",
      "frozen:geo-line-densify-function-01 (whole reals inside dynamic JSON keep '.0', e.g. [50.0,50.0])"),
    p("tostring_dynamic_bool", "tostring(dynamic(true))", "string", "true",
      "measured:test_tostring.py (a JSON true prints lower-case)"),
    p("tostring_dynamic_null", "tostring(dynamic(null))", "string", "", "docs:tostring-function (null -> '')"),
    p("tostring_guid", "tostring(guid(74be27de-1e4e-49d9-b579-fe0b331d3642))", "string",
      "74be27de-1e4e-49d9-b579-fe0b331d3642", "docs:scalar-data-types/guid"),
    p("tostring_long_null", "tostring(long(null))", "string", "", "docs:tostring-function ('null -> empty string')"),
    p("tostring_datetime_null", "tostring(datetime(null))", "string", "", "docs:tostring-function"),
    p("tostring_bool_null", "tostring(bool(null))", "string", "", "docs:tostring-function"),
    p("tostring_string", 'tostring("abc")', "string", "abc", "docs:tostring-function"),
]

TIMESPANS = [
    case("totimespan_docs",
         "let value=5;\n"
         'print minsStr=totimespan("0.00:03:00"), days=totimespan(4d), hour=totimespan(value * 1h), \n'
         "      mins=totimespan(value * 2m), seconds=totimespan(5 * 4s), timespanMin=timespan(25min)",
         ["minsStr", "days", "hour", "mins", "seconds", "timespanMin"], ["timespan"] * 6,
         [("00:03:00", "4.00:00:00", "05:00:00", "00:10:00", "00:00:20", "00:25:00")],
         "frozen:totimespan-function-00", may_refuse=True),
    p("totimespan_bad_string", 'totimespan("abc")', "timespan", None, "docs:totimespan-function (else null)", may_refuse=True),
    p("totimespan_days_string", 'totimespan("1.02:03:04")', "timespan", "1.02:03:04", "docs:scalar-data-types/timespan", may_refuse=True),
    p("make_timespan_docs", "make_timespan(1,12,30,55.123)", "timespan", "1.12:30:55.1230000",
      "docs:make-timespan-function"),
    p("make_timespan_ms", "make_timespan(0,0,0.001)", "timespan", "00:00:00.0010000",
      "docs:make-timespan-function (second is a real); seed 004's TimeDeltaThresholdMin"),
    p("make_timespan_hour_minute", "make_timespan(2, 30)", "timespan", "02:30:00",
      "docs:make-timespan-function (hour, minute form)"),
    p("make_timespan_three_args", "make_timespan(1, 2, 3)", "timespan", "01:02:03",
      "docs:make-timespan-function (hour, minute, second form)"),
    p("timespan_divide_is_real", "1d / 1h", "real", 24.0,
      "docs:scalar-data-types/timespan ('divided ... returns a value of type real')"),
    p("timespan_subtract", "totimespan(1d) - totimespan(1s)", "timespan", "23:59:59",
      "docs:scalar-data-types/timespan (subtraction)"),
]

PARSE = [
    case("parse_json_docs",
         "datatable(context_custom_metrics:string)\n[\n"
         "    '{\"duration\":{\"value\":118.0,\"count\":5.0,\"min\":100.0,\"max\":150.0,\"stdDev\":0.0,"
         "\"sampledValue\":118.0,\"sum\":118.0}}'\n]\n"
         "| extend d = parse_json(context_custom_metrics)\n"
         "| extend duration_value = d.duration.value, duration_min = d.duration.min",
         ["context_custom_metrics", "d", "duration_value", "duration_min"], ["string", "dynamic", "dynamic", "dynamic"],
         [('{"duration":{"value":118.0,"count":5.0,"min":100.0,"max":150.0,"stdDev":0.0,"sampledValue":118.0,'
           '"sum":118.0}}',
           {"duration": {"value": 118.0, "count": 5.0, "min": 100.0, "max": 150.0, "stdDev": 0.0,
                         "sampledValue": 118.0, "sum": 118.0}}, 118.0, 100.0)],
         "frozen:parse-json-function-00"),
    case("parse_json_nested_string",
         "let d='{\"a\":123, \"b\":\"{\\\\\"c\\\\\":456}\"}';\nprint d_b_c=parse_json(tostring(parse_json(d).b)).c",
         ["d_b_c"], ["dynamic"], [(456,)], "frozen:parse-json-function-02"),
    p("parse_json_invalid_keeps_text", 'tostring(parse_json("not json"))', "string", "not json",
      "docs:parse-json-function (not JSON -> a dynamic holding the original string)"),
    p("parse_json_invalid_member_is_null", 'isnull(parse_json("not json").a)', "bool", True,
      "docs:parse-json-function (a string value has no members); dynamic member access yields null"),
    p("parse_json_member_string", "tostring(parse_json('{\"a\":{\"b\":\"c\"}}').a.b)", "string", "c",
      "docs:parse-json-function (member access, tostring of a dynamic string)"),
    p("parse_json_index", 'parse_json("[10, 20, 30]")[1]', "dynamic", 20, "docs:scalar-data-types/dynamic (index)"),
    p("parse_json_bracket_key", "parse_json('{\"a b\": 7}')[\"a b\"]", "dynamic", 7,
      "docs:scalar-data-types/dynamic (bracket member access)"),
    p("parse_json_missing_member", "isnull(parse_json('{\"a\": 1}').b)", "bool", True,
      "docs:scalar-data-types/dynamic (accessing a missing member gives null)"),
    p("parse_json_of_dynamic_identity", 'tostring(parse_json(dynamic({"country":"X"})).country)', "string", "X",
      "docs:parse-json-function ('If json is of type dynamic, its value is used as-is'); seed 000"),
    p("parse_url_host", 'tostring(parse_url("scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment").Host)',
      "string", "host", "docs:parse-url-function (example output)"),
    p("parse_url_scheme", 'tostring(parse_url("scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment").Scheme)',
      "string", "scheme", "docs:parse-url-function"),
    p("parse_url_port", 'tostring(parse_url("scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment").Port)',
      "string", "1234", "docs:parse-url-function (Port is the string \"1234\")"),
    p("parse_url_port_is_string", 'gettype(parse_url("https://h.io:8443/").Port)', "string", "string",
      "docs:parse-url-function (the example prints \"Port\":\"1234\", a JSON string)", may_refuse=True),
    p("parse_url_user_password",
      'strcat(parse_url("scheme://username:password@host:1234/p").Username, "|", '
      'parse_url("scheme://username:password@host:1234/p").Password)',
      "string", "username|password", "docs:parse-url-function"),
    p("parse_url_fragment", 'tostring(parse_url("scheme://host/p#fragment").Fragment)', "string", "fragment",
      "docs:parse-url-function"),
    p("parse_url_query", 'tostring(parse_url("scheme://host/p?k1=v1&k2=v2")["Query Parameters"].k2)', "string",
      "v2", "docs:parse-url-function (Query Parameters is a bag)", may_refuse=True),
    p("parse_url_path", 'tostring(parse_url("https://login.live.com/this/is/a/path?x=1").Path)', "string",
      "/this/is/a/path",
      "measured:test_parse_url_ip.py (Path keeps its leading '/': '/Path'); the docs' hand-typed output "
      "(this/is/a/path, with a malformed Query Parameters bag) is not a faithful rendering"),
    p("parse_url_host_seed004", 'tostring(parse_url(strcat(@"http://", "login.live.com")).Host)', "string",
      "login.live.com", "docs:parse-url-function; seed 004"),
    p("parse_url_host_with_port", 'tostring(parse_url("http://a.example.com:8080/x").Host)', "string",
      "a.example.com", "docs:parse-url-function (Host and Port are separate parts)"),
    p("parse_url_no_port", 'tostring(parse_url("https://bing.com/x").Port)', "string", "",
      "reasoning: no port in the URL -> the part is empty (or null), and tostring gives '' either way"),
    p("parse_url_invalid_host", 'tostring(parse_url("not a url").Host)', "string", "",
      "measured:test_parse_url_ip.py (an unparseable URL has empty parts); tostring of null is '' anyway"),
    p("parse_url_scheme_only_host", 'tostring(parse_url("http://").Host)', "string", "",
      "reasoning: nothing after the scheme -> empty Host (seed 004 builds http:// for an empty RemoteUrl)"),
]

ARRAYS = [
    case("array_length_docs", 'print array_length(dynamic([1, 2, 3, "four"]))', ["print_0"], ["long"], [(4,)],
         "frozen:array-length-function-00"),
    p("array_length_empty", "array_length(dynamic([]))", "long", 0, "docs:array-length-function"),
    p("array_length_bag", 'array_length(dynamic({"a": 1}))', "long", None,
      "docs:array-length-function ('null if array isn't an array')"),
    p("array_length_string", 'array_length(dynamic("abc"))', "long", None, "docs:array-length-function"),
    p("array_length_null", "array_length(dynamic(null))", "long", None, "docs:array-length-function"),
    p("array_length_parsed", 'array_length(parse_json("[1,2]"))', "long", 2, "docs:array-length-function"),
    case("array_sort_asc_docs",
         'let array1 = dynamic([1,3,4,5,2]);\nlet array2 = dynamic(["a","b","c","d","e"]);\n'
         "print array_sort_asc(array1,array2)",
         ["array1_sorted", "array2_sorted"], ["dynamic", "dynamic"],
         [([1, 2, 3, 4, 5], ["a", "e", "b", "c", "d"])], "docs:array-sort-asc-function", may_refuse=True),
    case("array_sort_desc_docs",
         'let array1 = dynamic([1,3,4,5,2]);\nlet array2 = dynamic(["a","b","c","d","e"]);\n'
         "print array_sort_desc(array1,array2)",
         ["array1_sorted", "array2_sorted"], ["dynamic", "dynamic"],
         [([5, 4, 3, 2, 1], ["d", "c", "b", "e", "a"])], "frozen:array-sort-desc-function-00", may_refuse=True),
    p("array_sort_asc_nulls_default", 'array_sort_asc(dynamic([null,"blue","yellow","green",null]))', "dynamic",
      ["blue", "green", "yellow", None, None], "docs:array-sort-asc-function (nulls last by default)", may_refuse=True),
    p("array_sort_asc_nulls_first", 'array_sort_asc(dynamic([null,"blue","yellow","green",null]), false)',
      "dynamic", [None, None, "blue", "green", "yellow"], "docs:array-sort-asc-function (nulls_last=false)", may_refuse=True),
    p("array_sort_desc_nulls_default", 'array_sort_desc(dynamic([null,"blue","yellow","green",null]))', "dynamic",
      ["yellow", "green", "blue", None, None], "docs:array-sort-desc-function", may_refuse=True),
    p("array_sort_desc_nulls_first", 'array_sort_desc(dynamic([null,"blue","yellow","green",null]), false)',
      "dynamic", [None, None, "yellow", "green", "blue"], "frozen:array-sort-desc-function-04", may_refuse=True),
    p("array_sort_asc_numbers", "array_sort_asc(dynamic([10, 2, 33, 1]))", "dynamic", [1, 2, 10, 33],
      "docs:array-sort-asc-function (numeric, not text, order)"),
    p("array_sort_asc_mixed_types", 'array_sort_asc(dynamic(["b", 2, "a", 1]))', "dynamic", [1, 2, "a", "b"],
      "docs:array-sort-asc-function (numeric elements sort before strings)", may_refuse=True),
    case("array_sort_asc_datetimes_seed004",
         "datatable(k:string, ts:datetime)['a', datetime(2024-01-03), 'a', datetime(2024-01-01 10:00),"
         " 'a', datetime(2024-01-02)]\n"
         "| summarize s = make_set(ts) by k\n| project k, s = array_sort_asc(s)",
         ["k", "s"], ["string", "dynamic"],
         [("a", ["2024-01-01T10:00:00.0000000Z", "2024-01-02T00:00:00.0000000Z", "2024-01-03T00:00:00.0000000Z"])],
         "docs:array-sort-asc-function; datetimes inside dynamic print as in frozen:range-function-01 "
         "(2007-01-01T00:00:00.0000000Z); seed 004's array_sort_asc(set_Timestamp)"),
]

NUMOPS = "docs:numerical-operators (type rules for arithmetic operations)"
ARITH = [
    p("int_division_truncates", "1 / 2", "long", 0, NUMOPS + " (1 / 2 is 0)"),
    p("int_division_negative", "-7 / 2", "long", -3, NUMOPS + " ('the decimal is truncated')"),
    p("int_int_division_is_long", "toint(7) / toint(2)", "long", 3,
      NUMOPS + " ('If both operands are of integer types (int or long), the result will be of type long')"),
    p("real_division", "1.0 / 2", "real", 0.5, NUMOPS),
    p("real_division_by_zero", "1.0 / 0.0", "real", float("inf"),
      "docs:scalar-data-types/real (real(+inf): 'such as when dividing 1.0 by 0.0')"),
    p("real_zero_by_zero", "0.0 / 0.0", "real", float("nan"),
      "docs:scalar-data-types/real (real(nan): 'such as when dividing a 0.0 by another 0.0')"),
    case("modulo_docs", "print plusPlus = 14 % 12, minusPlus = -14 % 12, plusMinus = 14 % -12, minusMinus = -14 % -12",
         ["plusPlus", "minusPlus", "plusMinus", "minusMinus"], ["long"] * 4, [(2, 10, 2, 10)],
         "docs:numerical-operators (modulo is always a small non-negative number)"),
    p("jitter_expression_seed004", "(toreal(6) / toreal(60)) * 100", "real", 10.0,
      NUMOPS + "; seed 004's Jitter=(stdev/avg)*100"),
    p("datetime_minus_datetime", "datetime(2024-01-02) - datetime(2024-01-01 12:00)", "timespan", "12:00:00",
      "docs:datetime-timespan-arithmetic (datetime - datetime is a timespan)"),
]

CASES = NULLS + IFF + TOINT + TOSTRING + TIMESPANS + PARSE + ARRAYS + ARITH


@pytest.mark.parametrize("c", params(CASES))
def test_conversion_case(c):
    run_case(c)
