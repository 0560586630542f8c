"""Output column names and types agree with Microsoft's Kusto language service (the oracle).

The answers in tests/data/oracle/schema_answers.jsonl were recorded from Kusto.Language by
scripts/record_oracle.py (see tests/data/oracle/README.md); nothing here comes from kqlhunt. For every
query the oracle accepts, kqlhunt must either produce exactly the oracle's columns or refuse the query
with an "unsupported" diagnostic (KH3xx) — never a different schema. For queries the oracle rejects,
kqlhunt must reject them too.
"""

from __future__ import annotations

import json
from pathlib import Path

from kqlhunt import KqlError
from kqlhunt.api import compile_query
from kqlhunt.semantic.bound import Column
from kqlhunt.semantic.catalog import Catalog
from kqlhunt.semantic.types import BY_NAME

DATA = Path(__file__).parent.parent / "data" / "oracle"

# Where the real engine (frozen results in the Kusto docs corpus) contradicts Kusto.Language, kqlhunt
# follows the engine. Each entry: case id -> why.
ENGINE_OVER_ORACLE = {
    "dt_funcs": "the engine returns long for hourofday/getyear/datetime_part (frozen results); Kusto.Language says int",
    "dt_funcs2": "the engine returns long for the integer date parts (frozen results); Kusto.Language says int",
    "dyn_array_misc": "jaccard_index() is real on the engine (frozen jaccard-index-function-00); Kusto.Language says dynamic",
    "scalar_hourofday": "the engine returns long for hourofday(); Kusto.Language says int",
    "scalar_getyear": "the engine returns long for getyear(); Kusto.Language says int",
    "getschema_basic": "the engine returns ColumnOrdinal as int (docs corpus, mv-expand-operator-05)",
    "getschema_sentinel": "the engine returns ColumnOrdinal as int (docs corpus, mv-expand-operator-05)",
    "arith_datetime_plus_datetime_error": "datetime + datetime has no meaning; Kusto.Language lets it pass",
    "extend_named": "hourofday() is long in the engine (docs corpus hour-of-day-function-00)",
    "by_expr_and_agg_column": "hourofday() is long in the engine (docs corpus hour-of-day-function-00)",
    "by_datetime_part": "hourofday() is long in the engine (docs corpus hour-of-day-function-00)",
    "union_kind_inner": "Kusto.Language models union kind=inner as outer; the engine keeps common columns",
    "union_kind_inner_conflict": "Kusto.Language models union kind=inner as outer",
    "next_unserialized": "the engine requires serialized input for next(); Kusto.Language does not check",
    "next_unserialized_table": "the engine requires serialized input for next(); Kusto.Language does not check",
    "extend_tuple_partial": "the series_stats docs: given fewer names, only those columns are produced; "
                            "Kusto.Language lists all seven",
    "err_scalar_as_table": "a scalar let used as a table fails in the engine; Kusto.Language lets it pass",
}
# Queries Kusto.Language rejects but the engine runs (frozen real-engine results say so).
ENGINE_ACCEPTS = {
    "sum_count_star": "the engine accepts count(x) and counts every row (docs corpus summarize-operator-05, -08)",
}
# Oracle diagnostics that are known false alarms (the query runs in Defender).
ORACLE_FALSE_ALARMS = {"KS134"}  # make_timespan with fractional seconds


def _cases() -> list[tuple[dict, dict]]:
    cases = [json.loads(line) for line in (DATA / "schema_cases.jsonl").read_text().splitlines() if line.strip()]
    answers = {a["id"]: a for a in map(json.loads, (DATA / "schema_answers.jsonl").read_text().splitlines())}
    return [(c, answers[c["id"]]) for c in cases]


def _catalog(case: dict) -> Catalog:
    tables = {}
    for name, spec in (case.get("tables") or {}).items():
        text = spec if isinstance(spec, str) else None
        if text is None:
            continue
        cols = [c.strip().split(":") for c in text.strip()[1:-1].split(",") if c.strip()]
        tables[name] = tuple(Column(n.strip().strip("[]'\""), BY_NAME[t.strip()]) for n, t in cols)
    flavour = case.get("schema", "defender")
    catalog = Catalog(tables, flavour)
    if flavour == "sentinel":
        catalog.tables.pop("DeviceNetworkEvents", None)
    return catalog


def _oracle_ok(answer: dict) -> bool:
    codes = {d[0] for d in answer.get("diagnostics") or []}
    return answer["ok"] or (answer["syntax_ok"] and codes and codes <= ORACLE_FALSE_ALARMS)


def _run(case: dict):
    from datetime import datetime
    return compile_query(case["query"], _catalog(case), datetime(2026, 1, 1))


def test_schemas_agree_with_the_oracle() -> None:
    agree, refused, mismatched = 0, [], []
    for case, answer in _cases():
        if not _oracle_ok(answer) or answer.get("columns") is None or case["id"] in ENGINE_OVER_ORACLE:
            continue
        try:
            compiled = _run(case)
        except KqlError as exc:
            if exc.code.startswith("KH3"):
                refused.append(case["id"])
                continue
            mismatched.append((case["id"], f"rejected: {exc.diagnostics[0].message}"))
            continue
        got = [[c.name, c.type.name] for c in compiled.bound.rel.schema]
        if got != answer["columns"]:
            mismatched.append((case["id"], f"expected {answer['columns']}, got {got}"))
        else:
            agree += 1
    assert not mismatched, "\n".join(f"{i}: {m}" for i, m in mismatched)
    # the floor rises as kqlhunt supports more; it guards against silently refusing what worked
    assert agree >= 400, f"only {agree} schemas agree ({len(refused)} refused)"


def test_queries_the_oracle_rejects_are_rejected() -> None:
    accepted = []
    for case, answer in _cases():
        if _oracle_ok(answer) or case["id"] in ENGINE_ACCEPTS:
            continue
        try:
            _run(case)
        except KqlError:
            continue
        accepted.append(case["id"])
    assert not accepted, f"kqlhunt accepted queries Kusto rejects: {accepted}"
