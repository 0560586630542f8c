"""DuckDB lowerings of the conversions (`toint`, `tolong`, `toreal`, `tobool`, `todecimal`, `toguid`,
`tostring`, `todynamic`), the arithmetic operators and the comparisons, with Kusto's scalar semantics.

Kusto is a .NET engine, and where DuckDB's SQL differs this module bridges it:
* long arithmetic wraps in two's complement instead of failing: `+ - *` and unary `-` run in HUGEINT and
  keep the low 64 bits; integer `/` truncates towards zero and is null for a zero divisor; `%` is never
  negative (docs:numerical-operators). Timespan arithmetic is .NET `TimeSpan`'s, which fails on
  overflow, so it stays BIGINT and a row that overflows fails the query.
* conversions follow what duckdb-kql measured on the Kusto Emulator (test_type_conversions.py,
  test_countof_tobool.py): a string converts only in .NET's integer syntax (`' 7 '`, `'+4'`, `'0x10'`;
  not `'5.7'` or `'1e3'`), a long or timespan narrowed to int wraps to 32 bits, a real saturates at the
  type's bounds over rows, a timespan is its ticks and a datetime its ticks since 0001-01-01, a dynamic
  converts as what it holds. Kusto's constant folder answers differently for an out-of-range real
  constant (`toint(1e10)` is -2147483648 there), so such constants are refused.
* `tostring()` of a real prints .NET's shortest round-trip text (frozen:geo-line-densify-function-01
  shows 16-digit reals such as 50.25000000000001, the shortest form, not .NET Framework's 15/17 digits).
* a typed value compared with a string literal compares with the literal converted to its type
  (duckdb-kql test_dynamic_strings.py); literals that do not convert are refused.
Rows whose Kusto answer is not known (NaN into `tobool`, an infinite real into `toint`, the text of a
real between 1e15 and 1e17, where .NET versions disagree) fail the query with `error()` rather than guess.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from functools import cache

import sqlglot
from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.fold import fold
from kqlhunt.semantic.signatures.conversions import coerced_pair, string_literal
from kqlhunt.semantic.types import KType
from kqlhunt.sql.expressions import (
    ExprCompiler,
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
from kqlhunt.sql.functions import refuse_at_run_time, register, to_json, to_string
from kqlhunt.syntax.literals import TextRefused, TickDatetime, parse_datetime_text, parse_timespan_text

LONG_MIN, LONG_MAX = -(2 ** 63), 2 ** 63 - 1
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
BOUNDS = {"INTEGER": (INT_MIN, INT_MAX), "BIGINT": (LONG_MIN, LONG_MAX)}
TICKS_PER_MICRO = 10
EPOCH_TICKS = 621_355_968_000_000_000  # ticks from 0001-01-01 to 1970-01-01
DECIMAL = "DECIMAL(38, 18)"

# .NET's integer and floating-point syntax (NumberStyles.Integer / Float, invariant culture): surrounding
# white space and a sign; RE2's \s stands for .NET's white space
INTEGER_TEXT = r"\s*[+-]?[0-9]+\s*"
HEX_TEXT = r"\s*0[xX][0-9a-fA-F]+\s*"
REAL_TEXT = r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*"
SPECIAL_REAL_TEXT = r"(?i)\s*[+-]?(nan|inf|infinity|∞)\s*"
DECIMAL_TEXT = r"\s*[+-]?[0-9]{1,20}(\.[0-9]{0,18})?\s*"
GUID_PREFIX = r"^((?:[0-9a-fA-F]-?){31}[0-9a-fA-F])"

_names = itertools.count()


fail = refuse_at_run_time


def double(value: float) -> exp.Expression:
    """A DOUBLE constant, exactly (DuckDB would read 9.2e18 as a DECIMAL)."""
    return cast(string(repr(float(value))), "DOUBLE")


def big(value: int) -> exp.Expression:
    """An integer constant; beyond BIGINT DuckDB reads it as a HUGEINT."""
    return number(value)


def let(value: exp.Expression, body: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """`body` over `value` evaluated once: a column or constant is substituted, anything else is bound by a
    one-element list_transform (CASE expressions below name their operand several times)."""
    if isinstance(value, exp.Column | exp.Literal) or isinstance(value, exp.Cast) and isinstance(
            value.this, exp.Literal | exp.Null):
        return body(value)
    name = f"kh_v{next(_names)}"
    return fn("list_extract", fn("list_transform", exp.Array(expressions=[value]), lam(name, body(col(name)))),
              number(1))


def const_of(e: B.BExpr) -> tuple[bool, object]:
    """(True, value) when `e` folds to a literal."""
    folded = fold(e)
    return (True, folded.value) if isinstance(folded, B.BLit) else (False, None)


def trimmed(text: exp.Expression) -> exp.Expression:
    """.NET's Trim(): all surrounding white space (DuckDB's trim() strips spaces only)."""
    return fn("regexp_replace", text, string(r"^\s+|\s+$"), string(""), string("g"))


def matches(text: exp.Expression, pattern: str) -> exp.Expression:
    return fn("regexp_full_match", text, string(pattern))


# ---------------------------------------------------------------- integer arithmetic


def wrap64(huge: exp.Expression) -> exp.Expression:
    """A HUGEINT result wrapped to 64 bits, as .NET's unchecked long arithmetic overflows."""
    low = exp.BitwiseAnd(this=paren(exp.Add(this=huge, expression=big(2 ** 63))), expression=big(2 ** 64 - 1))
    return cast(paren(exp.Sub(this=paren(low), expression=big(2 ** 63))), "BIGINT")


def wrap32(long: exp.Expression) -> exp.Expression:
    """A BIGINT narrowed to its low 32 bits, sign-extended (C#'s unchecked (int) cast)."""
    low = exp.BitwiseAnd(this=long, expression=big(2 ** 32 - 1))
    return cast(paren(exp.Sub(this=fn("xor", paren(low), big(2 ** 31)), expression=big(2 ** 31))), "INTEGER")


def _bigint(t: KType, e: exp.Expression) -> exp.Expression:
    return cast(e, "BIGINT") if t.name == "int" else e


def _double(t: KType, e: exp.Expression) -> exp.Expression:
    return cast(e, "DOUBLE") if t.name in ("int", "long", "decimal") else e


def _huge(e: exp.Expression) -> exp.Expression:
    return cast(e, "HUGEINT")


_NODES: dict[str, type[exp.Expression]] = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div, "%": exp.Mod}


@register("+", "-", "*", "/", "%")
def arithmetic(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    lt, rt = e.args[0].type, e.args[1].type
    op, out = e.fn, e.type.name
    left, right = a
    if out == "datetime":
        if lt.name == "timespan":
            left, right, lt, rt = right, left, rt, lt
        delta = fn("to_microseconds", exp.IntDiv(this=right, expression=number(TICKS_PER_MICRO)))
        return paren(exp.Add(this=left, expression=delta) if op == "+" else exp.Sub(this=left, expression=delta))
    if lt.name == "datetime" and rt.name == "datetime":
        diff = exp.Sub(this=fn("epoch_us", left), expression=fn("epoch_us", right))
        return paren(exp.Mul(this=paren(diff), expression=number(TICKS_PER_MICRO)))
    if out == "timespan":
        return _timespan_arithmetic(op, lt, rt, left, right)
    if out == "real" and lt.name == "timespan":
        return paren(exp.Div(this=cast(left, "DOUBLE"), expression=cast(right, "DOUBLE")))
    if out == "real":
        left, right = _double(lt, left), _double(rt, right)
        if op == "%":
            # Kusto's modulo is never negative: 0 <= N % D < abs(D) (NaN for a zero divisor, as .NET)
            return let(right, lambda r: paren(exp.Mod(
                this=paren(exp.Add(this=paren(exp.Mod(this=left, expression=r)), expression=fn("abs", r))),
                expression=fn("abs", r))))
        return paren(_NODES[op](this=left, expression=right))
    if out == "decimal":
        if op in "+-":
            left, right = (cast(x, DECIMAL) if t.name != "decimal" else x for t, x in ((lt, left), (rt, right)))
        return cast(paren(_NODES[op](this=left, expression=right)), DECIMAL)
    # long (int operands widen: Kusto's integer arithmetic is 64-bit)
    left, right = _bigint(lt, left), _bigint(rt, right)
    if op == "/":
        # DuckDB's // truncates towards zero and gives null for a zero divisor, as Kusto measured
        return paren(exp.IntDiv(this=left, expression=right))
    if op == "%":
        def nonnegative(r: exp.Expression) -> exp.Expression:
            size = fn("abs", _huge(r))
            rem = _huge(paren(exp.Mod(this=left, expression=r)))
            return cast(paren(exp.Mod(this=paren(exp.Add(this=rem, expression=size)), expression=size)), "BIGINT")
        return let(right, nonnegative)
    return wrap64(_NODES[op](this=_huge(left), expression=right))


def _timespan_arithmetic(op: str, lt: KType, rt: KType, left: exp.Expression,
                         right: exp.Expression) -> exp.Expression:
    """.NET TimeSpan arithmetic on ticks: an overflow fails (DuckDB's BIGINT overflow error)."""
    if op in "+-":
        return paren(_NODES[op](this=left, expression=right))
    if op == "*":
        if rt.name == "timespan":
            left, right, lt, rt = right, left, rt, lt
        if rt.name in ("int", "long"):
            return paren(exp.Mul(this=left, expression=_bigint(rt, right)))
        # TimeSpan * double rounds half to even (Math.Round), as the constant folder does
        return cast(fn("round_even", exp.Mul(this=cast(left, "DOUBLE"), expression=right), number(0)), "BIGINT")
    if op == "/":
        return cast(fn("trunc", exp.Div(this=cast(left, "DOUBLE"), expression=_double(rt, right))), "BIGINT")
    # timespan % timespan: Kusto's rule for negative ticks is not documented
    negative = exp.Or(this=exp.LT(this=left, expression=number(0)), expression=exp.LT(this=right, expression=number(0)))
    return case((negative, fail("`%` of a negative timespan")), default=paren(exp.Mod(this=left, expression=right)))


@register("neg")
def negate(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t, x = e.args[0].type, a[0]
    if t.name == "int":
        return paren(exp.Neg(this=cast(x, "BIGINT")))
    if t.name == "long":
        return wrap64(exp.Neg(this=_huge(x)))  # -long.MinValue is long.MinValue
    return paren(exp.Neg(this=x))  # real, decimal, timespan (TimeSpan negation fails on its minimum)


# ---------------------------------------------------------------- comparisons


def _dyn_scalar(c: ExprCompiler, dyn: B.BExpr, sql: exp.Expression, other: KType) -> exp.Expression:
    """A JSON dynamic compared with a scalar: compare its value as the scalar's type."""
    text = fn("json_extract_string", sql, string("$"))
    if other.name in ("string", "guid"):
        return text
    if other.is_numeric:
        return try_cast(text, "DOUBLE")
    if other.name == "bool":
        return try_cast(text, "BOOLEAN")
    if other.name == "datetime":
        return try_cast(text, "TIMESTAMP")
    raise unsupported(f"comparing dynamic with {other.name}", dyn.span)


def literal_as(text: str, t: KType, span) -> B.BLit:
    """A string literal converted to `t` for a comparison, or a refusal when it does not convert."""
    value: object = None
    try:
        match t.name:
            case "int" | "long":
                if re.fullmatch(INTEGER_TEXT, text):
                    value = int(text.strip())
                elif re.fullmatch(HEX_TEXT, text):
                    value = int(text.strip(), 16)
                if value is not None and not LONG_MIN <= value <= LONG_MAX:  # type: ignore[operator]
                    value = None
                t = KType("long")
            case "real":
                if re.fullmatch(REAL_TEXT, text):
                    value = float(text.strip())
            case "bool":
                value = {"true": True, "false": False}.get(text.strip().lower())
            case "datetime":
                parsed = parse_datetime_text(text, literal=False)
                value = None if isinstance(parsed, TickDatetime) else parsed
            case "timespan":
                value = parse_timespan_text(text, literal=False)
    except (ValueError, TextRefused, OverflowError):
        value = None
    if value is None:
        raise unsupported(f"comparing a {t.name} value with the string {text!r}", span,
                          "Kusto converts the string to the value's type; this one does not convert")
    return B.BLit(t, span, value)


@register("==", "!=", "<", "<=", ">", ">=")
def compare(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    (l_e, r_e), (left, right) = e.args, a
    pair = coerced_pair(list(e.args))
    if pair is not None:
        i, t = pair
        text = string_literal(e.args[i])
        assert text is not None
        lit = literal_as(text, t, e.args[i].span)
        if i == 0:
            l_e, left = lit, c.literal(lit)
        else:
            r_e, right = lit, c.literal(lit)
    lt, rt = l_e.type, r_e.type
    if lt.name == "dynamic" and rt.name != "dynamic":
        if lt.elem is not None:
            raise unsupported("comparing a dynamic array with a scalar", e.span)
        left = _dyn_scalar(c, l_e, left, rt)
    elif rt.name == "dynamic" and lt.name != "dynamic":
        if rt.elem is not None:
            raise unsupported("comparing a dynamic array with a scalar", e.span)
        right = _dyn_scalar(c, r_e, right, lt)
    return _compare_sql(e.fn, l_e, r_e, left, right)


def _compare_sql(op: str, l_e: B.BExpr, r_e: B.BExpr, left: exp.Expression, right: exp.Expression) -> exp.Expression:
    node = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
    out = paren(_ieee_nan(op, l_e, r_e, left, right, node(this=left, expression=right)))
    if op in ("==", "!="):
        return _null_equality(op, l_e, r_e, left, right, out)
    return out


def _ieee_nan(op: str, l_e: B.BExpr, r_e: B.BExpr, left: exp.Expression, right: exp.Expression,
              out: exp.Expression) -> exp.Expression:
    """.NET compares doubles as IEEE 754 does: NaN is unordered, every comparison with it is false and `!=`
    true. DuckDB instead orders NaN above every number and equal to itself, so it errs only for NaN == NaN
    and for a NaN on the side it puts "above" (the right of `<`, the left of `>`). The guard is a
    conjunction, so DuckDB can still push `x > 5` into a scan."""
    if op in ("==", "!="):
        if not (_may_be_nan(l_e) and _may_be_nan(r_e)):
            return out
        nan: exp.Expression = fn("isnan", left)
        return exp.Or(this=out, expression=nan) if op == "!=" else exp.And(this=out, expression=exp.Not(this=nan))
    side_e, side, other_e, other = (r_e, right, l_e, left) if op in ("<", "<=") else (l_e, left, r_e, right)
    if not _may_be_nan(side_e):
        return out
    nan = fn("isnan", side)
    if not _never_null(other_e):
        nan = exp.And(this=nan, expression=exp.Not(this=is_null(other)))  # NaN < null stays null (sticky null)
    return exp.And(this=out, expression=exp.Not(this=paren(nan)))


def _may_be_nan(e: B.BExpr) -> bool:
    if e.type.name != "real":
        return False
    known, value = const_of(e)
    return not known or isinstance(value, float) and math.isnan(value)


def _never_null(e: B.BExpr) -> bool:
    return e.type.name == "string" or (isinstance(e, B.BLit) and e.value is not None)


def _null_equality(op: str, l_e: B.BExpr, r_e: B.BExpr, left: exp.Expression, right: exp.Expression,
                   sql_result: exp.Expression) -> exp.Expression:
    """docs:null-values: null == value is false and null != value is true; null against null stays null."""
    if _never_null(l_e) and _never_null(r_e):
        return sql_result
    one_known = exp.Boolean(this=op == "!=")
    if _never_null(l_e) or _never_null(r_e):
        return exp.Coalesce(this=sql_result, expressions=[one_known])
    both_null = exp.And(this=is_null(left), expression=is_null(right))
    return case((both_null, cast(null(), "BOOLEAN")), default=exp.Coalesce(this=sql_result, expressions=[one_known]))


# ---------------------------------------------------------------- toint / tolong / toreal


def _integer_from_real(x: exp.Expression, target: str) -> exp.Expression:
    """Over rows Kusto truncates a real and saturates at the type's bounds; NaN is null (measured)."""
    lo, hi = BOUNDS[target]

    def body(v: exp.Expression) -> exp.Expression:
        return case((fn("isnan", v), cast(null(), target)),
                    (fn("isinf", v), fail(f"an infinite real converted to {target.lower()}")),
                    (exp.GTE(this=v, expression=double(hi + 1)), cast(number(hi), target)),
                    (exp.LTE(this=v, expression=double(lo)), cast(number(lo), target)),
                    default=cast(fn("trunc", v), target))

    return let(x, body)


def _integer_from_text(text: exp.Expression, target: str) -> exp.Expression:
    """.NET integer syntax (or 0x hex); a value that overflows the type is null (measured for decimal text;
    for hex text Kusto's answer is not known)."""

    def body(s: exp.Expression) -> exp.Expression:
        bare = trimmed(s)
        hex_value = try_cast(bare, target)
        return case((matches(s, INTEGER_TEXT), try_cast(bare, target)),
                    (matches(s, HEX_TEXT), fn("coalesce", hex_value, fail(f"hex text beyond {target.lower()}"))),
                    default=cast(null(), target))

    return let(text, body)


def _real_from_text(text: exp.Expression) -> exp.Expression:
    """.NET floating-point syntax; 'NaN' or 'Infinity' text would need .NET's exact spellings (unknown)."""

    def body(s: exp.Expression) -> exp.Expression:
        return case((matches(s, REAL_TEXT), try_cast(trimmed(s), "DOUBLE")),
                    (matches(s, SPECIAL_REAL_TEXT), fail("a NaN or infinity string converted to real")),
                    default=cast(null(), "DOUBLE"))

    return let(text, body)


def _from_json(j: exp.Expression, target: str, *, integer: Callable[[exp.Expression], exp.Expression],
               real: Callable[[exp.Expression], exp.Expression], text: Callable[[exp.Expression], exp.Expression],
               boolean: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """A JSON dynamic converted as what it holds: a number, a string, a bool; anything else is null."""

    def body(v: exp.Expression) -> exp.Expression:
        kind = fn("json_type", v)
        value = fn("json_extract_string", v, string("$"))

        def kind_is(*names: str) -> exp.Expression:
            return exp.In(this=kind, expressions=[string(n) for n in names])

        as_long = fn("coalesce", try_cast(value, "BIGINT"), fail("a dynamic integer beyond long"))
        return case((kind_is("BIGINT", "UBIGINT"), integer(as_long)),
                    (kind_is("DOUBLE"), real(cast(value, "DOUBLE"))),
                    (kind_is("VARCHAR"), text(value)),
                    (kind_is("BOOLEAN"), boolean(cast(value, "BOOLEAN"))),
                    default=cast(null(), target))

    return let(j, body)


def _refuse_constant_real(e: B.BCall, target: str) -> None:
    """Kusto's constant folder casts like C# (toint(1e10) is -2147483648, measured) while rows saturate: an
    out-of-range (or NaN, or infinite) real constant has two answers, so it is refused."""
    known, value = const_of(e.args[0])
    if not known or not isinstance(value, float):
        return
    lo, hi = BOUNDS[target]
    if not math.isfinite(value) or not lo <= math.trunc(value) <= hi:
        raise unsupported(f"{e.fn}() of the constant {value!r}", e.span,
                          "out of the type's range: Kusto's constant folder and its row engine disagree")


def _datetime_ticks(x: exp.Expression) -> exp.Expression:
    return paren(exp.Add(this=exp.Mul(this=fn("epoch_us", x), expression=number(TICKS_PER_MICRO)),
                         expression=number(EPOCH_TICKS)))


def _integer_conv(target: str) -> Callable[[ExprCompiler, B.BCall, list[exp.Expression]], exp.Expression]:
    narrow = target == "INTEGER"

    def from_long(v: exp.Expression) -> exp.Expression:
        return wrap32(v) if narrow else v

    def lowering(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
        t, x = e.args[0].type, a[0]
        match t.name:
            case "int":
                return x if narrow else cast(x, "BIGINT")
            case "long":
                return from_long(x)  # measured: toint(9999999999) wraps to 1410065407
            case "timespan":
                return from_long(x)  # its ticks (measured: tolong(1d), toint(1d) = 711573504)
            case "datetime":
                return from_long(_datetime_ticks(x))  # ticks since 0001-01-01 (measured)
            case "bool":
                return cast(x, target)
            case "real":
                _refuse_constant_real(e, target)
                return _integer_from_real(x, target)
            case "decimal":
                return _integer_from_decimal(x, target)
            case "string":
                return _integer_from_text(x, target)
            case "dynamic":
                if t.elem is not None:
                    return cast(null(), target)  # an array converts to null (measured: tolong(dynamic([1])))
                _refuse_constant_dynamic_real(e, target)
                return _from_json(x, target, integer=from_long, real=lambda r: _integer_from_real(r, target),
                                  text=lambda s: _integer_from_text(s, target),
                                  boolean=lambda b: cast(b, target))
        raise unsupported(f"{e.fn}() of a {t.name}", e.span)

    return lowering


def _integer_from_decimal(x: exp.Expression, target: str) -> exp.Expression:
    """The integer portion of a decimal (docs:toint-function truncates); beyond the type: unknown."""
    lo, hi = BOUNDS[target]

    def body(v: exp.Expression) -> exp.Expression:
        inside = exp.And(this=exp.GT(this=v, expression=number(lo - 1)), expression=exp.LT(this=v, expression=number(hi + 1)))
        return case((exp.Not(this=paren(inside)), fail(f"a decimal beyond {target.lower()}")),
                    default=cast(fn("trunc", v), target))

    return let(x, body)


def _refuse_constant_dynamic_real(e: B.BCall, target: str) -> None:
    known, value = const_of(e.args[0])
    if known and isinstance(value, float):
        _refuse_constant_real(B.BCall(e.type, e.span, e.fn, (B.BLit(KType("real"), e.span, value),)), target)


register("toint")(_integer_conv("INTEGER"))
register("tolong")(_integer_conv("BIGINT"))


@register("toreal", "todouble")
def toreal(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t, x = e.args[0].type, a[0]
    match t.name:
        case "real":
            return x
        case "int" | "long" | "decimal" | "bool" | "timespan":
            return cast(x, "DOUBLE")  # a timespan is its ticks (measured: todouble(1d) = 864000000000.0)
        case "string":
            return _real_from_text(x)
        case "dynamic":
            if t.elem is not None:
                return cast(null(), "DOUBLE")
            return _from_json(x, "DOUBLE", integer=lambda v: cast(v, "DOUBLE"), real=lambda r: r,
                              text=_real_from_text, boolean=lambda b: cast(b, "DOUBLE"))
    raise unsupported(f"{e.fn}() of a {t.name}", e.span)


# ---------------------------------------------------------------- tobool / todecimal / toguid


def _bool_from_text(text: exp.Expression) -> exp.Expression:
    """Measured: 'true'/'false' in any case, or integer text by its non-zero-ness; anything else is null."""

    def body(s: exp.Expression) -> exp.Expression:
        low = fn("lower", trimmed(s))
        return case((exp.EQ(this=low, expression=string("true")), exp.Boolean(this=True)),
                    (exp.EQ(this=low, expression=string("false")), exp.Boolean(this=False)),
                    (matches(s, INTEGER_TEXT), exp.NEQ(this=try_cast(trimmed(s), "BIGINT"), expression=number(0))),
                    default=cast(null(), "BOOLEAN"))

    return let(text, body)


def _bool_from_real(x: exp.Expression) -> exp.Expression:
    return let(x, lambda v: case((fn("isnan", v), fail("tobool() of NaN")),
                                 default=exp.NEQ(this=v, expression=number(0))))


@register("tobool", "toboolean")
def tobool(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t, x = e.args[0].type, a[0]
    match t.name:
        case "bool":
            return x
        case "int" | "long" | "decimal":
            return paren(exp.NEQ(this=x, expression=number(0)))  # docs: tobool(123) == true
        case "real":
            return _bool_from_real(x)
        case "string":
            return _bool_from_text(x)
        case "dynamic":
            if t.elem is not None:
                return cast(null(), "BOOLEAN")
            return _from_json(x, "BOOLEAN", integer=lambda v: exp.NEQ(this=v, expression=number(0)),
                              real=_bool_from_real, text=_bool_from_text, boolean=lambda b: b)
    raise unsupported(f"{e.fn}() of a {t.name}", e.span)


def _decimal_from_text(text: exp.Expression) -> exp.Expression:
    """.NET's decimal keeps 28-29 digits and the text's own scale; DECIMAL(38, 18) holds the text exactly
    up to 20 integer and 18 fractional digits. Longer numbers or exponents: Kusto's answer is not known."""

    def body(s: exp.Expression) -> exp.Expression:
        return case((matches(s, DECIMAL_TEXT), cast(trimmed(s), DECIMAL)),
                    (matches(s, REAL_TEXT), fail("todecimal() of this number text")),
                    default=cast(null(), DECIMAL))

    return let(text, body)


@register("todecimal")
def todecimal(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t, x = e.args[0].type, a[0]
    match t.name:
        case "decimal":
            return x
        case "int" | "long":
            return cast(x, DECIMAL)
        case "string":
            return _decimal_from_text(x)
        case "dynamic" if t.elem is None:
            return _from_json(x, DECIMAL, integer=lambda v: cast(v, DECIMAL),
                              real=lambda r: fail("todecimal() of a dynamic real"),
                              text=_decimal_from_text, boolean=lambda b: fail("todecimal() of a dynamic bool"))
    # a real's conversion rounds to .NET decimal's digits (Convert.ToDecimal keeps 15): not modelled
    raise unsupported(f"todecimal() of a {t.name}", e.span)


def _guid_from_text(text: exp.Expression) -> exp.Expression:
    """docs:toguid-function: the first 32 hex digits, hyphens between them ignored, the rest of the text
    ignored; null when they are not there."""

    def body(s: exp.Expression) -> exp.Expression:
        digits = fn("regexp_extract", s, string(GUID_PREFIX), number(1))
        h = fn("lower", fn("replace", digits, string("-"), string("")))
        parts = [fn("substr", h, number(start), number(size)) for start, size in
                 ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
        joined: exp.Expression = parts[0]
        for p in parts[1:]:
            joined = exp.DPipe(this=exp.DPipe(this=joined, expression=string("-")), expression=p)
        return case((exp.EQ(this=digits, expression=string("")), cast(null(), "VARCHAR")), default=joined)

    return let(text, body)


@register("toguid")
def toguid(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t, x = e.args[0].type, a[0]
    if t.name == "guid":
        return x
    if t.name == "string":
        return _guid_from_text(x)
    if t.name == "dynamic" and t.elem is None:
        def body(v: exp.Expression) -> exp.Expression:
            kind = fn("json_type", v)
            return case((exp.EQ(this=kind, expression=string("VARCHAR")),
                         _guid_from_text(fn("json_extract_string", v, string("$")))),
                        (exp.EQ(this=kind, expression=string("NULL")), cast(null(), "VARCHAR")),
                        default=fail("toguid() of a dynamic value that is not a string"))
        return let(x, body)
    raise unsupported(f"toguid() of a {t.name}", e.span)


# ---------------------------------------------------------------- tostring / todynamic


# .NET Core's double.ToString() of `kh_r` (invariant culture), in DuckDB SQL: the shortest round-trip digits,
# fixed notation unless the decimal exponent is below -4 or beyond the digits (then `1E+15`, `1E-05`), `-0`
# for negative zero, `NaN`, `Infinity`. .NET Core 3-6 switch to the exponent form past 15 digits and .NET 7+
# past 17, so a value whose text differs between them (1e15 <= |x| < 1e17 with few digits) fails the query.
# DuckDB's VARCHAR of a double already holds the shortest digits (in Python's repr form). Also the body of a
# `kh_real_str(kh_r)` macro, so every tostring of a real (strcat, ...) can print the same text.
REAL_TEXT_SQL = r"""
    CASE
      WHEN isnan(kh_r) THEN 'NaN'
      WHEN isinf(kh_r) THEN CASE WHEN kh_r > 0 THEN 'Infinity' ELSE '-Infinity' END
      WHEN kh_r = 0 THEN CASE WHEN signbit(kh_r) THEN '-0' ELSE '0' END
      ELSE (CASE WHEN kh_r < 0 THEN '-' ELSE '' END) || list_extract(list_transform(
        [regexp_extract(CAST(abs(kh_r) AS VARCHAR), '^([0-9]*)\.?([0-9]*)(?:e([-+]?[0-9]+))?$', ['i', 'f', 'e'])],
        lambda kh_m: list_extract(list_transform(
          [{'d': trim(kh_m.i || kh_m.f, '0'),
            's': length(kh_m.i) + coalesce(TRY_CAST(kh_m.e AS INTEGER), 0)
                 - (length(kh_m.i || kh_m.f) - length(ltrim(kh_m.i || kh_m.f, '0')))}],
          lambda kh_q: CASE
            WHEN kh_q.s > greatest(length(kh_q.d), 15) AND kh_q.s <= greatest(length(kh_q.d), 17)
              THEN error('kqlhunt: the text of a real between 1e15 and 1e17 is not supported (.NET versions print it differently)')
            WHEN kh_q.s > greatest(length(kh_q.d), 15) OR kh_q.s < -3 THEN
              left(kh_q.d, 1) || (CASE WHEN length(kh_q.d) > 1 THEN '.' || substr(kh_q.d, 2) ELSE '' END)
              || 'E' || (CASE WHEN kh_q.s - 1 < 0 THEN '-' ELSE '+' END)
              || (CASE WHEN abs(kh_q.s - 1) < 10 THEN '0' ELSE '' END) || CAST(abs(kh_q.s - 1) AS VARCHAR)
            WHEN kh_q.s <= 0 THEN '0.' || repeat('0', -kh_q.s) || kh_q.d
            WHEN kh_q.s >= length(kh_q.d) THEN kh_q.d || repeat('0', kh_q.s - length(kh_q.d))
            ELSE left(kh_q.d, kh_q.s) || '.' || substr(kh_q.d, kh_q.s + 1)
          END), 1)), 1)
    END"""


@cache
def _real_text_body() -> exp.Expression:
    return sqlglot.parse_one(REAL_TEXT_SQL, dialect="duckdb")


def real_text(x: exp.Expression) -> exp.Expression:
    """Kusto's tostring() of a real (null -> '')."""
    name = f"kh_r{next(_names)}"
    body = _real_text_body().copy().transform(
        lambda n: col(name) if isinstance(n, exp.Column) and n.name == "kh_r" and not n.table else n)
    text = fn("list_extract", fn("list_transform", exp.Array(expressions=[x]), lam(name, body)), number(1))
    return exp.Coalesce(this=text, expressions=[string("")])


@register("tostring")
def tostring(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type
    if t.name == "real":
        return real_text(a[0])
    if t.name == "decimal":
        # .NET's decimal prints its own scale (1.50 stays "1.50"), which DECIMAL(38, 18) does not keep
        raise unsupported("tostring() of a decimal", e.span)
    return to_string(c, t, a[0])


@register("todynamic", "parse_json", "toobject", "parsejson")
def parse_json(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t, x = e.args[0].type, a[0]
    if t.name == "dynamic":
        return x
    if t.name == "string":
        # docs: JSON text is parsed (printed back minified, as Kusto serialises dynamic values); text that is
        # not JSON stays a string value; an empty string is null (docs:isnull-function's table)
        return let(x, lambda s: case((exp.EQ(this=s, expression=string("")), cast(null(), "JSON")),
                                     (fn("json_valid", s), cast(fn("json", s), "JSON")),
                                     default=cast(fn("to_json", s), "JSON")))
    return to_json(c, t, x)


__all__ = ["REAL_TEXT_SQL", "arithmetic", "compare", "negate", "real_text", "wrap32", "wrap64"]
