"""Signatures of the aggregates family: conditional and two-variable statistics, weighted percentiles,
bags and schemas, bitwise accumulators, and Kusto's sketches (hll / tdigest) with the scalar functions
that read them.

Names were probed on Kusto.Language (the oracle) and on the real engine's frozen results where the two
differ: `covariance(x, y)` is `covariance_x_y` on the engine (the oracle says `covariance_x`), so the
covariance entries carry naming `args2` (`naming.aggregate_name` joins the first two argument names).
`take_anyif(x, p)` is named `x`, `anyif(x, p)` `anyif_x`, `tdigest_merge(t)` `merge_tdigests_t`,
`binary_all_or(x)` `x`, `buildschema(d)` `schema_d`.

Type rules reject what Kusto rejects (TypeRuleError); combinations Kusto accepts but kqlhunt does not
model (timespan or datetime statistics, real weights, ...) are refused by the lowerings with a KH300
diagnostic, because the binder reports an aggregate's type-rule errors as KH242.

`hll_merge`, `tdigest_merge` and `merge_tdigest` are both aggregates (one argument) and scalar functions
(2..16 sketches). The scalar forms are registered as `$scalar:<name>` with a constant result name
(`hll_merged_result`, `tdigests_merge_result`); the binder picks the twin when a call has more arguments
than the aggregate takes.

`percentilew` / `percentilesw` expand to one column per percentage like `percentiles` (the binder's
percentiles expansion binds them to the internal aggregate `$percentilew(value, weight, percent)`).
"""

from __future__ import annotations

from kqlhunt.semantic.bound import BExpr, BType
from kqlhunt.semantic.functions import (
    REGISTRY,
    Fn,
    TypeRule,
    TypeRuleError,
    aggregate,
    const,
    same_as,
    scalar,
)
from kqlhunt.semantic.types import DYNAMIC, LONG, REAL, KType, array_of

NUMBERS = ("int", "long", "real", "decimal")
# kinds whose statistics the lowerings refuse rather than guess (the oracle accepts them)
UNMODELLED = ("timespan", "datetime", "dynamic")
ORDERED = (*NUMBERS, "datetime", "timespan")
_AVG = REGISTRY["avg"]  # the core's avg() type rule
SKETCH_MERGE_MAX = 16  # Kusto.Language: hll_merge() / merge_tdigest() take 2 to 16 sketches


def _predicate(args: list[BExpr], i: int, fn: str) -> None:
    t = args[i].type.name
    if t not in ("bool", "dynamic", "null"):
        raise TypeRuleError(f"the predicate of {fn}() (argument {i + 1}) must be bool, not {t}")


def _statistic(fn: str, values: int, predicate: bool) -> TypeRule:
    """stdevif / varianceif / covariance...: numeric arguments (plus a predicate), a real result."""

    def rule(args: list[BExpr]) -> KType:
        for i in range(values):
            t = args[i].type.name
            if t not in (*NUMBERS, *UNMODELLED, "null"):
                raise TypeRuleError(f"argument {i + 1} of {fn}() must be a number, not {t}")
        if predicate:
            _predicate(args, values, fn)
        return REAL

    return rule


def _conditional(fn: str, result: TypeRule, predicate_at: int) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        _predicate(args, predicate_at, fn)
        return result(args)

    return rule


def _two_names(name: str, lo: int, hi: int, rule: TypeRule) -> None:
    """An aggregate named after its first two arguments (`covariance_x_y`)."""
    REGISTRY[name] = Fn(name, "aggregate", lo, hi, rule, "args2", name)


def _bitwise(args: list[BExpr]) -> KType:
    t = args[0].type
    if t.name not in (*NUMBERS, "null"):
        raise TypeRuleError(f"binary_all_*() accumulate numbers, not {t.name}")
    return t


def _dynamic_bag(fn: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        if args[0].type.name not in ("dynamic", "null"):
            raise TypeRuleError(f"the argument of {fn}() must be a dynamic property bag, not {args[0].type.name}")
        return DYNAMIC

    return rule


def _weighted_percentile(args: list[BExpr]) -> KType:
    t = args[0].type
    if t.name not in (*ORDERED, "null"):
        raise TypeRuleError(f"percentiles need numbers, datetimes or timespans, not {t.name}")
    if args[1].type.name not in ("int", "long", "dynamic", "null"):
        raise TypeRuleError(f"the weight must be an integer, not {args[1].type.name}")
    return LONG if t.name == "int" else t


def _weighted_percentiles_array(args: list[BExpr]) -> KType:
    _weighted_percentile(args)
    return DYNAMIC


def _sketch_input(fn: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        if args[0].type.name == "dynamic" and fn == "tdigest":
            raise TypeRuleError("tdigest() needs numbers, datetimes or timespans, not dynamic")
        if fn == "tdigest" and args[0].type.name not in (*ORDERED, "null"):
            raise TypeRuleError(f"tdigest() needs numbers, datetimes or timespans, not {args[0].type.name}")
        return DYNAMIC

    return rule


def _sketches(fn: str, result: TypeRule) -> TypeRule:
    """Functions reading sketches: the sketch arguments are dynamic values."""

    def rule(args: list[BExpr]) -> KType:
        if args[0].type.name not in ("dynamic", "null"):
            raise TypeRuleError(f"{fn}() reads a sketch made by hll() or tdigest(), not a {args[0].type.name}")
        return result(args)

    return rule


def _percentile_tdigest(args: list[BExpr]) -> KType:
    if len(args) == 3:
        if not isinstance(args[2], BType):
            raise TypeRuleError("the 3rd argument of percentile_tdigest() must be typeof(T)")
        return args[2].type
    return DYNAMIC


def _all_sketches(fn: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        for a in args:
            if a.type.name not in ("dynamic", "null"):
                raise TypeRuleError(f"{fn}() merges sketches (dynamic values), not a {a.type.name}")
        return DYNAMIC

    return rule


# ---------------------------------------------------------------- picking and averaging

aggregate("anyif", 2, 2, _conditional("anyif", same_as(0), 1), "anyif")
aggregate("avgif", 2, 2, _conditional("avgif", lambda a: _AVG.rule(a), 1), "avgif")
aggregate("take_anyif", 2, 2, _conditional("take_anyif", same_as(0), 1), "")

# ---------------------------------------------------------------- dispersion

aggregate("stdevif", 2, 2, _statistic("stdevif", 1, True), "stdevif")
aggregate("varianceif", 2, 2, _statistic("varianceif", 1, True), "varianceif")
aggregate("variancepif", 2, 2, _statistic("variancepif", 1, True), "variancepif")
_two_names("covariance", 2, 2, _statistic("covariance", 2, False))
_two_names("covariancep", 2, 2, _statistic("covariancep", 2, False))
_two_names("covarianceif", 3, 3, _statistic("covarianceif", 2, True))
_two_names("covariancepif", 3, 3, _statistic("covariancepif", 2, True))

# ---------------------------------------------------------------- bitwise accumulators

for _name in ("binary_all_and", "binary_all_or", "binary_all_xor"):
    aggregate(_name, 1, 1, _bitwise, "")

# ---------------------------------------------------------------- percentiles

# one column per percentage: the binder expands these (naming percentile_<x>_<p>) into `$percentilew`
aggregate("percentilew", 3, 3, _weighted_percentile, "percentile")
aggregate("percentilesw", 3, -1, _weighted_percentile, "percentile")
aggregate("percentilesw_array", 3, -1, _weighted_percentiles_array, "percentiles")

# ---------------------------------------------------------------- bags and schemas

aggregate("make_bag", 1, 2, _dynamic_bag("make_bag"), "bag")
# deprecated spellings with a default size limit of 128 (make_list / make_set / make_bag docs); the core's
# aliases of make_list / make_set would have no limit
aggregate("make_dictionary", 1, 2, _dynamic_bag("make_dictionary"), "dictionary")
aggregate("makelist", 1, 2, lambda a: array_of(a[0].type), "list")
aggregate("makeset", 1, 2, lambda a: array_of(a[0].type), "set")
aggregate("make_bag_if", 2, 3, _conditional("make_bag_if", _dynamic_bag("make_bag_if"), 1), "bag")
aggregate("buildschema", 1, 1, _dynamic_bag("buildschema"), "schema")

# ---------------------------------------------------------------- sketches (hll, tdigest)

aggregate("hll", 1, 2, _sketch_input("hll"), "hll")
aggregate("hll_if", 2, 3, _conditional("hll_if", _sketch_input("hll"), 1), "hll_if")
aggregate("hll_merge", 1, 1, _all_sketches("hll_merge"), "hll_merge")
aggregate("tdigest", 1, 2, _sketch_input("tdigest"), "tdigest")
aggregate("tdigest_merge", 1, 1, _all_sketches("tdigest_merge"), "merge_tdigests", "merge_tdigest")

scalar("$scalar:hll_merge", 2, SKETCH_MERGE_MAX, _all_sketches("hll_merge"), "const:hll_merged_result")
scalar("$scalar:tdigest_merge", 2, SKETCH_MERGE_MAX, _all_sketches("tdigest_merge"),
       "const:tdigests_merge_result", "$scalar:merge_tdigest")

scalar("dcount_hll", 1, 1, _sketches("dcount_hll", const(LONG)), "prefix:dcount_hll")
scalar("percentile_tdigest", 2, 3, _sketches("percentile_tdigest", _percentile_tdigest), "prefix:percentile_tdigest")
# the page is percentile_array_tdigest; its syntax and Kusto.Language spell percentiles_array_tdigest
scalar("percentiles_array_tdigest", 2, -1, _sketches("percentiles_array_tdigest", const(DYNAMIC)),
       "prefix:percentile_tdigest", "percentile_array_tdigest")
scalar("rank_tdigest", 2, 2, _sketches("rank_tdigest", const(REAL)))
scalar("percentrank_tdigest", 2, 2, _sketches("percentrank_tdigest", const(REAL)))
