"""Signatures of the mathx functions: scalar math, bit operations, unit conversions and statistics.

Argument kinds and naming were probed on Kusto.Language (the oracle): functions over reals accept
int, long, real and decimal (not bool, string, timespan or dynamic); bit operations accept int and long
and answer long; `convert_*` takes a real (int and long widen, decimal does not) and two unit names.
Naming `first` (`extend sqrt(x)` is named `x`) holds for most of them; `cot`, `degrees`, `radians`,
`sign`, `pi`, the `is*` tests, `max_of`/`min_of`, `beta_*`, `welch_test` and `convert_*` invent
`Column1`. Dynamic arguments are refused rather than guessed: Kusto.Language rejects them, and what the
engine would convert them to is not documented.
"""

from __future__ import annotations

from kqlhunt.semantic.bound import BExpr
from kqlhunt.semantic.functions import TypeRule, TypeRuleError, UnsupportedTypes, scalar
from kqlhunt.semantic.types import BOOL, LONG, REAL, TIMESPAN, KType, common_type

INTEGERS = ("int", "long")
NUMBERS = ("int", "long", "real", "decimal")


def _check(args: list[BExpr], accepted: tuple[str, ...], conversion: str, first: int = 1) -> None:
    """Each argument's type is one of `accepted`; `conversion` is the function a user would convert with."""
    kind = "an integer" if conversion == "tolong" else "a number"
    for i, a in enumerate(args, start=first):
        name = a.type.name
        if name in accepted:
            continue
        if name == "null":
            raise TypeRuleError(f"argument {i}: a bare `null` is no value in Kusto (write a typed null: real(null))")
        if name == "dynamic":
            raise UnsupportedTypes(f"a dynamic argument {i} (convert it with {conversion}() first)")
        raise TypeRuleError(f"argument {i} must be {kind}, not {name}")


def numbers(result: KType) -> TypeRule:
    """Every argument a number (int, long, real or decimal); a fixed result type."""

    def rule(args: list[BExpr]) -> KType:
        _check(args, NUMBERS, "toreal")
        return result

    return rule


def integers(args: list[BExpr]) -> KType:
    """Bit operations: int or long arguments, a long result."""
    _check(args, INTEGERS, "tolong")
    return LONG


def reals_only(args: list[BExpr]) -> KType:
    """isnan/isinf/isfinite: Kusto.Language wants a real (int and long widen; decimal is an error)."""
    _check(args, ("int", "long", "real"), "toreal")
    return BOOL


def _abs(args: list[BExpr]) -> KType:
    t = args[0].type
    if t.name == "timespan":
        return TIMESPAN
    _check(args, NUMBERS, "toreal")
    return LONG if t.name == "int" else t


def _ceiling(args: list[BExpr]) -> KType:
    # measured on the engine: ceiling(0) (a long) is real; int and decimal keep their type (Kusto.Language)
    _check(args, NUMBERS, "toreal")
    t = args[0].type
    return t if t.name in ("int", "decimal") else REAL


def _round(args: list[BExpr]) -> KType:
    _check(args[:1], NUMBERS, "toreal")
    if len(args) > 1:
        _check(args[1:], INTEGERS, "tolong", first=2)
    return args[0].type


def _min_max_of(args: list[BExpr]) -> KType:
    if any(a.type.name == "dynamic" for a in args):
        raise UnsupportedTypes("max_of()/min_of() of dynamic values")
    if any(a.type.name == "null" for a in args):
        raise TypeRuleError("a bare `null` is no value in Kusto (write a typed null: long(null))")
    t = common_type([a.type for a in args])
    if t is None:
        raise TypeRuleError("the arguments have no common type")
    if t.name == "guid":
        raise TypeRuleError("guid values are not ordered")
    return t


def _convert(args: list[BExpr]) -> KType:
    _check(args[:1], ("int", "long", "real"), "toreal")
    for i, a in enumerate(args[1:], start=2):
        if a.type.name == "dynamic":
            raise UnsupportedTypes(f"a dynamic unit name (argument {i}; convert it with tostring() first)")
        if a.type.name != "string":
            raise TypeRuleError(f"argument {i} must be a unit name (a string), not {a.type.name}")
    return REAL


for _name in ("acos", "asin", "atan", "cos", "sin", "tan", "exp", "exp2", "exp10", "log", "log2", "log10",
              "sqrt", "gamma", "loggamma", "erf", "erfc"):
    scalar(_name, 1, 1, numbers(REAL), "first")
scalar("atan2", 2, 2, numbers(REAL), "first")
scalar("pow", 2, 2, numbers(REAL), "first")
for _name in ("cot", "degrees", "radians", "sign"):
    scalar(_name, 1, 1, numbers(REAL))
scalar("pi", 0, 0, numbers(REAL))
scalar("abs", 1, 1, _abs, "first")
scalar("ceiling", 1, 1, _ceiling, "first")
scalar("round", 1, 2, _round, "first")
for _name in ("isnan", "isinf", "isfinite"):
    scalar(_name, 1, 1, reals_only)
scalar("max_of", 2, 64, _min_max_of)
scalar("min_of", 2, 64, _min_max_of)

for _name in ("binary_and", "binary_or", "binary_xor", "binary_shift_left", "binary_shift_right"):
    scalar(_name, 2, 2, integers, "first")
scalar("binary_not", 1, 1, integers, "first")
scalar("bitset_count_ones", 1, 1, integers, "first")

for _name in ("beta_cdf", "beta_inv", "beta_pdf"):
    scalar(_name, 3, 3, numbers(REAL))
scalar("welch_test", 6, 6, numbers(REAL))

QUANTITIES = ("angle", "energy", "force", "length", "mass", "speed", "temperature", "volume")
for _q in QUANTITIES:
    scalar(f"convert_{_q}", 3, 3, _convert)
