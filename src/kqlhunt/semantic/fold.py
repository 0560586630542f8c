"""Constant folding of bound scalar expressions, with Kusto's arithmetic.

Folding gives `explain` the values of a rule's parameters (`TotalEventsThresholdMax` = 86399000) and
keeps generated SQL small. Only calls whose arguments are all literals fold; anything this module does
not know stays a call and is evaluated by the engine, so folding can never change an answer. The rules
are those of the SQL lowerings (`kqlhunt.sql.lowerings.conversions`): long arithmetic wraps, timespan
arithmetic that overflows fails (it is left to the engine), a long narrowed to int wraps to 32 bits,
and a real converted to an integer folds only inside the type's range (Kusto's own constant folder
and its row engine disagree outside it, so the lowering refuses those). A negative zero is never
folded into a literal: a real literal loses its sign on the way into SQL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import KType

TICKS_PER_SECOND = 10_000_000
LONG_MIN, LONG_MAX = -(2 ** 63), 2 ** 63 - 1


def _int_div(a: int, b: int) -> int | None:
    if b == 0:
        return None
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _int_mod(a: int, b: int) -> int | None:
    """Kusto's modulo is never negative: 0 <= a % b < abs(b)."""
    if b == 0:
        return None
    return a % abs(b)


def _wrap(v: int) -> int:
    """64-bit two's-complement wrap-around, as Kusto's long arithmetic overflows."""
    return (v - LONG_MIN) % 2 ** 64 + LONG_MIN


def _wrap32(v: int) -> int:
    """The low 32 bits, sign-extended: C#'s unchecked (int) of a long (measured: toint(9999999999))."""
    return (v + 2 ** 31) % 2 ** 32 - 2 ** 31


def _ticks(v: int) -> int:
    """Timespan arithmetic is .NET TimeSpan's, which fails on overflow: leave such a call to the engine."""
    if not LONG_MIN <= v <= LONG_MAX:
        raise _NoFold
    return v


def _arith(op: str, t: KType, a: object, b: object, at: KType, bt: KType) -> object:
    if a is None or b is None:
        return None
    names = (at.name, bt.name)
    if t.name == "datetime":
        dt, ts = (a, b) if names[0] == "datetime" else (b, a)
        delta = timedelta(microseconds=int(ts) // 10)  # type: ignore[call-overload]
        return dt + delta if op == "+" else dt - delta  # type: ignore[operator]
    if names == ("datetime", "datetime"):
        d = a - b  # type: ignore[operator]
        return (d.days * 86400 + d.seconds) * TICKS_PER_SECOND + d.microseconds * 10
    if t.name == "timespan":
        if op in "+-":
            return _ticks(a + b if op == "+" else a - b)  # type: ignore[operator]
        if op == "*":
            return _ticks(int(round(a * b)))  # type: ignore[operator]  # TimeSpan * double: Math.Round
        if op == "/":
            if not b:
                raise _NoFold  # .NET fails; the engine does too
            return _ticks(int(a / b))  # type: ignore[operator]
        if op == "%":
            if not b or a < 0 or b < 0:  # type: ignore[operator]
                raise _NoFold  # negative ticks: Kusto's rule is not known (the lowering fails those rows)
            return int(a) % int(b)  # type: ignore[call-overload]
    if t.name == "real":
        a, b = float(a), float(b)  # type: ignore[arg-type]
        if op == "/":
            if b == 0:
                return math.copysign(math.inf, a) if a else math.nan
            return a / b
        if op == "%":
            return math.fmod(math.fmod(a, b) + abs(b), abs(b)) if b else math.nan
        return {"+": a + b, "-": a - b, "*": a * b}[op]
    if t.name == "long":
        a, b = int(a), int(b)  # type: ignore[call-overload]
        if op == "/":
            return _int_div(a, b)
        if op == "%":
            return _int_mod(a, b)
        return _wrap({"+": a + b, "-": a - b, "*": a * b}[op])
    raise _NoFold


class _NoFold(Exception):
    pass


def _to_int(v: object, bits: int) -> int | None:
    """toint (32) / tolong (64) of a bool, an integer, a timespan's ticks or a real."""
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v) or not lo <= math.trunc(v) <= hi:
            raise _NoFold  # refused by the lowering: Kusto's folder and row engine disagree
        return math.trunc(v)
    if isinstance(v, int):
        return _wrap32(v) if bits == 32 else v
    raise _NoFold


def _make_timespan(args: list[object]) -> object:
    if any(a is None for a in args):
        return None
    nums = [float(a) for a in args]  # type: ignore[arg-type]
    if len(nums) == 2:
        h, m, s, d = nums[0], nums[1], 0.0, 0.0
    elif len(nums) == 3:
        h, m, s, d = nums[0], nums[1], nums[2], 0.0
    else:
        d, h, m, s = nums
    seconds = ((d * 24 + h) * 60 + m) * 60 + s
    return int(round(seconds * TICKS_PER_SECOND))


_UNARY: dict[str, Callable[[object], object]] = {
    "toint": lambda v: _to_int(v, 32),
    "tolong": lambda v: _to_int(v, 64),
    "toreal": lambda v: None if v is None else float(v),  # type: ignore[arg-type]
}


def fold(e: B.BExpr) -> B.BExpr:
    """Return a `BLit` when `e` is a constant expression this folder understands, else `e`."""
    if not isinstance(e, B.BCall):
        return e
    args = [fold(a) for a in e.args]
    if not all(isinstance(a, B.BLit) for a in args):
        if any(a is not b for a, b in zip(args, e.args, strict=True)):
            return B.BCall(e.type, e.span, e.fn, tuple(args))
        return e
    lits: list[B.BLit] = args  # type: ignore[assignment]
    values = [a.value for a in lits]
    try:
        value = _fold_call(e, lits, values)
    except (_NoFold, TypeError, ValueError, OverflowError, ZeroDivisionError):
        return B.BCall(e.type, e.span, e.fn, tuple(args))
    if isinstance(value, float) and value == 0 and math.copysign(1.0, value) < 0:
        return B.BCall(e.type, e.span, e.fn, tuple(args))  # -0.0: a SQL literal would lose the sign
    return B.BLit(e.type, e.span, value)


def _fold_call(e: B.BCall, lits: list[B.BLit], values: list[object]) -> object:
    fn = e.fn
    if fn in ("+", "-", "*", "/", "%"):
        if lits[0].type.name in ("decimal", "dynamic", "null") or lits[1].type.name in ("decimal", "dynamic", "null"):
            raise _NoFold
        return _arith(fn, e.type, values[0], values[1], lits[0].type, lits[1].type)
    if fn == "neg":
        if values[0] is None:
            return None
        if lits[0].type.name in ("long", "int"):
            return _wrap(-int(values[0]))  # type: ignore[call-overload]
        if lits[0].type.name == "timespan":
            return _ticks(-int(values[0]))  # type: ignore[call-overload]
        if lits[0].type.name == "real":
            return -float(values[0])  # type: ignore[arg-type]
        raise _NoFold
    if fn == "totimespan" and lits[0].type.name == "timespan":
        return values[0]
    if fn in _UNARY and len(values) == 1 and lits[0].type.name in ("long", "int", "real", "timespan", "bool"):
        return _UNARY[fn](values[0])
    if fn == "make_timespan":
        return _make_timespan(values)
    if fn in ("and", "or", "not") and all(isinstance(v, bool) or v is None for v in values):
        return _logic(fn, values)
    if fn in ("==", "!=", "<", "<=", ">", ">=") and _same_kind(lits):
        a, b = values
        if a is None or b is None:
            # docs:null-values: null == value is false and null != value true; null with null stays null
            if fn in ("==", "!=") and (a is not None or b is not None):
                return fn == "!="
            return None
        if "real" in (lits[0].type.name, lits[1].type.name):
            a, b = float(a), float(b)  # type: ignore[arg-type]  # .NET widens a long to double (exactness lost)
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[fn]  # type: ignore[operator]
    raise _NoFold


def _same_kind(lits: list[B.BLit]) -> bool:
    a, b = lits[0].type, lits[1].type
    if a.is_numeric and b.is_numeric:
        return a.name != "decimal" and b.name != "decimal"
    return a.name == b.name and a.name in ("string", "datetime", "timespan", "bool")


def _logic(fn: str, values: list[object]) -> object:
    if fn == "not":
        return None if values[0] is None else not values[0]
    a, b = values
    if fn == "and":
        if a is False or b is False:
            return False
        return None if a is None or b is None else True
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


__all__ = ["fold"]
