"""DuckDB lowerings of the mathx functions: scalar math, bit operations, statistics, unit conversions.

Kusto's engine is .NET, so its math is IEEE double arithmetic with .NET's conventions; DuckDB's built-ins
agree for most inputs, and each lowering bridges where they do not (the null cases the docs give for
`log`, `sqrt`, `acos`; 64-bit wrap-around of `binary_shift_left`; .NET's scaled rounding). For inputs
where Kusto's answer is not documented and no measurement is at hand (NaN into `sign()`, `sqrt()`,
`log()` or `acos()`, `gamma()` at its poles, a unit conversion that leaves the finite range), the query
fails at run time with DuckDB's `error()` rather than returning a guess. Functions SQL cannot express exactly (`erf`, the beta
distribution, `welch_test`, conversions between units named by columns) call the Python UDFs of
`kqlhunt.engines.runtime.mathx`.
"""

from __future__ import annotations

import ast
import math
import re
from functools import cache

from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.sql.expressions import (
    ExprCompiler,
    Lowering,
    case,
    cast,
    fn,
    is_null,
    null,
    number,
    paren,
    string,
)
from kqlhunt.sql.functions import const_str, const_value, refuse_at_run_time, register
from kqlhunt.sql.types import physical

LONG_MIN = -(2 ** 63)
LONG_MAX = 2 ** 63 - 1


def as_double(arg: B.BExpr, sql: exp.Expression) -> exp.Expression:
    return sql if arg.type.name == "real" else cast(sql, "DOUBLE")


def as_bigint(arg: B.BExpr, sql: exp.Expression) -> exp.Expression:
    return sql if arg.type.name == "long" else cast(sql, "BIGINT")


def double(value: float) -> exp.Expression:
    """A DOUBLE constant, exactly: DuckDB would read `0.3048` as a DECIMAL and do decimal arithmetic."""
    return cast(string(repr(float(value))), "DOUBLE")


fail = refuse_at_run_time


def _null_double() -> exp.Expression:
    return cast(null(), "DOUBLE")


# ---------------------------------------------------------------- real functions


def _unary(sql_name: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
        return fn(sql_name, as_double(e.args[0], a[0]))

    return lowering


# same IEEE semantics as .NET's Math.*: NaN in gives NaN, sin(inf) is NaN, cot(0) is inf
for _name in ("sin", "cos", "tan", "atan", "cot", "exp", "degrees", "radians"):
    register(_name)(_unary(_name))


@register("atan2", "pow")
def binary_real(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn(e.fn, as_double(e.args[0], a[0]), as_double(e.args[1], a[1]))


@register("exp2", "exp10")
def exp_base(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("pow", double(2.0 if e.fn == "exp2" else 10.0), as_double(e.args[0], a[0]))


@register("pi")
def pi(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("pi")


@register("acos", "asin")
def arc(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # the docs: null outside [-1, 1] (where .NET answers NaN)
    x = as_double(e.args[0], a[0])
    outside = exp.Or(this=exp.LT(this=x, expression=double(-1.0)), expression=exp.GT(this=x, expression=double(1.0)))
    return case((fn("isnan", x), _nan_in(e.fn)), (outside, _null_double()), default=fn(e.fn, x))


@register("log", "log2", "log10", "sqrt")
def non_negative(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # the docs: null for a negative argument; log(0) stays -inf and sqrt(-0.0) stays -0.0 (IEEE)
    x = as_double(e.args[0], a[0])
    sql_name = "ln" if e.fn == "log" else e.fn
    return case((fn("isnan", x), _nan_in(e.fn)), (exp.LT(this=x, expression=double(0.0)), _null_double()),
                default=fn(sql_name, x))


def _nan_in(name: str) -> exp.Expression:
    # Kusto turns these functions' NaN results into null: whether by testing the argument's range (NaN
    # passes through) or the result (NaN becomes null) is not documented, so NaN arguments are not answered
    return fail(f"{name}() of NaN")


@register("gamma", "loggamma")
def gamma(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    x = as_double(e.args[0], a[0])
    pole = exp.And(this=exp.LTE(this=x, expression=double(0.0)), expression=exp.EQ(this=x, expression=fn("floor", x)))
    return case((pole, fail(f"{e.fn}() at a pole (0, -1, -2, ...)")),
                default=fn("gamma" if e.fn == "gamma" else "lgamma", x))


@register("erf", "erfc")
def erf(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn(f"kh_{e.fn}", as_double(e.args[0], a[0]))


@register("sign")
def sign(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    out = cast(fn("sign", a[0]), "DOUBLE")
    if e.args[0].type.name != "real":
        return out
    # .NET's Math.Sign throws on NaN; DuckDB answers 0
    return case((fn("isnan", a[0]), fail("sign() of NaN")), default=out)


@register("ceiling")
def ceiling(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type.name
    if t in ("int", "long"):
        return cast(a[0], physical(e.type))  # already whole; int stays int, long answers real
    return cast(fn("ceil", a[0]), physical(e.type))


# ---------------------------------------------------------------- round


MAX_DIGITS = 15  # .NET's Math.Round(double, digits) accepts 0..15 digits


@register("round")
def round_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    digits = 0
    if len(e.args) > 1:
        value = const_value(e.args[1])
        if not isinstance(value, int) or isinstance(value, bool):
            raise unsupported("round() with a non-constant precision", e.args[1].span)
        if abs(value) > MAX_DIGITS:
            raise unsupported(f"round() to more than {MAX_DIGITS} digits either side of the point", e.args[1].span)
        digits = value
    t, x = e.args[0].type.name, a[0]
    if t in ("int", "long"):
        return x if digits >= 0 else cast(fn("round", x, number(digits)), physical(e.type))
    if t == "decimal":
        return cast(fn("round", x, number(digits)), physical(e.type))
    if digits == 0:
        return fn("round", x)
    # as .NET's Math.Round(value, digits): scale by 10^digits, round half away from zero, scale back; values
    # of 1e16 and more are whole already (a negative precision divides by the scale, then multiplies)
    scale = double(10.0 ** abs(digits))
    if digits > 0:
        scaled = exp.Div(this=fn("round", exp.Mul(this=x, expression=scale)), expression=scale)
        return case((exp.LT(this=fn("abs", x), expression=double(1e16)), scaled), default=x)
    return exp.Mul(this=fn("round", exp.Div(this=x, expression=scale)), expression=scale)


# ---------------------------------------------------------------- bit operations


@register("binary_and", "binary_or", "binary_xor")
def bitwise(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    x, y = as_bigint(e.args[0], a[0]), as_bigint(e.args[1], a[1])
    if e.fn == "binary_xor":
        return fn("xor", x, y)
    node = exp.BitwiseAnd if e.fn == "binary_and" else exp.BitwiseOr
    return paren(node(this=x, expression=y))


@register("binary_not")
def binary_not(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return paren(exp.BitwiseNot(this=as_bigint(e.args[0], a[0])))


@register("binary_shift_left", "binary_shift_right")
def shift(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # the docs: value shifted by shift % 64, null for a negative shift; .NET's long shifts wrap around
    x, n = as_bigint(e.args[0], a[0]), as_bigint(e.args[1], a[1])
    bits = paren(exp.Mod(this=n, expression=number(64)))
    if e.fn == "binary_shift_right":
        out: exp.Expression = paren(exp.BitwiseRightShift(this=x, expression=bits))  # arithmetic, as .NET
    else:
        # DuckDB raises on overflow, so shift only the bits that stay and set the sign bit by hand
        kept = exp.BitwiseAnd(this=x, expression=paren(exp.BitwiseRightShift(
            this=cast(number(LONG_MAX), "BIGINT"), expression=bits)))
        moved = paren(exp.BitwiseLeftShift(this=paren(kept), expression=bits))
        top = exp.BitwiseAnd(this=paren(exp.BitwiseRightShift(
            this=x, expression=paren(exp.Sub(this=number(63), expression=bits)))), expression=number(1))
        sign_bit = case((exp.EQ(this=top, expression=number(1)), cast(number(LONG_MIN), "BIGINT")),
                        default=cast(number(0), "BIGINT"))
        out = paren(exp.BitwiseOr(this=moved, expression=sign_bit))
    return case((exp.LT(this=n, expression=number(0)), cast(null(), "BIGINT")), default=out)


@register("bitset_count_ones")
def bitset_count_ones(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("bit_count", as_bigint(e.args[0], a[0])), "BIGINT")


# ---------------------------------------------------------------- statistics


@register("beta_cdf", "beta_inv", "beta_pdf", "welch_test")
def statistics(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn(f"kh_{e.fn}", *[as_double(x, s) for x, s in zip(e.args, a, strict=True)])


# ---------------------------------------------------------------- unit conversions

# Kusto converts units with UnitsNet. The unit lists on the convert_* doc pages are exactly UnitsNet's
# in releases 4.130 to 4.138 (Length.DataMile added, Speed.Mach not yet); the formulas below are
# that release's, copied from its generated code (C# double arithmetic, `x` the value). A conversion
# goes to the quantity's base unit and from there to the target, each step a new UnitsNet quantity:
# one that is NaN or infinite throws, and what Kusto makes of that is not documented.
# quantity -> (base unit, {unit: (to base, from base)})
UNITS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "angle": ("Degree", {
        "Arcminute": ("x / 60", "x * 60"),
        "Arcsecond": ("x / 3600", "x * 3600"),
        "Centiradian": ("(x * 180 / pi) * 1e-2", "(x / 180 * pi) / 1e-2"),
        "Deciradian": ("(x * 180 / pi) * 1e-1", "(x / 180 * pi) / 1e-1"),
        "Gradian": ("x * 0.9", "x / 0.9"),
        "Microdegree": ("x * 1e-6", "x / 1e-6"),
        "Microradian": ("(x * 180 / pi) * 1e-6", "(x / 180 * pi) / 1e-6"),
        "Millidegree": ("x * 1e-3", "x / 1e-3"),
        "Milliradian": ("(x * 180 / pi) * 1e-3", "(x / 180 * pi) / 1e-3"),
        "Nanodegree": ("x * 1e-9", "x / 1e-9"),
        "Nanoradian": ("(x * 180 / pi) * 1e-9", "(x / 180 * pi) / 1e-9"),
        "NatoMil": ("x * 9 / 160", "x * 160 / 9"),
        "Radian": ("x * 180 / pi", "x / 180 * pi"),
        "Revolution": ("x * 360", "x / 360"),
        "Tilt": ("asin(x) * 180 / pi", "sin(x / 180 * pi)"),
    }),
    "energy": ("Joule", {
        "BritishThermalUnit": ("x * 1055.05585262", "x / 1055.05585262"),
        "Calorie": ("x * 4.184", "x / 4.184"),
        "DecathermEc": ("(x * 1.05505585262e8) * 1e1", "(x / 1.05505585262e8) / 1e1"),
        "DecathermImperial": ("(x * 1.05505585257348e8) * 1e1", "(x / 1.05505585257348e8) / 1e1"),
        "DecathermUs": ("(x * 1.054804e8) * 1e1", "(x / 1.054804e8) / 1e1"),
        "ElectronVolt": ("x * 1.602176565e-19", "x / 1.602176565e-19"),
        "Erg": ("x * 1e-7", "x / 1e-7"),
        "FootPound": ("x * 1.355817948", "x / 1.355817948"),
        "GigabritishThermalUnit": ("(x * 1055.05585262) * 1e9", "(x / 1055.05585262) / 1e9"),
        "GigaelectronVolt": ("(x * 1.602176565e-19) * 1e9", "(x / 1.602176565e-19) / 1e9"),
        "Gigajoule": ("x * 1e9", "x / 1e9"),
        "GigawattDay": ("(x * 24 * 3600) * 1e9", "(x / (24 * 3600)) / 1e9"),
        "GigawattHour": ("(x * 3600) * 1e9", "(x / 3600) / 1e9"),
        "HorsepowerHour": ("x * 2.6845195377e6", "x / 2.6845195377e6"),
        "KilobritishThermalUnit": ("(x * 1055.05585262) * 1e3", "(x / 1055.05585262) / 1e3"),
        "Kilocalorie": ("(x * 4.184) * 1e3", "(x / 4.184) / 1e3"),
        "KiloelectronVolt": ("(x * 1.602176565e-19) * 1e3", "(x / 1.602176565e-19) / 1e3"),
        "Kilojoule": ("x * 1e3", "x / 1e3"),
        "KilowattDay": ("(x * 24 * 3600) * 1e3", "(x / (24 * 3600)) / 1e3"),
        "KilowattHour": ("(x * 3600) * 1e3", "(x / 3600) / 1e3"),
        "MegabritishThermalUnit": ("(x * 1055.05585262) * 1e6", "(x / 1055.05585262) / 1e6"),
        "Megacalorie": ("(x * 4.184) * 1e6", "(x / 4.184) / 1e6"),
        "MegaelectronVolt": ("(x * 1.602176565e-19) * 1e6", "(x / 1.602176565e-19) / 1e6"),
        "Megajoule": ("x * 1e6", "x / 1e6"),
        "MegawattDay": ("(x * 24 * 3600) * 1e6", "(x / (24 * 3600)) / 1e6"),
        "MegawattHour": ("(x * 3600) * 1e6", "(x / 3600) / 1e6"),
        "Millijoule": ("x * 1e-3", "x / 1e-3"),
        "TeraelectronVolt": ("(x * 1.602176565e-19) * 1e12", "(x / 1.602176565e-19) / 1e12"),
        "TerawattDay": ("(x * 24 * 3600) * 1e12", "(x / (24 * 3600)) / 1e12"),
        "TerawattHour": ("(x * 3600) * 1e12", "(x / 3600) / 1e12"),
        "ThermEc": ("x * 1.05505585262e8", "x / 1.05505585262e8"),
        "ThermImperial": ("x * 1.05505585257348e8", "x / 1.05505585257348e8"),
        "ThermUs": ("x * 1.054804e8", "x / 1.054804e8"),
        "WattDay": ("x * 24 * 3600", "x / (24 * 3600)"),
        "WattHour": ("x * 3600", "x / 3600"),
    }),
    "force": ("Newton", {
        "Decanewton": ("x * 1e1", "x / 1e1"),
        "Dyn": ("x / 1e5", "x * 1e5"),
        "KiloPond": ("x * 9.80665002864", "x / 9.80665002864"),
        "KilogramForce": ("x * 9.80665002864", "x / 9.80665002864"),
        "Kilonewton": ("x * 1e3", "x / 1e3"),
        "KilopoundForce": (
            "(x * 4.4482216152605095551842641431421) * 1e3",
            "(x / 4.4482216152605095551842641431421) / 1e3",
        ),
        "Meganewton": ("x * 1e6", "x / 1e6"),
        "Micronewton": ("x * 1e-6", "x / 1e-6"),
        "Millinewton": ("x * 1e-3", "x / 1e-3"),
        "OunceForce": ("x * 2.780138509537812e-1", "x / 2.780138509537812e-1"),
        "PoundForce": ("x * 4.4482216152605095551842641431421", "x / 4.4482216152605095551842641431421"),
        "Poundal": ("x * 0.13825502798973041652092282466083", "x / 0.13825502798973041652092282466083"),
        "ShortTonForce": ("x * 8.896443230521e3", "x / 8.896443230521e3"),
        "TonneForce": ("x * 9.80665002864e3", "x / 9.80665002864e3"),
    }),
    "length": ("Meter", {
        "Angstrom": ("x * 1e-10", "x / 1e-10"),
        "AstronomicalUnit": ("x * 1.4959787070e11", "x / 1.4959787070e11"),
        "Centimeter": ("x * 1e-2", "x / 1e-2"),
        "Chain": ("x * 20.1168", "x / 20.1168"),
        "DataMile": ("x * 1828.8", "x / 1828.8"),
        "Decameter": ("x * 1e1", "x / 1e1"),
        "Decimeter": ("x * 1e-1", "x / 1e-1"),
        "DtpPica": ("x / 236.220472441", "x * 236.220472441"),
        "DtpPoint": ("(x / 72) * 2.54e-2", "(x / 2.54e-2) * 72"),
        "Fathom": ("x * 1.8288", "x / 1.8288"),
        "Foot": ("x * 0.3048", "x / 0.3048"),
        "Hand": ("x * 1.016e-1", "x / 1.016e-1"),
        "Hectometer": ("x * 1e2", "x / 1e2"),
        "Inch": ("x * 2.54e-2", "x / 2.54e-2"),
        "KilolightYear": ("(x * 9.46073047258e15) * 1e3", "(x / 9.46073047258e15) / 1e3"),
        "Kilometer": ("x * 1e3", "x / 1e3"),
        "Kiloparsec": ("(x * 3.08567758128e16) * 1e3", "(x / 3.08567758128e16) / 1e3"),
        "LightYear": ("x * 9.46073047258e15", "x / 9.46073047258e15"),
        "MegalightYear": ("(x * 9.46073047258e15) * 1e6", "(x / 9.46073047258e15) / 1e6"),
        "Megaparsec": ("(x * 3.08567758128e16) * 1e6", "(x / 3.08567758128e16) / 1e6"),
        "Microinch": ("x * 2.54e-8", "x / 2.54e-8"),
        "Micrometer": ("x * 1e-6", "x / 1e-6"),
        "Mil": ("x * 2.54e-5", "x / 2.54e-5"),
        "Mile": ("x * 1609.34", "x / 1609.34"),
        "Millimeter": ("x * 1e-3", "x / 1e-3"),
        "Nanometer": ("x * 1e-9", "x / 1e-9"),
        "NauticalMile": ("x * 1852", "x / 1852"),
        "Parsec": ("x * 3.08567758128e16", "x / 3.08567758128e16"),
        "PrinterPica": ("x / 237.106301584", "x * 237.106301584"),
        "PrinterPoint": ("(x / 72.27) * 2.54e-2", "(x / 2.54e-2) * 72.27"),
        "Shackle": ("x * 27.432", "x / 27.432"),
        "SolarRadius": ("x * 6.95510000E+08", "x / 6.95510000E+08"),
        "Twip": ("x / 56692.913385826", "x * 56692.913385826"),
        "UsSurveyFoot": ("x * 1200 / 3937", "x * 3937 / 1200"),
        "Yard": ("x * 0.9144", "x / 0.9144"),
    }),
    "mass": ("Kilogram", {
        "Centigram": ("(x / 1e3) * 1e-2", "(x * 1e3) / 1e-2"),
        "Decagram": ("(x / 1e3) * 1e1", "(x * 1e3) / 1e1"),
        "Decigram": ("(x / 1e3) * 1e-1", "(x * 1e3) / 1e-1"),
        "EarthMass": ("x * 5.9722E+24", "x / 5.9722E+24"),
        "Grain": ("x / 15432.358352941431", "x * 15432.358352941431"),
        "Gram": ("x / 1e3", "x * 1e3"),
        "Hectogram": ("(x / 1e3) * 1e2", "(x * 1e3) / 1e2"),
        "Kilopound": ("(x * 0.45359237) * 1e3", "(x / 0.45359237) / 1e3"),
        "Kilotonne": ("(x * 1e3) * 1e3", "(x / 1e3) / 1e3"),
        "LongHundredweight": ("x / 0.01968413055222121", "x * 0.01968413055222121"),
        "LongTon": ("x * 1.0160469088e3", "x / 1.0160469088e3"),
        "Megapound": ("(x * 0.45359237) * 1e6", "(x / 0.45359237) / 1e6"),
        "Megatonne": ("(x * 1e3) * 1e6", "(x / 1e3) / 1e6"),
        "Microgram": ("(x / 1e3) * 1e-6", "(x * 1e3) / 1e-6"),
        "Milligram": ("(x / 1e3) * 1e-3", "(x * 1e3) / 1e-3"),
        "Nanogram": ("(x / 1e3) * 1e-9", "(x * 1e3) / 1e-9"),
        "Ounce": ("x / 35.2739619", "x * 35.2739619"),
        "Pound": ("x * 0.45359237", "x / 0.45359237"),
        "ShortHundredweight": ("x / 0.022046226218487758", "x * 0.022046226218487758"),
        "ShortTon": ("x * 9.0718474e2", "x / 9.0718474e2"),
        "Slug": ("x / 6.852176556196105e-2", "x * 6.852176556196105e-2"),
        "SolarMass": ("x * 1.98947e30", "x / 1.98947e30"),
        "Stone": ("x / 0.1574731728702698", "x * 0.1574731728702698"),
        "Tonne": ("x * 1e3", "x / 1e3"),
    }),
    "speed": ("MeterPerSecond", {
        "CentimeterPerHour": ("(x / 3600) * 1e-2", "(x * 3600) / 1e-2"),
        "CentimeterPerMinute": ("(x / 60) * 1e-2", "(x * 60) / 1e-2"),
        "CentimeterPerSecond": ("x * 1e-2", "x / 1e-2"),
        "DecimeterPerMinute": ("(x / 60) * 1e-1", "(x * 60) / 1e-1"),
        "DecimeterPerSecond": ("x * 1e-1", "x / 1e-1"),
        "FootPerHour": ("x * 0.3048 / 3600", "x / 0.3048 * 3600"),
        "FootPerMinute": ("x * 0.3048 / 60", "x / 0.3048 * 60"),
        "FootPerSecond": ("x * 0.3048", "x / 0.3048"),
        "InchPerHour": ("(x / 3600) * 2.54e-2", "(x / 2.54e-2) * 3600"),
        "InchPerMinute": ("(x / 60) * 2.54e-2", "(x / 2.54e-2) * 60"),
        "InchPerSecond": ("x * 2.54e-2", "x / 2.54e-2"),
        "KilometerPerHour": ("(x / 3600) * 1e3", "(x * 3600) / 1e3"),
        "KilometerPerMinute": ("(x / 60) * 1e3", "(x * 60) / 1e3"),
        "KilometerPerSecond": ("x * 1e3", "x / 1e3"),
        "Knot": ("x * 0.514444", "x / 0.514444"),
        "MeterPerHour": ("x / 3600", "x * 3600"),
        "MeterPerMinute": ("x / 60", "x * 60"),
        "MicrometerPerMinute": ("(x / 60) * 1e-6", "(x * 60) / 1e-6"),
        "MicrometerPerSecond": ("x * 1e-6", "x / 1e-6"),
        "MilePerHour": ("x * 0.44704", "x / 0.44704"),
        "MillimeterPerHour": ("(x / 3600) * 1e-3", "(x * 3600) / 1e-3"),
        "MillimeterPerMinute": ("(x / 60) * 1e-3", "(x * 60) / 1e-3"),
        "MillimeterPerSecond": ("x * 1e-3", "x / 1e-3"),
        "NanometerPerMinute": ("(x / 60) * 1e-9", "(x * 60) / 1e-9"),
        "NanometerPerSecond": ("x * 1e-9", "x / 1e-9"),
        "UsSurveyFootPerHour": ("(x * 1200 / 3937) / 3600", "(x * 3937 / 1200) * 3600"),
        "UsSurveyFootPerMinute": ("(x * 1200 / 3937) / 60", "(x * 3937 / 1200) * 60"),
        "UsSurveyFootPerSecond": ("x * 1200 / 3937", "x * 3937 / 1200"),
        "YardPerHour": ("x * 0.9144 / 3600", "x / 0.9144 * 3600"),
        "YardPerMinute": ("x * 0.9144 / 60", "x / 0.9144 * 60"),
        "YardPerSecond": ("x * 0.9144", "x / 0.9144"),
    }),
    "temperature": ("Kelvin", {
        "DegreeCelsius": ("x + 273.15", "x - 273.15"),
        "DegreeDelisle": ("x * -2 / 3 + 373.15", "(x - 373.15) * -3 / 2"),
        "DegreeFahrenheit": ("x * 5 / 9 + 459.67 * 5 / 9", "(x - 459.67 * 5 / 9) * 9 / 5"),
        "DegreeNewton": ("x * 100 / 33 + 273.15", "(x - 273.15) * 33 / 100"),
        "DegreeRankine": ("x * 5 / 9", "x * 9 / 5"),
        "DegreeReaumur": ("x * 5 / 4 + 273.15", "(x - 273.15) * 4 / 5"),
        "DegreeRoemer": ("x * 40 / 21 + 273.15 - 7.5 * 40 / 21", "(x - (273.15 - 7.5 * 40 / 21)) * 21 / 40"),
        "MillidegreeCelsius": ("x / 1000 + 273.15", "(x - 273.15) * 1000"),
        "SolarTemperature": ("x * 5778", "x / 5778"),
    }),
    "volume": ("CubicMeter", {
        "AcreFoot": ("x / 0.000810714", "x * 0.000810714"),
        "AuTablespoon": ("x * 2e-5", "x / 2e-5"),
        "BoardFoot": ("x * 2.3597372158e-3", "x / 2.3597372158e-3"),
        "Centiliter": ("(x / 1e3) * 1e-2", "(x * 1e3) / 1e-2"),
        "CubicCentimeter": ("x / 1e6", "x * 1e6"),
        "CubicDecimeter": ("x / 1e3", "x * 1e3"),
        "CubicFoot": ("x * 2.8316846592e-2", "x / 2.8316846592e-2"),
        "CubicHectometer": ("x * 1e6", "x / 1e6"),
        "CubicInch": ("x * 1.6387 * 1e-5", "x / (1.6387 * 1e-5)"),
        "CubicKilometer": ("x * 1e9", "x / 1e9"),
        "CubicMicrometer": ("x / 1e18", "x * 1e18"),
        "CubicMile": ("x * 4.16818182544058e9", "x / 4.16818182544058e9"),
        "CubicMillimeter": ("x / 1e9", "x * 1e9"),
        "CubicYard": ("x * 0.764554858", "x / 0.764554858"),
        "Decaliter": ("(x / 1e3) * 1e1", "(x * 1e3) / 1e1"),
        "DecausGallon": ("(x * 0.00378541) * 1e1", "(x / 0.00378541) / 1e1"),
        "Deciliter": ("(x / 1e3) * 1e-1", "(x * 1e3) / 1e-1"),
        "DeciusGallon": ("(x * 0.00378541) * 1e-1", "(x / 0.00378541) / 1e-1"),
        "HectocubicFoot": ("(x * 2.8316846592e-2) * 1e2", "(x / 2.8316846592e-2) / 1e2"),
        "HectocubicMeter": ("x * 1e2", "x / 1e2"),
        "Hectoliter": ("(x / 1e3) * 1e2", "(x * 1e3) / 1e2"),
        "HectousGallon": ("(x * 0.00378541) * 1e2", "(x / 0.00378541) / 1e2"),
        "ImperialBeerBarrel": ("x * 0.16365924", "x / 0.16365924"),
        "ImperialGallon": (
            "x * 0.00454609000000181429905810072407",
            "x / 0.00454609000000181429905810072407",
        ),
        "ImperialOunce": (
            "x * 2.8413062499962901241875439064617e-5",
            "x / 2.8413062499962901241875439064617e-5",
        ),
        "ImperialPint": ("x * 5.6826125e-4", "x / 5.6826125e-4"),
        "KilocubicFoot": ("(x * 2.8316846592e-2) * 1e3", "(x / 2.8316846592e-2) / 1e3"),
        "KilocubicMeter": ("x * 1e3", "x / 1e3"),
        "KiloimperialGallon": (
            "(x * 0.00454609000000181429905810072407) * 1e3",
            "(x / 0.00454609000000181429905810072407) / 1e3",
        ),
        "Kiloliter": ("(x / 1e3) * 1e3", "(x * 1e3) / 1e3"),
        "KilousGallon": ("(x * 0.00378541) * 1e3", "(x / 0.00378541) / 1e3"),
        "Liter": ("x / 1e3", "x * 1e3"),
        "MegacubicFoot": ("(x * 2.8316846592e-2) * 1e6", "(x / 2.8316846592e-2) / 1e6"),
        "MegaimperialGallon": (
            "(x * 0.00454609000000181429905810072407) * 1e6",
            "(x / 0.00454609000000181429905810072407) / 1e6",
        ),
        "Megaliter": ("(x / 1e3) * 1e6", "(x * 1e3) / 1e6"),
        "MegausGallon": ("(x * 0.00378541) * 1e6", "(x / 0.00378541) / 1e6"),
        "MetricCup": ("x * 0.00025", "x / 0.00025"),
        "MetricTeaspoon": ("x * 0.5e-5", "x / 0.5e-5"),
        "Microliter": ("(x / 1e3) * 1e-6", "(x * 1e3) / 1e-6"),
        "Milliliter": ("(x / 1e3) * 1e-3", "(x * 1e3) / 1e-3"),
        "OilBarrel": ("x * 0.158987294928", "x / 0.158987294928"),
        "UkTablespoon": ("x * 1.5e-5", "x / 1.5e-5"),
        "UsBeerBarrel": ("x * 0.1173477658", "x / 0.1173477658"),
        "UsCustomaryCup": ("x * 0.0002365882365", "x / 0.0002365882365"),
        "UsGallon": ("x * 0.00378541", "x / 0.00378541"),
        "UsLegalCup": ("x * 0.00024", "x / 0.00024"),
        "UsOunce": ("x * 2.957352956253760505068307980135e-5", "x / 2.957352956253760505068307980135e-5"),
        "UsPint": ("x * 4.73176473e-4", "x / 4.73176473e-4"),
        "UsQuart": ("x * 9.46352946e-4", "x / 9.46352946e-4"),
        "UsTablespoon": ("x * 1.478676478125e-5", "x / 1.478676478125e-5"),
        "UsTeaspoon": ("x * 4.92892159375e-6", "x / 4.92892159375e-6"),
    }),
}


def unit_known(quantity: str, name: str) -> bool | None:
    """True for one of the quantity's unit names, False for a name that is none (Kusto: null), None when
    Kusto's answer is unknown: a name matching only case-insensitively or after trimming, a number (.NET's
    enum parsing reads those), `Undefined` (UnitsNet 4's zero unit) or a list."""
    base, units = UNITS[quantity]
    if name == base or name in units:
        return True
    loose = name.strip().lower()
    if loose in _lowered(quantity) or loose == "undefined" or "," in name or re.fullmatch(r"[+-]?\d+", loose):
        return None
    return False


@cache
def _lowered(quantity: str) -> frozenset[str]:
    base, units = UNITS[quantity]
    return frozenset(n.lower() for n in (base, *units))


def conversion_steps(quantity: str, source: str, target: str) -> list[str]:
    """The formulas UnitsNet applies, in order: none between equal units, else to the base unit (unless
    already there) and from it (unless the target is the base)."""
    base, units = UNITS[quantity]
    if source == target:
        return []
    steps = [units[source][0]] if source != base else []
    return steps + ([units[target][1]] if target != base else [])


@cache
def parse_formula(formula: str) -> ast.expr:
    return ast.parse(formula, mode="eval").body


def formula_sql(formula: str, x: exp.Expression) -> exp.Expression:
    """A formula as DuckDB SQL over `x`, every constant a DOUBLE, operations in C#'s order."""

    def walk(node: ast.expr) -> exp.Expression:
        match node:
            case ast.Name(id="x"):
                return x
            case ast.Name(id="pi"):
                return double(math.pi)
            case ast.Constant(value=value) if isinstance(value, int | float):
                return double(value)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return paren(exp.Neg(this=walk(operand)))
            case ast.Call(func=ast.Name(id=("sin" | "asin") as name), args=[arg]):
                return fn(name, walk(arg))
            case ast.BinOp(left=left, op=op, right=right):
                node_type = {ast.Add: exp.Add, ast.Sub: exp.Sub, ast.Mult: exp.Mul, ast.Div: exp.Div}[type(op)]
                return paren(node_type(this=walk(left), expression=walk(right)))
        raise ValueError(f"unexpected unit formula {formula!r}")

    return walk(parse_formula(formula))


def _convert(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    quantity = e.fn.removeprefix("convert_")
    value = as_double(e.args[0], a[0])
    source, target = const_str(e.args[1]), const_str(e.args[2])
    if source is None or target is None:
        return fn("kh_convert_units", string(quantity), value, a[1], a[2])
    known = [unit_known(quantity, source), unit_known(quantity, target)]
    if None in known:
        where = e.args[1] if known[0] is None else e.args[2]
        raise unsupported(f"{e.fn}() with the unit name {const_str(where)!r}", where.span,
                          "not one of the documented names, spelled exactly")
    if False in known:
        return _null_double()  # the docs: invalid units give null
    values = [value]
    for formula in conversion_steps(quantity, source, target):
        values.append(formula_sql(formula, values[-1]))
    finite: exp.Expression = fn("isfinite", values[0])
    for v in values[1:]:
        finite = exp.And(this=finite, expression=fn("isfinite", v))
    return case((finite, values[-1]), (is_null(value), _null_double()),
                default=fail(f"{e.fn}() of a value that is or becomes NaN or infinite"))


QUANTITIES = tuple(UNITS)
register(*[f"convert_{q}" for q in QUANTITIES])(_convert)
