"""`kqlhunt hunt` (every rule over a lake) and `kqlhunt demo` (generate telemetry, then hunt it).

Both keep going past a failing rule and exit 1 when any rule errored (0 otherwise; rows found are
findings, not failures). `--fail-fast` stops at the first error instead.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from kqlhunt.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EngineChoice,
    EngineOpt,
    SparkConfOpt,
    SparkMasterOpt,
    SparkRemoteOpt,
    check_lake,
    echo_err,
    engine_options,
    parse_now,
    parse_tables,
    result_table,
    stderr_console,
    stdout_console,
    usage_error,
    with_file_prefix,
)
from kqlhunt.hunt.runner import RuleResult, run_rules, summary, write_summary
from kqlhunt.rules import Rule, RuleError, load_rules


class SummaryFormat(StrEnum):
    table = "table"
    json = "json"


class ResultFormat(StrEnum):
    parquet = "parquet"
    jsonl = "jsonl"
    csv = "csv"


def select_rules(source: str, patterns: Sequence[str] | None) -> list[Rule]:
    """`source` is `builtin` or a directory/file of rules; `patterns` keep the ids matching any glob."""
    try:
        rules = load_rules(None if source == "builtin" else Path(source))
    except RuleError as exc:
        usage_error(str(exc), "--rules")
    if patterns:
        unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(r.id, p) for r in rules)]
        if unmatched:
            usage_error(f"no rule id matches {', '.join(map(repr, unmatched))} "
                        f"(known: {', '.join(r.id for r in rules)})", "--rule")
        rules = [r for r in rules if any(fnmatch.fnmatchcase(r.id, p) for p in patterns)]
    if not rules:
        usage_error(f"no rules found in {source}", "--rules")
    return rules


def hunt_with_progress(rules: list[Rule], **kwargs) -> list[RuleResult]:
    """run_rules with a transient progress bar on stderr when it is a terminal."""
    err = stderr_console()
    if not err.is_terminal:
        return run_rules(rules, **kwargs)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task("hunting", total=len(rules))
        return run_rules(rules, on_start=lambda r: bar.update(task, description=f"rule {r.id}"),
                         on_done=lambda _: bar.advance(task), **kwargs)


def summary_table(results: Sequence[RuleResult], title: str | None = None) -> Table:
    table = Table(title=Text(title) if title else None, title_justify="left", header_style="bold")
    table.add_column("rule")
    table.add_column("title", overflow="fold")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("status")
    for r in results:
        rows = Text(str(r.rows), style="bold yellow" if r.rows else "")
        status = Text("ok", style="green") if r.ok else Text("error", style="bold red")
        table.add_row(Text(r.rule.id), Text(r.rule.title), rows if r.ok else Text("-"), f"{r.seconds:.2f}",
                      status)
    return table


def print_rule_errors(results: Sequence[RuleResult]) -> None:
    for r in results:
        if r.ok:
            continue
        # Positions are in the rule's query; for a .kql file that is the file itself.
        name = r.rule.origin if r.rule.origin.endswith(".kql") else "query"
        where = f" ({r.rule.origin})" if r.rule.origin else ""
        echo_err(f"rule {r.rule.id}{where} failed:\n" + _indent(with_file_prefix(r.message, name)))


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())


def finish(results: Sequence[RuleResult]) -> None:
    raise typer.Exit(EXIT_FAILED if any(not r.ok for r in results) else EXIT_OK)


def print_findings(console: Console, results: Sequence[RuleResult], show: int) -> None:
    for r in results:
        if not r.ok or not r.rows or show <= 0 or r.table is None:
            continue
        table = r.table
        wanted = [c for c in r.rule.display if c in table.column_names]
        if wanted:
            table = table.select(wanted)
        console.print()
        console.print(result_table(table, show, title=f"{r.rule.id}: {r.rule.title}"))


# ------------------------------------------------------------------------------------------------ hunt

def hunt_command(
    rules: Annotated[str, typer.Option(help="'builtin', or a directory (or file) of .yaml/.kql rules.")
                     ] = "builtin",
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", "-r", help="Only rules whose id matches this glob. Repeatable.", show_default=False)] = None,
    lake: Annotated[Path | None, typer.Option(help="Lake directory: <lake>/<Table>/**/*.parquet.",
                                              show_default=False)] = None,
    table: Annotated[list[str] | None, typer.Option(
        "--table", "-t", metavar="NAME=PATH", help="Bind a table to a file, folder or glob. Repeatable.",
        show_default=False)] = None,
    now: Annotated[str | None, typer.Option(help="Pin now()/ago() for every rule (UTC). Default: the "
                                            "current time.", show_default=False)] = None,
    fmt: Annotated[SummaryFormat, typer.Option("--format", "-f", help="Summary as a table or one JSON "
                                               "document.")] = SummaryFormat.table,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Directory for each rule's rows (<rule id>.<format>) and summary.json.",
        show_default=False)] = None,
    result_format: Annotated[ResultFormat, typer.Option(help="File format of the rows written to --output."
                                                        )] = ResultFormat.parquet,
    show: Annotated[int, typer.Option(min=0, help="Also print the first N rows of each rule's findings.")] = 0,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first rule that errors "
                                            "(default: run them all).")] = False,
    engine: EngineOpt = EngineChoice.duckdb,
    spark_master: SparkMasterOpt = None,
    spark_remote: SparkRemoteOpt = None,
    spark_conf: SparkConfOpt = None,
) -> None:
    """Run every rule over the same data and summarise what each found.

    Exit status: 0 when every rule ran (whether or not it found rows), 1 when any rule errored,
    2 on a usage error."""
    selected = select_rules(rules, rule)
    tables = parse_tables(table)
    check_lake(lake)
    if lake is None and not tables:
        usage_error("give --lake DIR or at least one --table NAME=PATH", "--lake / --table")
    if output is not None and output.exists() and not output.is_dir():
        usage_error(f"{output} exists and is not a directory", "--output")
    engine_kw = engine_options(engine, spark_master, spark_remote, spark_conf)
    pinned = parse_now(now) or datetime.now(UTC)  # taken once: every rule sees the same instant
    results = hunt_with_progress(selected, lake=lake, tables=tables, now=pinned, output_dir=output,
                                 result_format=result_format.value, stop_on_error=fail_fast,
                                 engine_options=engine_kw)
    print_report(results, fmt, now=pinned, lake=lake, show=show, output=output)
    if now is None and lake is not None:
        _hint_demo_clock(lake)
    finish(results)


def _hint_demo_clock(lake: Path) -> None:
    """A demo lake's events end at the generator's clock; hunting it at today's date finds little."""
    try:
        made = json.loads((lake / DEMO_MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(made, dict) and isinstance(made.get("now"), str):
        echo_err(f"hint: {lake} is a demo lake whose events end at {made['now']}; "
                 f"add --now {made['now']} to hunt it as of that time")


def print_report(results: list[RuleResult], fmt: SummaryFormat, *, now: datetime, lake: Path | None,
                 show: int, output: Path | None) -> None:
    doc = summary(results, now=now, lake=lake)
    if output is not None:
        write_summary(results, output / "summary.json", now=now, lake=lake)
    if fmt is SummaryFormat.json:
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    console = stdout_console()
    totals = doc["totals"]
    console.print(summary_table(results, title=f"Hunt at now = {doc['now']}"
                                + (f" over {lake}" if lake is not None else "")))
    console.print(Text(f"{totals['rules']} rules: {totals['with_findings']} with findings "
                       f"({totals['rows']} rows), {totals['errors']} errored"))
    if output is not None:
        console.print(Text(f"results written to {output}/"))
    print_findings(console, results, show)
    print_rule_errors(results)


# ------------------------------------------------------------------------------------------------ demo

_SEED_OF_RULE = re.compile(r"^seed(\d{3})")
DEMO_MARKER = ".kqlhunt-demo"  # written into a lake the demo generated


def demo_command(
    rows: Annotated[int, typer.Option(min=1, help="Rows of DeviceNetworkEvents to generate.")] = 200_000,
    lake: Annotated[Path, typer.Option(help="Where to write the demo lake.")] = Path("demo-lake"),
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 7,
    show: Annotated[int, typer.Option(min=0, help="Rows of each rule's findings to print.")] = 5,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty --lake that an earlier "
                                        "demo did not create (its DeviceNetworkEvents files are replaced).")
                     ] = False,
) -> None:
    """Generate demo telemetry with planted attacker activity, then run the built-in rules on it."""
    from kqlhunt.demo import PLANTED, generate_lake

    if lake.exists() and not lake.is_dir():
        usage_error(f"{lake} exists and is not a directory", "--lake")
    # The generator replaces <lake>/DeviceNetworkEvents: never do that to a real lake by accident.
    if lake.is_dir() and any(lake.iterdir()) and not (lake / DEMO_MARKER).exists() and not force:
        usage_error(f"{lake} is not empty and was not made by `kqlhunt demo`; pick another --lake "
                    "or pass --force", "--lake")
    console = stdout_console()
    console.print(Text(f"Generating {rows:,} rows of DeviceNetworkEvents (seed {seed}) into {lake}/ ..."))
    try:
        generated = _with_spinner("generating telemetry", lambda: generate_lake(lake, rows, seed=seed))
    except ValueError as exc:  # e.g. too few rows for the planted activity
        usage_error(str(exc), "--rows")
    (lake / DEMO_MARKER).write_text(json.dumps({"rows": generated.rows, "seed": seed,
                                                "now": f"{generated.now:%Y-%m-%dT%H:%M:%SZ}"}) + "\n", "utf-8")
    console.print(Text(f"  {generated.rows:,} rows ({generated.planted_rows:,} planted) from {generated.devices} "
                       f"devices, {generated.start:%Y-%m-%d %H:%M} to {generated.now:%Y-%m-%d %H:%M} UTC, "
                       f"in {generated.seconds:.1f} s"))
    console.print()

    rules = load_rules(None)
    now = generated.now  # the generator's clock (DEFAULT_NOW): the planted activity is relative to it
    results = hunt_with_progress(rules, lake=lake, now=now)
    print_report(results, SummaryFormat.table, now=now, lake=lake, show=0, output=None)
    for r in results:
        if not r.ok:
            continue
        print_findings(console, [r], show)
        if not r.rows:
            console.print()
            console.print(Text(f"{r.rule.id}: no findings"))
        m = _SEED_OF_RULE.match(r.rule.id)
        plan = PLANTED.get(m.group(1)) if m else None
        if plan is not None and plan.plants:
            console.print(Text("  planted for this hunt:", style="dim"))
            for item in plan.plants:
                console.print(Text(f"    - {item.name}: {item.why}", style="dim"))
    when = f"{now:%Y-%m-%dT%H:%M:%SZ}"
    q = shlex.quote(str(lake))
    console.print()
    console.print(Text("Next: the demo data ends at " + when + ", so pin --now when you query it:"))
    console.print(Text(f"  kqlhunt hunt --lake {q} --now {when} --show 5"))
    console.print(Text(f"  kqlhunt run --lake {q} --now {when} -q "
                       "'DeviceNetworkEvents | summarize count() by ActionType'"))
    console.print(Text("  kqlhunt rules list"))
    finish(results)


def _with_spinner(label: str, work):
    """Run `work()` in a thread while a spinner turns on stderr (when it is a terminal)."""
    err = stderr_console()
    if not err.is_terminal:
        return work()
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
        bar.add_task(label, total=None)
        thread.start()
        while thread.is_alive():
            time.sleep(0.1)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]
