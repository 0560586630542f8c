"""Kusto's ``series_outliers()`` and ``series_stats()`` as runtime pieces for the SQL engine.

``series_outliers`` exists twice: a pure-Python reference (:func:`series_outliers`) and an Arrow-vectorised
form (:func:`series_outliers_arrow`, one global sort for a whole batch of lists) that DuckDB can call as an
Arrow UDF. The two agree bit for bit; the reference is the test oracle for the vectorised one.
``series_stats`` / ``series_stats_dynamic`` are pure-Python references used to check the SQL versions.
The family's other kernels (fills, filters, fits, decomposition, Fourier transform) live in
:mod:`kqlhunt.engines.runtime.series_more`; this module's ``UDFS`` declares them too, so the family stays
one entry of ``FAMILIES``.

How ``series_outliers`` scores a series
---------------------------------------
The documentation only says "Tukey's test" with the 10th/90th percentiles for ``"ctukey"`` and the
25th/75th for ``"tukey"``; a plain Tukey score ``(x - Q90) / (Q90 - Q10)`` does not reproduce the real
engine. The definition below was derived from four series whose scores were frozen from the real engine
(the conformance case ``series-outliers-function-00`` — 365 points — and the three
``series-decompose-anomalies`` cases, whose ``ad_score`` is ``series_outliers(y - baseline)``, 840 points
each) plus the worked example the function's author posted when asked how the score is computed
(16 points, percentiles 2.7 / 11). All five reproduce **bit for bit** with:

1. Drop missing points — null, non-numeric, NaN/±inf and values equal to *ignore_val* — from the
   statistics; they score ``0.0`` (the docs: "the score of nulls and ignore values is set to 0").
2. Sort the remaining ``n`` values ``v``. Percentile ``p`` is linearly interpolated between closest ranks
   (NumPy's default "linear" / R type 7): ``h = (n - 1) / (100 / p)``, ``i = floor(h)``, ``t = h - i``,
   ``q = v[i] * (1 - t) + v[i + 1] * t``. The unusual ``(n - 1) / (100 / p)`` and the ``a*(1-t) + b*t``
   blend are what make every frozen value match to the last bit: with ``h = (n - 1) * p / 100`` (one ulp
   higher for n = 365, p = 90) 74 of the 582 non-zero frozen scores miss by an ulp or two, and with the
   blend ``a + (b - a) * t`` 113 do. One addition: ``q = v[i]`` when ``v[i] == v[i + 1]``. The blend is
   not exact for equal neighbours (``[210.5, 210.5]`` would get fences an ulp apart in the wrong order
   and score 2.77 everywhere); no frozen series has such ties, so keeping ties exact is an assumption.
3. A value inside ``[q_low, q_high]`` scores ``0.0``. Above it scores
   ``(x - q_high) / (q_high - q_low) * NF``; below, ``(x - q_low) / (q_high - q_low) * NF``.
4. ``NF`` normalises the 10–90 range so that 1.5 means what it means for classic Tukey: under a normal
   distribution the classic fence ``Q75 + 1.5 * IQR`` sits at ``2.7 σ`` (with ``z(75%) = 0.675``), and
   ``NF = 1.5 * (z_high - z_low) / (2.7 - z_high)`` puts the ctukey score 1.5 at that same point. The frozen
   scores give ``NF = 2.772605605507915`` for 10/90 (the fitted factor is the same to 1e-15 on all four
   engine series), which that formula reproduces exactly with ``z(90%) = 1.29682082`` — the engine's own
   value, not the textbook 1.2816 (the author's explanation quotes the factor as 2.772 and
   ``Z = ±1.2968``). For ``"tukey"`` the factor is 1: the score is the classic ``(x - Q75) / IQR``.

What is *not* pinned down by frozen results, and is a documented choice here:

- Custom *min_percentile*/*max_percentile* (ctukey only, each in [2, 98]): the engine's z-table is
  unknown beyond 10/90, so other percentiles use the exact normal quantile in the same formula
  (at 10/90 that would give 2.714 instead of the engine's 2.773, so expect scores ~2% off for custom
  percentiles; fences are exact).
- ``q_high == q_low`` with a point outside the fences: IEEE division gives ±inf (as .NET would).
- The 2018 version of the docs printed
  ``[30,28,5,27,31,38,29,80,25,37,30] -> [0,0,-3.2069,-0.1724,0,2.6667,0,16.667,-0.4483,2.3333,0]``. No
  ctukey variant reproduces it (its two sides use different scales); its set of flagged points is exactly
  the classic 25/75 Tukey set, which the tests check, but its magnitudes came from an older engine and
  disagree with today's frozen results, which take precedence.

``series_stats``
----------------
Sample variance as ``(n * Σx² - (Σx)²) / (n * (n - 1))`` and its square root: this form reproduces the
documented ``series_stats_dynamic`` example to all 17 printed digits (a two-pass ``Σ(x - avg)² / (n - 1)``
is one ulp low). Indices are those of the first occurrence in the *input* array. With
``ignore_nonfinite=False`` (the default) any null / non-numeric / NaN / ±inf element makes every statistic
null; with ``True`` such elements are skipped. Empty input (or nothing left) gives null statistics; a
single value gives variance and stdev ``0.0`` (not pinned by any frozen result).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "SeriesStats",
    "normalisation_factor",
    "series_outliers",
    "series_outliers_arrow",
    "series_stats",
    "series_stats_dynamic",
]

# Classic Tukey under a normal distribution, in σ units, as the engine rounds them.
_Z75 = 0.675
_TUKEY_FENCE = _Z75 + 1.5 * (2 * _Z75)  # 2.7
# z-values the engine uses for ctukey percentiles, recovered from frozen results (see module docstring).
_ENGINE_Z = {90.0: 1.29682082, 10.0: -1.29682082}

_KINDS = {"tukey": (25.0, 75.0), "ctukey": (10.0, 90.0)}


def _z(percentile: float) -> float:
    if percentile in _ENGINE_Z:
        return _ENGINE_Z[percentile]
    return NormalDist().inv_cdf(percentile / 100.0)


def normalisation_factor(
    kind: str = "ctukey", min_percentile: float = 10.0, max_percentile: float = 90.0
) -> float:
    """The factor that rescales ``(x - fence) / (q_high - q_low)`` to Tukey units (1 for ``"tukey"``)."""
    low, high = _percentiles(kind, min_percentile, max_percentile)
    if kind == "tukey":
        return 1.0
    z_low, z_high = _z(low), _z(high)
    return 1.5 * (z_high - z_low) / (_TUKEY_FENCE - z_high)


def _percentiles(kind: str, min_percentile: float, max_percentile: float) -> tuple[float, float]:
    if kind not in _KINDS:
        raise ValueError(f"series_outliers(): kind must be 'tukey' or 'ctukey', got {kind!r}")
    if kind == "tukey":
        return _KINDS["tukey"]
    low, high = float(min_percentile), float(max_percentile)
    if not (2.0 <= low <= 98.0 and 2.0 <= high <= 98.0):
        raise ValueError("series_outliers(): min_percentile and max_percentile must be in [2.0, 98.0]")
    if low >= high:
        raise ValueError("series_outliers(): min_percentile must be below max_percentile")
    return low, high


def _as_number(value: Any) -> float | None:
    """A finite float, or None for what Kusto treats as missing (null, non-numeric, NaN, ±inf)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _quantile(ordered: Sequence[float], percentile: float) -> float:
    n = len(ordered)
    h = (n - 1) / (100.0 / percentile)
    i = math.floor(h)
    t = h - i
    lower, upper = ordered[i], ordered[min(i + 1, n - 1)]
    if lower == upper:  # the blend below is not exact for equal neighbours; ties must stay put
        return lower
    return lower * (1.0 - t) + upper * t


def _divide(numerator: float, denominator: float) -> float:
    if denominator == 0.0:  # only reachable for a point outside zero-width fences
        return math.copysign(math.inf, numerator) if numerator else math.nan
    return numerator / denominator


def series_outliers(
    values: Sequence[Any] | None,
    kind: str = "ctukey",
    ignore_val: float | None = None,
    min_percentile: float = 10.0,
    max_percentile: float = 90.0,
) -> list[float] | None:
    """Kusto ``series_outliers()``: one anomaly score per element (|score| > 1.5 is an anomaly).

    Missing elements (null, non-numeric, NaN/inf, *ignore_val*) score 0. ``None`` in gives ``None`` out.
    """
    low_pct, high_pct = _percentiles(kind, min_percentile, max_percentile)
    if values is None:
        return None
    factor = normalisation_factor(kind, min_percentile, max_percentile)
    ignore = None if ignore_val is None else float(ignore_val)
    numbers = [_as_number(v) for v in values]
    present = [x for x in numbers if x is not None and x != ignore]
    if not present:
        return [0.0] * len(numbers)
    ordered = sorted(present)
    q_low, q_high = _quantile(ordered, low_pct), _quantile(ordered, high_pct)
    spread = q_high - q_low
    scores = []
    for x in numbers:
        if x is None or x == ignore or q_low <= x <= q_high:
            scores.append(0.0)
        else:
            fence = q_high if x > q_high else q_low
            scores.append(_divide(x - fence, spread) * factor)
    return scores


def series_outliers_arrow(
    arr: pa.Array | pa.ChunkedArray,
    kind: str = "ctukey",
    ignore_val: float | None = None,
    min_percentile: float = 10.0,
    max_percentile: float = 90.0,
) -> pa.ListArray:
    """Vectorised :func:`series_outliers` over a list array; returns ``list<double>``, null list -> null.

    One ``lexsort`` orders every list's values at once, so a batch of many short series costs one sort.
    """
    low_pct, high_pct = _percentiles(kind, min_percentile, max_percentile)
    factor = normalisation_factor(kind, min_percentile, max_percentile)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=arr.type)
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        raise TypeError(f"series_outliers_arrow() needs a list array, got {arr.type}")
    offsets = np.asarray(arr.offsets, dtype=np.int64)
    base = int(offsets[0]) if len(offsets) else 0
    child = arr.values.slice(base, int(offsets[-1]) - base if len(offsets) else 0)
    child = pc.cast(child, pa.float64()) if child.type != pa.float64() else child
    values = pc.fill_null(child, math.nan).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    offsets = offsets - base
    lengths = np.diff(offsets)
    n_lists = len(lengths)
    segment = np.repeat(np.arange(n_lists, dtype=np.int64), lengths)

    valid = np.isfinite(values)
    if ignore_val is not None:
        valid &= values != float(ignore_val)
    valid_values, valid_segment = values[valid], segment[valid]
    order = np.lexsort((valid_values, valid_segment))
    ordered = valid_values[order]
    counts = np.bincount(valid_segment, minlength=n_lists)
    starts = np.cumsum(counts) - counts

    def quantile(percentile: float) -> np.ndarray:
        out = np.full(n_lists, np.nan)
        has = counts > 0
        n = counts[has].astype(np.float64)
        h = (n - 1.0) / (100.0 / percentile)
        i = np.floor(h)
        t = h - i
        lower_idx = starts[has] + i.astype(np.int64)
        upper_idx = starts[has] + np.minimum(i.astype(np.int64) + 1, counts[has] - 1)
        lower, upper = ordered[lower_idx], ordered[upper_idx]
        out[has] = np.where(lower == upper, lower, lower * (1.0 - t) + upper * t)
        return out

    q_low = quantile(low_pct)[segment]
    q_high = quantile(high_pct)[segment]
    above = valid & (values > q_high)
    below = valid & (values < q_low)
    fence = np.where(above, q_high, q_low)
    # a zero-width fence may come out as -0.0 (0.0 - -0.0 sorts as equal): make it +0.0 so that x / 0 takes
    # x's sign, as the scalar reference's _divide does
    spread = (q_high - q_low) + 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = (values - fence) / spread * factor
    scores = np.where(above | below, raw, 0.0)
    mask = arr.is_null() if arr.null_count else None
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(scores, pa.float64()), mask=mask)


class SeriesStats(NamedTuple):
    """``series_stats()`` columns in Kusto's order; every field is None when the stats are undefined."""

    min: float | None
    min_idx: int | None
    max: float | None
    max_idx: int | None
    avg: float | None
    stdev: float | None
    variance: float | None


_NO_STATS = SeriesStats(None, None, None, None, None, None, None)


def _stats_and_sum(values: Sequence[Any], ignore_nonfinite: bool) -> tuple[SeriesStats, float | None]:
    numbers: list[tuple[int, float]] = []
    for index, value in enumerate(values):
        number = _as_number(value)
        if number is None:
            if not ignore_nonfinite:
                return _NO_STATS, None
            continue
        numbers.append((index, number))
    if not numbers:
        return _NO_STATS, 0.0
    min_idx, min_value = min(numbers, key=lambda item: item[1])  # min/max keep the first occurrence
    max_idx, max_value = max(numbers, key=lambda item: item[1])
    n = len(numbers)
    total = sum(x for _, x in numbers)
    squares = sum(x * x for _, x in numbers)
    variance = 0.0 if n == 1 else max((n * squares - total * total) / (n * (n - 1)), 0.0)
    stats = SeriesStats(min_value, min_idx, max_value, max_idx, total / n, math.sqrt(variance), variance)
    return stats, total


def series_stats(values: Sequence[Any] | None, ignore_nonfinite: bool = False) -> SeriesStats:
    """Kusto ``series_stats()``: (min, min_idx, max, max_idx, avg, stdev, variance), sample stdev/variance."""
    if values is None:
        return _NO_STATS
    return _stats_and_sum(values, ignore_nonfinite)[0]


def series_stats_dynamic(
    values: Sequence[Any] | None, ignore_nonfinite: bool = False
) -> dict[str, Any] | None:
    """Kusto ``series_stats_dynamic()``: the same statistics plus ``sum`` and ``len``, as a property bag.

    Keys come in the order Kusto prints them; ``len`` is the length of the input array.
    """
    if values is None:
        return None
    stats, total = _stats_and_sum(values, ignore_nonfinite)
    return {
        "min": stats.min,
        "min_idx": stats.min_idx,
        "max": stats.max,
        "max_idx": stats.max_idx,
        "avg": stats.avg,
        "stdev": stats.stdev,
        "variance": stats.variance,
        "sum": total,
        "len": len(values),
    }


def _udfs() -> tuple[Any, ...]:
    from kqlhunt.engines.runtime import series_more
    from kqlhunt.engines.runtime.udfs import Udf

    return (
        Udf("kh_series_outliers", lambda arr: series_outliers_arrow(arr), ("DOUBLE[]",), "DOUBLE[]"),
        # series_decompose_anomalies(..., ad_method='tukey') scores its residual with the classic test
        Udf("kh_series_outliers_tukey", lambda arr: series_outliers_arrow(arr, "tukey"), ("DOUBLE[]",), "DOUBLE[]"),
        *series_more.UDFS,  # the rest of the family's kernels (filters, fills, fits, decomposition, FFT)
    )


UDFS = _udfs()
