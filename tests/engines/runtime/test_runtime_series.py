"""series_outliers / series_stats against the real engine's frozen results, the docs and independent maths."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kqlhunt.engines.runtime.series import (
    normalisation_factor,
    series_outliers,
    series_outliers_arrow,
    series_stats,
    series_stats_dynamic,
)

CONFORMANCE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "kusto-docs-dev.json"


def _case(case_id: str) -> dict:
    if not CONFORMANCE.exists():
        pytest.skip("shared/conformance is not available")
    cases = json.loads(CONFORMANCE.read_text())["cases"]
    (case,) = [c for c in cases if c["id"] == case_id]
    return dict(zip(case["expected"]["columns"], case["expected"]["rows"][0], strict=True))


# -- series_outliers: the definition, proven on real-engine output ---------------------------------------


def test_docs_example_frozen_from_the_real_engine_reproduces_bit_for_bit():
    row = _case("series-outliers-function-00")  # 365 random points, first-of-month spikes
    assert series_outliers(row["series"]) == row["outliers"]


@pytest.mark.parametrize(
    "case_id",
    [
        "series-decompose-anomalies-function-00",
        "series-decompose-anomalies-function-02",
        "series-decompose-anomalies-function-03",
    ],
)
def test_decompose_anomalies_score_is_series_outliers_of_the_residual(case_id):
    # The docs: ad_score = series_outliers(residual), residual = y - baseline. 840 points each.
    row = _case(case_id)
    y = row["y"]
    baseline = next(v for k, v in row.items() if k.endswith("_baseline"))
    score = next(v for k, v in row.items() if k.endswith("_ad_score"))
    assert series_outliers([a - b for a, b in zip(y, baseline, strict=True)]) == score


def test_worked_example_from_the_functions_author_reproduces_bit_for_bit():
    # Engine output quoted in stackoverflow.com/questions/75264555 and explained there by the function's
    # author: p10 = 2.7 and p90 = 11 by linear interpolation, score rescaled by ~2.772.
    series = [-3, 2.4, 15, 3.9, 5, 6, 4.5, 5.2, 3, 4, 5, 16, 7, 5, 5, 4]
    expected = [-1.9040785483608571, -0.10021466044004519, 1.3361954725339347] + [0.0] * 8
    expected += [1.6702443406674186, 0.0, 0.0, 0.0, 0.0]
    assert series_outliers(series) == expected


def test_normalisation_factors():
    assert normalisation_factor() == 2.772605605507915  # fitted from the frozen scores above
    assert normalisation_factor("tukey") == 1.0
    # Custom percentiles use the normal quantile in the same formula: ctukey on 25/75 is classic Tukey
    # up to the engine's rounding of z(75%) to 0.675, and the factor grows as the fences near 2.7 σ.
    assert normalisation_factor("ctukey", 25, 75) == pytest.approx(1.0, abs=2e-3)
    assert normalisation_factor("ctukey", 20, 80) < normalisation_factor("ctukey", 5, 95)


def test_2018_docs_example_flags_the_classic_tukey_points():
    # The 2018 docs printed scores from an older engine; only which points are flagged carries over.
    series = [30, 28, 5, 27, 31, 38, 29, 80, 25, 37, 30]
    printed = [0.0, 0.0, -3.206896551724138, -0.1724137931034483, 0.0, 2.6666666666666667, 0.0,
               16.666666666666669, -0.4482758620689655, 2.3333333333333337, 0.0]  # fmt: skip
    tukey = series_outliers(series, kind="tukey")
    assert [math.copysign(1, s) if s else 0 for s in tukey] == [
        math.copysign(1, s) if s else 0 for s in printed
    ]


def test_tukey_is_the_classic_score_on_interpolated_quartiles():
    rng = np.random.default_rng(7)
    series = list(rng.normal(size=200)) + [9.0, -9.0]
    q1, q3 = np.percentile(series, [25, 75])
    expected = [(x - q3) / (q3 - q1) if x > q3 else (x - q1) / (q3 - q1) if x < q1 else 0.0 for x in series]
    assert series_outliers(series, "tukey") == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_ctukey_matches_an_independent_numpy_formulation(series):
    q10, q90 = np.percentile(series, [10, 90])
    factor = 1.5 * (2 * 1.29682082) / (2.7 - 1.29682082)
    spread = q90 - q10
    scale = max(abs(x) for x in series) + 1.0
    for x, score in zip(series, series_outliers(series), strict=True):
        if spread == 0:
            assert score == 0 or math.isinf(score)
            continue
        fence = q90 if x > q90 else q10 if x < q10 else x
        assert score == pytest.approx((x - fence) / spread * factor, rel=1e-9, abs=1e-9 * scale / spread)


# -- series_outliers: missing values and edge cases -------------------------------------------------------


def test_nulls_and_non_numeric_score_zero_and_do_not_count():
    clean = [1.0, 2.0, 3.0, 4.0, 100.0, 2.5, 3.5]
    with_gaps = [None, 1.0, 2.0, "abc", 3.0, 4.0, True, 100.0, math.nan, 2.5, math.inf, 3.5]
    scores = series_outliers(with_gaps)
    assert [scores[i] for i in (0, 3, 6, 8, 10)] == [0.0] * 5
    assert [s for i, s in enumerate(scores) if i not in (0, 3, 6, 8, 10)] == series_outliers(clean)


def test_ignore_val_points_score_zero_and_are_excluded():
    clean = [5.0, 6.0, 5.5, 40.0, 6.5, 5.2]
    scores = series_outliers([-1, 5.0, 6.0, -1, 5.5, 40.0, 6.5, 5.2], ignore_val=-1)
    assert scores[0] == scores[3] == 0.0
    assert scores[1:3] + scores[4:] == series_outliers(clean)


def test_edge_series():
    assert series_outliers(None) is None
    assert series_outliers([]) == []
    assert series_outliers([None, None]) == [0.0, 0.0]
    assert series_outliers([7]) == [0.0]
    assert series_outliers([3, 3, 3, 3]) == [0.0] * 4
    assert series_outliers([210.5, 210.5]) == [0.0, 0.0]  # ties stay exact (see the module docstring)
    # Zero-width fences with a point outside: IEEE division, as the engine's doubles would do.
    assert series_outliers([1.0] * 20 + [100.0])[-1] == math.inf
    # Ties at the fence are inside.
    assert series_outliers([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]) == [0.0] * 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "zscore"},
        {"min_percentile": 1},
        {"max_percentile": 99},
        {"min_percentile": 60, "max_percentile": 40},
    ],
)
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        series_outliers([1.0, 2.0], **kwargs)


# -- series_outliers_arrow ---------------------------------------------------------------------------------

_lists = st.lists(
    st.none()
    | st.lists(
        st.none() | st.floats(-1e9, 1e9, allow_nan=False) | st.sampled_from([-1.0, 0.0, 1.0]), max_size=25
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(_lists, st.sampled_from(["ctukey", "tukey"]), st.sampled_from([None, -1.0]))
def test_arrow_form_equals_the_reference_bit_for_bit(rows, kind, ignore_val):
    result = series_outliers_arrow(pa.array(rows, pa.list_(pa.float64())), kind=kind, ignore_val=ignore_val)
    assert result.type == pa.list_(pa.float64())
    assert result.to_pylist() == [series_outliers(r, kind=kind, ignore_val=ignore_val) for r in rows]


def test_arrow_form_handles_slices_chunks_and_integer_lists():
    rows = [[1, 2, 3, 50], None, [], [4, 4, 4], [10, 11, 12, 13, 14, 15, 16, 17, 18, 90]]
    arr = pa.array(rows, pa.list_(pa.int64()))
    expected = [series_outliers(r) for r in rows]
    assert series_outliers_arrow(arr).to_pylist() == expected
    assert series_outliers_arrow(arr.slice(3)).to_pylist() == expected[3:]
    assert series_outliers_arrow(pa.chunked_array([arr.slice(0, 2), arr.slice(2)])).to_pylist() == expected
    assert series_outliers_arrow(pa.chunked_array([], pa.list_(pa.float64()))).to_pylist() == []


def test_arrow_form_runs_as_a_duckdb_arrow_udf():
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    try:
        con.create_function(
            "series_outliers", lambda s: series_outliers_arrow(s), ["DOUBLE[]"], "DOUBLE[]", type="arrow"
        )
        got = con.sql(
            "SELECT series_outliers(s) FROM (VALUES"
            " ([-3, 2.4, 15, 3.9, 5, 6, 4.5, 5.2, 3, 4, 5, 16, 7, 5, 5, 4]::DOUBLE[]),"
            " (NULL), ([]::DOUBLE[])) t(s)"
        ).fetchall()
    finally:
        con.close()
    assert got[0][0][0] == -1.9040785483608571 and got[0][0][11] == 1.6702443406674186
    assert got[1][0] is None and got[2][0] == []


# -- series_stats ---------------------------------------------------------------------------------------

DOC_SERIES = [23, 46, 23, 87, 4, 8, 3, 75, 2, 56, 13, 75, 32, 16, 29]


def test_series_stats_docs_example():
    stats = series_stats(DOC_SERIES)
    assert (stats.min, stats.min_idx, stats.max, stats.max_idx, stats.avg) == (2, 8, 87, 3, 32.8)
    # series_stats_dynamic prints these with 17 significant digits: the exact doubles.
    assert stats.stdev == float("28.503633853548269")
    assert stats.variance == float("812.45714285714291")


def test_series_stats_dynamic_docs_example():
    bag = series_stats_dynamic(DOC_SERIES)
    expected = {"min": 2.0, "min_idx": 8, "max": 87.0, "max_idx": 3, "avg": 32.8, "stdev": 28.503633853548269,
                "variance": 812.45714285714291, "sum": 492.0, "len": 15}  # fmt: skip
    assert bag == expected and list(bag) == list(expected)


def test_series_stats_first_occurrence_of_ties():
    stats = series_stats([3, 1, 1, 5, 5])
    assert (stats.min_idx, stats.max_idx) == (1, 3)


def test_series_stats_non_finite_values():
    assert series_stats([1, None, 3]) == (None,) * 7
    assert series_stats([1, math.nan, 3]) == (None,) * 7
    assert series_stats([1, "x", 3]) == (None,) * 7
    stats = series_stats([None, 4, math.inf, 1, 7], ignore_nonfinite=True)
    assert (stats.min, stats.min_idx, stats.max, stats.max_idx, stats.avg) == (1, 3, 7, 4, 4.0)
    assert stats.variance == 9.0
    assert series_stats_dynamic([None, 4, 1], ignore_nonfinite=True)["len"] == 3


def test_series_stats_empty_and_single():
    assert series_stats([]) == (None,) * 7
    assert series_stats(None) == (None,) * 7
    assert series_stats([None], ignore_nonfinite=True) == (None,) * 7
    assert series_stats([5]) == (5.0, 0, 5.0, 0, 5.0, 0.0, 0.0)
    assert series_stats_dynamic([])["len"] == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=50)
)
def test_series_stats_agrees_with_the_statistics_module(values):
    stats = series_stats(values)
    floats = [float(v) for v in values]
    assert stats.min == min(floats) and stats.min_idx == floats.index(min(floats))
    assert stats.max == max(floats) and stats.max_idx == floats.index(max(floats))
    assert stats.avg == pytest.approx(statistics.fmean(floats), rel=1e-9, abs=1e-6)
    # The engine's one-pass formula loses digits to cancellation on large, tightly clustered values.
    cancellation = 1e-10 * max(1.0, max(abs(v) for v in floats)) ** 2
    assert stats.variance == pytest.approx(statistics.variance(floats), rel=1e-6, abs=cancellation)
