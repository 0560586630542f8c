"""Signatures of the timex functions: datetime and timespan parts, arithmetic, rounding, time zones,
construction, parsing and formatting (see kqlhunt.semantic.functions for the helpers and conventions).

Argument kinds, the arguments that must be literals, the accepted period names and the result names
were probed on Kusto.Language (the oracle): datetime arguments must be datetimes (a dynamic value or a
bare `null` is an error), offsets of `startofday()` & co. are int or long, periods and format strings
are literals. `startofday`, `format_datetime`, `format_timespan` and `bin_at` are named after their
first argument; the others invent `Column1`. The integer parts (`hourofday`, `getyear`, `datetime_part`,
...) are long: the engine answers Int64 (docs corpus hour-of-day-function-00, getyear-function-00,
datetime-part-function-00) where Kusto.Language says int.

A rule raises `TypeRuleError` where Kusto rejects the query and `UnsupportedTypes` where Kusto.Language
accepts a form whose engine behaviour is undocumented (make_datetime of one argument or of fractional
years, bin_at of a timespan by a number). These entries override the core table for the time functions.
"""

from __future__ import annotations

from kqlhunt.semantic.bound import BExpr, BLit
from kqlhunt.semantic.functions import TypeRule, TypeRuleError, UnsupportedTypes, scalar
from kqlhunt.semantic.types import DATETIME, DYNAMIC, INT, LONG, REAL, STRING, TIMESPAN, KType

INTEGERS = ("int", "long")
NUMBERS = ("int", "long", "real", "decimal")

ADD_PERIODS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond",
               "microsecond", "nanosecond")
PARTS = ("year", "quarter", "month", "week_of_year", "day", "dayofyear", "hour", "minute", "second",
         "millisecond", "microsecond", "nanosecond")


def _want(args: list[BExpr], i: int, fn: str, accepted: tuple[str, ...], what: str) -> None:
    name = args[i].type.name
    if name == "null":
        raise TypeRuleError(f"argument {i + 1} of {fn}(): a bare `null` is no value in Kusto "
                            f"(write a typed null such as datetime(null))")
    if name not in accepted:
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be {what}, not {name}")


def literal_name(args: list[BExpr], i: int, fn: str, allowed: tuple[str, ...]) -> str:
    """A period or part name: a string literal, one of `allowed` (any letter case)."""
    a = args[i]
    if not (isinstance(a, BLit) and isinstance(a.value, str)):
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be a string literal")
    name = a.value.lower()
    if name not in allowed:
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be one of {', '.join(allowed)}, not {a.value!r}")
    return name


def on_datetime(result: KType, fn: str) -> TypeRule:
    """One datetime argument."""

    def rule(args: list[BExpr]) -> KType:
        _want(args, 0, fn, ("datetime",), "a datetime")
        return result

    return rule


def _shifted(fn: str) -> TypeRule:
    """startofX / endofX: a datetime and an optional whole offset (in days, weeks, months or years)."""

    def rule(args: list[BExpr]) -> KType:
        _want(args, 0, fn, ("datetime",), "a datetime")
        if len(args) > 1:
            _want(args, 1, fn, INTEGERS, "an integer offset")
        return DATETIME

    return rule


def _datetime_add(args: list[BExpr]) -> KType:
    literal_name(args, 0, "datetime_add", ADD_PERIODS)
    _want(args, 1, "datetime_add", INTEGERS, "an integer amount")
    _want(args, 2, "datetime_add", ("datetime",), "a datetime")
    return DATETIME


def _datetime_diff(args: list[BExpr]) -> KType:
    literal_name(args, 0, "datetime_diff", ADD_PERIODS)
    _want(args, 1, "datetime_diff", ("datetime",), "a datetime")
    _want(args, 2, "datetime_diff", ("datetime",), "a datetime")
    return LONG


def _datetime_part(args: list[BExpr]) -> KType:
    literal_name(args, 0, "datetime_part", PARTS)
    _want(args, 1, "datetime_part", ("datetime",), "a datetime")
    return LONG


def _zone_conversion(fn: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        _want(args, 0, fn, ("datetime",), "a datetime")
        _want(args, 1, fn, ("string",), "a time zone name (a string)")
        return DATETIME

    return rule


def _make_datetime(args: list[BExpr]) -> KType:
    if len(args) == 1:
        raise UnsupportedTypes("make_datetime() of one argument (an undocumented form)")
    if len(args) == 2:
        raise TypeRuleError("make_datetime() takes a year, month and day, then optionally hour, minute, second")
    for i in range(len(args)):
        _want(args, i, "make_datetime", NUMBERS, "a number")
        # seconds may be fractional; how the engine reads a fractional year or hour is not documented
        if i < 5 and args[i].type.name not in INTEGERS:
            raise UnsupportedTypes(f"make_datetime() with a {args[i].type.name} argument {i + 1} "
                                   f"(only the seconds may be fractional)")
    return DATETIME


def _make_timespan(args: list[BExpr]) -> KType:
    for i in range(len(args)):
        _want(args, i, "make_timespan", NUMBERS, "a number")
        # the seconds (last of three or four) may be fractional (the docs: 55.123)
        seconds = len(args) >= 3 and i == len(args) - 1
        if args[i].type.name not in INTEGERS and not (seconds and args[i].type.name == "real"):
            raise UnsupportedTypes(f"make_timespan() with a {args[i].type.name} argument {i + 1}")
    return TIMESPAN


def _format(fn: str, value: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        _want(args, 0, fn, (value,), f"a {value}")
        a = args[1]
        if not (isinstance(a, BLit) and isinstance(a.value, str)):
            raise TypeRuleError(f"the format of {fn}() must be a string literal")
        return STRING

    return rule


def _unixtime(fn: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        _want(args, 0, fn, NUMBERS, "a number")
        if args[0].type.name == "decimal":
            raise UnsupportedTypes(f"{fn}() of a decimal")
        return DATETIME

    return rule


def _bin_at(args: list[BExpr]) -> KType:
    value, size, fixed = (a.type.name for a in args)
    for i, name in enumerate((value, size, fixed)):
        if name == "null":
            _want(args, i, "bin_at", (), "")
    if value == "datetime":
        _want(args, 1, "bin_at", ("timespan",), "a timespan bin size")
        _want(args, 2, "bin_at", ("datetime",), "a datetime fixed point")
        return DATETIME
    if value == "timespan":
        _want(args, 2, "bin_at", ("timespan",), "a timespan fixed point")
        if size in NUMBERS:
            raise UnsupportedTypes("bin_at() of a timespan by a number")
        _want(args, 1, "bin_at", ("timespan",), "a timespan bin size")
        return TIMESPAN
    _want(args, 0, "bin_at", NUMBERS + ("datetime", "timespan"), "a number, datetime or timespan")
    _want(args, 1, "bin_at", NUMBERS, "a number")
    _want(args, 2, "bin_at", NUMBERS, "a number")
    if value == "decimal" or "decimal" in (size, fixed):
        if value != "decimal":
            raise UnsupportedTypes("bin_at() mixing decimal with other numbers")
        return args[0].type
    if value == "real" or "real" in (size, fixed):
        return REAL
    return LONG


def _offset(fn: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        if args:
            _want(args, 0, fn, ("timespan",), "a timespan")
        return DATETIME

    return rule


for _name in ("dayofmonth", "dayofyear", "hourofday", "getmonth", "monthofyear", "getyear", "week_of_year"):
    scalar(_name, 1, 1, on_datetime(LONG, _name))
# the obsolete non-ISO week number (weeks from the year's first Wednesday, per the docs): Kusto.Language
# still accepts it (as int), but its rule is not documented precisely, so the lowering refuses it
scalar("weekofyear", 1, 1, on_datetime(INT, "weekofyear"))
scalar("dayofweek", 1, 1, on_datetime(TIMESPAN, "dayofweek"))
scalar("startofday", 1, 2, _shifted("startofday"), "first")
for _name in ("startofweek", "startofmonth", "startofyear", "endofday", "endofweek", "endofmonth", "endofyear"):
    scalar(_name, 1, 2, _shifted(_name))
scalar("datetime_add", 3, 3, _datetime_add)
scalar("datetime_diff", 3, 3, _datetime_diff)
scalar("datetime_part", 2, 2, _datetime_part, "none", "datepart")
scalar("datetime_local_to_utc", 2, 2, _zone_conversion("datetime_local_to_utc"))
scalar("datetime_utc_to_local", 2, 2, _zone_conversion("datetime_utc_to_local"))
scalar("datetime_list_timezones", 0, 0, lambda args: DYNAMIC)
scalar("make_datetime", 1, 6, _make_datetime)
scalar("make_timespan", 2, 4, _make_timespan)
scalar("format_datetime", 2, 2, _format("format_datetime", "datetime"), "first")
scalar("format_timespan", 2, 2, _format("format_timespan", "timespan"), "first")
for _unit in ("seconds", "milliseconds", "microseconds", "nanoseconds"):
    scalar(f"unixtime_{_unit}_todatetime", 1, 1, _unixtime(f"unixtime_{_unit}_todatetime"))
scalar("bin_at", 3, 3, _bin_at, "first")
scalar("now", 0, 1, _offset("now"))
scalar("ago", 1, 1, _offset("ago"))
