"""The cases that cite a frozen real-engine result (`frozen:<id>`) and copy its query verbatim must carry the
frozen answer: this re-reads /work/shared/conformance/kusto-docs-dev.json and compares, so a transcription slip
in the case tables cannot pass as ground truth. Skips when the shared file is absent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from . import test_aggregates, test_conversions, test_datetime, test_network, test_strings, test_tabular
from ._harness import _norm_expected, match_rows

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "kusto-docs-dev.json"
KIND = {"String": "string", "Int64": "long", "Int32": "int", "Double": "real", "Boolean": "bool", "SByte": "bool",
        "DateTime": "datetime", "TimeSpan": "timespan", "Object": "dynamic", "Guid": "guid", "Decimal": "decimal"}

ALL = [c for m in (test_aggregates, test_conversions, test_datetime, test_network, test_strings, test_tabular)
       for c in m.CASES]


def _frozen_cases():
    out = []
    for c in ALL:
        m = re.match(r"frozen:([\w-]+)", c.source)
        if m:
            out.append(pytest.param(c, m.group(1), id=c.id))
    return out


@pytest.fixture(scope="module")
def frozen() -> dict[str, dict]:
    if not CONFORMANCE.exists():
        pytest.skip(f"{CONFORMANCE} not present")
    return {x["id"]: x for x in json.loads(CONFORMANCE.read_text())["cases"]}


@pytest.mark.parametrize(("c", "frozen_id"), _frozen_cases())
def test_frozen_expectation_is_transcribed_faithfully(c, frozen_id, frozen):
    assert frozen_id in frozen, f"{c.id} cites unknown frozen case {frozen_id}"
    ref = frozen[frozen_id]
    if " ".join(ref["kql"].split()) != " ".join(c.kql.split()):
        pytest.skip("the case adapts the frozen query rather than copying it")
    exp = ref["expected"]
    assert list(c.columns) == exp["columns"]
    kinds = [KIND[t] for t in exp["column_types"]]
    if c.types is not None:
        assert [t for t in c.types] == [k if t is not None else None for k, t in zip(kinds, c.types, strict=True)]
    if callable(c.expected):
        c.expected(None, [tuple(_norm_expected(v, k) for v, k in zip(r, kinds, strict=True)) for r in exp["rows"]])
        return
    mine = [tuple(_norm_expected(v, k) for v, k in zip(r, kinds, strict=True)) for r in c.expected]
    theirs = [tuple(_norm_expected(v, k) for v, k in zip(r, kinds, strict=True)) for r in exp["rows"]]
    problem = match_rows(mine, theirs, c.ordered, 1e-9)
    assert problem is None, problem
