"""`kqlhunt ingest PATH... --lake DIR`: telemetry files, folders, globs and zips into a DeviceNetworkEvents
lake, with a progress bar over bytes and a summary of what happened to every record.

Exit codes: 0 every input ingested (records may still be quarantined: they are counted and listed),
1 some input could not be read at all, 2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kqlhunt.cli.common import EXIT_FAILED, EXIT_OK, stderr_console, stdout_console, usage_error
from kqlhunt.ingest import Format, RunReport, run
from kqlhunt.ingest.inputs import detect, expand


def ingest_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, globs or zip archives to ingest.")],
    lake: Annotated[Path, typer.Option("--lake", help="Lake directory (created if missing).")],
    fmt: Annotated[Format, typer.Option("--format", help="Input format; auto detects each file by content.")]
    = Format.auto,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be read, and as what.")]
    = False,
    sensor: Annotated[str, typer.Option("--sensor", help="DeviceName for Zeek logs without _system_name.")]
    = "zeek-sensor",
    summary_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Ingest network telemetry (Defender/Sentinel exports, Sysmon 3, Security 5156, Zeek) into a lake."""
    files, missing = expand(paths)
    if not files and missing:
        usage_error(f"nothing matches: {', '.join(missing)}")
    if dry_run:
        _dry_run(files, missing, fmt)
        raise typer.Exit(EXIT_OK)
    total = sum(f.stat().st_size for f in files)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=stderr_console(), transient=True) as bar:
        task = bar.add_task("ingesting", total=total or None)
        # zip members are reported with their uncompressed size; the bar counts archive bytes instead
        done: dict[str, int] = {}

        def advance(name: str, size: int) -> None:
            outer = name.split("!", 1)[0]
            path = Path(outer)
            done[outer] = path.stat().st_size if path.exists() else size
            bar.update(task, completed=sum(done.values()), description=Path(name).name[:40])

        report = run(paths, lake, fmt, sensor=sensor, progress=advance)
    _summary(report, summary_json)
    raise typer.Exit(EXIT_FAILED if any(f.error for f in report.files) else EXIT_OK)


def _dry_run(files: list[Path], missing: list[str], fmt: Format) -> None:
    table = Table("input", "bytes", "format", "why")
    for arg in missing:
        table.add_row(arg, "", "", "no such file")
    for path in files:
        if path.suffix.lower() == ".zip":
            report = run([str(path)], Path("/nonexistent-dry-run"), fmt, dry_run=True)
            for f in report.files:
                table.add_row(f.source, f"{path.stat().st_size:,} (archive)", f.format or "-",
                              f.error or f.detected_by or ", ".join(f.skipped))
            continue
        kind, why = (fmt, "forced") if fmt != Format.auto else detect(path)
        table.add_row(str(path), f"{path.stat().st_size:,}", str(kind or "-"), why)
    stdout_console().print(table)


def _summary(report: RunReport, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=1) + "\n")
        return
    table = Table("input", "format", "read", "written", "skipped", "quarantined", "error")
    for f in report.files:
        table.add_row(f.source if len(f.source) < 70 else "…" + f.source[-69:], f.format, f"{f.read:,}",
                      f"{f.written:,}", f"{sum(f.skipped.values()):,}", f"{f.quarantined:,}", f.error)
    t = report.totals()
    table.add_row("total", "", f"{t['read']:,}", f"{t['written']:,}", f"{t['skipped']:,}",
                  f"{t['quarantined']:,}", f"{t['unreadable_files']} unreadable file(s)")
    console = stdout_console()
    console.print(table)
    if report.quarantine_file:
        console.print(f"quarantined records: {report.quarantine_file}")
