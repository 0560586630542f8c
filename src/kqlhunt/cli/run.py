"""`kqlhunt run`: one query, its result on the terminal or in a file.

Formats: `table` (rich table on stdout, the default without --output), `csv`, `json` (JSON Lines: one
object per row) and `parquet` (needs --output). Without --format the format follows the --output suffix
(.csv, .json/.jsonl/.ndjson, .parquet/.pq). `--show-sql` prints the generated SQL on stdout, or on stderr
when stdout carries csv/json data.

Errors: the diagnostics go to stderr, rendered (`file:line:col: error[CODE]: ...`, the source line, a
caret, hints), or with `--format json` as one JSON object `{"ok": false, "diagnostics": [...]}`.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kqlhunt.cli.common import (
    EXIT_FAILED,
    EngineChoice,
    EngineOpt,
    SchemaChoice,
    SparkConfOpt,
    SparkMasterOpt,
    SparkRemoteOpt,
    check_lake,
    echo_err,
    engine_options,
    internal_error,
    json_error,
    parse_now,
    parse_tables,
    result_table,
    stdout_console,
    usage_error,
    with_file_prefix,
)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


_BY_SUFFIX = {".csv": OutputFormat.csv, ".json": OutputFormat.json, ".jsonl": OutputFormat.json,
              ".ndjson": OutputFormat.json, ".parquet": OutputFormat.parquet, ".pq": OutputFormat.parquet}


def resolve_format(fmt: OutputFormat | None, output: Path | None) -> OutputFormat:
    if fmt is None:
        if output is None:
            return OutputFormat.table
        guessed = _BY_SUFFIX.get(output.suffix.lower())
        if guessed is None:
            usage_error(f"cannot tell the format from {output.name!r}; add --format csv|json|parquet", "--output")
        return guessed
    if fmt is OutputFormat.parquet and output is None:
        usage_error("parquet is binary: give --output FILE", "--format")
    if fmt is OutputFormat.table and output is not None:
        usage_error("the table format is for the terminal; use --format csv|json|parquet with --output",
                    "--format")
    return fmt


def parse_externals(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        uri, sep, path = item.rpartition("=")
        if not sep or not uri or not path:
            usage_error(f"expected URI=PATH, got {item!r}", "--external")
        if not Path(path).is_file():
            usage_error(f"no such file: {path}", "--external")
        out[uri] = path
    return out


def read_query(file: str | None, query: str | None) -> tuple[str, str | None]:
    """(query text, display name for diagnostics)."""
    if file is not None and query is not None:
        usage_error("give either a query FILE or --query, not both", "FILE / --query")
    if query is not None:
        return query, None
    if file is None:
        usage_error("give a query FILE (or '-' for standard input) or --query \"KQL\"", "FILE / --query")
    if file == "-":
        return sys.stdin.read(), "<stdin>"
    from kqlhunt.rules.loader import read_text_verbatim

    path = Path(file)
    if not path.is_file():
        usage_error(f"no such file: {file}", "FILE")
    try:
        return read_text_verbatim(path), file
    except (OSError, UnicodeDecodeError) as exc:
        usage_error(f"cannot read {file}: {exc}", "FILE")


def run_command(
    file: Annotated[str | None, typer.Argument(help="KQL file to run ('-' reads standard input).",
                                               show_default=False)] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="KQL text to run instead of a file.",
                                              show_default=False)] = None,
    table: Annotated[list[str] | None, typer.Option(
        "--table", "-t", metavar="NAME=PATH",
        help="Bind a table name to a Parquet/CSV/JSON file, a folder of Parquet files or a glob. Repeatable.",
        show_default=False)] = None,
    lake: Annotated[Path | None, typer.Option(help="Lake directory: <lake>/<Table>/**/*.parquet.",
                                              show_default=False)] = None,
    now: Annotated[str | None, typer.Option(help="Pin now() and ago() to this UTC date/time "
                                            "(e.g. 2025-03-14T12:00:00Z). Default: the current time.",
                                            show_default=False)] = None,
    schema: Annotated[SchemaChoice, typer.Option(help="Built-in table schemas: Defender XDR, Sentinel, or "
                                                 "auto (Sentinel when the query names TimeGenerated & co.).")
                      ] = SchemaChoice.auto,
    fmt: Annotated[OutputFormat | None, typer.Option(
        "--format", "-f", help="table, csv, json (JSON Lines: one object per row) or parquet. "
        "Default: from the --output suffix, else table.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result to this file.",
                                                show_default=False)] = None,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the generated SQL.")] = False,
    max_rows: Annotated[int, typer.Option(min=0, help="Rows shown by the table format (0 = all).")] = 50,
    geo_mmdb: Annotated[Path | None, typer.Option(
        "--geo-mmdb", help="A MaxMind-format database for geo_info_from_ip_address (city level); default: the "
        "bundled country-level data.", show_default=False)] = None,
    external: Annotated[list[str] | None, typer.Option(
        "--external", metavar="URI=PATH", help="Read this local file where an externaldata operator names URI "
        "(offline runs). Repeatable.", show_default=False)] = None,
    fetch_external: Annotated[bool, typer.Option(
        "--fetch-external", help="Let externaldata download http(s) URIs that --external does not map "
        "(cached under ~/.cache/kqlhunt; each download is reported).")] = False,
    engine: EngineOpt = EngineChoice.duckdb,
    spark_master: SparkMasterOpt = None,
    spark_remote: SparkRemoteOpt = None,
    spark_conf: SparkConfOpt = None,
) -> None:
    """Run one KQL query over local files and print or save the result."""
    text, name = read_query(file, query)
    tables = parse_tables(table)
    check_lake(lake)
    pinned = parse_now(now)
    out_format = resolve_format(fmt, output)
    engine_kw = engine_options(engine, spark_master, spark_remote, spark_conf)
    if output is not None and not output.parent.is_dir():
        usage_error(f"no such directory: {output.parent}", "--output")

    if geo_mmdb is not None and not geo_mmdb.is_file():
        usage_error(f"no such file: {geo_mmdb}", "--geo-mmdb")

    from kqlhunt.api import run
    from kqlhunt.diagnostics import KqlError
    from kqlhunt.engines.external import ExternalResolver

    resolver = ExternalResolver(parse_externals(external), fetch=fetch_external)
    try:
        result, compiled = run(text, tables=tables, lake=lake, now=pinned, schema=schema.value,
                               geo_mmdb=str(geo_mmdb) if geo_mmdb else None, resolver=resolver, **engine_kw)
    except KqlError as exc:
        if out_format is OutputFormat.json:
            source = exc.source or text
            extra = {"file": name} if name else {}
            echo_err(json_error([d.to_dict(source) for d in exc.diagnostics], **extra))
        else:
            echo_err(with_file_prefix(exc.render(), name))
        raise typer.Exit(EXIT_FAILED) from None
    except Exception as exc:
        message = internal_error(exc, "running the query")
        if out_format is OutputFormat.json:
            echo_err(json_error([{"code": "internal", "severity": "error", "message": message}]))
        else:
            echo_err(message)
        raise typer.Exit(EXIT_FAILED) from None

    for url in resolver.fetched:
        echo_err(f"fetched {url} (externaldata)")
    data_on_stdout = output is None and out_format in (OutputFormat.csv, OutputFormat.json)
    if show_sql:
        if data_on_stdout:
            echo_err(compiled.sql)
        else:
            sys.stdout.write(compiled.sql.rstrip("\n") + "\n")

    try:
        _emit(result, out_format, output, max_rows)
    except OSError as exc:
        echo_err(f"error: cannot write {output}: {exc}")
        raise typer.Exit(EXIT_FAILED) from None


def _emit(result, out_format: OutputFormat, output: Path | None, max_rows: int) -> None:
    from kqlhunt.report.writers import write_csv, write_jsonl, write_result

    if out_format is OutputFormat.table:
        stdout_console().print(result_table(result, max_rows))
    elif output is not None:
        write_result(result, output, "jsonl" if out_format is OutputFormat.json else out_format.value)
    elif out_format is OutputFormat.csv:
        write_csv(result, sys.stdout)
    else:
        write_jsonl(result, sys.stdout)
    sys.stdout.flush()
