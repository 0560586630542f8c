"""kqlhunt's own conformance cases: every `cases/*.yaml` file, checked with the function-test harness.

The format (one YAML file per family; each file is a list of cases under `cases:`):

    - id: strrep-repeats             # unique within the file; the test id is <file>/<id>
      source: docs:strrep-function   # where the expectation comes from (see below)
      query: |                       # a self-contained query: print, datatable, range
        print s = strrep("ab", 3)
      columns: [s]                   # output column names (optional)
      types: [string]                # output KQL types (optional; null entries are not checked)
      rows:                          # expected rows, values as Kusto prints them: datetime and timespan
        - [ababab]                   #   as text, dynamic as YAML lists/maps, NaN as .nan
      ordered: false                 # compare in order (default: as a multiset)
      tolerance: 1e-9                # relative tolerance for reals (default 1e-9)
      now: "2024-05-01T12:00:00Z"    # the pinned now() (default: the harness's)

Quote datetime and timespan text ("12:00:00"): YAML 1.1 would read some of it as numbers or dates.

Instead of `rows`, `outcome: refused` says kqlhunt must refuse with a KH3xx diagnostic and
`outcome: kusto_error` says Kusto itself rejects the query (kqlhunt must raise, any code).

`source` is one of `docs:<page>` (data-explorer/kusto/query/<page>.md in MicrosoftDocs/dataexplorer-docs),
`frozen:<case id>` (a result frozen from the real engine in kusto-docs-dev.json) or `reasoning: <why>`,
the rule written out where the documentation is silent. Expected values never come from running kqlhunt.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.functions._harness import KUSTO_ERROR, PINNED_NOW, REFUSED, Case, params, run_case

CASES_DIR = Path(__file__).parent / "cases"
KEYS = {"id", "source", "query", "columns", "types", "rows", "ordered", "tolerance", "now", "outcome", "xfail"}


def _value(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return float("nan")
    return v


def _case(path: Path, raw: dict[str, Any]) -> Case:
    where = f"{path.name}: case {raw.get('id', '?')}"
    unknown = set(raw) - KEYS
    assert not unknown, f"{where}: unknown keys {sorted(unknown)}"
    for key in ("id", "source", "query"):
        assert raw.get(key), f"{where}: `{key}` is required"
    source = str(raw["source"])
    assert source.startswith(("docs:", "frozen:", "reasoning:")), f"{where}: source must say where it comes from"
    outcome = raw.get("outcome")
    if outcome is not None:
        assert "rows" not in raw, f"{where}: give rows or outcome, not both"
        expected: Any = {"refused": REFUSED, "kusto_error": KUSTO_ERROR}[outcome]
    else:
        assert "rows" in raw, f"{where}: `rows` (or `outcome`) is required"
        expected = [tuple(_value(v) for v in row) for row in raw["rows"]]
    return Case(
        id=f"{path.stem}/{raw['id']}",
        kql=raw["query"],
        columns=raw.get("columns"),
        types=raw.get("types"),
        expected=expected,
        source=source,
        ordered=bool(raw.get("ordered", False)),
        now=str(raw["now"]) if raw.get("now") else PINNED_NOW,
        rel_tol=float(raw.get("tolerance", 1e-9)),
        xfail=raw.get("xfail"),
    )


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    cases = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cases += [_case(path, raw) for raw in doc.get("cases", [])]
    return cases


CASES = load_cases()


@pytest.mark.parametrize("c", params(CASES))
def test_case(c: Case) -> None:
    run_case(c)


def test_there_are_cases() -> None:
    assert len(CASES) >= 1
