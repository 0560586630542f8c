"""One measured run in a fresh process: `python bench/_child.py <request.json>`.

Kinds of request:
  {"kind": "query", "engine": "kqlhunt" | "sql", "seed", "lake", "now", "memory_limit", "threads", "result"}
      times one seed on one engine (from just before the engine is called to the Arrow table in hand,
      connection set-up and UDF registration included), writes the table to `result` (Arrow IPC)
  {"kind": "compile", "seed", "runs", "warmup"}
      times kqlhunt.compile(kql) in-process
The answer is one JSON line on stdout: {"status": "ok" | "unavailable" | "error", ...}. The parent reads
peak RSS for the whole process from os.wait4.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests" / "reference")]

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import seeds_sql  # noqa: E402

# Imports stay out of the timings on both sides (kqlhunt's `import kqlhunt` happens before its clock too):
# DuckDB's first Arrow UDF call imports pandas (~0.3 s), and the SQL's UDFs live in kqlhunt's runtime.
with contextlib.suppress(ImportError):
    import pandas  # noqa: F401
with contextlib.suppress(ImportError):
    import kqlhunt.engines.runtime.geoip  # noqa: F401
    import kqlhunt.engines.runtime.series  # noqa: F401


def run_query(req: dict) -> dict:
    now = datetime.fromisoformat(req["now"])
    lake = Path(req["lake"])
    if req["engine"] == "kqlhunt":
        try:
            import kqlhunt

            query = kqlhunt.query
        except (ImportError, AttributeError) as exc:
            return {"status": "unavailable", "detail": f"kqlhunt.query not available ({exc})"}
        kql = seeds_sql.seed_kql(req["seed"])
        kwargs = {"lake": lake, "now": now, "memory_limit": req["memory_limit"], "threads": req["threads"]}
        start = time.perf_counter()
        table = query(kql, **{k: v for k, v in kwargs.items() if v is not None})
        wall = time.perf_counter() - start
        stubs: list[str] = []
        setup = None
    else:
        start = time.perf_counter()
        config = {"threads": req["threads"]} if req["threads"] else {}
        if req["memory_limit"]:
            config["memory_limit"] = req["memory_limit"]
        con = duckdb.connect(config=config)
        stubs = seeds_sql.register_udfs(con, seeds_sql.needed_udfs(req["seed"]), stub_missing=True)
        setup = time.perf_counter() - start  # connection + UDFs (loading the bundled GeoIP table)
        raw = seeds_sql.execute_script(con, seeds_sql.sql_text(req["seed"], lake, now))
        wall = time.perf_counter() - start
        table = seeds_sql.conform(raw, seeds_sql.RESULT_COLUMNS[req["seed"]])
    with pa.OSFile(req["result"], "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return {"status": "ok", "wall_s": wall, "setup_s": setup, "rows": table.num_rows, "udf_stubs": stubs}


def run_compile(req: dict) -> dict:
    try:
        import kqlhunt

        compile_ = kqlhunt.compile
    except (ImportError, AttributeError) as exc:
        return {"status": "unavailable", "detail": f"kqlhunt.compile not available ({exc})"}
    kql = seeds_sql.seed_kql(req["seed"])
    for _ in range(req["warmup"]):
        compile_(kql)
    times = []
    for _ in range(req["runs"]):
        start = time.perf_counter()
        compile_(kql)
        times.append(time.perf_counter() - start)
    return {"status": "ok", "median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "runs": len(times)}


def main() -> None:
    req = json.loads(Path(sys.argv[1]).read_text())
    try:
        answer = run_query(req) if req["kind"] == "query" else run_compile(req)
    except Exception as exc:  # reported to the parent, which prints it loudly
        answer = {"status": "error", "detail": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(limit=8)}
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
