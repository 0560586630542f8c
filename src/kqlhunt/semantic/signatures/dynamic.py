"""Signatures of the dynamic functions: arrays, property bags and sets (see kqlhunt.semantic.functions for
the helpers and conventions).

A result keeps a native element type (`array_of(T)`) only where every element provably has that type
(slicing or reversing a typed array, `range()`, `repeat()`); everything else is a JSON dynamic. Argument
checks mirror the Kusto engine's compile-time errors (`The expression value must be a dynamic array`,
`The expression must be a constant`), probed on Kusto.Language.
"""

from __future__ import annotations

from kqlhunt.semantic.bound import BCol, BExpr, BLit
from kqlhunt.semantic.fold import fold
from kqlhunt.semantic.functions import TypeRuleError, UnsupportedTypes, const, scalar
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
)

INTEGERS = ("int", "long")


def _dynamic(args: list[BExpr], i: int, fn: str) -> KType:
    t = args[i].type
    if t.name not in ("dynamic", "null"):
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be a dynamic array, not {t.name}")
    return t


def _integer(args: list[BExpr], i: int, fn: str) -> None:
    t = args[i].type
    if t.name not in (*INTEGERS, "null"):
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be an integer, not {t.name}")


def _constant(args: list[BExpr], i: int, fn: str) -> None:
    if not isinstance(fold(args[i]), BLit):
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be a constant")


def _same_elem(types: list[KType]) -> KType:
    """Several arrays combined element by element: a native type only when all share it."""
    elems = {t.elem for t in types}
    if len(elems) == 1 and None not in elems:
        return types[0]
    return DYNAMIC


def _all_dynamic(fn: str, result: KType | None = None):
    def rule(args: list[BExpr]) -> KType:
        types = [_dynamic(args, i, fn) for i in range(len(args))]
        return result if result is not None else _same_elem(types)

    return rule


def _keep_first(fn: str, integers: tuple[int, ...] = ()):
    """Reordering or cutting an array: the result has the first argument's element type."""

    def rule(args: list[BExpr]) -> KType:
        t = _dynamic(args, 0, fn)
        for i in integers:
            if i < len(args):
                _integer(args, i, fn)
        return t if t.name == "dynamic" else DYNAMIC

    return rule


# ---------------------------------------------------------------- arrays

scalar("array_length", 1, 1, _all_dynamic("array_length", LONG))
scalar("array_reverse", 1, 1, _keep_first("array_reverse"))
scalar("array_rotate_left", 2, 2, _keep_first("array_rotate_left", (1,)))
scalar("array_rotate_right", 2, 2, _keep_first("array_rotate_right", (1,)))
scalar("array_slice", 3, 3, _keep_first("array_slice", (1, 2)))
scalar("array_concat", 1, 64, _all_dynamic("array_concat"))
scalar("array_sum", 1, 1, _all_dynamic("array_sum", REAL))
scalar("zip", 2, 64, _all_dynamic("zip", DYNAMIC))


def _shift(fn: str):
    def rule(args: list[BExpr]) -> KType:
        t = _dynamic(args, 0, fn)
        _integer(args, 1, fn)
        if len(args) > 2:
            default = args[2].type
            if default.name == "dynamic":
                raise UnsupportedTypes(f"{fn}() with a dynamic default value")
            if t.elem is not None and default.name != "null" and default != t.elem:
                return DYNAMIC  # the fill value has another type than the elements
        return t if t.name == "dynamic" else DYNAMIC

    return rule


scalar("array_shift_left", 2, 3, _shift("array_shift_left"))
scalar("array_shift_right", 2, 3, _shift("array_shift_right"))


def _array_iff(args: list[BExpr]) -> KType:
    _dynamic(args, 0, "array_iff")
    return DYNAMIC


scalar("array_iff", 3, 3, _array_iff, "none", "array_iif")


def _array_index_of(args: list[BExpr]) -> KType:
    _dynamic(args, 0, "array_index_of")
    for i in range(2, len(args)):
        _integer(args, i, "array_index_of")
    if len(args) == 5:
        _constant(args, 4, "array_index_of")  # the engine wants a constant occurrence
    return LONG


scalar("array_index_of", 2, 5, _array_index_of)


def _set_has_element(args: list[BExpr]) -> KType:
    _dynamic(args, 0, "set_has_element")
    return BOOL


scalar("set_has_element", 2, 2, _set_has_element)


def _array_sort(fn: str):
    def rule(args: list[BExpr]) -> KType:
        arrays = args
        if len(args) > 1 and args[-1].type.name == "bool":
            _constant(args, len(args) - 1, fn)  # nulls_last
            arrays = args[:-1]
        if not arrays:
            raise TypeRuleError(f"{fn}() needs an array to sort")
        for i in range(len(arrays)):
            _dynamic(arrays, i, fn)
        return arrays[0].type if arrays[0].type.name == "dynamic" else DYNAMIC

    return rule


scalar("array_sort_asc", 1, 64, _array_sort("array_sort_asc"), "suffix:sorted")
scalar("array_sort_desc", 1, 64, _array_sort("array_sort_desc"), "suffix:sorted")


def _sort_part(fn: str):
    """`$array_sort_asc_part(k, array1, ..., arrayN[, nulls_last])`: the k-th (0-based) output of a sort of
    several arrays. Kusto returns one column per array; the binder asks for each output by index."""
    inner = _array_sort(fn)

    def rule(args: list[BExpr]) -> KType:
        _constant(args, 0, fn)
        t = inner(list(args[1:]))
        k = getattr(fold(args[0]), "value", 0)
        return t if k == 0 else DYNAMIC

    return rule


scalar("$array_sort_asc_part", 2, 65, _sort_part("array_sort_asc"))
scalar("$array_sort_desc_part", 2, 65, _sort_part("array_sort_desc"))


def _array_split(args: list[BExpr]) -> KType:
    _dynamic(args, 0, "array_split")
    if args[1].type.name not in (*INTEGERS, "dynamic", "null"):
        raise TypeRuleError(f"array_split() splits at an integer or an array of integers, not {args[1].type}")
    return DYNAMIC


scalar("array_split", 2, 2, _array_split)

# ---------------------------------------------------------------- sets

for _name in ("set_union", "set_intersect", "set_difference"):
    scalar(_name, 2, 64, _all_dynamic(_name))
scalar("jaccard_index", 2, 2, _all_dynamic("jaccard_index", REAL))  # the engine answers real


# ---------------------------------------------------------------- generated arrays

_SUMMABLE = ("int", "long", "real", "datetime", "timespan")


def _range(args: list[BExpr]) -> KType:
    names = [a.type.name for a in args]
    for i, n in enumerate(names):
        if n not in _SUMMABLE:
            if n in ("decimal", "dynamic", "null"):
                raise UnsupportedTypes(f"range() over {n} values")
            raise TypeRuleError(f"argument {i + 1} of range() must be a number, timespan or datetime, not {n}")
    start, stop = names[0], names[1]
    step = names[2] if len(names) > 2 else None
    if start == "datetime" and stop == "datetime" and step in (None, "timespan"):
        return array_of(DATETIME)
    if start == "timespan" and stop == "timespan" and step in (None, "timespan"):
        return array_of(TIMESPAN)
    if all(n in ("int", "long", "real") for n in names):
        return array_of(REAL) if "real" in names else array_of(LONG)
    raise UnsupportedTypes(f"range() from {start} to {stop}" + (f" by {step}" if step else ""))


scalar("range", 2, 3, _range)


_REPEATABLE = ("bool", "int", "long", "real", "datetime", "string", "timespan")  # the documented types


def _repeat(args: list[BExpr]) -> KType:
    t = args[0].type
    _integer(args, 1, "repeat")
    if t.name not in _REPEATABLE:
        raise UnsupportedTypes(f"repeat() of a {t.name} value")
    return array_of(t)


scalar("repeat", 2, 2, _repeat, "prefix:repeat")

# ---------------------------------------------------------------- property bags


def _string_key(args: list[BExpr], i: int, fn: str) -> None:
    if args[i].type.name not in ("string", "null"):
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be a string key, not {args[i].type}")


def _bag_has_key(args: list[BExpr]) -> KType:
    _dynamic(args, 0, "bag_has_key")
    _string_key(args, 1, "bag_has_key")
    return BOOL


def _bag_set_key(args: list[BExpr]) -> KType:
    _dynamic(args, 0, "bag_set_key")
    _string_key(args, 1, "bag_set_key")
    _constant(args, 1, "bag_set_key")
    return DYNAMIC


def _bag_pack_columns(args: list[BExpr]) -> KType:
    for i, a in enumerate(args):
        if not isinstance(a, BCol):
            raise TypeRuleError(f"argument {i + 1} of bag_pack_columns() must be a column name")
    return DYNAMIC


scalar("bag_keys", 1, 1, _all_dynamic("bag_keys", array_of(STRING)))
scalar("bag_has_key", 2, 2, _bag_has_key)
scalar("bag_merge", 2, 64, _all_dynamic("bag_merge", DYNAMIC))
scalar("bag_remove_keys", 2, 2, _all_dynamic("bag_remove_keys", DYNAMIC))
scalar("bag_set_key", 3, 3, _bag_set_key)
scalar("bag_zip", 2, 2, _all_dynamic("bag_zip", DYNAMIC))
scalar("bag_pack_columns", 1, 64, _bag_pack_columns)
scalar("treepath", 1, 1, _all_dynamic("treepath", DYNAMIC), "prefix:tree")
scalar("dynamic_to_json", 1, 1, const(STRING))
