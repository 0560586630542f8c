"""The seed hunts on Spark (local mode) against DuckDB, on the same generated lake.

    python bench/spark.py [--sizes 10M] [--seeds 000,003,004] [--repeat 3] [--master local[2]]

For each seed and size: wall time of kqlhunt on DuckDB (in-process, per run a fresh engine) and on Spark
(one shared session, as `kqlhunt hunt` uses it; the session's start-up is reported on its own), the ratio
Spark / DuckDB, whether both returned the same rows, the shuffles of Spark's physical plan (Exchange
operators: how the plan distributes) and peak memory (the Python process and, for Spark, the driver JVM).
The hand-written DuckDB SQL of bench/handwritten is timed too, as the common yardstick of bench/run.py.
Results go to bench/out/spark.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import sys
import time
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests" / "reference"), str(BENCH)]

import duckdb  # noqa: E402
import seeds_sql  # noqa: E402
from lakes import ensure_lake, parse_size  # noqa: E402

import kqlhunt  # noqa: E402
from kqlhunt.demo.generator import DEFAULT_NOW  # noqa: E402
from kqlhunt.rules import load_rules  # noqa: E402

RULE_OF = {"000": "seed000_defender", "003": "seed003", "004": "seed004"}


def _jvm_peak_mb() -> float:
    """Peak RSS of the Spark driver JVM (a child of this process in local mode)."""
    peak = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"PPid:\t{os.getpid()}\n" in text and "java" in text.split("\n", 1)[0]:
            m = re.search(r"VmHWM:\s+(\d+) kB", text)
            if m:
                peak = max(peak, int(m.group(1)) / 1024)
    return peak


def _rows(table) -> list[str]:
    return sorted(json.dumps(r, default=str, sort_keys=True) for r in table.to_pylist())


def _time(fn, repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def _shuffles(engine, kql: str, lake: Path) -> dict[str, int]:
    """Exchange operators in Spark's physical plan, by partitioning."""
    compiled = kqlhunt.compile(kql, engine="spark", now=DEFAULT_NOW)
    engine.register_lake(lake)
    catalog = engine.catalog("defender")
    engine.prepare_views(catalog, compiled.tables)
    plan = engine.explain(compiled.sql)
    kinds = re.findall(r"Exchange (\w+)", plan)
    return {k: kinds.count(k) for k in sorted(set(kinds))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10M")
    ap.add_argument("--seeds", default="000,003,004")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--lakes", type=Path, default=BENCH / "out")
    ap.add_argument("--out", type=Path, default=BENCH / "out" / "spark.json")
    args = ap.parse_args()

    rules = {r.id: r for r in load_rules(None)}
    t0 = time.perf_counter()
    from kqlhunt.engines.spark import SparkEngine, spark_session

    spark_session(args.master)
    startup = time.perf_counter() - t0
    print(f"Spark session start-up ({args.master}): {startup:.1f} s")
    report = {"master": args.master, "startup_s": round(startup, 2), "cpus": os.cpu_count(), "runs": []}
    for label in args.sizes.split(","):
        lake, _, reused = ensure_lake(args.lakes, label, parse_size(label), DEFAULT_NOW)
        print(f"lake {label}: {lake} ({'reused' if reused else 'generated'})")
        for seed in args.seeds.split(","):
            kql = rules[RULE_OF[seed]].query
            sql_s, _ = _time(lambda s=seed, lk=lake: seeds_sql.run_seed(s, duckdb.connect(), lk, DEFAULT_NOW),
                             args.repeat)
            duck_s, duck = _time(partial(kqlhunt.query, kql, lake=lake, now=DEFAULT_NOW), args.repeat)
            spark_s, spark = _time(partial(kqlhunt.query, kql, lake=lake, now=DEFAULT_NOW, engine="spark",
                                           spark_master=args.master), args.repeat)
            shuffles = _shuffles(SparkEngine(master=args.master), kql, lake)
            same = _rows(duck) == _rows(spark)
            run = {"seed": seed, "size": label, "handwritten_sql_s": round(sql_s, 3), "duckdb_s": round(duck_s, 3),
                   "spark_s": round(spark_s, 3), "spark_over_duckdb": round(spark_s / duck_s, 2),
                   "spark_over_handwritten": round(spark_s / sql_s, 2), "rows": spark.num_rows,
                   "same_rows_as_duckdb": same, "shuffles": shuffles}
            report["runs"].append(run)
            print(f"  seed {seed} @ {label}: hand-written SQL {sql_s:.2f} s, kqlhunt DuckDB {duck_s:.2f} s, "
                  f"Spark {spark_s:.2f} s ({spark_s / duck_s:.1f}x DuckDB), {spark.num_rows} rows, "
                  f"same rows: {same}, shuffles {shuffles}", flush=True)
    report["peak_rss_python_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["peak_rss_spark_driver_mb"] = round(_jvm_peak_mb(), 1)
    print(f"peak RSS: Python {report['peak_rss_python_mb']} MB, Spark driver JVM "
          f"{report['peak_rss_spark_driver_mb']} MB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
