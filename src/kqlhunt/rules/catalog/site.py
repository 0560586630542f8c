"""Write the static catalog site: index (search and filters), one page per rule, tables & fields, ATT&CK
matrix, the ATT&CK Navigator layer and catalog.json. Pages are jinja2 templates with autoescaping: rule
files come from public repositories, so every string they hold is untrusted text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from kqlhunt.rules import mitre
from kqlhunt.rules.catalog.corpus import Corpus, predicate_key, predicate_text
from kqlhunt.rules.model import Rule


@cache
def _environment() -> Environment:
    # one environment per process: jinja2 compiles each template once per environment
    env = Environment(loader=PackageLoader("kqlhunt.rules.catalog", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["format_via"] = lambda w: f"via {w}()"
    env.filters["rule_file"] = rule_file
    return env


def rule_file(rule_id: str) -> str:
    """A rule page's file name (ids are already file-safe; keep it so if that ever changes)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", rule_id) + ".html"


def raw_source(rule: Rule) -> str:
    path = Path(rule.origin) if rule.origin and not rule.origin.startswith("builtin:") else None
    if path is not None and path.is_file():
        from kqlhunt.rules.loader import read_text_verbatim

        try:
            return read_text_verbatim(path)
        except (OSError, UnicodeDecodeError):
            pass
    return rule.query


def render_rule_page(doc: dict[str, Any], rule: Rule, standalone: bool = False, corpus: Corpus | None = None,
                     site_title: str = "kqlhunt explain") -> str:
    env = _environment()

    def count(p: dict[str, Any], excluded: bool) -> int:
        return corpus.others(rule.id, predicate_key(p, excluded)) if corpus else 0

    return env.get_template("rule.html.j2").render(
        site_title=site_title, root="" if standalone else "../", standalone=standalone, meta=doc["rule"],
        variants=doc["variants"], corpus=corpus, count=count, raw=raw_source(rule),
        neighbours=corpus.neighbours(rule.id) if corpus else None)


def build_site(rules: list[Rule], out: Path, title: str = "Hunting rule catalog",
               schemas: Mapping[str, list[tuple[str, str]]] | None = None,
               docs: dict[str, dict[str, Any]] | None = None) -> dict[str, int]:
    """Explain every rule (unless `docs` are given) and write the site under `out`."""
    from kqlhunt.rules.explain import explain_rule

    by_id = {r.id: r for r in rules}
    docs = docs or {r.id: explain_rule(r, schemas) for r in rules}
    corpus = Corpus(docs)
    env = _environment()
    (out / "rules").mkdir(parents=True, exist_ok=True)
    common = {"site_title": title, "standalone": False}

    rows = []
    for rid, doc in docs.items():
        meta = doc["rule"]
        techniques = [t["id"] for t in meta["techniques"] if t["status"] == "ok"]
        words = [meta["title"], rid, meta["description"][:500], *meta["tables"], *techniques, *meta["tags"],
                 *meta["platforms"], *meta["tactics"]]
        for key in corpus.predicates[rid]:
            words.append(key[0])
            words.extend(key[2][:20])
        rows.append({"id": rid, "title": meta["title"], "file": rule_file(rid), "tables": meta["tables"],
                     "techniques": techniques, "tags": meta["tags"], "platforms": meta["platforms"],
                     "search": " ".join(words).lower().replace("\n", " "),
                     "error": any("error" in v for v in doc["variants"]),
                     "lint": sum(len(v.get("lint", [])) for v in doc["variants"])})
        page = render_rule_page(doc, by_id[rid], corpus=corpus, site_title=title)
        (out / "rules" / rule_file(rid)).write_text(page, "utf-8")
    rows.sort(key=lambda r: r["title"].lower())

    def options(key: str) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter(v for r in rows for v in r[key])
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    filters = [("table", "tables", options("tables")), ("technique", "techniques", options("techniques")),
               ("tag", "tags", options("tags")), ("platform", "platforms", options("platforms"))]
    (out / "index.html").write_text(env.get_template("index.html.j2").render(
        root="", rules=rows, filters=filters, **common), "utf-8")
    (out / "stats.html").write_text(env.get_template("stats.html.j2").render(
        root="", tables=corpus.table_stats(), fields=corpus.field_stats(),
        indicators=[(predicate_text(k), n, k[0]) for k, n in corpus.top_indicators()], **common), "utf-8")
    matrix = corpus.attack()
    names = {tid: mitre.lookup(tid).name for techniques in matrix.values() for tid in techniques}
    (out / "attack.html").write_text(env.get_template("attack.html.j2").render(
        root="", matrix=matrix, names=names, **common), "utf-8")
    layer = mitre.navigator_layer(corpus.technique_counts(), title)
    (out / "attack-layer.json").write_text(json.dumps(layer, indent=1) + "\n", "utf-8")
    catalog = {"schema": "kqlhunt.catalog/1", "title": title, "rules": list(docs.values()),
               "neighbours": {rid: corpus.neighbours(rid) for rid in docs}}
    (out / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False) + "\n", "utf-8")
    failed = sum(1 for r in rows if r["error"])
    return {"rules": len(rows), "failed": failed}
