"""The function table: every KQL scalar function, operator and aggregate kqlhunt knows, with its arity,
return-type rule and result-naming rule.

One entry per function. The binder reads the type and naming rules; the SQL layer keys its lowerings by
the same names (a test checks that every entry here has a lowering or an explicit refusal). Naming
kinds were probed on Microsoft's Kusto.Language (the oracle): `tostring(x)` is named `x`, `strlen(x)`
`strlen_x`, `array_sort_asc(x)` `x_sorted`, most others get no name (`Column1`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kqlhunt.semantic.bound import BExpr, BType
from kqlhunt.semantic.types import (
    BOOL,
    DATETIME,
    DYNAMIC,
    LONG,
    REAL,
    STRING,
    TIMESPAN,
    KType,
    array_of,
    common_type,
)


class TypeRuleError(Exception):
    """Raised by a type rule; the binder turns it into a diagnostic at the call's span."""


class UnsupportedTypes(TypeRuleError):
    """A type combination Kusto accepts but kqlhunt does not model (refused as unsupported)."""


TypeRule = Callable[[list[BExpr]], KType]


@dataclass(frozen=True, slots=True)
class Fn:
    name: str
    kind: str  # scalar | aggregate | window | operator
    min_args: int
    max_args: int  # -1 = variadic
    rule: TypeRule
    naming: str = "none"  # none | first | prefix:<p> | suffix:<s>
    agg_prefix: str = ""  # aggregates: default output name prefix (count_, set_, ...)


REGISTRY: dict[str, Fn] = {}


def _add(fn: Fn, *aliases: str) -> None:
    REGISTRY[fn.name] = fn
    for a in aliases:
        REGISTRY[a] = fn


def const(t: KType) -> TypeRule:
    return lambda args: t


def same_as(i: int) -> TypeRule:
    return lambda args: args[i].type


def _num(args: list[BExpr], i: int = 0) -> KType:
    t = args[i].type
    if not t.is_numeric and t.name not in ("dynamic", "null"):
        raise TypeRuleError(f"argument {i + 1} must be a number, not {t.name}")
    return t


def scalar(name: str, lo: int, hi: int, rule: TypeRule, naming: str = "none", *aliases: str) -> None:
    _add(Fn(name, "scalar", lo, hi, rule, naming), *aliases)


def operator(name: str, lo: int, hi: int, rule: TypeRule) -> None:
    _add(Fn(name, "operator", lo, hi, rule))


def aggregate(name: str, lo: int, hi: int, rule: TypeRule, prefix: str, *aliases: str) -> None:
    _add(Fn(name, "aggregate", lo, hi, rule, "none", prefix), *aliases)


# ---------------------------------------------------------------- operators

# arithmetic (+ - * / % neg) and comparison (== != < <= > >=) operators: semantic/signatures/conversions.py


def _bool_args(args: list[BExpr]) -> KType:
    for a in args:
        if a.type.name not in ("bool", "null", "dynamic"):
            raise TypeRuleError(f"`and`/`or`/`not` need bool operands, not {a.type.name}")
    return BOOL


operator("and", 2, 2, _bool_args)
operator("or", 2, 2, _bool_args)
scalar("not", 1, 1, _bool_args)

STRING_OPERATORS = (
    "=~", "!~", "has", "!has", "has_cs", "!has_cs", "hasprefix", "!hasprefix", "hasprefix_cs",
    "!hasprefix_cs", "hassuffix", "!hassuffix", "hassuffix_cs", "!hassuffix_cs", "contains", "!contains",
    "contains_cs", "!contains_cs", "startswith", "!startswith", "startswith_cs", "!startswith_cs",
    "endswith", "!endswith", "endswith_cs", "!endswith_cs", "matches regex",
)
for _op in STRING_OPERATORS:
    operator(_op, 2, 2, const(BOOL))
for _op in ("in", "!in", "in~", "!in~", "has_any", "has_all"):
    operator(_op, 2, -1, const(BOOL))
operator("between", 3, 3, const(BOOL))
operator("!between", 3, 3, const(BOOL))

# ---------------------------------------------------------------- scalar functions


# to<type>() conversions: semantic/signatures/conversions.py (todatetime/totimespan lowerings: timex)
scalar("todatetime", 1, 1, const(DATETIME), "first")
scalar("totimespan", 1, 1, const(TIMESPAN), "first", "totime")

# Kusto: null when the table has no IngestionTime policy -- kqlhunt's tables (files, lakes) have none
scalar("ingestion_time", 0, 0, const(DATETIME))
scalar("isempty", 1, 1, const(BOOL))
scalar("isnotempty", 1, 1, const(BOOL), "none", "notempty")
scalar("isnull", 1, 1, const(BOOL))
scalar("isnotnull", 1, 1, const(BOOL), "none", "notnull")
scalar("tolower", 1, 1, const(STRING))
scalar("toupper", 1, 1, const(STRING))
def _strings(t: KType) -> TypeRule:
    """A function over strings (Kusto also accepts dynamic, converted)."""

    def rule(args: list[BExpr]) -> KType:
        for i, a in enumerate(args):
            if a.type.name not in ("string", "dynamic", "null"):
                raise TypeRuleError(f"argument {i + 1} must be a string, not {a.type}")
        return t

    return rule


scalar("strlen", 1, 1, _strings(LONG), "prefix:strlen")
scalar("strcat", 1, 64, const(STRING))
scalar("reverse", 1, 1, const(STRING))
scalar("replace_regex", 3, 3, const(STRING))  # replace_regex(text, regex, rewrite)
scalar("replace", 3, 3, const(STRING))  # deprecated: replace(regex, rewrite, text)
scalar("replace_string", 3, 3, const(STRING))
scalar("substring", 2, 3, const(STRING))
scalar("trim", 2, 2, const(STRING))
scalar("trim_start", 2, 2, const(STRING))
scalar("trim_end", 2, 2, const(STRING))
scalar("strcat_array", 2, 2, const(STRING))
scalar("url_decode", 1, 1, const(STRING))
scalar("base64_encode_tostring", 1, 1, const(STRING))
scalar("base64_decode_tostring", 1, 1, const(STRING))
scalar("hash_md5", 1, 1, const(STRING))
scalar("hash_sha256", 1, 1, const(STRING))
scalar("hash_sha1", 1, 1, const(STRING))


def _extract_rule(args: list[BExpr]) -> KType:
    if len(args) == 4:
        if not isinstance(args[3], BType):
            raise TypeRuleError("the 4th argument of extract() must be typeof(T)")
        return args[3].type
    return STRING


scalar("extract", 3, 4, _extract_rule)
scalar("parse_path", 1, 1, const(DYNAMIC))
scalar("geo_info_from_ip_address", 1, 1, const(DYNAMIC))
# internal: the `parse` operator's regex match and named group (names no query can spell)
scalar("$parse_match", 2, 2, const(BOOL))
scalar("$parse_group", 3, 3, const(STRING))
scalar("assert", 2, 2, const(BOOL))
# internal: a IS DISTINCT FROM b (staged window functions: did the ranked term change?)
scalar("$distinct_from", 2, 2, const(BOOL))
# internal: pack_all(true), a bag of the row's non-null, non-empty values
scalar("$pack_nonempty", 0, -1, const(DYNAMIC))


def _iif(args: list[BExpr]) -> KType:
    if args[0].type.name not in ("bool", "null", "dynamic"):
        raise TypeRuleError(f"the condition must be bool, not {args[0].type}")
    t = common_type([args[1].type, args[2].type])
    if t is None:
        raise UnsupportedTypes(f"iif() with branches of different types ({args[1].type} and {args[2].type})")
    return t


scalar("iif", 3, 3, _iif, "none", "iff")


def _case(args: list[BExpr]) -> KType:
    if len(args) % 2 == 0:
        raise TypeRuleError("case() needs predicate/value pairs and a final else value")
    values = [args[i].type for i in range(1, len(args) - 1, 2)] + [args[-1].type]
    t = common_type(values)
    if t is None:
        raise UnsupportedTypes("case() with branches of different types")
    return t


scalar("case", 3, -1, _case)


def _coalesce(args: list[BExpr]) -> KType:
    t = common_type([a.type for a in args])
    if t is None:
        raise TypeRuleError("coalesce() arguments have different types")
    return t


scalar("coalesce", 1, 64, _coalesce)







def _bin(args: list[BExpr]) -> KType:
    t = args[0].type
    if t.name == "int":
        return LONG
    if t.name in ("long", "real", "decimal", "datetime", "timespan"):
        return t
    raise TypeRuleError(f"bin() cannot round {t.name}")


scalar("bin", 2, 2, _bin, "first", "floor")
scalar("bin_auto", 1, 1, lambda a: _bin(a), "first")  # bound as bin() with the request's `set` options
scalar("rand", 0, 1, const(REAL))
scalar("gettype", 1, 1, const(STRING), "prefix:type")
scalar("isascii", 1, 1, const(BOOL))
scalar("pack_array", 1, 1000, const(DYNAMIC))
scalar("pack", 2, 64, const(DYNAMIC), "none", "bag_pack", "pack_dictionary")
scalar("series_outliers", 1, 5, const(array_of(REAL)), "first")
scalar("series_stats_dynamic", 1, 2, const(DYNAMIC))
scalar("series_stats", 1, 2, const(DYNAMIC))  # expands to 7 columns: handled by the binder

SERIES_STATS_SUFFIXES: tuple[tuple[str, KType], ...] = (
    ("min", REAL), ("min_idx", LONG), ("max", REAL), ("max_idx", LONG), ("avg", REAL), ("stdev", REAL),
    ("variance", REAL),
)

# ---------------------------------------------------------------- window functions

_add(Fn("next", "window", 1, 3, same_as(0)))
_add(Fn("prev", "window", 1, 3, same_as(0)))
_add(Fn("row_number", "window", 0, 2, const(LONG)))
_add(Fn("row_cumsum", "window", 1, 2, same_as(0)))  # Kusto.Language: row_cumsum(int) stays int
_add(Fn("row_rank_min", "window", 1, 2, const(LONG)))
_add(Fn("row_rank_dense", "window", 1, 2, const(LONG)))

# ---------------------------------------------------------------- aggregates


def _sum(args: list[BExpr]) -> KType:
    t = args[0].type
    if t.name in ("int", "long"):
        return LONG
    if t.name in ("real", "decimal", "timespan"):
        return t
    if t.name in ("dynamic", "null"):
        return REAL
    raise TypeRuleError(f"sum() cannot add {t.name} values")


def _avg(args: list[BExpr]) -> KType:
    t = args[0].type
    if t.name in ("int", "long", "real", "dynamic", "null"):
        return REAL
    if t.name in ("decimal", "timespan", "datetime"):
        return t
    raise TypeRuleError(f"avg() cannot average {t.name} values")


def _minmax(args: list[BExpr]) -> KType:
    t = args[0].type
    if t.name == "dynamic":
        raise TypeRuleError("min()/max() need orderable values, not dynamic")
    return t


def _percentile(args: list[BExpr]) -> KType:
    t = args[0].type
    return LONG if t.name == "int" else t


aggregate("count", 0, 1, const(LONG), "count")
aggregate("countif", 1, 1, const(LONG), "countif")
aggregate("dcount", 1, 2, const(LONG), "dcount")
aggregate("dcountif", 2, 3, const(LONG), "dcountif")
aggregate("count_distinct", 1, 1, const(LONG), "count_distinct")
aggregate("count_distinctif", 2, 2, const(LONG), "count_distinctif")
aggregate("make_set", 1, 2, lambda a: array_of(a[0].type), "set", "makeset")
aggregate("make_set_if", 2, 3, lambda a: array_of(a[0].type), "set")
aggregate("make_list", 1, 2, lambda a: array_of(a[0].type), "list", "makelist")
aggregate("make_list_if", 2, 3, lambda a: array_of(a[0].type), "list")
aggregate("make_list_with_nulls", 1, 2, lambda a: array_of(a[0].type), "list")
aggregate("make_bag", 1, 2, const(DYNAMIC), "bag")
aggregate("any", 1, -1, same_as(0), "any")
aggregate("take_any", 1, -1, same_as(0), "")
aggregate("min", 1, 1, _minmax, "min")
aggregate("max", 1, 1, _minmax, "max")
aggregate("minif", 2, 2, _minmax, "minif")
aggregate("maxif", 2, 2, _minmax, "maxif")
aggregate("sum", 1, 1, _sum, "sum")
aggregate("sumif", 2, 2, _sum, "sumif")
aggregate("avg", 1, 1, _avg, "avg")
aggregate("avgif", 2, 2, _avg, "avgif")
aggregate("stdev", 1, 1, const(REAL), "stdev")
aggregate("stdevp", 1, 1, const(REAL), "stdevp")
aggregate("variance", 1, 1, const(REAL), "variance")
aggregate("variancep", 1, 1, const(REAL), "variancep")
aggregate("percentile", 2, 2, _percentile, "percentile")
aggregate("percentiles", 2, -1, _percentile, "percentile")
aggregate("percentiles_array", 2, -1, const(DYNAMIC), "percentiles")
aggregate("arg_max", 2, -1, same_as(0), "", "argmax")
aggregate("arg_min", 2, -1, same_as(0), "", "argmin")


def window(name: str, lo: int, hi: int, rule: TypeRule) -> None:
    _add(Fn(name, "window", lo, hi, rule))


# the families in kqlhunt.semantic.signatures register themselves with the helpers above
from kqlhunt.semantic import signatures as _signatures  # noqa: E402,F401  (import for its side effect)


def lookup(name: str) -> Fn | None:
    return REGISTRY.get(name)


__all__ = ["Fn", "REGISTRY", "TypeRuleError", "lookup", "SERIES_STATS_SUFFIXES", "STRING_OPERATORS"]
