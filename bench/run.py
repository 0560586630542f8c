"""Benchmark kqlhunt against hand-written DuckDB SQL on the seed hunts (see bench/README.md).

    python bench/run.py [--sizes 1M,10M] [--seeds 000,003,004] [--repeat 5] [--memory-limit 2GB]
                        [--out bench/out/results.json]

Every repetition runs in a fresh subprocess (bench/_child.py), kqlhunt and SQL alternating, so peak RSS is
per run. Also measured: kqlhunt.compile() time of seed 004, and seed 004 at 30M rows under a 2GB DuckDB
memory limit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO / "tests" / "reference")]

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import seeds_sql  # noqa: E402
from compare import compare  # noqa: E402
from lakes import ensure_lake, lake_columns, parse_size  # noqa: E402

# The fixed "now" of every run (and of the generated lakes): ago() and now() in the hunts resolve to it.
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # = kqlhunt.demo.generator.DEFAULT_NOW
ENGINES = ("kqlhunt", "sql")
COMPILE_TARGET_S = 0.050


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    out_dir = args.out.parent
    (out_dir / "results").mkdir(parents=True, exist_ok=True)
    report: dict = {"meta": _meta(args), "lakes": {}, "runs": [], "comparisons": [], "compile": None,
                    "big": None}
    for label in args.sizes:
        rows = parse_size(label)
        print(f"== lake {label} ({rows:,} rows)", flush=True)
        lake, marker, reused = ensure_lake(args.lakes, label, rows, NOW)
        report["lakes"][label] = {"path": str(lake), "reused": reused, **marker}
        columns = lake_columns(lake)
        for seed in args.seeds:
            if seed == "000_sentinel" and "TimeGenerated" not in columns:
                print(f"   seed {seed}: skipped, the lake has no TimeGenerated column", flush=True)
                continue
            runs, comparison = _measure(seed, label, lake, args, repeat=args.repeat,
                                        memory_limit=args.memory_limit, warmup=args.warmup)
            report["runs"] += runs
            report["comparisons"].append(comparison)
            _write(report, args.out)
    if not args.no_compile:
        report["compile"] = _compile_time(args)
        _write(report, args.out)
    if args.big and parse_size(args.big) > 0:  # --big 0 turns the large run off
        report["big"] = _big_run(args)
        _write(report, args.out)
    _print_report(report)
    _write(report, args.out)
    print(f"\nwritten {args.out}")
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1M,10M", help="lake sizes, e.g. 1M,10M (default: %(default)s)")
    p.add_argument("--seeds", default="000,003,004",
                   help="seeds among 000,000_sentinel,000_search,003,004 (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per engine (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=1, help="untimed SQL runs first, to warm the page cache")
    p.add_argument("--memory-limit", default=None, help="DuckDB memory_limit for both engines, e.g. 2GB")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="DuckDB threads (default: all cores)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed")
    p.add_argument("--out", type=Path, default=BENCH / "out" / "results.json")
    p.add_argument("--lakes", type=Path, default=BENCH / "out", help="where lake-<size>/ are cached")
    p.add_argument("--no-compile", action="store_true", help="skip the kqlhunt.compile() timing")
    p.add_argument("--big", default="30M", help="size of the memory-limited seed 004 run; '' to skip")
    p.add_argument("--big-memory-limit", default="2GB")
    p.add_argument("--big-repeat", type=int, default=1)
    args = p.parse_args(argv)
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    args.seeds = [s.strip() for s in args.seeds.split(",") if s.strip()]
    for seed in args.seeds:
        if seed not in seeds_sql.SEEDS:
            p.error(f"unknown seed {seed!r}; choose among {', '.join(seeds_sql.SEEDS)}")
    args.out = args.out.resolve()
    args.lakes = args.lakes.resolve()
    return args


def _meta(args: argparse.Namespace) -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"started": datetime.now(UTC).isoformat(timespec="seconds"), "now": NOW.isoformat(),
            "argv": sys.argv, "git_commit": commit, "python": platform.python_version(),
            "duckdb": duckdb.__version__, "pyarrow": pa.__version__, "cpus": os.cpu_count(),
            "machine": platform.machine(), "threads": args.threads, "memory_limit": args.memory_limit}


def _measure(seed: str, label: str, lake: Path, args: argparse.Namespace, *, repeat: int,
             memory_limit: str | None, warmup: int) -> tuple[list[dict], dict]:
    """Time one seed on one lake: `repeat` fresh processes per engine, alternating."""
    out_dir = args.out.parent / "results"
    base = {"kind": "query", "seed": seed, "lake": str(lake), "now": NOW.isoformat(),
            "memory_limit": memory_limit, "threads": args.threads}
    scratch = out_dir / f"_scratch-{seed}-{label}.arrow"
    for _ in range(warmup):
        _child({**base, "engine": "sql", "result": str(scratch)}, args.timeout)
    samples: dict[str, list[dict]] = {e: [] for e in ENGINES}
    failure: dict[str, dict] = {}
    for rep in range(repeat):
        for engine in ENGINES:
            if engine in failure:
                continue
            result = out_dir / f"{seed}-{label}-{engine}.arrow" if rep == 0 else scratch
            answer = _child({**base, "engine": engine, "result": str(result)}, args.timeout)
            if answer["status"] != "ok":
                failure[engine] = answer
                print(f"   seed {seed} {engine}: {answer['status']}: {answer.get('detail', '')}", flush=True)
                continue
            samples[engine].append(answer)
            print(f"   seed {seed} {engine} run {rep + 1}: {answer['wall_s']:.3f} s, "
                  f"{answer['peak_rss_mb']:.0f} MB, {answer['rows']} rows", flush=True)
    scratch.unlink(missing_ok=True)
    runs = [_summary(seed, label, engine, samples[engine], failure.get(engine)) for engine in ENGINES]
    return runs, _check(seed, label, out_dir, samples)


def _summary(seed: str, label: str, engine: str, samples: list[dict], failure: dict | None) -> dict:
    run = {"seed": seed, "size": label, "rows": parse_size(label), "engine": engine,
           "status": "ok" if samples and not failure else (failure or {}).get("status", "no runs")}
    if failure:
        run["detail"] = failure.get("detail", "")
    if samples:
        walls = [s["wall_s"] for s in samples]
        rss = [s["peak_rss_mb"] for s in samples]
        run.update(times_s=walls, median_s=statistics.median(walls), min_s=min(walls), peak_rss_mb=rss,
                   peak_rss_mb_max=max(rss), result_rows=samples[0]["rows"],
                   udf_stubs=samples[0].get("udf_stubs", []))
        setups = [s["setup_s"] for s in samples if s.get("setup_s") is not None]
        if setups:  # SQL only: connect + UDF registration, included in the times above
            run["setup_median_s"] = statistics.median(setups)
    return run


def _check(seed: str, label: str, out_dir: Path, samples: dict[str, list[dict]]) -> dict:
    entry = {"seed": seed, "size": label}
    if not samples["sql"] or not samples["kqlhunt"]:
        return {**entry, "status": "n/a", "detail": "not compared: one engine has no result"}
    sql_table = pa.ipc.open_file(out_dir / f"{seed}-{label}-sql.arrow").read_all()
    kql_table = pa.ipc.open_file(out_dir / f"{seed}-{label}-kqlhunt.arrow").read_all()
    ok, detail = compare(sql_table, kql_table, set_columns=seeds_sql.SET_COLUMNS[seed],
                         arbitrary_columns=seeds_sql.ARBITRARY_COLUMNS[seed],
                         sort_keys=seeds_sql.SORT_KEYS[seed])
    if not ok:
        bar = "!" * 78
        print(f"\n{bar}\n!! MISMATCH seed {seed} at {label}: kqlhunt and the hand-written SQL disagree\n"
              f"!! {detail}\n{bar}\n", flush=True)
    return {**entry, "status": "equal" if ok else "MISMATCH", "detail": detail}


def _compile_time(args: argparse.Namespace) -> dict:
    answer = _child({"kind": "compile", "seed": "004", "runs": 50, "warmup": 5}, args.timeout)
    answer.update(seed="004", target_s=COMPILE_TARGET_S)
    if answer["status"] == "ok":
        answer["meets_target"] = answer["median_s"] < COMPILE_TARGET_S
        print(f"== kqlhunt.compile(seed 004): median {answer['median_s'] * 1000:.1f} ms", flush=True)
    else:
        print(f"== kqlhunt.compile(seed 004): {answer['status']}: {answer.get('detail', '')}", flush=True)
    return answer


def _big_run(args: argparse.Namespace) -> dict:
    rows = parse_size(args.big)
    print(f"== seed 004 at {args.big} rows, memory_limit={args.big_memory_limit}", flush=True)
    lake, marker, reused = ensure_lake(args.lakes, args.big, rows, NOW)
    runs, comparison = _measure("004", args.big, lake, args, repeat=args.big_repeat,
                                memory_limit=args.big_memory_limit, warmup=0)
    return {"size": args.big, "rows": rows, "memory_limit": args.big_memory_limit, "lake_reused": reused,
            "runs": runs, "comparison": comparison}


def _child(request: dict, timeout: float) -> dict:
    """Run bench/_child.py on `request` in a fresh process; add its peak RSS (from wait4) to the answer."""
    with tempfile.TemporaryDirectory(prefix="kqlhunt-bench-") as tmp:
        req_path, out_path, err_path = (Path(tmp) / n for n in ("request.json", "stdout", "stderr"))
        req_path.write_text(json.dumps(request))
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, str(BENCH / "_child.py"), str(req_path)],
                                    stdout=out, stderr=err, cwd=REPO)
            status, rusage, timed_out = _wait(proc, timeout)
        stdout, stderr = out_path.read_text(), err_path.read_text()
    peak_mb = rusage.ru_maxrss / 1024  # Linux reports KiB
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if timed_out:
        answer = {"status": "error", "detail": f"killed after {timeout:.0f} s timeout"}
    elif lines:
        answer = json.loads(lines[-1])
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        answer = {"status": "error", "detail": f"killed by signal {signal.Signals(sig).name} "
                                               f"(out of memory?) {stderr[-400:]}"}
    else:
        answer = {"status": "error", "detail": f"exit code {os.WEXITSTATUS(status)}: {stderr[-800:]}"}
    answer["peak_rss_mb"] = peak_mb
    return answer


def _wait(proc: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)  # keeps Popen from waiting again
            return status, rusage, False
        if time.monotonic() > deadline:
            proc.kill()
            _, status, rusage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, rusage, True
        time.sleep(0.02)


def _write(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=1, default=str))


def _print_report(report: dict) -> None:
    header = ["seed", "size", "engine", "median s", "min s", "setup s", "peak RSS MB", "kqlhunt/sql", "rows",
              "check"]
    rows = []
    checks = {(c["seed"], c["size"]): c["status"] for c in report["comparisons"]}
    big = report.get("big") or {}
    all_runs = report["runs"] + big.get("runs", [])
    if big:
        checks[("004", big["size"])] = big["comparison"]["status"]
    by_key = {(r["seed"], r["size"], r["engine"]): r for r in all_runs}
    for r in all_runs:
        sql = by_key.get((r["seed"], r["size"], "sql"), {})
        ratio = ""
        if r["engine"] == "kqlhunt" and r.get("median_s") and sql.get("median_s"):
            ratio = f"{r['median_s'] / sql['median_s']:.2f}x"
        label = r["size"] + (f" @{big['memory_limit']}" if big and r["size"] == big["size"] else "")
        if r.get("median_s") is None:
            rows.append([r["seed"], label, r["engine"], r["status"], "", "", "", "", "", ""])
            continue
        stub = " (UDF stubs)" if r.get("udf_stubs") else ""
        setup = f"{r['setup_median_s']:.3f}" if "setup_median_s" in r else ""
        rows.append([r["seed"], label, r["engine"], f"{r['median_s']:.3f}", f"{r['min_s']:.3f}", setup,
                     f"{r['peak_rss_mb_max']:.0f}", ratio, str(r["result_rows"]),
                     checks.get((r["seed"], r["size"]), "") + stub])
    compile_ = report.get("compile") or {}
    if compile_.get("status") == "ok":
        outcome = f"median {compile_['median_s'] * 1000:.1f} ms (target < {COMPILE_TARGET_S * 1000:.0f} ms)"
    else:
        outcome = f"{compile_.get('status', 'skipped')} {compile_.get('detail', '')}"
    footer = "kqlhunt.compile(seed 004): " + outcome
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
        for line in [header, *rows]:
            print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
        print(footer)
        return
    table = Table(title="kqlhunt vs hand-written DuckDB SQL", caption=footer)
    for h in header:
        table.add_column(h, justify="right" if h not in ("seed", "engine", "check") else "left")
    for line in rows:
        table.add_row(*line, style="bold red" if "MISMATCH" in line[-1] else None)
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
