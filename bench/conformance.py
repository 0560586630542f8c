#!/usr/bin/env python3
"""Run the Kusto documentation conformance cases through kqlhunt and print how many it gets right.

    python bench/conformance.py [--cases PATH] [--filter SUBSTR] [--json OUT] [--verbose] [--by-family]
                                [--timeout SECONDS] [--strict]

Each case (see ../shared/conformance/README.md) is run with `kqlhunt.query(kql)`; the result is converted to
Kusto's JSON value conventions and compared with the result frozen from the real Kusto engine
(bench/conformance_compare.py holds the rules). Every case ends as one of:

    pass      same columns, types and rows
    wrong     an answer that differs (with --verbose: how)
    refused   kqlhunt raised KqlError (a diagnostic, e.g. an unsupported construct)
    error     any other exception, a timeout, or kqlhunt.query missing
    skipped   the result depends on now()/ago()/rand()/sample/cursor_current(), or needs external tables

Totals follow per operator and per function family (from each case's tags). `--json OUT` writes every
outcome plus the totals, so progress can be compared across sessions. Exit code 0 unless --strict and some
case did not pass (skips do not count).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))  # run from a checkout without installing the package

import conformance_compare as cc  # noqa: E402

DEFAULT_CASES = REPO.parent / "shared" / "conformance" / "kusto-docs-dev.json"
# Out of scope for issue 3 (may be refused): geospatial shape/cell functions (every geo_* but
# geo_info_from_ip_address), the python/R plugins and the graph operators.
GRAPH_OPERATORS = {"make-graph", "graph-match", "graph-to-table", "graph-mark-components", "graph-shortest-paths"}
PLUGINS_OUT = {"python", "r"}
STATUSES = ("pass", "wrong", "refused", "error", "skipped")


@dataclass
class Outcome:
    id: str
    status: str
    reason: str = ""
    detail: list[str] = field(default_factory=list)
    operators: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------ the engine


class _NoError(Exception):
    """Stands in for kqlhunt.KqlError while the package does not define it (never raised)."""


def load_engine() -> tuple[Callable[[str], Any] | None, type[BaseException], str]:
    """(kqlhunt.query or None, the KqlError class, why the engine is unavailable)."""
    try:
        import kqlhunt
    except Exception as exc:  # an import-time bug in the package is an error for every case
        return None, _NoError, f"import kqlhunt failed: {exc!r}"
    query = getattr(kqlhunt, "query", None)
    kql_error = getattr(kqlhunt, "KqlError", None)
    if not isinstance(kql_error, type) or not issubclass(kql_error, BaseException):
        kql_error = _NoError
    if not callable(query):
        return None, kql_error, "kqlhunt.query not available"
    return query, kql_error, ""


def diagnostic_codes(exc: BaseException) -> list[str]:
    """Best-effort diagnostic codes of a KqlError: `.code`, `.codes`, or `.diagnostics[*].code`."""
    codes: list[str] = []
    if isinstance(getattr(exc, "code", None), str):
        codes.append(exc.code)
    codes += [c for c in getattr(exc, "codes", None) or [] if isinstance(c, str)]
    for d in getattr(exc, "diagnostics", None) or []:
        code = d.get("code") if isinstance(d, dict) else getattr(d, "code", None)
        if isinstance(code, str):
            codes.append(code)
    return list(dict.fromkeys(codes))


class CaseTimeout(Exception):
    pass


def _call_with_timeout(fn: Callable[[], Any], seconds: float) -> Any:
    """SIGALRM-based limit (POSIX main thread); it fires only when control is back in Python, so a long
    native call is stopped at its next return to the interpreter."""
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        return fn()

    def on_alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"timed out after {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------------------ one case


def run_case(
    case: dict,
    query: Callable[[str], Any] | None,
    kql_error: type[BaseException],
    unavailable: str,
    timeout: float,
) -> Outcome:
    tags = case.get("tags") or {}
    out = Outcome(
        case["id"],
        "error",
        operators=list(tags.get("operators", [])),
        functions=list(tags.get("functions", [])),
    )
    kql = case["kql"]
    skip = cc.nondeterministic_reason(kql)
    if skip is None and case.get("inline_input") is False:
        skip = "needs tables that are not part of the case"
    if skip:
        out.status, out.reason = "skipped", skip
        return out
    if query is None:
        out.reason = unavailable
        return out

    start = time.perf_counter()
    try:
        table = _call_with_timeout(lambda: query(kql), timeout)
    except kql_error as exc:
        codes = diagnostic_codes(exc)
        out.status = "refused"
        out.reason = (",".join(codes) + ": " if codes else "") + _one_line(exc)
        return out
    except CaseTimeout as exc:
        out.reason = str(exc)
        return out
    except Exception as exc:
        out.reason = f"{type(exc).__name__}: {_one_line(exc)}"
        out.detail = traceback.format_exc().splitlines()[-8:]
        return out
    finally:
        out.seconds = round(time.perf_counter() - start, 4)

    try:
        actual = cc.arrow_to_kusto(table)
    except Exception as exc:
        out.reason = f"result conversion failed: {type(exc).__name__}: {_one_line(exc)}"
        out.detail = traceback.format_exc().splitlines()[-8:]
        return out
    tol = cc.ESTIMATE if cc.uses_estimates(kql) else cc.EXACT
    verdict = cc.compare(case["expected"], actual, cc.row_order(kql), tol)
    out.status = "pass" if verdict.ok else "wrong"
    out.reason = verdict.mode + (", 5% tolerance" if tol is cc.ESTIMATE else "")
    out.detail = actual.notes + verdict.problems
    return out


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")


# ------------------------------------------------------------------------------------ reporting


def in_scope(o: Outcome, kql: str) -> bool:
    if any(f.startswith("geo_") and f != "geo_info_from_ip_address" for f in o.functions):
        return False
    if o.id.startswith(("geo-", "geospatial")):
        return False
    if set(o.operators) & GRAPH_OPERATORS or o.id.startswith("graph"):
        return False
    lowered = kql.lower()
    return not any(f"evaluate {p}(" in lowered or f"evaluate hint.distribution = per_node {p}(" in lowered
                   for p in PLUGINS_OUT)


def tally(outcomes: Iterable[Outcome], keys: Callable[[Outcome], Iterable[str]]) -> dict[str, Counter]:
    table: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        for k in dict.fromkeys(keys(o)):
            table[k][o.status] += 1
    return dict(table)


def operators_of(o: Outcome) -> list[str]:
    return o.operators or ["(none)"]


def families_of(o: Outcome) -> list[str]:
    return [cc.function_family(f) for f in o.functions] or ["(none)"]


def print_table(title: str, rows: dict[str, Counter], min_width: int = 22) -> None:
    width = max([min_width, *(len(k) for k in rows)])
    print(f"\n{title:<{width}}  {'cases':>5}  " + "  ".join(f"{s:>7}" for s in STATUSES) + "  pass%")
    for key in sorted(rows, key=lambda k: (-sum(rows[k].values()), k)):
        c = rows[key]
        n = sum(c.values())
        ran = n - c["skipped"]
        pct = f"{100 * c['pass'] / ran:5.1f}" if ran else "   - "
        print(f"{key:<{width}}  {n:>5}  " + "  ".join(f"{c[s]:>7}" for s in STATUSES) + f"  {pct}")


def print_by_family(outcomes: list[Outcome]) -> None:
    """One block per function family, one row per function in it."""
    per_function = tally(outcomes, lambda o: o.functions)
    grouped: dict[str, dict[str, Counter]] = defaultdict(dict)
    for fn, counts in per_function.items():
        grouped[cc.function_family(fn)][fn] = counts
    for family in sorted(grouped, key=lambda f: -sum(sum(c.values()) for c in grouped[f].values())):
        print_table(f"[{family}]", grouped[family])


def git_head() -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="cases JSON (default: %(default)s)")
    ap.add_argument("--filter", default="", help="only cases whose id contains this substring")
    ap.add_argument("--json", type=Path, help="write every outcome and the totals to this file")
    ap.add_argument("--verbose", "-v", action="store_true", help="show why each case failed")
    ap.add_argument("--by-family", action="store_true", help="per-function table within each family")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case (0: none)")
    ap.add_argument("--strict", action="store_true", help="exit 1 unless every non-skipped case passes")
    args = ap.parse_args(argv)

    if not args.cases.is_file():
        print(f"no conformance cases at {args.cases}; nothing to run (pass --cases PATH)")
        return 0
    raw = args.cases.read_bytes()
    doc = json.loads(raw)
    cases = doc["cases"] if isinstance(doc, dict) else doc
    cases = [c for c in cases if args.filter in c["id"]]
    query, kql_error, unavailable = load_engine()

    outcomes = []
    for case in cases:
        o = run_case(case, query, kql_error, unavailable, args.timeout)
        outcomes.append(o)
        line = f"{o.status:<8} {o.id}"
        if o.reason and (args.verbose or o.status != "pass"):
            line += f"  — {o.reason}"
        print(line)
        if args.verbose and o.status != "pass":
            for d in o.detail:
                print(f"           {d}")

    totals = Counter(o.status for o in outcomes)
    ran = len(outcomes) - totals["skipped"]
    print(
        f"\n{len(outcomes)} cases: "
        + ", ".join(f"{totals[s]} {s}" for s in STATUSES)
        + (f"  ({100 * totals['pass'] / ran:.1f}% of the {ran} run)" if ran else "")
    )
    scoped = [o for o, c in zip(outcomes, cases, strict=True) if in_scope(o, c["kql"])]
    scope_totals = Counter(o.status for o in scoped)
    scope_ran = len(scoped) - scope_totals["skipped"]
    if scope_ran:
        print(f"in scope (not geo shapes/cells, python/R plugins, graph): {len(scoped)} cases, "
              f"{scope_totals['pass']} pass of {scope_ran} deterministic = "
              f"{100 * scope_totals['pass'] / scope_ran:.1f}%; {scope_totals['wrong']} wrong")
    by_operator = tally(outcomes, operators_of)
    by_family = tally(outcomes, families_of)
    print_table("operator", by_operator)
    print_table("function family", by_family)
    if args.by_family:
        print_by_family(outcomes)
    refusals = Counter(o.reason.split(":", 1)[0] for o in outcomes if o.status == "refused")
    if refusals:
        print("\nmost frequent refusals: " + ", ".join(f"{k} x{v}" for k, v in refusals.most_common(10)))

    if args.json:
        report = {
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git_head": git_head(),
            "cases_path": str(args.cases),
            "cases_sha256": hashlib.sha256(raw).hexdigest(),
            "filter": args.filter,
            "totals": {s: totals[s] for s in STATUSES},
            "in_scope_totals": {s: scope_totals[s] for s in STATUSES},
            "by_operator": {k: dict(v) for k, v in sorted(by_operator.items())},
            "by_family": {k: dict(v) for k, v in sorted(by_family.items())},
            "cases": [asdict(o) for o in outcomes],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")

    if args.strict and any(o.status not in ("pass", "skipped") for o in outcomes):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
