"""Signatures of the series functions (see kqlhunt.semantic.functions for the helpers and conventions).

A series is a dynamic array of numbers. Result types follow the element types when the binder knows
them (`KType.elem`), so native lists stay native: element-wise `+ - *` and `abs`/`sign` keep an array
of longs an array of longs (the frozen `series-multiply` and `series-subtract` results are whole
numbers), everything else answers reals, the comparisons booleans. When an argument is a JSON dynamic
whose elements are only known at run time and the result's element type depends on them, the result is
a JSON dynamic too. Kusto.Language (the oracle) answers `dynamic` for all of these, `real` for the
reductions; it names `series_fill_*`, `series_fir` and `series_iir` after their first argument
(`extend series_fill_forward(y)` replaces `y`) and the rest `ColumnN`.

Functions that return several columns (`series_fit_line`, `series_decompose`, `series_fft`, ...) are
not entries of the function table: `MULTI_OUTPUTS` describes them for the binder, which expands them as it
expands `series_stats` (each output is a call of `<function>_<output>`, lowered in
kqlhunt.sql.lowerings.series).
"""

from __future__ import annotations

from dataclasses import dataclass

from kqlhunt.semantic.bound import BExpr
from kqlhunt.semantic.functions import TypeRule, TypeRuleError, UnsupportedTypes, scalar
from kqlhunt.semantic.types import BOOL, DYNAMIC, LONG, REAL, KType, array_of

INTEGRAL = ("int", "long")
SCALARS = ("int", "long", "real")

# element-wise over one series
UNARY_REAL = ("acos", "asin", "atan", "ceiling", "cos", "exp", "floor", "log", "sin", "tan")
UNARY_KEEP = ("abs", "sign")
# element-wise over two series (or a series and a number)
BINARY_KEEP = ("add", "subtract", "multiply")
BINARY_REAL = ("divide", "pow")
COMPARE = ("equals", "not_equals", "greater", "greater_equals", "less", "less_equals")


def is_series(t: KType) -> bool:
    return t.name in ("dynamic", "null")


def series_kind(t: KType) -> str:
    """"long" / "real" for a native list of numbers, "json" for a dynamic whose elements are unknown,
    "other" for a native list of non-numbers (datetimes, strings, ...)."""
    if t.name == "null" or t.elem is None:
        return "json"
    if t.elem.name in INTEGRAL:
        return "long"
    if t.elem.name == "real":
        return "real"
    return "other"


def _series_arg(args: list[BExpr], i: int, fn: str) -> str:
    t = args[i].type
    if not is_series(t):
        raise TypeRuleError(f"{fn}(): argument {i + 1} must be a dynamic array, not {t.name}")
    kind = series_kind(t)
    if kind == "other":
        assert t.elem is not None
        # Kusto reads datetimes and timespans as their ticks (the fit_poly docs); kqlhunt does not model it
        raise UnsupportedTypes(f"{fn}() of an array of {t.elem.name} values")
    return kind


def _operand(args: list[BExpr], i: int, fn: str) -> str:
    """A series or a number (broadcast over the other series): its kind, or the number's type."""
    t = args[i].type
    if t.name in SCALARS:
        return "long" if t.name in INTEGRAL else "real"
    if t.name == "decimal":
        raise UnsupportedTypes(f"{fn}() with a decimal operand")
    if is_series(t):
        return _series_arg(args, i, fn)
    raise TypeRuleError(f"{fn}(): argument {i + 1} must be a dynamic array or a number, not {t.name}")


def _scalar_arg(args: list[BExpr], i: int, fn: str, accepted: tuple[str, ...], what: str) -> None:
    if i < len(args) and args[i].type.name not in accepted + ("null",):
        raise TypeRuleError(f"{fn}(): argument {i + 1} must be {what}, not {args[i].type.name}")


def _unary(name: str, keep: bool) -> TypeRule:
    fn = f"series_{name}"

    def rule(args: list[BExpr]) -> KType:
        kind = _series_arg(args, 0, fn)
        if not keep:
            return array_of(REAL)
        return {"long": array_of(LONG), "real": array_of(REAL)}.get(kind, DYNAMIC)

    return rule


def _binary(name: str, result: str) -> TypeRule:
    fn = f"series_{name}"

    def rule(args: list[BExpr]) -> KType:
        kinds = [_operand(args, i, fn) for i in range(2)]
        if not any(is_series(a.type) for a in args):
            raise TypeRuleError(f"{fn}(): one of the arguments must be a dynamic array")
        if result == "bool":
            return array_of(BOOL)
        if result == "real" or "real" in kinds:
            return array_of(REAL)
        return DYNAMIC if "json" in kinds else array_of(LONG)

    return rule


for _name in UNARY_REAL:
    scalar(f"series_{_name}", 1, 1, _unary(_name, False))
for _name in UNARY_KEEP:
    scalar(f"series_{_name}", 1, 1, _unary(_name, True))
for _name in BINARY_KEEP:
    scalar(f"series_{_name}", 2, 2, _binary(_name, "keep"))
for _name in BINARY_REAL:
    scalar(f"series_{_name}", 2, 2, _binary(_name, "real"))
for _name in COMPARE:
    scalar(f"series_{_name}", 2, 2, _binary(_name, "bool"))


# ---------------------------------------------------------------- reductions to one number


def _reduce(n_series: int, broadcast: bool = False) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        fn = "series reduction"
        for i in range(n_series):
            if broadcast:
                _operand(args, i, fn)
            else:
                _series_arg(args, i, fn)
        if broadcast and not any(is_series(a.type) for a in args):
            raise TypeRuleError("series_dot_product(): one of the arguments must be a dynamic array")
        for i in range(n_series, len(args)):
            _scalar_arg(args, i, fn, SCALARS, "a number")
        return REAL

    return rule


scalar("series_sum", 1, 1, _reduce(1))
scalar("series_product", 1, 1, _reduce(1))
scalar("series_magnitude", 1, 1, _reduce(1))
scalar("series_dot_product", 2, 2, _reduce(2, broadcast=True))
scalar("series_cosine_similarity", 2, 4, _reduce(2))
scalar("series_pearson_correlation", 2, 2, _reduce(2))


# ---------------------------------------------------------------- missing values


def fill_keeps_native(series: KType, value: BExpr | None) -> bool:
    """Can a fill with `value` stay a native list of the series' element type? Kusto keeps each filled
    value's own type (`[1, null]` filled with 0.0 is `[1, 0.0]`), so only a value of the same kind can."""
    kind = series_kind(series)
    if kind not in ("long", "real"):
        return False
    if value is None or value.type.name == "null":
        return True
    return (value.type.name in INTEGRAL) == (kind == "long") and value.type.name in SCALARS


def _fill(name: str, value_index: int | None) -> TypeRule:
    fn = f"series_{name}"

    def rule(args: list[BExpr]) -> KType:
        _series_arg(args, 0, fn)
        for i in range(1, len(args)):
            if name == "fill_linear" and i == 2:
                _scalar_arg(args, i, fn, ("bool",), "a bool")
            else:
                _scalar_arg(args, i, fn, SCALARS, "a number")
        value = args[value_index] if value_index is not None and value_index < len(args) else None
        return args[0].type if fill_keeps_native(args[0].type, value) else DYNAMIC

    return rule


scalar("series_fill_const", 2, 3, _fill("fill_const", 1), "first")
scalar("series_fill_forward", 1, 2, _fill("fill_forward", None), "first")
scalar("series_fill_backward", 1, 2, _fill("fill_backward", None), "first")
scalar("series_fill_linear", 1, 4, _fill("fill_linear", 3), "first")


# ---------------------------------------------------------------- filters, seasonality, fits


def _filter(n_series: int, flags: int) -> TypeRule:
    def rule(args: list[BExpr]) -> KType:
        for i in range(n_series):
            _series_arg(args, i, "series filter")
        for i in range(n_series, n_series + flags):
            _scalar_arg(args, i, "series_fir", ("bool",), "a bool")
        return array_of(REAL)

    return rule


scalar("series_fir", 2, 4, _filter(2, 2), "first")
scalar("series_iir", 3, 3, _filter(3, 0), "first")


def _seasonal(args: list[BExpr]) -> KType:
    _series_arg(args, 0, "series_seasonal")
    _scalar_arg(args, 1, "series_seasonal", INTEGRAL, "an integer period")
    return array_of(REAL)


scalar("series_seasonal", 1, 2, _seasonal)


def _bag(args: list[BExpr]) -> KType:
    _series_arg(args, 0, "series_fit")
    return DYNAMIC


scalar("series_fit_line_dynamic", 1, 1, _bag)
scalar("series_fit_2lines_dynamic", 1, 1, _bag)


# ---------------------------------------------------------------- functions of several columns


@dataclass(frozen=True, slots=True)
class MultiOutput:
    """A function that returns several columns: `extend f(x)` adds `f_x_<output>` for each output, a tuple
    `(a, b) = f(x)` names the first ones. Output i is the call `<name>_<output>` with the same arguments."""

    name: str
    min_args: int
    max_args: int
    outputs: tuple[tuple[str, KType], ...]
    series_args: tuple[int, ...] = (0,)  # the arguments that must be series (the rest are checked when lowered)

    def component(self, output: str) -> str:
        return f"{self.name}_{output}"

    def check(self, args: list[BExpr]) -> None:
        """Raises TypeRuleError (or UnsupportedTypes) for arguments Kusto would reject (or kqlhunt refuses)."""
        for i in self.series_args:
            if i < len(args):
                _series_arg(args, i, self.name)


_SERIES = array_of(REAL)
_FIT_LINE = (("rsquare", REAL), ("slope", REAL), ("variance", REAL), ("rvariance", REAL), ("interception", REAL),
             ("line_fit", _SERIES))
_SIDE = (("rsquare", REAL), ("slope", REAL), ("interception", REAL), ("variance", REAL), ("rvariance", REAL))
_FIT_2LINES = ((("rsquare", REAL), ("split_idx", LONG), ("variance", REAL), ("rvariance", REAL),
                ("line_fit", _SERIES))
               + tuple((f"right_{s}", t) for s, t in _SIDE) + tuple((f"left_{s}", t) for s, t in _SIDE))
_DECOMPOSE = (("baseline", _SERIES), ("seasonal", _SERIES), ("trend", _SERIES), ("residual", _SERIES))

# names, arities, output names and types as Kusto.Language answers them (the oracle); the order is the
# order of the columns `extend f(x)` adds
MULTI_OUTPUTS: dict[str, MultiOutput] = {m.name: m for m in (
    MultiOutput("series_fit_line", 1, 1, _FIT_LINE),
    MultiOutput("series_fit_2lines", 1, 1, _FIT_2LINES),
    MultiOutput("series_fit_poly", 1, 3, (("rsquare", REAL), ("coefficients", _SERIES), ("variance", REAL),
                                           ("rvariance", REAL), ("poly_fit", _SERIES)), (0, 1)),
    MultiOutput("series_decompose", 1, 5, _DECOMPOSE),
    MultiOutput("series_decompose_forecast", 2, 5, _DECOMPOSE),
    MultiOutput("series_decompose_anomalies", 1, 7, (("ad_flag", array_of(LONG)), ("ad_score", _SERIES),
                                                     ("baseline", _SERIES))),
    MultiOutput("series_periods_detect", 4, 4, (("periods", DYNAMIC), ("scores", DYNAMIC))),
    MultiOutput("series_periods_validate", 2, 17, (("periods", DYNAMIC), ("scores", DYNAMIC))),
    MultiOutput("series_fft", 1, 2, (("real", _SERIES), ("imag", _SERIES)), (0, 1)),
    MultiOutput("series_ifft", 1, 2, (("real", _SERIES), ("imag", _SERIES)), (0, 1)),
)}

__all__ = ["MULTI_OUTPUTS", "MultiOutput", "fill_keeps_native", "is_series", "series_kind"]
