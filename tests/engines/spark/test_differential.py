"""Every conformance case on Spark: the same expectations as on DuckDB (tests/conformance/cases/*.yaml and
the data-driven cases of tests/functions), so a Spark answer that differs from DuckDB's fails here.

A case Spark cannot run yet must be refused with KH302 naming the construct (reported as a skip); any other
failure, and any answer that differs, is a defect. The pass count has a floor, raised as the Spark target
grows (bench/spark_diff.py prints the counts per family)."""

from __future__ import annotations

import importlib
import os

import pytest
from tests.conformance.test_cases import CASES as YAML_CASES
from tests.functions._harness import EngineRefused, params, run_case

# Opt-in until the Spark target is complete: today some cases still differ or plan for minutes on Spark
# (see the issue note); `KQLHUNT_SPARK_DIFFERENTIAL=1 pytest tests/engines/spark` runs them all.
pytestmark = pytest.mark.skipif(os.environ.get("KQLHUNT_SPARK_DIFFERENTIAL") != "1",
                                reason="the full Spark differential run is opt-in (KQLHUNT_SPARK_DIFFERENTIAL=1)")

FUNCTION_MODULES = ("test_aggregates", "test_conversions", "test_datetime", "test_network", "test_strings",
                    "test_tabular", "test_in_subquery")
CASES = list(YAML_CASES) + [c for m in FUNCTION_MODULES
                            for c in getattr(importlib.import_module(f"tests.functions.{m}"), "CASES", [])]
PASS_FLOOR = 700  # of len(CASES); raise it when the Spark target grows

OUTCOMES: dict[str, str] = {}


@pytest.mark.parametrize("c", params(CASES))
def test_case_on_spark(c) -> None:
    try:
        run_case(c, engine="spark")
    except EngineRefused as refusal:
        OUTCOMES[c.id] = "refused"
        assert "is not supported on the Spark engine" in str(refusal)
        pytest.skip(f"refused on Spark: {str(refusal).splitlines()[0]}")
    except BaseException:
        OUTCOMES[c.id] = "failed"
        raise
    OUTCOMES[c.id] = "pass"


def test_pass_floor() -> None:
    if len(OUTCOMES) < len(CASES):
        pytest.skip("only part of the cases ran (selection)")
    passed = sum(1 for o in OUTCOMES.values() if o == "pass")
    assert passed >= PASS_FLOOR, f"{passed} of {len(CASES)} cases pass on Spark (floor {PASS_FLOOR})"
