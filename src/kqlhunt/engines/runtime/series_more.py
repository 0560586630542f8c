"""Kusto's series functions that SQL cannot express well, as row-wise Python over JSON text.

Every kernel takes the series as JSON text (what the SQL side sends for a JSON dynamic and for a native
list alike) and answers JSON text, so element types survive: Kusto keeps an array of longs an array of
longs through ``series_fill_*`` and truncates ``series_fill_linear``'s interpolated values for it (the
frozen result ``series-fill-linear-function-00``: 73.5 -> 73, 32.67 -> 32).

Where Kusto's answer for an input is not known (a null inside a series handed to a filter, a fit or a
transform; a period it would have to detect itself), the kernel raises :class:`SeriesError` and the query
fails instead of returning a guess. Element rules shared by all kernels:

* a *number* is a JSON integer or real (booleans, strings, arrays and bags are not numbers);
* a series is *integral* when it holds at least one number and every number is an integer (an array of
  nulls only is a real series: ``series_fill_linear([null, null])`` answers ``[0.0, 0.0]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = [
    "SeriesError",
    "decompose",
    "fft",
    "fill_const",
    "fill_backward",
    "fill_forward",
    "fill_linear",
    "fir",
    "fit_2lines",
    "fit_line",
    "fit_poly",
    "iir",
    "seasonal",
]


class SeriesError(ValueError):
    """An input whose Kusto answer kqlhunt does not know: the query stops rather than guess."""


def _parse(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _integral(values: Sequence[Any]) -> bool:
    numbers = [v for v in values if _is_number(v)]
    return bool(numbers) and all(isinstance(v, int) for v in numbers)


def _same(v: Any, placeholder: Any) -> bool:
    """Is element `v` an instance of the missing-value placeholder (null by default)?"""
    if placeholder is None:
        return v is None
    if not _is_number(v) or not _is_number(placeholder):
        return False
    return v == placeholder or (isinstance(v, float) and math.isnan(v) and math.isnan(placeholder))


def _dense(values: Any, what: str) -> np.ndarray | None:
    """A series of numbers only, as float64; None when it is not an array."""
    if not isinstance(values, list):
        return None
    if not all(_is_number(v) for v in values):
        raise SeriesError(f"kqlhunt: {what} of a series with null or non-numeric elements is not supported "
                          "(Kusto's answer is not known)")
    return np.asarray(values, dtype=np.float64)


def _floats(xs: np.ndarray) -> list[float]:
    return [float(x) for x in xs]


# ---------------------------------------------------------------- missing values


def fill_const(values: Any, constant: Any, placeholder: Any = None) -> list | None:
    """Every placeholder instance replaced by `constant` (kept as given: `[1, null]` with 0.0 -> `[1, 0.0]`)."""
    if not isinstance(values, list):
        return None
    return [constant if _same(v, placeholder) else v for v in values]


def fill_forward(values: Any, placeholder: Any = None) -> list | None:
    """Each placeholder takes the nearest value on its left; leading placeholders stay."""
    if not isinstance(values, list):
        return None
    out, last, seen = [], None, False
    for v in values:
        if _same(v, placeholder):
            out.append(last if seen else v)
        else:
            out.append(v)
            last, seen = v, True
    return out


def fill_backward(values: Any, placeholder: Any = None) -> list | None:
    """Each placeholder takes the nearest value on its right; trailing placeholders stay."""
    if not isinstance(values, list):
        return None
    done = fill_forward(values[::-1], placeholder)
    assert done is not None
    return done[::-1]


def fill_linear(values: Any, placeholder: Any = None, fill_edges: bool | None = True,
                constant: Any = 0) -> list | None:
    """Placeholders between two values interpolated on the line through them; edges take the nearest value
    (unless `fill_edges` is false); a series of placeholders only is filled with `constant`.

    Interpolation runs from the right-hand value back, ``right - (r - i) * (right - left) / (r - l)``: the
    form that reproduces the frozen results to the last digit (32.66666666666667, 24.333333333333336).
    For an integral series the interpolated values are truncated to integers (the frozen results).
    """
    if not isinstance(values, list):
        return None
    known = [i for i, v in enumerate(values) if not _same(v, placeholder)]
    if not known:
        return [constant if _same(v, placeholder) else v for v in values]
    for i in known:
        if not _is_number(values[i]):
            raise SeriesError("kqlhunt: series_fill_linear() of a series with non-numeric elements is not "
                              "supported (Kusto's answer is not known)")
    integral = _integral([values[i] for i in known])
    out = list(values)
    for left, right in zip(known, known[1:], strict=False):
        if right - left < 2:
            continue
        lv, rv = float(values[left]), float(values[right])
        step = (rv - lv) / (right - left)
        for i in range(left + 1, right):
            x = rv - (right - i) * step
            out[i] = int(x) if integral else x  # int() truncates toward zero, as .NET's (long) cast
    if fill_edges is None or fill_edges:
        first, last = known[0], known[-1]
        for i in range(first):
            out[i] = values[first]
        for i in range(last + 1, len(values)):
            out[i] = values[last]
    return out


# ---------------------------------------------------------------- filters


def fir(values: Any, coefficients: Any, normalize: bool | None = None, center: bool | None = False) -> list | None:
    """Finite impulse response: ``y[i] = sum_j c[j] * x[i - j]`` (points before the start count as 0).

    `normalize` divides the coefficients by their sum; by default it is on unless a coefficient is
    negative, and asking for it with a negative coefficient makes the result null (the docs). `center`
    shifts the window by ``(len(c) - 1) / 2`` so it spans both sides of the point.
    """
    x = _dense(values, "series_fir()")
    c = _dense(coefficients, "series_fir() filter")
    if x is None or c is None or len(c) == 0:
        return None
    negative = bool((c < 0).any())
    if normalize is None:
        normalize = not negative
    if normalize:
        if negative:
            return None
        c = c / c.sum()
    shift = (len(c) - 1) // 2 if center else 0
    n = len(x)
    padded = np.concatenate([np.zeros(len(c) - 1), x, np.zeros(shift)])
    out = np.zeros(n)
    for j, cj in enumerate(c):
        # y[i] = sum_j c[j] * x[i + shift - j]; x[k] lives at padded[k + len(c) - 1]
        start = shift - j + len(c) - 1
        out += cj * padded[start:start + n]
    return _floats(out)


def iir(values: Any, numerators: Any, denominators: Any) -> list | None:
    """Infinite impulse response, the docs' recursion:
    ``y[i] = (sum_j b[j] * x[i - j] - sum_{j >= 1} a[j] * y[i - j]) / a[0]``."""
    x = _dense(values, "series_iir()")
    b = _dense(numerators, "series_iir() numerators")
    a = _dense(denominators, "series_iir() denominators")
    if x is None or b is None or a is None or len(a) == 0 or len(b) == 0:
        return None
    if a[0] == 0:
        raise SeriesError("kqlhunt: series_iir() with a first denominator of 0 is not supported "
                          "(Kusto's answer is not known)")
    y = [0.0] * len(x)
    for i in range(len(x)):
        acc = 0.0
        for j in range(min(len(b), i + 1)):
            acc += b[j] * x[i - j]
        for j in range(1, min(len(a), i + 1)):
            acc -= a[j] * y[i - j]
        y[i] = float(acc / a[0])
    return y


# ---------------------------------------------------------------- seasonality and decomposition


def _seasonal(x: np.ndarray, period: int, learn: int) -> np.ndarray:
    """Per phase (index mod period), the median of the learning points of that phase."""
    out = np.zeros(len(x))
    for phase in range(min(period, len(x))):
        learned = x[phase:learn:period]
        median = float(np.median(learned)) if len(learned) else 0.0
        out[phase::period] = median
    return out


def seasonal(values: Any, period: int | None = -1) -> list | None:
    """The median of the points in the same phase, for an explicit positive period; zeros for any other
    period except -1 (the docs). -1 asks Kusto to detect the period, which kqlhunt does not do."""
    x = _dense(values, "series_seasonal()")
    if x is None or period is None:
        return None
    if period == -1:
        raise SeriesError("kqlhunt: series_seasonal() with a detected period is not supported")
    if period <= 0:
        return [0.0] * len(x)
    return _floats(_seasonal(x, int(period), len(x)))


def _line(y: np.ndarray) -> tuple[float, float]:
    """Least squares line through (1, y[0]), (2, y[1]), ...: (slope, interception)."""
    n = len(y)
    x = np.arange(1, n + 1, dtype=np.float64)
    if n < 2:
        return 0.0, float(y[0]) if n else 0.0
    mx, my = x.mean(), y.mean()
    slope = float(((x - mx) * (y - my)).sum() / ((x - mx) ** 2).sum())
    return slope, float(my - slope * mx)


def decompose(values: Any, period: int | None = 0, trend: str | None = "avg", test_points: int | None = 0
              ) -> dict[str, list[float]] | None:
    """Kusto's documented order: the seasonal component (per-phase medians of the learning points), then
    the trend of the deseasoned series ("avg": its mean; "linefit": a least squares line; "none": 0),
    baseline = seasonal + trend, residual = x - baseline. The last `test_points` points are left out of
    the learning and their components extrapolated (the seasonal pattern repeats, the line goes on)."""
    x = _dense(values, "series_decompose()")
    if x is None or period is None or trend is None or test_points is None:
        return None
    if period < 0:
        raise SeriesError("kqlhunt: series_decompose() with a detected period is not supported")
    if trend not in ("avg", "linefit", "none"):
        raise SeriesError(f"kqlhunt: series_decompose() trend must be avg, linefit or none, not {trend!r}")
    n = len(x)
    learn = n - int(test_points)
    if learn <= 0 or test_points < 0:
        raise SeriesError("kqlhunt: series_decompose() with test points outside the series is not supported")
    season = _seasonal(x, int(period), learn) if period > 0 else np.zeros(n)
    deseasoned = (x - season)[:learn]
    if trend == "avg":
        line = np.full(n, float(deseasoned.mean()))
    elif trend == "linefit":
        slope, interception = _line(deseasoned)
        line = slope * np.arange(1, n + 1, dtype=np.float64) + interception
    else:
        line = np.zeros(n)
    baseline = season + line
    return {"baseline": _floats(baseline), "seasonal": _floats(season), "trend": _floats(line),
            "residual": _floats(x - baseline)}


# ---------------------------------------------------------------- regression


def _fit(y: np.ndarray) -> dict[str, Any]:
    n = len(y)
    slope, interception = _line(y)
    fitted = slope * np.arange(1, n + 1, dtype=np.float64) + interception
    ss_total = float(((y - y.mean()) ** 2).sum())
    ss_residual = float(((y - fitted) ** 2).sum())
    dof = max(n - 1, 1)
    return {
        "slope": slope,
        "interception": interception,
        "rsquare": 1.0 - ss_residual / ss_total if ss_total else 1.0 if ss_residual == 0 else 0.0,
        "variance": ss_total / dof,
        "rvariance": ss_residual / dof,
        "line_fit": _floats(fitted),
    }


def fit_line(values: Any) -> dict[str, Any] | None:
    """Least squares line over x = 1, 2, ..., n: slope, interception, r-square, sample variance of y and
    of the residuals (both over n - 1, as the frozen result), and the fitted values, in Kusto's key order."""
    y = _dense(values, "series_fit_line()")
    if y is None:
        return None
    if len(y) < 2:
        raise SeriesError("kqlhunt: series_fit_line() of fewer than 2 points is not supported")
    return _fit(y)


def _split_residual(y: np.ndarray, k: int) -> float:
    total = 0.0
    for part in (y[:k], y[k:]):
        if len(part) > 1:
            slope, icpt = _line(part)
            total += float(((part - (slope * np.arange(1, len(part) + 1) + icpt)) ** 2).sum())
    return total


def fit_2lines(values: Any) -> dict[str, Any] | None:
    """The best split of the series into a left part y[:k] and a right part y[k:], each fitted with its own
    line as series_fit_line() fits a series (x = 1, 2, ... within the part, the docs); best = the least
    total squared residual, i.e. the highest total r-square; `split_idx` is k, the right part's first index.

    How short a part Kusto allows is not documented: when the best split changes with the minimum part
    length (1, 2 or 3 points), the answer would be a guess and the query stops instead."""
    y = _dense(values, "series_fit_2lines()")
    if y is None:
        return None
    n = len(y)
    if n < 6:
        raise SeriesError("kqlhunt: series_fit_2lines() of fewer than 6 points is not supported")
    residuals = {k: _split_residual(y, k) for k in range(1, n)}
    bests = {min(range(m, n - m + 1), key=lambda k: residuals[k]) for m in (1, 2, 3)}
    if len(bests) != 1:
        raise SeriesError("kqlhunt: series_fit_2lines() of a series whose best split leaves a part of fewer "
                          "than 3 points is not supported (Kusto's answer is not known)")
    k = bests.pop()
    sides, fitted = {}, []
    for name, part in (("left", y[:k]), ("right", y[k:])):
        fit = _fit(part)
        fitted += fit["line_fit"]
        sides[name] = {key: fit[key] for key in ("rsquare", "slope", "interception", "variance", "rvariance")}
    fitted_arr = np.asarray(fitted)
    ss_total = float(((y - y.mean()) ** 2).sum())
    ss_residual = float(((y - fitted_arr) ** 2).sum())
    return {
        "rsquare": 1.0 - ss_residual / ss_total if ss_total else 1.0,
        "split_idx": k,
        "variance": ss_total / (n - 1),
        "rvariance": ss_residual / (n - 1),
        "line_fit": fitted,
        "right": sides["right"],
        "left": sides["left"],
    }


def fit_poly(y_values: Any, x_values: Any = None, degree: int | None = 1) -> dict[str, Any] | None:
    """Least squares polynomial of `degree` from x (default 1, 2, ..., n) to y: r-square, coefficients from
    the highest power down, sample variance of y and of the residuals, the fitted values."""
    y = _dense(y_values, "series_fit_poly()")
    if y is None or degree is None:
        return None
    if x_values is None:
        x = np.arange(1, len(y) + 1, dtype=np.float64)
    else:
        x = _dense(x_values, "series_fit_poly() x_series")
        if x is None:
            return None
        if len(x) != len(y):
            raise SeriesError("kqlhunt: series_fit_poly() of x and y series of different lengths is not supported")
    if degree < 1 or len(y) <= degree:
        raise SeriesError("kqlhunt: series_fit_poly() needs more points than the degree")
    vander = np.vander(x, int(degree) + 1)
    coefficients = np.linalg.lstsq(vander, y, rcond=None)[0]
    fitted = vander @ coefficients
    n = len(y)
    ss_total = float(((y - y.mean()) ** 2).sum())
    ss_residual = float(((y - fitted) ** 2).sum())
    return {
        "rsquare": 1.0 - ss_residual / ss_total if ss_total else 1.0,
        "coefficients": _floats(coefficients),
        "variance": ss_total / (n - 1),
        "rvariance": ss_residual / (n - 1),
        "poly_fit": _floats(fitted),
    }


# ---------------------------------------------------------------- Fourier


def fft(real: Any, imag: Any = None, inverse: bool = False) -> dict[str, list[float]] | None:
    """The discrete Fourier transform as the docs define it by reference (negative exponent forward,
    unscaled; the inverse scaled by 1/n, so that ``series_ifft(series_fft(x)) == x``)."""
    what = "series_ifft()" if inverse else "series_fft()"
    re = _dense(real, what)
    if re is None:
        return None
    im = np.zeros(len(re)) if imag is None else _dense(imag, what)
    if im is None:
        return None
    if len(im) != len(re):
        raise SeriesError(f"kqlhunt: {what} of real and imaginary parts of different lengths is not supported")
    z = re + 1j * im
    out = np.fft.ifft(z) if inverse else np.fft.fft(z)
    return {"real": _floats(out.real), "imag": _floats(out.imag)}


# ---------------------------------------------------------------- Arrow wrappers


def _rows(*arrays: pa.Array) -> list[list[Any]]:
    return [list(row) for row in zip(*(a.to_pylist() for a in arrays), strict=True)]


def _json_udf(func: Callable[..., Any], json_args: int) -> Callable[..., pa.Array]:
    """A row-wise kernel as a vectorised UDF: the first `json_args` parameters arrive as JSON text, the rest
    as plain values; the answer goes back as JSON text (None stays NULL)."""

    def run(*arrays: pa.Array) -> pa.Array:
        out = []
        for row in _rows(*arrays):
            args = [_parse(v) for v in row[:json_args]] + row[json_args:]
            value = func(*args)
            out.append(None if value is None else _dump(value))
        return pa.array(out, type=pa.string())

    return run


def _udfs() -> tuple[Any, ...]:
    from kqlhunt.engines.runtime.udfs import Udf

    text, flag, whole = "VARCHAR", "BOOLEAN", "BIGINT"
    return (
        Udf("kh_series_fill_const", _json_udf(fill_const, 3), (text, text, text), text),
        Udf("kh_series_fill_forward", _json_udf(fill_forward, 2), (text, text), text),
        Udf("kh_series_fill_backward", _json_udf(fill_backward, 2), (text, text), text),
        Udf("kh_series_fill_linear", _json_udf(lambda v, p, k, e: fill_linear(v, p, e, k), 3),
            (text, text, text, flag), text),
        Udf("kh_series_fir", _json_udf(fir, 2), (text, text, flag, flag), text),
        Udf("kh_series_iir", _json_udf(iir, 3), (text, text, text), text),
        Udf("kh_series_seasonal", _json_udf(seasonal, 1), (text, whole), text),
        Udf("kh_series_decompose", _json_udf(decompose, 1), (text, whole, text, whole), text),
        Udf("kh_series_fit_line", _json_udf(fit_line, 1), (text,), text),
        Udf("kh_series_fit_2lines", _json_udf(fit_2lines, 1), (text,), text),
        Udf("kh_series_fit_poly", _json_udf(fit_poly, 2), (text, text, whole), text),
        Udf("kh_series_fft", _json_udf(lambda r, i, inv: fft(r, i, bool(inv)), 2), (text, text, flag), text),
    )


UDFS = _udfs()
