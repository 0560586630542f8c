"""`kqlhunt explain RULE`: the anatomy of a hunting rule (parameters, lets, stages, exclusions, indicators,
output fields, time window, event coverage) plus its metadata, as text, versioned JSON or HTML.

RULE is a rule file (.kql, .yaml Sentinel or kqlhunt rule, .md write-up, .txt), a directory of them, or
the id of a built-in rule; `-q` explains a query given inline. Exit codes: 0 explained, 1 a query does not
compile (the rest of the document is still printed), 2 usage error.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from kqlhunt.cli.common import EXIT_FAILED, SchemaChoice, echo_err, stdout_console, usage_error
from kqlhunt.rules import Rule, RuleError, builtin_rules, load_rules
from kqlhunt.rules.loader import load_rules_lenient


class ExplainFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"


def load_targets(target: str | None, query: str | None, schema: SchemaChoice) -> list[Rule]:
    """Rules named on the command line: a path, a built-in id, or an inline query."""
    if query is not None:
        if target is not None:
            usage_error("give either RULE or --query, not both", "RULE / --query")
        try:
            return [Rule(id="query", title="inline query", query=query, schema=schema.value)]
        except RuleError as exc:
            usage_error(str(exc), "--query")
    if target is None:
        usage_error("give a RULE (file, directory or built-in id) or --query \"KQL\"", "RULE")
    path = Path(target)
    try:
        if path.is_dir():
            rules, problems = load_rules_lenient(path)
            for problem in problems:
                echo_err(f"skipped: {problem}")
        elif path.exists():
            rules = load_rules(path)
        else:
            rules = [r for r in builtin_rules() if r.id == target]
            if not rules:
                usage_error(f"no such rule file, directory or built-in rule: {target}", "RULE")
    except RuleError as exc:
        usage_error(str(exc), "RULE")
    if not rules:
        usage_error(f"no rules found in {target}", "RULE")
    if schema is not SchemaChoice.auto:
        import dataclasses

        rules = [dataclasses.replace(r, schema=schema.value) for r in rules]
    return rules


def read_schemas(path: Path | None) -> dict[str, list[tuple[str, str]]] | None:
    """`--schemas FILE`: {"Table": [["Column", "type"], ...]} for tables kqlhunt has no built-in schema for,
    or {"defender": {...}, "sentinel": {...}} with one such mapping per flavour."""
    if path is None:
        return None

    def tables(data: dict) -> dict[str, list[tuple[str, str]]]:
        return {str(t): [(str(c), str(ty)) for c, ty in cols] for t, cols in data.items()}

    try:
        data = json.loads(path.read_text("utf-8"))
        if data and set(data) <= {"defender", "sentinel"}:
            return {flavour: tables(d) for flavour, d in data.items()}  # type: ignore[misc]
        return tables(data)
    except (OSError, ValueError, TypeError) as exc:
        usage_error(f"cannot read table schemas from {path}: {exc}", "--schemas")


def explain_command(
    rule: Annotated[str | None, typer.Argument(help="Rule file, directory, or built-in rule id.",
                                               show_default=False)] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Explain this KQL instead of a rule.",
                                              show_default=False)] = None,
    fmt: Annotated[ExplainFormat, typer.Option("--format", "-f", help="text, json (docs/explain.md) or html.")
                   ] = ExplainFormat.text,
    variant: Annotated[str | None, typer.Option(help="Only this query variant (e.g. 'Sentinel').",
                                                show_default=False)] = None,
    schema: Annotated[SchemaChoice, typer.Option(help="Built-in table schemas.")] = SchemaChoice.auto,
    schemas: Annotated[Path | None, typer.Option(help="JSON file of extra table schemas "
                                                 "{Table: [[column, type], ...]}.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.",
                                                show_default=False)] = None,
) -> None:
    """Explain hunting rules: parameters, lets, stages, exclusions, indicators, outputs, coverage."""
    from kqlhunt.rules.explain import explain_rule

    rules = load_targets(rule, query, schema)
    extra = read_schemas(schemas)
    docs = [explain_rule(r, extra) for r in rules]
    if variant is not None:
        for doc in docs:
            doc["variants"] = [v for v in doc["variants"] if v["name"] == variant]
        if not any(doc["variants"] for doc in docs):
            usage_error(f"no variant named {variant!r}", "--variant")
    failed = any("error" in v for doc in docs for v in doc["variants"])
    if fmt is ExplainFormat.json:
        text = json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False) + "\n"
        _write(text, output)
    elif fmt is ExplainFormat.html:
        from kqlhunt.rules.catalog.site import render_rule_page

        if len(docs) > 1:
            usage_error("--format html explains one rule; for a directory use `kqlhunt catalog DIR --out SITE`",
                        "--format")
        _write(render_rule_page(docs[0], rules[0], standalone=True), output)
    else:
        console = stdout_console()
        if output is not None:
            from rich.console import Console

            with open(output, "w", encoding="utf-8") as f:
                file_console = Console(file=f, width=160, highlight=False)
                for doc in docs:
                    file_console.print(render_text(doc))
        else:
            for doc in docs:
                console.print(render_text(doc))
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, "utf-8")
    except OSError as exc:
        usage_error(f"cannot write {output}: {exc}", "--output")


# ------------------------------------------------------------------------------------------------ text

def _table(title: str, *columns: str) -> Table:
    table = Table(title=Text(title, style="bold"), title_justify="left", header_style="bold", show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    return table


def render_text(doc: dict[str, Any]) -> Group:
    meta = doc["rule"]
    parts: list[Any] = [Text(meta["title"], style="bold underline")]
    line = [f"id {meta['id']}"]
    if meta["tables"]:
        line.append("tables " + ", ".join(meta["tables"]))
    if meta["tactics"]:
        line.append("tactics " + ", ".join(meta["tactics"]))
    parts.append(Text(" · ".join(line)))
    if meta["techniques"]:
        t = _table("MITRE ATT&CK", "technique", "name", "tactics", "status")
        for x in meta["techniques"]:
            status = x["status"] if x["name_matches"] else f"{x['status']}; stated as {x['stated_name']!r}"
            t.add_row(Text(x["id"]), Text(x["name"]), Text(", ".join(x["tactics"])), Text(status))
        parts.append(t)
    for v in doc["variants"]:
        parts.append(Text(f"\n── variant: {v['name']}", style="bold"))
        if "error" in v:
            e = v["error"]
            where = f"{e['line']}:{e['col']}: " if "line" in e else ""
            parts.append(Text(f"{where}error[{e['code']}]: {e['message']}", style="red"))
        else:
            parts.extend(_anatomy_text(v["anatomy"]))
        if v.get("lint"):
            t = _table("Lint", "line:col", "code", "message")
            for d in v["lint"]:
                pos = f"{d['line']}:{d['col']}" if "line" in d else ""
                t.add_row(Text(pos), Text(d["code"]), Text(d["message"] + "".join(
                    f"\n  hint: {h}" for h in d.get("hints", []))))
            parts.append(t)
    return Group(*parts)


def _anatomy_text(a: dict[str, Any]) -> list[Any]:
    parts: list[Any] = []
    if a["parameters"]:
        t = _table("Parameters", "name", "type", "value", "as written")
        for p in a["parameters"]:
            t.add_row(Text(p["name"]), Text(p["type"]), Text(p["value"]), Text(p["expression"]))
        parts.append(t)
    if a["lets"]:
        t = _table("Let bindings", "name", "derived from", "tables", "note")
        for b in a["lets"]:
            t.add_row(Text(b["name"]), Text(", ".join(b["derives_from"]) or "-"), Text(", ".join(b["tables"])),
                      Text("spliced into the stages" if b["spliced"] else b["kind"]))
        parts.append(t)
    t = _table("Stages", "#", "stage", "from")
    for s in a["stages"]:
        label = s["summary"] + ("  (negated)" if s["negated"] else "")
        t.add_row(Text(str(s["number"])), Text(label), Text(s["let"] or ""))
    parts.append(t)
    for key, title in (("exclusions", "Exclusions (what the rule suppresses)"), ("indicators", "Indicators")):
        if a[key]:
            t = _table(title, "field", "kind", "values", "transforms")
            for p in a[key]:
                transforms = ", ".join(p["transforms"] + [f"via {w}()" for w in p["through"]] +
                                       (["one of an or"] if p["alternative"] else []))
                t.add_row(Text(p["field"] or p["text"]), Text(p["kind"]), Text(", ".join(p["values"])),
                          Text(transforms))
            parts.append(t)
    t = _table("Output fields", "field", "type", "stage", "made by")
    for o in a["outputs"]:
        origin = o["origin"] + (f" in {o['origin_let']}" if o["origin_let"] else "")
        t.add_row(Text(o["name"]), Text(o["type"]), Text(f"{o['stage']} {o['stage_op']}"), Text(origin))
    parts.append(t)
    if a["time_windows"]:
        t = _table("Time window", "table", "column", "from", "until", "as written")
        for w in a["time_windows"]:
            t.add_row(Text(w["table"] or "-"), Text(w["column"]), Text(f"ago({w['lookback']})" if w["lookback"]
                                                                       else "-"),
                      Text(f"ago({w['until']})" if w["until"] else "now"), Text(w["text"]))
        parts.append(t)
    if a["event_coverage"]:
        t = _table("Event coverage", "table", "ActionType", "provider", "event", "title")
        for r in a["event_coverage"]:
            t.add_row(Text(r["table"]), Text(r["action_type"]), Text(r["provider"]), Text(r["event"]),
                      Text(r["title"]))
        parts.append(t)
    return parts
