"""DuckDB lowerings of the aggregates family, registered with `kqlhunt.sql.aggregates.register_agg` (that
module imports this one at its end); the scalar functions that read sketches register with `register`.

Conventions shared with the core (`kqlhunt.sql.aggregates`): estimators are exact, and exact answers
sit inside Kusto's documented error bounds; percentiles are nearest-rank; an aggregate over a group
without values gives Kusto's default (summarize docs, "Default values of aggregations": 0 for
`variance`/`varianceif`/`stdev`/`stdevif`, `[]` for the make_* family, null for the others). Where
Kusto's answer is not known (a sample variance of one value, `make_list` of arrays, a weight that is
null or negative) the query stops with a KH301 refusal (`error('kqlhunt: ...')`) instead of guessing.

Sketches. Kusto's `hll()` / `tdigest()` values are opaque and their encoding unstable, so kqlhunt keeps
the exact multiset instead: hll holds the distinct values, tdigest each value with its weight. A sketch
is the text `<refusal note>\\n<JSON payload>`: functions that read sketches check the note and parse
the payload, and anything that would show a sketch (the query's output, tostring(), JSON functions)
fails on the note with a refusal, because Kusto's own encoding cannot be reproduced. (A function that
embeds a dynamic value as it is, such as bag_pack(), still sees text: the binder does not yet tell a
sketch from other dynamic values.)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import sqlglot
from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.plan.nodes import SortSpec
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import LONG, REAL, KType, array_of
from kqlhunt.sql.aggregates import _filter, _hashable, _make_collection, register_agg
from kqlhunt.sql.expressions import ExprCompiler, case, cast, fn, is_null, null, number, string
from kqlhunt.sql.functions import refuse_at_run_time, register, to_json
from kqlhunt.sql.types import physical

MAX_SIZE = 1_048_576  # make_list / make_set / make_bag: the documented default and largest size
ORDERED_SET_MAX = 100_000  # make_set keeps the arrival order of up to this many values per group
HLL_ACCURACY = range(0, 5)  # dcount / hll accuracy levels 0..4 (dcount docs, "Estimation accuracy")
NUMBERS = ("int", "long", "real", "decimal")
ORDERED = ("int", "long", "real", "datetime", "timespan")


# ---------------------------------------------------------------- SQL templates


@cache
def _parsed(template: str) -> exp.Expression:
    return sqlglot.parse_one(template, read="duckdb")


def sql(template: str, **parts: exp.Expression) -> exp.Expression:
    """A DuckDB expression from text; `:name` placeholders take the given (copied) expressions."""

    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in parts:
            return parts[node.name].copy()
        return node

    return _parsed(template).copy().transform(put, copy=False)


def let(value: exp.Expression, var: str, body: str, **parts: exp.Expression) -> exp.Expression:
    """`body` with `var` bound to `value`, evaluated once (a one-element list_transform)."""
    return sql(f"list_transform([:value], lambda {var}: {body})[1]", value=value, **parts)


refuse = refuse_at_run_time


def _nan() -> exp.Expression:
    return cast(string("nan"), "DOUBLE")


def _and(*conds: exp.Expression | None) -> exp.Expression | None:
    out: exp.Expression | None = None
    for c in conds:
        if c is not None:
            out = c if out is None else exp.And(this=out, expression=c)
    return out


def _not_null(x: exp.Expression) -> exp.Expression:
    return exp.Not(this=is_null(x))


def _count_rows() -> exp.Expression:
    return exp.Count(this=exp.Star())


def _no_rows() -> exp.Expression:
    """True only for a summarize without `by` over no rows (a group always has a row)."""
    return exp.EQ(this=_count_rows(), expression=number(0))


def _require(args: Sequence[B.BExpr], accepted: tuple[str, ...], what: str) -> None:
    for a in args:
        if a.type.name not in (*accepted, "null"):
            raise unsupported(f"{what} of a {a.type.name} value", a.span)


def _constant_int(e: B.BExpr, what: str, allowed: range) -> int:
    value = e.value if isinstance(e, B.BLit) else None
    if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
        raise unsupported(f"{what} other than a constant from {allowed.start} to {allowed.stop - 1}", e.span)
    return value


# ---------------------------------------------------------------- picking and averaging


@register_agg("anyif", "take_anyif")
def _take_anyif(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                order: tuple[SortSpec, ...]) -> exp.Expression:
    if args[0].type.name == "string":
        # like take_any(): a non-empty value when the group has one (strings are never null)
        picked = _filter(fn("any_value", fn("nullif", a[0], string(""))), a[1])
        return exp.Coalesce(this=picked, expressions=[string("")])
    return _filter(fn("any_value", a[0]), a[1])


@register_agg("avg", "avgif")
def _avg(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
         order: tuple[SortSpec, ...]) -> exp.Expression:
    cond = a[1] if name == "avgif" else None
    if args[0].type.name == "datetime":
        micros = _filter(fn("avg", fn("epoch_us", a[0])), cond)
        return fn("make_timestamp", cast(fn("round", micros), "BIGINT"))
    mean = _filter(fn("avg", a[0]), cond)
    if out.name == "timespan":
        return cast(fn("round", mean), "BIGINT")
    if out.name == "real":
        # no value to average: Kusto divides a zero sum by a zero count (NaN; summarize docs)
        return exp.Coalesce(this=cast(mean, "DOUBLE"), expressions=[_nan()])
    return cast(mean, physical(out))


# ---------------------------------------------------------------- dispersion

SAMPLE = {"stdev": "stddev_samp", "variance": "var_samp", "stdevif": "stddev_samp", "varianceif": "var_samp"}
POPULATION = {"variancepif": "var_pop"}
# The sample formulas divide by n - 1. Over no value Kusto answers 0 (summarize docs); over one value its
# answer is not documented (0 would follow the same guard), so a group with one value is refused. Set
# this to the engine's answer once it is known.
SINGLE_VALUE_SAMPLE: float | None = None


@register_agg("stdev", "variance", "stdevif", "varianceif", "variancepif")
def _dispersion(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                order: tuple[SortSpec, ...]) -> exp.Expression:
    # timespans are their ticks (as the core's stdev() always did); dynamic arrives as real (compile_agg)
    _require(args[:1], (*NUMBERS, "timespan", "dynamic"), f"{name}()")
    cond = a[1] if name.endswith("if") else None
    x = cast(a[0], "DOUBLE")
    if name in POPULATION:
        return _filter(fn(POPULATION[name], x), cond)  # null without values ("all others": null)
    values = _filter(exp.Count(this=a[0]), cond)
    single = refuse(f"{name}() of a single value") if SINGLE_VALUE_SAMPLE is None \
        else cast(number(SINGLE_VALUE_SAMPLE), "DOUBLE")
    return case((exp.EQ(this=values, expression=number(0)), cast(number(0), "DOUBLE")),
                (exp.EQ(this=values.copy(), expression=number(1)), single),
                default=_filter(fn(SAMPLE[name], x), cond))


@cache
def _named_after_both(name: str) -> bool:
    """Does the binder name `covariance(x, y)` `covariance_x_y`, as the engine does? (naming.aggregate_name
    honours the `args2` naming of these entries once it knows it; until then the default name would be
    wrong, so the function is refused.)"""
    from kqlhunt.diagnostics import Span
    from kqlhunt.semantic.functions import lookup
    from kqlhunt.semantic.naming import aggregate_name
    from kqlhunt.syntax import ast as A

    fn_ = lookup(name)
    span = Span(0, 0)
    return fn_ is not None and aggregate_name(fn_, (A.Name(span, "x"), A.Name(span, "y"))) == f"{name}_x_y"


@register_agg("covariance", "covariancep", "covarianceif", "covariancepif")
def _covariance(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                order: tuple[SortSpec, ...]) -> exp.Expression:
    if not _named_after_both(name):
        raise unsupported(f"{name}() (its result column name is not known to kqlhunt's binder yet)", args[0].span)
    _require(args[:2], NUMBERS, f"{name}()")
    cond = a[2] if name.endswith("if") else None
    x, y = cast(a[0], "DOUBLE"), cast(a[1], "DOUBLE")
    if name.startswith("covariancep"):
        return _filter(fn("covar_pop", x, y), cond)  # null without pairs ("all others": null)
    # a pair counts when both values are present (nulls are ignored, null-values docs)
    pairs = _filter(_count_rows(), _and(cond, _not_null(a[0]), _not_null(a[1])))
    single = refuse(f"{name}() of a single pair") if SINGLE_VALUE_SAMPLE is None \
        else cast(number(SINGLE_VALUE_SAMPLE), "DOUBLE")
    return case((exp.EQ(this=pairs, expression=number(1)), single),
                default=_filter(fn("covar_samp", x, y), cond))


# ---------------------------------------------------------------- bitwise accumulators

BITWISE = {"binary_all_and": "bit_and", "binary_all_or": "bit_or", "binary_all_xor": "bit_xor"}


@register_agg(*BITWISE)
def _bitwise(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
             order: tuple[SortSpec, ...]) -> exp.Expression:
    _require(args, ("int", "long"), f"{name}()")
    return fn(BITWISE[name], a[0])


# ---------------------------------------------------------------- distinct counts


@register_agg("dcount", "dcountif")
def _dcount(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
            order: tuple[SortSpec, ...]) -> exp.Expression:
    accuracy_at = 1 if name == "dcount" else 2
    if len(args) > accuracy_at:
        _constant_int(args[accuracy_at], f"{name}() with an accuracy", HLL_ACCURACY)  # exact for every level
    distinct = exp.Count(this=exp.Distinct(expressions=[_hashable(c, args[0].type, a[0], args[0])]))
    return _filter(distinct, a[1] if name == "dcountif" else None)


# ---------------------------------------------------------------- lists and sets of dynamic values

COLLECTIONS = ("make_list", "make_list_if", "make_list_with_nulls", "make_set", "make_set_if")
DEPRECATED = {"makelist": "make_list", "makeset": "make_set", "make_dictionary": "make_bag"}
DEPRECATED_MAX_SIZE = 128  # the deprecated spellings' default size limit


@register_agg(*DEPRECATED)
def _deprecated(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                order: tuple[SortSpec, ...]) -> exp.Expression:
    if len(args) == 1:
        limit = B.BLit(LONG, args[0].span, DEPRECATED_MAX_SIZE)
        args, a = (*args, limit), [*a, number(DEPRECATED_MAX_SIZE)]
    modern = DEPRECATED[name]
    lower = _make_bag if modern == "make_bag" else _collection
    return lower(c, modern, args, a, out, order)


@register_agg(*COLLECTIONS)
def _collection(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                order: tuple[SortSpec, ...]) -> exp.Expression:
    x = args[0]
    is_set = name.startswith("make_set")
    if x.type.name != "dynamic" and not is_set:
        return _make_collection(c, name, args, a, distinct=False, order=order)
    conditional = name.endswith("_if")
    cond = a[1] if conditional else None
    limit_at = 2 if conditional else 1
    limit = _constant_int(args[limit_at], f"{name}() with a size limit", range(1, MAX_SIZE + 1)) \
        if len(args) > limit_at else None
    if x.type.name != "dynamic":
        return _typed_set(x, a[0], cond, limit)
    if is_set:
        return _dynamic_set(c, x, a[0], cond, limit)
    return _dynamic_list(c, name, x, a[0], cond, order, limit)


def distinct_in_order(values: exp.Expression) -> exp.Expression:
    """The distinct values of a list in order of first appearance, as Kusto's make_set lists them (its docs
    show `[1,5,7]` and `["A1","A2","A3","C1","C2"]` for input in that order). Keeping the order costs a sort
    (value, position), so long lists, whose arrival order a parallel scan does not keep anyway, are
    de-duplicated by hashing instead (any order; Kusto documents none)."""
    numbered = "list_sort(list_transform(kh_l, lambda kh_x, kh_i: {'v': kh_x, 'i': kh_i}))"
    firsts = (f"list_transform([{numbered}], lambda kh_s: "
              "list_filter(kh_s, lambda kh_y, kh_j: kh_j = 1 OR kh_s[kh_j - 1].v <> kh_y.v))[1]")
    in_order = f"list_transform(list_sort(list_transform({firsts}, lambda kh_z: {{'i': kh_z.i, 'v': kh_z.v}})), " \
               "lambda kh_z: kh_z.v)"
    return let(values, "kh_l", f"CASE WHEN array_length(kh_l) <= :small THEN {in_order} ELSE list_distinct(kh_l) END",
               small=number(ORDERED_SET_MAX))


def _sliced(values: exp.Expression, limit: int | None) -> exp.Expression:
    return values if limit is None else fn("list_slice", values, number(1), number(limit))


def _typed_set(x: B.BExpr, value: exp.Expression, cond: exp.Expression | None, limit: int | None) -> exp.Expression:
    listed = _filter(fn("list", value), _and(cond, _not_null(value)))
    empty = cast(exp.Array(expressions=[]), f"{physical(x.type)}[]")
    return _sliced(exp.Coalesce(this=distinct_in_order(listed), expressions=[empty]), limit)


def _dynamic_list(c: ExprCompiler, name: str, x: B.BExpr, value: exp.Expression, cond: exp.Expression | None,
                  order: tuple[SortSpec, ...], limit: int | None) -> exp.Expression:
    """make_list of dynamic values: a list of the values (bags stay whole, corpus make-list-aggregation-
    function-02). Whether Kusto nests or concatenates arrays is not documented: refused."""
    if x.type.elem is not None:
        raise unsupported(f"{name}() of arrays (whether Kusto nests or concatenates them is not documented)",
                          x.span)
    keep = cond if name == "make_list_with_nulls" else _and(
        cond, _not_null(value), exp.NEQ(this=fn("json_type", value), expression=string("NULL")))
    inner: exp.Expression = value
    if order:
        inner = exp.Order(this=value, expressions=[c.ordered(s) for s in order])
    listed = _sliced(_filter(fn("list", inner), keep), limit)
    arrays = _filter(fn("bool_or", exp.EQ(this=fn("json_type", value), expression=string("ARRAY"))), cond)
    return case((arrays, refuse(f"{name}() of dynamic arrays")),
                default=exp.Coalesce(this=cast(fn("to_json", listed), "JSON"), expressions=[cast(string("[]"), "JSON")]))


def _dynamic_set(c: ExprCompiler, x: B.BExpr, value: exp.Expression, cond: exp.Expression | None,
                 limit: int | None) -> exp.Expression:
    """make_set of dynamic values: the elements of arrays join the set one by one (make_set docs, "Set from
    array column"); other values (bags, scalars) are elements themselves. Null elements: refused."""
    present = _and(cond, _not_null(value))
    refusal = refuse("make_set() of arrays holding nulls")
    if x.type.elem is not None:  # a native list: every value is an array
        elements = fn("flatten", _filter(fn("list", value), present))
        body = "CASE WHEN array_length(list_filter(kh_e, lambda kh_v: kh_v IS NULL)) > 0 THEN :refusal ELSE kh_e END"
        distinct = _sliced(distinct_in_order(let(elements, "kh_e", body, refusal=refusal)), limit)
        listed = to_json(c, x.type, distinct)
    else:
        present = _and(present, exp.NEQ(this=fn("json_type", value), expression=string("NULL")))
        each = sql("CASE WHEN json_type(:v) = 'ARRAY' THEN CAST(:v AS JSON[]) ELSE [json(:v)] END", v=value)
        elements = fn("flatten", _filter(fn("list", each), present))
        body = ("CASE WHEN array_length(list_filter(kh_e, lambda kh_v: kh_v IS NULL OR json_type(kh_v) = 'NULL')) > 0 "
                "THEN :refusal ELSE list_transform(kh_e, lambda kh_v: json(kh_v)) END")
        distinct = _sliced(distinct_in_order(let(elements, "kh_e", body, refusal=refusal)), limit)
        listed = fn("to_json", distinct)
    return exp.Coalesce(this=cast(listed, "JSON"), expressions=[cast(string("[]"), "JSON")])


# ---------------------------------------------------------------- property bags


@register_agg("make_bag", "make_bag_if")
def _make_bag(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
              order: tuple[SortSpec, ...]) -> exp.Expression:
    """The union of the group's property bags; values that are not bags are skipped. A key met in several
    bags keeps its first value (Kusto picks an arbitrary one)."""
    conditional = name == "make_bag_if"
    limit_at = 2 if conditional else 1
    limit = _constant_int(args[limit_at], f"{name}() with a size limit", range(1, MAX_SIZE + 1)) \
        if len(args) > limit_at else MAX_SIZE
    if args[0].type.elem is not None:
        return case((_no_rows(), cast(string("[]"), "JSON")), default=cast(string("{}"), "JSON"))  # arrays only
    bags = _filter(fn("list", a[0]), _and(a[1] if conditional else None,
                                          exp.EQ(this=fn("json_type", a[0]), expression=string("OBJECT"))))
    entries = sql("flatten(list_transform(:bags, lambda kh_b: map_entries(CAST(kh_b AS MAP(VARCHAR, JSON)))))",
                  bags=bags)
    # first value of each key in O(n log n): sort by (key, position), keep each key's first, restore order
    numbered = sql("list_sort(list_transform(:entries, lambda kh_x, kh_i: {'k': kh_x.key, 'i': kh_i, 'v': kh_x.value}))",
                   entries=entries)
    firsts = let(numbered, "kh_s", "list_filter(kh_s, lambda kh_y, kh_j: kh_j = 1 OR kh_s[kh_j - 1].k <> kh_y.k)")
    in_order = sql("list_transform(list_sort(list_transform(:firsts, lambda kh_z: {'i': kh_z.i, 'k': kh_z.k, "
                   "'v': kh_z.v})), lambda kh_z: {'k': kh_z.k, 'v': kh_z.v})", firsts=firsts)
    bag = sql("to_json(map_from_entries(coalesce(list_slice(:entries, 1, :limit), [])))",
              entries=in_order, limit=number(limit))
    # summarize over no rows gives `[]` for make_bag too (summarize docs, "Default values of aggregations")
    return case((_no_rows(), cast(string("[]"), "JSON")), default=cast(bag, "JSON"))


@register_agg("buildschema")
def _buildschema(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                 order: tuple[SortSpec, ...]) -> exp.Expression:
    """The schema is built by a UDF (engines/runtime/aggregates.py) from the group's values as JSON text."""
    value = to_json(c, args[0].type, a[0])
    present = _and(_not_null(value), exp.NEQ(this=fn("json_type", value), expression=string("NULL")))
    texts = _filter(fn("list", cast(value, "VARCHAR")), present)
    return case((_no_rows(), cast(null(), "JSON")), default=cast(fn("kh_buildschema", texts), "JSON"))


# ---------------------------------------------------------------- percentiles


def percents(args: Sequence[B.BExpr], what: str) -> list[float]:
    """Constant percentages, given one by one or as one constant dynamic array; each from 0 to 100."""
    values: list[object] = []
    if len(args) == 1 and args[0].type.name == "dynamic":
        if not isinstance(args[0], B.BLit) or not isinstance(args[0].value, list):
            raise unsupported(f"{what} with percentages that are not a constant array", args[0].span)
        values = list(args[0].value)
    else:
        for p in args:
            if not isinstance(p, B.BLit):
                raise unsupported(f"{what} with a non-constant percentage", p.span)
            values.append(p.value)
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= float(v) <= 100:
            raise unsupported(f"{what} with the percentage {v!r} (Kusto wants 0 to 100)", args[0].span)
        out.append(float(v))
    return out


def _percentile_type(arg: B.BExpr, what: str) -> KType:
    _require([arg], ORDERED, what)
    return LONG if arg.type.name in ("int", "null") else arg.type


@register_agg("percentiles_array")
def _percentiles_array(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression],
                       out: KType, order: tuple[SortSpec, ...]) -> exp.Expression:
    t = _percentile_type(args[0], "percentiles_array()")
    qs = exp.Array(expressions=[cast(string(repr(p / 100.0)), "DOUBLE") for p in percents(args[1:], name)])
    picked = cast(fn("quantile_disc", a[0], qs), f"{physical(t)}[]")
    return to_json(c, array_of(t), picked)


def _weighted_entries(c: ExprCompiler, args: tuple[B.BExpr, ...], a: list[exp.Expression], what: str,
                      ) -> tuple[KType, exp.Expression, exp.Expression, exp.Expression]:
    """(value type, sorted {v, w} entries, total weight, refusal condition) of a weighted percentile."""
    t = _percentile_type(args[0], what)
    _require(args[1:2], ("int", "long"), f"{what} weight")
    value, weight = cast(a[0], physical(t)), cast(a[1], "BIGINT")
    present = _not_null(a[0])
    entries = fn("list_sort", _filter(fn("list", sql("{'v': :v, 'w': :w}", v=value, w=weight)), present))
    total = _filter(fn("sum", weight), present)
    bad = _filter(fn("bool_or", sql(":w IS NULL OR :w < 0", w=weight)), present)
    return t, entries, total, bad


def weighted_pick(entries: exp.Expression, total: exp.Expression, percent: float | exp.Expression,
                  t: KType) -> exp.Expression:
    """Nearest rank over weighted values: each value counts `w` times; the smallest value whose cumulative
    weight reaches ceil(P/100 * total) (at least 1), as percentile() ranks unweighted values."""
    p = cast(string(repr(percent)), "DOUBLE") if isinstance(percent, float) else cast(percent, "DOUBLE")
    rank = sql("greatest(1, CAST(ceil(:p / 100.0 * :total) AS BIGINT))", p=p, total=total)
    return sql("list_reduce(:entries, lambda kh_acc, kh_e: {'c': kh_acc.c + kh_e.w, 'a': CASE WHEN "
               "kh_acc.c < :rank AND kh_acc.c + kh_e.w >= :rank THEN kh_e.v ELSE kh_acc.a END}, "
               f"{{'c': CAST(0 AS BIGINT), 'a': CAST(NULL AS {physical(t)})}}).a",
               entries=entries, rank=rank)


@register_agg("$percentilew")
def _percentilew(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                 order: tuple[SortSpec, ...]) -> exp.Expression:
    (p,) = percents(args[2:], "percentilew()")
    t, entries, total, bad = _weighted_entries(c, args, a, "percentilew()")
    return case((bad, refuse("percentilew() with a null or negative weight")),
                default=cast(weighted_pick(entries, total, p, t), physical(out)))


@register_agg("percentilesw_array")
def _percentilesw_array(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression],
                        out: KType, order: tuple[SortSpec, ...]) -> exp.Expression:
    ps = percents(args[2:], name)
    t, entries, total, bad = _weighted_entries(c, args, a, "percentilesw_array()")
    picks = exp.Array(expressions=[weighted_pick(col_ref("kh_s"), total, p, t) for p in ps])
    listed = sql("list_transform([:entries], lambda kh_s: :picks)[1]", entries=entries, picks=picks)
    return case((bad, refuse("percentilesw_array() with a null or negative weight")),
                default=to_json(c, array_of(t), listed))


def col_ref(var: str) -> exp.Expression:
    """A lambda variable (unquoted, unlike a column)."""
    return exp.Column(this=exp.to_identifier(var))


# ---------------------------------------------------------------- sketches

# short: DuckDB quotes only the first ~47 characters of text that is not JSON in its error message
SKETCH_NOTE = {
    "hll": "kqlhunt: an hll() sketch cannot be shown",
    "tdigest": "kqlhunt: a tdigest() sketch cannot be shown",
}


def _sketch(kind: str, payload: exp.Expression) -> exp.Expression:
    """A sketch value: the refusal note, a newline, the payload's JSON text."""
    return exp.DPipe(this=string(SKETCH_NOTE[kind] + "\n"), expression=cast(payload, "VARCHAR"))


def _payload(kind: str, sketch: exp.Expression, reader: str) -> exp.Expression:
    """The JSON payload of a sketch made by this query's hll() / tdigest(); null stays null."""
    prefix = string(SKETCH_NOTE[kind] + "\n")
    return sql("CASE WHEN :s IS NULL THEN NULL WHEN starts_with(CAST(:s AS VARCHAR), :prefix) "
               "THEN CAST(substr(CAST(:s AS VARCHAR), :start) AS JSON) ELSE :refusal END",
               s=sketch, prefix=prefix, start=number(len(SKETCH_NOTE[kind]) + 2),
               refusal=refuse(f"{reader}() of a value that is not a {kind}() sketch made by this query"))


def _merged(kind: str, payloads: exp.Expression) -> exp.Expression:
    """One sketch from a list of payloads (nulls skipped; null when none): hll keeps the distinct values of
    all, tdigest all values with their weights. Mixed accuracies / value types are refused."""
    if kind == "hll":
        body = ("CASE WHEN array_length(kh_ps) = 0 THEN NULL "
                "WHEN array_length(list_distinct(list_transform(kh_ps, lambda kh_p: kh_p->>'a'))) > 1 THEN :refusal "
                "ELSE to_json({'a': kh_ps[1]->'a', 'v': list_distinct(flatten(list_transform(kh_ps, "
                "lambda kh_p: CAST(kh_p->'v' AS JSON[]))))}) END")
        refusal = refuse("merging hll() sketches of different accuracies")
    else:
        body = ("CASE WHEN array_length(kh_ps) = 0 THEN NULL "
                "WHEN array_length(list_distinct(list_transform(kh_ps, lambda kh_p: kh_p->>'t'))) > 1 THEN :refusal "
                "ELSE to_json({'t': kh_ps[1]->>'t', "
                "'v': flatten(list_transform(kh_ps, lambda kh_p: CAST(kh_p->'v' AS JSON[]))), "
                "'w': flatten(list_transform(kh_ps, lambda kh_p: CAST(kh_p->'w' AS BIGINT[])))}) END")
        refusal = refuse("merging tdigest() sketches of different value types")
    present = sql("list_filter(:ps, lambda kh_p: kh_p IS NOT NULL)", ps=payloads)
    merged = let(fn("coalesce", present, sql("CAST([] AS JSON[])")), "kh_ps", body, refusal=refusal)
    return case((is_null(merged), cast(null(), "VARCHAR")), default=_sketch(kind, merged))


@register_agg("hll", "hll_if")
def _hll(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
         order: tuple[SortSpec, ...]) -> exp.Expression:
    accuracy_at = 1 if name == "hll" else 2
    accuracy = _constant_int(args[accuracy_at], f"{name}() with an accuracy", HLL_ACCURACY) \
        if len(args) > accuracy_at else 1
    hashed = _hashable(c, args[0].type, a[0], args[0])
    values = _filter(fn("list", exp.Distinct(expressions=[hashed])),
                     _and(a[1] if name == "hll_if" else None, _not_null(a[0])))
    payload = sql("to_json({'a': :a, 'v': coalesce(:v, [])})", a=number(accuracy), v=values)
    # summarize over no rows: null (summarize docs, hll_x)
    return case((_no_rows(), cast(null(), "VARCHAR")), default=_sketch("hll", payload))


@register_agg("hll_merge")
def _hll_merge(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
               order: tuple[SortSpec, ...]) -> exp.Expression:
    payloads = _filter(fn("list", _payload("hll", a[0], name)), _not_null(a[0]))
    return _merged("hll", payloads)


@register("$scalar:hll_merge")
def _hll_merge_scalar(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return _merged("hll", exp.Array(expressions=[_payload("hll", x, "hll_merge") for x in a]))


@register("dcount_hll")
def _dcount_hll(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return sql("CAST(array_length(CAST(:p->'v' AS JSON[])) AS BIGINT)", p=_payload("hll", a[0], "dcount_hll"))


# tdigest payloads keep integers (int, long, datetime as microseconds, timespan as ticks) exactly
TDIGEST_KIND = {"int": "long", "long": "long", "real": "real", "datetime": "datetime", "timespan": "timespan"}


@register_agg("tdigest")
def _tdigest(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
             order: tuple[SortSpec, ...]) -> exp.Expression:
    _require(args[:1], ORDERED, "tdigest()")
    kind = TDIGEST_KIND.get(args[0].type.name, "long")
    value = fn("epoch_us", a[0]) if kind == "datetime" else a[0]
    value = cast(value, "DOUBLE" if kind == "real" else "BIGINT")
    present = _not_null(a[0])
    if len(args) == 1:
        counts = _filter(fn("histogram", value), present)  # each distinct value once, with its count
        values, weights = fn("map_keys", counts), fn("map_values", counts)
        bad: exp.Expression = exp.false()
    else:
        _require(args[1:], ("int", "long"), "tdigest() weight")
        weight = cast(a[1], "BIGINT")
        entries = _filter(fn("list", sql("{'v': :v, 'w': :w}", v=value, w=weight)), present)
        values = sql("list_transform(:e, lambda kh_x: kh_x.v)", e=entries)
        weights = sql("list_transform(:e, lambda kh_x: kh_x.w)", e=entries)
        bad = _filter(fn("bool_or", sql(":w IS NULL OR :w < 0", w=weight)), present)
    if kind == "real":
        bad = exp.Or(this=bad, expression=_filter(fn("bool_or", fn("isnan", a[0])), present))
    payload = sql("to_json({'t': :t, 'v': coalesce(:v, []), 'w': coalesce(:w, [])})",
                  t=string(kind), v=values, w=weights)
    return case((_no_rows(), cast(null(), "VARCHAR")),  # summarize over no rows: null (summarize docs)
                (exp.EQ(this=fn("coalesce", bad, exp.false()), expression=exp.true()),
                 refuse("tdigest() with a NaN value or a null or negative weight")),
                default=_sketch("tdigest", payload))


@register_agg("tdigest_merge")
def _tdigest_merge(c: ExprCompiler, name: str, args: tuple[B.BExpr, ...], a: list[exp.Expression], out: KType,
                   order: tuple[SortSpec, ...]) -> exp.Expression:
    payloads = _filter(fn("list", _payload("tdigest", a[0], name)), _not_null(a[0]))
    return _merged("tdigest", payloads)


@register("$scalar:tdigest_merge")
def _tdigest_merge_scalar(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return _merged("tdigest", exp.Array(expressions=[_payload("tdigest", x, "merge_tdigest") for x in a]))


def _sorted_entries(payload_var: str, physical_type: str) -> exp.Expression:
    return sql(f"list_sort(list_transform(list_zip(CAST({payload_var}->'v' AS {physical_type}[]), "
               f"CAST({payload_var}->'w' AS BIGINT[])), lambda kh_z: "
               "{'v': struct_extract(kh_z, 1), 'w': struct_extract(kh_z, 2)}))")


def _total(payload_var: str) -> exp.Expression:
    return sql(f"coalesce(list_sum(CAST({payload_var}->'w' AS BIGINT[])), 0)")


def _picks_json(payload_var: str, percents_: list[exp.Expression | float]) -> exp.Expression:
    """Each percentile of the payload's values as dynamic values (datetimes and timespans as Kusto prints
    them), in a JSON array."""
    total = _total(payload_var)
    ints = _sorted_entries(payload_var, "BIGINT")
    reals = _sorted_entries(payload_var, "DOUBLE")

    def each(render: str, entries: exp.Expression, t: KType) -> exp.Expression:
        items = [sql(render, x=weighted_pick(entries, total, p, t)) for p in percents_]
        return fn("to_json", exp.Array(expressions=items))

    return sql(f"CASE {payload_var}->>'t' WHEN 'real' THEN :reals WHEN 'datetime' THEN :dts "
               "WHEN 'timespan' THEN :tss ELSE :longs END",
               reals=each(":x", reals, REAL),
               dts=each("kh_datetime_json(make_timestamp(:x))", ints, LONG),
               tss=each("kh_timespan_str(:x)", ints, LONG),
               longs=each(":x", ints, LONG))


def _percent_arg(e: B.BExpr, sql_: exp.Expression, what: str) -> exp.Expression | float:
    if isinstance(e, B.BLit):
        return percents([e], what)[0] if e.value is not None else sql("CAST(NULL AS DOUBLE)")
    _require([e], NUMBERS, f"{what} percentage")
    return sql("CASE WHEN :p < 0 OR :p > 100 THEN :refusal ELSE CAST(:p AS DOUBLE) END", p=sql_,
               refusal=refuse(f"{what} with a percentage outside 0..100"))


TYPED_KIND = {"int": "long", "long": "long", "real": "real", "datetime": "datetime", "timespan": "timespan"}


@register("percentile_tdigest", raw=True)  # raw: typeof(T) is no value to compile
def _percentile_tdigest(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    a = [c.compile(x) for x in e.args[:2]]
    percent = _percent_arg(e.args[1], a[1], "percentile_tdigest()")
    payload = _payload("tdigest", a[0], "percentile_tdigest")
    if len(e.args) == 2:
        body = _picks_json("kh_p", [percent])
        return cast(let(payload, "kh_p", "CAST(json_extract(:arr, '$[0]') AS JSON)", arr=body), "JSON")
    t = e.type
    if t.name not in TYPED_KIND:
        raise unsupported(f"percentile_tdigest() as {t.name}", e.args[2].span)
    kind = TYPED_KIND[t.name]
    entries = _sorted_entries("kh_p", "DOUBLE" if kind == "real" else "BIGINT")
    picked = weighted_pick(entries, _total("kh_p"), percent, REAL if kind == "real" else LONG)
    if kind == "datetime":
        picked = fn("make_timestamp", picked)
    body = ("CASE WHEN kh_p IS NULL THEN NULL WHEN kh_p->>'t' <> :kind THEN :refusal ELSE CAST(:picked AS "
            f"{physical(t)}) END")
    return let(payload, "kh_p", body, kind=string(kind), picked=picked,
               refusal=refuse(f"percentile_tdigest() as {t.name} of a tdigest() of another type"))


@register("percentiles_array_tdigest", raw=True)  # raw: a trailing typeof(T) is no value to compile
def _percentiles_array_tdigest(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    rest = e.args[1:]
    if rest and isinstance(rest[-1], B.BType):
        raise unsupported("percentiles_array_tdigest() with a result type", rest[-1].span)
    a = [c.compile(e.args[0])]
    ps: list[exp.Expression | float] = list(percents(rest, "percentiles_array_tdigest()"))
    payload = _payload("tdigest", a[0], "percentiles_array_tdigest")
    return cast(let(payload, "kh_p", "CASE WHEN kh_p IS NULL THEN NULL ELSE :arr END",
                    arr=_picks_json("kh_p", ps)), "JSON")


def _rank(e: B.BCall, a: list[exp.Expression], reader: str) -> tuple[exp.Expression, str]:
    """(payload-bound expression of the weight at or below the value, its body's variable) for rank_tdigest
    and percentrank_tdigest: the value must be of the sketch's type (numbers compare across int/long/real)."""
    vt = e.args[1].type.name
    if vt in ("int", "long"):
        value, kinds, numeric = cast(a[1], "BIGINT"), ("long", "real"), True
    elif vt == "real":
        value, kinds, numeric = cast(a[1], "DOUBLE"), ("long", "real"), True
    elif vt == "datetime":
        value, kinds, numeric = fn("epoch_us", a[1]), ("datetime",), False
    elif vt == "timespan":
        value, kinds, numeric = a[1], ("timespan",), False
    else:
        raise unsupported(f"{reader}() of a {vt} value", e.args[1].span)
    ints, reals = _sorted_entries("kh_p", "BIGINT"), _sorted_entries("kh_p", "DOUBLE")
    at_or_below = ("list_sum(list_transform(:entries, lambda kh_e: CASE WHEN kh_e.v <= :value THEN kh_e.w "
                   "ELSE 0 END))")
    rank_int = sql(f"coalesce({at_or_below}, 0)", entries=ints, value=value)
    rank_real = sql(f"coalesce({at_or_below}, 0)", entries=reals, value=cast(value, "DOUBLE"))
    rank = sql("CASE WHEN kh_p->>'t' = 'real' THEN :r ELSE :i END", r=rank_real, i=rank_int) if numeric \
        else rank_int
    wrong_kind = exp.Not(this=exp.In(this=sql("kh_p->>'t'"), expressions=[string(k) for k in kinds]))
    return sql("CASE WHEN :wrong THEN :refusal ELSE CAST(:rank AS DOUBLE) END", wrong=wrong_kind, rank=rank,
               refusal=refuse(f"{reader}() of a {vt} value in a tdigest() of another type")), vt


@register("rank_tdigest")
def _rank_tdigest(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    rank, _ = _rank(e, a, "rank_tdigest")
    body = "CASE WHEN kh_p IS NULL OR :v IS NULL THEN NULL ELSE :rank END"
    return let(_payload("tdigest", a[0], "rank_tdigest"), "kh_p", body, v=a[1], rank=rank)


@register("percentrank_tdigest")
def _percentrank_tdigest(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    rank, _ = _rank(e, a, "percentrank_tdigest")
    body = ("CASE WHEN kh_p IS NULL OR :v IS NULL THEN NULL WHEN :total = 0 THEN :refusal "
            "ELSE :rank * 100.0 / :total END")
    return let(_payload("tdigest", a[0], "percentrank_tdigest"), "kh_p", body, v=a[1], rank=rank,
               total=_total("kh_p"), refusal=refuse("percentrank_tdigest() of an empty tdigest()"))


__all__ = ["percents", "refuse", "sql", "weighted_pick"]
