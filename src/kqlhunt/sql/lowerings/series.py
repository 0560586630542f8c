"""DuckDB lowerings of the series functions (see kqlhunt.sql.functions for the helpers and conventions).

Element-wise functions and reductions are list lambdas over native lists. A JSON dynamic argument is
read element by element: a JSON integer or real is a number, anything else (null, bool, string, array,
bag) is not and yields a null element, as the docs say of every element-wise function. Whether a JSON
series is integral (its numbers all integers, at least one of them) is decided per row, because Kusto
keeps an integral series integral through `+ - *`, `abs` and `sign`: those answer a JSON dynamic built
from whichever of the two computations applies.

Filters, fills, fits, decomposition and the Fourier transform call the Python kernels of
kqlhunt.engines.runtime.series_more over JSON text. Inputs whose answer Kusto does not document (the
logarithm of a negative element, a period Kusto would detect itself, ...) stop the query or are refused;
they are never answered with a guess.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.signatures.series import (
    BINARY_KEEP,
    BINARY_REAL,
    COMPARE,
    MULTI_OUTPUTS,
    UNARY_KEEP,
    UNARY_REAL,
    series_kind,
)
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
from kqlhunt.sql.functions import as_list, const_str, const_value, refuse_at_run_time, register, to_json
from kqlhunt.sql.types import physical

Sql = exp.Expression
INTEGER_JSON = ("BIGINT", "UBIGINT")
NUMBER_JSON = ("BIGINT", "UBIGINT", "DOUBLE")


# ---------------------------------------------------------------- reading series


def _double(value: float) -> Sql:
    # a DOUBLE constant exactly (DuckDB reads `0.5` as a DECIMAL)
    return cast(string(repr(float(value))), "DOUBLE")


_fail = refuse_at_run_time


def _kind_in(x: Sql, kinds: tuple[str, ...]) -> Sql:
    return exp.In(this=fn("json_type", x), expressions=[string(k) for k in kinds])


def _json_items(c: ExprCompiler, arg: B.BExpr, sql: Sql, what: str) -> Sql:
    """A JSON dynamic's elements as JSON[]; NULL when it is not an array."""
    if arg.type.name == "null":
        return cast(null(), "JSON[]")
    return as_list(c, arg.type, sql, what, arg.span)


def _is_integer(e: Sql) -> Sql:
    # DuckDB calls non-negative integers UBIGINT; those beyond a long are not Kusto longs
    return exp.And(this=_kind_in(e, INTEGER_JSON), expression=exp.Not(this=is_null(try_cast(e, "BIGINT"))))


def doubles(c: ExprCompiler, arg: B.BExpr, sql: Sql, what: str) -> Sql:
    """A series as DOUBLE[], non-numbers as null elements; NULL when the value is not an array."""
    if series_kind(arg.type) in ("long", "real"):
        return cast(sql, "DOUBLE[]") if series_kind(arg.type) == "long" else sql
    items = _json_items(c, arg, sql, what)
    body = case((_kind_in(col("kh_v"), NUMBER_JSON), cast(col("kh_v"), "DOUBLE")), default=cast(null(), "DOUBLE"))
    return fn("list_transform", items, lam("kh_v", body))


def longs(c: ExprCompiler, arg: B.BExpr, sql: Sql, what: str) -> Sql:
    """A series as BIGINT[] (meaningful for an integral series), non-integers as null elements."""
    if series_kind(arg.type) == "long":
        return cast(sql, "BIGINT[]")
    items = _json_items(c, arg, sql, what)
    body = case((_is_integer(col("kh_v")), cast(col("kh_v"), "BIGINT")), default=cast(null(), "BIGINT"))
    return fn("list_transform", items, lam("kh_v", body))


def integral(c: ExprCompiler, arg: B.BExpr, sql: Sql, what: str) -> Sql:
    """Per row: does the JSON series hold at least one number, and only integers?"""
    numbers = fn("list_filter", _json_items(c, arg, sql, what), lam("kh_v", _kind_in(col("kh_v"), NUMBER_JSON)))
    all_integers = fn("list_bool_and", fn("list_transform", numbers, lam("kh_v", _is_integer(col("kh_v")))))
    return fn("coalesce", all_integers, exp.Boolean(this=False))


def _operand(c: ExprCompiler, arg: B.BExpr, sql: Sql, as_long: bool, what: str) -> tuple[Sql, bool]:
    """(values, is_series): a series as a list, a number as a scalar of the computation's type."""
    if arg.type.name in ("int", "long", "real"):
        return cast(sql, "BIGINT" if as_long else "DOUBLE"), False
    return (longs if as_long else doubles)(c, arg, sql, what), True


def _elementwise(left: tuple[Sql, bool], right: tuple[Sql, bool], body: Callable[[Sql, Sql], Sql]) -> Sql:
    """`body` element by element; two series pair up to the longer one's length (missing elements are
    null), a number is applied to every element of the series."""
    (a, a_series), (b, b_series) = left, right
    if a_series and b_series:
        pair = col("kh_p")
        first = fn("struct_extract", pair, number(1))
        second = fn("struct_extract", pair, number(2))
        zipped = fn("list_transform", fn("list_zip", a, b), lam("kh_p", body(first, second)))
        # list_zip pads a missing list with nulls; a value that is no array makes no series at all
        return case((exp.Or(this=is_null(a), expression=is_null(b)), null()), default=zipped)
    if a_series:
        return fn("list_transform", a, lam("kh_x", body(col("kh_x"), b)))
    return fn("list_transform", b, lam("kh_x", body(a, col("kh_x"))))


# ---------------------------------------------------------------- element-wise


def _unary_body(name: str, x: Sql) -> Sql:
    match name:
        case "abs" | "sign":
            return fn(name, x)
        case "ceiling":
            return fn("ceil", x)
        case "log":
            # the scalar log() answers null below 0 where IEEE answers NaN; which one the series form
            # follows is not documented
            return case((exp.LT(this=x, expression=_double(0.0)), _fail("series_log() of a negative element")),
                        default=fn("ln", x))
        case "acos" | "asin":
            outside = exp.Or(this=exp.LT(this=x, expression=_double(-1.0)),
                             expression=exp.GT(this=x, expression=_double(1.0)))
            return case((outside, _fail(f"series_{name}() of an element outside [-1, 1]")), default=fn(name, x))
    return fn(name, x)


def _unary(name: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
        arg, what = e.args[0], e.fn + "()"
        if name == "sign":
            # .NET's Math.Sign throws on NaN (DuckDB answers 0)
            def body(x: Sql) -> Sql:
                return case((fn("isnan", x), _fail("series_sign() of NaN")), default=_unary_body(name, x))
        else:
            def body(x: Sql) -> Sql:
                return _unary_body(name, x)

        def over(values: Sql, out: str) -> Sql:
            return cast(fn("list_transform", values, lam("kh_x", body(col("kh_x")))), out)

        kind = series_kind(arg.type)
        if name in UNARY_KEEP and kind == "long":
            return over(longs(c, arg, a[0], what), "BIGINT[]")
        if name in UNARY_KEEP and kind == "json":
            as_long = over(longs(c, arg, a[0], what), "BIGINT[]")
            as_real = over(doubles(c, arg, a[0], what), "DOUBLE[]")
            return case((integral(c, arg, a[0], what), cast(fn("to_json", as_long), "JSON")),
                        default=cast(fn("to_json", as_real), "JSON"))
        return over(doubles(c, arg, a[0], what), "DOUBLE[]")

    return lowering


def _binary_body(name: str, x: Sql, y: Sql) -> Sql:
    match name:
        case "add":
            return paren(exp.Add(this=x, expression=y))
        case "subtract":
            return paren(exp.Sub(this=x, expression=y))
        case "multiply":
            return paren(exp.Mul(this=x, expression=y))
        case "divide":  # the docs: IEEE division, 2/0 is +inf
            return paren(exp.Div(this=x, expression=y))
        case "pow":
            return fn("pow", x, y)
    node = {"equals": exp.EQ, "not_equals": exp.NEQ, "greater": exp.GT, "greater_equals": exp.GTE,
            "less": exp.LT, "less_equals": exp.LTE}[name]
    return paren(node(this=x, expression=y))


def _binary(name: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
        what = e.fn + "()"
        (l_arg, r_arg), (l_sql, r_sql) = e.args, a

        def compute(as_long: bool) -> Sql:
            left = _operand(c, l_arg, l_sql, as_long, what)
            right = _operand(c, r_arg, r_sql, as_long, what)
            out = "BIGINT[]" if as_long else ("BOOLEAN[]" if name in COMPARE else "DOUBLE[]")
            return cast(_elementwise(left, right, lambda x, y: _binary_body(name, x, y)), out)

        if name not in BINARY_KEEP or e.type.elem is not None and e.type.elem.name == "real":
            return compute(False)
        if e.type.elem is not None:  # both integral: longs
            return compute(True)
        # a JSON series in the mix: longs when every series of the row is integral
        checks = [integral(c, arg, sql, what) for arg, sql in ((l_arg, l_sql), (r_arg, r_sql))
                  if series_kind(arg.type) == "json"]
        cond = checks[0] if len(checks) == 1 else exp.And(this=checks[0], expression=checks[1])
        return case((cond, cast(fn("to_json", compute(True)), "JSON")),
                    default=cast(fn("to_json", compute(False)), "JSON"))

    return lowering


for _name in UNARY_REAL + UNARY_KEEP:
    register(f"series_{_name}")(_unary(_name))
for _name in BINARY_KEEP + BINARY_REAL + COMPARE:
    register(f"series_{_name}")(_binary(_name))


# ---------------------------------------------------------------- reductions


def _sum(values: Sql) -> Sql:
    # list_sum skips null elements and answers NULL for an empty list
    return cast(fn("list_sum", values), "DOUBLE")


def _squares(values: Sql) -> Sql:
    return fn("list_transform", values, lam("kh_x", exp.Mul(this=col("kh_x"), expression=col("kh_x"))))


@register("series_sum", "series_product", "series_magnitude")
def series_reduce(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    # non-numeric elements are ignored and an empty series is null, as the docs say of the sibling
    # series_dot_product(); the magnitude is the square root of the series' dot product with itself
    values = doubles(c, e.args[0], a[0], e.fn + "()")
    if e.fn == "series_sum":
        return _sum(values)
    if e.fn == "series_product":
        return cast(fn("list_aggregate", values, string("product")), "DOUBLE")
    return fn("sqrt", _sum(_squares(values)))


def _dot(left: tuple[Sql, bool], right: tuple[Sql, bool]) -> Sql:
    """Sum of products over the shorter series (a number is broadcast); non-numeric elements add nothing."""
    (x, x_series), (y, y_series) = left, right
    if x_series and y_series:
        pair = col("kh_p")
        first = fn("struct_extract", pair, number(1))
        second = fn("struct_extract", pair, number(2))
        products = fn("list_transform", fn("list_zip", x, y, exp.Boolean(this=True)),
                      lam("kh_p", exp.Mul(this=first, expression=second)))
    else:
        products = _elementwise(left, right, lambda p, q: exp.Mul(this=p, expression=q))
    return _sum(products)


@register("series_dot_product")
def series_dot_product(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    what = "series_dot_product()"
    return _dot(_operand(c, e.args[0], a[0], False, what), _operand(c, e.args[1], a[1], False, what))


@register("series_cosine_similarity")
def series_cosine_similarity(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    what = "series_cosine_similarity()"
    x = doubles(c, e.args[0], a[0], what)
    y = doubles(c, e.args[1], a[1], what)
    # the docs: the longer series is cut to the shorter one's length, and a magnitude is the square root of
    # the (cut) series' dot product with itself; given magnitudes are used as they are
    shorter = fn("least", fn("len", x), fn("len", y))
    magnitudes = []
    for i, values in ((2, x), (3, y)):
        if len(e.args) > i:
            magnitudes.append(cast(a[i], "DOUBLE"))
        else:
            cut = fn("list_slice", values, number(1), shorter)
            magnitudes.append(fn("sqrt", _sum(_squares(cut))))
    dot = _dot((x, True), (y, True))
    return paren(exp.Div(this=dot, expression=paren(exp.Mul(this=magnitudes[0], expression=magnitudes[1]))))


@register("series_pearson_correlation")
def series_pearson_correlation(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    what = "series_pearson_correlation()"
    x = doubles(c, e.args[0], a[0], what)
    y = doubles(c, e.args[1], a[1], what)
    # the docs: a non-numeric element or series of different lengths make the result null
    pairs = fn("list_zip", x, y)
    broken = fn("list_bool_or", fn("list_transform", pairs, lam("kh_p", exp.Or(
        this=is_null(fn("struct_extract", col("kh_p"), number(1))),
        expression=is_null(fn("struct_extract", col("kh_p"), number(2)))))))
    n = cast(fn("len", x), "DOUBLE")
    sx, sy = _sum(x), _sum(y)
    sxy = _dot((x, True), (y, True))
    sxx, syy = _sum(_squares(x)), _sum(_squares(y))
    cov = exp.Sub(this=exp.Mul(this=n, expression=sxy), expression=exp.Mul(this=sx, expression=sy))
    vx = exp.Sub(this=exp.Mul(this=n, expression=sxx), expression=exp.Mul(this=sx, expression=sx))
    vy = exp.Sub(this=exp.Mul(this=n, expression=syy), expression=exp.Mul(this=sy, expression=sy))
    r = exp.Div(this=paren(cov), expression=fn("sqrt", paren(exp.Mul(this=paren(vx), expression=paren(vy)))))
    return case((fn("coalesce", broken, exp.Boolean(this=True)), cast(null(), "DOUBLE")), default=r)


# ---------------------------------------------------------------- fills, filters, seasonality (Python)


def _text(c: ExprCompiler, t: KType, sql: Sql) -> Sql:
    """A value as JSON text for the Python kernels (NULL stays NULL)."""
    if t.name == "null":
        return cast(null(), "VARCHAR")
    return cast(to_json(c, t, sql), "VARCHAR")


def _from_text(text: Sql, t: KType) -> Sql:
    return cast(text, physical(t))


def _arg(e: B.BCall, i: int) -> B.BExpr | None:
    return e.args[i] if len(e.args) > i else None


def _flag(c: ExprCompiler, e: B.BCall, i: int) -> Sql:
    arg = _arg(e, i)
    return cast(null() if arg is None else c.compile(arg), "BOOLEAN")


@register("series_fill_const", "series_fill_forward", "series_fill_backward", "series_fill_linear", raw=True)
def series_fill(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    series = e.args[0]
    text = [_text(c, series.type, c.compile(series))]
    if e.fn == "series_fill_const":
        value, placeholder = e.args[1], _arg(e, 2)
        text += [_text(c, value.type, c.compile(value))]
        text += [cast(null(), "VARCHAR") if placeholder is None else
                 _text(c, placeholder.type, c.compile(placeholder))]
    else:
        placeholder = _arg(e, 1)
        text += [cast(null(), "VARCHAR") if placeholder is None else
                 _text(c, placeholder.type, c.compile(placeholder))]
    if e.fn == "series_fill_linear":
        constant = _arg(e, 3)
        # the frozen results: a series of nulls only is filled with 0.0 (a real) by default
        text += [string("0.0") if constant is None else _text(c, constant.type, c.compile(constant))]
        text += [_flag(c, e, 2)]
    out = fn(f"kh_{e.fn}", *text)
    if e.type.elem is not None:
        return _from_text(out, e.type)
    return cast(out, "JSON")


@register("series_fir", "series_iir", raw=True)
def series_filter(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    texts = [_text(c, arg.type, c.compile(arg)) for arg in e.args[:2 if e.fn == "series_fir" else 3]]
    if e.fn == "series_fir":
        texts += [_flag(c, e, 2), _flag(c, e, 3)]
    return _from_text(fn(f"kh_{e.fn}", *texts), e.type)


def _const_int(e: B.BCall, i: int, default: int, what: str) -> int:
    """Argument i as a constant integer (`default` when absent or a typed null); refused when not constant."""
    arg = e.args[i] if len(e.args) > i else None
    if arg is None or arg.type.name == "null" or (isinstance(arg, B.BLit) and arg.value is None):
        return default
    value = const_value(arg)
    if not isinstance(value, int) or isinstance(value, bool):
        raise unsupported(f"{_function_of(e.fn)}() with a non-constant {what}", arg.span)
    return value


@register("series_seasonal", raw=True)
def series_seasonal(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    period = _const_int(e, 1, -1, "period")
    if period == -1:
        raise unsupported("series_seasonal() with a detected period (give the period)", e.span)
    text = _text(c, e.args[0].type, c.compile(e.args[0]))
    return _from_text(fn("kh_series_seasonal", text, cast(number(period), "BIGINT")), e.type)


# ---------------------------------------------------------------- fits and the Fourier transform


def _bag_field(bag: Sql, path: str, t: KType) -> Sql:
    return cast(fn("json_extract", bag, string(path)), physical(t))


@register("series_fit_line_dynamic", "series_fit_2lines_dynamic", raw=True)
def series_fit_dynamic(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    kernel = "kh_series_fit_line" if e.fn == "series_fit_line_dynamic" else "kh_series_fit_2lines"
    return cast(fn(kernel, _text(c, e.args[0].type, c.compile(e.args[0]))), "JSON")


def _fit_component(kernel: str, output: str) -> Lowering:
    path = "$." + output.replace("right_", "right.", 1).replace("left_", "left.", 1)

    def lowering(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
        bag = fn(kernel, _text(c, e.args[0].type, c.compile(e.args[0])))
        return _bag_field(cast(bag, "JSON"), path, e.type)

    return lowering


for _multi, _kernel in (("series_fit_line", "kh_series_fit_line"), ("series_fit_2lines", "kh_series_fit_2lines")):
    for _output, _ in MULTI_OUTPUTS[_multi].outputs:
        register(MULTI_OUTPUTS[_multi].component(_output), raw=True)(_fit_component(_kernel, _output))


def _poly_component(output: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
        y = _text(c, e.args[0].type, c.compile(e.args[0]))
        x_arg = _arg(e, 1)
        x = cast(null(), "VARCHAR") if x_arg is None or x_arg.type.name == "null" else \
            _text(c, x_arg.type, c.compile(x_arg))
        degree = _const_int(e, 2, 1, "degree")
        bag = fn("kh_series_fit_poly", y, x, cast(number(degree), "BIGINT"))
        return _bag_field(cast(bag, "JSON"), f"$.{output}", e.type)

    return lowering


for _output, _ in MULTI_OUTPUTS["series_fit_poly"].outputs:
    register(MULTI_OUTPUTS["series_fit_poly"].component(_output), raw=True)(_poly_component(_output))


def _fourier_component(inverse: bool, output: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
        real = _text(c, e.args[0].type, c.compile(e.args[0]))
        imag_arg = _arg(e, 1)
        imag = cast(null(), "VARCHAR") if imag_arg is None else _text(c, imag_arg.type, c.compile(imag_arg))
        bag = fn("kh_series_fft", real, imag, exp.Boolean(this=inverse))
        return _bag_field(cast(bag, "JSON"), f"$.{output}", e.type)

    return lowering


for _multi, _inverse in (("series_fft", False), ("series_ifft", True)):
    for _output, _ in MULTI_OUTPUTS[_multi].outputs:
        register(MULTI_OUTPUTS[_multi].component(_output), raw=True)(_fourier_component(_inverse, _output))


# ---------------------------------------------------------------- decomposition


TRENDS = ("avg", "linefit", "none")


def _decompose_args(e: B.BCall, period_at: int, trend_at: int) -> tuple[int, str]:
    """Constant seasonality (a detected one, -1 and the default, is refused) and trend."""
    function = _function_of(e.fn)
    period = _const_int(e, period_at, -1, "seasonality")
    if period < 0:
        raise unsupported(f"{function}() with a detected seasonality (give the period in bins, or 0)", e.span)
    trend_arg = e.args[trend_at] if len(e.args) > trend_at else None
    trend = "avg" if trend_arg is None else const_str(trend_arg)
    if trend not in TRENDS:
        raise unsupported(f"{function}() with a trend other than a constant 'avg', 'linefit' or 'none'",
                          trend_arg.span if trend_arg is not None else e.span)
    return period, trend


def _function_of(name: str) -> str:
    """The Kusto function a lowering serves: `series_fit_poly` for the component `series_fit_poly_rsquare`."""
    return next((m for m in sorted(MULTI_OUTPUTS, key=len, reverse=True) if name.startswith(m + "_")), name)


def _decompose_bag(c: ExprCompiler, e: B.BCall, period: int, trend: str, test_points: int) -> Sql:
    text = _text(c, e.args[0].type, c.compile(e.args[0]))
    bag = fn("kh_series_decompose", text, cast(number(period), "BIGINT"), string(trend),
             cast(number(test_points), "BIGINT"))
    return cast(bag, "JSON")


def _decompose_component(output: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
        # series_decompose(series, seasonality, trend, test_points, seasonality_threshold)
        period, trend = _decompose_args(e, 1, 2)
        test_points = _const_int(e, 3, 0, "test_points")
        return _bag_field(_decompose_bag(c, e, period, trend, test_points), f"$.{output}", e.type)

    return lowering


def _forecast_component(output: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
        # series_decompose_forecast(series, points, seasonality, trend, seasonality_threshold): the
        # decomposition learnt without the last `points` points, continued over them
        period, trend = _decompose_args(e, 2, 3)
        points = _const_int(e, 1, 0, "points")
        return _bag_field(_decompose_bag(c, e, period, trend, points), f"$.{output}", e.type)

    return lowering


for _output, _ in MULTI_OUTPUTS["series_decompose"].outputs:
    register(MULTI_OUTPUTS["series_decompose"].component(_output), raw=True)(_decompose_component(_output))
for _output, _ in MULTI_OUTPUTS["series_decompose_forecast"].outputs:
    register(MULTI_OUTPUTS["series_decompose_forecast"].component(_output), raw=True)(_forecast_component(_output))


def _anomaly_component(output: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
        # series_decompose_anomalies(series, threshold, seasonality, trend, test_points, ad_method,
        # seasonality_threshold): series_outliers() of the residual, flagged beyond +-threshold
        period, trend = _decompose_args(e, 2, 3)
        if _const_int(e, 4, 0, "test_points") != 0:
            raise unsupported("series_decompose_anomalies() with test points", e.span)
        method_arg = _arg(e, 5)
        method = "ctukey" if method_arg is None else const_str(method_arg)
        if method not in ("ctukey", "tukey"):
            raise unsupported("series_decompose_anomalies() with an ad_method other than a constant "
                              "'ctukey' or 'tukey'", method_arg.span if method_arg is not None else e.span)
        bag = _decompose_bag(c, e, period, trend, 0)
        if output == "baseline":
            return _bag_field(bag, "$.baseline", e.type)
        residual = _bag_field(bag, "$.residual", KType("dynamic", KType("real")))
        score = fn("kh_series_outliers" if method == "ctukey" else "kh_series_outliers_tukey", residual)
        if output == "ad_score":
            return score
        threshold_arg = _arg(e, 1)
        threshold = _double(1.5) if threshold_arg is None else cast(c.compile(threshold_arg), "DOUBLE")
        s = col("kh_s")
        flag = case((exp.GT(this=s, expression=threshold), number(1)),
                    (exp.LT(this=s, expression=exp.Neg(this=threshold)), number(-1)), default=number(0))
        return cast(fn("list_transform", score, lam("kh_s", flag)), "BIGINT[]")

    return lowering


for _output, _ in MULTI_OUTPUTS["series_decompose_anomalies"].outputs:
    register(MULTI_OUTPUTS["series_decompose_anomalies"].component(_output), raw=True)(_anomaly_component(_output))


def _refused(what: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
        raise unsupported(what, e.span)

    return lowering


# Kusto's period scores could not be reproduced from the frozen results (periods_validate gives 0.8406
# for period 14 of the docs' series; no autocorrelation or seasonal-variance measure tried matches)
for _multi in ("series_periods_detect", "series_periods_validate"):
    for _output, _ in MULTI_OUTPUTS[_multi].outputs:
        register(MULTI_OUTPUTS[_multi].component(_output), raw=True)(_refused(f"{_multi}() (its period scores)"))
