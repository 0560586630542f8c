"""Lowerings of KQL scalar functions and operators to DuckDB SQL, keyed like the semantic function table.

Each entry takes the compiler, the bound call (for argument types and constant arguments) and the
already-compiled arguments. Where Kusto and DuckDB differ the lowering says how it bridges them;
where kqlhunt cannot be exact it refuses (`unsupported`) instead of answering differently.
"""

from __future__ import annotations

import re

from sqlglot import exp

from kqlhunt.diagnostics import runtime_refusal, unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import KType
from kqlhunt.sql.expressions import (
    ExprCompiler,
    Lowering,
    case,
    cast,
    col,
    fn,
    is_null,
    lam,
    null,
    number,
    paren,
    string,
    try_cast,
)
from kqlhunt.sql.types import data_type, physical

LOWERINGS: dict[str, Lowering] = {}
RAW_ARGS: set[str] = set()  # lowerings that compile their own arguments

TICKS_PER_MICRO = 10
EPOCH_TICKS = 621_355_968_000_000_000  # ticks from 0001-01-01 to 1970-01-01 (Kusto's bin origin)
ALNUM = r"\p{L}\p{N}"  # Kusto's terms are runs of (Unicode) letters and digits


def register(*names: str, raw: bool = False):
    def deco(f: Lowering) -> Lowering:
        for n in names:
            LOWERINGS[n] = f
            if raw:
                RAW_ARGS.add(n)
        return f

    return deco


def refuse_at_run_time(what: str, sql_type: str | None = None) -> exp.Expression:
    """SQL that stops the query when a row reaches a case whose Kusto answer is unknown (KH301, never a
    guess); `sql_type` types the expression where a branch of CASE needs it."""
    stop = fn("error", string(runtime_refusal(what)))
    return cast(stop, sql_type) if sql_type else stop


def const_str(e: B.BExpr) -> str | None:
    return e.value if isinstance(e, B.BLit) and isinstance(e.value, str) else None


def const_value(e: B.BExpr) -> object:
    return e.value if isinstance(e, B.BLit) else None


def is_list(t: KType) -> bool:
    return t.name == "dynamic" and t.elem is not None


# ---------------------------------------------------------------- conversions


def to_string(c: ExprCompiler, t: KType, e: exp.Expression) -> exp.Expression:
    """Kusto's tostring(): never null (null -> ""), Kusto's text for each type."""
    match t.name:
        case "string":
            return e
        case "guid":
            return exp.Coalesce(this=e, expressions=[string("")])
        case "null":
            return string("")
        case "int" | "long":
            return exp.Coalesce(this=cast(e, "VARCHAR"), expressions=[string("")])
        case "bool":
            # measured on the Kusto engine (duckdb-kql's emulator runs): tostring(true) is "True"
            return case((e, string("True")), (exp.Not(this=e), string("False")), default=string(""))
        case "real":
            return exp.Coalesce(this=fn("kh_real_str", e), expressions=[string("")])
        case "decimal":
            return exp.Coalesce(this=cast(e, "VARCHAR"), expressions=[string("")])
        case "datetime":
            return exp.Coalesce(this=fn("kh_datetime_str", e), expressions=[string("")])
        case "timespan":
            return exp.Coalesce(this=fn("kh_timespan_str", e), expressions=[string("")])
        case "dynamic":
            return exp.Coalesce(this=fn("kh_json_str", to_json(c, t, e)), expressions=[string("")])
    raise unsupported(f"tostring() of {t.name}", None)


def to_json(c: ExprCompiler, t: KType, e: exp.Expression) -> exp.Expression:
    """Any value as a JSON dynamic (lists of datetimes/timespans printed as Kusto does)."""
    if t.name == "dynamic" and t.elem is None:
        return e
    if t.name == "dynamic":
        elem = t.elem
        assert elem is not None
        if elem.name in ("datetime", "timespan"):
            body = fn("kh_datetime_json" if elem.name == "datetime" else "kh_timespan_str", col("x"))
            return cast(fn("to_json", fn("list_transform", e, lam("x", body))), "JSON")
        return cast(fn("to_json", e), "JSON")
    if t.name == "datetime":
        return cast(fn("to_json", fn("kh_datetime_json", e)), "JSON")
    if t.name == "timespan":
        return cast(fn("to_json", fn("kh_timespan_str", e)), "JSON")
    if t.name == "null":
        return cast(null(), "JSON")
    return cast(fn("to_json", e), "JSON")


def as_list(c: ExprCompiler, t: KType, e: exp.Expression, what: str, span, elem: str | None = None) -> exp.Expression:
    """A dynamic array as a native list (JSON arrays are cast; what is not an array becomes null)."""
    if is_list(t):
        return e if elem is None else cast(e, f"{elem}[]")
    if t.name == "dynamic":
        target = elem or "JSON"
        return case((exp.EQ(this=fn("json_type", e), expression=string("ARRAY")), try_cast(e, f"{target}[]")),
                    default=cast(null(), f"{target}[]"))
    raise unsupported(f"{what} of a {t.name} value", span)


def arg_string(c: ExprCompiler, e: B.BExpr, sql: exp.Expression) -> exp.Expression:
    return sql if e.type.name == "string" else to_string(c, e.type, sql)


# ---------------------------------------------------------------- arithmetic and comparison


def _bigint(t: KType, e: exp.Expression) -> exp.Expression:
    return cast(e, "BIGINT") if t.name == "int" else e


def _double(t: KType, e: exp.Expression) -> exp.Expression:
    return cast(e, "DOUBLE") if t.name in ("int", "long") else e


def _never_null(e: B.BExpr) -> bool:
    return e.type.name == "string" or (isinstance(e, B.BLit) and e.value is not None)


@register("and")
def and_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return paren(exp.And(this=a[0], expression=a[1]))


@register("or")
def or_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return paren(exp.Or(this=a[0], expression=a[1]))


@register("not")
def not_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return paren(exp.Not(this=a[0]))


@register("between", "!between")
def between(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    x, lo, hi = a
    if e.args[0].type.name == "datetime" and e.args[2].type.name == "timespan":
        plus = B.BCall(e.args[0].type, e.span, "+", (e.args[1], e.args[2]))
        hi = LOWERINGS["+"](c, plus, [lo, hi])  # the arithmetic family's datetime + timespan
    out = exp.Between(this=x, low=lo, high=hi)
    return paren(exp.Not(this=paren(out))) if e.fn.startswith("!") else paren(out)


# ---------------------------------------------------------------- string operators


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(x: exp.Expression, pattern: str, ci: bool) -> exp.Expression:
    node = exp.ILike if ci else exp.Like
    like = node(this=x, expression=string(pattern))
    # an ESCAPE clause keeps DuckDB off its fast prefix/suffix/contains paths: only add it when needed
    return exp.Escape(this=like, expression=string("\\")) if "\\" in pattern else like


def _term_regex(term: str, ci: bool, prefix: bool = True, suffix: bool = True) -> str:
    """Kusto's `has`: the needle occurs bounded by non-alphanumeric characters (or the ends)."""
    body = re.escape(term)
    if prefix and term and term[0].isalnum():
        body = f"(?:^|[^{ALNUM}]){body}"
    if suffix and term and term[-1].isalnum():
        body = f"{body}(?:$|[^{ALNUM}])"
    return ("(?i)" if ci else "") + body


def _string_op(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    op = e.fn
    negated = op.startswith("!")
    base = op.lstrip("!")
    ci = not base.endswith("_cs")
    kind = base.removesuffix("_cs")
    x = arg_string(c, e.args[0], a[0])
    needle_const = const_str(e.args[1])
    if needle_const is None and e.args[1].type.name != "string" and isinstance(e.args[1], B.BLit):
        needle_const = str(e.args[1].value)
    if kind == "matches regex":
        if needle_const is None:
            raise unsupported("`matches regex` with a non-constant pattern", e.span)
        out = fn("regexp_matches", x, string(kusto_regex(needle_const)))
    elif kind == "=~":
        y = arg_string(c, e.args[1], a[1])
        out = exp.EQ(this=fn("lower", x), expression=string(needle_const.lower()) if needle_const is not None
                     else fn("lower", y))
        negated = op == "!~"
    elif needle_const is not None:
        out = _const_string_op(kind, x, needle_const, ci)
    else:
        y = arg_string(c, e.args[1], a[1])
        xx, yy = (fn("lower", x), fn("lower", y)) if ci else (x, y)
        match kind:
            case "contains":
                out = fn("contains", xx, yy)
            case "startswith":
                out = fn("starts_with", xx, yy)
            case "endswith":
                out = fn("suffix", xx, yy)
            case "has":
                out = fn("kh_has" if ci else "kh_has_cs", x, y)
            case _:
                raise unsupported(f"`{op}` with a non-constant right-hand side", e.span)
    return paren(exp.Not(this=paren(out))) if negated else paren(out)


def _const_string_op(kind: str, x: exp.Expression, needle: str, ci: bool) -> exp.Expression:
    esc = _escape_like(needle)
    match kind:
        case "contains":
            return _like(x, f"%{esc}%", ci)
        case "startswith":
            return _like(x, f"{esc}%", ci)
        case "endswith":
            return _like(x, f"%{esc}", ci)
        case "has":
            if not needle:
                return exp.Boolean(this=True)
            # a value equal to the term is the common case (Protocol has "tcp"): test it first; then the
            # LIKE prefilter is cheap and lets most other rows skip the regex
            found = exp.And(this=_like(x, f"%{esc}%", ci), expression=fn("regexp_matches", x, string(
                _term_regex(needle, ci))))
            return paren(exp.Or(this=_like(x, esc, ci), expression=paren(found)))
        case "hasprefix":
            return paren(exp.And(this=_like(x, f"%{esc}%", ci),
                                 expression=fn("regexp_matches", x, string(_term_regex(needle, ci, suffix=False)))))
        case "hassuffix":
            return paren(exp.And(this=_like(x, f"%{esc}%", ci),
                                 expression=fn("regexp_matches", x, string(_term_regex(needle, ci, prefix=False)))))
    raise unsupported(f"the `{kind}` operator", None)


for _op in ("has", "has_cs", "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs", "contains", "contains_cs",
            "startswith", "startswith_cs", "endswith", "endswith_cs", "matches regex", "=~", "!~"):
    register(_op)(_string_op)
    if not _op.startswith("=") and _op != "matches regex" and _op != "!~":
        register("!" + _op)(_string_op)


def _expand_values(c: ExprCompiler, items: tuple[B.BExpr, ...], span) -> list[tuple[B.BExpr, exp.Expression]] | None:
    """Constant `in` lists, with dynamic arrays flattened; None when some item is not constant."""
    out: list[tuple[B.BExpr, exp.Expression]] = []
    flat: list[B.BExpr] = []
    for it in items:  # pack_array() of constants (`let urls = pack_array("a", "b")`) is a constant list too
        if isinstance(it, B.BCall) and it.fn == "pack_array" and all(isinstance(a, B.BLit) for a in it.args):
            flat.extend(it.args)
        else:
            flat.append(it)
    for it in flat:
        if isinstance(it, B.BLit) and it.type.name == "dynamic":
            values = it.value if isinstance(it.value, list) else [it.value]
            for v in values:
                lit = _scalar_lit(it, v)
                out.append((lit, c.literal(lit)))
        elif isinstance(it, B.BLit):
            out.append((it, c.literal(it)))
        else:
            return None
    return out


def _scalar_lit(parent: B.BLit, v: object) -> B.BLit:
    from datetime import datetime

    from kqlhunt.semantic.types import BOOL, DATETIME, LONG, REAL, STRING
    t = STRING if isinstance(v, str) else BOOL if isinstance(v, bool) else LONG if isinstance(v, int) else (
        REAL if isinstance(v, float) else DATETIME if isinstance(v, datetime) else None)
    if t is None:
        raise unsupported("a non-scalar value inside an `in` list", parent.span)
    return B.BLit(t, parent.span, v)


@register("in", "!in", "in~", "!in~", raw=True)
def in_list(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    left_e = e.args[0]
    x = c.compile(left_e)
    ci = e.fn.endswith("~")
    negated = e.fn.startswith("!")
    from kqlhunt.plan.lower import PColumn

    if len(e.args) == 2 and isinstance(e.args[1], PColumn):
        return _in_subquery(c, e, x, e.args[1], ci, negated)
    values = _expand_values(c, e.args[1:], e.span)
    if values is None:
        if len(e.args) == 2 and is_list(e.args[1].type):
            lst = c.compile(e.args[1])
            if ci:
                lst = fn("list_transform", lst, lam("v", fn("lower", col("v"))))
                x = fn("lower", x)
            out: exp.Expression = fn("coalesce", fn("list_contains", lst, x), exp.Boolean(this=False))
            return paren(exp.Not(this=out)) if negated else paren(out)
        if len(e.args) == 2 and e.args[1].type.name == "dynamic" and (
                left_e.type.name == "string" or left_e.type.is_numeric):
            # a dynamic array known at run time (toscalar(... make_set ...), split(...)): its elements
            elem = "VARCHAR" if left_e.type.name == "string" else "DOUBLE"
            lst = as_list(c, e.args[1].type, c.compile(e.args[1]), f"`{e.fn}`", e.span, elem=elem)
            if ci:
                lst = fn("list_transform", lst, lam("v", fn("lower", col("v"))))
                x = fn("lower", arg_string(c, left_e, x))
            found = fn("coalesce", fn("list_contains", lst, x), exp.Boolean(this=False))
            return paren(exp.Not(this=found)) if negated else paren(found)
        if any(v.type.name == "dynamic" for v in e.args[1:]):
            raise unsupported(f"`{e.fn}` over a dynamic value that is not a constant array", e.span)
        vals = [c.compile(v) for v in e.args[1:]]
        if ci:
            x = fn("lower", arg_string(c, left_e, x))
            vals = [fn("lower", v) for v in vals]
        out = exp.In(this=x, expressions=vals)
        return paren(exp.Not(this=paren(out))) if negated else paren(out)
    if not values:
        return exp.Boolean(this=negated)
    if left_e.type.name == "dynamic":
        x = fn("json_extract_string", x, string("$"))
    if ci or left_e.type.name == "string":
        x = arg_string(c, left_e, x) if left_e.type.name != "dynamic" else x
        texts = [str(lit.value).lower() if ci else str(lit.value) for lit, _ in values]
        if ci:
            x = fn("lower", x)
        out = exp.In(this=x, expressions=[string(t) for t in texts])
    else:
        out = exp.In(this=x, expressions=[sql for _, sql in values])
    if not _never_null(left_e) and all(lit.value is not None for lit, _ in values):
        # `in` is an OR of == and `!in` an AND of !=: a null value is never in a list of non-null values
        out = exp.Coalesce(this=paren(out), expressions=[exp.Boolean(this=False)])
    return paren(exp.Not(this=paren(out))) if negated else paren(out)


def _in_subquery(c: ExprCompiler, e: B.BCall, x: exp.Expression, sub: B.BExpr, ci: bool,
                 negated: bool) -> exp.Expression:
    """`x in (T | ...)`: membership in the first column of T. Kusto's `in` is an OR of == and `!in` an AND
    of != (null == value is false), so nulls on either side never make the answer null."""
    node = sub.node  # type: ignore[attr-defined]
    first = node.columns[0]
    value: exp.Expression = col(first.name)
    if first.type.name != e.args[0].type.name and not (first.type.is_numeric and e.args[0].type.is_numeric):
        if "string" not in (first.type.name, e.args[0].type.name):
            raise unsupported(f"`{e.fn}` between {e.args[0].type} and a column of {first.type}", e.span)
        value = to_string(c, first.type, value)
        x = arg_string(c, e.args[0], x)
    if ci:
        value, x = fn("lower", value), fn("lower", x)
    wanted = exp.Select().select(value, copy=False).from_(
        exp.Table(this=exp.to_identifier(c.owner.node(node), quoted=True)), copy=False).where(
        exp.Not(this=is_null(col(first.name))), copy=False)
    found = exp.Coalesce(this=exp.In(this=x, query=exp.Subquery(this=wanted)), expressions=[exp.Boolean(this=False)])
    return paren(exp.Not(this=found)) if negated else paren(found)


@register("has_any", "has_all", raw=True)
def has_any(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    x = arg_string(c, e.args[0], c.compile(e.args[0]))
    values = _expand_values(c, e.args[1:], e.span)
    if values is None:
        return _has_any_dynamic(c, e, x)
    tests = [_const_string_op("has", x, str(lit.value), True) for lit, _ in values]
    if not tests:
        return exp.Boolean(this=e.fn == "has_all")
    out = tests[0]
    for t in tests[1:]:
        out = exp.Or(this=out, expression=t) if e.fn == "has_any" else exp.And(this=out, expression=t)
    return paren(out)


def _has_any_dynamic(c: ExprCompiler, e: B.BCall, x: exp.Expression) -> exp.Expression:
    """has_any / has_all whose terms are known only at run time: a table's first column (`has_any (T)`),
    dynamic arrays, or string values. Each term is tested with Kusto's `has` (kh_has)."""
    from kqlhunt.plan.lower import PColumn

    tests: list[exp.Expression] = []
    for arg in e.args[1:]:
        if isinstance(arg, PColumn):
            if e.fn == "has_all":
                raise unsupported("`has_all` with a tabular subquery", e.span)
            node = arg.node
            first = node.columns[0]
            term = to_string(c, first.type, col(first.name)) if first.type.name != "string" else col(first.name)
            match = exp.Select().select(exp.Literal.number(1), copy=False).from_(
                exp.Table(this=exp.to_identifier(c.owner.node(node), quoted=True)), copy=False).where(
                exp.And(this=exp.Not(this=is_null(col(first.name))), expression=fn("kh_has", x, term)), copy=False)
            tests.append(exp.Exists(this=match))
        elif arg.type.name == "dynamic":
            terms = as_list(c, arg.type, c.compile(arg), f"`{e.fn}`", e.span, elem="VARCHAR")
            checked = fn("list_transform", terms, lam("t", fn("coalesce", fn("kh_has", x, col("t")),
                                                             exp.Boolean(this=False))))
            tests.append(fn("coalesce", fn("list_bool_or" if e.fn == "has_any" else "list_bool_and", checked),
                            exp.Boolean(this=e.fn == "has_all")))
        elif arg.type.name == "string":
            tests.append(fn("coalesce", fn("kh_has", x, c.compile(arg)), exp.Boolean(this=False)))
        else:
            raise unsupported(f"`{e.fn}` with non-constant {arg.type} values", e.span)
    out = tests[0]
    for t in tests[1:]:
        out = exp.Or(this=out, expression=t) if e.fn == "has_any" else exp.And(this=out, expression=t)
    return paren(out)


# ---------------------------------------------------------------- scalar functions


@register("ago")
def ago(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    delta = fn("to_microseconds", exp.IntDiv(this=a[0], expression=exp.Literal.number(TICKS_PER_MICRO)))
    return paren(exp.Sub(this=c.now, expression=delta))


@register("ingestion_time")
def ingestion_time(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # documented: a table without an IngestionTime policy answers null; files and lakes have no such policy
    return cast(null(), "TIMESTAMP")


@register("now")
def now(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    if a:
        delta = fn("to_microseconds", exp.IntDiv(this=a[0], expression=exp.Literal.number(TICKS_PER_MICRO)))
        return paren(exp.Add(this=c.now, expression=delta))
    return c.now


def _isempty(c: ExprCompiler, t: KType, x: exp.Expression) -> exp.Expression:
    if t.name == "string":
        return paren(exp.Or(this=is_null(x), expression=exp.EQ(this=x, expression=string(""))))
    if t.name == "dynamic" and t.elem is None:
        return paren(exp.Or(this=is_null(x), expression=exp.In(
            this=cast(x, "VARCHAR"), expressions=[string("null"), string('""')])))
    return is_null(x)


@register("isempty")
def isempty(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return _isempty(c, e.args[0].type, a[0])


@register("isnotempty")
def isnotempty(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return paren(exp.Not(this=_isempty(c, e.args[0].type, a[0])))


@register("isnull")
def isnull(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type
    if t.name == "string":
        return exp.Boolean(this=False)
    if t.name == "dynamic" and t.elem is None:
        return paren(exp.Or(this=is_null(a[0]), expression=exp.EQ(this=cast(a[0], "VARCHAR"), expression=string("null"))))
    return is_null(a[0])


@register("isnotnull")
def isnotnull(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return paren(exp.Not(this=isnull(c, e, a)))


def _simple(sql_name: str, *, string_args: bool = False):
    def lowering(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
        args = [arg_string(c, x, s) for x, s in zip(e.args, a, strict=True)] if string_args else a
        return fn(sql_name, *args)

    return lowering


for _k, _v in {"tolower": "lower", "toupper": "upper", "reverse": "reverse", "url_decode": "url_decode",
               "hash_md5": "md5", "hash_sha256": "sha256", "hash_sha1": "sha1"}.items():
    register(_k)(_simple(_v, string_args=True))
for _k, _v in {"isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite"}.items():
    register(_k)(_simple(_v))


@register("strlen")
def strlen(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("length", arg_string(c, e.args[0], a[0])), "BIGINT")


@register("abs")
def abs_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("abs", _bigint(e.args[0].type, a[0]))


@register("rand")
def rand(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    if a:
        return cast(fn("floor", exp.Mul(this=fn("random"), expression=a[0])), "BIGINT")
    return fn("random")


@register("totimespan", "totime")
def totimespan(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type
    if t.name == "timespan":
        return a[0]
    if t.is_numeric:
        return try_cast(a[0], "BIGINT")  # Kusto: a number is a count of ticks
    raise unsupported(f"totimespan() of a {t.name}", e.span)


@register("make_timespan")
def make_timespan(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    parts = [_double(x.type, s) for x, s in zip(e.args, a, strict=True)]
    if len(parts) == 2:
        d, h, m, s = number(0), parts[0], parts[1], number(0)
    elif len(parts) == 3:
        d, h, m, s = number(0), parts[0], parts[1], parts[2]
    else:
        d, h, m, s = parts
    total = exp.Add(this=exp.Mul(this=paren(exp.Add(this=exp.Mul(this=paren(exp.Add(
        this=exp.Mul(this=d, expression=number(24)), expression=h)), expression=number(60)), expression=m)),
        expression=number(60)), expression=s)
    return cast(fn("round", exp.Mul(this=paren(total), expression=number(10_000_000))), "BIGINT")


for _k, _v in {"hourofday": "hour", "dayofmonth": "day", "dayofyear": "dayofyear", "getyear": "year",
               "getmonth": "month"}.items():
    register(_k)((lambda sql_name: lambda c, e, a: cast(fn(sql_name, a[0]), "BIGINT"))(_v))


@register("bin", "floor")
def bin_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t, st = e.args[0].type, e.args[1].type
    x, size = a
    if t.name == "datetime":
        if st.name != "timespan":
            raise unsupported("bin() of a datetime by a non-timespan", e.span)
        # Kusto bins datetimes from 0001-01-01 in ticks; compute in ticks, back to microseconds
        ticks = exp.Add(this=exp.Mul(this=fn("epoch_us", x), expression=number(TICKS_PER_MICRO)),
                        expression=cast(number(EPOCH_TICKS), "BIGINT"))
        binned = exp.Mul(this=fn("floor", exp.Div(this=cast(paren(ticks), "HUGEINT"), expression=size)),
                         expression=size)
        micros = exp.IntDiv(this=paren(exp.Sub(this=cast(binned, "HUGEINT"), expression=number(EPOCH_TICKS))),
                            expression=number(TICKS_PER_MICRO))
        return fn("make_timestamp", cast(micros, "BIGINT"))
    if t.name in ("int", "long", "timespan"):
        xb = _bigint(t, x)
        sb = _bigint(st, size) if st.name in ("int", "long", "timespan") else None
        if sb is None:
            return cast(exp.Mul(this=fn("floor", exp.Div(this=cast(xb, "DOUBLE"), expression=size)),
                                expression=size), "BIGINT")
        # floor division for negatives too: x - ((x % s) + s) % s
        rem = exp.Mod(this=paren(exp.Add(this=paren(exp.Mod(this=xb, expression=sb)), expression=sb)), expression=sb)
        return paren(exp.Sub(this=xb, expression=rem))
    if t.name in ("real", "decimal"):
        return exp.Mul(this=fn("floor", exp.Div(this=x, expression=size)), expression=size)
    raise unsupported(f"bin() of a {t.name}", e.span)


@register("iif", "iff")
def iif(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return case((a[0], _conform(e.args[1], a[1], e.type)), default=_conform(e.args[2], a[2], e.type))


def _conform(arg: B.BExpr, sql: exp.Expression, target: KType) -> exp.Expression:
    if arg.type == target or arg.type.name == "null" and target.name == "string":
        return sql if arg.type.name != "null" else string("")
    if arg.type.name == "null":
        return cast(null(), physical(target))
    if target.name in ("long", "real", "decimal", "int"):
        return cast(sql, physical(target))
    return sql


@register("case")
def case_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    whens = [(a[i], _conform(e.args[i + 1], a[i + 1], e.type)) for i in range(0, len(a) - 1, 2)]
    return case(*whens, default=_conform(e.args[-1], a[-1], e.type))


@register("coalesce")
def coalesce(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    if e.type.name == "string":
        # Kusto's coalesce skips empty strings as well as nulls
        parts = [fn("nullif", arg_string(c, x, s), string("")) for x, s in zip(e.args, a, strict=True)]
        return exp.Coalesce(this=parts[0], expressions=parts[1:] + [string("")])
    parts = [_conform(x, s, e.type) for x, s in zip(e.args, a, strict=True)]
    return exp.Coalesce(this=parts[0], expressions=parts[1:])


@register("max_of", "min_of")
def max_of(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    parts = [_conform(x, s, e.type) for x, s in zip(e.args, a, strict=True)]
    return fn("greatest" if e.fn == "max_of" else "least", *parts)


@register("strcat")
def strcat(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("concat", *[arg_string(c, x, s) for x, s in zip(e.args, a, strict=True)])


@register("replace_regex", "replace")
def replace_regex(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # replace_regex(text, regex, rewrite); the deprecated replace(regex, rewrite, text) orders them differently
    order = (1, 2, 0) if e.fn == "replace_regex" else (0, 1, 2)
    (p_e, r_e, t_e), (rewrite, text) = [e.args[i] for i in order], [a[i] for i in order][1:]
    regex = const_str(p_e)
    if regex is None:
        raise unsupported(f"{e.fn}() with a non-constant pattern", p_e.span)
    return fn("regexp_replace", arg_string(c, t_e, text), string(kusto_regex(regex)), arg_string(c, r_e, rewrite),
              string("g"))


def kusto_regex(pattern: str) -> str:
    """Kusto's regex dialect on RE2: `\\d` means any Unicode digit (`\\p{Nd}`), not only 0-9."""
    return re.sub(r"(?<!\\)((?:\\\\)*)\\d", lambda m: m.group(1) + r"\p{Nd}", pattern)


@register("replace_string")
def replace_string(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    text, lookup, rewrite = (arg_string(c, x, s) for x, s in zip(e.args, a, strict=True))
    return case((exp.EQ(this=lookup, expression=string("")), text), default=fn("replace", text, lookup, rewrite))


@register("substring")
def substring(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    text = arg_string(c, e.args[0], a[0])
    start = exp.Add(this=fn("greatest", _bigint(e.args[1].type, a[1]), number(0)), expression=number(1))
    if len(a) == 3:
        return fn("substring", text, start, fn("greatest", _bigint(e.args[2].type, a[2]), number(0)))
    return fn("substring", text, start)


@register("trim", "trim_start", "trim_end")
def trim(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    pattern = const_str(e.args[0])
    if pattern is None:
        raise unsupported(f"{e.fn}() with a non-constant pattern", e.args[0].span)
    text = arg_string(c, e.args[1], a[1])
    if e.fn in ("trim", "trim_start"):
        text = fn("regexp_replace", text, string(f"^(?:{pattern})+"), string(""))
    if e.fn in ("trim", "trim_end"):
        text = fn("regexp_replace", text, string(f"(?:{pattern})+$"), string(""))
    return text


@register("strcat_array")
def strcat_array(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type
    lst = as_list(c, t, a[0], "strcat_array()", e.span)
    if not (is_list(t) and t.elem and t.elem.name == "string"):
        elem_t = t.elem or KType("dynamic")
        lst = fn("list_transform", lst, lam("x", to_string(c, elem_t, col("x"))))
    return exp.Coalesce(this=fn("array_to_string", lst, arg_string(c, e.args[1], a[1])), expressions=[string("")])


@register("base64_encode_tostring")
def b64enc(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("to_base64", fn("encode", arg_string(c, e.args[0], a[0])))


@register("base64_decode_tostring")
def b64dec(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return exp.Coalesce(this=fn("kh_b64_decode", arg_string(c, e.args[0], a[0])), expressions=[string("")])


@register("extract", raw=True)
def extract(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    pattern = const_str(e.args[0])
    group = const_value(e.args[1])
    if pattern is None or not isinstance(group, int):
        raise unsupported("extract() with a non-constant pattern or group", e.span)
    text = arg_string(c, e.args[2], c.compile(e.args[2]))
    found = fn("regexp_extract", text, string(kusto_regex(pattern)), number(group))
    if len(e.args) == 4:
        target = physical(e.type)
        if e.type.name == "string":
            return found
        if e.type.name == "datetime":
            from kqlhunt.sql.lowerings.timex import text_to_datetime  # the family imports this module

            return text_to_datetime(fn("nullif", found, string("")))
        return try_cast(fn("nullif", found, string("")), target)
    return found


URL_RE = (r"^([A-Za-z][A-Za-z0-9+.\-]*)://(?:([^:@/?#]*)(?::([^@/?#]*))?@)?(\[[^\]]*\]|[^:/?#]*)"
          r"(?::([0-9]*))?(/[^?#]*)?(?:\?([^#]*))?(?:#(.*))?$")
URL_PARTS = {"Scheme": 1, "Username": 2, "Password": 3, "Host": 4, "Port": 5, "Path": 6, "Fragment": 8}


def url_part(text: exp.Expression, part: str) -> exp.Expression:
    return fn("regexp_extract", text, string(URL_RE), number(URL_PARTS[part]))


@register("$parse_match")
def parse_match(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("regexp_matches", a[0], a[1])


@register("$parse_group")
def parse_group(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("regexp_extract", a[0], a[1], number(const_value(e.args[2])))  # DuckDB wants an INTEGER literal


@register("member", raw=True)
def member(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    target, key = e.args
    name = const_str(key)
    assert name is not None
    if isinstance(target, B.BCall) and target.fn == "parse_url" and name in URL_PARTS:
        text = arg_string(c, target.args[0], c.compile(target.args[0]))
        return fn("kh_url_member", url_part(text, name), string(name))
    if is_list(target.type):
        raise unsupported(f"`.{name}` on an array", e.span)
    path = '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return fn("json_extract", c.compile(target), string(path))


@register("index", raw=True)
def index(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    target, key = e.args
    if const_str(key) is not None:
        return member(c, B.BCall(e.type, e.span, "member", (target, key)), [])
    tgt = c.compile(target)
    i = c.compile(key)
    if is_list(target.type):
        assert target.type.elem is not None
        pos = case((exp.GTE(this=i, expression=number(0)), exp.Add(this=i, expression=number(1))), default=i)
        return to_json(c, target.type.elem, fn("list_extract", tgt, pos))
    if key.type.name not in ("int", "long"):
        raise unsupported("indexing a dynamic value by a non-constant key", e.span)
    path = exp.DPipe(this=exp.DPipe(this=string("$["), expression=cast(case(
        (exp.LT(this=i, expression=number(0)), exp.DPipe(this=string("#"), expression=cast(i, "VARCHAR"))),
        default=cast(i, "VARCHAR")), "VARCHAR")), expression=string("]"))
    return fn("json_extract", tgt, path)


@register("array_length")
def array_length(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type
    if is_list(t):
        return cast(fn("len", a[0]), "BIGINT")
    if t.name == "dynamic":
        return case((exp.EQ(this=fn("json_type", a[0]), expression=string("ARRAY")),
                     cast(fn("json_array_length", a[0]), "BIGINT")), default=cast(null(), "BIGINT"))
    return cast(null(), "BIGINT")


@register("pack_array")
def pack_array(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("json_array", *[to_json(c, x.type, s) for x, s in zip(e.args, a, strict=True)]), "JSON")


@register("pack", "bag_pack", "pack_dictionary")
def pack(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    if len(a) % 2:
        raise unsupported(f"{e.fn}() with an odd number of arguments", e.span)
    parts: list[exp.Expression] = []
    for i in range(0, len(a), 2):
        parts += [arg_string(c, e.args[i], a[i]), to_json(c, e.args[i + 1].type, a[i + 1])]
    return cast(fn("json_object", *parts), "JSON")


@register("$distinct_from")
def distinct_from(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return exp.Not(this=exp.NullSafeEQ(this=a[0], expression=a[1]))


@register("assert")
def assert_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # Kusto fails the query when the condition is false; DuckDB's error() does the same
    message = arg_string(c, e.args[1], a[1])
    return case((exp.Not(this=fn("coalesce", a[0], exp.Boolean(this=False))), fn("error", message)),
                default=exp.Boolean(this=True))


@register("$pack_nonempty")
def pack_nonempty(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    entries = [exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("k"), expression=arg_string(c, e.args[i], a[i])),
                                       exp.PropertyEQ(this=exp.to_identifier("v"),
                                                      expression=to_json(c, e.args[i + 1].type, a[i + 1]))])
               for i in range(0, len(a), 2)]
    value = cast(fn("struct_extract", col("e"), string("v")), "VARCHAR")
    keep = exp.And(this=exp.Not(this=is_null(value)),
                   expression=exp.Not(this=exp.In(this=value, expressions=[string('""'), string("null")])))
    kept = fn("list_filter", exp.Array(expressions=entries), lam("e", keep))
    return cast(fn("to_json", fn("map_from_entries", kept)), "JSON")


@register("isascii")
def isascii(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("regexp_full_match", arg_string(c, e.args[0], a[0]), string(r"[\x00-\x7F]*"))


@register("gettype")
def gettype(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type
    if t.name == "dynamic":
        raise unsupported("gettype() of a dynamic value", e.span)
    return string(t.name)


# ---------------------------------------------------------------- network and geo


@register("geo_info_from_ip_address")
def geo_info(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("kh_geo_info", arg_string(c, e.args[0], a[0])), "JSON")


# ---------------------------------------------------------------- series


def _num_list(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    """The series as DOUBLE[]. Kusto: a null/NaN/inf element makes every statistic null, unless
    ignore_nonfinite (second argument) is true, which drops those elements."""
    values = as_list(c, e.args[0].type, a[0], f"{e.fn}()", e.span, elem="DOUBLE")
    bad = lam("v", exp.Or(this=is_null(col("v")), expression=exp.Not(this=fn("isfinite", col("v")))))
    ignore = const_value(e.args[1]) if len(e.args) > 1 else False
    if len(e.args) > 1 and not isinstance(ignore, bool):
        raise unsupported(f"{e.fn.rsplit('_', 1)[0]}() with a non-constant ignore_nonfinite", e.args[1].span)
    if ignore:
        return fn("list_filter", values, lam("v", exp.Not(this=paren(bad.this))))
    has_bad = fn("list_bool_or", fn("list_transform", values, bad))
    return case((fn("coalesce", has_bad, exp.Boolean(this=False)), cast(null(), "DOUBLE[]")), default=values)


@register("series_stats_min", "series_stats_max")
def series_minmax(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("list_min" if e.fn.endswith("min") else "list_max", _num_list(c, e, a)), "DOUBLE")


@register("series_stats_min_idx", "series_stats_max_idx")
def series_argminmax(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    lst = _num_list(c, e, a)
    extreme = fn("list_min" if "min" in e.fn else "list_max", lst)
    return cast(exp.Sub(this=fn("list_position", lst, extreme), expression=number(1)), "BIGINT")


@register("series_stats_avg")
def series_avg(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("list_avg", _num_list(c, e, a)), "DOUBLE")


@register("series_stats_stdev", "series_stats_variance")
def series_spread(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # Kusto: sample (n-1) standard deviation and variance
    agg = "stddev_samp" if e.fn.endswith("stdev") else "var_samp"
    return cast(fn("list_aggregate", _num_list(c, e, a), string(agg)), "DOUBLE")


@register("series_outliers", raw=True)
def series_outliers(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    if len(e.args) > 1:
        raise unsupported("series_outliers() with kind/percentile arguments", e.span)
    lst = as_list(c, e.args[0].type, c.compile(e.args[0]), "series_outliers()", e.span, elem="DOUBLE")
    return fn("kh_series_outliers", lst)


# the families in kqlhunt.sql.lowerings register themselves with `register`
from kqlhunt.sql import lowerings as _lowerings  # noqa: E402,F401  (import for its side effect)

__all__ = ["LOWERINGS", "RAW_ARGS", "to_string", "to_json", "data_type", "url_part"]
