"""The explain document of a rule: its metadata (validated) and, per query variant, the anatomy.

This is the JSON `kqlhunt explain --format json` prints and the catalog stores per rule; its schema is
documented in docs/explain.md and versioned by `schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kqlhunt.diagnostics import KqlError
from kqlhunt.rules import mitre
from kqlhunt.rules.anatomy import SCHEMA_VERSION, Anatomy, analyse
from kqlhunt.rules.model import Rule
from kqlhunt.syntax import ast as A

Schemas = Mapping[str, list[tuple[str, str]]] | None


def explain_rule(rule: Rule, schemas: Schemas = None, with_lint: bool = True) -> dict[str, Any]:
    variants = []
    tables: list[str] = []
    for variant in rule.queries():
        entry: dict[str, Any] = {"name": variant.name}
        anatomy, failure, script = analyse_or_error(variant.query, rule.schema, schemas)
        if anatomy is not None:
            entry["anatomy"] = anatomy.to_dict()
            tables.extend(t for t in anatomy.tables if t not in tables)
        else:
            entry["error"] = error_dict(failure, variant.query)
            if script is not None:  # still say what it reads, from the parse
                from kqlhunt.rules.anatomy import tables_from_parse

                tables.extend(t for t in tables_from_parse(script) if t not in tables)
        if with_lint:
            from kqlhunt.rules.lint import lint_query

            found = lint_query(variant.query, rule.schema, schemas, anatomy, failure, script)
            entry["lint"] = [d.to_dict(variant.query) for d in found]
        variants.append(entry)
    return {"schema": SCHEMA_VERSION, "rule": metadata(rule, tables), "variants": variants}


def analyse_or_error(query: str, schema: str = "auto", schemas: Schemas = None
                     ) -> tuple[Anatomy | None, Exception | None, A.Script | None]:
    """(anatomy, None, script) or (None, the failure, the parse when there is one)."""
    from kqlhunt.syntax.parser import parse

    try:
        script = parse(query)
    except KqlError as exc:
        return None, exc.with_source(query), None
    except RecursionError as exc:
        return None, exc, None
    try:
        return analyse(query, schema=schema, schemas=schemas, script=script), None, script  # type: ignore[arg-type]
    except (KqlError, ValueError, NotImplementedError, RecursionError) as exc:
        return None, exc, script


def error_dict(exc: Exception | None, query: str) -> dict[str, Any]:
    if isinstance(exc, KqlError):
        return exc.diagnostics[0].to_dict(exc.source or query)
    return {"code": "internal", "severity": "error", "message": f"{type(exc).__name__}: {exc}"}


def metadata(rule: Rule, tables: list[str]) -> dict[str, Any]:
    techniques = []
    tactics: list[str] = []
    for t in rule.techniques:
        info = mitre.lookup(t.id)
        techniques.append({"id": info.id, "status": info.status, "name": info.name, "stated_name": t.name,
                           "name_matches": not t.name or _same(t.name, info.name) or _same(t.name, _full_name(info)), "tactics": list(info.tactics)})
        tactics.extend(x for x in info.tactics if info.valid and x not in tactics)
    stated = []
    for text in rule.tactics:
        name = mitre.tactic_name(text)
        stated.append({"stated": text, "tactic": name})
        if name and name not in tactics:
            tactics.append(name)
    return {
        "id": rule.id, "title": rule.title, "description": rule.description, "origin": rule.origin,
        "techniques": techniques, "tactics": sorted(tactics, key=_tactic_order), "stated_tactics": stated,
        "tables": tables, "data_sources": list(rule.data_sources), "platforms": list(rule.platforms),
        "tags": list(rule.tags), "author": rule.source.author, "url": rule.source.url,
        "references": list(rule.source.references), "severity": rule.severity,
        "variants": [v.name for v in rule.queries()],
    }


def _full_name(info: mitre.TechniqueInfo) -> str:
    """ATT&CK writes a sub-technique as "Parent: Sub" (Dynamic Resolution: Domain Generation Algorithms)."""
    if "." not in info.id:
        return info.name
    return f"{mitre.lookup(mitre.parent(info.id)).name}: {info.name}"


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    return norm(a) == norm(b)


def _tactic_order(name: str) -> int:
    return mitre.TACTIC_ORDER.index(name) if name in mitre.TACTIC_ORDER else len(mitre.TACTIC_ORDER)
