"""Scale simulation for docs/scale.md: each seed on Spark at growing lake sizes, with the shuffle volume
Spark measures (bytes and records written by every shuffle, from Spark's monitoring REST API), the input
read and the wall time, so the per-event costs behind the 1B / 10B-event estimates are measured rather
than guessed.

    python bench/spark_scale.py [--sizes 1M,3M,10M] [--seeds 000,003,004] [--master local[2]]

Results go to bench/out/spark_scale.json; the printed table is what docs/scale.md quotes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO / "src"), str(BENCH)]

from lakes import ensure_lake, parse_size  # noqa: E402

import kqlhunt  # noqa: E402
from kqlhunt.demo.generator import DEFAULT_NOW  # noqa: E402
from kqlhunt.rules import load_rules  # noqa: E402

RULE_OF = {"000": "seed000_defender", "003": "seed003", "004": "seed004"}


def _stages(ui: str, app: str) -> list[dict]:
    with urllib.request.urlopen(f"{ui}/api/v1/applications/{app}/stages?status=complete", timeout=30) as r:
        return json.loads(r.read())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1M,3M,10M")
    ap.add_argument("--seeds", default="000,003,004")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--lakes", type=Path, default=BENCH / "out")
    ap.add_argument("--out", type=Path, default=BENCH / "out" / "spark_scale.json")
    args = ap.parse_args()
    from kqlhunt.engines.spark import spark_session

    # the monitoring API needs the UI server (kqlhunt turns it off by default)
    conf = {"spark.ui.enabled": "true", "spark.ui.port": "4050"}
    spark = spark_session(args.master, conf=conf)
    ui, app = spark.sparkContext.uiWebUrl, spark.sparkContext.applicationId
    rules = {r.id: r for r in load_rules(None)}
    runs = []
    print(f"{'seed':>4} {'events':>7} {'input MB':>9} {'shuffle MB':>10} {'shuffle rows':>12} "
          f"{'B/event':>8} {'stages':>6} {'wall s':>7} {'rows':>6}")
    for label in args.sizes.split(","):
        events = parse_size(label)
        lake, _, _ = ensure_lake(args.lakes, label, events, DEFAULT_NOW)
        input_mb = sum(p.stat().st_size for p in (lake / "DeviceNetworkEvents").rglob("*.parquet")) / 2**20
        for seed in args.seeds.split(","):
            before = {s["stageId"] for s in _stages(ui, app)}
            t0 = time.perf_counter()
            table = kqlhunt.query(rules[RULE_OF[seed]].query, lake=lake, now=DEFAULT_NOW, engine="spark",
                                  spark_master=args.master, spark_conf=conf)
            wall = time.perf_counter() - t0
            new = [s for s in _stages(ui, app) if s["stageId"] not in before]
            shuffle_bytes = sum(s.get("shuffleWriteBytes", 0) for s in new)
            shuffle_rows = sum(s.get("shuffleWriteRecords", 0) for s in new)
            run = {"seed": seed, "events": events, "input_mb": round(input_mb, 1),
                   "shuffle_mb": round(shuffle_bytes / 2**20, 2), "shuffle_records": shuffle_rows,
                   "shuffle_bytes_per_event": round(shuffle_bytes / events, 2), "stages": len(new),
                   "wall_s": round(wall, 2), "rows": table.num_rows}
            runs.append(run)
            print(f"{seed:>4} {label:>7} {input_mb:9.1f} {run['shuffle_mb']:10.2f} {shuffle_rows:12d} "
                  f"{run['shuffle_bytes_per_event']:8.2f} {len(new):6d} {wall:7.2f} {table.num_rows:6d}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"master": args.master, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
