"""`kqlhunt catalog DIR --out SITE`: a static HTML catalog of a rule directory (see rules/catalog)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from kqlhunt.cli.common import SchemaChoice, echo_err, usage_error
from kqlhunt.cli.explain import load_targets, read_schemas


def catalog_command(
    rules: Annotated[str, typer.Argument(help="Rule directory (or file, or 'builtin').")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the site to.")],
    title: Annotated[str, typer.Option(help="Site title.")] = "Hunting rule catalog",
    schema: Annotated[SchemaChoice, typer.Option(help="Built-in table schemas.")] = SchemaChoice.auto,
    schemas: Annotated[Path | None, typer.Option(help="JSON file of extra table schemas.",
                                                 show_default=False)] = None,
) -> None:
    """Build a static, searchable HTML catalog: one page per rule, statistics, ATT&CK matrix and layer."""
    from kqlhunt.rules import builtin_rules
    from kqlhunt.rules.catalog.site import build_site

    start = time.perf_counter()
    selected = builtin_rules() if rules == "builtin" else load_targets(rules, None, schema)
    if out.exists() and not out.is_dir():
        usage_error(f"{out} exists and is not a directory", "--out")
    summary = build_site(selected, out, title=title, schemas=read_schemas(schemas))
    echo_err(f"catalog: {summary['rules']} rules ({summary['failed']} not compiled) -> {out / 'index.html'} "
             f"in {time.perf_counter() - start:.1f}s")
