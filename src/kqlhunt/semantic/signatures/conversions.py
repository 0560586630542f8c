"""Signatures of the conversions (`tostring`, `toint`, `tolong`, `toreal`, `tobool`, `todecimal`, `toguid`,
`todynamic`) and of the arithmetic and comparison operators.

Argument kinds were probed on Kusto.Language (the oracle): a bare `null` is no value at all (KS142, "the
name 'null' does not refer to any known column"), so it is an error wherever it meets one of these;
`toguid` and `parse_json` take only a string or a dynamic (KS141); `+ - * / %` on bool or string
operands, and the ordering operators `< <= > >=` between a string (or guid) and anything, are not
defined (KS106). Kusto.Language accepts `==` between almost any two types, but what the engine then
compares is measured only for a typed value against a string literal (duckdb-kql's
test_dynamic_strings.py: `n == '1'`, `t == '2020-01-01'`, `b == 'true'` are all true, the literal
being converted to the other side's type); every other mixed pair is refused. Two dynamic values
cannot be compared without a cast (measured there too: Kusto's SEM0001).
"""

from __future__ import annotations

from kqlhunt.semantic.bound import BExpr, BLit
from kqlhunt.semantic.fold import fold
from kqlhunt.semantic.functions import TypeRule, TypeRuleError, UnsupportedTypes, operator, scalar
from kqlhunt.semantic.types import (
    BOOL,
    DATETIME,
    DECIMAL,
    DYNAMIC,
    GUID,
    INT,
    LONG,
    REAL,
    STRING,
    TIMESPAN,
    KType,
    numeric_result,
)

BARE_NULL = "a bare `null` is no value in Kusto (write a typed null such as long(null))"
# the types a string literal converts to when compared with a value of that type
COERCIBLE = frozenset({"int", "long", "real", "bool", "datetime", "timespan"})
INTEGERS = frozenset({"int", "long"})


def no_bare_null(args: list[BExpr]) -> None:
    if any(a.type.name == "null" for a in args):
        raise TypeRuleError(BARE_NULL)


# ---------------------------------------------------------------- conversions


def _to(result: KType, accepted: frozenset[str] | None = None) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        no_bare_null(args)
        if accepted is not None and args[0].type.name not in accepted:
            raise TypeRuleError(f"the argument must be a string or a dynamic value, not {args[0].type}")
        return result

    return rule


_STRING_OR_DYNAMIC = frozenset({"string", "dynamic"})

for _name, _t, _aliases in (
    ("tostring", STRING, ()), ("toint", INT, ()), ("tolong", LONG, ()), ("toreal", REAL, ("todouble",)),
    ("tobool", BOOL, ("toboolean",)), ("todecimal", DECIMAL, ()),
):
    scalar(_name, 1, 1, _to(_t), "first", *_aliases)
scalar("toguid", 1, 1, _to(GUID, _STRING_OR_DYNAMIC), "first")
scalar("todynamic", 1, 1, _to(DYNAMIC, _STRING_OR_DYNAMIC), "first", "parse_json", "toobject", "parsejson")


# ---------------------------------------------------------------- arithmetic


def _arith(op: str) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        no_bare_null(args)
        a, b = args[0].type, args[1].type
        names = (a.name, b.name)
        if "dynamic" in names:
            # Kusto.Language types dynamic + 1 as long, and what the engine converts the value to is not known
            raise UnsupportedTypes(f"`{op}` with a dynamic operand (convert it with tolong()/toreal() first)")
        if a.is_numeric and b.is_numeric:
            if "decimal" in names:
                _decimal_arith(op, names)
            return numeric_result(a, b)
        if op == "-" and names == ("datetime", "datetime"):
            return TIMESPAN
        if op in "+-" and names == ("datetime", "timespan"):
            return DATETIME
        if op == "+" and names == ("timespan", "datetime"):
            return DATETIME
        if op in "+-" and names == ("timespan", "timespan"):
            return TIMESPAN
        if op == "*" and (names[0] == "timespan" and b.is_numeric or names[1] == "timespan" and a.is_numeric):
            if "decimal" in names:
                raise UnsupportedTypes("a timespan multiplied by a decimal")
            return TIMESPAN
        if op == "/" and names == ("timespan", "timespan"):
            return REAL
        if op == "/" and names[0] == "timespan" and b.is_numeric:
            if b.name == "decimal":
                raise UnsupportedTypes("a timespan divided by a decimal")
            return TIMESPAN
        if op == "%" and names == ("timespan", "timespan"):
            return TIMESPAN
        raise TypeRuleError(f"operator `{op}` cannot combine {a.name} and {b.name}")

    return rule


def _decimal_arith(op: str, names: tuple[str, str]) -> None:
    """Decimal arithmetic kqlhunt can do exactly in DECIMAL(38, 18): sums, differences and products with an
    integer. .NET's decimal keeps 28-29 significant digits and its own scale, so a product or quotient of
    two decimals, a modulo, or mixing in a real (converted how?) would not give Kusto's digits."""
    other = {n for n in names if n != "decimal"}
    if op in "+-" and other <= INTEGERS:
        return
    if op == "*" and len(other) == 1 and other <= INTEGERS:
        return
    raise UnsupportedTypes(f"`{op}` between {names[0]} and {names[1]}")


for _op in "+-*/%":
    operator(_op, 2, 2, _arith(_op))


def _negate(args: list[BExpr]) -> KType:
    no_bare_null(args)
    t = args[0].type
    if t.name == "int":
        return LONG  # Kusto.Language: -RemotePort is long (a literal -int(1) is folded to an int first)
    if t.name == "dynamic":
        raise UnsupportedTypes("unary `-` of a dynamic value (convert it with tolong()/toreal() first)")
    if t.is_numeric or t.name == "timespan":
        return t
    raise TypeRuleError(f"unary `-` cannot apply to {t.name}")


operator("neg", 1, 1, _negate)


# ---------------------------------------------------------------- comparisons


def string_literal(e: BExpr) -> str | None:
    """The text of a constant string operand (after folding), else None."""
    folded = fold(e)
    if isinstance(folded, BLit) and folded.type.name == "string" and isinstance(folded.value, str):
        return folded.value
    return None


def coerced_pair(args: list[BExpr]) -> tuple[int, KType] | None:
    """(index of the string literal, the type it converts to) for `value == 'text'` of a coercible type."""
    a, b = args[0].type, args[1].type
    if a.name == "string" and b.name in COERCIBLE and string_literal(args[0]) is not None:
        return 0, b
    if b.name == "string" and a.name in COERCIBLE and string_literal(args[1]) is not None:
        return 1, a
    return None


_ORDERED = frozenset({"int", "long", "real", "decimal", "datetime", "timespan", "bool"})


def _compare(op: str) -> TypeRule:
    ordering = op in ("<", "<=", ">", ">=")

    def rule(args: list[BExpr]) -> KType:
        no_bare_null(args)
        a, b = args[0].type, args[1].type
        names = {a.name, b.name}
        if names == {"dynamic"}:
            raise TypeRuleError("two dynamic values cannot be compared without a cast (tostring(), tolong(), ...)")
        if ordering:
            if "string" in names or "guid" in names:
                raise TypeRuleError(f"`{op}` is not defined for {a.name} and {b.name}")
            if "dynamic" in names:
                other = (names - {"dynamic"}).pop()
                if other in _ORDERED and other != "bool":
                    return BOOL
                raise UnsupportedTypes(f"comparing dynamic with {other} using `{op}`")
            if a.is_numeric and b.is_numeric or a.name == b.name and a.name in _ORDERED:
                return BOOL
            raise TypeRuleError(f"`{op}` is not defined for {a.name} and {b.name}")
        if a.is_numeric and b.is_numeric or a.name == b.name or names == {"string", "guid"}:
            return BOOL
        if "dynamic" in names:
            return BOOL
        if coerced_pair(args) is not None:
            return BOOL
        raise UnsupportedTypes(f"comparing {a.name} with {b.name} using `{op}`")

    return rule


for _op in ("==", "!=", "<", "<=", ">", ">="):
    operator(_op, 2, 2, _compare(_op))
