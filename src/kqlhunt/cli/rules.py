"""`kqlhunt rules list`: what rules there are, what they read and what they map to in ATT&CK."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from kqlhunt.cli.common import stdout_console
from kqlhunt.cli.hunt import SummaryFormat, select_rules

rules_app = typer.Typer(help="Inspect hunting rules.", no_args_is_help=True)


@rules_app.command("list")
def list_command(
    rules: Annotated[str, typer.Option(help="'builtin', or a directory (or file) of .yaml/.kql rules.")
                     ] = "builtin",
    fmt: Annotated[SummaryFormat, typer.Option("--format", "-f", help="A table, or a JSON array of rules "
                                               "(without their queries).")] = SummaryFormat.table,
) -> None:
    """List rules: id, title, tables, MITRE ATT&CK techniques and tactics."""
    selected = select_rules(rules, None)
    if fmt is SummaryFormat.json:
        docs = []
        for rule in selected:
            doc = rule.to_dict()
            doc.pop("query")
            docs.append(doc)
        sys.stdout.write(json.dumps(docs, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(header_style="bold")
    table.add_column("id", no_wrap=True)
    for name in ("title", "tables", "MITRE ATT&CK", "tactics"):
        table.add_column(name, overflow="fold")
    for rule in selected:
        techniques = "\n".join(str(t) for t in rule.techniques) or "-"
        table.add_row(Text(rule.id), Text(rule.title), Text(", ".join(rule.tables) or "-"), Text(techniques),
                      Text(", ".join(rule.tactics) or "-"))
    stdout_console().print(table)
