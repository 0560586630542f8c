"""`kqlhunt lint RULE...`: findings with codes and positions, as text, JSON or SARIF 2.1.0 (for CI code
scanning). Positions are in the rule *file* (a Markdown write-up's KQL block is located inside it).

Exit codes: 0 no error-level finding (warnings and notes do not fail unless --strict), 1 an error-level
finding (or any finding with --strict), 2 usage error.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kqlhunt import __version__
from kqlhunt.cli.common import EXIT_FAILED, SchemaChoice
from kqlhunt.cli.explain import load_targets, read_schemas
from kqlhunt.diagnostics import Diagnostic, Severity
from kqlhunt.rules import Rule


class LintFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def lint_rules(rules: list[Rule], schemas: dict | None) -> list[dict[str, Any]]:
    """One entry per finding: the rule, its variant, the file and the position in that file."""
    from kqlhunt.rules.anatomy import LineIndex
    from kqlhunt.rules.lint import lint_query

    found = []
    file_texts: dict[str, str] = {}
    for rule in rules:
        for variant in rule.queries():
            path = rule.origin if rule.origin and not rule.origin.startswith("builtin:") else ""
            offset = 0
            if path:
                if path not in file_texts:
                    try:
                        from kqlhunt.rules.loader import read_text_verbatim

                        file_texts[path] = read_text_verbatim(path)
                    except OSError:
                        file_texts[path] = ""
                offset = file_texts[path].find(variant.query.rstrip("\n"))
            # a query assembled from several blocks (a parameter block in front) is not verbatim in the
            # file: positions are then in the query itself
            in_file = bool(path) and offset >= 0
            offset = max(offset, 0)
            locate = LineIndex(file_texts[path] if in_file else variant.query)
            for d in lint_query(variant.query, rule.schema, schemas):
                entry: dict[str, Any] = {"rule": rule.id, "variant": variant.name, "file": path or rule.origin,
                                         "diagnostic": d}
                if d.span is not None:
                    shift = offset if in_file else 0
                    entry["line"], entry["col"] = locate(d.span.start + shift)
                    entry["end_line"], entry["end_col"] = locate(max(d.span.start, d.span.end - 1) + shift)
                    entry["in_file"] = in_file
                found.append(entry)
    return found


def _uri(path: str) -> str:
    """Relative to the working directory when the file is under it (what code-scanning UIs match against
    the repository), else an absolute file URI."""
    p = Path(path)
    if not p.exists():
        return path  # builtin:<file>
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.resolve().as_uri()


def to_sarif(found: list[dict[str, Any]]) -> dict[str, Any]:
    from kqlhunt.rules.lint import RULES

    results = []
    for f in found:
        d: Diagnostic = f["diagnostic"]
        result: dict[str, Any] = {
            "ruleId": d.code, "level": _SARIF_LEVEL[d.severity],
            "message": {"text": d.message + "".join(f" ({h})" for h in d.hints)},
            "properties": {"rule": f["rule"], "variant": f["variant"]},
        }
        if f["file"]:
            location: dict[str, Any] = {"artifactLocation": {"uri": _uri(f["file"])}}
            if "line" in f and f.get("in_file"):
                location["region"] = {"startLine": f["line"], "startColumn": f["col"],
                                      "endLine": f["end_line"], "endColumn": f["end_col"] + 1}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
        "runs": [{"tool": {"driver": {
            "name": "kqlhunt", "version": __version__,
            "rules": [{"id": code, "shortDescription": {"text": text},
                       "defaultConfiguration": {"level": _SARIF_LEVEL[severity]}}
                      for code, (text, severity) in RULES.items()]}},
            "results": results}],
    }


def lint_command(
    rules: Annotated[list[str] | None, typer.Argument(help="Rule files, directories or built-in ids.",
                                                      show_default=False)] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Lint this KQL instead.",
                                              show_default=False)] = None,
    fmt: Annotated[LintFormat, typer.Option("--format", "-f", help="text, json or sarif.")] = LintFormat.text,
    schema: Annotated[SchemaChoice, typer.Option(help="Built-in table schemas.")] = SchemaChoice.auto,
    schemas: Annotated[Path | None, typer.Option(help="JSON file of extra table schemas.",
                                                 show_default=False)] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 on any finding, not only errors.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.",
                                                show_default=False)] = None,
) -> None:
    """Lint hunting rules: never-matching values, unused lets, missing time filters, traps."""
    selected: list[Rule] = []
    for target in rules or ([None] if query is not None else []):
        selected.extend(load_targets(target, query, schema))
    if not selected:
        selected = load_targets(None, query, schema)
    found = lint_rules(selected, read_schemas(schemas))
    if fmt is LintFormat.sarif:
        text = json.dumps(to_sarif(found), indent=2, ensure_ascii=False) + "\n"
    elif fmt is LintFormat.json:
        text = json.dumps([{k: v for k, v in f.items() if k != "diagnostic"} | f["diagnostic"].to_dict()
                           for f in found], indent=2, ensure_ascii=False) + "\n"
    else:
        lines = []
        for f in found:
            d: Diagnostic = f["diagnostic"]
            where = f["file"] or f["rule"]
            variant = f" [{f['variant']}]" if f["variant"] != "query" else ""
            if "line" in f and f.get("in_file"):
                where += f":{f['line']}:{f['col']}"
            elif "line" in f:
                variant += f" (line {f['line']}:{f['col']} of the query)"
            lines.append(f"{where}: {d.severity.value}[{d.code}]: {d.message}{variant}")
            lines.extend(f"  hint: {h}" for h in d.hints)
        counts = {s: sum(1 for f in found if f["diagnostic"].severity is s) for s in Severity}
        lines.append(f"{len(selected)} rule(s): {counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} "
                     f"warning(s), {counts[Severity.INFO]} note(s)")
        text = "\n".join(lines) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
    if any(f["diagnostic"].severity is Severity.ERROR or strict for f in found):
        raise typer.Exit(EXIT_FAILED)
