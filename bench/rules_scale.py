"""Scale of `explain` + `lint` and of `catalog` on public rule repositories.

    python bench/rules_scale.py --repo /work/.mirror/Bert-JanP+Hunting-Queries-Detection-Rules/repo \
        --repo ... [--rules 6000] [--catalog 600] [--workers 1] [--site /tmp/site] [--json out.json]

Rule files (.md, .kql, .txt, .yaml) are copied out of each repository (a bare git mirror: HEAD) into a
temporary folder and read with kqlhunt's lenient loader. Tables other than DeviceNetworkEvents get the
documented Defender XDR columns of bench/real_hunts.py (`--schemas` file written for the CLI too).
Figures:
  explain+lint  every rule (all its variants) explained and linted, cycling over the corpus until
                --rules rules are done, in --workers processes; wall-clock seconds
  catalog       `build_site` on the first --catalog rules (explain, corpus, every page), one process
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_hunts import TABLE_SCHEMAS, schemas_for  # noqa: E402

SUFFIXES = (".md", ".kql", ".txt", ".yaml", ".yml")
SCHEMAS = {flavour: schemas_for(TABLE_SCHEMAS, flavour) for flavour in ("defender", "sentinel")}


def export(repo: Path, dest: Path) -> int:
    """Copy the rule files of HEAD into dest/<repo label>/...; returns how many."""
    label = repo.parent.name if repo.name == "repo" else repo.name
    names = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD"], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    names = [n for n in names if n.lower().endswith(SUFFIXES)]
    for name in names:
        blob = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{name}"], check=True,
                              capture_output=True).stdout
        target = dest / label / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    return len(names)


def _work(rules: list) -> tuple[int, int, int, int]:
    """(rules, queries, not compiled, lint findings) for a slice of rules."""
    from kqlhunt.rules.explain import explain_rule

    queries = failed = findings = 0
    for rule in rules:
        doc = explain_rule(rule, SCHEMAS)
        for v in doc["variants"]:
            queries += 1
            failed += "error" in v
            findings += len(v["lint"])
    return len(rules), queries, failed, findings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", action="append", required=True, type=Path)
    ap.add_argument("--rules", type=int, default=6000)
    ap.add_argument("--catalog", type=int, default=600)
    ap.add_argument("--workers", type=int, default=1)  # on a shared 2-core box one process was faster
    ap.add_argument("--site", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from kqlhunt.rules.catalog.site import build_site
    from kqlhunt.rules.loader import load_rules_lenient

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = sum(export(repo, root) for repo in args.repo)
        (root / "schemas.json").write_text(json.dumps(SCHEMAS), "utf-8")
        start = time.perf_counter()
        rules, problems = load_rules_lenient(root)
        load_s = time.perf_counter() - start
        queries = sum(len(r.queries()) for r in rules)
        print(f"{files} files -> {len(rules)} rules ({queries} queries), {len(problems)} unreadable, "
              f"loaded in {load_s:.1f}s")

        work = [rules[i % len(rules)] for i in range(args.rules)]
        chunks = [work[i:i + 50] for i in range(0, len(work), 50)]
        start = time.perf_counter()
        with ProcessPoolExecutor(args.workers) as pool:
            parts = list(pool.map(_work, chunks))
        explain_s = time.perf_counter() - start
        done, q, failed, findings = (sum(p[i] for p in parts) for i in range(4))
        print(f"explain+lint: {done} rules ({q} queries, {failed} not compiled, {findings} lint findings) "
              f"in {explain_s:.1f}s with {args.workers} process(es) -> {done / explain_s:.0f} rules/s")

        site = args.site or root / "site"
        start = time.perf_counter()
        summary = build_site(rules[:args.catalog], site, title="Public hunting rules", schemas=SCHEMAS)
        catalog_s = time.perf_counter() - start
        print(f"catalog: {summary['rules']} rules ({summary['failed']} not compiled) in {catalog_s:.1f}s "
              f"-> {site}")
        if args.json:
            args.json.write_text(json.dumps({
                "files": files, "rules": len(rules), "queries": queries, "unreadable": len(problems),
                "explain_lint": {"rules": done, "queries": q, "not_compiled": failed, "findings": findings,
                                 "seconds": round(explain_s, 2), "workers": args.workers},
                "catalog": {"rules": summary["rules"], "not_compiled": summary["failed"],
                            "seconds": round(catalog_s, 2)}}, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
