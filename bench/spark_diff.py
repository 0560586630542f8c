"""How much of kqlhunt's conformance suite runs on Spark: every case of tests/conformance/cases/*.yaml and
tests/functions run on the Spark engine and checked against the same expectations as on DuckDB.

    python bench/spark_diff.py [--family text] [--show wrong,error,refused] [--limit 40]

Outcomes: pass, refused (KH302: not on Spark yet), wrong (an answer that differs: a defect), error (any
other failure: a defect too).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.functions._harness import EngineRefused, run_case  # noqa: E402

import kqlhunt  # noqa: E402


def all_cases() -> list:
    from tests.conformance.test_cases import CASES

    cases = list(CASES)
    import importlib

    for mod in ("test_aggregates", "test_conversions", "test_datetime", "test_network", "test_strings",
                "test_tabular", "test_in_subquery"):
        m = importlib.import_module(f"tests.functions.{mod}")
        cases += [c for c in getattr(m, "CASES", [])]
    return cases


def outcome(c) -> tuple[str, str]:
    try:
        run_case(c, engine="spark")
        return "pass", ""
    except EngineRefused as r:
        return "refused", str(r).splitlines()[0]
    except AssertionError as a:
        return "wrong", str(a).splitlines()[0][:300]
    except kqlhunt.KqlError as e:
        return "error", f"{e.code} {str(e).splitlines()[0][:300]}"
    except BaseException as e:  # noqa: BLE001 - pytest.fail raises Failed (a BaseException)
        return "wrong" if type(e).__name__ == "Failed" else "error", f"{type(e).__name__}: {str(e)[:300]}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", help="only case ids starting with this")
    ap.add_argument("--show", default="wrong,error", help="outcomes to list")
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--progress", action="store_true", help="print each case id before running it")
    args = ap.parse_args()
    cases = [c for c in all_cases() if not args.family or c.id.startswith(args.family)]
    kqlhunt.query("print 1", engine="spark")  # start the session outside the timings
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    listed: dict[str, list[str]] = collections.defaultdict(list)
    t0 = time.perf_counter()
    for c in cases:
        if args.progress:
            print(f"... {c.id}", flush=True)
        kind, why = outcome(c)
        family = c.id.split("/")[0] if "/" in c.id else "functions"
        counts[family][kind] += 1
        counts["ALL"][kind] += 1
        if kind in args.show.split(","):
            listed[kind].append(f"{c.id}: {why}")
    for fam in sorted(counts):
        k = counts[fam]
        print(f"{fam:14} pass {k['pass']:4}  refused {k['refused']:4}  wrong {k['wrong']:3}  error {k['error']:3}")
    print(f"{len(cases)} cases in {time.perf_counter() - t0:.0f} s")
    for kind, lines in listed.items():
        print(f"\n== {kind} ({len(lines)})")
        for line in lines[: args.limit]:
            print("  " + line)


if __name__ == "__main__":
    main()
