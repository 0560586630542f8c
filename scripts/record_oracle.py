#!/usr/bin/env python3
"""Re-record the Kusto.Language oracle's answers for the binder's schema corpus.

    python scripts/record_oracle.py [--oracle DIR] [--cases PATH] [--out PATH] [--jobs N] [--check]

Input: `tests/data/oracle/schema_cases.jsonl` (one `{"id", "query", "tables"?, "schema", "topic"}` per line).
Output: `tests/data/oracle/schema_answers.jsonl`, one line per case in the same order:
`{"id", "syntax_ok", "ok", "columns": [[name, type], ...] | null, "diagnostics": [[code, line, col, message], ...],
"oracle_version"}`, plus `tests/data/oracle/default_tables.json` (the schemas the oracle loads by default, so the
test suite knows what "schema": "defender" meant without the oracle).

The answers are the oracle's verbatim: this script never edits them. `--check` re-runs the oracle and exits 1
if the committed answers differ (a new oracle version, or a case edited without re-recording).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "oracle"
DEFAULT_ORACLE = REPO.parent / "shared" / "kql-oracle"
SCHEMAS = ("defender", "sentinel")


def load_cases(path: Path) -> list[dict]:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    seen: set[str] = set()
    for case in cases:
        cid = case.get("id")
        if not cid or cid in seen:
            raise SystemExit(f"{path}: missing or duplicate id {cid!r}")
        seen.add(cid)
        if case.get("schema") not in SCHEMAS:
            raise SystemExit(f"{path}: case {cid}: schema must be one of {SCHEMAS}")
        # A Sentinel case must carry its DeviceNetworkEvents schema, so the corpus stays self-contained:
        # otherwise the oracle would silently answer for the Defender default table.
        if case["schema"] == "sentinel" and "DeviceNetworkEvents" not in case.get("tables", {}):
            raise SystemExit(f"{path}: case {cid}: schema 'sentinel' needs tables.DeviceNetworkEvents")
    return cases


def oracle_version(oracle: Path) -> str:
    pkg = oracle / "node_modules" / "@kusto" / "language-service-next" / "package.json"
    version = json.loads(pkg.read_text(encoding="utf-8-sig"))["version"]
    script = hashlib.sha256((oracle / "kqlcheck.js").read_bytes()).hexdigest()[:12]
    return f"@kusto/language-service-next {version}; kqlcheck.js sha256:{script}"


def default_tables(oracle: Path) -> dict[str, str]:
    tables = {}
    for path in sorted((oracle / "schemas").glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        tables[spec.get("name", path.stem)] = spec["kusto_schema"]
    return tables


def run_oracle(oracle: Path, cases: list[dict], jobs: int) -> list[dict]:
    requests = [{"id": c["id"], "query": c["query"], "tables": c.get("tables", {})} for c in cases]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in requests), encoding="utf-8")
        cmd = ["node", "kqlcheck.js", "--batch", str(src), "--out", str(dst), "--jobs", str(jobs)]
        subprocess.run(cmd, cwd=oracle, check=True)
        replies = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines() if line.strip()]
    if [r.get("id") for r in replies] != [c["id"] for c in cases]:
        raise SystemExit("oracle replies do not line up with the cases (ids differ)")
    return replies


def to_answer(reply: dict, version: str) -> dict:
    if "error" in reply:  # the oracle itself failed on this request (not a KQL diagnostic)
        return {"id": reply["id"], "oracle_error": reply["error"], "oracle_version": version}
    answer = {
        "id": reply["id"],
        "syntax_ok": reply["syntax_ok"],
        "ok": reply["ok"],
        "columns": reply.get("result_columns"),
        "diagnostics": [[d["code"], d.get("line"), d.get("col"), d["message"]] for d in reply["diagnostics"]],
        "oracle_version": version,
    }
    # The 4-tuple has no severity; keep non-errors recognisable without changing the tuple shape.
    warnings = [d["code"] for d in reply["diagnostics"] if d["severity"] != "Error"]
    if warnings:
        answer["non_error_codes"] = warnings
    if reply.get("result_kind") not in ("table", None):
        answer["result_kind"] = reply["result_kind"]
        answer["result_type"] = reply.get("result_type")
    return answer


def dump_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--oracle", type=Path, default=DEFAULT_ORACLE, help="kql-oracle directory (default: %(default)s)"
    )
    ap.add_argument("--cases", type=Path, default=DATA / "schema_cases.jsonl")
    ap.add_argument("--out", type=Path, default=DATA / "schema_answers.jsonl")
    ap.add_argument("--tables-out", type=Path, default=DATA / "default_tables.json")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--check", action="store_true", help="compare with the committed answers instead of writing"
    )
    args = ap.parse_args(argv)

    oracle = args.oracle.resolve()
    if not (oracle / "kqlcheck.js").is_file():
        print(f"no oracle at {oracle} (kqlcheck.js missing); pass --oracle DIR", file=sys.stderr)
        return 2
    cases = load_cases(args.cases)
    version = oracle_version(oracle)
    answers = [to_answer(r, version) for r in run_oracle(oracle, cases, args.jobs)]
    text = dump_jsonl(answers)
    tables_text = json.dumps(default_tables(oracle), indent=1) + "\n"

    if args.check:
        stale = [
            p
            for p, t in ((args.out, text), (args.tables_out, tables_text))
            if not p.is_file() or p.read_text(encoding="utf-8") != t
        ]
        for path in stale:
            print(f"stale: {path} differs from what the oracle answers now", file=sys.stderr)
        return 1 if stale else 0

    args.out.write_text(text, encoding="utf-8")
    args.tables_out.write_text(tables_text, encoding="utf-8")
    failed = sum(1 for a in answers if "oracle_error" in a)
    not_ok = sum(1 for a in answers if a.get("ok") is False)
    print(f"{len(answers)} answers ({not_ok} with error diagnostics, {failed} oracle failures) -> {args.out}")
    print(f"oracle: {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
