"""Kusto scalar types, plus what kqlhunt knows about a `dynamic` value's shape.

A `KType` is a Kusto type name. For `dynamic` the binder may also know that the value is an array of
one scalar type (`make_set(Timestamp)`, `dynamic(["a", "b"])`): `elem` records it, so engines can
store such values as native lists instead of JSON text. `elem` never changes what Kusto reports: the
column type is still `dynamic`.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALARS = ("bool", "int", "long", "real", "decimal", "string", "datetime", "timespan", "guid", "dynamic")
NUMERIC = frozenset({"int", "long", "real", "decimal"})
INTEGRAL = frozenset({"int", "long"})


@dataclass(frozen=True, slots=True)
class KType:
    name: str
    elem: KType | None = None  # dynamic only: known array element type

    def __post_init__(self) -> None:
        if self.name not in SCALARS and self.name != "null":
            raise ValueError(f"unknown Kusto type {self.name!r}")
        if self.elem is not None and (self.name != "dynamic" or self.elem.name == "dynamic"):
            raise ValueError("only dynamic arrays of scalars carry an element type")

    def __str__(self) -> str:
        return self.name

    @property
    def is_numeric(self) -> bool:
        return self.name in NUMERIC

    @property
    def is_array(self) -> bool:
        return self.elem is not None

    def widened(self) -> KType:
        """Forget the array shape (a plain JSON dynamic)."""
        return DYNAMIC if self.name == "dynamic" else self


BOOL = KType("bool")
INT = KType("int")
LONG = KType("long")
REAL = KType("real")
DECIMAL = KType("decimal")
STRING = KType("string")
DATETIME = KType("datetime")
TIMESPAN = KType("timespan")
GUID = KType("guid")
DYNAMIC = KType("dynamic")
NULL = KType("null")  # the bare `null` literal before it meets a context

BY_NAME = {t.name: t for t in (BOOL, INT, LONG, REAL, DECIMAL, STRING, DATETIME, TIMESPAN, GUID, DYNAMIC)}


def array_of(elem: KType) -> KType:
    """A dynamic array whose elements are known to be `elem` (JSON when elem is dynamic)."""
    if elem.name in ("dynamic", "null"):
        return DYNAMIC
    return KType("dynamic", elem)


def numeric_result(a: KType, b: KType) -> KType:
    """Kusto arithmetic on numbers: int and long promote to long; real wins; decimal wins over all."""
    names = {a.name, b.name}
    if "decimal" in names:
        return DECIMAL
    if "real" in names:
        return REAL
    return LONG


def common_type(types: list[KType]) -> KType | None:
    """The type values of several branches (iif, case, coalesce, union) unify to, or None."""
    concrete = [t for t in types if t.name != "null"]
    if not concrete:
        return DYNAMIC
    first = concrete[0]
    if all(t.name == first.name for t in concrete):
        if first.name == "dynamic" and any(t != first for t in concrete):
            return DYNAMIC
        return first
    if all(t.is_numeric for t in concrete):
        result = concrete[0]
        for t in concrete[1:]:
            result = numeric_result(result, t)
        return result
    return None
