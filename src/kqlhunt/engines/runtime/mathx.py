"""Python UDFs of the mathx family: the error function, the beta distribution, Welch's t-test and unit
conversions between units that columns name.

Kusto's documented results are exact to double precision (beta_inv(0.1, 10, 20) = 0.226415022388749,
welch_test of the docs' samples = 0.021378001462864), so the regularized incomplete beta function is
evaluated with its continued fraction to full precision and inverted by bisection down to adjacent
doubles. A null argument gives null. Where Kusto's answer is undocumented the UDF raises, which fails
the query instead of answering differently.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable
from functools import cache

import pyarrow as pa

from kqlhunt.engines.runtime.udfs import Udf, UnknownAnswer
from kqlhunt.sql.lowerings.mathx import conversion_steps, parse_formula, unit_known

_TINY = 1e-300
BETA_PARAM_MAX = 10000.0  # beta_cdf: alpha or beta above this is NaN (the docs)




def _rows(func: Callable[..., float | None], *arrays: pa.Array) -> pa.Array:
    columns = [a.to_pylist() for a in arrays]
    out = [None if any(v is None for v in row) else func(*row) for row in zip(*columns, strict=True)]
    return pa.array(out, pa.float64())


# ---------------------------------------------------------------- error function


def erf_arrow(x: pa.Array) -> pa.Array:
    return _rows(math.erf, x)


def erfc_arrow(x: pa.Array) -> pa.Array:
    return _rows(math.erfc, x)


# ---------------------------------------------------------------- beta distribution


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (modified Lentz), converging fast for x < (a+1)/(a+b+2)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the cumulative beta distribution."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def beta_cdf(x: float, a: float, b: float) -> float:
    # the docs: NaN for x outside [0, 1] and for alpha or beta outside (0, 10000]
    if not (0.0 <= x <= 1.0 and 0.0 < a <= BETA_PARAM_MAX and 0.0 < b <= BETA_PARAM_MAX):
        return math.nan
    return regularized_beta(a, b, x)


def beta_pdf(x: float, a: float, b: float) -> float:
    # the docs: NaN for x outside (0, 1) and for alpha or beta <= 0
    if not (0.0 < x < 1.0 and a > 0.0 and b > 0.0):
        return math.nan
    return math.exp((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - _log_beta(a, b))


def beta_inv(p: float, a: float, b: float) -> float | None:
    # The docs' text puts p <= 0 and p > 1 in one class and alpha <= 0 or beta <= 0 in another, but its
    # example shows the two outcomes swapped from what the text says: p > 1 is null, alpha < 0 is NaN. The
    # example is the engine's output, so the whole first class is null and the second NaN.
    if math.isnan(p) or math.isnan(a) or math.isnan(b):
        return math.nan
    if p <= 0.0 or p > 1.0:
        return None
    if a <= 0.0 or b <= 0.0:
        return math.nan
    if p == 1.0:
        return 1.0  # the cdf reaches 1.0 in doubles before x does; the inverse of 1 is the support's end
    lo, hi = 0.0, 1.0
    while True:  # bisection until lo and hi are adjacent doubles
        mid = lo + (hi - lo) / 2.0
        if mid in (lo, hi):
            return hi if regularized_beta(a, b, hi) - p < p - regularized_beta(a, b, lo) else lo
        if regularized_beta(a, b, mid) < p:
            lo = mid
        else:
            hi = mid


def _beta_udf(func: Callable[[float, float, float], float | None]) -> Callable[..., pa.Array]:
    return lambda x, a, b: _rows(func, x, a, b)


# ---------------------------------------------------------------- Welch's t-test


def welch_test(mean1: float, var1: float, count1: float, mean2: float, var2: float, count2: float) -> float:
    """Two-sided p-value of Welch's t-test: the Student t tail at the Welch-Satterthwaite degrees of
    freedom, as I_{df/(df+t^2)}(df/2, 1/2), exact also for tiny p-values."""
    try:
        s1, s2 = var1 / count1, var2 / count2
        t = (mean1 - mean2) / math.sqrt(s1 + s2)
        df = (s1 + s2) ** 2 / (s1 * s1 / (count1 - 1.0) + s2 * s2 / (count2 - 1.0))
    except (ZeroDivisionError, ValueError, OverflowError):
        raise UnknownAnswer("welch_test() of degenerate samples (a count of 0 or 1, zero or negative "
                            "variances)") from None
    if not (math.isfinite(t) and math.isfinite(df) and df > 0.0):
        raise UnknownAnswer("welch_test() of degenerate samples")
    return regularized_beta(df / 2.0, 0.5, df / (df + t * t))


def welch_arrow(mean1: pa.Array, var1: pa.Array, count1: pa.Array, mean2: pa.Array, var2: pa.Array,
                count2: pa.Array) -> pa.Array:
    return _rows(welch_test, mean1, var1, count1, mean2, var2, count2)


# ---------------------------------------------------------------- unit conversions


@cache
def _formula(formula: str) -> Callable[[float], float]:
    """A UnitsNet formula as a Python function (IEEE double arithmetic in the formula's order)."""

    def walk(node: ast.expr) -> Callable[[float], float]:
        match node:
            case ast.Name(id="x"):
                return lambda x: x
            case ast.Name(id="pi"):
                return lambda x: math.pi
            case ast.Constant(value=value) if isinstance(value, int | float):
                v = float(value)
                return lambda x: v
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                inner = walk(operand)
                return lambda x: -inner(x)
            case ast.Call(func=ast.Name(id=("sin" | "asin") as name), args=[arg]):
                f, inner = getattr(math, name), walk(arg)
                return lambda x: _nan_on_domain_error(f, inner(x))
            case ast.BinOp(left=left, op=op, right=right):
                lhs, rhs = walk(left), walk(right)
                apply = _BINARY[type(op)]
                return lambda x: apply(lhs(x), rhs(x))
        raise ValueError(f"unexpected unit formula {formula!r}")

    return walk(parse_formula(formula))


# every divisor in the formulas is a non-zero constant, and float overflow gives inf, so none raises
_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _nan_on_domain_error(f: Callable[[float], float], x: float) -> float:
    try:
        return f(x)
    except ValueError:
        return math.nan  # .NET's Math.Asin(2) is NaN


def convert_units(quantity: str, value: float, source: str, target: str) -> float | None:
    known = [unit_known(quantity, source), unit_known(quantity, target)]
    if None in known:
        raise UnknownAnswer(f"convert_{quantity}() with the unit name "
                            f"{source if known[0] is None else target!r}")
    if False in known:
        return None  # the docs: invalid units give null
    values = [value]
    for formula in conversion_steps(quantity, source, target):
        values.append(_formula(formula)(values[-1]))
    if not all(math.isfinite(v) for v in values):
        raise UnknownAnswer(f"convert_{quantity}() of a value that is or becomes NaN or infinite")
    return values[-1]


def convert_arrow(quantity: pa.Array, value: pa.Array, source: pa.Array, target: pa.Array) -> pa.Array:
    return _rows(convert_units, quantity, value, source, target)


def _specs() -> Iterable[Udf]:
    d = "DOUBLE"
    yield Udf("kh_erf", erf_arrow, (d,), d)
    yield Udf("kh_erfc", erfc_arrow, (d,), d)
    for name, func in (("beta_cdf", beta_cdf), ("beta_inv", beta_inv), ("beta_pdf", beta_pdf)):
        yield Udf(f"kh_{name}", _beta_udf(func), (d, d, d), d)
    yield Udf("kh_welch_test", welch_arrow, (d,) * 6, d)
    yield Udf("kh_convert_units", convert_arrow, ("VARCHAR", d, "VARCHAR", "VARCHAR"), d)


UDFS = tuple(_specs())
